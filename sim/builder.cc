#include "sim/builder.h"

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

Result<SafetyLevel> Check(SupervisorHost& host, const ExecutingMessage& msg) {
  return host.Call([&](supervisor::Supervisor& sv) { return sv.CheckMessage(msg.id, msg.payload_hash); });
}

std::string AnswerOf(const Result<SafetyLevel>& level) {
  return level.ok() ? SafetyLevelName(*level) : level.status().ToString();
}

// Whether a tx pool drops a tx with this answer for good: `conflicts` or an error.
bool Invalid(const Result<SafetyLevel>& level) { return !level.ok() || *level == SafetyLevel::kConflicts; }
}  // namespace

ExecutingMessage ResolveMessage(const World& world, const LogSpec& spec) {
  if (spec.kind == LogSpec::Kind::kExecExplicit) return spec.message;
  auto it = world.messages().find(spec.name);
  SS_CHECK(it != world.messages().end(), "message '" + spec.name + "' used before it was emitted");
  return it->second;
}

const L2Block& BuildBlock(World& world, SupervisorHost& host, Trace& trace, size_t chain,
                          const std::vector<LogSpec>& specs, bool force) {
  L2Chain& c = world.chain(chain);
  const ChainSpec& config = world.scenario().chains.at(chain);
  const uint64_t number = c.head().ref.number + 1;
  const uint64_t timestamp = c.TimeOf(number);
  std::vector<Log> logs;
  Json left_out = Json::array();
  // The tx pool first: every pending tx is checked again, in arrival order.
  if (!c.pool().empty()) {
    std::vector<PendingTx> pending;
    for (PendingTx& tx : c.pool()) {
      const Result<SafetyLevel> level = Check(host, tx.message);
      Json ev{{"chain", c.name()}, {"block", number}, {"tx", TxJson(tx.name, tx.message)}};
      if (Invalid(level)) {
        ev["reason"] = AnswerOf(level);
        trace.Add("pool_pruned", ev);
        continue;
      }
      ev["answer"] = AnswerOf(level);
      if (*level >= config.policy) {
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
  for (const LogSpec& spec : specs) {
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
    Result<SafetyLevel> level = SafetyLevel::kUnknown;
    if (msg.id.chain_id == c.id() && msg.id.block_number == number) {
      bool known = msg.id.log_index < logs.size() && msg.id.timestamp == timestamp &&
                   LogHashOf(logs[msg.id.log_index]) == msg.ExpectedLogHash();
      level = known ? SafetyLevel::kUnsafe : SafetyLevel::kConflicts;
    } else {
      level = Check(host, msg);
    }
    const std::string verdict = AnswerOf(level);
    const bool acceptable = level.ok() && *level >= SafetyLevel::kUnsafe && *level >= config.policy;
    const bool include = acceptable || force;
    Json check{{"chain", c.name()}, {"block", number}, {"message", spec.name}, {"identifier", IdentifierJson(msg.id)},
               {"payload_hash", msg.payload_hash.Hex()}, {"answer", verdict}, {"included", include}};
    trace.Add("check_message", check);
    if (!include) {
      left_out.push_back(TxJson(spec.name, msg));
      if (config.mempool) {
        Json ev{{"chain", c.name()}, {"block", number}, {"tx", TxJson(spec.name, msg)}};
        if (Invalid(level)) {
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
  const L2Block& blk = c.Build(std::move(logs));
  if (trace.enabled())
    trace.Add("build", Fields()
                         .String("chain", c.name())
                         .Block("block", blk.ref)
                         .Number("logs", blk.logs.size())
                         .Raw("left_out", left_out.empty()
                                              ? std::string("[]")
                                              : left_out.dump(-1, ' ', false, Json::error_handler_t::replace)));
  return blk;
}

size_t PrunePool(World& world, SupervisorHost& host, Trace& trace, size_t chain) {
  L2Chain& c = world.chain(chain);
  size_t pruned = 0;
  std::vector<PendingTx> pending;
  for (PendingTx& tx : c.pool()) {
    const Result<SafetyLevel> level = Check(host, tx.message);
    if (Invalid(level)) {
      trace.Add("pool_pruned", {{"chain", c.name()}, {"tx", TxJson(tx.name, tx.message)}, {"reason", AnswerOf(level)}});
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
