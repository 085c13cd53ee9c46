// A torn write on demand, for the database tests: the real file system behind the simulator's disk
// (sim/fault_disk.h), on which Arm(n) makes the next write of a database file (supersafe.db,
// events.db or replacements.db; not a .broken file) write only its first n bytes (clamped to
// 1..length-1) and kill the "process", as the scenarios' `crash` step does.
#pragma once

#include "db/database.h"
#include "sim/fault_disk.h"

namespace supersafe::testing {

class CrashDisk {
 public:
  CrashDisk() : disk_(db::Env::Posix(), 0) {}
  void Arm(size_t torn_bytes) { disk_.ArmTornWrite({"supersafe.db", "events.db", "replacements.db"}, torn_bytes); }
  bool armed() const { return disk_.armed(); }
  // Options for opening a database as a new process would: handles opened before fail.
  db::OpenOptions options() {
    disk_.Restart();
    return db::OpenOptions{&disk_};
  }

 private:
  sim::FaultDisk disk_;
};

}  // namespace supersafe::testing
