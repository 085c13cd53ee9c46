#include "sim/db_check.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/check.h"
#include "db/event_db.h"
#include "db/event_db_format.h"
#include "db/replacement_log.h"
#include "db/super_safe_format.h"

namespace supersafe::sim {

namespace fs = std::filesystem;

namespace {

// Reads [offset, offset + len) of `file` into `out`; false if the file is shorter or unreadable.
bool ReadAt(db::File& file, uint64_t offset, size_t len, Bytes& out) {
  out.resize(len);
  return len == 0 || file.ReadAt(offset, len, out.data()).ok();
}

}  // namespace

struct DatabaseCheck::File {
  enum class Kind { kSafe, kEvents, kReplacements };
  Kind kind = Kind::kSafe;
  fs::path path;
  std::unique_ptr<db::File> handle;
  bool modified = true;          // the disk saw a change since the last check
  bool clean = false;            // verified up to `verified` without findings
  uint64_t verified = 0;         // bytes verified
  uint64_t anchor = 0;           // where the context for checking later bytes starts
  Bytes context;                 // the bytes [anchor, verified) as verified
  Bytes header;                  // the file header (event-log DB) or header entry (super-safe-db) as verified

  std::vector<db::Finding> Verify(db::Env* env, const fs::path& p) const {
    switch (kind) {
      case Kind::kSafe: return db::VerifySuperSafeDB(env, p);
      case Kind::kEvents: return db::VerifyEventDB(env, p);
      case Kind::kReplacements: return db::VerifyReplacementLog(env, p);
    }
    return {};
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
      SS_CHECK(p == size, path.string() + ": verified blocks do not end at the end of the content (offset " +
                              std::to_string(p) + ", not " + std::to_string(size) + ")");
      if (from == 0) header.assign(bytes, bytes + std::min<uint64_t>(size, ev::kFileHeaderSize));
    } else {
      namespace ss = db::super_safe_format;
      // To the start of the newest group of the L1 number before the newest group's (or of the
      // first group): the verifier's cross-safe regression rule compares with that group.
      std::optional<uint64_t> last_l1;
      const uint64_t groups = std::max<uint64_t>(from, ss::kHeaderSize);  // after the header
      uint64_t last_start = groups, before_start = groups;
      for (uint64_t e = groups; e + ss::kEntrySize <= size; e += ss::kEntrySize) {
        const uint8_t* p = bytes + (e - from);
        if (p[ss::kType] != ss::kTypeSeal) continue;
        const uint64_t group_start = e - uint64_t{GetU32BE(p + ss::kSealCount)} * ss::kEntrySize;
        const uint64_t l1 = GetU64BE(p + ss::kL1Number);
        if (last_l1 && *last_l1 != l1) before_start = last_start;
        last_l1 = l1;
        last_start = group_start;
      }
      start = before_start;
      if (from == 0) header.assign(bytes, bytes + std::min<uint64_t>(size, ss::kHeaderSize));
    }
    anchor = start;
    context.assign(bytes + (start - from), bytes + (size - from));
    verified = size;
    clean = true;
  }
};

DatabaseCheck::DatabaseCheck(FaultDisk& disk, const fs::path& datadir, const std::vector<ChainID>& chains)
    : disk_(&disk), scratch_env_(std::make_unique<db::MemEnv>()) {
  auto add = [&](File::Kind kind, fs::path path) {
    auto f = std::make_unique<File>();
    f->kind = kind;
    f->path = std::move(path);
    files_.push_back(std::move(f));
  };
  add(File::Kind::kSafe, datadir / db::SuperSafeDB::kFileName);
  for (const ChainID& id : chains) add(File::Kind::kEvents, datadir / "chains" / id.Decimal() / "events.db");
  for (const ChainID& id : chains) add(File::Kind::kReplacements, datadir / "chains" / id.Decimal() / "replacements.db");
}

DatabaseCheck::~DatabaseCheck() = default;

void DatabaseCheck::NoteModifications() {
  const std::set<std::string> modified = disk_->TakeModified();
  for (auto& f : files_) {
    if (modified.count(f->path.lexically_normal().string()) > 0) {
      f->modified = true;
      f->handle.reset();  // reopened: the file may have been replaced
    }
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
  db::Env* env = disk_->base();  // what the disk holds now, read without counting as the process's I/O
  if (f.kind == File::Kind::kReplacements) {  // small: always verified whole
    if (env->TypeOf(f.path).value_or(db::FileType::kNone) == db::FileType::kNone) return {};
    f.clean = false;
    return f.Verify(env, f.path);
  }
  if (f.handle == nullptr) {
    auto opened = env->Open(f.path, db::Env::OpenMode::kReadOnly);
    if (!opened.ok()) return f.Verify(env, f.path);  // names what is wrong
    f.handle = std::move(opened->file);
  }
  Result<uint64_t> stat = f.handle->Size();
  if (!stat.ok()) return f.Verify(env, f.path);
  const uint64_t file_size = *stat;
  db::File& file = *f.handle;
  // Where the content ends, by the rule Open and the verifiers use (the preallocated zero tail).
  auto content_end = [&] {
    Result<uint64_t> end = f.kind == File::Kind::kSafe ? db::SuperSafeContentSize(env, f.path)
                                                       : db::EventDBContentSize(env, f.path);
    return std::min(end.value_or(file_size), file_size);
  };
  uint64_t size = content_end();

  // The whole file, as the verifier sees it; when sound, the bookkeeping for later steps.
  Bytes& buf = read_buffer_;
  auto whole = [&] {
    if (!full && f.clean) rewritten_ = true;
    f.clean = false;
    size = content_end();  // a rewound file may end before the bytes verified before
    std::vector<db::Finding> findings = f.Verify(env, f.path);
    if (findings.empty() && ReadAt(file, 0, size, buf)) f.Advance(buf.data(), 0, size);
    return findings;
  };
  if (full || !f.clean || size < f.verified) return whole();
  if (!ReadAt(file, f.anchor, size - f.anchor, buf) || !std::equal(f.context.begin(), f.context.end(), buf.begin()))
    return whole();
  if (size == f.verified) return {};
  const uint8_t* bytes = buf.data();  // [anchor, size)

  // The new bytes with their context, in a scratch file (in memory) the verifier reads like the real one.
  const Bytes& prefix = f.header;
  const fs::path scratch = "/scratch";
  {
    auto opened = scratch_env_->Open(scratch, db::Env::OpenMode::kCreate);
    SS_CHECK(opened.ok(), "the database check's scratch file: " + opened.status().ToString());
    db::File& s = *opened->file;
    SS_CHECK(s.Truncate(0).ok() && s.WriteAt(0, prefix).ok() && s.WriteAt(prefix.size(), ByteSpan(bytes, size - f.anchor)).ok(),
             "writing the database check's scratch file");
  }
  std::vector<db::Finding> tail = f.Verify(scratch_env_.get(), scratch);
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
