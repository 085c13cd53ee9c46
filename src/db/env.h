// Env: the one seam between the databases and the disk (after LevelDB's Env).
//
// Every file and directory operation of src/db, `supersafe db verify/dump` and the simulator's
// checks goes through an Env. Env::Posix() is the real file system; MemEnv (db/mem_env.h) keeps
// files in memory; the simulator wraps either in a disk that injects storage faults drawn from its
// seed (sim/fault_disk.h). No file syscall is made outside the POSIX implementation.
//
// Errors are values: kIOError naming the path and what failed, kNotFound for a missing file or
// directory where the call needs one. What a caller must do after an error is its own contract
// (AppendFile, db/file.h, treats a failed write or sync as the end of the handle).
//
// Thread-compatibility: an Env may be used from several threads; one File handle by one thread at
// a time (its const reads through a Mapping may run concurrently).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"

namespace supersafe::db {

enum class FileType : uint8_t { kNone, kRegular, kDirectory, kOther };

// A read-only view of bytes [offset(), offset() + length()) of a file, for lookups that read the
// file as memory. The view stays valid while it lives and shows every write to the file made
// through the Env within its range; bytes past the end of the file must not be read. A file may
// not be truncated below a live view's offset().
class Mapping {
 public:
  virtual ~Mapping() = default;
  const uint8_t* data() const { return data_; }
  uint64_t offset() const { return offset_; }
  uint64_t length() const { return length_; }

 protected:
  Mapping(const uint8_t* data, uint64_t offset, uint64_t length) : data_(data), offset_(offset), length_(length) {}

 private:
  const uint8_t* data_;
  uint64_t offset_;
  uint64_t length_;
};

// How File::Allocate makes room: fallocate (unwritten extents), or zeros written (see db/file.h).
enum class AllocateMode : uint8_t { kReserve, kWriteZeros };

// An open file. Offsets and sizes are in bytes.
class File {
 public:
  virtual ~File() = default;
  const std::filesystem::path& path() const { return path_; }

  // The file's size now.
  virtual Result<uint64_t> Size() = 0;
  // Reads exactly `len` bytes at `offset`: kCorruption naming the offset if the file ends first,
  // kIOError on a read error.
  virtual Status ReadAt(uint64_t offset, size_t len, uint8_t* out) = 0;
  // Writes all of `data` at `offset`, growing the file as needed (pwrite). kIOError on failure
  // (no space, a device error); an unknown part of the data may then have been written.
  virtual Status WriteAt(uint64_t offset, ByteSpan data) = 0;
  // fdatasync: the file's data (and the size that reads need) is durable when it returns OK.
  // kIOError on failure: the data written since the last successful Sync may be lost, and a later
  // Sync succeeding says nothing about it (the caller must never retry and trust it).
  virtual Status Sync() = 0;
  // Cuts or extends (with zeros) the file to `size`. Not durable until Sync.
  virtual Status Truncate(uint64_t size) = 0;
  // Makes the file at least `end` bytes long, the new bytes zero, the way `mode` says. Returns
  // false (and changes nothing) where the file system cannot preallocate; the file then grows by
  // its writes. Not durable until Sync.
  virtual Result<bool> Allocate(uint64_t end, AllocateMode mode) = 0;
  // A view of [offset, offset + length); `offset` is a multiple of the page size. `length` may
  // reach past the end of the file (room to grow into).
  virtual Result<std::unique_ptr<Mapping>> Map(uint64_t offset, uint64_t length) = 0;
  // A bound on the file's data: every byte at or past it (up to the size) is zero. A scan for the
  // end of the content (the preallocated zero tail) may start there. The size by default.
  virtual Result<uint64_t> DataEnd() { return Size(); }

 protected:
  explicit File(std::filesystem::path path) : path_(std::move(path)) {}

 private:
  std::filesystem::path path_;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX file system. A failed fdatasync stops the process there (an fsync error
  // is fatal: the page cache may have dropped the data, and nothing may be acknowledged after it).
  static Env* Posix();

  enum class OpenMode : uint8_t {
    kReadOnly,   // kNotFound if missing; writes fail
    kReadWrite,  // kNotFound if missing
    kCreate,     // read-write, created if missing (then `created` is set)
  };
  struct Opened {
    std::unique_ptr<File> file;
    bool created = false;
  };
  // Opens a regular file (kIOError for a directory or anything else). A file it creates is not
  // durable until its directory is synced (SyncDir).
  virtual Result<Opened> Open(const std::filesystem::path& path, OpenMode mode) = 0;
  // What is at `path`: kNone if nothing.
  virtual Result<FileType> TypeOf(const std::filesystem::path& path) = 0;
  // Creates one directory (its parent must exist); OK if it is a directory already. Not durable
  // until its parent is synced.
  virtual Status CreateDir(const std::filesystem::path& dir) = 0;
  // Makes the entries of `dir` (created, removed, renamed files and directories) durable.
  virtual Status SyncDir(const std::filesystem::path& dir) = 0;
  // Renames a file, replacing `to` if it exists. Not durable until the directories are synced.
  virtual Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // Removes a file. Not durable until its directory is synced.
  virtual Status Remove(const std::filesystem::path& path) = 0;
  // Removes an empty directory. Not durable until its parent is synced.
  virtual Status RemoveDir(const std::filesystem::path& dir) = 0;
  // The names in `dir`, sorted.
  virtual Result<std::vector<std::string>> List(const std::filesystem::path& dir) = 0;
};

// The Env to use: `env` if set, else Env::Posix().
inline Env* EnvOr(Env* env) { return env != nullptr ? env : Env::Posix(); }

// Reads a whole file. kNotFound if it does not exist.
Result<Bytes> ReadWholeFile(Env* env, const std::filesystem::path& path);

// `path.lexically_normal().string()`, without building the normal form when `path` already is
// one (no empty, "." or ".." component, no trailing separator): the key under which in-memory
// file systems and the simulated disk keep a file.
std::string PathKey(const std::filesystem::path& path);

}  // namespace supersafe::db
