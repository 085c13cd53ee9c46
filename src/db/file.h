// AppendFile: an append-only file with durable appends and truncation, on an Env (db/env.h).
//
// Every Append and Truncate returns only after File::Sync. Any failed write, truncation or sync
// ends the handle: it returns kIOError naming the file, and every later call fails the same way
// ("dead"), so nothing written after the failure is ever acknowledged; the owner must reopen the
// file (recovery). A failed sync is never retried (Env::Posix() stops the process on it). Reads
// never change the file.
//
// Preallocated mode (Open with `prealloc_chunk` > 0, used by the super-safe-db and the event-log
// DBs): the file grows in steps of whole chunks (File::Allocate, then Sync), so an append's sync
// need not commit a new file size. The file is then [content][zero bytes]; size() is the end of
// the content, which the owner, who can tell content from zeros, sets with SetContentSize after
// Open (Open sets it to the file size). Appends write at size(). Truncate and MoveTailToBroken cut
// the file itself, so no stale bytes stay past the content. Where the Env cannot preallocate
// (Allocate returns false) the file just grows by its writes. With AllocateMode::kWriteZeros (the
// event-log DBs) a chunk is written as zeros instead: ext4 keeps fallocated space as unwritten
// extents, and the first write into each block must convert its extent, a metadata change that
// the append's sync then commits; written zeros need no conversion.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"
#include "core/types.h"
#include "db/env.h"

namespace supersafe::db {

[[noreturn]] void FatalIOError(const std::filesystem::path& file, const std::string& what, int err);

// Syncs a directory, so that entries created in it survive a crash.
Status SyncDirectory(Env* env, const std::filesystem::path& dir);
// The directory that holds `path` ("." for a bare name).
std::filesystem::path DirectoryOf(const std::filesystem::path& path);
// Creates `dir` and its missing ancestors, syncing the parent of each one it creates, so that the
// new directories survive a crash. kIOError naming the directory if one cannot be created.
Status CreateDirectoriesDurably(Env* env, const std::filesystem::path& dir);
// How many times SyncDirectory ran in this process (for tests).
uint64_t DirectorySyncCount();

class AppendFile {
 public:
  // Opens (creating if absent) `path` for reading and appending. The file and its directory are
  // synced before Open returns: a process that crashed may have left written but unsynced bytes
  // (or an unsynced directory entry) behind, and nothing may be answered from them until they are
  // durable. A failed sync is an error (the handle is not returned).
  static Result<std::unique_ptr<AppendFile>> Open(Env* env, const std::filesystem::path& path,
                                                  uint64_t prealloc_chunk = 0,
                                                  AllocateMode mode = AllocateMode::kReserve);
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  const std::filesystem::path& path() const { return file_->path(); }
  Env* env() const { return env_; }
  // The underlying file, for mapped reads (File::Map) and ReadAt.
  File& raw() const { return *file_; }
  uint64_t size() const { return size_; }
  // The file's size on disk: size() plus the preallocated zero bytes.
  uint64_t allocated() const { return allocated_; }
  // Preallocated mode only: the content ends at `size` (<= allocated()); the bytes after it must be zero.
  void SetContentSize(uint64_t size);
  // True after a failed write, truncation or sync: every further call fails.
  bool dead() const { return dead_; }
  // kIOError when dead(), naming the file.
  Status CheckAlive() const;

  // Reads exactly `len` bytes at `offset`; kCorruption naming the offset if the file is shorter.
  Status ReadAt(uint64_t offset, size_t len, uint8_t* out) const;
  // Appends all of `data` with one write, then syncs. Durable when it returns OK.
  Status Append(ByteSpan data);
  // Cuts the file to `new_size` (<= size), dropping any preallocated bytes, and syncs.
  Status Truncate(uint64_t new_size);

  // Torn-tail recovery: copies the bytes from `offset` to the end into `<path>.broken` (appending,
  // synced, its directory synced if it was created), then truncates the file to `offset`.
  // Returns the number of bytes moved.
  Result<uint64_t> MoveTailToBroken(uint64_t offset);

 private:
  AppendFile(Env* env, std::unique_ptr<File> file, uint64_t size, uint64_t chunk, AllocateMode mode)
      : env_(env), file_(std::move(file)), size_(size), allocated_(size), chunk_(chunk), mode_(mode) {}
  // Marks the handle dead and returns `s` with the file named.
  Status Fail(Status s);
  // Preallocated mode: makes the file longer than `end` bytes (whole chunks), synced.
  Status Reserve(uint64_t end);

  Env* env_;
  std::unique_ptr<File> file_;
  uint64_t size_;
  uint64_t allocated_;
  uint64_t chunk_;
  AllocateMode mode_;
  bool prealloc_works_ = true;
  bool dead_ = false;
};

}  // namespace supersafe::db
