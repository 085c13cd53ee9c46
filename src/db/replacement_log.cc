#include "db/replacement_log.h"

#include <algorithm>

#include "core/crypto.h"

namespace supersafe::db {

namespace {
constexpr uint8_t kTypeInvalidated = 1;
constexpr uint8_t kTypeReplaced = 2;
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
  SS_RETURN_IF_ERROR(file_->Append(ByteSpan(r, kRecordSize)));
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

std::vector<Finding> VerifyReplacementLog(Env* env, const std::filesystem::path& file) {
  std::vector<Finding> findings;
  Result<Bytes> read = ReadWholeFile(env, file);
  if (!read.ok()) return {{file, 0, read.status().ToString()}};
  const Bytes& buf = *read;
  const uint64_t size = buf.size();
  uint64_t off = 0;
  for (; off + ReplacementLog::kRecordSize <= size; off += ReplacementLog::kRecordSize) {
    std::string problem = RecordProblem(buf.data() + off);
    if (!problem.empty()) findings.push_back({file, off, problem});
  }
  if (off != size) findings.push_back({file, off, "torn tail of " + std::to_string(size - off) + " bytes"});
  return findings;
}

}  // namespace supersafe::db
