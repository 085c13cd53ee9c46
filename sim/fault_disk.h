// FaultDisk: the simulator's disk. An Env (db/env.h) over another Env that holds the bytes (a
// MemEnv, or the POSIX file system with `--disk posix`), which models durability exactly and
// injects storage faults, every outcome drawn from its seed (after LevelDB's fault-injection Env
// and TigerBeetle's simulated storage).
//
// Durability model. A write, truncation or preallocation of a file is pending until that file's
// Sync; creating, removing or renaming an entry is pending until its directory's SyncDir. At a
// power loss every pending operation meets a fate drawn from the seed, applied newest first: a
// write survives whole, is lost, or is torn (only its first k bytes, 1 <= k < length, reach the
// disk); a truncation or preallocation and a directory entry survive or are lost. Fates are drawn
// independently, so a later write can survive an earlier lost one (reordering). Synced bytes and
// synced entries always survive. A process crash (the `crash` step) loses nothing written: only
// the process dies.
//
// Faults, armed by the runner (scenario steps, the fuzzer) and fired by operation count:
//   - power loss before the n-th operation of any kind (then: fates as above);
//   - a Sync or SyncDir failing with EIO: that file's (directory's) pending operations meet their
//     fates at once, as when the kernel drops dirty pages, and the error is returned once — a later
//     sync succeeds and proves nothing;
//   - a read (ReadAt, Map) failing with EIO, once;
//   - a write (WriteAt, Allocate, a growing Truncate) failing with ENOSPC after writing a prefix
//     of its bytes drawn from the seed (possibly none), once;
//   - a Truncate (growing or shrinking) failing with EIO before it changes the file, once;
//   - a Rename failing with EIO before it changes anything, once;
//   - a torn write that kills the process (`crash: {torn_bytes, db}`);
//   - a flipped bit in synced data at rest (FlipBit, while the process is down).
// After a power loss or process crash, every operation fails until Restart(); handles opened
// before Restart() fail for ever (a new process opens its files again).
//
// Not thread-safe: one FaultDisk per run.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "db/env.h"
#include "sim/seed.h"

namespace supersafe::sim {

// How many of each storage fault fired (the fuzzer's coverage counters).
struct DiskCounters {
  uint64_t crash = 0;          // power losses
  uint64_t process_crash = 0;  // torn writes that killed the process
  uint64_t torn_write = 0;     // pending writes torn by a power loss or a failed sync
  uint64_t lost_write = 0;     // pending writes lost likewise
  uint64_t lost_entry = 0;     // pending directory entries lost likewise
  uint64_t fsync_error = 0;
  uint64_t read_error = 0;
  uint64_t no_space = 0;
  uint64_t bit_flip = 0;
  uint64_t broken_writes = 0;  // writes to `.broken` files (torn tails moved there by recovery)
  uint64_t truncate_error = 0;
  uint64_t rename_error = 0;
};

enum class DiskFault : uint8_t { kPowerLoss, kSyncError, kReadError, kNoSpace, kTruncateError, kRenameError };
// "crash", "fsync_error", "read_error", "no_space", "truncate_error", "rename_error"
const char* DiskFaultName(DiskFault f);

// How many operations of each kind a disk has seen, as Arm counts them (a clean run's totals bound
// a loop that fails each one in turn).
struct DiskOpCounts {
  uint64_t operations = 0;
  uint64_t syncs = 0;      // Sync, SyncDir
  uint64_t reads = 0;      // ReadAt, Map
  uint64_t writes = 0;     // WriteAt, Allocate, a growing Truncate
  uint64_t truncates = 0;  // Truncate, growing or shrinking
  uint64_t renames = 0;
};

class FaultDisk final : public db::Env {
 public:
  // `base` holds the files and must outlive the disk; `seed` draws every outcome.
  FaultDisk(db::Env* base, uint64_t seed);
  ~FaultDisk() override;

  // Arms `fault` to fire at the `nth` operation it applies to, counted from now (1: the next
  // one): any operation for a power loss; syncs, reads or writes for the others. Armed faults of
  // one kind queue up. Truncates and renames count for kTruncateError and kRenameError.
  void Arm(DiskFault fault, uint64_t nth);
  // Arms a process crash at the next WriteAt to a file whose name is one of `names` (any file if
  // `names` is empty): only its first `torn_bytes` bytes (clamped to 1..length-1) are written.
  // Armed crashes fire in order.
  void ArmTornWrite(std::vector<std::string> names, uint64_t torn_bytes);
  // Flips one bit, drawn from the seed, of the synced content of `file` (up to its last nonzero
  // byte) while no process runs. Returns the byte offset, or nullopt if the file has no content.
  Result<std::optional<uint64_t>> FlipBit(const std::filesystem::path& file);
  // Flips back the bit of the last FlipBit (the damage repaired, e.g. from a backup).
  Status UndoFlip();
  // Whether the file still holds the byte the last FlipBit damaged, as damaged, at its offset.
  bool FlipStillThere();
  // Forgets the last FlipBit without repairing it (recovery moved the damaged bytes away).
  void ForgetFlip() { last_flip_.reset(); }

  // True after a power loss or a process crash, until Restart().
  bool process_dead() const { return process_dead_; }
  // A new process: the disk takes operations again; handles from before fail.
  void Restart();
  // How many times Restart() ran: which process is using the disk.
  uint64_t generation() const { return generation_; }
  // Whether any fault is armed and has not fired.
  bool armed() const;
  const DiskCounters& counters() const { return counters_; }
  // Operations so far (every call on the disk or a handle).
  uint64_t operations() const { return operations_; }
  DiskOpCounts op_counts() const { return {operations_, syncs_, reads_, writes_, truncates_, renames_}; }
  db::Env* base() const { return base_; }
  // The files (normalized paths) written, truncated, created, removed or renamed since the last
  // call, by the process or by a fault.
  std::set<std::string> TakeModified() { return std::exchange(modified_, {}); }

  // db::Env
  Result<Opened> Open(const std::filesystem::path& path, OpenMode mode) override;
  Result<db::FileType> TypeOf(const std::filesystem::path& path) override;
  Status CreateDir(const std::filesystem::path& dir) override;
  Status SyncDir(const std::filesystem::path& dir) override;
  Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status Remove(const std::filesystem::path& path) override;
  Status RemoveDir(const std::filesystem::path& dir) override;
  Result<std::vector<std::string>> List(const std::filesystem::path& dir) override;

 private:
  friend class FaultFile;
  enum class OpKind : uint8_t { kOther, kSync, kRead, kWrite };
  // Counts an operation and fires what is armed for it; an error if the operation must fail
  // (`no_space_prefix` receives how many bytes of a failing write still go through).
  Status Enter(OpKind kind, uint64_t generation, const std::filesystem::path& path);
  // Counts a truncate or a rename (`fault` names which) and whether an armed fault for it fires.
  bool CountAndFire(DiskFault fault);

  // What a pending data operation changed, to undo it: the file was `old_size` bytes and held
  // `old` at `offset` (the part of [offset, offset + length) below old_size and below the file's
  // data end); the rest of the range below old_size held zeros.
  struct DataOp {
    bool is_write = false;
    uint64_t offset = 0;
    uint64_t length = 0;
    uint64_t old_size = 0;
    Bytes old;
  };
  struct EntryOp {
    enum class Kind : uint8_t { kCreateFile, kCreateDir, kRemove, kRename } kind = Kind::kCreateFile;
    std::string path;   // created, removed, or renamed from
    std::string to;     // renamed to
    Bytes removed;      // kRemove: the file's bytes; kRename: the bytes `to` held (if it existed)
    bool replaced = false;
  };
  void RecordData(const std::string& path, DataOp op);
  // Draws the fates of the pending operations of one file, newest first, and applies them.
  void ResolveFile(const std::string& path);
  // The same for one directory's pending entries.
  void ResolveDir(const std::string& dir);
  void PowerLoss();
  void RemoveTree(const std::filesystem::path& dir);
  Status Restore(const std::filesystem::path& path, const Bytes& bytes);

  db::Env* base_;
  SplitMix64 rng_;
  std::map<std::string, std::vector<DataOp>> pending_data_;    // by file
  std::map<std::string, std::vector<EntryOp>> pending_entries_;  // by parent directory
  struct Armed {
    DiskFault fault;
    uint64_t at;  // operation count (of its kind) at which it fires
  };
  std::vector<Armed> armed_;
  struct TornWrite {
    std::vector<std::string> names;
    uint64_t torn_bytes;
  };
  std::deque<TornWrite> torn_writes_;
  uint64_t operations_ = 0;
  uint64_t syncs_ = 0;
  uint64_t reads_ = 0;
  uint64_t writes_ = 0;
  uint64_t truncates_ = 0;
  uint64_t renames_ = 0;
  uint64_t generation_ = 0;
  bool process_dead_ = false;
  struct Flip {
    std::filesystem::path file;
    uint64_t offset;
    uint8_t mask;
    uint8_t damaged;  // the byte as the flip left it
  };
  std::optional<Flip> last_flip_;
  std::set<std::string> modified_;
  DiskCounters counters_;
};

}  // namespace supersafe::sim
