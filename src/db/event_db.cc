#include "db/event_db.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#include "core/access_list.h"
#include "core/crypto.h"
#include "db/event_db_format.h"

namespace supersafe::db {

using namespace event_format;

namespace {

// A problem in checked bytes, at `offset` from their start.
struct Problem {
  uint64_t offset;
  std::string what;
};

bool AllZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

uint32_t Crc32cOf(const uint8_t* p, size_t n) { return Crc32c(ByteSpan(p, n)); }

Hash HashAt(const uint8_t* p) { return Hash::FromSpan(ByteSpan(p, Hash::kSize)); }

std::string HexByte(uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

const char* EntryKind(uint8_t type) {
  switch (type) {
    case kTypeCheckpoint: return "checkpoint";
    case kTypeBlockHash: return "block hash";
    case kTypeParentHash: return "parent hash";
    case kTypeLog: return "log";
    case kTypeExecChain: return "exec chain";
    case kTypeExecPosition: return "exec position";
    case kTypeExecHash: return "exec hash";
    case kTypeChecksum: return "checksum";
    default: return nullptr;
  }
}

// Checks the type byte of an entry; `expected` is one of the kType* constants.
std::optional<std::string> TypeMismatch(uint8_t type, uint8_t expected) {
  if (type == expected) return std::nullopt;
  const char* kind = EntryKind(type);
  if (kind == nullptr) return "unknown entry type " + HexByte(type) + " where a " + EntryKind(expected) + " entry belongs";
  return std::string("a ") + kind + " entry where a " + EntryKind(expected) + " entry belongs";
}

Status CorruptionAt(const std::filesystem::path& file, uint64_t offset, const std::string& what) {
  return Corruption(file.string() + ": corruption at offset " + std::to_string(offset) + ": " + what);
}

// ---- File header ----------------------------------------------------------------------------

Bytes EncodeFileHeader(const ChainID& chain_id) {
  Bytes h(kFileHeaderSize, 0);
  std::copy(std::begin(kMagic), std::end(kMagic), h.begin() + kHeaderMagic);
  PutU32BE(h.data() + kHeaderVersion, kFormatVersion);
  PutU32BE(h.data() + kHeaderEntrySize, kEntrySize);
  const Hash id = chain_id.ToBytes32();
  std::copy(id.bytes.begin(), id.bytes.end(), h.begin() + kHeaderChainID);
  PutU32BE(h.data() + kHeaderCrc, Crc32cOf(h.data(), kHeaderCrc));
  return h;
}

std::optional<Problem> CheckFileHeader(const uint8_t* h) {
  if (!std::equal(std::begin(kMagic), std::end(kMagic), h + kHeaderMagic))
    return Problem{kHeaderMagic, "bad magic: not an event-log DB"};
  if (uint32_t v = GetU32BE(h + kHeaderVersion); v != kFormatVersion)
    return Problem{kHeaderVersion, "unsupported format version " + std::to_string(v)};
  if (Crc32cOf(h, kHeaderCrc) != GetU32BE(h + kHeaderCrc)) return Problem{kHeaderCrc, "file header CRC mismatch"};
  if (uint32_t size = GetU32BE(h + kHeaderEntrySize); size != kEntrySize)
    return Problem{kHeaderEntrySize, "entry size " + std::to_string(size) + ", expected " + std::to_string(kEntrySize)};
  if (!AllZero(h + kHeaderReserved, kHeaderCrc - kHeaderReserved))
    return Problem{kHeaderReserved, "nonzero reserved bytes in the file header"};
  return std::nullopt;
}

// ---- Access-list checksums ------------------------------------------------------------------

// The access-list checksum of every log of `blocks`, in order, into `out` (`scratch` is reused
// between calls): AccessChecksum (core/access_list.h) computed for the whole batch at once, each
// of its two Keccak-256 rounds through one Keccak256Many call (Crypto++), which splits a large
// batch over two threads. The two hashes cost about 0.7 us a log on one core, the main cost of a
// catch-up (bench/README.md).
void ComputeChecksums(std::span<const BlockRecord> blocks, const ChainID& chain_id, std::vector<Hash>& out,
                      Bytes& scratch, std::vector<ByteSpan>& spans) {
  size_t total = 0;
  for (const BlockRecord& b : blocks) total += b.logs.size();
  out.resize(total);
  scratch.resize(64 * total);
  spans.resize(total);
  // Round 1: idLogHash = keccak256(logHash ‖ idPacked), idPacked = 12 zero bytes ‖ u64 number ‖
  // u64 timestamp ‖ u32 log index.
  uint8_t* p = scratch.data();
  size_t k = 0;
  for (const BlockRecord& b : blocks) {
    for (size_t i = 0; i < b.logs.size(); ++i, ++k, p += 64) {
      std::copy(b.logs[i].log_hash.bytes.begin(), b.logs[i].log_hash.bytes.end(), p);
      std::fill(p + 32, p + 44, uint8_t{0});
      PutU64BE(p + 44, b.ref.number);
      PutU64BE(p + 52, b.ref.timestamp);
      PutU32BE(p + 60, static_cast<uint32_t>(i));
      spans[k] = ByteSpan(p, 64);
    }
  }
  Keccak256Many(spans, out);
  // Round 2: bare = keccak256(idLogHash ‖ uint256(chainID)); checksum = 0x03 ‖ bare[1..32).
  const Hash chain = chain_id.ToBytes32();
  p = scratch.data();
  for (size_t j = 0; j < total; ++j, p += 64) {
    std::copy(out[j].bytes.begin(), out[j].bytes.end(), p);
    std::copy(chain.bytes.begin(), chain.bytes.end(), p + 32);
  }
  Keccak256Many(spans, out);
  for (Hash& h : out) h.bytes[0] = kChecksumPrefix;
}

// ---- Blocks ---------------------------------------------------------------------------------

struct Checkpoint {
  BlockRef ref;
  uint32_t log_count = 0;
  uint32_t exec_count = 0;
  uint32_t body_crc = 0;
  uint64_t size() const { return BlockSize(log_count, exec_count); }
};

// The first problem in the kCheckpointSize bytes at `c`; offsets relative to `c`.
std::optional<Problem> CheckCheckpoint(const uint8_t* c) {
  for (uint8_t i = 0; i < kCheckpointEntries; ++i) {
    if (auto m = TypeMismatch(c[i * kEntrySize], static_cast<uint8_t>(kTypeCheckpoint + i)))
      return Problem{i * kEntrySize, *m};
  }
  if (!AllZero(c + 1, kCheckpointCrc - 1)) return Problem{0, "nonzero reserved bytes in a checkpoint"};
  if (Crc32cOf(c + kCheckpointNumber, kCheckpointSize - kCheckpointNumber) != GetU32BE(c + kCheckpointCrc))
    return Problem{0, "checkpoint CRC mismatch"};
  if (!AllZero(c + kCheckpointReserved, kEntrySize - kCheckpointReserved) ||
      !AllZero(c + kEntrySize + 1, kEntryHash - 1) || !AllZero(c + 2 * kEntrySize + 1, kEntryHash - 1))
    return Problem{0, "nonzero reserved bytes in a checkpoint"};
  if (GetU32BE(c + kCheckpointExecCount) > GetU32BE(c + kCheckpointLogCount))
    return Problem{0, "more executing messages than logs"};
  return std::nullopt;
}

Checkpoint DecodeCheckpoint(const uint8_t* c) {
  Checkpoint cp;
  cp.ref.number = GetU64BE(c + kCheckpointNumber);
  cp.ref.timestamp = GetU64BE(c + kCheckpointTimestamp);
  cp.ref.hash = HashAt(c + kEntrySize + kEntryHash);
  cp.ref.parent_hash = HashAt(c + 2 * kEntrySize + kEntryHash);
  cp.log_count = GetU32BE(c + kCheckpointLogCount);
  cp.exec_count = GetU32BE(c + kCheckpointExecCount);
  cp.body_crc = GetU32BE(c + kCheckpointBodyCrc);
  return cp;
}

bool IsExecutingLog(const uint8_t* log_entry) { return (log_entry[kLogFlags] & kLogFlagExecuting) != 0; }

// Appends every problem in the body of the block at `block` (whose checkpoint is sound) to
// `problems`, offsets relative to `block`, in file order.
void CheckBody(const uint8_t* block, const Checkpoint& cp, std::vector<Problem>& problems) {
  const size_t before = problems.size();
  const uint8_t* body = block + kCheckpointSize;
  if (Crc32cOf(body, cp.size() - kCheckpointSize) != cp.body_crc) problems.push_back({0, "block body CRC mismatch"});
  auto entry_offset = [](uint64_t i) { return kCheckpointSize + i * kEntrySize; };
  uint32_t executing = 0;
  // A sound log entry starts with type, flags (0 or executing), two zero bytes and its index.
  constexpr uint64_t kExecutingBit = uint64_t{kLogFlagExecuting} << 48;
  for (uint32_t i = 0; i < cp.log_count; ++i) {
    const uint8_t* e = body + uint64_t{i} * kEntrySize;
    const uint64_t head = GetU64BE(e);
    if ((head & ~kExecutingBit) == (uint64_t{kTypeLog} << 56 | i)) {
      executing += (head & kExecutingBit) != 0 ? 1 : 0;
      continue;
    }
    if (auto m = TypeMismatch(e[0], kTypeLog)) {
      problems.push_back({entry_offset(i), *m});
      continue;
    }
    if ((e[kLogFlags] & ~kLogFlagExecuting) != 0 || !AllZero(e + kLogFlags + 1, kEntryIndex - kLogFlags - 1))
      problems.push_back({entry_offset(i), "nonzero reserved bits in a log entry"});
    if (GetU32BE(e + kEntryIndex) != i)
      problems.push_back({entry_offset(i), "log entry " + std::to_string(i) + " holds index " +
                                               std::to_string(GetU32BE(e + kEntryIndex))});
    executing += IsExecutingLog(e) ? 1 : 0;
  }
  if (executing != cp.exec_count)
    problems.push_back({0, "checkpoint counts " + std::to_string(cp.exec_count) + " executing messages, " +
                               std::to_string(executing) + " logs are flagged"});
  // A sound checksum entry starts with type, three zero bytes, its log index, then 0x03.
  for (uint32_t i = 0; i < cp.log_count; ++i) {
    const uint64_t k = uint64_t{cp.log_count} + i;
    const uint8_t* e = body + k * kEntrySize;
    if (GetU64BE(e) == (uint64_t{kTypeChecksum} << 56 | i) && e[kEntryHash] == kChecksumPrefix) continue;
    if (auto m = TypeMismatch(e[0], kTypeChecksum)) {
      problems.push_back({entry_offset(k), *m});
      continue;
    }
    if (!AllZero(e + 1, kEntryIndex - 1)) problems.push_back({entry_offset(k), "nonzero reserved bytes in a checksum entry"});
    if (GetU32BE(e + kEntryIndex) != i)
      problems.push_back({entry_offset(k), "checksum entry " + std::to_string(i) + " holds index " +
                                               std::to_string(GetU32BE(e + kEntryIndex))});
    if (e[kEntryHash] != kChecksumPrefix)
      problems.push_back({entry_offset(k), "checksum entry " + std::to_string(i) + " starts with " +
                                               HexByte(e[kEntryHash]) + ", not " + HexByte(kChecksumPrefix)});
  }
  uint32_t log = 0;  // the executing log the next link belongs to
  for (uint32_t j = 0; j < cp.exec_count; ++j, ++log) {
    while (log < cp.log_count && !IsExecutingLog(body + uint64_t{log} * kEntrySize)) ++log;
    const uint64_t first = 2 * uint64_t{cp.log_count} + uint64_t{j} * kExecLinkEntries;
    for (uint8_t k = 0; k < kExecLinkEntries; ++k) {
      const uint8_t* x = body + (first + k) * kEntrySize;
      const uint64_t at = entry_offset(first + k);
      const uint8_t type = static_cast<uint8_t>(kTypeExecChain + k);
      if (auto m = TypeMismatch(x[0], type)) {
        problems.push_back({at, *m});
        continue;
      }
      if (!AllZero(x + 1, kEntryIndex - 1) ||
          (type == kTypeExecPosition && !AllZero(x + kExecPositionReserved, kEntrySize - kExecPositionReserved)))
        problems.push_back({at, std::string("nonzero reserved bytes in an ") + EntryKind(type) + " entry"});
      if (type != kTypeExecPosition && GetU32BE(x + kEntryIndex) != log)
        problems.push_back({at, std::string("an ") + EntryKind(type) + " entry names log " +
                                    std::to_string(GetU32BE(x + kEntryIndex)) + ", not the executing log " +
                                    std::to_string(log)});
    }
  }
  std::stable_sort(problems.begin() + static_cast<ptrdiff_t>(before), problems.end(),
                   [](const Problem& a, const Problem& b) { return a.offset < b.offset; });
}

// Appends the encoding of `b` to `out`; `checksums` holds its logs' access-list checksums.
void EncodeBlock(const BlockRecord& b, const Hash* checksums, Bytes& out) {
  const auto exec_count = static_cast<uint32_t>(
      std::count_if(b.logs.begin(), b.logs.end(), [](const LogRecord& l) { return l.exec.has_value(); }));
  const auto log_count = static_cast<uint32_t>(b.logs.size());
  const size_t start = out.size();
  out.resize(start + BlockSize(log_count, exec_count));
  uint8_t* c = out.data() + start;
  c[0] = kTypeCheckpoint;
  PutU64BE(c + kCheckpointNumber, b.ref.number);
  PutU64BE(c + kCheckpointTimestamp, b.ref.timestamp);
  PutU32BE(c + kCheckpointLogCount, log_count);
  PutU32BE(c + kCheckpointExecCount, exec_count);
  c[kEntrySize] = kTypeBlockHash;
  std::copy(b.ref.hash.bytes.begin(), b.ref.hash.bytes.end(), c + kEntrySize + kEntryHash);
  c[2 * kEntrySize] = kTypeParentHash;
  std::copy(b.ref.parent_hash.bytes.begin(), b.ref.parent_hash.bytes.end(), c + 2 * kEntrySize + kEntryHash);

  uint8_t* body = c + kCheckpointSize;
  uint8_t* e = body;
  for (uint32_t i = 0; i < log_count; ++i, e += kEntrySize) {
    const LogRecord& log = b.logs[i];
    e[0] = kTypeLog;
    e[kLogFlags] = log.exec ? kLogFlagExecuting : 0;
    PutU32BE(e + kEntryIndex, i);
    std::copy(log.log_hash.bytes.begin(), log.log_hash.bytes.end(), e + kEntryHash);
  }
  for (uint32_t i = 0; i < log_count; ++i, e += kEntrySize) {
    e[0] = kTypeChecksum;
    PutU32BE(e + kEntryIndex, i);
    std::copy(checksums[i].bytes.begin(), checksums[i].bytes.end(), e + kEntryHash);
  }
  for (uint32_t i = 0; i < log_count; ++i) {
    if (!b.logs[i].exec) continue;
    const ExecRef& x = *b.logs[i].exec;
    e[0] = kTypeExecChain;
    PutU32BE(e + kEntryIndex, i);
    const Hash chain = x.chain_id.ToBytes32();
    std::copy(chain.bytes.begin(), chain.bytes.end(), e + kEntryHash);
    e += kEntrySize;
    e[0] = kTypeExecPosition;
    PutU32BE(e + kEntryIndex, x.log_index);
    PutU64BE(e + kExecPositionNumber, x.block_number);
    PutU64BE(e + kExecPositionTimestamp, x.timestamp);
    e += kEntrySize;
    e[0] = kTypeExecHash;
    PutU32BE(e + kEntryIndex, i);
    std::copy(x.log_hash.bytes.begin(), x.log_hash.bytes.end(), e + kEntryHash);
    e += kEntrySize;
  }
  SS_CHECK(e == out.data() + out.size(), "event DB block encoding overran its size");
  PutU32BE(c + kCheckpointBodyCrc, Crc32cOf(body, static_cast<size_t>(e - body)));
  PutU32BE(c + kCheckpointCrc, Crc32cOf(c + kCheckpointNumber, kCheckpointSize - kCheckpointNumber));

  // What is written must read back as sound.
  SS_CHECK(!CheckCheckpoint(c), "encoded event DB checkpoint is unsound");
  std::vector<Problem> problems;
  CheckBody(c, DecodeCheckpoint(c), problems);
  SS_CHECK(problems.empty(), "encoded event DB block is unsound: " + problems.front().what);
}

std::vector<LogRecord> DecodeLogs(const uint8_t* block, const Checkpoint& cp) {
  const uint8_t* body = block + kCheckpointSize;
  std::vector<LogRecord> logs(cp.log_count);
  const uint8_t* link = body + 2 * uint64_t{cp.log_count} * kEntrySize;
  for (uint32_t i = 0; i < cp.log_count; ++i) {
    const uint8_t* e = body + uint64_t{i} * kEntrySize;
    logs[i].log_hash = HashAt(e + kEntryHash);
    if (!IsExecutingLog(e)) continue;
    const uint8_t* position = link + kEntrySize;
    logs[i].exec = ExecRef{.chain_id = ChainID::FromBytes32(HashAt(link + kEntryHash)),
                           .block_number = GetU64BE(position + kExecPositionNumber),
                           .log_index = GetU32BE(position + kEntryIndex),
                           .timestamp = GetU64BE(position + kExecPositionTimestamp),
                           .log_hash = HashAt(link + 2 * kEntrySize + kEntryHash)};
    link += kExecLinkEntries * kEntrySize;
  }
  return logs;
}

// ---- Reading --------------------------------------------------------------------------------

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

// Walks the blocks after the file header. kStopAtCorruption (Open) stops at the first corruption;
// kReportAll (Verify) goes on after it, past a broken checkpoint to the next sound one. Calls
// `on_block` with the offset and checkpoint of every block that shows no corruption.
Result<ScanOutcome> ScanBlocks(SequentialReader& reader, ScanMode mode,
                               const std::function<void(uint64_t, const Checkpoint&)>& on_block) {
  const uint64_t size = reader.size();
  ScanOutcome out;
  std::optional<BlockRef> prev;
  std::vector<Problem> problems;
  uint64_t p = kFileHeaderSize;
  auto report = [&](uint64_t offset, std::string what) {
    if (!out.first_bad) {
      out.first_bad = p;
      out.before_bad = prev;
    }
    out.last_bad = p;
    out.before_last_bad = prev;
    out.corruption.push_back(Finding{reader.file(), offset, std::move(what)});
  };
  while (p < size) {
    if (size - p < kCheckpointSize) {
      out.torn_from = p;
      break;
    }
    SS_ASSIGN_OR_RETURN(const uint8_t* c, reader.View(p, kCheckpointSize));
    if (auto problem = CheckCheckpoint(c)) {
      if (mode == ScanMode::kStopAtCorruption) {
        report(p + problem->offset, problem->what);
        break;
      }
      uint64_t q = p + kEntrySize;
      for (; q + kCheckpointSize <= size; q += kEntrySize) {
        SS_ASSIGN_OR_RETURN(const uint8_t* candidate, reader.View(q, kCheckpointSize));
        if (!CheckCheckpoint(candidate)) break;
      }
      const bool resumed = q + kCheckpointSize <= size;
      report(p + problem->offset, problem->what + (resumed ? "; the next sound checkpoint is at offset " + std::to_string(q)
                                                           : "; no sound checkpoint follows"));
      if (!resumed) break;
      p = q;
      prev.reset();
      continue;
    }
    const Checkpoint cp = DecodeCheckpoint(c);
    const size_t findings_before = out.corruption.size();
    if (prev && (prev->number == UINT64_MAX || cp.ref.number != prev->number + 1))
      report(p, "block " + std::to_string(cp.ref.number) + " follows block " + std::to_string(prev->number));
    if (prev && cp.ref.parent_hash != prev->hash)
      report(p, "parent hash of block " + std::to_string(cp.ref.number) + " is not the hash of the block before it");
    if (mode == ScanMode::kStopAtCorruption && !out.corruption.empty()) break;
    if (cp.size() > size - p) {
      out.torn_from = p;
      break;
    }
    SS_ASSIGN_OR_RETURN(const uint8_t* block, reader.View(p, cp.size()));
    problems.clear();
    CheckBody(block, cp, problems);
    for (const Problem& problem : problems) report(p + problem.offset, problem.what);
    if (mode == ScanMode::kStopAtCorruption && !out.corruption.empty()) break;
    if (out.corruption.size() == findings_before) on_block(p, cp);
    prev = cp.ref;
    p += cp.size();
  }
  return out;
}

// ---- The zero tail (docs/event-db-format.md, "Preallocation and the zero tail") ------------

// Where the content of a file of `size` bytes ends. Scans back over at most kMaxZeroTail bytes
// and an entry, never the whole file.
struct ContentBounds {
  uint64_t size = 0;
  uint64_t last = 0;  // one past the last nonzero byte (within reach)
  uint64_t end = 0;   // `last` rounded up to a whole entry, at most `size`: the content end
  std::optional<Problem> problem;  // a zero tail longer than preallocation leaves
  bool zero_tail() const { return end < size && !problem; }
};

Result<ContentBounds> FindContentEnd(File& file, uint64_t size) {
  ContentBounds b{size, size, size, std::nullopt};
  const uint64_t reach = kMaxZeroTail + kEntrySize;
  const uint64_t floor = size > reach ? size - reach : 0;
  static const Bytes zeros(64 << 10, 0);
  Bytes block(zeros.size());
  SS_ASSIGN_OR_RETURN(const uint64_t data_end, file.DataEnd());
  uint64_t last = std::max(floor, std::min(size, data_end));  // the bytes from data_end on are zero
  while (last > floor) {
    const uint64_t n = std::min<uint64_t>(block.size(), last - floor);
    SS_RETURN_IF_ERROR(file.ReadAt(last - n, n, block.data()));
    if (std::memcmp(block.data(), zeros.data(), n) == 0) {
      last -= n;
      continue;
    }
    uint64_t k = n;
    while (block[k - 1] == 0) --k;
    last = last - n + k;
    break;
  }
  b.last = last;
  b.end = std::min(size, (last + kEntrySize - 1) / kEntrySize * kEntrySize);
  if (size - b.end > kMaxZeroTail)
    b.problem = Problem{b.end, "the file ends in " + std::string(last == floor ? "more than " : "") +
                                   std::to_string(size - b.end) + " zero bytes, more than preallocation leaves (" +
                                   std::to_string(kMaxZeroTail) + ")"};
  return b;
}

// A header cut by a crash: a file shorter than the header, or, in a file with a zero tail, an
// unsound header whose nonzero bytes end before the header does (`header` is the first
// kFileHeaderSize bytes when the file has them).
bool TornHeader(const ContentBounds& b, const uint8_t* header) {
  if (b.size < kFileHeaderSize || b.end < kFileHeaderSize) return true;
  return b.zero_tail() && b.last < kFileHeaderSize && CheckFileHeader(header).has_value();
}

// Rules 1 and 2 of "Preallocation and the zero tail": whether the first unsound block, at `p`
// (after `prev`), of content ending at reader.size() with its last nonzero byte before `last`, is
// a write torn in preallocated space. Asked only for a file with a zero tail.
Result<bool> TornInPreallocatedSpace(SequentialReader& reader, uint64_t p, const std::optional<BlockRef>& prev,
                                     uint64_t last) {
  const uint64_t end = reader.size();
  uint64_t extent = std::min<uint64_t>(kCheckpointSize, end - p);  // the checkpoint, or the whole block
  SS_ASSIGN_OR_RETURN(const uint8_t* c, reader.View(p, extent));
  const bool sound_checkpoint = extent == kCheckpointSize && !CheckCheckpoint(c);
  if (sound_checkpoint) {
    const Checkpoint cp = DecodeCheckpoint(c);
    // Zeros do not make a sound checkpoint of another block.
    if (prev && (prev->number == UINT64_MAX || cp.ref.number != prev->number + 1 || cp.ref.parent_hash != prev->hash))
      return false;
    extent = std::min(cp.size(), end - p);
  } else if (extent == kCheckpointSize && c[kCheckpointSize - 1] == 0 && end - p >= kCheckpointSize + kEntrySize) {
    extent += kEntrySize;  // zeros that run on from the checkpoint into the entry after it
  }
  // Rule 1: an all-zero entry of this block within the last kMaxWrite bytes of content.
  uint64_t from = end > kMaxWrite ? end - kMaxWrite : 0;
  from = std::max(p, (from + kEntrySize - 1) / kEntrySize * kEntrySize);
  for (uint64_t e = from; e + kEntrySize <= p + extent; e += kEntrySize) {
    SS_ASSIGN_OR_RETURN(const uint8_t* bytes, reader.View(e, kEntrySize));
    if (AllZero(bytes, kEntrySize)) return true;
  }
  // Rule 2: the block is the last one and ends in zero bytes: judged as ending at its last nonzero
  // byte, it is incomplete (a sound checkpoint whose block runs past, or a partial checkpoint).
  if (last < end && p + extent == end) return sound_checkpoint || last - p < kCheckpointSize;
  return false;
}

// ---- Writing helpers ------------------------------------------------------------------------


Status CheckFollows(const BlockRef& block, const std::optional<BlockRef>& prev) {
  if (!prev) return Status::Ok();
  if (prev->number == UINT64_MAX || block.number != prev->number + 1)
    return Status(Code::kConflictingData, "block " + std::to_string(block.number) + " does not follow block " +
                                              std::to_string(prev->number));
  if (block.parent_hash != prev->hash)
    return Status(Code::kConflictingData, "parent hash of block " + std::to_string(block.number) + " is " +
                                              block.parent_hash.Hex() + ", not the hash of block " +
                                              std::to_string(prev->number) + " " + prev->hash.Hex());
  return Status::Ok();
}

// Reads of the file after open. By default the whole file is read through one read-only shared
// mapping, reserved in 1 GiB steps so that appends rarely remap. With a window, only about the
// newest `window` bytes are mapped (from a page boundary, remapped as the file grows past the
// mapping, shrinks below its start or moves on by a quarter window) and older bytes are read with
// pread, so that lookups add at most about 1.5 windows to the process's resident memory. Pages
// beyond the end of the file are never touched. Cover and SetWindow change the mapping and must
// not run concurrently with reads; Read may run on many threads at once.
class FileReader {
 public:
  FileReader() = default;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  ~FileReader() = default;

  uint64_t window() const { return window_; }

  // The file (opened, checked) now ends at `end`.
  // kIOError if the file cannot be mapped; then nothing is mapped (reads must not run).
  Status Cover(const AppendFile& file, uint64_t end) {
    file_ = &file;
    end_ = end;
    if (window_ == 0) {
      if (mapping_ != nullptr && end <= mapping_->length()) return Status::Ok();
      const uint64_t length = (std::max(end, 2 * (mapping_ ? mapping_->length() : 0)) + kGranule - 1) / kGranule * kGranule;
      return Map(0, length);
    }
    const uint64_t page = PageSize();
    const uint64_t want = (end > window_ ? end - window_ : 0) / page * page;
    const uint64_t step = std::max(window_ / 4 / page * page, page);
    if (mapping_ != nullptr && want >= mapping_->offset() && want - mapping_->offset() < step &&
        end <= mapping_->offset() + mapping_->length())
      return Status::Ok();
    return Map(want, window_ + 2 * step);
  }

  // 0: map the whole file; else about the newest `window` bytes (rounded up to whole pages).
  void SetWindow(uint64_t window) {
    window_ = (window + PageSize() - 1) / PageSize() * PageSize();
    mapping_.reset();
    if (file_ == nullptr) return;
    if (Status s = Cover(*file_, end_); !s.ok()) FatalIOError(file_->path(), "mmap (" + s.message() + ")", EIO);
  }

  // The mapped bytes at `offset`, or nullptr where the offset is before the window.
  const uint8_t* Mapped(uint64_t offset) const {
    return mapping_ != nullptr && offset >= mapping_->offset() ? mapping_->data() + (offset - mapping_->offset())
                                                               : nullptr;
  }

  // The bytes [offset, offset + len) of the file: in the mapping, or read into `scratch` (len bytes).
  const uint8_t* Read(uint64_t offset, size_t len, uint8_t* scratch) const {
    if (const uint8_t* p = Mapped(offset)) return p;
    const Status read = file_->ReadAt(offset, len, scratch);
    if (read.code() == Code::kCorruption)
      SS_CHECK(false, read.message() + ": the file changed after open");
    if (!read.ok()) FatalIOError(file_->path(), "read at offset " + std::to_string(offset) + " (" + read.message() + ")", EIO);
    return scratch;
  }

 private:
  Status Map(uint64_t offset, uint64_t length) {
    mapping_.reset();
    SS_ASSIGN_OR_RETURN(mapping_, file_->raw().Map(offset, length));
    return Status::Ok();
  }

  static uint64_t PageSize() {
    static const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    return page;
  }

  static constexpr uint64_t kGranule = uint64_t{1} << 30;
  const AppendFile* file_ = nullptr;
  uint64_t end_ = 0;
  uint64_t window_ = 0;  // 0: everything
  std::unique_ptr<Mapping> mapping_;
};

// A growable array of trivially copyable T in its own anonymous mapping: it grows with mremap
// (no copy, and no freed old array left on the heap, as a std::vector's doubling leaves), and it
// asks for transparent huge pages, so that random lookups in a large index miss the TLB less.
template <typename T>
class MappedArray {
 public:
  MappedArray() = default;
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  ~MappedArray() {
    if (data_ != nullptr) ::munmap(data_, capacity_ * sizeof(T));
  }
  size_t size() const { return size_; }
  const T& operator[](size_t i) const { return data_[i]; }
  void push_back(const T& v) {
    if (size_ == capacity_) Grow();
    data_[size_++] = v;
  }
  void resize_down(size_t n) { size_ = std::min(size_, n); }

 private:
  void Grow() {
    const size_t bytes = std::max<size_t>(2 * capacity_ * sizeof(T), size_t{64} << 10);
    void* p = data_ == nullptr ? ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                               : ::mremap(data_, capacity_ * sizeof(T), bytes, MREMAP_MAYMOVE);
    SS_CHECK(p != MAP_FAILED, std::string("event DB index: cannot map memory: ") + std::strerror(errno));
    // A hint, for indexes of several huge pages: without it (or without THP) the index works the same.
    if (bytes >= (size_t{4} << 20)) ::madvise(p, bytes, MADV_HUGEPAGE);
    data_ = static_cast<T*>(p);
    capacity_ = bytes / sizeof(T);
  }
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

void Prefetch(const uint8_t* p) {
  if (p != nullptr) __builtin_prefetch(p);
}

}  // namespace

// ---- EventDB --------------------------------------------------------------------------------

struct EventDB::Impl {
  std::unique_ptr<AppendFile> file;
  ChainID chain_id;
  RecoveryReport recovery;
  // Where block first+i starts, how many logs it has and its timestamp when that is below
  // 2^32-1 (else kTimestampInCheckpoint): 16 bytes a block, one cache line a lookup.
  struct IndexEntry {
    uint64_t offset;
    uint32_t log_count;
    uint32_t timestamp;
  };
  static constexpr uint32_t kTimestampInCheckpoint = UINT32_MAX;
  MappedArray<IndexEntry> index;
  std::optional<BlockRef> first, latest;
  uint64_t data_end = kFileHeaderSize;  // end of the latest block
  FileReader reader;                    // covers [0, data_end)
  bool write_failed = false;            // a write failed: no more writes until reopened
  Bytes write_buffer;
  std::vector<size_t> block_ends;  // in write_buffer
  std::vector<Hash> checksums;  // of the logs being appended
  Bytes checksum_scratch;
  std::vector<ByteSpan> checksum_spans;

  Status Recover();
  void AddBlock(uint64_t offset, const Checkpoint& cp) {
    index.push_back({offset, cp.log_count,
                     cp.ref.timestamp < kTimestampInCheckpoint ? static_cast<uint32_t>(cp.ref.timestamp)
                                                               : kTimestampInCheckpoint});
    if (!first) first = cp.ref;
    latest = cp.ref;
    data_end = offset + cp.size();
  }
  Status CheckWritable() const {
    if (write_failed)
      return IOError(file->path().string() + ": a write failed; the event DB takes no more writes until reopened");
    return Status::Ok();
  }
  Status AfterWrite(Status s) {
    if (!s.ok()) write_failed = true;
    return s;
  }
  std::optional<size_t> IndexOf(uint64_t number) const {
    if (!latest || number < first->number || number > latest->number) return std::nullopt;
    return static_cast<size_t>(number - first->number);
  }
  // The sound checkpoint of indexed block `i`.
  Checkpoint CheckpointAt(size_t i) const {
    uint8_t scratch[kCheckpointSize];
    const uint8_t* c = reader.Read(index[i].offset, kCheckpointSize, scratch);
    auto problem = CheckCheckpoint(c);
    SS_CHECK(!problem, file->path().string() + ": checkpoint at offset " + std::to_string(index[i].offset) +
                           " changed after open: " + problem->what);
    Checkpoint cp = DecodeCheckpoint(c);
    SS_CHECK(cp.ref.number == first->number + i && cp.log_count == index[i].log_count,
             file->path().string() + ": checkpoint at offset " + std::to_string(index[i].offset) +
                 " does not match the block index");
    return cp;
  }
  bool TimestampIs(size_t i, uint64_t timestamp) const {
    if (index[i].timestamp != kTimestampInCheckpoint) return index[i].timestamp == timestamp;
    return CheckpointAt(i).ref.timestamp == timestamp;
  }
  // The sound entry `k` (counted from the block's start) of indexed block `i`, of type `type` and
  // naming log `log_index`; `scratch` holds kEntrySize bytes.
  const uint8_t* EntryAt(size_t i, uint64_t k, uint8_t type, uint32_t log_index, uint8_t* scratch) const {
    const uint64_t offset = index[i].offset + k * kEntrySize;
    const uint8_t* e = reader.Read(offset, kEntrySize, scratch);
    SS_CHECK(e[0] == type && GetU32BE(e + kEntryIndex) == log_index,
             file->path().string() + ": " + EntryKind(type) + " entry at offset " + std::to_string(offset) +
                 " changed after open");
    return e;
  }
};

Status EventDB::Impl::Recover() {
  const std::filesystem::path& path = file->path();
  ContentBounds bounds{file->size(), file->size(), file->size(), std::nullopt};
  uint8_t header[kFileHeaderSize] = {};
  if (file->size() >= kFileHeaderSize) {
    SS_ASSIGN_OR_RETURN(bounds, FindContentEnd(file->raw(), file->size()));
    SS_RETURN_IF_ERROR(file->ReadAt(0, kFileHeaderSize, header));
  }
  file->SetContentSize(bounds.end);
  if (TornHeader(bounds, header)) {
    // In a file with a zero tail the torn bytes end at the last nonzero one.
    if (bounds.zero_tail()) file->SetContentSize(bounds.last);
    if (file->size() > 0) {
      SS_ASSIGN_OR_RETURN(recovery.torn_bytes, file->MoveTailToBroken(0));
    }
    SS_RETURN_IF_ERROR(file->Append(EncodeFileHeader(chain_id)));
    bounds = ContentBounds{file->size(), file->size(), file->size(), std::nullopt};
  } else {
    if (auto problem = CheckFileHeader(header)) return CorruptionAt(path, problem->offset, problem->what);
    const ChainID stored = ChainID::FromBytes32(HashAt(header + kHeaderChainID));
    if (stored != chain_id)
      return InvalidArgument(path.string() + " holds chain " + stored.Decimal() + ", not chain " + chain_id.Decimal());
  }
  SequentialReader scan_reader(file->raw(), file->size());
  SS_ASSIGN_OR_RETURN(ScanOutcome scan, ScanBlocks(scan_reader, ScanMode::kStopAtCorruption,
                                                   [this](uint64_t offset, const Checkpoint& cp) { AddBlock(offset, cp); }));
  if (!scan.corruption.empty()) {
    bool torn = false;
    if (bounds.zero_tail()) {
      SS_ASSIGN_OR_RETURN(torn, TornInPreallocatedSpace(scan_reader, *scan.first_bad, scan.before_bad, bounds.last));
    }
    if (!torn) {
      const Finding& f = scan.corruption.front();
      return CorruptionAt(path, f.offset, f.what);
    }
    scan.torn_from = scan.first_bad;
  }
  if (bounds.problem) return CorruptionAt(path, bounds.problem->offset, bounds.problem->what);
  if (scan.torn_from) {
    SS_CHECK(*scan.torn_from == data_end, "torn tail does not start after the last sound block");
    if (bounds.zero_tail()) {
      SS_CHECK(bounds.last > data_end, "a torn tail without a nonzero byte");
      file->SetContentSize(bounds.last);
    }
    SS_ASSIGN_OR_RETURN(const uint64_t moved, file->MoveTailToBroken(*scan.torn_from));
    recovery.torn_bytes += moved;
  }
  SS_CHECK(file->size() == data_end, path.string() + ": recovered size does not match the block index");
  return reader.Cover(*file, data_end);
}

EventDB::EventDB(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventDB::~EventDB() = default;

Result<std::unique_ptr<EventDB>> EventDB::Open(const std::filesystem::path& file, const ChainID& chain_id,
                                               const OpenOptions& options) {
  Env* env = EnvOr(options.env);
  SS_RETURN_IF_ERROR(CreateDirectoriesDurably(env, DirectoryOf(file)));
  SS_ASSIGN_OR_RETURN(auto append_file, AppendFile::Open(env, file, kPreallocChunk, AllocateMode::kWriteZeros));
  auto impl = std::make_unique<Impl>();
  impl->file = std::move(append_file);
  impl->chain_id = chain_id;
  SS_RETURN_IF_ERROR(impl->Recover());
  return std::unique_ptr<EventDB>(new EventDB(std::move(impl)));
}

const ChainID& EventDB::chain_id() const { return impl_->chain_id; }
const RecoveryReport& EventDB::recovery() const { return impl_->recovery; }

Status EventDB::Append(const BlockRecord& block) { return AppendBatch(std::span(&block, 1)); }

Status EventDB::AppendBatch(std::span<const BlockRecord> blocks) {
  Impl& d = *impl_;
  SS_RETURN_IF_ERROR(d.CheckWritable());
  std::optional<BlockRef> prev = d.latest;
  for (const BlockRecord& b : blocks) {
    SS_RETURN_IF_ERROR(CheckFollows(b.ref, prev));
    if (b.logs.size() > UINT32_MAX)
      return InvalidArgument("block " + std::to_string(b.ref.number) + " has more than 2^32-1 logs");
    prev = b.ref;
  }
  if (blocks.empty()) return Status::Ok();
  ComputeChecksums(blocks, d.chain_id, d.checksums, d.checksum_scratch, d.checksum_spans);
  d.write_buffer.clear();
  d.block_ends.clear();
  const Hash* checksums = d.checksums.data();
  for (const BlockRecord& b : blocks) {
    EncodeBlock(b, checksums, d.write_buffer);
    checksums += b.logs.size();
    d.block_ends.push_back(d.write_buffer.size());
  }
  SS_CHECK(d.file->size() == d.data_end, "event DB file size drifted from the block index");
  // Whole blocks, at most kMaxWrite bytes a write and fdatasync (what bounds where a torn write's
  // zeros can be); a larger block alone, in pieces of kMaxWrite bytes.
  const Bytes& bytes = d.write_buffer;
  for (size_t start = 0, next = 0; start < bytes.size();) {
    size_t stop = start;
    while (next < d.block_ends.size() && d.block_ends[next] - start <= kMaxWrite) stop = d.block_ends[next++];
    if (stop == start) {
      stop = std::min<size_t>(start + kMaxWrite, d.block_ends[next]);
      if (stop == d.block_ends[next]) ++next;
    }
    SS_RETURN_IF_ERROR(d.AfterWrite(d.file->Append(ByteSpan(bytes.data() + start, stop - start))));
    start = stop;
  }
  const uint64_t batch_start = d.data_end;
  uint64_t offset = batch_start;
  for (const BlockRecord& b : blocks) {
    const Checkpoint cp = DecodeCheckpoint(d.write_buffer.data() + (offset - batch_start));
    SS_CHECK(cp.ref == b.ref, "encoded checkpoint does not match the appended block");
    d.AddBlock(offset, cp);
    offset += cp.size();
  }
  SS_CHECK(d.file->size() == d.data_end, "event DB append wrote an unexpected number of bytes");
  return d.AfterWrite(d.reader.Cover(*d.file, d.data_end));
}

Status EventDB::RewindTo(uint64_t number) {
  Impl& d = *impl_;
  SS_RETURN_IF_ERROR(d.CheckWritable());
  if (!d.latest || number >= d.latest->number) return Status::Ok();
  if (number < d.first->number)
    return InvalidArgument("cannot rewind " + d.file->path().string() + " to block " + std::to_string(number) +
                           ", below its first block " + std::to_string(d.first->number));
  const size_t keep = static_cast<size_t>(number - d.first->number) + 1;
  SS_RETURN_IF_ERROR(d.AfterWrite(d.file->Truncate(d.index[keep].offset)));
  d.data_end = d.index[keep].offset;
  d.index.resize_down(keep);
  SS_RETURN_IF_ERROR(d.AfterWrite(d.reader.Cover(*d.file, d.data_end)));
  d.latest = d.CheckpointAt(keep - 1).ref;
  return Status::Ok();
}

Status EventDB::Clear() {
  Impl& d = *impl_;
  SS_RETURN_IF_ERROR(d.CheckWritable());
  SS_RETURN_IF_ERROR(d.AfterWrite(d.file->Truncate(kFileHeaderSize)));
  d.data_end = kFileHeaderSize;
  d.index.resize_down(0);
  SS_RETURN_IF_ERROR(d.AfterWrite(d.reader.Cover(*d.file, d.data_end)));
  d.first.reset();
  d.latest.reset();
  return Status::Ok();
}

void EventDB::SetMappedWindow(uint64_t bytes) { impl_->reader.SetWindow(bytes); }
uint64_t EventDB::mapped_window() const { return impl_->reader.window(); }

std::optional<BlockRef> EventDB::First() const { return impl_->first; }
std::optional<BlockRef> EventDB::Latest() const { return impl_->latest; }

Result<BlockRef> EventDB::Block(uint64_t number) const {
  auto i = impl_->IndexOf(number);
  if (!i) return NotFound("block " + std::to_string(number) + " is not in " + impl_->file->path().string());
  return impl_->CheckpointAt(*i).ref;
}

Result<std::vector<LogRecord>> EventDB::Logs(uint64_t number) const {
  const Impl& d = *impl_;
  auto i = d.IndexOf(number);
  if (!i) return NotFound("block " + std::to_string(number) + " is not in " + d.file->path().string());
  const Checkpoint cp = d.CheckpointAt(*i);
  Bytes scratch;
  if (d.reader.Mapped(d.index[*i].offset) == nullptr) scratch.resize(cp.size());
  const uint8_t* block = d.reader.Read(d.index[*i].offset, cp.size(), scratch.data());
  std::vector<Problem> problems;
  CheckBody(block, cp, problems);
  SS_CHECK(problems.empty(), d.file->path().string() + ": block at offset " + std::to_string(d.index[*i].offset) +
                                 " changed after open: " + problems.front().what);
  return DecodeLogs(block, cp);
}

Result<uint32_t> EventDB::LogCount(uint64_t number) const {
  auto i = impl_->IndexOf(number);
  if (!i) return NotFound("block " + std::to_string(number) + " is not in " + impl_->file->path().string());
  return impl_->index[*i].log_count;
}

Presence EventDB::Contains(uint64_t number, uint32_t log_index, const Hash& log_hash, BlockRef* block) const {
  const Impl& d = *impl_;
  auto i = d.IndexOf(number);
  if (!i) return Presence::kUnknown;
  const Impl::IndexEntry& entry = d.index[*i];
  const bool has_log = log_index < entry.log_count;
  const uint64_t k = LogEntryAt(log_index);
  if (has_log) Prefetch(d.reader.Mapped(entry.offset + k * kEntrySize));  // overlaps with the checkpoint
  if (block != nullptr) *block = d.CheckpointAt(*i).ref;
  if (!has_log) return Presence::kConflicts;
  uint8_t scratch[kEntrySize];
  const uint8_t* e = d.EntryAt(*i, k, kTypeLog, log_index, scratch);
  return std::equal(log_hash.bytes.begin(), log_hash.bytes.end(), e + kEntryHash) ? Presence::kFound
                                                                                  : Presence::kConflicts;
}

Presence EventDB::ContainsChecksum(uint64_t number, uint32_t log_index, uint64_t timestamp, const Hash& checksum,
                                   BlockRef* block) const {
  const Impl& d = *impl_;
  auto i = d.IndexOf(number);
  if (!i) return Presence::kUnknown;
  const Impl::IndexEntry& entry = d.index[*i];
  const bool has_log = log_index < entry.log_count;
  const uint64_t k = ChecksumEntryAt(entry.log_count, log_index);
  if (has_log) Prefetch(d.reader.Mapped(entry.offset + k * kEntrySize));
  if (block != nullptr) *block = d.CheckpointAt(*i).ref;
  if (!has_log) return Presence::kConflicts;
  uint8_t scratch[kEntrySize];
  if (!d.TimestampIs(*i, timestamp)) {
    // Not the block's own timestamp, so not the stored checksum: compute the one asked about.
    const uint8_t* log = d.EntryAt(*i, LogEntryAt(log_index), kTypeLog, log_index, scratch);
    return AccessChecksum(HashAt(log + kEntryHash), d.chain_id, number, timestamp, log_index) == checksum
               ? Presence::kFound
               : Presence::kConflicts;
  }
  const uint8_t* e = d.EntryAt(*i, k, kTypeChecksum, log_index, scratch);
  return std::equal(checksum.bytes.begin(), checksum.bytes.end(), e + kEntryHash) ? Presence::kFound
                                                                                  : Presence::kConflicts;
}

std::vector<Finding> VerifyEventDB(Env* env, const std::filesystem::path& file) {
  Result<Env::Opened> opened = env->Open(file, Env::OpenMode::kReadOnly);
  if (!opened.ok()) return {Finding{file, 0, "cannot open: " + opened.status().ToString()}};
  File& f = *opened->file;
  Result<uint64_t> file_size = f.Size();
  if (!file_size.ok()) return {Finding{file, 0, "cannot stat: " + file_size.status().ToString()}};
  const uint64_t size = *file_size;
  if (size == 0) return {};
  if (size < kFileHeaderSize) return {Finding{file, 0, "torn file header: " + std::to_string(size) + " bytes"}};

  std::vector<Finding> findings;
  uint8_t header[kFileHeaderSize];
  if (Status read = f.ReadAt(0, kFileHeaderSize, header); !read.ok()) return {Finding{file, 0, read.ToString()}};
  // As Open judges the end: the zero tail is no finding, a torn write one finding for all of it.
  Result<ContentBounds> bounds = FindContentEnd(f, size);
  if (!bounds.ok()) return {Finding{file, 0, bounds.status().ToString()}};
  if (TornHeader(*bounds, header))
    return {Finding{file, 0, "torn file header: " + std::to_string(bounds->zero_tail() ? bounds->last : bounds->end) +
                                 " bytes"}};
  if (auto problem = CheckFileHeader(header)) findings.push_back(Finding{file, problem->offset, problem->what});
  SequentialReader reader(f, bounds->end);
  Result<ScanOutcome> scan = ScanBlocks(reader, ScanMode::kReportAll, [](uint64_t, const Checkpoint&) {});
  // A torn write is the first bad block on (what Open recovers), else maybe the last bad block on.
  for (int i = 0; i < 2 && scan.ok() && !scan->corruption.empty() && bounds->zero_tail(); ++i) {
    const uint64_t p = i == 0 ? *scan->first_bad : *scan->last_bad;
    if (i == 1 && p == *scan->first_bad) break;
    Result<bool> torn = TornInPreallocatedSpace(reader, p, i == 0 ? scan->before_bad : scan->before_last_bad,
                                                bounds->last);
    if (!torn.ok()) scan = torn.status();
    if (scan.ok() && *torn) {
      std::erase_if(scan->corruption, [p](const Finding& f) { return f.offset >= p; });
      scan->torn_from = p;
      break;
    }
  }
  if (!scan.ok()) {
    findings.push_back(Finding{file, 0, scan.status().ToString()});
    return findings;
  }
  findings.insert(findings.end(), scan->corruption.begin(), scan->corruption.end());
  if (bounds->problem) {
    findings.push_back(Finding{file, bounds->problem->offset, bounds->problem->what});
  } else if (scan->torn_from) {
    const uint64_t torn_end = bounds->zero_tail() ? bounds->last : size;
    findings.push_back(Finding{file, *scan->torn_from,
                               "torn tail: " + std::to_string(torn_end - *scan->torn_from) +
                                   " bytes of an incomplete block (recovery moves them to " +
                                   file.filename().string() + ".broken)"});
  }
  return findings;
}

Result<uint64_t> EventDBContentSize(Env* env, const std::filesystem::path& file) {
  SS_ASSIGN_OR_RETURN(Env::Opened opened, env->Open(file, Env::OpenMode::kReadOnly));
  SS_ASSIGN_OR_RETURN(const uint64_t size, opened.file->Size());
  SS_ASSIGN_OR_RETURN(const ContentBounds bounds, FindContentEnd(*opened.file, size));
  return bounds.end;
}

}  // namespace supersafe::db
