// MemEnv: an Env whose files live in this process's memory (after LevelDB's memenv), for the
// simulator, the fuzzer and tests. Every write is "on disk" at once; durability, crashes and
// storage faults are modelled by a layer above it (sim/fault_disk.h), never here.
//
// A file's bytes sit in one reserved, lazily backed region of address space that never moves, so a
// Mapping is a pointer into it and sees every later write; a file may grow to kMaxFileSize (a write
// past it is kIOError). Pages are backed ahead of writes, several at a time, and the zeroed region of
// a removed file goes to the next file this process creates (a process-wide pool holding at most
// 256 MiB of backed memory), so that repeated runs and fuzz cases do not fault their pages in again. Preallocation (File::Allocate) only extends the size: the new bytes are zero
// and cost nothing, and File::DataEnd says where the written bytes end, so a scan for the end of
// the content skips the zero tail.
//
// Paths are taken as given (no symlinks, no "..": the databases never make such paths); the
// parent of a top-level path ("/x" or "x") always exists. Not thread-safe: one MemEnv per thread.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "db/env.h"

namespace supersafe::db {

class MemEnv final : public Env {
 public:
  static constexpr uint64_t kMaxFileSize = uint64_t{16} << 30;

  MemEnv();
  ~MemEnv() override;

  Result<Opened> Open(const std::filesystem::path& path, OpenMode mode) override;
  Result<FileType> TypeOf(const std::filesystem::path& path) override;
  Status CreateDir(const std::filesystem::path& dir) override;
  Status SyncDir(const std::filesystem::path& dir) override;
  Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status Remove(const std::filesystem::path& path) override;
  Status RemoveDir(const std::filesystem::path& dir) override;
  Result<std::vector<std::string>> List(const std::filesystem::path& dir) override;

  struct Node;

 private:
  bool ParentExists(const std::filesystem::path& path) const;
  std::map<std::string, std::shared_ptr<Node>> files_;
  std::set<std::string> dirs_;
};

}  // namespace supersafe::db
