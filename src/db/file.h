// AppendFile: the one place where the databases touch the disk.
//
// An append-only file with durable appends and truncation. Every Append and Truncate returns only
// after fdatasync; an fsync failure is fatal (the process stops with a message naming the file,
// it never retries and continues). Reads use pread and never change the file.
//
// Preallocated mode (Open with `prealloc_chunk` > 0, used by the super-safe-db and the event-log DBs): the file is opened
// without O_APPEND and grows in steps of whole chunks (a size-extending fallocate, then fsync), so an
// append's fdatasync need not commit a new file size. The file is then [content][zero bytes];
// size() is the end of the content, which the owner, who can tell content from zeros, sets with
// SetContentSize after Open (Open sets it to the file size). Appends write with pwrite at size().
// Truncate and MoveTailToBroken cut the file itself, so no stale bytes stay past the content. On a
// file system without fallocate the file just grows by its writes. With PreallocMode::kWriteZeros
// (the event-log DBs) a chunk is written as zeros instead (then fsync): ext4 keeps fallocated
// space as unwritten extents, and the first write into each block must convert its extent, a
// metadata change that the append's fdatasync then commits; written zeros need no conversion.
//
// Simulated crashes: a CrashSwitch shared with the simulator can be armed so that the next Append
// writes only its first `torn_bytes` bytes and then fails with kIOError ("simulated crash"). After
// that the handle is dead: every further call fails, and the owner must reopen the file (recovery).
#pragma once

#include <deque>
#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"
#include "core/types.h"

namespace supersafe::db {

// Armed crashes, fired in order on successive appends. Shared by every file opened with it.
class CrashSwitch {
 public:
  void Arm(size_t torn_bytes) { armed_.push_back(torn_bytes); }
  bool armed() const { return !armed_.empty(); }
  // Pops the next armed crash, clamped to 1..length-1 (length >= 2).
  std::optional<size_t> Take(size_t length);

 private:
  std::deque<size_t> armed_;
};

[[noreturn]] void FatalIOError(const std::filesystem::path& file, const std::string& what, int err);

// fsyncs a directory, so that a file created in it survives a crash (fatal if the fsync fails).
Status SyncDirectory(const std::filesystem::path& dir);
// The directory that holds `path` ("." for a bare name).
std::filesystem::path DirectoryOf(const std::filesystem::path& path);
// Creates `dir` and its missing ancestors, syncing the parent of each one it creates, so that the
// new directories survive a crash. IOError naming the directory if one cannot be created.
Status CreateDirectoriesDurably(const std::filesystem::path& dir);
// How many times SyncDirectory ran in this process (for tests).
uint64_t DirectorySyncCount();

enum class PreallocMode : uint8_t { kFallocate, kWriteZeros };

class AppendFile {
 public:
  // Opens (creating if absent) `path` for reading and appending. `crash` may be null. A file it
  // creates has its directory synced before Open returns.
  static Result<std::unique_ptr<AppendFile>> Open(const std::filesystem::path& path, CrashSwitch* crash = nullptr,
                                                  uint64_t prealloc_chunk = 0,
                                                  PreallocMode mode = PreallocMode::kFallocate);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  uint64_t size() const { return size_; }
  // The file's size on disk: size() plus the preallocated zero bytes.
  uint64_t allocated() const { return allocated_; }
  // Preallocated mode only: the content ends at `size` (<= allocated()); the bytes after it must be zero.
  void SetContentSize(uint64_t size);
  int fd() const { return fd_; }
  bool dead() const { return dead_; }

  // Reads exactly `len` bytes at `offset`; kCorruption naming the offset if the file is shorter.
  Status ReadAt(uint64_t offset, size_t len, uint8_t* out) const;
  // Appends all of `data` with one write, then fdatasync. Durable when it returns OK.
  Status Append(ByteSpan data);
  // Appends without syncing; the bytes are durable only after Sync().
  Status AppendNoSync(ByteSpan data);
  void Sync();
  // Cuts the file to `new_size` (<= size), dropping any preallocated bytes, and syncs.
  Status Truncate(uint64_t new_size);

  // Torn-tail recovery: copies the bytes from `offset` to the end into `<path>.broken` (appending,
  // synced), then truncates the file to `offset`. Returns the number of bytes moved.
  Result<uint64_t> MoveTailToBroken(uint64_t offset);

 private:
  AppendFile(std::filesystem::path path, int fd, uint64_t size, CrashSwitch* crash, uint64_t chunk, PreallocMode mode)
      : path_(std::move(path)), fd_(fd), size_(size), allocated_(size), crash_(crash), chunk_(chunk), mode_(mode) {}
  Status CheckAlive() const;
  // Preallocated mode: makes the file longer than `end` bytes (whole chunks), synced.
  void Reserve(uint64_t end);

  std::filesystem::path path_;
  int fd_;
  uint64_t size_;
  uint64_t allocated_;
  CrashSwitch* crash_;
  uint64_t chunk_;
  PreallocMode mode_;
  bool dead_ = false;
};

}  // namespace supersafe::db
