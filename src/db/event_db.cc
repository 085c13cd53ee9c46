// The event-log DB: open (with recovery), append, rewind, lookups (docs/event-db-format.md).
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
#include "db/event_db_internal.h"

namespace supersafe::db {

using namespace event_db_internal;

namespace {

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
  std::vector<uint64_t> exec_blocks;      // numbers of the blocks with executing messages, ascending
  std::vector<uint64_t> timestamp_drops;  // numbers of the blocks whose timestamp is below the parent's
  uint64_t removals = 0;
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
    if (cp.exec_count > 0) exec_blocks.push_back(cp.ref.number);
    if (latest && cp.ref.timestamp < latest->timestamp) timestamp_drops.push_back(cp.ref.number);
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
  uint64_t TimestampAt(size_t i) const {
    return index[i].timestamp != kTimestampInCheckpoint ? index[i].timestamp : CheckpointAt(i).ref.timestamp;
  }
  // Forgets what the index says about the blocks above `number` (after a rewind or Clear).
  void ForgetAbove(std::optional<uint64_t> number) {
    auto cut = [&](std::vector<uint64_t>& v) {
      v.erase(number ? std::upper_bound(v.begin(), v.end(), *number) : v.begin(), v.end());
    };
    cut(exec_blocks);
    cut(timestamp_drops);
    ++removals;
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
    const Bytes encoded = EncodeFileHeader(chain_id);
    SS_CHECK(file->size() == 0 && !CheckFileHeader(encoded.data()), "the file header about to be written to " +
                                                                         path.string() + " does not read back");
    SS_RETURN_IF_ERROR(file->Append(encoded));
    SS_CHECK(file->size() == kFileHeaderSize, "writing the file header left " + path.string() + " at the wrong size");
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
  // Before the writes (EncodeBlock has checked that every block reads back as sound): they go at
  // the end of the content, where the block index says, and the batch's first block follows the
  // latest one.
  SS_CHECK(d.file->size() == d.data_end, "event DB file size drifted from the block index");
  SS_CHECK(CheckFollows(DecodeCheckpoint(d.write_buffer.data()).ref, d.latest).ok(),
           "the first block about to be written to " + d.file->path().string() + " does not follow the latest one");
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
    SS_CHECK(stop > start && stop - start <= kMaxWrite, "an event DB write of the wrong size");
    SS_RETURN_IF_ERROR(d.AfterWrite(d.file->Append(ByteSpan(bytes.data() + start, stop - start))));
    // After it: written and synced, the content ends where this write does.
    SS_CHECK(d.file->size() == d.data_end + stop, "a write left " + d.file->path().string() + " at the wrong size");
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
  // Before the cut: it falls where block number + 1 starts, after block `number`'s end.
  SS_CHECK(d.index[keep].offset == d.index[keep - 1].offset + d.CheckpointAt(keep - 1).size() &&
               d.index[keep].offset < d.data_end && d.file->size() == d.data_end,
           "a rewind of " + d.file->path().string() + " that does not cut after block " + std::to_string(number));
  SS_RETURN_IF_ERROR(d.AfterWrite(d.file->Truncate(d.index[keep].offset)));
  SS_CHECK(d.file->size() == d.index[keep].offset, "a rewind left " + d.file->path().string() + " at the wrong size");
  d.data_end = d.index[keep].offset;
  d.index.resize_down(keep);
  SS_RETURN_IF_ERROR(d.AfterWrite(d.reader.Cover(*d.file, d.data_end)));
  d.latest = d.CheckpointAt(keep - 1).ref;
  d.ForgetAbove(number);
  return Status::Ok();
}

Status EventDB::Clear() {
  Impl& d = *impl_;
  SS_RETURN_IF_ERROR(d.CheckWritable());
  SS_CHECK(d.file->size() == d.data_end, "event DB file size drifted from the block index");
  SS_RETURN_IF_ERROR(d.AfterWrite(d.file->Truncate(kFileHeaderSize)));
  SS_CHECK(d.file->size() == kFileHeaderSize, "clearing left " + d.file->path().string() + " at the wrong size");
  d.data_end = kFileHeaderSize;
  d.index.resize_down(0);
  SS_RETURN_IF_ERROR(d.AfterWrite(d.reader.Cover(*d.file, d.data_end)));
  d.first.reset();
  d.latest.reset();
  d.ForgetAbove(std::nullopt);
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

std::optional<uint64_t> EventDB::NextWithExecutingMessages(uint64_t number) const {
  const std::vector<uint64_t>& v = impl_->exec_blocks;
  auto it = std::lower_bound(v.begin(), v.end(), number);
  if (it == v.end()) return std::nullopt;
  return *it;
}

std::vector<uint64_t> EventDB::BlocksWithTimestamp(uint64_t timestamp, uint64_t from, uint64_t to) const {
  const Impl& d = *impl_;
  std::vector<uint64_t> found;
  if (!d.latest || from > to || to < d.first->number || from > d.latest->number) return found;
  const size_t lo = d.IndexOf(std::max(from, d.first->number)).value();
  const size_t hi = d.IndexOf(std::min(to, d.latest->number)).value();
  const uint64_t base = d.first->number;
  // A drop inside (lo, hi] means the timestamps of the range are not in order: look at every block.
  auto drop = std::upper_bound(d.timestamp_drops.begin(), d.timestamp_drops.end(), base + lo);
  size_t i = lo;
  if (drop == d.timestamp_drops.end() || *drop > base + hi) {
    size_t count = hi - lo + 1;
    while (count > 0) {  // the first block of the range whose timestamp is not below `timestamp`
      const size_t half = count / 2;
      if (d.TimestampAt(i + half) < timestamp) {
        i += half + 1;
        count -= half + 1;
      } else {
        count = half;
      }
    }
    for (; i <= hi && d.TimestampAt(i) == timestamp; ++i) found.push_back(base + i);
    return found;
  }
  for (; i <= hi; ++i)
    if (d.TimestampAt(i) == timestamp) found.push_back(base + i);
  return found;
}

uint64_t EventDB::removals() const { return impl_->removals; }

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

}  // namespace supersafe::db
