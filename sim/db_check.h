// The runner's database invariant check (docs/scenario-format.md, "Invariants"): what
// db::VerifySuperSafeDB, db::VerifyEventDB and db::VerifyReplacementLog report on the data
// directory's files, after every step, without reading the whole files every time. It reads what
// the run's disk holds (FaultDisk::base()), outside the supervisor process's I/O.
//
// The files are append-only between rewinds, so a step only has to look at what it appended.
// The disk says which files were written, truncated or renamed since the last check (FaultDisk::
// TakeModified); the others are not looked at. For a written one, Step() keeps how far it has
// verified and gives the verifier only a file (a scratch file in memory) made of the bytes it has
// not seen plus the context the verifier needs to check them exactly as in the whole file: for an
// event-log DB, the file header and the last block verified before (so the first new block's
// number and parent are checked against it); for the super-safe-db, the groups from the newest
// group of the L1 number before the tip's on (so the cross-safe regression rule and the key order
// are checked across the boundary). The bytes it verified before are taken to be unchanged when
// the file did not shrink and that context is byte for byte as it was; otherwise (a rewind, a
// recovered torn write) the whole file is verified again. When the new bytes show a problem, the
// findings reported are those of the verifier on the whole file. Full() verifies the whole files;
// the runner calls it at the end of a run, so damage to bytes verified earlier that the context
// comparison cannot see is still found there. Both databases are taken to end where their
// preallocated zero tail starts (the first all-zero entry); the verifier judges that tail itself.
// The replacement logs are small: a written one is verified whole.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "core/types.h"
#include "db/mem_env.h"
#include "db/super_safe_db.h"
#include "sim/fault_disk.h"

namespace supersafe::sim {

class DatabaseCheck {
 public:
  // The super-safe-db, then the event-log DB and the replacement log of each chain, in chain-index
  // order, under `datadir` on `disk` (which must outlive the check).
  DatabaseCheck(FaultDisk& disk, const std::filesystem::path& datadir, const std::vector<ChainID>& chains);
  ~DatabaseCheck();
  DatabaseCheck(const DatabaseCheck&) = delete;
  DatabaseCheck& operator=(const DatabaseCheck&) = delete;

  // The findings of the verifiers on every file (super-safe-db first), checking only what changed
  // since the previous call.
  std::vector<db::Finding> Step();
  // The same on the whole files.
  std::vector<db::Finding> Full();
  // Whether the last Step() found a file that had shrunk or changed in bytes verified before
  // (a rewind, a recovered torn write), rather than only grown.
  bool rewritten() const { return rewritten_; }
  // Whether the last Step() found the super-safe-db (resp. chain `chain`'s event-log DB) written.
  bool safe_db_written() const { return written_.at(0); }
  bool events_written(size_t chain) const { return written_.at(chain + 1); }

 private:
  struct File;
  std::vector<db::Finding> Check(File& f, bool full);
  // Marks the files the disk saw modified.
  void NoteModifications();
  FaultDisk* disk_;
  std::vector<std::unique_ptr<File>> files_;
  std::unique_ptr<db::MemEnv> scratch_env_;  // holds the scratch file the verifiers read the new bytes from
  Bytes read_buffer_;  // the bytes of the file being checked, reused
  bool rewritten_ = false;
  std::vector<bool> written_;  // per file, in files_ order
};

}  // namespace supersafe::sim
