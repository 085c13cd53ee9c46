#include "sim/fuzz.h"

#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/check.h"
#include "sim/temp_dir.h"
#include "sim/scenario.h"
#include "sim/seed.h"
#include "sim/steps.h"

namespace supersafe::sim {
namespace {

constexpr size_t kKinds = 20;
const char* const kKindNames[kKinds] = {"build",      "batch",       "mine",       "reorg_l1", "flip_flop",
                                        "finalize",   "reorg_unsafe", "restart",    "crash",    "call",
                                        "derive",     "sync",        "pool",       "drop_batches",
                                        "power_loss", "fsync_error", "read_error", "no_space", "bit_flip",
                                        "batch_divergent"};

std::string ChainName(uint32_t i) { return std::string(1, static_cast<char>('A' + i)); }

// What the renderer knows of the world while it writes the steps.
struct RenderState {
  uint64_t l1_head = 0;
  uint64_t finalized = 0;
  std::string fork = "main";
  std::vector<std::pair<std::string, uint64_t>> reorgs;  // (fork before, depth), newest last
  uint32_t forks_made = 0;
  std::vector<uint64_t> height;       // blocks built per chain (replacements may make it less)
  std::vector<uint64_t> batched;      // per chain: the highest block a batch step has posted or queued
  // Per chain: the height of a divergent block queued and not yet derived (0: none). Once derived,
  // the sequencer's blocks from there up are gone: the chain ends at it.
  std::vector<uint64_t> diverging;
  std::vector<uint64_t> derived;      // manual: the newest L1 block a derive step reached
  std::vector<std::string> messages;  // named init messages, in emission order
  int last_build_chain = -1;          // the previous step was a build of this chain ...
  uint64_t last_build_blocks = 0;     // ... of this many blocks
  uint32_t junk = 0;
};

// The step an intent renders as, or nothing when the intent is left out.
std::optional<StepAction> MakeStep(const FuzzStep& s, const FuzzCase& c, const Scenario& sc, RenderState& st) {
  const uint32_t chain = s.chain % c.chains;
  const int build_chain = st.last_build_chain;
  st.last_build_chain = -1;
  switch (s.kind) {
    case FuzzKind::kBuild: {
      BuildStep b;
      b.chain = chain;
      b.blocks = 1 + s.a % 3;
      switch (static_cast<FuzzLogs>(s.b % 6)) {
        case FuzzLogs::kNone: break;
        case FuzzLogs::kInit:
          b.blocks = 1;
          st.messages.push_back("m" + std::to_string(st.messages.size() + 1));
          b.logs.push_back(LogSpec::Init(st.messages.back()));
          break;
        case FuzzLogs::kForcedExec: b.force = true; [[fallthrough]];
        case FuzzLogs::kExec:
          if (!st.messages.empty()) b.logs.push_back(LogSpec::ExecNamed(st.messages[s.c % st.messages.size()]));
          break;
        case FuzzLogs::kInvalidExec: {
          // A payload nobody emitted: the block is invalid once its source is known, and is replaced.
          const uint32_t source = s.c % c.chains;
          const uint64_t block = std::min<uint64_t>(st.height[source], 1 + s.c % 4);
          const ChainID& id = sc.chains[source].id;
          b.logs.push_back(LogSpec::ExecExplicit(id, block, 0, sc.DefaultTimestamp(id, block), {},
                                                 "junk" + std::to_string(++st.junk)));
          b.force = true;
          break;
        }
        case FuzzLogs::kPayload: b.logs.push_back(LogSpec::Unnamed({static_cast<uint8_t>(1 + s.c % 9)})); break;
      }
      st.height[chain] += b.blocks;
      st.last_build_chain = static_cast<int>(chain);
      st.last_build_blocks = b.blocks;
      return b;
    }
    case FuzzKind::kBatch:
      st.batched[chain] = st.height[chain];
      return BatchStep{chain, std::nullopt};
    case FuzzKind::kBatchDivergent: {
      // Above what batches posted, so that the block is neither posted nor local-safe, and at one
      // of the two lowest such heights (a replacement may have cut the chain shorter than the
      // renderer thinks); not while an earlier divergent block of the chain waits to be derived,
      // nor on a chain whose sequencing window forces blocks the renderer does not count.
      if (st.height[chain] <= st.batched[chain] || st.diverging[chain] ||
          (chain == 0 && (c.variant & FuzzCase::kSeqWindowOnA)))
        return std::nullopt;
      BatchDivergentStep d;
      d.chain = chain;
      d.block = st.batched[chain] + 1 + s.a % std::min<uint64_t>(2, st.height[chain] - st.batched[chain]);
      if (s.b % 3 == 1) d.logs.push_back(LogSpec::Unnamed({static_cast<uint8_t>(10 + s.c % 9)}));
      if (s.b % 3 == 2 && !st.messages.empty())
        d.logs.push_back(LogSpec::ExecNamed(st.messages[s.c % st.messages.size()]));
      st.batched[chain] = d.block;
      st.diverging[chain] = d.block;
      return d;
    }
    case FuzzKind::kMine: {
      const uint64_t count = 1 + s.a % 2;
      st.l1_head += count;
      for (uint32_t i = 0; i < c.chains; ++i)
        if (st.diverging[i] && !c.manual) st.height[i] = st.batched[i] = st.diverging[i], st.diverging[i] = 0;
      return MineStep{count};
    }
    case FuzzKind::kReorgL1: {
      const uint64_t depth = std::min<uint64_t>(1 + s.a % 3, st.l1_head - st.finalized);
      if (depth == 0) return std::nullopt;
      st.reorgs.push_back({st.fork, depth});
      st.fork = "f" + std::to_string(++st.forks_made);
      return ReorgL1Step{depth, st.fork, s.b % 2 == 1};
    }
    case FuzzKind::kFlipFlop: {
      if (st.reorgs.empty()) return std::nullopt;
      auto [back_to, depth] = st.reorgs.back();
      depth = std::min<uint64_t>(depth, st.l1_head - st.finalized);
      if (depth == 0) return std::nullopt;
      st.reorgs.pop_back();
      st.fork = back_to;
      return ReorgL1Step{depth, back_to, true};
    }
    case FuzzKind::kFinalize: {
      const uint64_t below = s.a % 4;
      st.finalized = std::max(st.finalized, st.l1_head >= below ? st.l1_head - below : 0);
      return FinalizeL1Step{st.finalized, std::nullopt};
    }
    case FuzzKind::kReorgUnsafe: {
      if (build_chain != static_cast<int>(chain)) return std::nullopt;
      ReorgUnsafeStep r;
      r.chain = chain;
      r.depth = std::min<uint64_t>(1 + s.a % 2, st.last_build_blocks);
      return r;
    }
    case FuzzKind::kRestart: return RestartStep{};
    case FuzzKind::kCrash: return CrashStep{1 + s.a % 400, s.b % 2 ? CrashDb::kEvents : CrashDb::kSafe};
    case FuzzKind::kCall: {
      CallStep call;
      call.chain = chain;
      switch (static_cast<FuzzCall>(s.a % 5)) {
        case FuzzCall::kTryCrossSafe: {
          // What the node derived through an L1 block it has derived: duplicated, late or early.
          const uint64_t tip = c.manual ? st.derived[chain] : st.l1_head;
          call.method = CallMethod::kTryCrossSafe;
          call.derived_from = tip - s.b % (tip + 1);
          break;
        }
        case FuzzCall::kTryFinalize:
          call.method = CallMethod::kTryFinalize;
          call.finalized_l1 = st.finalized - s.b % (st.finalized + 1);
          break;
        case FuzzCall::kUpdateLocalUnsafe: call.method = CallMethod::kUpdateLocalUnsafe; break;
        case FuzzCall::kGetCrossUnsafe:
          call.method = CallMethod::kGetCrossUnsafe;
          call.max_number = s.b % 8;
          break;
        case FuzzCall::kCheckMessage:
          if (st.messages.empty()) return std::nullopt;
          call.method = CallMethod::kCheckMessage;
          call.chain = 0;
          call.message = LogSpec::ExecNamed(st.messages[s.c % st.messages.size()]);
          break;
      }
      return call;
    }
    case FuzzKind::kDerive: {
      if (!c.manual) return std::nullopt;
      const uint64_t to = st.l1_head >= s.a % 3 ? st.l1_head - s.a % 3 : 0;
      st.derived[chain] = std::max(st.derived[chain], to);
      if (st.diverging[chain]) st.height[chain] = st.batched[chain] = st.diverging[chain], st.diverging[chain] = 0;
      return DeriveStep{chain, to};
    }
    case FuzzKind::kSync:
      if (!c.manual) return std::nullopt;
      return SyncStep{chain};
    case FuzzKind::kDropBatches: return DropBatchesStep{chain};
    case FuzzKind::kPool:
      if (!(c.variant & FuzzCase::kPoolOnA)) return std::nullopt;
      return PoolStep{0};
    case FuzzKind::kPowerLoss: return FaultStep{FaultKind::kCrash, 1 + s.a % 60, DbFile::kSafe, 0};
    case FuzzKind::kFsyncError: return FaultStep{FaultKind::kFsyncError, 1 + s.a % 8, DbFile::kSafe, 0};
    case FuzzKind::kReadError: return FaultStep{FaultKind::kReadError, 1 + s.a % 4, DbFile::kSafe, 0};
    case FuzzKind::kNoSpace: return FaultStep{FaultKind::kNoSpace, 1 + s.a % 8, DbFile::kSafe, 0};
    case FuzzKind::kBitFlip:
      if (s.b % 3 == 0) return FaultStep{FaultKind::kBitFlip, 1, DbFile::kSafe, 0};
      return FaultStep{FaultKind::kBitFlip, 1, s.b % 3 == 1 ? DbFile::kEvents : DbFile::kReplacements, chain};
  }
  return std::nullopt;
}

// "step 7 (line 23, expect): what" -> "what"
std::string WithoutStepPrefix(const std::string& failure) {
  if (failure.rfind("step ", 0) != 0) return failure;
  const size_t at = failure.find("): ");
  return at == std::string::npos ? failure : failure.substr(at + 3);
}

}  // namespace

Result<FuzzProfile> ParseFuzzProfile(const std::string& text, const std::string& file) {
  FuzzProfile p;
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return InvalidArgument(file + ": a fuzz profile is a map");
    auto bad = [&](const YAML::Node& n, const std::string& key, const std::string& what) {
      return InvalidArgument(file + ":" + std::to_string(n.Mark().line + 1) + ": " + key + ": " + what);
    };
    auto number = [&](const YAML::Node& n, const std::string& key, uint32_t lo, uint32_t hi) -> Result<uint32_t> {
      uint64_t v = 0;
      if (!n.IsScalar() || !YAML::convert<uint64_t>::decode(n, v) || v < lo || v > hi)
        return bad(n, key, "want a whole number in " + std::to_string(lo) + ".." + std::to_string(hi));
      return static_cast<uint32_t>(v);
    };
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "chains") {
        if (!v.IsSequence() || v.size() != 2) return bad(v, key, "want [min, max]");
        SS_ASSIGN_OR_RETURN(p.min_chains, number(v[0], key, 1, 4));
        SS_ASSIGN_OR_RETURN(p.max_chains, number(v[1], key, p.min_chains, 4));
      } else if (key == "steps") {
        SS_ASSIGN_OR_RETURN(p.steps, number(v, key, 1, 100000));
      } else if (key == "manual_percent") {
        SS_ASSIGN_OR_RETURN(p.manual_percent, number(v, key, 0, 100));
      } else if (key == "variant_percent") {
        SS_ASSIGN_OR_RETURN(p.variant_percent, number(v, key, 0, 100));
      } else if (key == "weights") {
        if (!v.IsMap()) return bad(v, key, "want a map of step kinds to weights");
        for (const auto& w : v) {
          const std::string kind = w.first.as<std::string>();
          const auto* it = std::find(std::begin(kKindNames), std::end(kKindNames), kind);
          if (it == std::end(kKindNames)) return bad(w.first, "weights." + kind, "not a step kind");
          SS_ASSIGN_OR_RETURN(p.weights[it - std::begin(kKindNames)], number(w.second, "weights." + kind, 0, 1000000));
        }
      } else {
        return bad(kv.first, key, "unknown key (chains, steps, manual_percent, variant_percent, weights)");
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ": " + e.what());
  }
  return p;
}

std::vector<std::string> CoverageAimedAt(const FuzzProfile& profile) {
  static const std::pair<FuzzKind, std::vector<std::string>> kAims[] = {
      {FuzzKind::kReorgL1, {"reorgs"}},
      {FuzzKind::kFlipFlop, {"flip_flops"}},
      {FuzzKind::kRestart, {"restarts"}},
      {FuzzKind::kCrash, {"crash", "torn_write", "torn_tail_recoveries"}},
      {FuzzKind::kPowerLoss, {"crash", "lost_write"}},
      {FuzzKind::kFsyncError, {"fsync_error"}},
      {FuzzKind::kReadError, {"read_error"}},
      {FuzzKind::kNoSpace, {"no_space"}},
      {FuzzKind::kBitFlip, {"bit_flip", "corruption_refusals"}},
      {FuzzKind::kBatchDivergent, {"divergent_batches"}},
  };
  std::set<std::string> out;
  for (const auto& [kind, counters] : kAims)
    if (static_cast<size_t>(kind) < profile.weights.size() && profile.weights[static_cast<size_t>(kind)] > 0)
      out.insert(counters.begin(), counters.end());
  if (profile.weights.size() > 0 && profile.weights[static_cast<size_t>(FuzzKind::kBuild)] > 0) out.insert("replacements");
  return {out.begin(), out.end()};
}

FuzzCase GenerateCase(uint64_t seed, const FuzzProfile& profile) {
  SplitMix64 rng = SplitMix64::ForSubsystem(seed, "fuzz");
  FuzzCase c;
  c.seed = seed;
  c.chains = profile.min_chains + rng.Below(profile.max_chains - profile.min_chains + 1);
  c.manual = rng.Below(100) < profile.manual_percent;
  if (rng.Below(100) < profile.variant_percent) c.variant = 1 + rng.Below(2 * FuzzCase::kLastVariant - 1);
  std::vector<uint32_t> weights = profile.weights;
  weights.resize(kKinds, 0);
  if (!c.manual) weights[static_cast<size_t>(FuzzKind::kDerive)] = weights[static_cast<size_t>(FuzzKind::kSync)] = 0;
  uint32_t total = 0;
  for (uint32_t w : weights) total += w;
  SS_CHECK(total > 0, "a fuzz profile needs a step kind with a weight");
  for (uint32_t i = 0; i < profile.steps; ++i) {
    uint32_t pick = rng.Below(total);
    size_t kind = 0;
    while (pick >= weights[kind]) pick -= weights[kind++];
    FuzzStep s;
    s.kind = static_cast<FuzzKind>(kind);
    s.chain = rng.Below(c.chains);
    s.a = rng.Below(1000);
    s.c = rng.Below(1000);
    if (s.kind == FuzzKind::kBuild) {
      const uint32_t r = rng.Below(100);  // none, init, exec, forced exec, invalid exec, payload
      s.b = static_cast<uint32_t>(r < 25   ? FuzzLogs::kNone
                                  : r < 55 ? FuzzLogs::kInit
                                  : r < 78 ? FuzzLogs::kExec
                                  : r < 84 ? FuzzLogs::kForcedExec
                                  : r < 92 ? FuzzLogs::kInvalidExec
                                           : FuzzLogs::kPayload);
    } else {
      s.b = rng.Below(1000);
    }
    c.steps.push_back(s);
  }
  return c;
}

namespace {

// The case as a typed scenario, every step valid by construction (see the top of fuzz.h).
Scenario TypedScenario(const FuzzCase& c) {
  RenderState st;
  st.height.assign(c.chains, 0);
  st.batched.assign(c.chains, 0);
  st.diverging.assign(c.chains, 0);
  st.derived.assign(c.chains, 0);
  Scenario sc;
  sc.name = "fuzz-" + std::to_string(c.seed);
  sc.seed = c.seed;
  if (c.manual) sc.nodes = NodesMode::kManual;
  if (c.variant & FuzzCase::kShortExpiry) sc.expiry_window = 20;
  static const uint32_t kBlockTime[] = {2, 3, 1, 2};
  for (uint32_t i = 0; i < c.chains; ++i) {
    ChainSpec chain;
    chain.name = ChainName(i);
    // The third chain's ID does not fit 64 bits.
    chain.id = i == 2 ? ChainID((U256(1) << 64) | 1) : ChainID(uint64_t{900} + i);
    if (c.variant & FuzzCase::kBlockTimes) chain.block_time = kBlockTime[i];
    chain.interop_time = sc.genesis.l2_time;
    if (i == 1 && (c.variant & FuzzCase::kLateInterop)) chain.interop_time = sc.genesis.l2_time + 3 * chain.block_time;
    if (i == 0 && (c.variant & FuzzCase::kPoolOnA)) chain.policy = SafetyLevel::kSafe, chain.mempool = true;
    if (i % 2 == 1 && (c.variant & FuzzCase::kDropRest)) chain.after_replacement = ChainSpec::AfterReplacement::kDrop;
    if (c.variant & FuzzCase::kShortExpiry) chain.exec_timeout = 4;  // op-geth's day is past the window
    if (i == 0 && (c.variant & FuzzCase::kSeqWindowOnA)) chain.seq_window = 4;
    sc.chains.push_back(std::move(chain));
  }
  for (const FuzzStep& s : c.steps) {
    std::optional<StepAction> action = MakeStep(s, c, sc, st);
    if (!action) continue;
    sc.steps.emplace_back();
    sc.steps.back().action = std::move(*action);
  }
  return sc;
}

}  // namespace

std::string RenderScenario(const FuzzCase& c) { return RenderScenarioText(TypedScenario(c)); }

ScenarioText RenderScenarioParts(const FuzzCase& c) {
  Scenario sc = TypedScenario(c);
  ScenarioText text;
  for (const Step& s : sc.steps) text.steps.push_back(RenderStep(s.action, sc));
  sc.steps.clear();
  text.head = RenderScenarioText(sc);
  SS_CHECK(text.head.ends_with("steps: []\n"), "a scenario without steps is written with `steps: []` last");
  text.head.resize(text.head.size() - 4);  // up to and including "steps:"
  return text;
}

RunResult RunCase(const FuzzCase& c, DiskKind disk) {
  RunResult r;
  const std::string file = "fuzz-" + std::to_string(c.seed) + ".yaml";
  auto scenario = ParseScenarioText(RenderScenarioParts(c), file);
  if (!scenario.ok()) {
    r.failure = "generated scenario does not parse: " + scenario.status().ToString();
    r.failure_kind = FailureKind::kInvariant;
    return r;
  }
  RunOptions options;
  options.seed = c.seed;
  options.disk = disk;
  options.record = false;
  std::optional<std::filesystem::path> dir;
  if (disk == DiskKind::kPosix) {
    auto made = MakeTempDir("supersafe-fuzz");
    if (!made.ok()) {
      r.failure = made.status().message();
      r.failure_kind = FailureKind::kInvariant;
      return r;
    }
    dir = *made;
    options.datadir = *dir;
  }
  r = RunScenario(*scenario, options);
  if (dir) {
    std::error_code ec;
    std::filesystem::remove_all(*dir, ec);
  }
  return r;
}

std::string FailureSignature(const RunResult& r) {
  static const char* const kKindText[] = {"none", "step", "expectation", "invariant"};
  std::string what = WithoutStepPrefix(r.failure);
  std::erase_if(what, [](char ch) { return ch >= '0' && ch <= '9'; });
  return std::string(kKindText[static_cast<size_t>(r.failure_kind)]) + ": " + what;
}

FuzzCase ShrinkCase(FuzzCase failing, const std::function<bool(const FuzzCase&)>& still_fails, size_t max_runs,
                    size_t* runs) {
  size_t calls = 0;
  auto fails = [&](const FuzzCase& candidate) {
    if (calls >= max_runs) return false;
    ++calls;
    return still_fails(candidate);
  };
  FuzzCase cur = std::move(failing);
  for (bool progress = true; progress && calls < max_runs;) {
    progress = false;
    // Drop runs of steps, long ones first.
    for (size_t chunk = std::max<size_t>(1, cur.steps.size() / 2);; chunk /= 2) {
      for (size_t i = 0; i + chunk <= cur.steps.size();) {
        FuzzCase cand = cur;
        cand.steps.erase(cand.steps.begin() + i, cand.steps.begin() + i + chunk);
        if (fails(cand)) {
          cur = std::move(cand);
          progress = true;
        } else {
          i += chunk;
        }
      }
      if (chunk == 1) break;
    }
    // Fewer chains, then automatic nodes.
    if (cur.chains > 1) {
      FuzzCase cand = cur;
      --cand.chains;
      if (fails(cand)) cur = std::move(cand), progress = true;
    }
    if (cur.manual) {
      FuzzCase cand = cur;
      cand.manual = false;
      if (fails(cand)) cur = std::move(cand), progress = true;
    }
    for (uint32_t bit = 1; bit <= FuzzCase::kLastVariant; bit <<= 1) {
      if (!(cur.variant & bit)) continue;
      FuzzCase cand = cur;
      cand.variant &= ~bit;
      if (fails(cand)) cur = std::move(cand), progress = true;
    }
    // Simpler steps: the smallest choice of each field.
    for (size_t i = 0; i < cur.steps.size(); ++i) {
      for (uint32_t FuzzStep::*field : {&FuzzStep::a, &FuzzStep::b, &FuzzStep::c, &FuzzStep::chain}) {
        if (cur.steps[i].*field == 0) continue;
        FuzzCase cand = cur;
        cand.steps[i].*field = 0;
        if (fails(cand)) cur = std::move(cand), progress = true;
      }
    }
  }
  if (runs != nullptr) *runs = calls;
  return cur;
}

}  // namespace supersafe::sim
