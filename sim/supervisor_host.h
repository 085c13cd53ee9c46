// Owns the supervisor of a run: opens it on the data directory, restarts it, arms simulated
// crashes, and reopens it at once (with recovery) when a crash fired during a call.
//
// Every call to the supervisor goes through Call(), which revives a dead supervisor afterwards; a
// reopen that fails (e.g. recovery finds corruption) is recorded in fatal() and ends the run.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "db/file.h"
#include "sim/scenario.h"
#include "sim/trace.h"
#include "supervisor/supervisor.h"

namespace supersafe::sim {

class SupervisorHost {
 public:
  SupervisorHost(std::filesystem::path datadir, supervisor::DependencySet deps, supervisor::Sources sources,
                 Trace& trace);
  SupervisorHost(const SupervisorHost&) = delete;
  SupervisorHost& operator=(const SupervisorHost&) = delete;

  // Opens the supervisor on the data directory (first start).
  Status Start();
  // Stops the supervisor cleanly and opens it again on the same data directory.
  Status Restart();
  // Arms a torn write for the next append to the super-safe-db or an event-log DB. Armed crashes
  // survive restarts and fire in order.
  void ArmCrash(CrashDb db, size_t torn_bytes);

  // Runs `f(supervisor)`, then reopens the supervisor if a simulated crash fired during it.
  template <typename F>
  auto Call(F&& f) -> decltype(f(std::declval<supervisor::Supervisor&>())) {
    using R = decltype(f(std::declval<supervisor::Supervisor&>()));
    if (sv_ == nullptr) return R(*fatal_);  // reopening failed earlier: the run is over
    R result = f(*sv_);
    ReviveIfDead();
    return result;
  }

  // Number of crash recoveries so far (fired crashes).
  size_t crashes() const { return crashes_; }
  // Counts the opens (start, restarts, crash recoveries): a new value means a fresh process that
  // has forgotten everything not on disk.
  size_t generation() const { return generation_; }
  // Set when reopening failed: the run cannot go on.
  const std::optional<Status>& fatal() const { return fatal_; }

 private:
  void ReviveIfDead();

  std::filesystem::path datadir_;
  supervisor::DependencySet deps_;
  supervisor::Sources sources_;
  Trace* trace_;
  db::CrashSwitch safe_crash_;
  db::CrashSwitch events_crash_;
  std::unique_ptr<supervisor::Supervisor> sv_;
  size_t crashes_ = 0;
  size_t generation_ = 0;
  std::optional<Status> fatal_;
};

}  // namespace supersafe::sim
