// The runner's database invariant check (docs/scenario-format.md, "Invariants"): what
// db::VerifySuperSafeDB, db::VerifyEventDB and db::VerifyReplacementLog report on the data
// directory's files, after every step, without reading the whole files every time. It reads what
// the run's disk holds (FaultDisk::base()), outside the supervisor process's I/O.
//
// One incremental verifier per file (db/verifier.h): the disk says which files were written,
// truncated or renamed since the last check (FaultDisk::TakeModified); the others are not looked
// at. A modified one is verified from where its verifier got to, and whole when it shrank or
// changed in what was verified before (a rewind, a recovered torn write) or when the new bytes show
// a problem; its findings are always those of the verifier on the whole file. After a restart (the
// disk's generation moved on: a new process opened and recovered the files) Step() verifies every
// file whole; Full() does so at any time, and the runner calls it at the end of a run, so damage to
// bytes verified earlier that the verifiers' context comparison cannot see is still found there.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "core/types.h"
#include "db/database.h"
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
  // Marks the files the disk saw modified.
  void NoteModifications();
  FaultDisk* disk_;
  std::vector<std::unique_ptr<File>> files_;
  uint64_t generation_ = 0;  // the disk's at the last check
  bool rewritten_ = false;
  std::vector<bool> written_;  // per file, in files_ order
};

}  // namespace supersafe::sim
