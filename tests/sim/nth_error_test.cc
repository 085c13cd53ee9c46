// SQLite's I/O-error test on the simulated disk (sim/fault_disk.h): one small scenario that writes,
// syncs, truncates and replaces blocks runs once clean to count the operations of each kind, then
// once for every N with an I/O error injected at the N-th write (ENOSPC), the N-th sync (fdatasync
// or a directory fsync: EIO), the N-th truncate (EIO) and the N-th rename (EIO). Each run must
// either pass, or stop with an error that names the injected fault; and the runner checks after
// every step that the databases verify and that nothing acknowledged changed, so a run that passes
// also reopened its data directory consistent with everything acknowledged.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "sim/fault_disk.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace supersafe::sim {
namespace {

// Writes to all three database kinds; an unsafe reorg and an L1 reorg rewind the event-log DBs
// and the super-safe-db (truncates); a replacement writes the replacement log; a restart reopens
// everything from the disk.
constexpr const char* kScenario = R"(
name: nth-error
seed: 5
chains:
  - {name: A, id: 900}
  - {name: B, id: 901}
steps:
  - build: {chain: A, logs: [{init: m1}]}
  - build: {chain: A, blocks: 1}
  - reorg_unsafe: {chain: A, depth: 1}
  - build: {chain: B, force: true, logs: [{exec: {chain: A, block: 1, log: 0, payload: m9}}]}
  - build: {chain: B, logs: [{exec: m1}]}
  - batch: {chain: A}
  - batch: {chain: B}
  - mine: 1
  - expect: {chain: B, block: 1, replaced: true}
  - reorg_l1: {depth: 1, fork: b}
  - mine: 1
  - restart: {}
  - build: {chain: A, blocks: 1}
  - batch: {chain: A}
  - mine: 1
  - expect: {chain: A, cross_safe: 3}
  - expect: {message: m1, level: safe}
)";

const Scenario& TheScenario() {
  static const Scenario sc = [] {
    auto parsed = ParseScenario(kScenario, "nth-error.yaml");
    SS_CHECK(parsed.ok(), parsed.status().ToString());
    return *parsed;
  }();
  return sc;
}

struct Outcome {
  RunResult result;
  DiskCounters counters;
  DiskOpCounts ops;
};

Outcome RunWith(std::optional<std::pair<DiskFault, uint64_t>> fault, const Scenario& sc = TheScenario()) {
  Outcome out;
  RunOptions opts;
  opts.seed = sc.seed;
  opts.disk_at_start = [&](FaultDisk& disk) {
    if (fault) disk.Arm(fault->first, fault->second);
  };
  opts.disk_at_end = [&](const FaultDisk& disk) {
    out.counters = disk.counters();
    out.ops = disk.op_counts();
  };
  out.result = RunScenario(sc, opts);
  return out;
}

uint64_t Fired(const DiskCounters& c, DiskFault f) {
  switch (f) {
    case DiskFault::kNoSpace: return c.no_space;
    case DiskFault::kSyncError: return c.fsync_error;
    case DiskFault::kTruncateError: return c.truncate_error;
    case DiskFault::kRenameError: return c.rename_error;
    default: return 0;
  }
}

uint64_t Count(const DiskOpCounts& ops, DiskFault f) {
  switch (f) {
    case DiskFault::kNoSpace: return ops.writes;
    case DiskFault::kSyncError: return ops.syncs;
    case DiskFault::kTruncateError: return ops.truncates;
    case DiskFault::kRenameError: return ops.renames;
    default: return 0;
  }
}

const DiskOpCounts& CleanCounts() {
  static const DiskOpCounts ops = [] {
    Outcome clean = RunWith(std::nullopt);
    SS_CHECK(clean.result.passed, "the clean run fails: " + clean.result.failure);
    return clean.ops;
  }();
  return ops;
}

TEST(NthError, TheScenarioPassesCleanAndExercisesEveryKindOfOperation) {
  const DiskOpCounts& ops = CleanCounts();
  EXPECT_GT(ops.writes, 20u);
  EXPECT_GT(ops.syncs, 20u);
  EXPECT_GT(ops.truncates, 2u) << "the scenario no longer rewinds a database";
  // The databases never rename a file today: the rename loop below is empty until one does.
  EXPECT_EQ(ops.renames, 0u) << "a rename appeared: the rename loop now covers it; update this line";
}

// For every N up to the clean run's count (and one past it, which must not fire): inject, run,
// and judge. Runs are deterministic, so every run reaches its N-th operation as the clean run did
// and the fault fires there.
void LoopOverN(const Scenario& sc, DiskFault fault, uint64_t total) {
  uint64_t passed = 0, stopped = 0, fired = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t n = 1; n <= total + 1; ++n) {
    Outcome o = RunWith(std::make_pair(fault, n), sc);
    const std::string at = sc.name + ": " + DiskFaultName(fault) + " at " + std::to_string(n);
    const bool did_fire = Fired(o.counters, fault) > 0;
    fired += did_fire ? 1 : 0;
    if (n == total + 1) {
      EXPECT_FALSE(did_fire) << at << ": fired past the clean run's count";
    }
    if (o.result.passed) {
      ++passed;
      continue;
    }
    ++stopped;
    const std::string& why = o.result.failure;
    // With `nodes: manual` the scenario is the only caller and nothing retries a call that saw
    // the error: the expectations that follow may fail. The invariants (databases, acknowledgments,
    // the reference model's bound) must still hold, and did, or the run would have stopped there.
    if (sc.nodes == NodesMode::kManual && o.result.failure_kind == FailureKind::kExpectation) continue;
    // A `call` or `rewind` step is one call that nothing retries in either mode: one that hit the
    // injected error answers it, and the `expect: {result}` after it may fail with that error.
    if (o.result.failure_kind == FailureKind::kExpectation &&
        why.find(" result: expected a result, saw ") != std::string::npos &&
        why.find("(simulated)") != std::string::npos)
      continue;
    // Otherwise a stop is allowed only as the supervisor refusing to go on after the injected
    // error, with that error in the message; never an expectation, a database or an
    // acknowledgment breach.
    EXPECT_NE(o.result.failure_kind, FailureKind::kExpectation) << at << ": " << why;
    EXPECT_NE(why.find("(simulated)"), std::string::npos) << at << ": the run failed for another reason: " << why;
    EXPECT_EQ(why.find("acknowledged"), std::string::npos) << at << ": " << why;
    EXPECT_EQ(why.find("verify"), std::string::npos) << at << ": " << why;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << sc.name << ": " << DiskFaultName(fault) << ": " << total << " operations, fired " << fired
            << ", passed " << passed << ", stopped " << stopped << " (" << seconds << " s)\n";
  EXPECT_EQ(fired, total) << sc.name << ": every one of the clean run's operations should have failed once";
}

class NthErrorKind : public ::testing::TestWithParam<DiskFault> {};

TEST_P(NthErrorKind, EveryNthOperationFailsOnceAndTheRunPassesOrStopsWithTheError) {
  LoopOverN(TheScenario(), GetParam(), Count(CleanCounts(), GetParam()));
}

TEST(NthErrorLibrary, EveryNthOperationOfEachScenario) {
  const char* root = std::getenv("SUPERSAFE_SOURCE_ROOT");
  if (root == nullptr) GTEST_SKIP() << "SUPERSAFE_SOURCE_ROOT is not set";
  // Every scenario of the library (but those with `fault` steps of their own): replacements,
  // cascades, reorgs, flip-flops, restarts and the scenario's own crashes, each on top of the
  // injected error.
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(root) / "scenarios"))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 10u);
  for (const auto& file : files) {
    const std::string name = file.stem().string();
    auto sc = ParseScenarioFile(file);
    ASSERT_TRUE(sc.ok()) << sc.status().ToString();
    // A scenario with its own `fault` steps arms faults by operation count: an injected error
    // before them moves where they fire, so the clean run's count of operations does not hold.
    if (std::any_of(sc->steps.begin(), sc->steps.end(),
                    [](const Step& s) { return std::holds_alternative<FaultStep>(s.action); }))
      continue;
    Outcome clean = RunWith(std::nullopt, *sc);
    ASSERT_TRUE(clean.result.passed) << name << ": " << clean.result.failure;
    for (DiskFault f : {DiskFault::kNoSpace, DiskFault::kSyncError, DiskFault::kTruncateError, DiskFault::kRenameError})
      LoopOverN(*sc, f, Count(clean.ops, f));
  }
}

INSTANTIATE_TEST_SUITE_P(EachKind, NthErrorKind,
                         ::testing::Values(DiskFault::kNoSpace, DiskFault::kSyncError, DiskFault::kTruncateError,
                                           DiskFault::kRenameError),
                         [](const ::testing::TestParamInfo<DiskFault>& info) {
                           return std::string(DiskFaultName(info.param));
                         });

}  // namespace
}  // namespace supersafe::sim
