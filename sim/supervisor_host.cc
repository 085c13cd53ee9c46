#include "sim/supervisor_host.h"

namespace supersafe::sim {

namespace {
// A failed open is retried while it fails with kIOError: each injected fault fires once, so this
// bounds the retries only against a bug.
constexpr int kMaxOpenAttempts = 64;
}  // namespace

SupervisorHost::SupervisorHost(FaultDisk& disk, std::filesystem::path datadir, supervisor::DependencySet deps,
                               supervisor::Sources sources, Trace& trace)
    : disk_(&disk), datadir_(std::move(datadir)), deps_(std::move(deps)), sources_(std::move(sources)), trace_(&trace) {}

Status SupervisorHost::OpenOnce() {
  supervisor::Options options;
  options.env = disk_;
  const uint64_t broken_before = disk_->counters().broken_writes;
  auto sv = supervisor::Supervisor::Open(datadir_, deps_, sources_, options);
  if (disk_->counters().broken_writes > broken_before) ++torn_tail_recoveries_;
  if (!sv.ok()) return sv.status();
  sv_ = std::move(sv).value();
  ++generation_;
  return Status::Ok();
}

Status SupervisorHost::OpenRetrying() {
  for (int attempt = 1;; ++attempt) {
    Status s = OpenOnce();
    if (s.ok()) return s;
    const bool fault = disk_->process_dead() || s.code() == Code::kIOError;
    if (!fault || attempt == kMaxOpenAttempts) return s;
    trace_->Add("open_failed", {{"error", ToJson(s)}});
    disk_->Restart();  // a new process tries again
  }
}

Status SupervisorHost::TryOpen() {
  Stop();
  return OpenRetrying();
}

Status SupervisorHost::Start() { return OpenRetrying().WithContext("opening the supervisor"); }

Status SupervisorHost::Restart() {
  Stop();
  trace_->Add("restart");
  return Start();
}

void SupervisorHost::Stop() {
  sv_.reset();
  disk_->Restart();
}

void SupervisorHost::ArmCrash(CrashDb db, size_t torn_bytes) {
  disk_->ArmTornWrite(db == CrashDb::kSafe ? std::vector<std::string>{"supersafe.db"}
                                           : std::vector<std::string>{"events.db", "replacements.db"},
                      torn_bytes);
  trace_->Add("crash_armed", {{"db", db == CrashDb::kSafe ? "safe" : "events"}, {"torn_bytes", torn_bytes}});
}

void SupervisorHost::ReviveIfDead() {
  if (sv_ == nullptr || !(sv_->dead() || disk_->process_dead())) return;
  ++crashes_;
  Stop();
  Status s = Start();
  trace_->Add("crash_recovered", {{"reopen", ToJson(s)}});
  if (!s.ok() && !fatal_) fatal_ = s;
}

}  // namespace supersafe::sim
