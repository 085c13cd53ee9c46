// Whole runs through sim::RunScenario for runner features without a scenario file of their own:
// `every: N` log specs in multi-block builds; the manual-mode bound of the reference-model check.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <sstream>

#include "sim/runner.h"
#include "sim/scenario.h"

namespace supersafe::sim {
namespace {

RunResult RunYaml(const std::string& yaml) {
  auto sc = ParseScenario(yaml, "t.yaml");
  SS_CHECK(sc.ok(), sc.status().ToString());
  std::string dir = (std::filesystem::temp_directory_path() / "supersafe-runner-test-XXXXXX").string();
  SS_CHECK(::mkdtemp(dir.data()) != nullptr, "mkdtemp");
  RunOptions opts;
  opts.seed = sc->seed;
  opts.datadir = dir;
  RunResult r = RunScenario(*sc, opts);
  std::filesystem::remove_all(dir);
  return r;
}

// The "logs" count of every build event of chain `chain`, in order.
std::vector<int> LogCounts(const std::string& trace, const std::string& chain) {
  std::vector<int> out;
  std::istringstream lines(trace);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"event\":\"build\"") == std::string::npos) continue;
    if (line.find("\"chain\":\"" + chain + "\"") == std::string::npos) continue;
    const size_t at = line.find("\"logs\":");
    out.push_back(std::stoi(line.substr(at + 7)));
  }
  return out;
}

TEST(Runner, EveryPutsALogInEveryNthBlockOfAStep) {
  RunResult r = RunYaml(R"(name: every
chains:
  - {name: A, id: 900}
  - {name: B, id: 901}
steps:
  - build: {chain: A, logs: [{init: m1}]}
  - build: {chain: B, blocks: 6, logs: [{payload: "0x01"}, {exec: m1, every: 3}, {payload: "0x02", every: 2}]}
  - reorg_unsafe: {chain: B, depth: 2, logs: [{exec: m1, every: 2}]}
  - batch: {chain: A}
  - batch: {chain: B}
  - mine: 1
  - expect: {chain: B, cross_safe: 6}
)");
  ASSERT_TRUE(r.passed) << r.failure;
  // Blocks 1..6: payload 0x01 in each, the exec in the 3rd and 6th, payload 0x02 in the 2nd, 4th
  // and 6th; then the reorg's 2 blocks: the exec in the 2nd only.
  EXPECT_EQ(LogCounts(r.trace, "B"), (std::vector<int>{1, 2, 2, 2, 1, 3, 0, 1}));
}

// With manual nodes a direct call may run ahead of the nodes' derivation (the scenario
// manual-call-ahead-of-derivation.yaml passes), but the supervisor is still bounded by what the L1
// chain holds: a call claiming a block whose batch is not on L1 is accepted by the supervisor (it
// trusts its op-node) and then caught by the check.
TEST(Runner, ManualModeBoundsTheSupervisorByWhatL1Holds) {
  RunResult r = RunYaml(R"(name: false-claim
nodes: manual
chains:
  - {name: A, id: 900}
steps:
  - build: {chain: A, blocks: 2}
  - sync: {chain: A}
  - batch: {chain: A, through: 1}
  - mine: 1
  - call: {method: tryCrossSafe, chain: A, local_safe: 2, derived_from: 1}
)");
  ASSERT_FALSE(r.passed);
  EXPECT_EQ(r.failure_kind, FailureKind::kInvariant);
  EXPECT_NE(r.failure.find("A cross_safe: expected at most 1, supervisor says 2"), std::string::npos) << r.failure;
}

// The runner tells a scenario asking for the impossible from a failed expectation from a breach.
TEST(Runner, FailuresSayWhetherTheStepTheExpectationOrAnInvariantFailed) {
  RunResult passed = RunYaml("name: ok\nchains:\n  - {name: A, id: 900}\nsteps:\n  - build: {chain: A}\n");
  EXPECT_TRUE(passed.passed);
  EXPECT_EQ(passed.failure_kind, FailureKind::kNone);
  RunResult step = RunYaml(R"(name: posted
chains:
  - {name: A, id: 900}
steps:
  - build: {chain: A, blocks: 2}
  - batch: {chain: A}
  - reorg_unsafe: {chain: A, depth: 1}
)");
  EXPECT_FALSE(step.passed);
  EXPECT_EQ(step.failure_kind, FailureKind::kStep) << step.failure;
  EXPECT_NE(step.failure.find("already posted"), std::string::npos) << step.failure;
  RunResult expectation = RunYaml(R"(name: wrong
chains:
  - {name: A, id: 900}
steps:
  - build: {chain: A}
  - expect: {chain: A, unsafe: 2}
)");
  EXPECT_FALSE(expectation.passed);
  EXPECT_EQ(expectation.failure_kind, FailureKind::kExpectation) << expectation.failure;
}

// The timeline's edges: one per executing message of each block a step added, at that step's
// column, with what became of the executing block by the end of the run.
TEST(Runner, TimelineEdgesFollowEachExecutingMessageToItsFate) {
  RunResult r = RunYaml(R"(name: edges
chains:
  - {name: A, id: 900}
  - {name: B, id: 901}
steps:
  - build: {chain: A, logs: [{init: m1}]}
  - build: {chain: B, logs: [{exec: m1}]}
  - build: {chain: B, force: true, logs: [{exec: {chain: A, block: 1, log: 0, payload: m9}}]}
  - batch: {chain: A}
  - batch: {chain: B}
  - mine: 1
  - build: {chain: A, logs: [{exec: m1}]}
  - reorg_unsafe: {chain: A, depth: 1}
  - build: {chain: B, logs: [{exec: m1}]}
)");
  ASSERT_TRUE(r.passed) << r.failure;
  const std::vector<MessageEdge>& e = r.timeline.edges;
  ASSERT_EQ(e.size(), 4u);
  auto check = [&](size_t k, size_t column, size_t exec_chain, uint64_t exec_block, EdgeFate fate, const char* text) {
    EXPECT_EQ(e[k].column, column) << k;
    EXPECT_EQ(e[k].exec_chain, exec_chain) << k;
    EXPECT_EQ(e[k].exec_block, exec_block) << k;
    EXPECT_EQ(e[k].source_chain, std::optional<size_t>(0)) << k;
    EXPECT_EQ(e[k].source_block, 1u) << k;
    EXPECT_EQ(e[k].fate, fate) << k;
    EXPECT_EQ(e[k].text, text) << k;
  };
  check(0, 1, 1, 1, EdgeFate::kCrossSafe, "B#1 log 0 executes A#1 log 0 (m1)");
  check(1, 2, 1, 2, EdgeFate::kInvalid, "B#2 log 0 executes A#1 log 0");
  check(2, 6, 0, 2, EdgeFate::kDropped, "A#2 log 0 executes A#1 log 0 (m1)");
  check(3, 8, 1, 3, EdgeFate::kPending, "B#3 log 0 executes A#1 log 0 (m1)");
  EXPECT_EQ(r.timeline.edges_left_out, 0u);
}

}  // namespace
}  // namespace supersafe::sim
