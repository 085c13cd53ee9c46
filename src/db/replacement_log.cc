#include "db/replacement_log.h"

#include <algorithm>

#include "core/crypto.h"
#include "db/verifier.h"

namespace supersafe::db {

namespace {
constexpr uint8_t kTypeInvalidated = ReplacementLog::kTypeInvalidated;
constexpr uint8_t kTypeReplaced = ReplacementLog::kTypeReplaced;
constexpr size_t kPreimageSize = 128;
constexpr size_t kCrcOffset = 169;

// Checks one record; empty string when it is good.
std::string RecordProblem(const uint8_t* r) {
  if (r[0] != kTypeInvalidated && r[0] != kTypeReplaced) return "unknown record type " + std::to_string(r[0]);
  if (Crc32c(ByteSpan(r, kCrcOffset)) != GetU32BE(r + kCrcOffset)) return "record CRC mismatch";
  return "";
}
}  // namespace

Result<std::unique_ptr<ReplacementLog>> ReplacementLog::Open(const std::filesystem::path& file,
                                                             const OpenOptions& options) {
  SS_ASSIGN_OR_RETURN(auto f, AppendFile::Open(EnvOr(options.env), file));
  const uint64_t whole = f->size() / kRecordSize * kRecordSize;
  std::unique_ptr<ReplacementLog> log(new ReplacementLog(std::move(f)));
  Bytes buf(whole);
  if (whole > 0) SS_RETURN_IF_ERROR(log->file_->ReadAt(0, whole, buf.data()));
  // Every record is checked before the torn tail is moved, so a refused open changes nothing.
  for (uint64_t off = 0; off < whole; off += kRecordSize) {
    const uint8_t* r = buf.data() + off;
    std::string problem = RecordProblem(r);
    if (!problem.empty())
      return Corruption(file.string() + ": corruption at offset " + std::to_string(off) + ": " + problem);
    log->Apply(r[0], GetU64BE(r + 1), Hash::FromSpan(ByteSpan(r + 9, 32)), ByteSpan(r + 41, kPreimageSize));
  }
  if (whole != log->file_->size()) SS_RETURN_IF_ERROR(log->file_->MoveTailToBroken(whole).status());
  return log;
}

void ReplacementLog::Apply(uint8_t type, uint64_t number, const Hash& hash, ByteSpan preimage) {
  if (type == kTypeInvalidated) {
    invalidated_.emplace(number, Invalidated{hash, Bytes(preimage.begin(), preimage.end())});
    return;
  }
  // The replacement takes the preimage of the newest block invalidated at its height.
  auto [lo, hi] = invalidated_.equal_range(number);
  if (lo == hi) return;
  replaced_[{number, hash}] = std::prev(hi)->second.preimage;
}

Status ReplacementLog::Append(uint8_t type, uint64_t number, const Hash& hash, ByteSpan preimage) {
  uint8_t r[kRecordSize] = {};
  r[0] = type;
  PutU64BE(r + 1, number);
  std::copy(hash.bytes.begin(), hash.bytes.end(), r + 9);
  std::copy(preimage.begin(), preimage.end(), r + 41);
  PutU32BE(r + kCrcOffset, Crc32c(ByteSpan(r, kCrcOffset)));
  // Both sides of the write: the record reads back as sound and goes after the last whole one; then
  // the file ends right after it.
  const uint64_t size = file_->size();
  SS_CHECK(RecordProblem(r).empty() && size % kRecordSize == 0,
           "the record about to be appended to " + file_->path().string() + " does not read back");
  SS_RETURN_IF_ERROR(file_->Append(ByteSpan(r, kRecordSize)));
  SS_CHECK(file_->size() == size + kRecordSize, "an append left " + file_->path().string() + " at the wrong size");
  Apply(type, number, hash, preimage);
  return Status::Ok();
}

Status ReplacementLog::RecordInvalidated(uint64_t number, const Hash& hash, ByteSpan output_preimage) {
  if (output_preimage.size() != kPreimageSize)
    return InvalidArgument("output preimage: want 128 bytes, got " + std::to_string(output_preimage.size()));
  if (auto known = InvalidatedPreimage(number, hash); known && *known == Bytes(output_preimage.begin(), output_preimage.end()))
    return Status::Ok();
  return Append(kTypeInvalidated, number, hash, output_preimage);
}

Status ReplacementLog::RecordReplaced(uint64_t number, const Hash& replacement) {
  if (invalidated_.count(number) == 0)
    return InvalidArgument("replacement #" + std::to_string(number) + ": no invalidated block recorded at that height");
  if (IsReplacement(number, replacement)) return Status::Ok();
  uint8_t zero[kPreimageSize] = {};
  return Append(kTypeReplaced, number, replacement, ByteSpan(zero, kPreimageSize));
}

std::optional<Bytes> ReplacementLog::PendingPreimage(uint64_t number, const Hash& canonical) const {
  auto it = replaced_.find({number, canonical});
  if (it == replaced_.end()) return std::nullopt;
  return it->second;
}

std::optional<Bytes> ReplacementLog::InvalidatedPreimage(uint64_t number, const Hash& hash) const {
  auto [lo, hi] = invalidated_.equal_range(number);
  for (auto it = lo; it != hi; ++it)
    if (it->second.hash == hash) return it->second.preimage;
  return std::nullopt;
}

std::optional<Hash> ReplacementLog::InvalidatedHash(uint64_t number, const HashPrefix& prefix) const {
  auto [lo, hi] = invalidated_.equal_range(number);
  for (auto it = lo; it != hi; ++it)
    if (PrefixOf(it->second.hash) == prefix) return it->second.hash;
  return std::nullopt;
}

bool ReplacementLog::IsReplacement(uint64_t number, const Hash& hash) const {
  return replaced_.count({number, hash}) > 0;
}

Verifier::Pass ReplacementLogVerifier::Run(Env* env, const std::filesystem::path& file, bool resume) {
  constexpr uint64_t kRecord = ReplacementLog::kRecordSize;
  Pass pass;
  pass.start = resume ? Start::kCannotResume : Start::kWhole;
  const uint64_t verified_before = verified_;
  verified_ = 0;  // set again below when nothing is found
  auto found = [&](std::vector<Finding> findings) {
    pass.findings = std::move(findings);
    return pass;
  };
  Result<Env::Opened> opened = env->Open(file, Env::OpenMode::kReadOnly);
  if (!opened.ok()) return found({{file, 0, opened.status().ToString()}});
  Result<uint64_t> file_size = opened->file->Size();
  if (!file_size.ok()) return found({{file, 0, file_size.status().ToString()}});
  const uint64_t size = *file_size;
  // The records verified before are taken as they were if the file still holds them and the last
  // one reads as it did.
  uint64_t from = 0;
  if (resume && size >= verified_before && verified_before >= kRecord) {
    uint8_t last[kRecord];
    if (opened->file->ReadAt(verified_before - kRecord, kRecord, last).ok() &&
        std::equal(last_record_.begin(), last_record_.end(), last)) {
      pass.start = Start::kResumed;
      from = verified_before;
    }
  }
  Bytes buf(size - from);
  if (!buf.empty()) {
    if (Status read = opened->file->ReadAt(from, buf.size(), buf.data()); !read.ok())
      return found({{file, 0, read.ToString()}});
  }
  std::vector<Finding> findings;
  uint64_t off = from;
  for (; off + kRecord <= size; off += kRecord) {
    std::string problem = RecordProblem(buf.data() + (off - from));
    if (!problem.empty()) findings.push_back({file, off, problem});
  }
  if (off != size) findings.push_back({file, off, "torn tail of " + std::to_string(size - off) + " bytes"});
  if (findings.empty() && size >= kRecord) {
    // The context for the next pass: the last record.
    const uint8_t* last = buf.size() >= kRecord ? buf.data() + buf.size() - kRecord : nullptr;
    if (last != nullptr) last_record_.assign(last, last + kRecord);
    verified_ = size;
  }
  return found(std::move(findings));
}

std::vector<Finding> VerifyReplacementLog(Env* env, const std::filesystem::path& file) {
  return ReplacementLogVerifier().Continue(env, file);
}

Result<ReplacementLogDump> DumpReplacementLog(Env* env, const std::filesystem::path& file) {
  SS_ASSIGN_OR_RETURN(const Bytes bytes, ReadWholeFile(env, file));
  ReplacementLogDump dump;
  uint64_t off = 0;
  for (; off + ReplacementLog::kRecordSize <= bytes.size(); off += ReplacementLog::kRecordSize) {
    const uint8_t* r = bytes.data() + off;
    DumpedRecord d;
    d.offset = off;
    d.type = r[0];
    d.number = GetU64BE(r + 1);
    d.hash = Hash::FromSpan(ByteSpan(r + 9, Hash::kSize));
    d.preimage.assign(r + 41, r + 41 + kPreimageSize);
    d.crc_ok = Crc32c(ByteSpan(r, kCrcOffset)) == GetU32BE(r + kCrcOffset);
    dump.records.push_back(std::move(d));
  }
  dump.partial_bytes = bytes.size() - off;
  return dump;
}

}  // namespace supersafe::db
