#include "sim/builder.h"

namespace supersafe::sim {

namespace {
Json IdentifierJson(const Identifier& id) {
  return Json{{"chain", id.chain_id.Decimal()}, {"block", id.block_number}, {"log", id.log_index},
              {"timestamp", id.timestamp}, {"origin", id.origin.Hex()}};
}
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
  const uint64_t number = c.head().ref.number + 1;
  const uint64_t timestamp = c.TimeOf(number);
  std::vector<Log> logs;
  Json left_out = Json::array();
  for (const LogSpec& spec : specs) {
    if (spec.kind == LogSpec::Kind::kInit) {
      ExecutingMessage msg;
      msg.id = Identifier{spec.log.address, number, static_cast<uint32_t>(logs.size()), timestamp, c.id()};
      msg.payload_hash = PayloadHashOf(spec.log);
      if (!spec.name.empty()) world.RegisterMessage(spec.name, msg);
      logs.push_back(spec.log);
      continue;
    }
    const ExecutingMessage msg = ResolveMessage(world, spec);
    std::string verdict;
    if (msg.id.chain_id == c.id() && msg.id.block_number == number) {
      bool known = msg.id.log_index < logs.size() && msg.id.timestamp == timestamp &&
                   LogHashOf(logs[msg.id.log_index]) == msg.ExpectedLogHash();
      verdict = known ? "unsafe" : "conflicts";
    } else {
      auto level = host.Call([&](supervisor::Supervisor& sv) { return sv.CheckMessage(msg.id, msg.payload_hash); });
      verdict = level.ok() ? SafetyLevelName(*level) : level.status().ToString();
    }
    const bool acceptable = verdict != "conflicts" && verdict != "unknown" && ParseSafetyLevel(verdict).ok();
    const bool include = acceptable || force;
    Json check{{"chain", c.name()}, {"block", number}, {"message", spec.name}, {"identifier", IdentifierJson(msg.id)},
               {"payload_hash", msg.payload_hash.Hex()}, {"answer", verdict}, {"included", include}};
    trace.Add("check_message", check);
    if (!include) {
      left_out.push_back(spec.name.empty() ? IdentifierJson(msg.id) : Json(spec.name));
      continue;
    }
    logs.push_back(MakeExecutingMessageLog(msg));
  }
  const L2Block& blk = c.Build(std::move(logs));
  trace.Add("build", {{"chain", c.name()}, {"block", ToJson(blk.ref)}, {"logs", blk.logs.size()},
                      {"left_out", left_out}});
  return blk;
}

}  // namespace supersafe::sim
