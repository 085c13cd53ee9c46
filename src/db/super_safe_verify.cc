// Reading supersafe.db without opening it as a database: its verifier (db/verifier.h) and
// VerifySuperSafeDB, SuperSafeContentSize, DumpSuperSafeDB (docs/db-format.md, "Verify").
#include "db/super_safe_db_internal.h"
#include "db/verifier.h"

#include <algorithm>
#include <string>
#include <utility>

namespace supersafe::db {

using namespace super_safe_internal;

Verifier::Pass SuperSafeVerifier::Run(Env* env, const std::filesystem::path& file, bool resume) {
  Pass pass;
  pass.start = resume ? Start::kCannotResume : Start::kWhole;
  verified_ = 0;  // set again below when nothing is found
  auto cannot = [&](const Status& s) {
    pass.findings = {{file, 0, s.ToString()}};
    return pass;
  };
  Result<Env::Opened> opened = env->Open(file, Env::OpenMode::kReadOnly);
  if (!opened.ok()) return cannot(opened.status());
  Result<uint64_t> file_size = opened->file->Size();
  if (!file_size.ok()) return cannot(file_size.status());
  const uint64_t size = *file_size;
  if (size == 0) return pass;
  Result<std::unique_ptr<Mapping>> mapping = opened->file->Map(0, size);
  if (!mapping.ok()) return cannot(mapping.status());
  Result<uint64_t> data_end = opened->file->DataEnd();
  if (!data_end.ok()) return cannot(data_end.status());
  // The groups' bytes, after the header; offsets below are among them until shifted.
  const uint8_t* base = (*mapping)->data() + std::min(size, layout::kHeaderSize);
  const uint64_t groups_size = size - std::min(size, layout::kHeaderSize);

  // The end of the file, judged afresh as Open judges it: the zero tail is no finding, a torn write
  // is one finding for all of it.
  Content content = AnalyzeFile(base, groups_size, *data_end > layout::kHeaderSize ? *data_end - layout::kHeaderSize : 0);
  HeaderVerdict header = JudgeHeader((*mapping)->data(), size, content.end == 0 && content.problems.empty(), digest_);
  if (header.kind == HeaderVerdict::Kind::kTorn) {
    pass.findings = {{file, 0, "torn header: " + std::to_string(header.torn_bytes) + " bytes (opening moves them to " +
                                   file.filename().string() + ".broken and writes a new header)"}};
    return pass;
  }
  const bool torn = content.problems.empty() && content.keep < content.end;
  const uint64_t checked = (torn ? content.keep : content.end) / kEntry;

  // The groups verified before are taken as they were if the file still holds them and the context
  // after `anchor_` reads as it did.
  GroupsChecked at;
  uint64_t from = 0;
  if (resume && header.problems.empty() && content.problems.empty() && !torn && checked >= entries_ &&
      (context_.empty() || std::memcmp(base + anchor_ * kEntry, context_.data(), context_.size()) == 0)) {
    pass.start = Start::kResumed;
    at = {current_, previous_key_};
    from = entries_;
  }
  std::vector<Problem> problems = std::move(content.problems);
  std::vector<Problem> groups = CheckGroups(base, from, checked, at);
  problems.insert(problems.end(), groups.begin(), groups.end());
  if (torn) {
    problems.push_back({content.keep, "torn write: the " + std::to_string(content.end - content.keep) +
                                          " bytes from here are not sealed whole (opening moves them to " +
                                          file.filename().string() + ".broken)"});
  } else {
    Tail tail = AnalyzeTail(base, checked * kEntry);
    problems.insert(problems.end(), tail.problems.begin(), tail.problems.end());
  }
  ShiftProblems(problems, layout::kHeaderSize);
  problems.insert(problems.end(), header.problems.begin(), header.problems.end());

  std::sort(problems.begin(), problems.end());
  problems.erase(std::unique(problems.begin(), problems.end()), problems.end());
  pass.findings.reserve(problems.size());
  for (Problem& p : problems) pass.findings.push_back({file, p.offset, std::move(p.what)});
  if (pass.findings.empty() && header.kind == HeaderVerdict::Kind::kSound) {
    // The context for the next pass: the groups from the one the cross-safe rule will compare with.
    entries_ = checked;
    current_ = at.current;
    previous_key_ = at.previous_key;
    const std::optional<uint64_t> first = previous_key_ ? previous_key_ : current_;
    anchor_ = first ? *first - SealCountOf(base + *first * kEntry) : checked;
    context_.assign(base + anchor_ * kEntry, base + checked * kEntry);
    verified_ = layout::kHeaderSize + checked * kEntry;
  }
  return pass;
}

std::vector<Finding> VerifySuperSafeDB(Env* env, const std::filesystem::path& file, const std::optional<Hash>& digest) {
  return SuperSafeVerifier(digest).Continue(env, file);
}

Result<uint64_t> SuperSafeContentSize(Env* env, const std::filesystem::path& file) {
  SS_ASSIGN_OR_RETURN(Env::Opened opened, env->Open(file, Env::OpenMode::kReadOnly));
  SS_ASSIGN_OR_RETURN(const uint64_t size, opened.file->Size());
  SS_ASSIGN_OR_RETURN(const uint64_t data_end, opened.file->DataEnd());
  uint64_t end = std::min(size, data_end);  // the bytes from data_end on are zero
  Bytes block(64 << 10);
  while (end > 0) {
    const uint64_t n = std::min<uint64_t>(block.size(), end);
    SS_RETURN_IF_ERROR(opened.file->ReadAt(end - n, n, block.data()));
    uint64_t k = n;
    while (k > 0 && block[k - 1] == 0) --k;
    if (k > 0) {
      end = end - n + k;
      break;
    }
    end -= n;
  }
  return std::min(size, (end + kEntry - 1) / kEntry * kEntry);
}

Result<SuperSafeDump> DumpSuperSafeDB(Env* env, const std::filesystem::path& file) {
  SuperSafeDump dump;
  SS_ASSIGN_OR_RETURN(dump.content_end, SuperSafeContentSize(env, file));
  SS_ASSIGN_OR_RETURN(const Bytes bytes, ReadWholeFile(env, file));
  dump.file_size = bytes.size();
  SS_CHECK(dump.content_end <= bytes.size(), "content end past the end of " + file.string());
  const uint64_t whole = dump.content_end / kEntry * kEntry;
  dump.partial_bytes = dump.content_end - whole;
  for (uint64_t offset = 0; offset < whole; offset += kEntry) {
    const uint8_t* e = bytes.data() + offset;
    DumpedEntry d;
    d.offset = offset;
    d.type = TypeOf(e);
    if (offset == 0 && d.type == layout::kTypeHeader) {
      d.kind = DumpedEntry::Kind::kHeader;
      d.magic.assign(e + layout::kHeaderMagic, e + layout::kHeaderMagic + sizeof layout::kMagic);
      d.version = static_cast<uint16_t>(e[layout::kHeaderVersion] << 8 | e[layout::kHeaderVersion + 1]);
      std::memcpy(d.digest.bytes.data(), e + layout::kHeaderDigest, Hash::kSize);
      dump.entries.push_back(d);
      continue;
    }
    d.l1_number = L1Of(e);
    std::memcpy(d.l1_hash.data(), e + layout::kL1Hash, HashPrefix::kSize);
    if (d.type == layout::kTypeChain) {
      d.kind = DumpedEntry::Kind::kChain;
      DecodeChainEntry(e, d.chain);
    } else if (d.type == layout::kTypeSeal) {
      d.kind = DumpedEntry::Kind::kSeal;
      d.seal_count = SealCountOf(e);
      d.seal_crc = Load32(e + layout::kSealCrc);
      d.l1_timestamp = Load64(e + layout::kSealTimestamp);
    }
    dump.entries.push_back(d);
  }
  return dump;
}

}  // namespace supersafe::db
