#include "sim/supervisor_host.h"

namespace supersafe::sim {

SupervisorHost::SupervisorHost(std::filesystem::path datadir, supervisor::DependencySet deps,
                               supervisor::Sources sources, Trace& trace)
    : datadir_(std::move(datadir)), deps_(std::move(deps)), sources_(std::move(sources)), trace_(&trace) {}

Status SupervisorHost::Start() {
  supervisor::Options options;
  options.safe_db_crash = &safe_crash_;
  options.events_db_crash = &events_crash_;
  auto sv = supervisor::Supervisor::Open(datadir_, deps_, sources_, options);
  if (!sv.ok()) return sv.status().WithContext("opening the supervisor");
  sv_ = std::move(sv).value();
  ++generation_;
  return Status::Ok();
}

Status SupervisorHost::Restart() {
  sv_.reset();
  trace_->Add("restart");
  return Start();
}

void SupervisorHost::ArmCrash(CrashDb db, size_t torn_bytes) {
  (db == CrashDb::kSafe ? safe_crash_ : events_crash_).Arm(torn_bytes);
  trace_->Add("crash_armed", {{"db", db == CrashDb::kSafe ? "safe" : "events"}, {"torn_bytes", torn_bytes}});
}

void SupervisorHost::ReviveIfDead() {
  if (sv_ == nullptr || !sv_->dead()) return;
  ++crashes_;
  sv_.reset();
  Status s = Start();
  trace_->Add("crash_recovered", {{"reopen", ToJson(s)}});
  if (!s.ok() && !fatal_) fatal_ = s;
}

}  // namespace supersafe::sim
