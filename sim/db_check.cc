#include "sim/db_check.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/check.h"
#include "db/event_db.h"
#include "db/event_db_format.h"
#include "db/super_safe_format.h"
#include "sim/temp_dir.h"

namespace supersafe::sim {

namespace fs = std::filesystem;

namespace {

// Reads [offset, offset + len) of `fd` into `out`; false if the file is shorter or unreadable.
bool ReadAt(int fd, uint64_t offset, size_t len, Bytes& out) {
  out.resize(len);
  size_t done = 0;
  while (done < len) {
    ssize_t r = ::pread(fd, out.data() + done, len - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

// Both databases' content ends where the preallocated zero tail starts: at the first all-zero
// entry of `kEntry` bytes (valid content has none, docs/db-format.md and docs/event-db-format.md),
// looked for from entry `from` on (at least `floor`); the file size if there is none.
uint64_t ContentEnd(int fd, uint64_t kEntry, uint64_t floor, uint64_t from, uint64_t size, Bytes& scratch) {
  const uint64_t kBlock = 1024 * kEntry;
  for (uint64_t at = std::max(floor, from / kEntry * kEntry); at + kEntry <= size; at += kBlock) {
    const uint64_t n = std::min(kBlock, (size - at) / kEntry * kEntry);
    if (!ReadAt(fd, at, n, scratch)) return size;
    for (uint64_t e = 0; e < n; e += kEntry)
      if (std::all_of(scratch.begin() + static_cast<ptrdiff_t>(e), scratch.begin() + static_cast<ptrdiff_t>(e + kEntry),
                      [](uint8_t b) { return b == 0; }))
        return at + e;
  }
  return size;
}

}  // namespace

struct DatabaseCheck::File {
  enum class Kind { kSafe, kEvents };
  Kind kind = Kind::kSafe;
  fs::path path;
  int fd = -1;
  int watch = -1;                // inotify watch descriptor
  bool modified = true;          // inotify reported a change since the last check (or cannot tell)
  bool clean = false;            // verified up to `verified` without findings
  uint64_t verified = 0;         // bytes verified
  uint64_t anchor = 0;           // where the context for checking later bytes starts
  Bytes context;                 // the bytes [anchor, verified) as verified
  Bytes header;                  // event-log DB: its file header as verified

  ~File() {
    if (fd >= 0) ::close(fd);
  }

  std::vector<db::Finding> Verify(const fs::path& p) const {
    return kind == Kind::kSafe ? db::VerifySuperSafeDB(p) : db::VerifyEventDB(p);
  }

  // Sets `anchor` and `context` from the file's bytes [from, size) at `bytes`, which start at a
  // block (event-log DB) or group (super-safe-db) boundary at or before the anchor wanted.
  void Advance(const uint8_t* bytes, uint64_t from, uint64_t size) {
    uint64_t start = from;
    if (kind == Kind::kEvents) {
      namespace ev = db::event_format;
      uint64_t p = std::max<uint64_t>(from, ev::kFileHeaderSize);
      start = p;
      while (p + ev::kCheckpointSize <= size) {  // to the start of the last block
        const uint8_t* c = bytes + (p - from);
        start = p;
        p += ev::BlockSize(GetU32BE(c + ev::kCheckpointLogCount), GetU32BE(c + ev::kCheckpointExecCount));
      }
      SS_CHECK(p == size, path.string() + ": verified blocks do not end at the end of the file");
      if (from == 0) header.assign(bytes, bytes + std::min<uint64_t>(size, ev::kFileHeaderSize));
    } else {
      namespace ss = db::super_safe_format;
      // To the start of the newest group of the L1 number before the newest group's (or of the
      // first group): the verifier's cross-safe regression rule compares with that group.
      std::optional<uint64_t> last_l1;
      uint64_t last_start = from, before_start = from;
      for (uint64_t e = from; e + ss::kEntrySize <= size; e += ss::kEntrySize) {
        const uint8_t* p = bytes + (e - from);
        if (p[ss::kType] != ss::kTypeSeal) continue;
        const uint64_t group_start = e - uint64_t{GetU32BE(p + ss::kSealCount)} * ss::kEntrySize;
        const uint64_t l1 = GetU64BE(p + ss::kL1Number);
        if (last_l1 && *last_l1 != l1) before_start = last_start;
        last_l1 = l1;
        last_start = group_start;
      }
      start = before_start;
    }
    anchor = start;
    context.assign(bytes + (start - from), bytes + (size - from));
    verified = size;
    clean = true;
  }
};

DatabaseCheck::DatabaseCheck(const fs::path& datadir, const std::vector<ChainID>& chains) {
  auto add = [&](File::Kind kind, fs::path path) {
    auto f = std::make_unique<File>();
    f->kind = kind;
    f->path = std::move(path);
    files_.push_back(std::move(f));
  };
  add(File::Kind::kSafe, datadir / db::SuperSafeDB::kFileName);
  for (const ChainID& id : chains) add(File::Kind::kEvents, datadir / "chains" / id.Decimal() / "events.db");
}

DatabaseCheck::~DatabaseCheck() {
  files_.clear();
  if (scratch_fd_ >= 0) {
    ::close(scratch_fd_);
    std::error_code ec;
    fs::remove(scratch_path_, ec);
  }
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void DatabaseCheck::NoteModifications() {
  if (inotify_fd_ < 0) inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  bool overflow = inotify_fd_ < 0;
  alignas(inotify_event) char buf[4096];
  while (inotify_fd_ >= 0) {
    const ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: nothing (more) happened
    for (ssize_t at = 0; at < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      if (ev->mask & IN_Q_OVERFLOW) overflow = true;
      for (auto& f : files_)
        if (f->watch == ev->wd) f->modified = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  for (auto& f : files_) {
    if (overflow) f->modified = true;
    if (f->watch < 0 && inotify_fd_ >= 0) {  // once the file exists; until then, always look
      f->watch = ::inotify_add_watch(inotify_fd_, f->path.c_str(),
                                     IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
      f->modified = true;
    }
    if (f->watch < 0) f->modified = true;
  }
}

std::vector<db::Finding> DatabaseCheck::Step() {
  rewritten_ = false;
  NoteModifications();
  written_.assign(files_.size(), false);
  std::vector<db::Finding> findings;
  for (size_t i = 0; i < files_.size(); ++i) {
    File* f = files_[i].get();
    if (!f->modified && f->clean) continue;  // the kernel saw no write, truncation or rename
    written_[i] = true;
    f->modified = false;
    auto more = Check(*f, false);
    findings.insert(findings.end(), more.begin(), more.end());
  }
  return findings;
}

std::vector<db::Finding> DatabaseCheck::Full() {
  NoteModifications();
  std::vector<db::Finding> findings;
  for (auto& f : files_) {
    f->modified = false;
    auto more = Check(*f, true);
    findings.insert(findings.end(), more.begin(), more.end());
  }
  return findings;
}

std::vector<db::Finding> DatabaseCheck::Check(File& f, bool full) {
  if (f.fd < 0) f.fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (f.fd < 0 || ::fstat(f.fd, &st) != 0) return f.Verify(f.path);  // names what is wrong
  const auto file_size = static_cast<uint64_t>(st.st_size);
  auto content_end = [&](uint64_t from) {
    return f.kind == File::Kind::kSafe
               ? ContentEnd(f.fd, db::super_safe_format::kEntrySize, 0, from, file_size, read_buffer_)
               : ContentEnd(f.fd, db::event_format::kEntrySize, db::event_format::kFileHeaderSize, from, file_size,
                            read_buffer_);
  };
  uint64_t size = content_end(full || !f.clean ? 0 : std::min(f.verified, file_size));

  // The whole file, as the verifier sees it; when sound, the bookkeeping for later steps.
  Bytes& buf = read_buffer_;
  auto whole = [&] {
    if (!full && f.clean) rewritten_ = true;
    f.clean = false;
    size = content_end(0);  // a rewound file may end before the bytes verified before
    std::vector<db::Finding> findings = f.Verify(f.path);
    if (findings.empty() && ReadAt(f.fd, 0, size, buf)) f.Advance(buf.data(), 0, size);
    return findings;
  };
  if (full || !f.clean || size < f.verified) return whole();
  if (!ReadAt(f.fd, f.anchor, size - f.anchor, buf) || !std::equal(f.context.begin(), f.context.end(), buf.begin()))
    return whole();
  if (size == f.verified) return {};
  const uint8_t* bytes = buf.data();  // [anchor, size)

  // The new bytes with their context, in a scratch file the verifier reads like the real one.
  if (scratch_fd_ < 0) {
    auto base = TempBase();
    SS_CHECK(base.ok(), "the database check needs a scratch file: " + base.status().message());
    std::string name = (*base / "supersafe-db-check-XXXXXX").string();
    scratch_fd_ = ::mkstemp(name.data());
    SS_CHECK(scratch_fd_ >= 0, "cannot create a scratch file " + name + ": " + std::strerror(errno));
    scratch_path_ = name;
  }
  const Bytes& prefix = f.kind == File::Kind::kEvents ? f.header : Bytes();
  const size_t length = prefix.size() + (size - f.anchor);
  const iovec parts[2] = {{const_cast<uint8_t*>(prefix.data()), prefix.size()},
                          {const_cast<uint8_t*>(bytes), size - f.anchor}};
  SS_CHECK(::pwritev(scratch_fd_, parts, 2, 0) == static_cast<ssize_t>(length) &&
               (length >= scratch_size_ || ::ftruncate(scratch_fd_, static_cast<off_t>(length)) == 0),
           "writing " + scratch_path_.string() + ": " + std::strerror(errno));
  scratch_size_ = length;
  std::vector<db::Finding> tail = f.Verify(scratch_path_);
  if (!tail.empty()) {
    // Report what the verifier finds in the whole file; if that is nothing, what it found in the
    // new bytes, at their places in the real file.
    std::vector<db::Finding> findings = whole();
    if (!findings.empty()) return findings;
    for (db::Finding& finding : tail) {
      finding.file = f.path;
      if (finding.offset >= prefix.size()) finding.offset = finding.offset - prefix.size() + f.anchor;
      finding.what += " (found checking the bytes from offset " + std::to_string(f.anchor) + ")";
    }
    f.clean = false;
    return tail;
  }
  f.Advance(bytes, f.anchor, size);
  return {};
}

}  // namespace supersafe::sim
