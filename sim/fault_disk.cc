#include "sim/fault_disk.h"

#include <algorithm>

#include "core/check.h"

namespace supersafe::sim {

namespace fs = std::filesystem;

const char* DiskFaultName(DiskFault f) {
  switch (f) {
    case DiskFault::kPowerLoss: return "crash";
    case DiskFault::kSyncError: return "fsync_error";
    case DiskFault::kReadError: return "read_error";
    case DiskFault::kNoSpace: return "no_space";
    case DiskFault::kTruncateError: return "truncate_error";
    case DiskFault::kRenameError: return "rename_error";
  }
  return "?";
}

namespace {

// What FaultDisk::Enter returns when an armed sync, read or write fault fires on the call; the
// caller turns it into the failure of that fault (it never leaves this file).
constexpr Code kFired = Code::kInternal;

std::string Key(const fs::path& p) { return db::PathKey(p); }
std::string ParentKey(const fs::path& p) {
  const fs::path parent = fs::path(db::PathKey(p)).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

// A handle of the disk: every call is counted and may fail as armed; writes are recorded so that
// a power loss can undo what was not synced.
class FaultFile final : public db::File {
 public:
  FaultFile(FaultDisk* disk, std::unique_ptr<db::File> base, uint64_t generation)
      : File(base->path()), disk_(disk), base_(std::move(base)), key_(Key(path())), generation_(generation) {}

  Result<uint64_t> Size() override {
    SS_RETURN_IF_ERROR(disk_->Enter(FaultDisk::OpKind::kOther, generation_, path()));
    return base_->Size();
  }

  Status ReadAt(uint64_t offset, size_t len, uint8_t* out) override {
    Status entered = disk_->Enter(FaultDisk::OpKind::kRead, generation_, path());
    if (entered.code() == kFired)
      return IOError("read " + path().string() + " at offset " + std::to_string(offset) +
                     ": Input/output error (simulated)");
    SS_RETURN_IF_ERROR(entered);
    return base_->ReadAt(offset, len, out);
  }

  Status WriteAt(uint64_t offset, ByteSpan data) override {
    Status entered = disk_->Enter(FaultDisk::OpKind::kWrite, generation_, path());
    if (entered.code() == kFired) {  // no space: a prefix may go through
      const uint64_t prefix = disk_->rng_.Below64(data.size());
      if (prefix > 0) SS_RETURN_IF_ERROR(Write(offset, data.first(prefix)));
      return IOError("write " + path().string() + " at offset " + std::to_string(offset) +
                     ": No space left on device (simulated, after " + std::to_string(prefix) + " of " +
                     std::to_string(data.size()) + " bytes)");
    }
    SS_RETURN_IF_ERROR(entered);
    const std::string name = path().filename().string();
    auto& torn = disk_->torn_writes_;
    if (!torn.empty() && (torn.front().names.empty() || std::find(torn.front().names.begin(), torn.front().names.end(),
                                                                  name) != torn.front().names.end())) {
      uint64_t n = torn.front().torn_bytes;
      torn.pop_front();
      if (data.size() < 2) n = 0;
      n = std::clamp<uint64_t>(n, data.size() < 2 ? 0 : 1, data.size() < 2 ? 0 : data.size() - 1);
      if (n > 0) SS_RETURN_IF_ERROR(Write(offset, data.first(n)));
      disk_->process_dead_ = true;
      ++disk_->counters_.process_crash;
      return IOError(path().string() + ": simulated crash after " + std::to_string(n) + " of " +
                     std::to_string(data.size()) + " bytes");
    }
    return Write(offset, data);
  }

  Status Sync() override {
    Status entered = disk_->Enter(FaultDisk::OpKind::kSync, generation_, path());
    if (entered.code() == kFired) {
      disk_->ResolveFile(key_);
      return IOError("fdatasync " + path().string() + ": Input/output error (simulated)");
    }
    SS_RETURN_IF_ERROR(entered);
    SS_RETURN_IF_ERROR(base_->Sync());
    disk_->pending_data_.erase(key_);
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    SS_ASSIGN_OR_RETURN(const uint64_t old_size, base_->Size());
    Status entered = disk_->Enter(size > old_size ? FaultDisk::OpKind::kWrite : FaultDisk::OpKind::kOther, generation_,
                                  path());
    if (entered.code() == kFired)
      return IOError("truncate " + path().string() + ": No space left on device (simulated)");
    SS_RETURN_IF_ERROR(entered);
    if (disk_->CountAndFire(DiskFault::kTruncateError))
      return IOError("truncate " + path().string() + ": Input/output error (simulated)");
    FaultDisk::DataOp op{false, std::min(size, old_size), size > old_size ? size - old_size : old_size - size, old_size, {}};
    if (size < old_size) {
      // Only the written bytes are kept for an undo: past DataEnd the file is zeros (a zero tail).
      SS_ASSIGN_OR_RETURN(const uint64_t data_end, base_->DataEnd());
      op.old.resize(std::min(old_size, std::max(size, data_end)) - size);
      if (!op.old.empty()) SS_RETURN_IF_ERROR(base_->ReadAt(size, op.old.size(), op.old.data()));
    }
    SS_RETURN_IF_ERROR(base_->Truncate(size));
    disk_->RecordData(key_, std::move(op));
    return Status::Ok();
  }

  Result<bool> Allocate(uint64_t end, db::AllocateMode mode) override {
    Status entered = disk_->Enter(FaultDisk::OpKind::kWrite, generation_, path());
    if (entered.code() == kFired)
      return IOError("allocate " + path().string() + ": No space left on device (simulated)");
    SS_RETURN_IF_ERROR(entered);
    SS_ASSIGN_OR_RETURN(const uint64_t old_size, base_->Size());
    SS_ASSIGN_OR_RETURN(const bool done, base_->Allocate(end, mode));
    SS_ASSIGN_OR_RETURN(const uint64_t new_size, base_->Size());
    if (new_size > old_size) disk_->RecordData(key_, {false, old_size, new_size - old_size, old_size, {}});
    return done;
  }

  Result<uint64_t> DataEnd() override {
    SS_RETURN_IF_ERROR(disk_->Enter(FaultDisk::OpKind::kOther, generation_, path()));
    return base_->DataEnd();
  }

  Result<std::unique_ptr<db::Mapping>> Map(uint64_t offset, uint64_t length) override {
    Status entered = disk_->Enter(FaultDisk::OpKind::kRead, generation_, path());
    if (entered.code() == kFired)
      return IOError("mmap " + path().string() + ": Input/output error (simulated)");
    SS_RETURN_IF_ERROR(entered);
    return base_->Map(offset, length);
  }

 private:
  // Writes through to the base file, recording what it overwrites.
  Status Write(uint64_t offset, ByteSpan data) {
    if (key_.ends_with(".broken")) ++disk_->counters_.broken_writes;
    SS_ASSIGN_OR_RETURN(const uint64_t old_size, base_->Size());
    FaultDisk::DataOp op{true, offset, data.size(), old_size, {}};
    if (offset < old_size) {
      // Only the written bytes are kept for an undo: past DataEnd the file is zeros, which an undo
      // writes back as zeros (ResolveFile). Appends into a preallocated tail keep nothing.
      SS_ASSIGN_OR_RETURN(const uint64_t data_end, base_->DataEnd());
      const uint64_t old_end = std::min({offset + data.size(), old_size, std::max(offset, data_end)});
      op.old.resize(old_end - offset);
      if (!op.old.empty()) SS_RETURN_IF_ERROR(base_->ReadAt(offset, op.old.size(), op.old.data()));
    }
    SS_RETURN_IF_ERROR(base_->WriteAt(offset, data));
    disk_->RecordData(key_, std::move(op));
    return Status::Ok();
  }

  FaultDisk* disk_;
  std::unique_ptr<db::File> base_;
  std::string key_;
  uint64_t generation_;
};

FaultDisk::FaultDisk(db::Env* base, uint64_t seed) : base_(base), rng_(SplitMix64::ForSubsystem(seed, "disk")) {}
FaultDisk::~FaultDisk() = default;

void FaultDisk::Arm(DiskFault fault, uint64_t nth) {
  SS_CHECK(nth >= 1, "a disk fault is armed for the 1st operation or later");
  const uint64_t now = fault == DiskFault::kPowerLoss      ? operations_
                       : fault == DiskFault::kSyncError     ? syncs_
                       : fault == DiskFault::kReadError     ? reads_
                       : fault == DiskFault::kTruncateError ? truncates_
                       : fault == DiskFault::kRenameError   ? renames_
                                                            : writes_;
  armed_.push_back({fault, now + nth});
}

void FaultDisk::ArmTornWrite(std::vector<std::string> names, uint64_t torn_bytes) {
  torn_writes_.push_back({std::move(names), torn_bytes});
}

bool FaultDisk::armed() const { return !armed_.empty() || !torn_writes_.empty(); }

void FaultDisk::Restart() {
  process_dead_ = false;
  ++generation_;
}

// The status a call gets: OK, kFired when an armed sync, read or write fault fires on
// it (the caller fails the way that fault fails), or kIOError when it cannot run at all.
Status FaultDisk::Enter(OpKind kind, uint64_t generation, const fs::path& path) {
  if (generation != generation_)
    return IOError(path.string() + ": a handle from before a crash (the process that opened it is gone)");
  if (process_dead_) return IOError(path.string() + ": the process has crashed (simulated)");
  ++operations_;
  uint64_t* count = kind == OpKind::kSync ? &syncs_ : kind == OpKind::kRead ? &reads_ : kind == OpKind::kWrite ? &writes_ : nullptr;
  if (count != nullptr) ++*count;
  for (auto it = armed_.begin(); it != armed_.end(); ++it) {
    if (it->fault == DiskFault::kPowerLoss) {
      if (operations_ < it->at) continue;
      armed_.erase(it);
      PowerLoss();
      return IOError(path.string() + ": simulated power loss");
    }
    const bool applies = (it->fault == DiskFault::kSyncError && kind == OpKind::kSync) ||
                         (it->fault == DiskFault::kReadError && kind == OpKind::kRead) ||
                         (it->fault == DiskFault::kNoSpace && kind == OpKind::kWrite);
    if (!applies || *count < it->at) continue;
    const DiskFault fired = it->fault;
    armed_.erase(it);
    if (fired == DiskFault::kSyncError) ++counters_.fsync_error;
    if (fired == DiskFault::kReadError) ++counters_.read_error;
    if (fired == DiskFault::kNoSpace) ++counters_.no_space;
    return Status(kFired, DiskFaultName(fired));
  }
  return Status::Ok();
}

bool FaultDisk::CountAndFire(DiskFault fault) {
  const uint64_t count = fault == DiskFault::kTruncateError ? ++truncates_ : ++renames_;
  for (auto it = armed_.begin(); it != armed_.end(); ++it) {
    if (it->fault != fault || count < it->at) continue;
    armed_.erase(it);
    ++(fault == DiskFault::kTruncateError ? counters_.truncate_error : counters_.rename_error);
    return true;
  }
  return false;
}

void FaultDisk::RecordData(const std::string& path, DataOp op) {
  modified_.insert(path);
  pending_data_[path].push_back(std::move(op));
}

void FaultDisk::ResolveFile(const std::string& path) {
  auto it = pending_data_.find(path);
  if (it == pending_data_.end()) return;
  std::vector<DataOp> ops = std::move(it->second);
  pending_data_.erase(it);
  modified_.insert(path);
  auto opened = base_->Open(path, OpenMode::kReadWrite);
  if (!opened.ok()) return;  // the file is gone (its creation was undone)
  db::File& f = *opened->file;
  uint64_t floor = 0;  // the size that kept later operations need
  for (auto op = ops.rbegin(); op != ops.rend(); ++op) {
    const uint32_t fate = rng_.Below(op->is_write ? 3 : 2);  // 0: kept, 1: lost, 2: torn
    const uint64_t end = op->offset + op->length;
    if (fate == 0) {
      if (op->is_write || op->offset + op->length > op->old_size) floor = std::max(floor, end);
      continue;
    }
    const uint64_t keep = fate == 2 && op->length >= 2 ? 1 + rng_.Below64(op->length - 1) : 0;
    if (op->is_write) ++(keep > 0 ? counters_.torn_write : counters_.lost_write);
    const uint64_t target = std::max({op->old_size, floor, op->offset + keep});
    const uint64_t size = f.Size().value_or(0);
    if (size != target) (void)f.Truncate(target);
    // The old bytes come back past the kept prefix; the rest of the range reads as zeros (a hole).
    // Bytes the truncation just added past the old size are zeros already.
    const uint64_t from = op->offset + keep;
    const uint64_t old_end = op->offset + op->old.size();
    if (from < old_end) (void)f.WriteAt(from, ByteSpan(op->old.data() + (from - op->offset), old_end - from));
    const uint64_t zero_from = std::max(from, old_end), zero_to = std::min({end, target, std::max(size, zero_from)});
    if (zero_from < zero_to) {
      const Bytes zeros(zero_to - zero_from, 0);
      (void)f.WriteAt(zero_from, zeros);
    }
    if (keep > 0) floor = std::max(floor, op->offset + keep);
  }
}

void FaultDisk::RemoveTree(const fs::path& dir) {
  auto names = base_->List(dir);
  if (!names.ok()) return;
  for (const std::string& name : *names) {
    const fs::path p = dir / name;
    if (base_->TypeOf(p).value_or(db::FileType::kNone) == db::FileType::kDirectory) {
      RemoveTree(p);
    } else {
      pending_data_.erase(Key(p));
      modified_.insert(Key(p));
      (void)base_->Remove(p);
    }
  }
  (void)base_->RemoveDir(dir);
}

Status FaultDisk::Restore(const fs::path& path, const Bytes& bytes) {
  SS_ASSIGN_OR_RETURN(Opened opened, base_->Open(path, OpenMode::kCreate));
  SS_RETURN_IF_ERROR(opened.file->Truncate(0));
  if (!bytes.empty()) SS_RETURN_IF_ERROR(opened.file->WriteAt(0, bytes));
  return Status::Ok();
}

void FaultDisk::ResolveDir(const std::string& dir) {
  auto it = pending_entries_.find(dir);
  if (it == pending_entries_.end()) return;
  std::vector<EntryOp> ops = std::move(it->second);
  pending_entries_.erase(it);
  for (auto op = ops.rbegin(); op != ops.rend(); ++op) {
    if (rng_.Below(2) == 0) continue;  // kept
    ++counters_.lost_entry;
    modified_.insert(op->path);
    if (!op->to.empty()) modified_.insert(op->to);
    switch (op->kind) {
      case EntryOp::Kind::kCreateFile:
        pending_data_.erase(op->path);
        (void)base_->Remove(op->path);
        break;
      case EntryOp::Kind::kCreateDir:
        RemoveTree(op->path);
        break;
      case EntryOp::Kind::kRemove:
        (void)Restore(op->path, op->removed);
        break;
      case EntryOp::Kind::kRename:
        (void)base_->Rename(op->to, op->path);
        if (op->replaced) (void)Restore(op->to, op->removed);
        break;
    }
  }
}

void FaultDisk::PowerLoss() {
  ++counters_.crash;
  std::vector<std::string> files;
  for (const auto& [path, ops] : pending_data_) files.push_back(path);
  for (const std::string& path : files) ResolveFile(path);
  // Deeper directories first: an entry lost in a directory whose own creation is lost goes with it.
  std::vector<std::string> dirs;
  for (const auto& [dir, ops] : pending_entries_) dirs.push_back(dir);
  std::sort(dirs.rbegin(), dirs.rend());
  for (const std::string& dir : dirs) ResolveDir(dir);
  process_dead_ = true;
}

Result<std::optional<uint64_t>> FaultDisk::FlipBit(const fs::path& file) {
  SS_ASSIGN_OR_RETURN(Opened opened, base_->Open(file, OpenMode::kReadWrite));
  // Only the bytes up to the data end can be nonzero (a preallocated tail reads as zeros).
  SS_ASSIGN_OR_RETURN(uint64_t data_end, opened.file->DataEnd());
  Bytes bytes(data_end);
  SS_RETURN_IF_ERROR(opened.file->ReadAt(0, bytes.size(), bytes.data()));
  uint64_t last = bytes.size();
  while (last > 0 && bytes[last - 1] == 0) --last;
  if (last == 0) return std::optional<uint64_t>();
  const uint64_t offset = rng_.Below64(last);
  const uint8_t mask = static_cast<uint8_t>(1u << rng_.Below(8));
  const uint8_t flipped = bytes[offset] ^ mask;
  SS_RETURN_IF_ERROR(opened.file->WriteAt(offset, ByteSpan(&flipped, 1)));
  last_flip_ = Flip{file, offset, mask, flipped};
  modified_.insert(Key(file));
  ++counters_.bit_flip;
  return std::optional<uint64_t>(offset);
}

bool FaultDisk::FlipStillThere() {
  SS_CHECK(last_flip_.has_value(), "no bit flip to look for");
  auto opened = base_->Open(last_flip_->file, OpenMode::kReadOnly);
  uint8_t b = 0;
  return opened.ok() && opened->file->ReadAt(last_flip_->offset, 1, &b).ok() && b == last_flip_->damaged;
}

Status FaultDisk::UndoFlip() {
  SS_CHECK(last_flip_.has_value(), "no bit flip to undo");
  SS_ASSIGN_OR_RETURN(Opened opened, base_->Open(last_flip_->file, OpenMode::kReadWrite));
  uint8_t b = 0;
  SS_RETURN_IF_ERROR(opened.file->ReadAt(last_flip_->offset, 1, &b));
  b ^= last_flip_->mask;
  SS_RETURN_IF_ERROR(opened.file->WriteAt(last_flip_->offset, ByteSpan(&b, 1)));
  modified_.insert(Key(last_flip_->file));
  last_flip_.reset();
  return Status::Ok();
}

Result<db::Env::Opened> FaultDisk::Open(const fs::path& path, OpenMode mode) {
  SS_RETURN_IF_ERROR(Enter(OpKind::kOther, generation_, path));
  SS_ASSIGN_OR_RETURN(Opened opened, base_->Open(path, mode));
  if (opened.created) modified_.insert(Key(path));
  if (opened.created) pending_entries_[ParentKey(path)].push_back({EntryOp::Kind::kCreateFile, Key(path), "", {}, false});
  opened.file = std::make_unique<FaultFile>(this, std::move(opened.file), generation_);
  return opened;
}

Result<db::FileType> FaultDisk::TypeOf(const fs::path& path) {
  SS_RETURN_IF_ERROR(Enter(OpKind::kOther, generation_, path));
  return base_->TypeOf(path);
}

Status FaultDisk::CreateDir(const fs::path& dir) {
  SS_RETURN_IF_ERROR(Enter(OpKind::kOther, generation_, dir));
  SS_ASSIGN_OR_RETURN(const db::FileType type, base_->TypeOf(dir));
  SS_RETURN_IF_ERROR(base_->CreateDir(dir));
  if (type == db::FileType::kNone) pending_entries_[ParentKey(dir)].push_back({EntryOp::Kind::kCreateDir, Key(dir), "", {}, false});
  return Status::Ok();
}

Status FaultDisk::SyncDir(const fs::path& dir) {
  Status entered = Enter(OpKind::kSync, generation_, dir);
  const std::string key = Key(dir).empty() ? std::string(".") : Key(dir);
  if (entered.code() == kFired) {
    ResolveDir(key);
    return IOError("fsync directory " + dir.string() + ": Input/output error (simulated)");
  }
  SS_RETURN_IF_ERROR(entered);
  SS_RETURN_IF_ERROR(base_->SyncDir(dir));
  pending_entries_.erase(key);
  return Status::Ok();
}

Status FaultDisk::Rename(const fs::path& from, const fs::path& to) {
  SS_RETURN_IF_ERROR(Enter(OpKind::kOther, generation_, from));
  if (CountAndFire(DiskFault::kRenameError))
    return IOError("rename " + from.string() + " to " + to.string() + ": Input/output error (simulated)");
  EntryOp op{EntryOp::Kind::kRename, Key(from), Key(to), {}, false};
  if (base_->TypeOf(to).value_or(db::FileType::kNone) == db::FileType::kRegular) {
    SS_ASSIGN_OR_RETURN(op.removed, db::ReadWholeFile(base_, to));
    op.replaced = true;
  }
  SS_RETURN_IF_ERROR(base_->Rename(from, to));
  modified_.insert(Key(from));
  modified_.insert(Key(to));
  pending_data_.erase(Key(from));
  pending_data_.erase(Key(to));
  pending_entries_[ParentKey(to)].push_back(std::move(op));
  return Status::Ok();
}

Status FaultDisk::Remove(const fs::path& path) {
  SS_RETURN_IF_ERROR(Enter(OpKind::kOther, generation_, path));
  SS_ASSIGN_OR_RETURN(Bytes bytes, db::ReadWholeFile(base_, path));
  SS_RETURN_IF_ERROR(base_->Remove(path));
  modified_.insert(Key(path));
  pending_data_.erase(Key(path));
  pending_entries_[ParentKey(path)].push_back({EntryOp::Kind::kRemove, Key(path), "", std::move(bytes), false});
  return Status::Ok();
}

Status FaultDisk::RemoveDir(const fs::path& dir) {
  SS_RETURN_IF_ERROR(Enter(OpKind::kOther, generation_, dir));
  return base_->RemoveDir(dir);
}

Result<std::vector<std::string>> FaultDisk::List(const fs::path& dir) {
  SS_RETURN_IF_ERROR(Enter(OpKind::kOther, generation_, dir));
  return base_->List(dir);
}

}  // namespace supersafe::sim
