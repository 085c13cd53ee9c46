#include "sim/fp_export.h"

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <set>

#include "sim/runner.h"
#include "sim/trace.h"
#include "sim/world.h"
#include "supervisor/supervisor.h"

namespace supersafe::sim {

namespace {

namespace fs = std::filesystem;
using supervisor::SuperRootResponse;

std::string Num(uint64_t v) { return std::to_string(v); }
std::string GameName(size_t i) { return "games[" + Num(i) + "]"; }

// What the supervisor answered for one game at the end of the run.
struct GameAnswers {
  BlockID l1_head;
  std::map<uint64_t, std::optional<SuperRootResponse>> roots;  // nullopt: FUTURE_DATA (not cross-safe yet)
  std::map<ChainID, BlockID> safe_at_l1_head;
};

Status CheckGames(const Scenario& sc, const ExportOptions& opt) {
  if (sc.games.empty()) return InvalidArgument(sc.file + ": no games: to export, list them under `games:`");
  const uint64_t s = opt.steps_per_timestamp;
  if (s < sc.chains.size() + 1)
    return InvalidArgument("--steps-per-timestamp " + Num(s) + ": want at least the chain count + 1 = " +
                           Num(sc.chains.size() + 1) + " (one step per chain, then the consolidation step)");
  std::set<std::string> names;
  for (size_t i = 0; i < sc.games.size(); ++i) {
    const GameSpec& g = sc.games[i];
    if (g.prestate >= g.poststate)
      return InvalidArgument(GameName(i) + ": prestate " + Num(g.prestate) + " is not before poststate " + Num(g.poststate));
    if (g.poststate == UINT64_MAX)
      return InvalidArgument(GameName(i) + ": poststate " + Num(g.poststate) + " leaves no timestamp after it");
    if (g.prestate < sc.genesis.l2_time)
      return InvalidArgument(GameName(i) + ": prestate " + Num(g.prestate) + " is before the L2 genesis time " +
                             Num(sc.genesis.l2_time));
    if (g.poststate - g.prestate > (kMaxClaimsPerGame - 1) / s)
      return InvalidArgument(GameName(i) + ": (poststate - prestate) * " + Num(s) + " claims exceed the bound of " +
                             Num(kMaxClaimsPerGame));
    if (!names.insert(GameFileName(g)).second) return InvalidArgument(GameName(i) + ": the same game is listed twice");
  }
  return Status::Ok();
}

Result<GameAnswers> Gather(supervisor::Supervisor& sv, const World& world, const GameSpec& g, size_t i) {
  const uint64_t head = world.l1().head().ref.number;
  if (g.l1_head > head)
    return InvalidArgument(GameName(i) + ": l1_head " + Num(g.l1_head) + " is beyond the L1 head #" + Num(head) +
                           " at the end of the run");
  GameAnswers a;
  a.l1_head = world.l1().at(g.l1_head).ref.ID();
  std::vector<uint64_t> timestamps;
  for (uint64_t t = g.prestate; t <= g.poststate + 1; ++t) timestamps.push_back(t);
  std::vector<Result<SuperRootResponse>> roots = sv.SuperRootsAtTimestamps(timestamps);
  for (size_t k = 0; k < timestamps.size(); ++k) {
    const uint64_t t = timestamps[k];
    Result<SuperRootResponse>& r = roots[k];
    if (r.ok()) a.roots[t] = std::move(r).value();
    else if (r.status().code() == Code::kFutureData) a.roots[t] = std::nullopt;
    else return r.status().WithContext(GameName(i) + ": superRootAtTimestamp(" + Num(t) + ")");
  }
  auto safe = sv.AllSafeDerivedAt(a.l1_head);
  if (!safe.ok()) return safe.status().WithContext(GameName(i) + ": allSafeDerivedAt(L1 " + a.l1_head.ToString() + ")");
  a.safe_at_l1_head = std::move(safe).value();
  return a;
}

Json BlockIdJson(const BlockID& b) { return {{"hash", b.hash.Hex()}, {"number", b.number}}; }

Json SuperRootJson(uint64_t t, const std::optional<SuperRootResponse>& r) {
  if (!r) return {{"timestamp", HexU64(t)}, {"notFound", true}};
  Json chains = Json::array();
  for (const auto& c : r->chains)
    chains.push_back({{"chainID", c.chain_id.Decimal()}, {"canonical", c.canonical.Hex()}, {"pending", ToHex(c.pending)}});
  const uint8_t version[1] = {r->version};
  return {{"crossSafeDerivedFrom", BlockIdJson(r->cross_safe_derived_from)},
          {"timestamp", HexU64(r->timestamp)},
          {"superRoot", r->super_root.Hex()},
          {"version", ToHex(version)},
          {"chains", chains}};
}

SuperTraceInputs TraceInputs(const GameSpec& g, const GameAnswers& a, const supervisor::DependencySet& deps,
                             uint64_t steps) {
  SuperTraceInputs in;
  in.prestate_timestamp = g.prestate;
  in.poststate_timestamp = g.poststate;
  in.steps_per_timestamp = steps;
  in.l1_head_number = a.l1_head.number;
  for (const auto& [t, r] : a.roots) {
    if (!r) {
      in.roots[t] = std::nullopt;
      continue;
    }
    SuperRootAnswer ans;
    ans.cross_safe_derived_from = r->cross_safe_derived_from.number;
    ans.super.timestamp = r->timestamp;
    for (const auto& c : r->chains) {
      ans.super.chains.push_back({c.chain_id, c.canonical});
      ans.pending.push_back(c.pending);
    }
    in.roots[t] = std::move(ans);
  }
  for (const auto& [id, b] : a.safe_at_l1_head) in.safe_at_l1_head[id] = b.number;
  for (const auto& c : deps.chains) in.rollup[c.id] = {c.genesis.timestamp, c.genesis.number, c.block_time};
  return in;
}

// One top-level key per line, and one element per line in the superRoots and claims arrays, so a
// changed claim shows as a changed line.
std::string Layout(const Json& doc) {
  auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };
  std::string out = "{\n";
  size_t k = 0;
  for (const auto& [key, value] : doc.items()) {
    out += "  " + dump(Json(key)) + ": ";
    if (value.is_array() && !value.empty()) {
      out += "[\n";
      for (size_t i = 0; i < value.size(); ++i) out += "    " + dump(value[i]) + (i + 1 < value.size() ? ",\n" : "\n");
      out += "  ]";
    } else {
      out += dump(value);
    }
    out += ++k < doc.size() ? ",\n" : "\n";
  }
  return out + "}\n";
}

Result<std::string> Render(const Scenario& sc, const ExportOptions& opt, const GameSpec& g, const GameAnswers& a,
                           const supervisor::DependencySet& deps) {
  const SuperTraceInputs in = TraceInputs(g, a, deps, opt.steps_per_timestamp);
  Json rollup = Json::object();
  for (const auto& [id, r] : in.rollup)
    rollup[id.Decimal()] = {{"genesisTime", r.genesis_time}, {"genesisNumber", r.genesis_number}, {"blockTime", r.block_time}};
  Json roots = Json::array();
  for (const auto& [t, r] : a.roots) roots.push_back(SuperRootJson(t, r));
  Json safe = Json::object();
  for (const auto& [id, b] : a.safe_at_l1_head) safe[id.Decimal()] = BlockIdJson(b);
  Json claims = Json::array();
  const uint64_t last = (g.poststate - g.prestate) * opt.steps_per_timestamp;
  for (uint64_t idx = 0; idx <= last; ++idx) {
    SS_ASSIGN_OR_RETURN(Claim c, ClaimAt(in, idx));
    claims.push_back({{"traceIndex", idx}, {"timestamp", c.point.timestamp}, {"step", c.point.step},
                      {"preimage", ToHex(c.preimage)}, {"claim", c.claim.Hex()}});
  }
  Json doc = {{"scenario", sc.name},
              {"seed", opt.seed},
              {"stepsPerTimestamp", opt.steps_per_timestamp},
              {"game", {{"l1Head", BlockIdJson(a.l1_head)}, {"prestateTimestamp", g.prestate},
                        {"poststateTimestamp", g.poststate}}},
              {"rollupConfigs", rollup},
              {"superRoots", roots},
              {"allSafeDerivedAt", safe},
              {"claims", claims}};
  return Layout(doc);
}

}  // namespace

std::string GameFileName(const GameSpec& game) {
  return "game-" + Num(game.l1_head) + "-" + Num(game.prestate) + "-" + Num(game.poststate) + ".json";
}

Result<std::vector<GameFixture>> ExportFixtures(const Scenario& scenario, const ExportOptions& options) {
  SS_RETURN_IF_ERROR(CheckGames(scenario, options));
  std::vector<GameAnswers> answers;
  supervisor::DependencySet deps;
  Status gathered = Internal("the run ended before the fault-proof answers were read");
  RunOptions run;
  run.seed = options.seed;
  run.at_end = [&](supervisor::Supervisor& sv, const World& world) {
    deps = sv.dependency_set();
    gathered = Status::Ok();
    for (size_t i = 0; i < scenario.games.size() && gathered.ok(); ++i) {
      auto a = Gather(sv, world, scenario.games[i], i);
      if (a.ok()) answers.push_back(std::move(a).value());
      else gathered = a.status();
    }
  };
  RunResult r = RunScenario(scenario, run);
  if (!r.passed) {
    std::string what = scenario.name + " (seed " + Num(options.seed) + ") failed: " + r.failure;
    return r.failure_kind == FailureKind::kInvariant ? Internal(what) : InvalidArgument(what);
  }
  SS_RETURN_IF_ERROR(gathered);
  std::vector<GameFixture> out;
  for (size_t i = 0; i < scenario.games.size(); ++i) {
    const GameSpec& g = scenario.games[i];
    auto json = Render(scenario, options, g, answers[i], deps);
    if (!json.ok()) return json.status().WithContext(GameName(i));
    out.push_back({g, GameFileName(g), std::move(json).value()});
  }
  return out;
}

}  // namespace supersafe::sim
