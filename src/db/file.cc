#include "db/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace supersafe::db {

std::optional<size_t> CrashSwitch::Take(size_t length) {
  if (armed_.empty()) return std::nullopt;
  size_t n = armed_.front();
  armed_.pop_front();
  if (length < 2) return 0;
  if (n < 1) n = 1;
  if (n > length - 1) n = length - 1;
  return n;
}

void FatalIOError(const std::filesystem::path& file, const std::string& what, int err) {
  std::fprintf(stderr, "supersafe: fatal: %s failed on %s: %s\n", what.c_str(), file.c_str(), std::strerror(err));
  std::fflush(stderr);
  std::abort();
}

namespace {
std::atomic<uint64_t> directory_syncs{0};
}  // namespace

Status SyncDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IOError("open directory " + dir.string() + ": " + std::strerror(errno));
  if (::fsync(fd) != 0) FatalIOError(dir, "fsync", errno);
  ::close(fd);
  directory_syncs.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

std::filesystem::path DirectoryOf(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

Status CreateDirectoriesDurably(const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.empty() || std::filesystem::is_directory(dir, ec)) return Status::Ok();
  const std::filesystem::path parent = DirectoryOf(dir);
  if (parent != dir) SS_RETURN_IF_ERROR(CreateDirectoriesDurably(parent));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return IOError("create directory " + dir.string() + ": " + std::strerror(errno));
  return SyncDirectory(parent);
}

uint64_t DirectorySyncCount() { return directory_syncs.load(std::memory_order_relaxed); }

namespace {
// Writes at `offset` (pwrite) when it is set, else at the file position.
Status WriteAll(int fd, const uint8_t* p, size_t n, const std::filesystem::path& path,
                std::optional<uint64_t> offset = std::nullopt) {
  while (n > 0) {
    ssize_t w = offset ? ::pwrite(fd, p, n, static_cast<off_t>(*offset)) : ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return IOError("write to " + path.string() + ": " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
    if (offset) *offset += static_cast<uint64_t>(w);
  }
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<AppendFile>> AppendFile::Open(const std::filesystem::path& path, CrashSwitch* crash,
                                                     uint64_t prealloc_chunk, PreallocMode mode) {
  // pwrite on an O_APPEND descriptor appends on Linux, so preallocated files go without it.
  const int append = prealloc_chunk > 0 ? 0 : O_APPEND;
  bool created = true;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | append | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(path.c_str(), O_RDWR | append | O_CLOEXEC);
  }
  if (fd < 0) return IOError("open " + path.string() + ": " + std::strerror(errno));
  if (created) {
    Status s = SyncDirectory(DirectoryOf(path));
    if (!s.ok()) {
      ::close(fd);
      return s;
    }
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return IOError("stat " + path.string() + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return IOError(path.string() + " is not a regular file");
  }
  return std::unique_ptr<AppendFile>(
      new AppendFile(path, fd, static_cast<uint64_t>(st.st_size), crash, prealloc_chunk, mode));
}

AppendFile::~AppendFile() { ::close(fd_); }

Status AppendFile::CheckAlive() const {
  if (dead_) return IOError(path_.string() + ": handle is dead after a simulated crash; reopen");
  return Status::Ok();
}

void AppendFile::SetContentSize(uint64_t size) {
  SS_CHECK(chunk_ > 0 && size <= allocated_, "content size past the end of " + path_.string());
  size_ = size;
}

void AppendFile::Reserve(uint64_t end) {
  if (end < allocated_) return;
  // At least one zero byte stays after the content, so even a full write leaves a zero tail.
  const uint64_t target = (end / chunk_ + 1) * chunk_;
  if (mode_ == PreallocMode::kWriteZeros) {
    static const Bytes zeros(uint64_t{1} << 20, 0);
    for (uint64_t at = allocated_; at < target;) {
      const uint64_t n = std::min<uint64_t>(zeros.size(), target - at);
      if (!WriteAll(fd_, zeros.data(), n, path_, at).ok()) FatalIOError(path_, "write", errno);
      at += n;
    }
    if (::fsync(fd_) != 0) FatalIOError(path_, "fsync", errno);
    allocated_ = target;
    return;
  }
  if (::fallocate(fd_, 0, static_cast<off_t>(allocated_), static_cast<off_t>(target - allocated_)) != 0) {
    if (errno == EOPNOTSUPP) return;  // the write extends the file instead
    FatalIOError(path_, "fallocate", errno);
  }
  if (::fsync(fd_) != 0) FatalIOError(path_, "fsync", errno);
  allocated_ = target;
}

Status AppendFile::ReadAt(uint64_t offset, size_t len, uint8_t* out) const {
  size_t done = 0;
  while (done < len) {
    ssize_t r = ::pread(fd_, out + done, len - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return IOError("read " + path_.string() + " at offset " + std::to_string(offset) + ": " + std::strerror(errno));
    }
    if (r == 0)
      return Corruption(path_.string() + ": short read at offset " + std::to_string(offset + done));
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status AppendFile::AppendNoSync(ByteSpan data) {
  SS_RETURN_IF_ERROR(CheckAlive());
  std::optional<uint64_t> at;
  if (chunk_ > 0) {
    Reserve(size_ + data.size());
    at = size_;
  }
  if (crash_ != nullptr) {
    if (auto torn = crash_->Take(data.size())) {
      (void)WriteAll(fd_, data.data(), *torn, path_, at);
      Sync();
      dead_ = true;
      return IOError(path_.string() + ": simulated crash after " + std::to_string(*torn) + " of " +
                     std::to_string(data.size()) + " bytes");
    }
  }
  Status s = WriteAll(fd_, data.data(), data.size(), path_, at);
  if (!s.ok()) {
    // A failed write leaves an unknown tail; the process cannot continue with it.
    FatalIOError(path_, "write", errno);
  }
  size_ += data.size();
  allocated_ = std::max(allocated_, size_);
  return Status::Ok();
}

Status AppendFile::Append(ByteSpan data) {
  SS_RETURN_IF_ERROR(AppendNoSync(data));
  Sync();
  return Status::Ok();
}

void AppendFile::Sync() {
  if (::fdatasync(fd_) != 0) FatalIOError(path_, "fdatasync", errno);
}

Status AppendFile::Truncate(uint64_t new_size) {
  SS_RETURN_IF_ERROR(CheckAlive());
  SS_CHECK(new_size <= size_, "truncate beyond end of " + path_.string());
  if (::ftruncate(fd_, static_cast<off_t>(new_size)) != 0) FatalIOError(path_, "ftruncate", errno);
  size_ = new_size;
  allocated_ = new_size;
  Sync();
  return Status::Ok();
}

Result<uint64_t> AppendFile::MoveTailToBroken(uint64_t offset) {
  SS_RETURN_IF_ERROR(CheckAlive());
  SS_CHECK(offset <= size_, "tail offset beyond end of " + path_.string());
  uint64_t n = size_ - offset;
  if (n == 0) return uint64_t{0};
  std::vector<uint8_t> tail(n);
  SS_RETURN_IF_ERROR(ReadAt(offset, n, tail.data()));
  std::filesystem::path broken = path_;
  broken += ".broken";
  std::error_code ec;
  const bool created = !std::filesystem::exists(broken, ec);
  int bfd = ::open(broken.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (bfd < 0) return IOError("open " + broken.string() + ": " + std::strerror(errno));
  Status w = WriteAll(bfd, tail.data(), tail.size(), broken);
  if (w.ok() && ::fdatasync(bfd) != 0) FatalIOError(broken, "fdatasync", errno);
  ::close(bfd);
  SS_RETURN_IF_ERROR(w);
  // The torn bytes are kept before they are cut from the file.
  if (created) SS_RETURN_IF_ERROR(SyncDirectory(DirectoryOf(broken)));
  SS_RETURN_IF_ERROR(Truncate(offset));
  return n;
}

}  // namespace supersafe::db
