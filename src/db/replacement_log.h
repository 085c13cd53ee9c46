// The replacement log: one small append-only file per chain,
// <datadir>/chains/<chainID-decimal>/replacements.db, that keeps what no upstream can serve later:
// the 128-byte OutputV0 preimage of every block the supervisor invalidated (the "pending" output
// fault proofs need), and which deposit-only block replaced it.
//
// Fixed 173-byte records: [0] type (1 invalidated, 2 replaced), [1..9) L2 number, [9..41) block
// hash (the invalid block, or its replacement), [41..169) OutputV0 preimage (type 1; zero for
// type 2), [169..173) CRC-32C of bytes 0..169. Appends are durable before they return. Recovery as
// the other databases: a partial tail goes to `<file>.broken`; a bad CRC or unknown type refuses
// to open naming the offset (and changes nothing). Records are facts about block hashes and are
// never truncated. After a failed write or sync every later Record* fails with kIOError until the
// log is reopened (db/file.h).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "db/database.h"
#include "db/file.h"

namespace supersafe::db {

class ReplacementLog {
 public:
  static constexpr size_t kRecordSize = 173;
  // Byte 0 of a record.
  static constexpr uint8_t kTypeInvalidated = 1;
  static constexpr uint8_t kTypeReplaced = 2;

  static Result<std::unique_ptr<ReplacementLog>> Open(const std::filesystem::path& file,
                                                      const OpenOptions& options = {});

  // Records that block (number, hash) is invalid, with its OutputV0 preimage (128 bytes).
  Status RecordInvalidated(uint64_t number, const Hash& hash, ByteSpan output_preimage);
  // Records that `replacement` replaced the invalid block at its height.
  Status RecordReplaced(uint64_t number, const Hash& replacement);

  // The pending output preimage for the canonical block (number, hash): the preimage of the
  // invalidated block it replaced, or nullopt when that block is no replacement.
  std::optional<Bytes> PendingPreimage(uint64_t number, const Hash& canonical) const;
  // The preimage recorded for an invalidated block, if any.
  std::optional<Bytes> InvalidatedPreimage(uint64_t number, const Hash& hash) const;
  // The full hash of an invalidated block at `number` whose hash starts with `prefix`.
  std::optional<Hash> InvalidatedHash(uint64_t number, const HashPrefix& prefix) const;
  // Whether (number, hash) is a recorded replacement block.
  bool IsReplacement(uint64_t number, const Hash& hash) const;

 private:
  struct Invalidated {
    Hash hash;
    Bytes preimage;
  };
  explicit ReplacementLog(std::unique_ptr<AppendFile> file) : file_(std::move(file)) {}
  Status Append(uint8_t type, uint64_t number, const Hash& hash, ByteSpan preimage);
  void Apply(uint8_t type, uint64_t number, const Hash& hash, ByteSpan preimage);

  std::unique_ptr<AppendFile> file_;
  std::multimap<uint64_t, Invalidated> invalidated_;  // by number, in file order
  std::map<std::pair<uint64_t, Hash>, Bytes> replaced_;  // (number, replacement) -> pending preimage
};

// Reads the whole file without changing it and reports every record with a bad CRC or an unknown
// type and a torn tail, with offsets.
std::vector<Finding> VerifyReplacementLog(Env* env, const std::filesystem::path& file);

// Every whole record as stored, decoded without judging it (`supersafe db dump`); whether its CRC
// matches is said, what else is wrong is VerifyReplacementLog's job.
struct DumpedRecord {
  uint64_t offset = 0;
  uint8_t type = 0;  // kTypeInvalidated, kTypeReplaced, or anything else as stored
  uint64_t number = 0;
  Hash hash;       // the invalid block, or its replacement
  Bytes preimage;  // 128 bytes, zero for a replacement
  bool crc_ok = false;
};
struct ReplacementLogDump {
  std::vector<DumpedRecord> records;
  uint64_t partial_bytes = 0;  // a partial record at the end (a torn tail)
};
// kIOError (or kNotFound) if the file cannot be read.
Result<ReplacementLogDump> DumpReplacementLog(Env* env, const std::filesystem::path& file);

}  // namespace supersafe::db
