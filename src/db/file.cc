#include "db/file.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/check.h"

namespace supersafe::db {

void FatalIOError(const std::filesystem::path& file, const std::string& what, int err) {
  std::fprintf(stderr, "supersafe: fatal: %s failed on %s: %s\n", what.c_str(), file.c_str(), std::strerror(err));
  std::fflush(stderr);
  std::abort();
}

namespace {
std::atomic<uint64_t> directory_syncs{0};
}  // namespace

Status SyncDirectory(Env* env, const std::filesystem::path& dir) {
  SS_RETURN_IF_ERROR(env->SyncDir(dir));
  directory_syncs.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

std::filesystem::path DirectoryOf(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

Status CreateDirectoriesDurably(Env* env, const std::filesystem::path& dir) {
  if (dir.empty()) return Status::Ok();
  SS_ASSIGN_OR_RETURN(const FileType type, env->TypeOf(dir));
  if (type == FileType::kDirectory) return Status::Ok();
  const std::filesystem::path parent = DirectoryOf(dir);
  if (parent != dir && env->TypeOf(parent).value_or(FileType::kNone) == FileType::kNone)
    SS_RETURN_IF_ERROR(CreateDirectoriesDurably(env, parent));
  SS_RETURN_IF_ERROR(env->CreateDir(dir));
  return SyncDirectory(env, parent);
}

uint64_t DirectorySyncCount() { return directory_syncs.load(std::memory_order_relaxed); }

Result<std::unique_ptr<AppendFile>> AppendFile::Open(Env* env, const std::filesystem::path& path,
                                                     uint64_t prealloc_chunk, AllocateMode mode) {
  SS_ASSIGN_OR_RETURN(Env::Opened opened, env->Open(path, Env::OpenMode::kCreate));
  // What a crashed process wrote but never synced may still be in the page cache: it is made
  // durable before anything is read from it, so that nothing is answered from bytes a power loss
  // could still take away. Likewise the file's directory entry.
  SS_RETURN_IF_ERROR(opened.file->Sync());
  SS_RETURN_IF_ERROR(SyncDirectory(env, DirectoryOf(path)));
  SS_ASSIGN_OR_RETURN(const uint64_t size, opened.file->Size());
  return std::unique_ptr<AppendFile>(new AppendFile(env, std::move(opened.file), size, prealloc_chunk, mode));
}

Status AppendFile::CheckAlive() const {
  if (dead_) return IOError(path().string() + ": an earlier write or sync failed; reopen the database");
  return Status::Ok();
}

Status AppendFile::Fail(Status s) {
  dead_ = true;
  return s.WithContext(path().string() + " (the handle takes no more writes; reopen the database)");
}

void AppendFile::SetContentSize(uint64_t size) {
  SS_CHECK(chunk_ > 0 && size <= allocated_, "content size past the end of " + path().string());
  size_ = size;
}

Status AppendFile::Reserve(uint64_t end) {
  if (end < allocated_ || !prealloc_works_) return Status::Ok();
  // At least one zero byte stays after the content, so even a full write leaves a zero tail.
  const uint64_t target = (end / chunk_ + 1) * chunk_;
  Result<bool> allocated = file_->Allocate(target, mode_);
  if (!allocated.ok()) return Fail(allocated.status());
  if (!*allocated) {
    prealloc_works_ = false;  // the writes extend the file instead
    return Status::Ok();
  }
  if (Status s = file_->Sync(); !s.ok()) return Fail(s);
  allocated_ = target;
  return Status::Ok();
}

Status AppendFile::ReadAt(uint64_t offset, size_t len, uint8_t* out) const { return file_->ReadAt(offset, len, out); }

Status AppendFile::Append(ByteSpan data) {
  SS_RETURN_IF_ERROR(CheckAlive());
  const uint64_t at = size_;
  SS_CHECK(at <= allocated_, "append position past the end of " + path().string());
  if (chunk_ > 0) SS_RETURN_IF_ERROR(Reserve(at + data.size()));
  if (Status s = file_->WriteAt(at, data); !s.ok()) return Fail(s);
  if (Status s = file_->Sync(); !s.ok()) return Fail(s);
  size_ = at + data.size();
  allocated_ = std::max(allocated_, size_);
  SS_CHECK(size_ == at + data.size() && size_ <= allocated_, "append left " + path().string() + " at the wrong size");
  return Status::Ok();
}

Status AppendFile::Truncate(uint64_t new_size) {
  SS_RETURN_IF_ERROR(CheckAlive());
  SS_CHECK(new_size <= size_, "truncate beyond end of " + path().string());
  if (Status s = file_->Truncate(new_size); !s.ok()) return Fail(s);
  if (Status s = file_->Sync(); !s.ok()) return Fail(s);
  size_ = new_size;
  allocated_ = new_size;
  return Status::Ok();
}

Result<uint64_t> AppendFile::MoveTailToBroken(uint64_t offset) {
  SS_RETURN_IF_ERROR(CheckAlive());
  SS_CHECK(offset <= size_, "tail offset beyond end of " + path().string());
  const uint64_t n = size_ - offset;
  if (n == 0) return uint64_t{0};
  Bytes tail(n);
  SS_RETURN_IF_ERROR(ReadAt(offset, n, tail.data()));
  std::filesystem::path broken = path();
  broken += ".broken";
  SS_ASSIGN_OR_RETURN(Env::Opened opened, env_->Open(broken, Env::OpenMode::kCreate));
  SS_ASSIGN_OR_RETURN(const uint64_t broken_size, opened.file->Size());
  SS_RETURN_IF_ERROR(opened.file->WriteAt(broken_size, tail));
  SS_RETURN_IF_ERROR(opened.file->Sync());
  // The torn bytes are kept before they are cut from the file.
  if (opened.created) SS_RETURN_IF_ERROR(SyncDirectory(env_, DirectoryOf(broken)));
  SS_RETURN_IF_ERROR(Truncate(offset));
  return n;
}

std::string PathKey(const std::filesystem::path& path) {
  const std::string& s = path.native();
  bool normal = !s.empty();
  for (size_t i = 0; normal && i < s.size(); ++i) {
    const bool starts_component = i == 0 ? s[0] != '/' : s[i - 1] == '/';
    if (s[i] == '/') {
      normal = i + 1 < s.size() ? s[i + 1] != '/' : i == 0;  // no "//", no trailing "/" (but "/")
    } else if (starts_component && s[i] == '.') {
      size_t end = i + 1;
      if (end < s.size() && s[end] == '.') ++end;
      normal = end < s.size() && s[end] != '/';  // a name starting with dots, not "." or ".."
    }
  }
  return normal ? s : path.lexically_normal().string();
}

}  // namespace supersafe::db
