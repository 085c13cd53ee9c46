#include "db/mem_env.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "core/check.h"

namespace supersafe::db {

namespace fs = std::filesystem;

// A file's region: kMaxFileSize bytes of address space, of which [0, backed) is known to be backed
// by memory (written before, or prefaulted).
struct Region {
  uint8_t* base = nullptr;
  uint64_t backed = 0;
};

// Regions of removed files, zeroed, for the next files of this process: a run (or a fuzz case)
// creates its files again and again, and a recycled region's pages are backed already, so writing
// them costs no page faults. At most kMaxRecycledBytes of backed memory are kept; other regions go
// back to the system.
class RegionPool {
 public:
  static constexpr uint64_t kMaxRecycledBytes = uint64_t{256} << 20;

  // A zeroed region.
  static Region Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        const Region r = free_.back();
        free_.pop_back();
        bytes_ -= r.backed;
        return r;
      }
    }
    void* p = ::mmap(nullptr, MemEnv::kMaxFileSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    SS_CHECK(p != MAP_FAILED, std::string("memory disk: cannot reserve address space: ") + std::strerror(errno));
    return {static_cast<uint8_t*>(p), 0};
  }

  // Takes back a region whose bytes past `touched` are zero.
  static void Give(Region r, uint64_t touched) {
    if (r.backed <= kMaxRecycledBytes) {
      std::memset(r.base, 0, std::min(touched, r.backed));  // past `backed`, nothing was written
      std::lock_guard<std::mutex> lock(mu_);
      if (bytes_ + r.backed <= kMaxRecycledBytes) {
        bytes_ += r.backed;
        free_.push_back(r);
        return;
      }
    }
    ::munmap(r.base, MemEnv::kMaxFileSize);
  }

 private:
  static inline std::mutex mu_;
  static inline std::vector<Region> free_;
  static inline uint64_t bytes_ = 0;  // backed bytes of the regions in free_
};

// One file's bytes: [0, size) of a region reserved once (MAP_NORESERVE; pages are backed only
// when written), so that pointers into it stay valid while the file grows.
struct MemEnv::Node {
  Region region;
  uint8_t* base = nullptr;
  uint64_t size = 0;
  uint64_t touched = 0;  // bytes [0, touched) may be nonzero; the rest of the region is zero

  Node() : region(RegionPool::Take()), base(region.base) {}
  ~Node() { RegionPool::Give(region, touched); }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Before a write of bytes up to `end`: backs the pages up to past `end` in one call (growing
  // by the file's size so far, 64 KiB to 4 MiB at a time) instead of one page fault per page.
  void Back(uint64_t end) {
    if (end <= region.backed) return;
    constexpr uint64_t kPage = 4096;
    const uint64_t step = std::clamp<uint64_t>(region.backed, uint64_t{64} << 10, uint64_t{4} << 20);
    const uint64_t to = std::min(MemEnv::kMaxFileSize, (end + step + kPage - 1) / kPage * kPage);
    // Where the kernel cannot prefault (before Linux 5.14), the pages fault in as written.
    (void)::madvise(base + region.backed, to - region.backed, MADV_POPULATE_WRITE);
    region.backed = to;
  }

  // Cuts or extends to `n`; bytes past the old size read as zero.
  void Resize(uint64_t n) {
    if (n < size && touched > n) {
      std::memset(base + n, 0, touched - n);
      touched = n;
    }
    size = n;
  }
};

namespace {

class MemMapping final : public Mapping {
 public:
  MemMapping(std::shared_ptr<MemEnv::Node> node, uint64_t offset, uint64_t length)
      : Mapping(node->base + offset, offset, length), node_(std::move(node)) {}

 private:
  std::shared_ptr<MemEnv::Node> node_;  // keeps the region alive after the file is removed
};

class MemFile final : public File {
 public:
  MemFile(fs::path path, std::shared_ptr<MemEnv::Node> node, bool writable)
      : File(std::move(path)), node_(std::move(node)), writable_(writable) {}

  Result<uint64_t> Size() override { return node_->size; }

  Status ReadAt(uint64_t offset, size_t len, uint8_t* out) override {
    if (offset > node_->size || len > node_->size - offset)
      return Corruption(path().string() + ": short read at offset " + std::to_string(std::max(offset, node_->size)));
    if (len > 0) std::memcpy(out, node_->base + offset, len);  // an empty read's `out` may be null
    return Status::Ok();
  }

  Status WriteAt(uint64_t offset, ByteSpan data) override {
    if (!writable_) return IOError("write " + path().string() + ": opened read-only");
    if (offset > MemEnv::kMaxFileSize || data.size() > MemEnv::kMaxFileSize - offset)
      return IOError("write " + path().string() + ": past the memory disk's file size limit");
    if (!data.empty()) {  // empty: data() may be null
      node_->Back(offset + data.size());
      std::memcpy(node_->base + offset, data.data(), data.size());
    }
    node_->size = std::max(node_->size, offset + data.size());
    node_->touched = std::max(node_->touched, offset + data.size());
    return Status::Ok();
  }

  Status Sync() override { return Status::Ok(); }

  Status Truncate(uint64_t size) override {
    if (!writable_) return IOError("truncate " + path().string() + ": opened read-only");
    if (size > MemEnv::kMaxFileSize) return IOError("truncate " + path().string() + ": past the memory disk's file size limit");
    node_->Resize(size);
    return Status::Ok();
  }

  Result<bool> Allocate(uint64_t end, AllocateMode) override {
    if (!writable_) return IOError("allocate " + path().string() + ": opened read-only");
    if (end > MemEnv::kMaxFileSize) return IOError("allocate " + path().string() + ": past the memory disk's file size limit");
    if (end > node_->size) node_->Resize(end);
    return true;
  }

  Result<uint64_t> DataEnd() override { return std::min(node_->touched, node_->size); }

  Result<std::unique_ptr<Mapping>> Map(uint64_t offset, uint64_t length) override {
    if (offset > MemEnv::kMaxFileSize || length > MemEnv::kMaxFileSize - offset) length = MemEnv::kMaxFileSize - std::min(offset, MemEnv::kMaxFileSize);
    return std::unique_ptr<Mapping>(new MemMapping(node_, offset, length));
  }

 private:
  std::shared_ptr<MemEnv::Node> node_;
  bool writable_;
};

std::string Key(const fs::path& p) { return PathKey(p); }

}  // namespace

MemEnv::MemEnv() = default;
MemEnv::~MemEnv() = default;

bool MemEnv::ParentExists(const fs::path& path) const {
  const fs::path parent = fs::path(Key(path)).parent_path();
  if (parent.empty() || parent == parent.root_path()) return true;
  return dirs_.count(Key(parent)) > 0;
}

Result<Env::Opened> MemEnv::Open(const fs::path& path, OpenMode mode) {
  const std::string key = Key(path);
  if (dirs_.count(key) > 0) return IOError(path.string() + " is not a regular file");
  auto it = files_.find(key);
  bool created = false;
  if (it == files_.end()) {
    if (mode != OpenMode::kCreate) return NotFound(path.string() + ": no such file");
    if (!ParentExists(path)) return IOError("open " + path.string() + ": No such file or directory");
    it = files_.emplace(key, std::make_shared<Node>()).first;
    created = true;
  }
  return Opened{std::make_unique<MemFile>(path, it->second, mode != OpenMode::kReadOnly), created};
}

Result<FileType> MemEnv::TypeOf(const fs::path& path) {
  const std::string key = Key(path);
  if (files_.count(key) > 0) return FileType::kRegular;
  if (dirs_.count(key) > 0) return FileType::kDirectory;
  const fs::path norm = path.lexically_normal();
  if (norm.empty() || norm == norm.root_path() || norm == ".") return FileType::kDirectory;
  return FileType::kNone;
}

Status MemEnv::CreateDir(const fs::path& dir) {
  const std::string key = Key(dir);
  if (dirs_.count(key) > 0) return Status::Ok();
  if (files_.count(key) > 0) return IOError("create directory " + dir.string() + ": exists and is not a directory");
  if (!ParentExists(dir)) return IOError("create directory " + dir.string() + ": No such file or directory");
  dirs_.insert(key);
  return Status::Ok();
}

Status MemEnv::SyncDir(const fs::path& dir) {
  SS_ASSIGN_OR_RETURN(const FileType type, TypeOf(dir));
  if (type != FileType::kDirectory) return IOError("open directory " + dir.string() + ": No such file or directory");
  return Status::Ok();
}

Status MemEnv::Rename(const fs::path& from, const fs::path& to) {
  auto it = files_.find(Key(from));
  if (it == files_.end()) return IOError("rename " + from.string() + ": No such file or directory");
  if (!ParentExists(to)) return IOError("rename to " + to.string() + ": No such file or directory");
  std::shared_ptr<Node> node = it->second;
  files_.erase(it);
  files_[Key(to)] = std::move(node);
  return Status::Ok();
}

Status MemEnv::Remove(const fs::path& path) {
  if (files_.erase(Key(path)) == 0) return NotFound(path.string() + ": no such file");
  return Status::Ok();
}

Result<std::vector<std::string>> MemEnv::List(const fs::path& dir) {
  SS_ASSIGN_OR_RETURN(const FileType type, TypeOf(dir));
  if (type != FileType::kDirectory) return NotFound(dir.string() + ": no such directory");
  std::vector<std::string> names;
  const fs::path base = dir.lexically_normal();
  auto add = [&](const std::string& key) {
    const fs::path p(key);
    if (p.parent_path() == base || (base == "." && p.parent_path().empty())) names.push_back(p.filename().string());
  };
  for (const auto& [key, node] : files_) add(key);
  for (const std::string& key : dirs_) add(key);
  std::sort(names.begin(), names.end());
  return names;
}

Status MemEnv::RemoveDir(const fs::path& dir) {
  const std::string key = Key(dir);
  if (dirs_.count(key) == 0) return IOError("remove directory " + dir.string() + ": No such file or directory");
  SS_ASSIGN_OR_RETURN(const std::vector<std::string> names, List(dir));
  if (!names.empty()) return IOError("remove directory " + dir.string() + ": Directory not empty");
  dirs_.erase(key);
  return Status::Ok();
}

}  // namespace supersafe::db
