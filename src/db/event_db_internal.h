// Internals of the event-log DB (EventDB, db/event_db.h) shared by its source files; not an
// interface. The files, one job each:
//   event_db_codec.cc     the file header and blocks: encoding, decoding, checking; access-list checksums
//   event_db_recovery.cc  scanning the blocks, the zero tail and torn writes (Open and Verify);
//                         VerifyEventDB, EventDBContentSize
//   event_db.cc           the database: open, append, rewind, lookups
// Layout and rules: docs/event-db-format.md.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/crypto.h"
#include "core/status.h"
#include "core/types.h"
#include "db/event_db.h"
#include "db/event_db_format.h"
#include "db/file.h"

namespace supersafe::db::event_db_internal {

using namespace event_format;

// A problem in checked bytes, at `offset` from their start.
struct Problem {
  uint64_t offset;
  std::string what;
};

inline bool AllZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

inline uint32_t Crc32cOf(const uint8_t* p, size_t n) { return Crc32c(ByteSpan(p, n)); }

inline Hash HashAt(const uint8_t* p) { return Hash::FromSpan(ByteSpan(p, Hash::kSize)); }

std::string HexByte(uint8_t v);

// "checkpoint", "log", ... for an entry type; nullptr for an unknown one.
const char* EntryKind(uint8_t type);

// kCorruption: "<file>: corruption at offset <offset>: <what>".
Status CorruptionAt(const std::filesystem::path& file, uint64_t offset, const std::string& what);

// ---- File header (event_db_codec.cc) ---------------------------------------------------------

Bytes EncodeFileHeader(const ChainID& chain_id);
// The first problem in the kFileHeaderSize bytes at `h`.
std::optional<Problem> CheckFileHeader(const uint8_t* h);

// ---- Access-list checksums (event_db_codec.cc) -----------------------------------------------


// The access-list checksum of every log of `blocks`, in order, into `out` (`scratch` is reused
// between calls): AccessChecksum (core/access_list.h) computed for the whole batch at once, each
// of its two Keccak-256 rounds through one Keccak256Many call (Crypto++), which splits a large
// batch over two threads. The two hashes cost about 0.7 us a log on one core, the main cost of a
// catch-up (bench/README.md).
void ComputeChecksums(std::span<const BlockRecord> blocks, const ChainID& chain_id, std::vector<Hash>& out,
                      Bytes& scratch, std::vector<ByteSpan>& spans);

// ---- Blocks (event_db_codec.cc) ------------------------------------------------------------

struct Checkpoint {
  BlockRef ref;
  uint32_t log_count = 0;
  uint32_t exec_count = 0;
  uint32_t body_crc = 0;
  uint64_t size() const { return BlockSize(log_count, exec_count); }
};

// The first problem in the kCheckpointSize bytes at `c`; offsets relative to `c`.
std::optional<Problem> CheckCheckpoint(const uint8_t* c);
Checkpoint DecodeCheckpoint(const uint8_t* c);

inline bool IsExecutingLog(const uint8_t* log_entry) { return (log_entry[kLogFlags] & kLogFlagExecuting) != 0; }

// Appends every problem in the body of the block at `block` (whose checkpoint is sound) to
// `problems`, offsets relative to `block`, in file order.
void CheckBody(const uint8_t* block, const Checkpoint& cp, std::vector<Problem>& problems);

// Appends the encoding of `b` to `out`; `checksums` holds its logs' access-list checksums.
void EncodeBlock(const BlockRecord& b, const Hash* checksums, Bytes& out);

// The logs of the block at `block`, whose checkpoint and body are sound.
std::vector<LogRecord> DecodeLogs(const uint8_t* block, const Checkpoint& cp);

// ---- Reading and recovery (event_db_recovery.cc) --------------------------------------------

// Reads a file front to back in large chunks (recovery and verification).
class SequentialReader {
 public:
  SequentialReader(File& file, uint64_t size) : file_(&file), size_(size) {}

  uint64_t size() const { return size_; }
  const std::filesystem::path& file() const { return file_->path(); }

  // The bytes [offset, offset + len), valid until the next call.
  Result<const uint8_t*> View(uint64_t offset, uint64_t len) {
    SS_CHECK(offset + len <= size_, "sequential read past the end of " + file_->path().string());
    if (offset < start_ || offset + len > start_ + filled_) {
      const uint64_t n = std::min(std::max(len, kChunk), size_ - offset);
      if (buffer_.size() < n) buffer_.resize(n);
      SS_RETURN_IF_ERROR(file_->ReadAt(offset, n, buffer_.data()));
      start_ = offset;
      filled_ = n;
    }
    return static_cast<const uint8_t*>(buffer_.data() + (offset - start_));
  }

 private:
  static constexpr uint64_t kChunk = 4 << 20;
  File* file_;
  uint64_t size_;
  Bytes buffer_;
  uint64_t start_ = 0;
  uint64_t filled_ = 0;
};

enum class ScanMode { kStopAtCorruption, kReportAll };

struct ScanOutcome {
  std::vector<Finding> corruption;    // in file order
  std::optional<uint64_t> torn_from;  // where a torn tail (an incomplete block) begins
  std::optional<uint64_t> first_bad;  // where the block of the first corruption starts
  std::optional<BlockRef> before_bad;  // the block before it, if any
  std::optional<uint64_t> last_bad;   // the same for the last corruption (kReportAll)
  std::optional<BlockRef> before_last_bad;
};

// Walks the blocks from `from` (a block's start: kFileHeaderSize for the whole file), `prev` being
// the block before it (nullopt at the first block). kStopAtCorruption (Open) stops at the first
// corruption; kReportAll (Verify) goes on after it, past a broken checkpoint to the next sound one.
// Calls `on_block` with the offset and checkpoint of every block that shows no corruption.
Result<ScanOutcome> ScanBlocks(SequentialReader& reader, ScanMode mode,
                               const std::function<void(uint64_t, const Checkpoint&)>& on_block,
                               uint64_t from = kFileHeaderSize, std::optional<BlockRef> prev = std::nullopt);

// Where the content of a file of `size` bytes ends. Scans back over at most kMaxZeroTail bytes
// and an entry, never the whole file.
struct ContentBounds {
  uint64_t size = 0;
  uint64_t last = 0;  // one past the last nonzero byte (within reach)
  uint64_t end = 0;   // `last` rounded up to a whole entry, at most `size`: the content end
  std::optional<Problem> problem;  // a zero tail longer than preallocation leaves
  bool zero_tail() const { return end < size && !problem; }
};
Result<ContentBounds> FindContentEnd(File& file, uint64_t size);

// A header cut by a crash: a file shorter than the header, or, in a file with a zero tail, an
// unsound header whose nonzero bytes end before the header does (`header` is the first
// kFileHeaderSize bytes when the file has them).
bool TornHeader(const ContentBounds& b, const uint8_t* header);

// Rules 1 and 2 of "Preallocation and the zero tail": whether the first unsound block, at `p`
// (after `prev`), of content ending at reader.size() with its last nonzero byte before `last`, is
// a write torn in preallocated space. Asked only for a file with a zero tail.
Result<bool> TornInPreallocatedSpace(SequentialReader& reader, uint64_t p, const std::optional<BlockRef>& prev,
                                     uint64_t last);

}  // namespace supersafe::db::event_db_internal
