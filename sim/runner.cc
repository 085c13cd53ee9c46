#include "sim/runner.h"

#include <algorithm>
#include <array>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <variant>

#include "core/check.h"
#include "db/event_db.h"
#include "db/mem_env.h"
#include "db/super_safe_db.h"
#include "sim/builder.h"
#include "sim/digest.h"
#include "sim/expectations.h"
#include "sim/fault_disk.h"
#include "sim/message_edges.h"
#include "sim/op_node.h"
#include "sim/state_checker.h"
#include "sim/sources.h"
#include "sim/supervisor_host.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace supersafe::sim {

namespace {

// A step fails when this many rounds in a row change something without progress (Runner::Progress);
// a step with more work takes as many rounds as its progress needs.
constexpr int kMaxIdleRounds = 64;
constexpr const char* kMemoryDatadir = "/datadir";  // the data directory on the memory disk

std::string Num(uint64_t v) { return std::to_string(v); }

std::filesystem::path EventsFile(const std::filesystem::path& datadir, const ChainID& id) {
  return datadir / "chains" / id.Decimal() / "events.db";
}


class Runner {
 public:
  Runner(const Scenario& scenario, const RunOptions& options)
      : scenario_(scenario),
        options_(options),
        world_(scenario, options.seed),
        l1_source_(world_),
        mem_env_(options.disk == DiskKind::kMemory ? std::make_unique<db::MemEnv>() : nullptr),
        disk_(mem_env_ ? static_cast<db::Env*>(mem_env_.get()) : db::Env::Posix(), options.seed),
        datadir_(options.disk == DiskKind::kMemory ? std::filesystem::path(kMemoryDatadir) : options.datadir) {
    if (mem_env_) SS_CHECK(mem_env_->CreateDir(datadir_).ok(), "creating the in-memory data directory");
    supervisor::DependencySet deps;
    deps.expiry_window = scenario.expiry_window;
    deps.genesis_l1 = world_.l1().at(0).ref;
    supervisor::Sources sources;
    sources.l1 = &l1_source_;
    for (size_t i = 0; i < world_.chain_count(); ++i) {
      const L2Chain& c = world_.chain(i);
      supervisor::ChainConfig cfg;
      cfg.id = c.id();
      cfg.genesis = c.unsafe().at(0).ref;
      cfg.block_time = c.block_time();
      cfg.interop_time = c.interop_time();
      deps.chains.push_back(cfg);
      chain_sources_.push_back(std::make_unique<SimChainSource>(world_, i));
      sources.chains[c.id()] = chain_sources_.back().get();
    }
    host_ = std::make_unique<SupervisorHost>(disk_, datadir_, std::move(deps), std::move(sources), trace_);
    for (size_t i = 0; i < world_.chain_count(); ++i) {
      nodes_.push_back(std::make_unique<OpNode>(world_, i, *host_, trace_));
      if (scenario.nodes == NodesMode::kAuto)
        nodes_.back()->SetInvalidCheck([this](size_t c, const BlockID& b, uint64_t v) { return checker_->CheckInvalid(c, b, v); });
    }
    checker_ = std::make_unique<StateChecker>(scenario, world_, *host_, disk_, datadir_);
    timeline_.scenario = scenario.name;
    timeline_.description = scenario.description;
    timeline_.seed = options.seed;
    for (const auto& c : scenario.chains) timeline_.chains.push_back(c.name);
  }

  RunResult Run();
  // The result of a run that a failed check (core/check.h) stopped inside step `current_step_`.
  RunResult Stopped(const std::string& what);

 private:
  // The step asked for what the world cannot do (FailureKind::kStep).
  Status Impossible(const Step& step, const std::string& what) const {
    return InvalidArgument("step " + Num(step.index) + " (line " + Num(step.line) + ", " + step.kind + "): " + what);
  }
  Status Apply(const Step& step);
  Status ApplyCall(const Step& step, const CallStep& call);
  Status ApplyRewind(const Step& step, const RewindStep& rewind);
  // Builds `blocks` blocks on `chain`, the k-th (from 1) with the logs whose `every` divides k.
  void BuildBlocks(size_t chain, uint64_t blocks, const std::vector<LogSpec>& logs, bool force);
  Status Settle(const Step& step);
  Status Round();
  uint64_t Progress();
  // Everything a round can change: the nodes' state and the supervisor's heads (or its error).
  struct Fingerprint {
    std::vector<OpNode::State> nodes;
    std::vector<std::variant<std::string, std::array<BlockID, 7>>> heads;
    bool operator==(const Fingerprint&) const = default;
  };
  // Fills `f` (its storage reused between rounds).
  void TakeFingerprint(Fingerprint& f);
  Status CheckExpectation(const Step& step, const Expectation& e);
  Status CollectAcks(const Step& step);
  void RecordTimeline(const Step& step);
  const L2Chain& Chain(size_t i) const { return world_.chain(i); }

  Status ApplyFault(const Step& step, const FaultStep& fault);
  // The coverage counters at the end of the run.
  std::map<std::string, uint64_t> Coverage() const;

  const Scenario& scenario_;
  RunOptions options_;
  Trace trace_;
  World world_;
  SimL1Source l1_source_;
  std::unique_ptr<db::MemEnv> mem_env_;  // the files, with DiskKind::kMemory
  FaultDisk disk_;
  std::filesystem::path datadir_;
  std::vector<std::unique_ptr<SimChainSource>> chain_sources_;
  std::unique_ptr<SupervisorHost> host_;
  std::vector<std::unique_ptr<OpNode>> nodes_;
  std::unique_ptr<StateChecker> checker_;
  std::optional<CallOutcome> last_call_;
  Timeline timeline_;
  MessageEdgeRecorder edges_{world_};
  std::vector<Mark> marks_;  // of the current step
  size_t crashes_seen_ = 0;
  size_t current_step_ = 0;
  // Coverage (RunResult::coverage) that the disk and the host do not count.
  uint64_t reorgs_ = 0, flip_flops_ = 0, replacements_ = 0, cascades_ = 0, restarts_ = 0, corruption_refusals_ = 0,
           flips_taken_for_torn_writes_ = 0, divergent_batches_ = 0;
  std::set<Hash> l1_heads_seen_;  // every L1 head a step ended on (a reorg back to one is a flip-flop)
  Fingerprint fingerprints_[2];   // Settle's before and after
};

RunResult Runner::Run() {
  RunResult result;
  trace_.RedactPath(datadir_.string());
  if (!options_.record) trace_.Disable();
  Json chains = Json::array();
  for (const auto& c : scenario_.chains)
    chains.push_back({{"name", c.name}, {"id", c.id.Decimal()}, {"block_time", c.block_time},
                      {"interop_time", c.interop_time}});
  trace_.Add("start", {{"scenario", scenario_.name}, {"seed", options_.seed}, {"chains", chains},
                       {"nodes", scenario_.nodes == NodesMode::kAuto ? "auto" : "manual"},
                       {"steps", scenario_.steps.size()}});
  if (options_.disk_at_start) options_.disk_at_start(disk_);
  Status status = host_->Start();
  if (!status.ok()) status = Internal("start: " + status.message());
  for (const Step& step : scenario_.steps) {
    if (!status.ok()) break;
    if (options_.progress)
      std::cerr << "\r  " << scenario_.name << ": step " << step.index << "/" << scenario_.steps.size() << std::flush;
    current_step_ = step.index;
    trace_.SetStep(step.index);
    trace_.Add("step", Fields().String("kind", step.kind).Int("line", step.line).String("label", step.label));
    marks_.clear();
    result.steps_run = step.index;
    status = Apply(step);
    if (!status.ok()) result.failure_kind = status.code() == Code::kInvalidArgument ? FailureKind::kStep : FailureKind::kInvariant;
    if (status.ok() && scenario_.nodes == NodesMode::kAuto) status = Settle(step);
    if (status.ok()) status = CollectAcks(step);
    if (host_->crashes() != crashes_seen_) {
      marks_.push_back({MarkKind::kCrash, "", "supervisor crashed and recovered"});
      crashes_seen_ = host_->crashes();
    }
    l1_heads_seen_.insert(world_.l1().head().ref.hash);
    std::set<std::string> replaced_chains;
    for (const Mark& m : marks_)
      if (m.kind == MarkKind::kReplacement) ++replacements_, replaced_chains.insert(m.chain);
    if (replaced_chains.size() >= 2) ++cascades_;
    if (status.ok() && host_->fatal()) status = Breach(step, "supervisor could not reopen: " + host_->fatal()->ToString());
    if (status.ok() && scenario_.nodes == NodesMode::kAuto) PrunePools(world_, *host_, trace_);  // tx pools
    if (status.ok()) {
      if (const auto* e = std::get_if<ExpectStep>(&step.action)) status = CheckExpectation(step, e->what);
      if (!status.ok()) result.failure_kind = FailureKind::kExpectation;
    }
    if (status.ok() && options_.check_invariants) status = checker_->CheckStep(step);
    if (!status.ok()) {
      marks_.push_back({MarkKind::kFailure, "", status.message()});
      trace_.Add("failure", {{"what", status.message()}});
    }
    if (options_.record) RecordTimeline(step);
  }
  if (options_.progress) std::cerr << "\r\033[K" << std::flush;
  // Every step checked what it wrote; the whole files once more at the end.
  if (status.ok() && !scenario_.steps.empty() && options_.check_invariants) {
    status = checker_->CheckEnd(scenario_.steps.back());
    if (!status.ok()) {
      trace_.Add("failure", {{"what", status.message()}});
      if (options_.record) timeline_.steps.back().marks.push_back({MarkKind::kFailure, "", status.message()});
    }
  }
  trace_.SetStep(result.steps_run);
  if (trace_.enabled()) {
    Json dbs{{"supersafe.db", Sha256OfContent(disk_.base(), datadir_ / "supersafe.db").Hex()}};
    for (size_t i = 0; i < world_.chain_count(); ++i)
      dbs[Chain(i).name()] = Sha256OfContent(disk_.base(), EventsFile(datadir_, Chain(i).id())).Hex();
    trace_.Add("end", {{"passed", status.ok()}, {"databases", dbs}});
  }
  if (status.ok() && options_.at_end)
    (void)host_->Call([&](supervisor::Supervisor& sv) {
      options_.at_end(sv, world_);
      return Status::Ok();
    });
  result.coverage = Coverage();
  if (options_.disk_at_end) options_.disk_at_end(disk_);
  result.passed = status.ok();
  if (!result.passed && result.failure_kind == FailureKind::kNone) result.failure_kind = FailureKind::kInvariant;
  result.failure = status.ok() ? "" : status.message();
  timeline_.passed = result.passed;
  timeline_.failure = result.failure;
  if (options_.record) {
    if (!timeline_.steps.empty()) {
      std::vector<uint64_t> cross_safe;
      for (const ChainHeads& h : timeline_.steps.back().heads) cross_safe.push_back(h.cross_safe);
      edges_.SetFates(timeline_, cross_safe);
    }
    result.digest = trace_.Digest();
    result.trace = trace_.TakeBytes();
    result.timeline = std::move(timeline_);
  }
  return result;
}

Status Runner::Apply(const Step& step) {
  auto fail = [&](const std::string& what) { return Impossible(step, what); };
  return std::visit(
      [&](const auto& a) -> Status {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, BuildStep>) {
          BuildBlocks(a.chain, a.blocks, a.logs, a.force);
        } else if constexpr (std::is_same_v<T, BatchStep>) {
          size_t n = world_.QueueBatch(a.chain, a.through);
          trace_.Add("batch", {{"chain", Chain(a.chain).name()}, {"blocks", n}});
        } else if constexpr (std::is_same_v<T, BatchDivergentStep>) {
          const L2Chain& c = Chain(a.chain);
          if (a.block > c.head().ref.number)
            return fail(c.name() + " has no unsafe block " + Num(a.block) + " to post another block beside (head " +
                        Num(c.head().ref.number) + ")");
          if (a.block <= world_.derivation(a.chain).safe().number)
            return fail(c.name() + "'s block " + Num(a.block) + " is local-safe already");
          if (world_.IsPosted(a.chain, c.unsafe()[a.block].ref.hash))
            return fail(c.name() + "'s block " + Num(a.block) + " is posted already (on L1 or queued)");
          const L2Block blk = BuildDivergentBlock(world_, *host_, trace_, a.chain, a.block, a.logs, a.force);
          size_t n = world_.QueueDivergentBatch(a.chain, blk);
          ++divergent_batches_;
          trace_.Add("batch_divergent", Fields().String("chain", c.name()).Block("block", blk.ref).Number("blocks", n));
        } else if constexpr (std::is_same_v<T, DropBatchesStep>) {
          size_t n = world_.DropQueuedBatches(a.chain);
          trace_.Add("drop_batches", {{"chain", Chain(a.chain).name()}, {"blocks", n}});
        } else if constexpr (std::is_same_v<T, MineStep>) {
          world_.Mine(a.count);
          trace_.Add("mine", {{"count", a.count}, {"head", ToJson(world_.l1().head().ref.ID())}});
        } else if constexpr (std::is_same_v<T, DeriveStep>) {
          OpNode& node = *nodes_[a.chain];
          node.Derive(a.to_l1.value_or(world_.l1().head().ref.number));
          SS_RETURN_IF_ERROR(node.ReportSafe().WithContext("step " + Num(step.index)));
          for (auto& note : node.TakeReplacementNotes()) marks_.push_back({MarkKind::kReplacement, Chain(a.chain).name(), note});
        } else if constexpr (std::is_same_v<T, SyncStep>) {
          nodes_[a.chain]->ReportUnsafe();
        } else if constexpr (std::is_same_v<T, ReorgL1Step>) {
          Status s = world_.ReorgL1(a.depth, a.fork, a.keep_batches);
          if (!s.ok()) return fail(s.message());
          trace_.Add("reorg_l1", {{"depth", a.depth}, {"fork", a.fork}, {"keep_batches", a.keep_batches},
                                  {"head", ToJson(world_.l1().head().ref.ID())}});
          ++reorgs_;
          if (l1_heads_seen_.count(world_.l1().head().ref.hash) > 0) ++flip_flops_;
          marks_.push_back({MarkKind::kL1Reorg, "", "L1 reorg depth " + Num(a.depth) + " -> fork " + a.fork});
        } else if constexpr (std::is_same_v<T, FinalizeL1Step>) {
          uint64_t head = world_.l1().head().ref.number;
          if (a.depth && *a.depth > head) return fail("finalize depth " + Num(*a.depth) + " exceeds the L1 head " + Num(head));
          uint64_t number = a.number ? *a.number : head - *a.depth;
          Status s = world_.l1().Finalize(number);
          if (!s.ok()) return fail(s.message());
          trace_.Add("finalize_l1", {{"finalized", ToJson(world_.l1().at(number).ref.ID())}});
        } else if constexpr (std::is_same_v<T, ReorgUnsafeStep>) {
          L2Chain& c = world_.chain(a.chain);
          uint64_t head = c.head().ref.number;
          uint64_t safe = world_.derivation(a.chain).safe().number;
          if (a.depth > head - safe) return fail("reorg_unsafe depth " + Num(a.depth) + " reaches below local-safe " + Num(safe));
          for (uint64_t n = head - a.depth + 1; n <= head; ++n)
            if (world_.IsPosted(a.chain, c.unsafe()[n].ref.hash))
              return fail("reorg_unsafe depth " + Num(a.depth) + ": block " + Num(n) + " of " + c.name() + " is already posted");
          c.CutTo(head - a.depth);
          trace_.Add("reorg_unsafe", {{"chain", c.name()}, {"depth", a.depth}});
          BuildBlocks(a.chain, a.depth, a.logs, a.force);
          marks_.push_back({MarkKind::kUnsafeReorg, c.name(), "unsafe reorg depth " + Num(a.depth)});
        } else if constexpr (std::is_same_v<T, RestartStep>) {
          Status s = host_->Restart();
          if (!s.ok()) return Breach(step, s.ToString());
          ++restarts_;
          marks_.push_back({MarkKind::kRestart, "", "supervisor restart"});
        } else if constexpr (std::is_same_v<T, CrashStep>) {
          host_->ArmCrash(a.db, a.torn_bytes);
        } else if constexpr (std::is_same_v<T, FaultStep>) {
          return ApplyFault(step, a);
        } else if constexpr (std::is_same_v<T, PoolStep>) {
          size_t pruned = PrunePool(world_, *host_, trace_, a.chain);
          trace_.Add("pool", {{"chain", Chain(a.chain).name()}, {"pruned", pruned}, {"pending", Chain(a.chain).pool().size()}});
        } else if constexpr (std::is_same_v<T, CallStep>) {
          return ApplyCall(step, a);
        } else if constexpr (std::is_same_v<T, RewindStep>) {
          return ApplyRewind(step, a);
        } else if constexpr (std::is_same_v<T, ResetStep>) {
          const uint64_t from = nodes_[a.chain]->Reset(a.to_l1.value_or(world_.l1().finalized()));
          trace_.Add("reset", {{"chain", Chain(a.chain).name()}, {"reports_after_l1", from}});
          marks_.push_back({MarkKind::kNote, Chain(a.chain).name(), "node reset: reports again after L1 " + Num(from)});
        }
        return Status::Ok();
      },
      step.action);
}

RunResult Runner::Stopped(const std::string& what) {
  trace_.Add("failure", {{"what", what}});
  RunResult result;
  result.steps_run = current_step_;
  result.failure = what;
  result.failure_kind = FailureKind::kInvariant;
  result.coverage = Coverage();
  timeline_.passed = false;
  timeline_.failure = what;
  if (options_.record) {
    result.digest = trace_.Digest();
    result.trace = trace_.TakeBytes();
    result.timeline = std::move(timeline_);
  }
  return result;
}

Status Runner::ApplyFault(const Step& step, const FaultStep& fault) {
  if (fault.kind != FaultKind::kBitFlip) {
    const DiskFault f = fault.kind == FaultKind::kCrash        ? DiskFault::kPowerLoss
                        : fault.kind == FaultKind::kFsyncError ? DiskFault::kSyncError
                        : fault.kind == FaultKind::kReadError  ? DiskFault::kReadError
                                                               : DiskFault::kNoSpace;
    disk_.Arm(f, fault.at);
    trace_.Add("fault_armed", {{"kind", FaultKindName(fault.kind)}, {"at", fault.at}});
    return Status::Ok();
  }
  // Bits rot at rest: the supervisor stops, one bit of the file's synced content flips, and the
  // supervisor must refuse to open, naming the file. Then the damage is repaired and it starts.
  const std::filesystem::path chain_dir = datadir_ / "chains" / Chain(fault.chain).id().Decimal();
  const std::filesystem::path file = fault.db == DbFile::kSafe     ? datadir_ / db::SuperSafeDB::kFileName
                                     : fault.db == DbFile::kEvents ? chain_dir / "events.db"
                                                                   : chain_dir / "replacements.db";
  host_->Stop();
  Result<std::optional<uint64_t>> flipped = disk_.FlipBit(file);
  if (!flipped.ok()) return Breach(step, "flipping a bit of " + file.filename().string() + ": " + flipped.status().ToString());
  std::string where = file.filename().string();
  if (*flipped) {
    where += "@" + Num(**flipped);
    const Status refused = host_->TryOpen();
    trace_.Add("bit_flip", {{"file", file.filename().string()}, {"offset", **flipped}, {"open", ToJson(refused)}});
    if (refused.ok()) {
      // In a preallocated file, damage in the last write can read as a write torn by a crash:
      // recovery then moves it to the .broken file (docs/decisions.md, "A bit flip in the last
      // write"). Only that is allowed; what was acknowledged in it is gone, so it is not checked.
      if (disk_.FlipStillThere()) return Breach(step, "a bit flipped at " + where + " went unnoticed: the supervisor opened");
      ++flips_taken_for_torn_writes_;
      checker_->ForgetAcks();
      for (auto& node : nodes_) node->ForgetUnsafeReport();
      disk_.ForgetFlip();
      marks_.push_back({MarkKind::kCrash, "", "bit flip at " + where + " taken for a torn write"});
      return Status::Ok();
    }
    if (refused.code() == Code::kIOError || refused.message().find(file.string()) == std::string::npos)
      return Breach(step, "a bit flipped at " + where + ": the supervisor's refusal does not name the file: " +
                              refused.ToString());
    ++corruption_refusals_;
    marks_.push_back({MarkKind::kCrash, "", "bit flip at " + where + " refused"});
    SS_RETURN_IF_ERROR(disk_.UndoFlip());
  } else {
    trace_.Add("bit_flip", {{"file", file.filename().string()}, {"offset", nullptr}});
  }
  Status s = host_->Start();
  if (!s.ok()) return Breach(step, "after the bit flip at " + where + " was repaired: " + s.ToString());
  return Status::Ok();
}

std::map<std::string, uint64_t> Runner::Coverage() const {
  const DiskCounters& d = disk_.counters();
  return {{"reorgs", reorgs_},
          {"flip_flops", flip_flops_},
          {"replacements", replacements_},
          {"divergent_batches", divergent_batches_},
          {"cascades", cascades_},
          {"restarts", restarts_},
          {"crash", d.crash + d.process_crash},
          {"torn_write", d.torn_write + d.process_crash},
          {"lost_write", d.lost_write + d.lost_entry},
          {"fsync_error", d.fsync_error},
          {"read_error", d.read_error},
          {"no_space", d.no_space},
          {"bit_flip", d.bit_flip},
          {"torn_tail_recoveries", host_->torn_tail_recoveries()},
          {"corruption_refusals", corruption_refusals_},
          {"flips_taken_for_torn_writes", flips_taken_for_torn_writes_}};
}

void Runner::BuildBlocks(size_t chain, uint64_t blocks, const std::vector<LogSpec>& logs, bool force) {
  std::vector<const LogSpec*> in_block;
  in_block.reserve(logs.size());
  for (uint64_t k = 1; k <= blocks; ++k) {
    in_block.clear();
    for (const LogSpec& l : logs)
      if (l.InBlock(k)) in_block.push_back(&l);
    BuildBlock(world_, *host_, trace_, chain, in_block, force);
  }
}

Status Runner::ApplyCall(const Step& step, const CallStep& call) {
  CallOutcome out;
  out.method = call.method;
  Json ev{{"method", CallMethodName(call.method)}};
  auto block_at = [&](size_t chain, uint64_t n) -> Result<BlockRef> {
    const L2Chain& c = Chain(chain);
    if (n >= c.unsafe().size()) return Impossible(step, "chain " + c.name() + " has no block " + Num(n));
    return c.unsafe()[n].ref;
  };
  auto l1_at = [&](uint64_t n) -> Result<BlockID> {
    if (n > world_.l1().head().ref.number) return Impossible(step, "L1 has no block " + Num(n));
    return world_.l1().at(n).ref.ID();
  };
  if (call.method != CallMethod::kCheckMessage) ev["chain"] = Chain(call.chain).name();
  const ChainID& id = Chain(call.chain).id();
  switch (call.method) {
    case CallMethod::kTryCrossSafe: {
      BlockID ls;
      if (call.local_safe) {
        SS_ASSIGN_OR_RETURN(BlockRef ref, block_at(call.chain, *call.local_safe));
        ls = ref.ID();
      } else {
        std::optional<BlockID> derived = world_.derivation(call.chain).CanonicalSafeAt(call.derived_from);
        if (!derived)
          return Impossible(step, Chain(call.chain).name() + "'s node has not derived the canonical L1 block " +
                                      Num(call.derived_from));
        ls = *derived;
      }
      SS_ASSIGN_OR_RETURN(BlockID l1, l1_at(call.derived_from));
      ev["local_safe"] = ToJson(ls);
      ev["derived_from"] = ToJson(l1);
      auto r = host_->Call([&](supervisor::Supervisor& sv) { return sv.TryCrossSafe(id, ls, l1); });
      out.status = r.status();
      if (r.ok()) {
        out.cross_safe = *r;
        ev["result"] = Json{{"status", supervisor::CrossSafeStatusName(r->status)},
                            {"cross_safe", ToJson(r->cross_safe)}, {"local_safe", ToJson(r->local_safe)}};
        if (r->status == supervisor::CrossSafeStatus::kAccept) SS_RETURN_IF_ERROR(checker_->RecordAck(step, {call.chain, l1, r->cross_safe, ls.number}));
      }
      break;
    }
    case CallMethod::kTryFinalize: {
      SS_ASSIGN_OR_RETURN(BlockID l1, l1_at(call.finalized_l1));
      ev["finalized_l1"] = ToJson(l1);
      auto r = host_->Call([&](supervisor::Supervisor& sv) { return sv.TryFinalize(id, l1); });
      out.status = r.status();
      if (r.ok()) out.block = *r, ev["result"] = ToJson(*r);
      break;
    }
    case CallMethod::kUpdateLocalUnsafe: {
      SS_ASSIGN_OR_RETURN(BlockRef ref, block_at(call.chain, call.unsafe.value_or(Chain(call.chain).head().ref.number)));
      ev["unsafe"] = ToJson(ref);
      out.status = host_->Call([&](supervisor::Supervisor& sv) { return sv.UpdateLocalUnsafe(id, ref); });
      break;
    }
    case CallMethod::kGetCrossUnsafe: {
      ev["max_number"] = call.max_number;
      auto r = host_->Call([&](supervisor::Supervisor& sv) { return sv.GetCrossUnsafe(id, call.max_number); });
      out.status = r.status();
      if (r.ok()) out.block = *r, ev["result"] = ToJson(*r);
      break;
    }
    case CallMethod::kRewind: break;  // a step of its own
    case CallMethod::kCheckMessage: {
      ExecutingMessage msg = ResolveMessage(world_, *call.message);
      ev["message"] = call.message->name;
      ev["payload_hash"] = msg.payload_hash.Hex();
      auto r = host_->Call([&](supervisor::Supervisor& sv) { return sv.CheckMessage(msg.id, msg.payload_hash); });
      out.status = r.status();
      if (r.ok()) out.level = *r, ev["result"] = SafetyLevelName(*r);
      break;
    }
  }
  if (!out.status.ok()) ev["result"] = ToJson(out.status);
  trace_.Add("call", ev);
  last_call_ = std::move(out);
  return Status::Ok();
}

Status Runner::ApplyRewind(const Step& step, const RewindStep& rewind) {
  const L2Chain& c = Chain(rewind.chain);
  if (rewind.block >= c.unsafe().size()) return Impossible(step, "chain " + c.name() + " has no block " + Num(rewind.block));
  const BlockID block = c.unsafe()[rewind.block].ref.ID();
  CallOutcome out;
  out.method = CallMethod::kRewind;
  out.status = host_->Call([&](supervisor::Supervisor& sv) { return sv.RewindUnsafe(c.id(), block); });
  trace_.Add("rewind", {{"chain", c.name()}, {"block", ToJson(block)}, {"result", ToJson(out.status)}});
  // The chain's node notices at its next sync-status exchange and reports its unsafe head again:
  // with auto nodes in the rounds of this step, with manual nodes at the next `sync`.
  if (out.status.ok()) nodes_[rewind.chain]->ForgetUnsafeReport();
  marks_.push_back({MarkKind::kNote, c.name(),
                    "admin_rewind to #" + Num(rewind.block) + (out.status.ok() ? "" : ": " + out.status.ToString())});
  last_call_ = std::move(out);
  return Status::Ok();
}

void Runner::TakeFingerprint(Fingerprint& f) {
  f.nodes.clear();
  for (auto& node : nodes_) f.nodes.push_back(node->Fingerprint());
  f.heads.resize(world_.chain_count());
  auto put = [&](size_t i, const supervisor::Heads& h) {
    f.heads[i] = std::array<BlockID, 7>{h.unsafe,    h.cross_unsafe,      h.local_safe,       h.cross_safe,
                                        h.finalized, h.local_safe_source, h.cross_safe_source};
  };
  // All at once; when that fails (as HeadsOf of the first chain would), chain by chain as before:
  // the first chain's answer is that failure, and the host has started a new process for the rest.
  auto all = host_->Call([&](supervisor::Supervisor& sv) { return sv.AllHeadsOf(); });
  if (all.ok()) {
    for (size_t i = 0; i < world_.chain_count(); ++i) put(i, (*all)[i]);
    return;
  }
  f.heads[0] = all.status().ToString();
  for (size_t i = 1; i < world_.chain_count(); ++i) {
    auto h = host_->Call([&](supervisor::Supervisor& sv) { return sv.HeadsOf(Chain(i).id()); });
    if (!h.ok()) {
      f.heads[i] = h.status().ToString();
      continue;
    }
    put(i, *h);
  }
}

Status Runner::Round() {
  const uint64_t head = world_.l1().head().ref.number;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    OpNode& node = *nodes_[i];
    node.Derive(head);
    node.ReportUnsafe();
    SS_RETURN_IF_ERROR(node.ReportSafe());
    for (auto& note : node.TakeReplacementNotes()) marks_.push_back({MarkKind::kReplacement, Chain(i).name(), note});
    node.ForwardFinality();
    if (host_->fatal()) return Status::Ok();
  }
  return Status::Ok();
}

// Progress a round can make: L1 blocks acknowledged, blocks replaced, crashes recovered. Within a
// step none of them grows without bound (L1 does not change during a step), so a run of rounds that
// changes things without making progress is a livelock.
uint64_t Runner::Progress() {
  uint64_t p = host_->crashes();
  for (auto& node : nodes_) {
    const OpNode::State st = node->Fingerprint();
    p += st.acked + st.replacements;
  }
  return p;
}

Status Runner::Settle(const Step& step) {
  Fingerprint* before = &fingerprints_[0];  // as the previous round left things, when have_before
  Fingerprint* after = &fingerprints_[1];
  bool have_before = false;
  uint64_t best = Progress();
  int idle = 0;  // rounds in a row that changed something without progress
  for (int round = 1;; ++round) {
    if (idle >= kMaxIdleRounds)
      return Breach(step, "the nodes did not settle: " + Num(kMaxIdleRounds) + " rounds in a row (of " + Num(round - 1) +
                              ") changed something without progress (no L1 block newly acknowledged, no block "
                              "replaced, no crash recovered)");
    if (!have_before) {
      TakeFingerprint(*before);
      have_before = true;
    }
    const size_t crashes = host_->crashes();
    Status s = Round();
    if (!s.ok()) return Breach(step, s.message());
    if (host_->fatal()) return Status::Ok();
    const uint64_t progress = Progress();
    idle = progress > best ? 0 : idle + 1;
    best = std::max(best, progress);
    if (host_->crashes() != crashes) {  // the failed call is retried in the next round
      have_before = false;
      continue;
    }
    TakeFingerprint(*after);
    if (*after == *before) return Status::Ok();
    std::swap(before, after);
  }
}

Status Runner::CollectAcks(const Step& step) {
  for (auto& node : nodes_)
    for (const Ack& ack : node->TakeAcks()) SS_RETURN_IF_ERROR(checker_->RecordAck(step, ack));
  return Status::Ok();
}

Status Runner::CheckExpectation(const Step& step, const Expectation& expectation) {
  Status s = sim::CheckExpectation(expectation, {*host_, world_, disk_.base(), datadir_, last_call_});
  if (!s.ok()) s = Breach(step, s.message());
  trace_.Add("expect", {{"label", step.label}, {"result", s.ok() ? "pass" : s.message()}});
  return s;
}

void Runner::RecordTimeline(const Step& step) {
  TimelineStep ts;
  ts.index = step.index;
  ts.label = step.label;
  ts.l1_head = world_.l1().head().ref.number;
  ts.l1_fork = world_.l1().head().fork;
  ts.l1_finalized = world_.l1().finalized();
  // The heads the checker read at the end of this step, when it read them all (nothing has called
  // the supervisor since); else as the supervisor answers now.
  ts.heads = checker_->TakeCheckedHeads();
  for (size_t i = ts.heads.size(); i < world_.chain_count(); ++i) {
    ChainHeads ch;
    auto h = host_->Call([&](supervisor::Supervisor& sv) { return sv.HeadsOf(Chain(i).id()); });
    if (h.ok())
      ch = {h->unsafe.number, h->cross_unsafe.number, h->local_safe.number, h->cross_safe.number, h->finalized.number};
    ts.heads.push_back(ch);
  }
  ts.marks = std::move(marks_);
  marks_.clear();
  timeline_.steps.push_back(std::move(ts));
  edges_.AfterStep(timeline_.steps.size() - 1, timeline_);
}

}  // namespace

namespace {
// A check that failed inside a run (core/check.h), carried out of the run as an exception.
struct CheckFailure {
  std::string report;
};
[[noreturn]] void ThrowCheckFailure(const std::string& report) { throw CheckFailure{report}; }
}  // namespace

RunResult RunScenario(const Scenario& scenario, const RunOptions& options) {
  const CheckFailureHandler previous = SetCheckFailureHandler(ThrowCheckFailure);
  Runner runner(scenario, options);
  RunResult result;
  try {
    result = runner.Run();
  } catch (const CheckFailure& f) {
    result = runner.Stopped("the process stopped: " + f.report);
  }
  SetCheckFailureHandler(previous);
  return result;
}

}  // namespace supersafe::sim
