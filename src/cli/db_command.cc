#include "cli/db_command.h"

#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>

#include "daemon/config.h"
#include "db/data_dir.h"
#include "db/event_db.h"
#include "db/replacement_log.h"
#include "db/super_safe_db.h"

namespace supersafe::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

db::Env* const kEnv = db::Env::Posix();

// `deps_file`: op-supervisor's dependency-set JSON, as `serve` takes it; when given, supersafe.db's
// header must hold its digest (chain-index order: ascending chain ID, as `serve` assigns it).
int Verify(const fs::path& dir, const std::string& deps_file) {
  std::optional<Hash> digest;
  if (!deps_file.empty()) {
    Result<std::string> text = daemon::ReadTextFile(deps_file, "dependency set");
    Result<daemon::DependencyFile> deps =
        text.ok() ? daemon::ParseDependencySet(*text, deps_file) : Result<daemon::DependencyFile>(text.status());
    if (!deps.ok()) {
      std::cerr << "supersafe db verify: " << deps.status().message() << "\n";
      return 1;
    }
    digest = db::DependencySetDigest(deps->chains);
  }
  Result<db::DataDirReport> report = db::VerifyDataDir(kEnv, dir, digest);
  if (!report.ok()) {
    std::cerr << "supersafe db verify: " << report.status().message() << "\n";
    return 1;
  }
  for (const db::Finding& f : report->findings)
    std::cout << f.file.string() << ":" << f.offset << ": " << f.what << "\n";
  std::cout << report->files << " files verified, " << report->findings.size() << " findings\n";
  return report->findings.empty() ? 0 : 1;
}

std::string Hex20(const HashPrefix& h) { return ToHex(ByteSpan(h.data(), HashPrefix::kSize)); }

// Stored bytes as text: printable ASCII as is, anything else as \xNN (JSON strings must be UTF-8).
std::string Printable(const std::string& bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    if (b >= 0x20 && b < 0x7f && b != '\\') {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", b);
      out += buf;
    }
  }
  return out;
}

ordered_json EntryJson(const db::DumpedEntry& d) {
  using Kind = db::DumpedEntry::Kind;
  if (d.kind == Kind::kHeader)
    return {{"type", "header"}, {"magic", Printable(d.magic)}, {"version", d.version}, {"dependencySetDigest", d.digest.Hex()}};
  if (d.kind == Kind::kChain)
    return {{"type", "chain"},
            {"l1Number", d.l1_number},
            {"l1Hash", Hex20(d.l1_hash)},
            {"chainIndex", d.chain.chain_index},
            {"localSafe", {{"number", d.chain.local_safe_number}, {"hash", Hex20(d.chain.local_safe_hash)}}},
            {"crossSafe", {{"number", d.chain.cross_safe_number}, {"hash", Hex20(d.chain.cross_safe_hash)}}},
            {"flags", d.chain.flags}};
  if (d.kind == Kind::kSeal)
    return {{"type", "seal"},       {"l1Number", d.l1_number}, {"l1Hash", Hex20(d.l1_hash)},
            {"count", d.seal_count}, {"crc", d.seal_crc},       {"l1Timestamp", d.l1_timestamp}};
  return {{"type", "unknown"}, {"byte", d.type}, {"l1Number", 0}, {"l1Hash", ""}};
}

std::string EntryLine(uint64_t offset, const ordered_json& j) {
  std::ostringstream out;
  if (j["type"] == "header") {
    out << offset << " header magic " << j["magic"].get<std::string>() << " version " << j["version"]
        << " dependency-set digest " << j["dependencySetDigest"].get<std::string>();
    return out.str();
  }
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
  Result<db::SuperSafeDump> dump = db::DumpSuperSafeDB(kEnv, file);
  if (!dump.ok()) {
    std::cerr << "supersafe db dump: cannot read " << file.string() << ": " << dump.status().message() << "\n";
    return false;
  }
  for (const db::DumpedEntry& d : dump->entries) {
    ordered_json j = EntryJson(d);
    j["file"] = "supersafe.db";
    j["offset"] = d.offset;
    std::cout << (json ? j.dump() : EntryLine(d.offset, j)) << "\n";
  }
  const uint64_t offset = dump->content_end - dump->partial_bytes;
  if (dump->partial_bytes > 0) {
    std::cout << (json ? ordered_json{{"file", "supersafe.db"}, {"offset", offset}, {"type", "torn"}, {"bytes", dump->partial_bytes}}.dump()
                       : std::to_string(offset) + " torn tail of " + std::to_string(dump->partial_bytes) + " bytes")
              << "\n";
  } else if (dump->file_size > dump->content_end) {
    const uint64_t zeros = dump->file_size - dump->content_end;
    std::cout << (json ? ordered_json{{"file", "supersafe.db"}, {"offset", offset}, {"type", "zeroTail"}, {"bytes", zeros}}.dump()
                       : std::to_string(offset) + " zero tail of " + std::to_string(zeros) + " bytes (preallocated)")
              << "\n";
  }
  return true;
}

// One line (or JSON object) per block of an event-log DB, its logs inline, as db::DumpEventDB reads
// the file (without opening it as a database: nothing is recovered or changed).
bool DumpEvents(const fs::path& chain_dir, bool json) {
  const fs::path file = chain_dir / "events.db";
  if (kEnv->TypeOf(file).value_or(db::FileType::kNone) == db::FileType::kNone) {
    std::cerr << "supersafe db dump: " << file.string() << " is missing\n";
    return false;
  }
  Result<db::EventDBDump> dump = db::DumpEventDB(kEnv, file);
  if (!dump.ok()) {
    std::cerr << "supersafe db dump: cannot read " << file.string() << ": " << dump.status().message() << "\n";
    return false;
  }
  const std::string chain = dump->chain_id.Decimal();
  if (!dump->header_sound) {
    std::cout << (json ? ordered_json{{"file", file.string()}, {"offset", 0}, {"type", "badHeader"}}.dump()
                       : file.string() + ": the file header does not check out (see db verify)")
              << "\n";
  }
  for (const db::DumpedBlock& block : dump->blocks) {
    const BlockRef& b = block.ref;
    ordered_json j{{"chain", chain}, {"offset", block.offset}, {"number", b.number}, {"hash", b.hash.Hex()},
                   {"parentHash", b.parent_hash.Hex()}, {"timestamp", b.timestamp}, {"logs", ordered_json::array()}};
    std::string line = "chain " + chain + " #" + std::to_string(b.number) + " " + b.hash.Hex() + " t=" +
                       std::to_string(b.timestamp) + " logs=" + std::to_string(block.logs.size());
    for (const db::LogRecord& l : block.logs) {
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
  if (dump->stopped_at) {
    std::cout << (json ? ordered_json{{"chain", chain}, {"offset", *dump->stopped_at}, {"type", "undecoded"},
                                      {"why", dump->stopped_why}}.dump()
                       : "chain " + chain + " stops at offset " + std::to_string(*dump->stopped_at) + ": " +
                             dump->stopped_why)
              << "\n";
  }
  return true;
}

// One line (or JSON object) per record of a chain's replacement log, if it has one.
bool DumpReplacements(const fs::path& chain_dir, bool json) {
  const fs::path file = chain_dir / "replacements.db";
  if (kEnv->TypeOf(file).value_or(db::FileType::kNone) == db::FileType::kNone) return true;
  Result<db::ReplacementLogDump> dump = db::DumpReplacementLog(kEnv, file);
  if (!dump.ok()) {
    std::cerr << "supersafe db dump: cannot read " << file.string() << ": " << dump.status().message() << "\n";
    return false;
  }
  const std::string chain = chain_dir.filename().string();
  for (const db::DumpedRecord& r : dump->records) {
    const char* type = r.type == db::ReplacementLog::kTypeInvalidated ? "invalidated"
                       : r.type == db::ReplacementLog::kTypeReplaced  ? "replaced"
                                                                      : "unknown";
    ordered_json j{{"chain", chain}, {"file", "replacements.db"}, {"offset", r.offset}, {"type", type},
                   {"number", r.number}, {"hash", r.hash.Hex()}};
    if (r.type == db::ReplacementLog::kTypeInvalidated) j["outputPreimage"] = ToHex(r.preimage);
    if (!r.crc_ok) j["crcMismatch"] = true;
    std::string line = "chain " + chain + " replacements " + std::to_string(r.offset) + " " + type + " #" +
                       std::to_string(r.number) + " " + r.hash.Hex() + (r.crc_ok ? "" : " (CRC mismatch)");
    std::cout << (json ? j.dump() : line) << "\n";
  }
  if (dump->partial_bytes > 0) {
    const uint64_t offset = dump->records.size() * db::ReplacementLog::kRecordSize;
    std::cout << (json ? ordered_json{{"chain", chain}, {"file", "replacements.db"}, {"offset", offset}, {"type", "torn"},
                                      {"bytes", dump->partial_bytes}}.dump()
                       : "chain " + chain + " replacements " + std::to_string(offset) + " torn tail of " +
                             std::to_string(dump->partial_bytes) + " bytes")
              << "\n";
  }
  return true;
}

}  // namespace

void AddDbCommand(CLI::App& app, int& exit_code) {
  CLI::App* db = app.add_subcommand("db", "inspect a data directory");
  db->require_subcommand(1);
  static fs::path verify_dir, dump_dir;
  static std::string verify_deps;
  static bool json = false;
  CLI::App* verify = db->add_subcommand("verify", "check every database file; every finding with file and offset");
  verify->add_option("DIR", verify_dir, "data directory")->required();
  verify->add_option("--dependency-set", verify_deps,
                     "op-supervisor dependency-set JSON: also check that supersafe.db was written for it")
      ->check(CLI::ExistingFile);
  verify->callback([&exit_code] { exit_code = Verify(verify_dir, verify_deps); });
  CLI::App* dump = db->add_subcommand("dump", "print every entry, one per line");
  dump->add_option("DIR", dump_dir, "data directory")->required();
  dump->add_flag("--json", json, "one JSON object per line");
  dump->callback([&exit_code] {
    bool ok = DumpSuperSafe(dump_dir / db::SuperSafeDB::kFileName, json);
    Result<std::vector<fs::path>> chains = db::ChainDirectories(kEnv, dump_dir);
    if (!chains.ok()) {
      std::cerr << "supersafe db dump: " << chains.status().message() << "\n";
      ok = false;
    }
    for (const fs::path& chain : chains.value_or(std::vector<fs::path>{})) {
      ok = DumpEvents(chain, json) && ok;
      ok = DumpReplacements(chain, json) && ok;
    }
    exit_code = ok ? 0 : 1;
  });
}

}  // namespace supersafe::cli
