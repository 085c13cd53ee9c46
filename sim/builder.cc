#include "sim/builder.h"

#include <optional>
#include <string>

namespace supersafe::sim {

namespace {
Json IdentifierJson(const Identifier& id) {
  return Json{{"chain", id.chain_id.Decimal()}, {"block", id.block_number}, {"log", id.log_index},
              {"timestamp", id.timestamp}, {"origin", id.origin.Hex()}};
}

// A tx as the trace names it: its message name, or its identifier.
Json TxJson(const std::string& name, const ExecutingMessage& msg) {
  return name.empty() ? IdentifierJson(msg.id) : Json(name);
}

// What the builder's checks answer for one executing message: a level, or an error; `why` says
// which executing-side check failed (then the level is `conflicts`).
struct Answer {
  Result<SafetyLevel> level = SafetyLevel::kUnknown;
  std::string why;
};

// The first block of `c` with timestamp >= its interop time.
uint64_t ActivationBlockOf(const L2Chain& c) {
  if (c.interop_time() <= c.genesis_time()) return 0;
  const uint64_t delta = c.interop_time() - c.genesis_time();
  return delta / c.block_time() + (delta % c.block_time() != 0 ? 1 : 0);
}

// op-geth's executing-side checks, as its tx pool's ingress filter asks checkAccessList with the
// executing timestamp (of the block being built) and a timeout: the executing block is after its
// chain's interop activation block; the message is not from a later timestamp; and it does not
// expire before the executing timestamp plus the timeout. Same-timestamp messages pass (the
// simulator's builder includes them; see docs/scenario-format.md).
std::optional<std::string> ExecutingSideFailure(const World& world, size_t chain, uint64_t number, const Identifier& id) {
  const L2Chain& c = world.chain(chain);
  const uint64_t t_exec = c.TimeOf(number);
  const uint64_t timeout = world.scenario().chains.at(chain).exec_timeout;
  const uint64_t activation = ActivationBlockOf(c);
  if (number <= activation)
    return "executing block #" + std::to_string(number) + " is not after " + c.name() + "'s interop activation block #" +
           std::to_string(activation);
  if (id.timestamp > t_exec)
    return "timestamp " + std::to_string(id.timestamp) + " is after the executing timestamp " + std::to_string(t_exec);
  using U128 = unsigned __int128;
  if (U128{t_exec} + timeout > U128{id.timestamp} + world.scenario().expiry_window)
    return "expires at " + std::to_string(U128{id.timestamp} + world.scenario().expiry_window > UINT64_MAX
                                              ? UINT64_MAX
                                              : id.timestamp + world.scenario().expiry_window) +
           ", before the executing timestamp " + std::to_string(t_exec) + " + timeout " + std::to_string(timeout);
  return std::nullopt;
}

// The executing-side checks, then CheckMessage, for a message executed in block `number` of `chain`.
Answer Check(const World& world, SupervisorHost& host, size_t chain, uint64_t number, const ExecutingMessage& msg) {
  if (auto why = ExecutingSideFailure(world, chain, number, msg.id)) return {SafetyLevel::kConflicts, *why};
  return {host.Call([&](supervisor::Supervisor& sv) { return sv.CheckMessage(msg.id, msg.payload_hash); }), ""};
}

std::string AnswerOf(const Answer& a) {
  if (!a.level.ok()) return a.level.status().ToString();
  return a.why.empty() ? SafetyLevelName(*a.level) : std::string(SafetyLevelName(*a.level)) + ": " + a.why;
}

// Whether a tx pool drops a tx with this answer for good: `conflicts` or an error.
bool Invalid(const Answer& a) { return !a.level.ok() || *a.level == SafetyLevel::kConflicts; }
}  // namespace

ExecutingMessage ResolveMessage(const World& world, const LogSpec& spec) {
  if (spec.kind == LogSpec::Kind::kExecExplicit) return spec.message;
  auto it = world.messages().find(spec.name);
  SS_CHECK(it != world.messages().end(), "message '" + spec.name + "' used before it was emitted");
  return it->second;
}

namespace {
// The logs of a block at height `number` of `chain`, from the tx pool (when `use_pool`) and the log
// specs, with every check; `left_out` receives the messages left out.
std::vector<Log> AssembleLogs(World& world, SupervisorHost& host, Trace& trace, size_t chain, uint64_t number,
                              std::span<const LogSpec* const> specs, bool force, bool use_pool, Json& left_out) {
  L2Chain& c = world.chain(chain);
  const ChainSpec& config = world.scenario().chains.at(chain);
  const uint64_t timestamp = c.TimeOf(number);
  std::vector<Log> logs;
  logs.reserve((use_pool ? c.pool().size() : 0) + specs.size());
  // The tx pool first: every pending tx is checked again, in arrival order.
  if (use_pool && !c.pool().empty()) {
    std::vector<PendingTx> pending;
    for (PendingTx& tx : c.pool()) {
      const Answer answer = Check(world, host, chain, number, tx.message);
      Json ev{{"chain", c.name()}, {"block", number}, {"tx", TxJson(tx.name, tx.message)}};
      if (Invalid(answer)) {
        ev["reason"] = AnswerOf(answer);
        trace.Add("pool_pruned", ev);
        continue;
      }
      ev["answer"] = AnswerOf(answer);
      if (*answer.level >= config.policy) {
        trace.Add("pool_included", ev);
        logs.push_back(MakeExecutingMessageLog(tx.message));
        continue;
      }
      ev["policy"] = SafetyLevelName(config.policy);
      trace.Add("pool_pending", ev);
      pending.push_back(std::move(tx));
    }
    c.pool() = std::move(pending);
  }
  for (const LogSpec* spec_ptr : specs) {
    const LogSpec& spec = *spec_ptr;
    if (spec.kind == LogSpec::Kind::kInit) {
      if (!spec.name.empty()) {  // an unnamed log is nobody's message: nothing to register
        ExecutingMessage msg;
        msg.id = Identifier{spec.log.address, number, static_cast<uint32_t>(logs.size()), timestamp, c.id()};
        msg.payload_hash = PayloadHashOf(spec.log);
        world.RegisterMessage(spec.name, msg);
      }
      logs.push_back(spec.log);
      continue;
    }
    const ExecutingMessage msg = ResolveMessage(world, spec);
    Answer answer;
    if (auto why = ExecutingSideFailure(world, chain, number, msg.id)) {
      answer = {SafetyLevel::kConflicts, *why};
    } else if (msg.id.chain_id == c.id() && msg.id.block_number == number) {
      bool known = msg.id.log_index < logs.size() && msg.id.timestamp == timestamp &&
                   LogHashOf(logs[msg.id.log_index]) == msg.ExpectedLogHash();
      answer.level = known ? SafetyLevel::kUnsafe : SafetyLevel::kConflicts;
    } else {
      answer = Check(world, host, chain, number, msg);
    }
    const Result<SafetyLevel>& level = answer.level;
    const std::string verdict = AnswerOf(answer);
    const bool acceptable = level.ok() && *level >= SafetyLevel::kUnsafe && *level >= config.policy;
    const bool include = acceptable || force;
    if (trace.enabled()) {
      const Fields id = Fields()
                            .String("chain", msg.id.chain_id.Decimal())
                            .Number("block", msg.id.block_number)
                            .Number("log", msg.id.log_index)
                            .Number("timestamp", msg.id.timestamp)
                            .String("origin", msg.id.origin.Hex());  // as IdentifierJson
      trace.Add("check_message", Fields()
                                     .String("chain", c.name())
                                     .Number("block", number)
                                     .String("message", spec.name)
                                     .Raw("identifier", "{" + id.text() + "}")
                                     .String("payload_hash", msg.payload_hash.Hex())
                                     .String("answer", verdict)
                                     .Bool("included", include));
    }
    if (!include) {
      left_out.push_back(TxJson(spec.name, msg));
      if (config.mempool && use_pool) {
        Json ev{{"chain", c.name()}, {"block", number}, {"tx", TxJson(spec.name, msg)}};
        if (Invalid(answer)) {
          ev["reason"] = verdict;
          trace.Add("pool_dropped", ev);
        } else {  // unknown, or a level below the policy: back off, try again at the next build
          ev["answer"] = verdict;
          ev["policy"] = SafetyLevelName(config.policy);
          trace.Add("pool_added", ev);
          c.pool().push_back(PendingTx{spec.name, msg});
        }
      }
      continue;
    }
    logs.push_back(MakeExecutingMessageLog(msg));
  }
  return logs;
}

// Whether a block's logs are just the specs' logs, in order, with no check and nothing registered
// (what AssembleLogs makes of them): every spec an unnamed log, and no tx waiting in the pool.
bool PlainLogsOnly(const L2Chain& c, std::span<const LogSpec* const> specs) {
  if (!c.pool().empty()) return false;
  for (const LogSpec* spec : specs)
    if (spec->kind != LogSpec::Kind::kInit || !spec->name.empty()) return false;
  return true;
}

bool SameLogs(const SharedLogs& logs, std::span<const LogSpec* const> specs) {
  if (logs.size() != specs.size() || logs.empty()) return false;
  for (size_t i = 0; i < specs.size(); ++i)
    if (!(logs[i] == specs[i]->log)) return false;
  return true;
}

void TraceBuild(Trace& trace, const char* event, const L2Chain& c, const L2Block& blk, const Json& left_out) {
  if (!trace.enabled()) return;
  trace.Add(event, Fields()
                       .String("chain", c.name())
                       .Block("block", blk.ref)
                       .Number("logs", blk.logs.size())
                       .Raw("left_out", left_out.empty()
                                            ? std::string("[]")
                                            : left_out.dump(-1, ' ', false, Json::error_handler_t::replace)));
}
}  // namespace

const L2Block& BuildBlock(World& world, SupervisorHost& host, Trace& trace, size_t chain,
                          std::span<const LogSpec* const> specs, bool force) {
  L2Chain& c = world.chain(chain);
  Json left_out = Json::array();
  SharedLogs logs;
  if (PlainLogsOnly(c, specs)) {  // the specs' logs as they are: shared with the last such block if equal
    if (!SameLogs(c.plain_logs(), specs)) {
      std::vector<Log> fresh;
      fresh.reserve(specs.size());
      for (const LogSpec* spec : specs) fresh.push_back(spec->log);
      c.plain_logs() = std::move(fresh);
    }
    logs = c.plain_logs();
  } else {
    logs = AssembleLogs(world, host, trace, chain, c.head().ref.number + 1, specs, force, /*use_pool=*/true, left_out);
  }
  const L2Block& blk = c.Build(std::move(logs), world.l1().head().ref.number);  // the newest L1 block as origin
  TraceBuild(trace, "build", c, blk, left_out);
  return blk;
}

const L2Block& BuildDivergentBlock(World& world, SupervisorHost& host, Trace& trace, size_t chain, uint64_t number,
                                   const std::vector<LogSpec>& specs, bool force) {
  L2Chain& c = world.chain(chain);
  Json left_out = Json::array();
  std::vector<const LogSpec*> spec_ptrs;
  for (const LogSpec& spec : specs) spec_ptrs.push_back(&spec);
  std::vector<Log> logs = AssembleLogs(world, host, trace, chain, number, spec_ptrs, force, /*use_pool=*/false, left_out);
  const L2Block& blk = c.BuildBeside(number, std::move(logs));
  TraceBuild(trace, "build_divergent", c, blk, left_out);
  return blk;
}

size_t PrunePool(World& world, SupervisorHost& host, Trace& trace, size_t chain) {
  L2Chain& c = world.chain(chain);
  size_t pruned = 0;
  std::vector<PendingTx> pending;
  const uint64_t next = c.head().ref.number + 1;  // the block the pool's txs would go into
  for (PendingTx& tx : c.pool()) {
    const Answer answer = Check(world, host, chain, next, tx.message);
    if (Invalid(answer)) {
      trace.Add("pool_pruned", {{"chain", c.name()}, {"tx", TxJson(tx.name, tx.message)}, {"reason", AnswerOf(answer)}});
      ++pruned;
      continue;
    }
    pending.push_back(std::move(tx));
  }
  c.pool() = std::move(pending);
  return pruned;
}

void PrunePools(World& world, SupervisorHost& host, Trace& trace) {
  for (size_t i = 0; i < world.chain_count(); ++i) PrunePool(world, host, trace, i);
}

}  // namespace supersafe::sim
