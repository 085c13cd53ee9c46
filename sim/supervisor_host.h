// Owns the supervisor process of a run: opens it on the data directory of the run's disk,
// restarts it, and starts a new process at once when the old one died during a call — a crash,
// a power loss, or a database write or sync that failed (the supervisor never goes on after one).
//
// Every call to the supervisor goes through Call(), which revives a dead supervisor afterwards. An
// open that fails with kIOError while a disk fault fired (a read error, a crash during recovery)
// is retried as a new process; one that fails otherwise (e.g. recovery finds corruption) is
// recorded in fatal() and ends the run.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "sim/fault_disk.h"
#include "sim/scenario.h"
#include "sim/trace.h"
#include "supervisor/supervisor.h"

namespace supersafe::sim {

class SupervisorHost {
 public:
  // `disk` holds the data directory and must outlive the host.
  SupervisorHost(FaultDisk& disk, std::filesystem::path datadir, supervisor::DependencySet deps,
                 supervisor::Sources sources, Trace& trace);
  SupervisorHost(const SupervisorHost&) = delete;
  SupervisorHost& operator=(const SupervisorHost&) = delete;

  // Opens the supervisor on the data directory (first start).
  Status Start();
  // Stops the supervisor cleanly and opens it again on the same data directory.
  Status Restart();
  // Stops the supervisor (no process runs until Start).
  void Stop();
  // Stops the supervisor and opens it as a new process, retrying while injected faults fail the
  // open, without recording a failure: how a run checks that a damaged data directory is refused.
  // On success the supervisor runs.
  Status TryOpen();
  // Arms a torn write for the next append to the super-safe-db or an event-log DB (or replacement
  // log). Armed crashes survive restarts and fire in order.
  void ArmCrash(CrashDb db, size_t torn_bytes);

  // Runs `f(supervisor)`, then starts a new process if the supervisor died during it.
  template <typename F>
  auto Call(F&& f) -> decltype(f(std::declval<supervisor::Supervisor&>())) {
    using R = decltype(f(std::declval<supervisor::Supervisor&>()));
    if (sv_ == nullptr) return R(fatal_.value_or(IOError("the supervisor is not running")));
    R result = f(*sv_);
    ReviveIfDead();
    return result;
  }

  // Number of times the supervisor died and was started again.
  size_t crashes() const { return crashes_; }
  // Counts the opens (start, restarts, crash recoveries): a new value means a fresh process that
  // has forgotten everything not on disk.
  size_t generation() const { return generation_; }
  // Opens that moved a torn tail to a `.broken` file.
  size_t torn_tail_recoveries() const { return torn_tail_recoveries_; }
  // Set when reopening failed: the run cannot go on.
  const std::optional<Status>& fatal() const { return fatal_; }
  FaultDisk& disk() { return *disk_; }
  const std::filesystem::path& datadir() const { return datadir_; }

 private:
  void ReviveIfDead();
  Status OpenOnce();
  // Opens, again as a new process while an injected fault (kIOError, or a crash during recovery)
  // fails it; the first other outcome.
  Status OpenRetrying();

  FaultDisk* disk_;
  std::filesystem::path datadir_;
  supervisor::DependencySet deps_;
  supervisor::Sources sources_;
  Trace* trace_;
  std::unique_ptr<supervisor::Supervisor> sv_;
  size_t crashes_ = 0;
  size_t generation_ = 0;
  size_t torn_tail_recoveries_ = 0;
  std::optional<Status> fatal_;
};

}  // namespace supersafe::sim
