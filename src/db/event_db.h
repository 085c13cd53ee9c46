// The event-log DB: one append-only file per chain, <datadir>/chains/<chainID-decimal>/events.db,
// holding the chain's indexed (unsafe) blocks and their logs with full 32-byte hashes. Layout and
// recovery: docs/event-db-format.md (constants in db/event_db_format.h).
//
// Blocks are appended in order (each one's parent hash must be the previous block's hash) with a
// checkpoint per block; a block with its logs, their access-list checksums (computed by the append)
// and its executing-message links is appended with one write and made durable before Append
// returns. Rewind truncates to a block. The file is preallocated in chunks of zeros, so it is
// [content][zero tail]; Open finds the content end by scanning back over at most kMaxZeroTail.
//
// Memory and reads: the DB keeps a 16-byte index entry per block in memory (and 8 bytes per block
// with executing messages, and per block whose timestamp is below its parent's) and reads the file
// through a read-only shared mapping, so a lookup is a memory access. Pages of the file that
// lookups touch count as the process's RssFile (page cache, reclaimable), not as RssAnon;
// SetMappedWindow bounds them, reading older blocks with pread instead. The file was checked in
// full on open; a read that finds it changed since fails an SS_CHECK (the process stops), and a
// disk read error stops it (SIGBUS on the mapping, FatalIOError on a read).
//
// Thread-compatibility: one writer; const methods may run concurrently with each other.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "db/database.h"
#include "db/file.h"

namespace supersafe::db {

// What an executing message references: the initiating log's place and the log hash it must have.
struct ExecRef {
  ChainID chain_id;
  uint64_t block_number = 0;
  uint32_t log_index = 0;
  uint64_t timestamp = 0;
  Hash log_hash;  // keccak256(origin ‖ payloadHash)
  bool operator==(const ExecRef&) const = default;
};

struct LogRecord {
  Hash log_hash;
  std::optional<ExecRef> exec;  // set when the log is an executing message
  bool operator==(const LogRecord&) const = default;
};

struct BlockRecord {
  BlockRef ref;  // hash, number, parent hash, timestamp
  std::vector<LogRecord> logs;
  bool operator==(const BlockRecord&) const = default;
};

enum class Presence : uint8_t { kFound, kConflicts, kUnknown };

class EventDB {
 public:
  // Opens or creates the file. The chain ID is stored in the file header and must match on reopen
  // (kInvalidArgument otherwise). Recovery as the super-safe-db: a torn tail goes to
  // `<file>.broken`; corruption elsewhere refuses to open naming the offset.
  // Creates missing parent directories. Reads and checks the whole file (every CRC), so opening
  // costs one sequential read of it; a refused open changes nothing.
  static Result<std::unique_ptr<EventDB>> Open(const std::filesystem::path& file, const ChainID& chain_id,
                                               const OpenOptions& options = {});
  ~EventDB();

  const ChainID& chain_id() const;
  const RecoveryReport& recovery() const;

  // Appends one block durably. The first block of an empty DB may have any number; after that the
  // number must be latest+1 and the parent hash latest's hash (kConflictingData otherwise).
  // A rejected append writes nothing. After a failed write (kIOError, e.g. a simulated crash)
  // every further write fails with kIOError until the DB is reopened; reads still answer.
  Status Append(const BlockRecord& block);
  // Several consecutive blocks, one write and one fdatasync; all are checked before anything is
  // written. A crash during the write may leave complete blocks of the batch, which recovery keeps.
  Status AppendBatch(std::span<const BlockRecord> blocks);
  // Durably removes every block above `number`. kInvalidArgument if number < first block; nothing
  // to do (OK) if the DB is empty or number >= latest.
  Status RewindTo(uint64_t number);
  // Durably removes everything (the DB becomes empty).
  Status Clear();

  // Bounds how much of the file lookups read through the mapping: about its newest `bytes`
  // (rounded up to whole pages; the mapping spans at most 1.5 times that) with older blocks read
  // by pread, or, with 0 (the default), the whole file. Mapped pages that lookups touch count in the process's resident
  // memory (RssFile), so with the whole file mapped, lookups spread over all of it bring VmRSS
  // towards the file's size; with a window it stays under the window plus the block index, and a
  // lookup outside the window costs a system call (about 1 us here, against 0.1 to 0.3 us mapped;
  // bench/README.md). Changes the mapping: like a write, not concurrent with reads.
  void SetMappedWindow(uint64_t bytes);
  uint64_t mapped_window() const;

  std::optional<BlockRef> First() const;
  std::optional<BlockRef> Latest() const;
  // kNotFound outside [first, latest].
  Result<BlockRef> Block(uint64_t number) const;
  Result<std::vector<LogRecord>> Logs(uint64_t number) const;
  Result<uint32_t> LogCount(uint64_t number) const;

  // The lowest indexed block at or after `number` that holds an executing message (its
  // checkpoint's executing-message count is not zero), or nullopt. From a sorted in-memory list of
  // such blocks (8 bytes each), kept by appends, rewinds and Clear and rebuilt by Open: O(log n).
  std::optional<uint64_t> NextWithExecutingMessages(uint64_t number) const;
  // The indexed blocks in [from, to] whose timestamp is `timestamp`, ascending. O(log n) plus the
  // answer where the timestamps never decrease over [from, to] (the DB keeps the places where a
  // block's timestamp is below its parent's), else one index read per block of the range.
  std::vector<uint64_t> BlocksWithTimestamp(uint64_t timestamp, uint64_t from, uint64_t to) const;
  // Counts the writes that took blocks away (a rewind that removed any, Clear): what was read
  // below the latest block before stays true while it is unchanged.
  uint64_t removals() const;

  // Whether block `number` holds log `log_index` with `log_hash`, in O(log n) or better:
  // kUnknown if the block is above latest (or below first); kConflicts if the block is indexed but
  // has no such log or the hash differs; kFound otherwise. `block` receives the block when indexed.
  Presence Contains(uint64_t number, uint32_t log_index, const Hash& log_hash, BlockRef* block = nullptr) const;

  // Whether block `number` holds log `log_index` whose access-list checksum as of `timestamp`,
  // AccessChecksum(logHash, chain ID, number, timestamp, log_index) (core/access_list.h), is
  // `checksum`: kUnknown, kConflicts and `block` as Contains. The DB stores every log's checksum
  // as of its block's own timestamp, computed when the block is appended, so the usual lookup
  // (`timestamp` is the block's) is one entry read and no hashing; for any other timestamp the
  // checksum is computed from the stored log hash (two Keccak-256).
  Presence ContainsChecksum(uint64_t number, uint32_t log_index, uint64_t timestamp, const Hash& checksum,
                            BlockRef* block = nullptr) const;

 private:
  struct Impl;
  explicit EventDB(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads the whole file without changing it (or creating it) and reports, in file order and with
// their offsets, every problem: a bad header, a bad CRC, a block out of order or not linked to its
// parent, an unknown or misplaced entry, nonzero reserved bytes, and a torn tail. Past a broken
// checkpoint it resumes at the next sound one. The first finding is the one Open refuses with (or
// the torn tail it recovers); an empty result means Open takes the file as it is.
std::vector<Finding> VerifyEventDB(Env* env, const std::filesystem::path& file);

// The size of events.db's content: the file without the zero tail of preallocation, by the rule
// Open uses. kIOError (or kNotFound) if the file cannot be read.
Result<uint64_t> EventDBContentSize(Env* env, const std::filesystem::path& file);

// The file as stored, block by block, without changing it (`supersafe db dump`): the header's
// fields and every block from the first on, decoded, up to the content end or to the first block
// that cannot be decoded (a damaged checkpoint or body, or one cut short), where the walk stops.
// What verification would say is VerifyEventDB's job.
struct DumpedBlock {
  uint64_t offset = 0;
  BlockRef ref;
  std::vector<LogRecord> logs;
};
struct EventDBDump {
  bool header_sound = false;  // the header passes its checks (magic, version, CRC, ...)
  uint32_t version = 0;       // as stored
  ChainID chain_id;           // as stored
  std::vector<DumpedBlock> blocks;
  uint64_t content_end = 0;  // EventDBContentSize
  uint64_t file_size = 0;    // content, then the zero tail of preallocation
  // Where the walk stopped before the content end, and why (empty when it reached it).
  std::optional<uint64_t> stopped_at;
  std::string stopped_why;
};
// kIOError (or kNotFound) if the file cannot be read.
Result<EventDBDump> DumpEventDB(Env* env, const std::filesystem::path& file);

}  // namespace supersafe::db
