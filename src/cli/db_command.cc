#include "cli/db_command.h"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "db/event_db.h"
#include "db/replacement_log.h"
#include "db/super_safe_db.h"
#include "db/super_safe_format.h"

namespace supersafe::cli {

namespace {

namespace fs = std::filesystem;
namespace fmt = db::super_safe_format;
using nlohmann::ordered_json;

// The chain directories of a data directory, in name order (decimal chain IDs).
std::vector<fs::path> ChainDirs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / "chains", ec))
    if (e.is_directory()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

int Verify(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    std::cerr << "supersafe db verify: " << dir.string() << " is not a directory\n";
    return 1;
  }
  std::vector<db::Finding> findings;
  size_t files = 0;
  auto add = [&](const fs::path& file, std::vector<db::Finding> (*verify)(const fs::path&)) {
    if (!fs::exists(file)) {
      findings.push_back({file, 0, "missing"});
      return;
    }
    ++files;
    auto f = verify(file);
    findings.insert(findings.end(), f.begin(), f.end());
  };
  add(dir / db::SuperSafeDB::kFileName, db::VerifySuperSafeDB);
  for (const fs::path& chain : ChainDirs(dir)) {
    add(chain / "events.db", db::VerifyEventDB);
    if (fs::exists(chain / "replacements.db")) add(chain / "replacements.db", db::VerifyReplacementLog);
  }
  for (const db::Finding& f : findings) std::cout << f.file.string() << ":" << f.offset << ": " << f.what << "\n";
  std::cout << files << " files verified, " << findings.size() << " findings\n";
  return findings.empty() ? 0 : 1;
}

ordered_json ChainEntryJson(const uint8_t* e) {
  return {{"type", "chain"},
          {"l1Number", GetU64BE(e + fmt::kL1Number)},
          {"l1Hash", ToHex(ByteSpan(e + fmt::kL1Hash, 20))},
          {"chainIndex", GetU32BE(e + fmt::kChainIndex)},
          {"localSafe", {{"number", GetU64BE(e + fmt::kLocalSafeNumber)}, {"hash", ToHex(ByteSpan(e + fmt::kLocalSafeHash, 20))}}},
          {"crossSafe", {{"number", GetU64BE(e + fmt::kCrossSafeNumber)}, {"hash", ToHex(ByteSpan(e + fmt::kCrossSafeHash, 20))}}},
          {"flags", e[fmt::kFlags]}};
}

ordered_json SealJson(const uint8_t* e) {
  return {{"type", "seal"},
          {"l1Number", GetU64BE(e + fmt::kL1Number)},
          {"l1Hash", ToHex(ByteSpan(e + fmt::kL1Hash, 20))},
          {"count", GetU32BE(e + fmt::kSealCount)},
          {"crc", GetU32BE(e + fmt::kSealCrc)},
          {"l1Timestamp", GetU64BE(e + fmt::kSealTimestamp)}};
}

std::string EntryLine(uint64_t offset, const ordered_json& j) {
  std::ostringstream out;
  out << offset << " " << j["type"].get<std::string>() << " L1 #" << j["l1Number"] << " " << j["l1Hash"].get<std::string>();
  if (j["type"] == "chain") {
    out << " chain " << j["chainIndex"] << " local-safe #" << j["localSafe"]["number"] << " "
        << j["localSafe"]["hash"].get<std::string>() << " cross-safe #" << j["crossSafe"]["number"] << " "
        << j["crossSafe"]["hash"].get<std::string>() << " flags " << j["flags"];
  } else if (j["type"] == "seal") {
    out << " count " << j["count"] << " crc " << j["crc"] << " l1-time " << j["l1Timestamp"];
  }
  return out.str();
}

// One line (or JSON object) per 90-byte entry of supersafe.db, revisions and all.
bool DumpSuperSafe(const fs::path& file, bool json) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "supersafe db dump: cannot read " << file.string() << "\n";
    return false;
  }
  // The entries end where the zero tail of preallocation starts (docs/db-format.md).
  auto content = db::SuperSafeContentSize(file);
  if (!content.ok()) {
    std::cerr << "supersafe db dump: " << content.status().ToString() << "\n";
    return false;
  }
  std::vector<uint8_t> e(fmt::kEntrySize);
  uint64_t offset = 0;
  while (offset + fmt::kEntrySize <= *content &&
         in.read(reinterpret_cast<char*>(e.data()), static_cast<std::streamsize>(e.size()))) {
    ordered_json j = e[0] == fmt::kTypeChain  ? ChainEntryJson(e.data())
                     : e[0] == fmt::kTypeSeal ? SealJson(e.data())
                                              : ordered_json{{"type", "unknown"}, {"byte", e[0]}, {"l1Number", 0}, {"l1Hash", ""}};
    j["file"] = "supersafe.db";
    j["offset"] = offset;
    std::cout << (json ? j.dump() : EntryLine(offset, j)) << "\n";
    offset += fmt::kEntrySize;
  }
  if (offset < *content) {
    in.read(reinterpret_cast<char*>(e.data()), static_cast<std::streamsize>(*content - offset));
  } else {
    in.clear();
    in.seekg(0, std::ios::end);
    const auto size = static_cast<uint64_t>(in.tellg());
    if (size > *content)
      std::cout << (json ? ordered_json{{"file", "supersafe.db"}, {"offset", offset}, {"type", "zeroTail"}, {"bytes", size - *content}}.dump()
                         : std::to_string(offset) + " zero tail of " + std::to_string(size - *content) + " bytes (preallocated)")
                << "\n";
    return true;
  }
  if (in.gcount() > 0) std::cout << (json ? ordered_json{{"file", "supersafe.db"}, {"offset", offset}, {"type", "torn"}, {"bytes", in.gcount()}}.dump()
                                         : std::to_string(offset) + " torn tail of " + std::to_string(in.gcount()) + " bytes")
                                 << "\n";
  return true;
}

// One line (or JSON object) per block of an event-log DB, its logs inline.
bool DumpEvents(const fs::path& chain_dir, bool json) {
  auto id = ChainID::Parse(chain_dir.filename().string());
  if (!id.ok()) {
    std::cerr << "supersafe db dump: " << chain_dir.string() << ": " << id.status().ToString() << "\n";
    return false;
  }
  if (!fs::exists(chain_dir / "events.db")) {
    std::cerr << "supersafe db dump: " << (chain_dir / "events.db").string() << " is missing\n";
    return false;
  }
  auto events = db::EventDB::Open(chain_dir / "events.db", *id);
  if (!events.ok()) {
    std::cerr << "supersafe db dump: " << events.status().ToString() << "\n";
    return false;
  }
  auto first = (*events)->First(), latest = (*events)->Latest();
  for (uint64_t n = first ? first->number : 1; first && n <= latest->number; ++n) {
    BlockRef b = (*events)->Block(n).value();
    auto logs = (*events)->Logs(n).value();
    ordered_json j{{"chain", id->Decimal()}, {"number", b.number}, {"hash", b.hash.Hex()},
                   {"parentHash", b.parent_hash.Hex()}, {"timestamp", b.timestamp}, {"logs", ordered_json::array()}};
    std::string line = "chain " + id->Decimal() + " #" + std::to_string(b.number) + " " + b.hash.Hex() + " t=" +
                       std::to_string(b.timestamp) + " logs=" + std::to_string(logs.size());
    for (const db::LogRecord& l : logs) {
      ordered_json lj{{"logHash", l.log_hash.Hex()}};
      if (l.exec) {
        lj["exec"] = {{"chainID", l.exec->chain_id.Decimal()}, {"blockNumber", l.exec->block_number},
                      {"logIndex", l.exec->log_index}, {"timestamp", l.exec->timestamp}, {"logHash", l.exec->log_hash.Hex()}};
        line += " exec(" + l.exec->chain_id.Decimal() + "#" + std::to_string(l.exec->block_number) + "/" +
                std::to_string(l.exec->log_index) + ")";
      }
      j["logs"].push_back(lj);
    }
    std::cout << (json ? j.dump() : line) << "\n";
  }
  return true;
}

}  // namespace

void AddDbCommand(CLI::App& app, int& exit_code) {
  CLI::App* db = app.add_subcommand("db", "inspect a data directory");
  db->require_subcommand(1);
  static fs::path verify_dir, dump_dir;
  static bool json = false;
  CLI::App* verify = db->add_subcommand("verify", "check every database file; every finding with file and offset");
  verify->add_option("DIR", verify_dir, "data directory")->required();
  verify->callback([&exit_code] { exit_code = Verify(verify_dir); });
  CLI::App* dump = db->add_subcommand("dump", "print every entry, one per line");
  dump->add_option("DIR", dump_dir, "data directory")->required();
  dump->add_flag("--json", json, "one JSON object per line");
  dump->callback([&exit_code] {
    bool ok = DumpSuperSafe(dump_dir / db::SuperSafeDB::kFileName, json);
    for (const fs::path& chain : ChainDirs(dump_dir)) ok = DumpEvents(chain, json) && ok;
    exit_code = ok ? 0 : 1;
  });
}

}  // namespace supersafe::cli
