// Env::Posix(): the real file system. The only file syscalls of the project are here.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "db/env.h"
#include "db/file.h"

namespace supersafe::db {
namespace {

namespace fs = std::filesystem;

Status ErrnoError(const std::string& what, const fs::path& path, int err) {
  return IOError(what + " " + path.string() + ": " + std::strerror(err));
}

class PosixMapping final : public Mapping {
 public:
  PosixMapping(void* base, uint64_t offset, uint64_t length)
      : Mapping(static_cast<const uint8_t*>(base), offset, length), base_(base) {}
  ~PosixMapping() override { ::munmap(base_, length()); }

 private:
  void* base_;
};

class PosixFile final : public File {
 public:
  PosixFile(fs::path path, int fd) : File(std::move(path)), fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }

  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoError("stat", path(), errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status ReadAt(uint64_t offset, size_t len, uint8_t* out) override {
    size_t done = 0;
    while (done < len) {
      const ssize_t r = ::pread(fd_, out + done, len - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return IOError("read " + path().string() + " at offset " + std::to_string(offset + done) + ": " +
                       std::strerror(errno));
      }
      if (r == 0) return Corruption(path().string() + ": short read at offset " + std::to_string(offset + done));
      done += static_cast<size_t>(r);
    }
    return Status::Ok();
  }

  Status WriteAt(uint64_t offset, ByteSpan data) override {
    const uint8_t* p = data.data();
    size_t n = data.size();
    while (n > 0) {
      const ssize_t w = ::pwrite(fd_, p, n, static_cast<off_t>(offset));
      if (w < 0) {
        if (errno == EINTR) continue;
        return IOError("write " + path().string() + " at offset " + std::to_string(offset) + ": " +
                       std::strerror(errno));
      }
      p += w;
      n -= static_cast<size_t>(w);
      offset += static_cast<uint64_t>(w);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) FatalIOError(path(), "fdatasync", errno);
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return ErrnoError("truncate", path(), errno);
    return Status::Ok();
  }

  Result<bool> Allocate(uint64_t end, AllocateMode mode) override {
    SS_ASSIGN_OR_RETURN(const uint64_t size, Size());
    if (end <= size) return true;
    if (mode == AllocateMode::kWriteZeros) {
      static const Bytes zeros(uint64_t{1} << 20, 0);
      for (uint64_t at = size; at < end;) {
        const uint64_t n = std::min<uint64_t>(zeros.size(), end - at);
        SS_RETURN_IF_ERROR(WriteAt(at, ByteSpan(zeros.data(), n)));
        at += n;
      }
      return true;
    }
    if (::fallocate(fd_, 0, static_cast<off_t>(size), static_cast<off_t>(end - size)) != 0) {
      if (errno == EOPNOTSUPP) return false;
      return ErrnoError("fallocate", path(), errno);
    }
    return true;
  }

  Result<std::unique_ptr<Mapping>> Map(uint64_t offset, uint64_t length) override {
    void* p = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd_, static_cast<off_t>(offset));
    if (p == MAP_FAILED) return ErrnoError("mmap", path(), errno);
    return std::unique_ptr<Mapping>(new PosixMapping(p, offset, length));
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Result<Opened> Open(const fs::path& path, OpenMode mode) override {
    int fd = -1;
    bool created = false;
    if (mode == OpenMode::kCreate) {
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      created = fd >= 0;
      if (fd < 0 && errno == EEXIST) fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    } else {
      fd = ::open(path.c_str(), (mode == OpenMode::kReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ENOENT) return NotFound(path.string() + ": no such file");
      return ErrnoError("open", path, errno);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      return ErrnoError("stat", path, e);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return IOError(path.string() + " is not a regular file");
    }
    return Opened{std::make_unique<PosixFile>(path, fd), created};
  }

  Result<FileType> TypeOf(const fs::path& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return FileType::kNone;
      return ErrnoError("stat", path, errno);
    }
    if (S_ISREG(st.st_mode)) return FileType::kRegular;
    if (S_ISDIR(st.st_mode)) return FileType::kDirectory;
    return FileType::kOther;
  }

  Status CreateDir(const fs::path& dir) override {
    if (::mkdir(dir.c_str(), 0755) == 0) return Status::Ok();
    if (errno == EEXIST) {
      SS_ASSIGN_OR_RETURN(const FileType type, TypeOf(dir));
      if (type == FileType::kDirectory) return Status::Ok();
      return IOError("create directory " + dir.string() + ": exists and is not a directory");
    }
    return ErrnoError("create directory", dir, errno);
  }

  Status SyncDir(const fs::path& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open directory", dir, errno);
    if (::fsync(fd) != 0) FatalIOError(dir, "fsync", errno);
    ::close(fd);
    return Status::Ok();
  }

  Status Rename(const fs::path& from, const fs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoError("rename to " + to.string(), from, errno);
    return Status::Ok();
  }

  Status Remove(const fs::path& path) override {
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT) return NotFound(path.string() + ": no such file");
      return ErrnoError("remove", path, errno);
    }
    return Status::Ok();
  }

  Status RemoveDir(const fs::path& dir) override {
    if (::rmdir(dir.c_str()) != 0) return ErrnoError("remove directory", dir, errno);
    return Status::Ok();
  }

  Result<std::vector<std::string>> List(const fs::path& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return NotFound(dir.string() + ": no such directory");
      return ErrnoError("list", dir, errno);
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }
};

}  // namespace

Env* Env::Posix() {
  static PosixEnv env;
  return &env;
}

Result<Bytes> ReadWholeFile(Env* env, const fs::path& path) {
  SS_ASSIGN_OR_RETURN(Env::Opened opened, env->Open(path, Env::OpenMode::kReadOnly));
  SS_ASSIGN_OR_RETURN(const uint64_t size, opened.file->Size());
  Bytes out(size);
  if (size > 0) SS_RETURN_IF_ERROR(opened.file->ReadAt(0, size, out.data()));
  return out;
}

}  // namespace supersafe::db
