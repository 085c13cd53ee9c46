// The op-geth side of the simulator: the builder's policy and the tx pool. Parsing of the new
// keys (chain `policy` / `mempool`, step `pool`, expectation `pool`) with file, line and key in
// every error; and whole runs that pin each pool decision in the trace: back off on `unknown`
// then include once the source is known, prune on `conflicts` after the source block was
// replaced, and keep a tx pending under policy `safe` until its source is safe.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <sstream>

#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/trace.h"
#include "tests/temp_dir.h"

namespace supersafe::sim {
namespace {

using ::testing::HasSubstr;

// ---- parsing ----

const char* kChains = R"(name: t
chains:
  - {name: A, id: 900, policy: safe, mempool: true}
  - {name: B, id: 901, policy: cross-unsafe}
  - {name: C, id: 902}
)";

TEST(PoolParse, ChainPolicyMempoolStepAndExpectation) {
  auto sc = ParseScenario(std::string(kChains) + R"(steps:
  - pool: {chain: A}
  - expect: {chain: A, pool: 2}
  - expect: {chain: A, unsafe: 0}
)",
                          "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  EXPECT_EQ(sc->chains[0].policy, SafetyLevel::kSafe);
  EXPECT_TRUE(sc->chains[0].mempool);
  EXPECT_EQ(sc->chains[1].policy, SafetyLevel::kCrossUnsafe);
  EXPECT_FALSE(sc->chains[1].mempool);
  EXPECT_EQ(sc->chains[2].policy, SafetyLevel::kUnsafe);  // the defaults: today's builder
  EXPECT_FALSE(sc->chains[2].mempool);
  ASSERT_EQ(sc->steps.size(), 3u);
  EXPECT_EQ(sc->steps[0].kind, "pool");
  EXPECT_EQ(sc->steps[0].label, "pool: {chain: A}");
  EXPECT_EQ(std::get<PoolStep>(sc->steps[0].action).chain, 0u);
  const auto& e = std::get<PoolExpect>(std::get<ExpectStep>(sc->steps[1].action).what);
  EXPECT_EQ(e.chain, 0u);
  EXPECT_EQ(e.pending, 2u);
  EXPECT_TRUE(std::holds_alternative<HeadsExpect>(std::get<ExpectStep>(sc->steps[2].action).what));
}

TEST(PoolParse, EveryPolicyLevel) {
  const std::pair<const char*, SafetyLevel> levels[] = {{"unsafe", SafetyLevel::kUnsafe},
                                                        {"cross-unsafe", SafetyLevel::kCrossUnsafe},
                                                        {"safe", SafetyLevel::kSafe},
                                                        {"finalized", SafetyLevel::kFinalized}};
  for (const auto& [name, level] : levels) {
    auto sc = ParseScenario("name: t\nchains:\n  - {name: A, id: 1, policy: " + std::string(name) + "}\nsteps: []\n",
                            "p.yaml");
    ASSERT_TRUE(sc.ok()) << name << ": " << sc.status().ToString();
    EXPECT_EQ(sc->chains[0].policy, level) << name;
  }
}

struct BadPool {
  const char* what;
  std::string text;      // a whole file
  std::string location;  // "t.yaml:LINE: KEY: ..."
};

class PoolParseErrors : public ::testing::TestWithParam<BadPool> {};

TEST_P(PoolParseErrors, NameFileLineAndKey) {
  auto sc = ParseScenario(GetParam().text, "t.yaml");
  ASSERT_FALSE(sc.ok()) << GetParam().what;
  EXPECT_THAT(sc.status().message(), HasSubstr(GetParam().location)) << GetParam().what;
}

std::string OneChain(const std::string& chain_extra, const std::string& steps) {
  return "name: t\nchains:\n  - {name: A, id: 900" + chain_extra + "}\n  - {name: B, id: 901}\nsteps:\n" + steps;
}

INSTANTIATE_TEST_SUITE_P(
    All, PoolParseErrors,
    ::testing::Values(
        BadPool{"policy not a level", OneChain(", policy: best", ""),
                "t.yaml:3: chains[0].policy: want unsafe, cross-unsafe, safe or finalized, got 'best'"},
        BadPool{"policy unknown", OneChain(", policy: unknown", ""),
                "t.yaml:3: chains[0].policy: want unsafe, cross-unsafe, safe or finalized, got 'unknown'"},
        BadPool{"policy conflicts", OneChain(", policy: conflicts", ""),
                "t.yaml:3: chains[0].policy: want unsafe, cross-unsafe, safe or finalized, got 'conflicts'"},
        BadPool{"policy not a scalar", OneChain(", policy: [safe]", ""), "t.yaml:3: chains[0].policy: want a scalar"},
        BadPool{"mempool not a bool", OneChain(", mempool: yes please", ""),
                "t.yaml:3: chains[0].mempool: want true or false, got 'yes please'"},
        BadPool{"pool step on a chain without a pool", OneChain("", "  - mine: 1\n  - pool: {chain: B}\n"),
                "t.yaml:7: pool.chain: chain 'B' has no tx pool (set mempool: true)"},
        BadPool{"pool step on an unknown chain", OneChain(", mempool: true", "  - pool: {chain: Z}\n"),
                "t.yaml:6: pool.chain: no chain named 'Z'"},
        BadPool{"pool step without a chain", OneChain(", mempool: true", "  - pool: {}\n"), "t.yaml:6: pool.chain: required"},
        BadPool{"pool step with a stray key", OneChain(", mempool: true", "  - pool: {chain: A, include: true}\n"),
                "t.yaml:6: pool.include: unknown key"},
        BadPool{"pool expectation on a chain without a pool", OneChain("", "  - expect: {chain: B, pool: 0}\n"),
                "t.yaml:6: expect.chain: chain 'B' has no tx pool (set mempool: true)"},
        BadPool{"pool expectation not a number", OneChain(", mempool: true", "  - expect: {chain: A, pool: two}\n"),
                "t.yaml:6: expect.pool: want a non-negative 64-bit integer, got 'two'"},
        BadPool{"pool expectation mixed with heads", OneChain(", mempool: true", "  - expect: {chain: A, pool: 1, unsafe: 2}\n"),
                "t.yaml:6: expect.unsafe: unknown key"},
        BadPool{"pool expectation without a chain", OneChain(", mempool: true", "  - expect: {pool: 1}\n"),
                "t.yaml:6: expect.chain: required"}));

// ---- runs ----

using TempDir = ::supersafe::testing::TempDir;

struct SimRun {
  RunResult result;
  std::vector<Json> events;  // the trace, one object per line

  // The events named `name`, in trace order.
  std::vector<Json> Named(const std::string& name) const {
    std::vector<Json> out;
    for (const Json& e : events)
      if (e["event"] == name) out.push_back(e);
    return out;
  }
  // Every pool decision (pool_added, pool_dropped, pool_included, pool_pending, pool_pruned).
  std::vector<std::string> Decisions() const {
    std::vector<std::string> out;
    for (const Json& e : events) {
      const std::string name = e["event"];
      if (name.rfind("pool_", 0) == 0) out.push_back(name);
    }
    return out;
  }
};

SimRun RunText(const std::string& text) {
  auto sc = ParseScenario(text, "run.yaml");
  SS_CHECK(sc.ok(), sc.status().ToString());
  TempDir dir;
  SimRun run;
  RunOptions options;
  options.seed = sc->seed;
  options.datadir = dir.path();
  run.result = RunScenario(*sc, options);
  std::istringstream in(run.result.trace);
  for (std::string line; std::getline(in, line);) run.events.push_back(Json::parse(line));
  return run;
}

// B's tx executes A#1 log 0 before A built it: unknown, so it waits; A emits it; B's next build
// includes it. With `nodes: auto` A's node reports A#1 right after its step.
const char* kBackoff = R"(name: backoff
seed: 21
chains:
  - {name: A, id: 900}
  - {name: B, id: 901, mempool: true}
steps:
  - build: {chain: B, logs: [{exec: {chain: A, block: 1, log: 0, payload: m1}}]}
  - expect: {chain: B, pool: 1}
  - build: {chain: A, logs: [{init: m1}]}
  - expect: {chain: B, pool: 1}
  - build: {chain: B, logs: [{payload: "0x01"}]}
  - expect: {chain: B, pool: 0}
  - expect: {chain: B, unsafe: 2, cross_unsafe: 2}
  - batch: {chain: A}
  - batch: {chain: B}
  - mine: 1
  - expect: {chain: B, block: 2, replaced: false}
  - expect: {chain: B, cross_safe: 2}
)";

TEST(Pool, BacksOffOnUnknownThenIncludesOnceTheSourceIsKnown) {
  SimRun run = RunText(kBackoff);
  ASSERT_TRUE(run.result.passed) << run.result.failure;
  EXPECT_EQ(run.Decisions(), (std::vector<std::string>{"pool_added", "pool_included"}));
  const Json added = run.Named("pool_added").at(0);
  EXPECT_EQ(added["chain"], "B");
  EXPECT_EQ(added["block"], 1);
  EXPECT_EQ(added["answer"], "unknown");
  EXPECT_EQ(added["tx"]["chain"], "900");
  EXPECT_EQ(added["tx"]["block"], 1);
  const Json included = run.Named("pool_included").at(0);
  EXPECT_EQ(included["block"], 2);
  EXPECT_EQ(included["answer"], "cross-unsafe");
  // B#1 was built without the tx, B#2 with it ahead of the step's own log.
  std::vector<Json> builds;
  for (const Json& b : run.Named("build"))
    if (b["chain"] == "B") builds.push_back(b);
  ASSERT_EQ(builds.size(), 2u);
  EXPECT_EQ(builds[0]["logs"], 0);
  EXPECT_EQ(builds[0]["left_out"].size(), 1u);
  EXPECT_EQ(builds[1]["logs"], 2);
  EXPECT_TRUE(builds[1]["left_out"].empty());
}

TEST(Pool, StaysPendingWhileUnknown) {
  // Manual nodes: A's block exists but A's node has not reported it, so B's next build still gets
  // `unknown` and keeps the tx; after the report the next build includes it.
  SimRun run = RunText(R"(name: still-unknown
nodes: manual
chains:
  - {name: A, id: 900}
  - {name: B, id: 901, mempool: true}
steps:
  - build: {chain: B, logs: [{exec: {chain: A, block: 1, log: 0, payload: m1}}]}
  - build: {chain: A, logs: [{init: m1}]}
  - pool: {chain: B}
  - build: {chain: B}
  - expect: {chain: B, pool: 1}
  - sync: {chain: A}
  - build: {chain: B}
  - expect: {chain: B, pool: 0}
)");
  ASSERT_TRUE(run.result.passed) << run.result.failure;
  EXPECT_EQ(run.Decisions(), (std::vector<std::string>{"pool_added", "pool_pending", "pool_included"}));
  EXPECT_EQ(run.Named("pool_pending").at(0)["answer"], "unknown");
  EXPECT_EQ(run.Named("pool_pending").at(0)["block"], 2);
  EXPECT_EQ(run.Named("pool_included").at(0)["block"], 3);
  EXPECT_EQ(run.Named("pool_included").at(0)["answer"], "cross-unsafe");
  const Json pool = run.Named("pool").at(0);
  EXPECT_EQ(pool["pruned"], 0);
  EXPECT_EQ(pool["pending"], 1);
}

// B's faulty sequencer forces m1 into B#1 together with a message that conflicts; A (policy
// cross-unsafe) keeps its tx executing m1 pending; deriving B#1 replaces it by a deposit-only
// block, after which m1 conflicts.
std::string Invalidated(const std::string& nodes, const std::string& tail) {
  return R"(name: invalidated
seed: 33
nodes: )" + nodes + R"(
chains:
  - {name: A, id: 900, policy: cross-unsafe, mempool: true}
  - {name: B, id: 901}
steps:
  - build: {chain: B, force: true, logs: [{init: m1}, {exec: {chain: B, block: 1, log: 0, payload: nothing}}]}
)" + tail;
}

TEST(Pool, PrunesOnConflictsAfterTheSourceBlockWasReplaced_AutoRecheckAfterTheStep) {
  SimRun run = RunText(Invalidated("auto", R"(  - build: {chain: A, logs: [{exec: m1}]}
  - expect: {chain: A, pool: 1}
  - build: {chain: A}
  - expect: {chain: A, pool: 1}
  - batch: {chain: A}
  - batch: {chain: B}
  - mine: 1
  - expect: {chain: B, block: 1, replaced: true}
  - expect: {message: m1, level: conflicts}
  - expect: {chain: A, pool: 0}
  - expect: {chain: A, block: 1, replaced: false}
  - expect: {chain: A, cross_safe: 2}
)"));
  ASSERT_TRUE(run.result.passed) << run.result.failure;
  EXPECT_EQ(run.Decisions(), (std::vector<std::string>{"pool_added", "pool_pending", "pool_pruned"}));
  EXPECT_EQ(run.Named("pool_added").at(0)["answer"], "unsafe");
  EXPECT_EQ(run.Named("pool_added").at(0)["policy"], "cross-unsafe");
  const Json pruned = run.Named("pool_pruned").at(0);
  EXPECT_EQ(pruned["tx"], "m1");
  EXPECT_EQ(pruned["reason"], "conflicts");
  EXPECT_FALSE(pruned.contains("block"));  // pruned by the re-check after the `mine` step
  EXPECT_EQ(pruned["step"], 8);
}

TEST(Pool, PrunesOnConflictsAfterTheSourceBlockWasReplaced_PoolStep) {
  SimRun run = RunText(Invalidated("manual", R"(  - sync: {chain: B}
  - build: {chain: A, logs: [{exec: m1}]}
  - pool: {chain: A}
  - expect: {chain: A, pool: 1}
  - batch: {chain: B}
  - mine: 1
  - derive: {chain: A}
  - derive: {chain: B}
  - expect: {message: m1, level: conflicts}
  - expect: {chain: A, pool: 1}
  - pool: {chain: A}
  - expect: {chain: A, pool: 0}
)"));
  ASSERT_TRUE(run.result.passed) << run.result.failure;
  EXPECT_EQ(run.Decisions(), (std::vector<std::string>{"pool_added", "pool_pruned"}));
  const auto pools = run.Named("pool");
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_EQ(pools[0]["pruned"], 0);
  EXPECT_EQ(pools[0]["pending"], 1);
  EXPECT_EQ(pools[1]["pruned"], 1);
  EXPECT_EQ(pools[1]["pending"], 0);
  EXPECT_EQ(run.Named("pool_pruned").at(0)["reason"], "conflicts");
}

TEST(Pool, PrunesOnConflictsAfterTheSourceBlockWasReplaced_AtTheNextBuild) {
  SimRun run = RunText(Invalidated("manual", R"(  - sync: {chain: B}
  - build: {chain: A, logs: [{exec: m1}]}
  - batch: {chain: B}
  - mine: 1
  - derive: {chain: A}
  - derive: {chain: B}
  - build: {chain: A}
  - expect: {chain: A, pool: 0}
)"));
  ASSERT_TRUE(run.result.passed) << run.result.failure;
  EXPECT_EQ(run.Decisions(), (std::vector<std::string>{"pool_added", "pool_pruned"}));
  const Json pruned = run.Named("pool_pruned").at(0);
  EXPECT_EQ(pruned["block"], 2);
  EXPECT_EQ(pruned["reason"], "conflicts");
  const Json last_build = run.Named("build").back();
  EXPECT_EQ(last_build["chain"], "A");
  EXPECT_EQ(last_build["logs"], 0);
}

TEST(Pool, ConflictsOnArrivalIsDroppedNotPooled) {
  SimRun run = RunText(R"(name: dropped
chains:
  - {name: A, id: 900}
  - {name: B, id: 901, mempool: true}
steps:
  - build: {chain: A, logs: [{init: m1}]}
  - build: {chain: B, logs: [{exec: {chain: A, block: 1, log: 0, payload: m9}}, {exec: {chain_id: 77, block: 1, log: 0, payload: m1}}]}
  - expect: {chain: B, pool: 0}
)");
  ASSERT_TRUE(run.result.passed) << run.result.failure;
  const auto dropped = run.Named("pool_dropped");
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_EQ(dropped[0]["reason"], "conflicts");
  EXPECT_THAT(dropped[1]["reason"].get<std::string>(), HasSubstr("UNKNOWN_CHAIN"));
}

// A (policy safe, with a pool) and C (policy safe, no pool) both get a tx executing B's m1.
const char* kPolicySafe = R"(name: policy-safe
seed: 44
chains:
  - {name: A, id: 900, policy: safe, mempool: true}
  - {name: B, id: 901}
  - {name: C, id: 902, policy: safe}
steps:
  - build: {chain: B, logs: [{init: m1}]}
  - build: {chain: A, logs: [{exec: m1}]}
  - build: {chain: C, logs: [{exec: m1}]}
  - build: {chain: A}
  - batch: {chain: B}
  - mine: 1
  - expect: {message: m1, level: safe}
  - expect: {chain: A, pool: 1}
  - build: {chain: A}
  - expect: {chain: A, pool: 0}
  - batch: {chain: A}
  - mine: 1
  - expect: {chain: A, cross_safe: 3}
)";

TEST(Pool, PolicySafeKeepsTheTxPendingUntilTheSourceIsSafe) {
  SimRun run = RunText(kPolicySafe);
  ASSERT_TRUE(run.result.passed) << run.result.failure;
  EXPECT_EQ(run.Decisions(), (std::vector<std::string>{"pool_added", "pool_pending", "pool_included"}));
  EXPECT_EQ(run.Named("pool_added").at(0)["answer"], "cross-unsafe");
  EXPECT_EQ(run.Named("pool_pending").at(0)["answer"], "cross-unsafe");
  EXPECT_EQ(run.Named("pool_pending").at(0)["block"], 2);
  EXPECT_EQ(run.Named("pool_included").at(0)["answer"], "safe");
  EXPECT_EQ(run.Named("pool_included").at(0)["block"], 3);
  // C has the same policy but no pool: the tx is left out and forgotten.
  for (const Json& e : run.events) {
    if (e["event"] == "check_message" && e["chain"] == "C") {
      EXPECT_EQ(e["answer"], "cross-unsafe");
      EXPECT_EQ(e["included"], false);
    }
    if (e["event"].get<std::string>().rfind("pool_", 0) == 0) {
      EXPECT_EQ(e["chain"], "A");
    }
  }
}

TEST(Pool, SameRunSameTrace) {
  SimRun one = RunText(kPolicySafe);
  SimRun two = RunText(kPolicySafe);
  ASSERT_TRUE(one.result.passed);
  EXPECT_EQ(one.result.trace, two.result.trace);
  EXPECT_EQ(one.result.digest, two.result.digest);
}

}  // namespace
}  // namespace supersafe::sim
