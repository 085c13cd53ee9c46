// The scenario runner: applies a scenario's steps to a fresh world and supervisor, lets the nodes
// act (auto mode: rounds until quiet; 64 rounds in a row without progress are a failure), and after
// every step checks
//   - the step's expectation, if it is an `expect`;
//   - the databases' invariants (db::VerifySuperSafeDB, db::VerifyEventDB on the data directory),
//     on what the step wrote (sim/db_check.h);
//   - the supervisor's heads against the reference model (sim/reference_model.h): all heads exactly
//     with `nodes: auto`; with `nodes: manual` only cross-safe and finalized, which must not run
//     ahead of the model; with `nodes: auto` also, before a node replaces a block, that the model
//     finds that block the chain's first invalid one at that view (see StateChecker::CheckInvalid);
//   - that nothing acknowledged as cross-safe at an L1 view changed while that view is canonical,
//     for the acknowledgments the step may have affected;
// and at the end of a passing run the whole database files and every acknowledgment once more
// (docs/simulator-checks.md, "The invariants, after every step", says which are checked when).
// The first breach stops the run; the result names the step, the expected and the seen value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "core/types.h"
#include "sim/scenario.h"
#include "sim/timeline.h"

namespace supersafe::supervisor {
class Supervisor;
}

namespace supersafe::sim {

class World;
class FaultDisk;

// Where a run keeps its data directory: in memory (the default: fast, nothing left behind), or in
// real files (`--disk posix`, `--datadir`). Both go through the simulated disk (sim/fault_disk.h),
// so a scenario gives the same trace either way.
enum class DiskKind : uint8_t { kMemory, kPosix };

struct RunOptions {
  uint64_t seed = 0;                // the seed of this run (the file's, or --seed)
  DiskKind disk = DiskKind::kMemory;
  std::filesystem::path datadir;    // kPosix: must exist and be empty; kMemory: unused
  bool progress = false;            // print step progress to stderr (for terminals)
  // Benchmarks only (bench/sim): false skips the invariant checks after each step (databases,
  // acknowledgments, reference model) and at the end; expectations are still checked.
  bool check_invariants = true;
  // false: the run keeps no trace and no timeline (RunResult::trace empty, digest zero; checks,
  // failures and coverage as usual). The fuzzer's cases run so; a failure it reports is replayed
  // from its scenario file, which records both.
  bool record = true;
  // Called once at the end of a run that passed, after its trace is complete, with the supervisor
  // and the world as they stand then (`supersafe export` reads the fault-proof answers here).
  std::function<void(supervisor::Supervisor&, const World&)> at_end;
  // Tests only: called with the run's disk before the supervisor first opens (to arm faults
  // counted from the first operation), and once more when the run ends, passed or not (to read
  // its counters).
  std::function<void(FaultDisk&)> disk_at_start;
  std::function<void(const FaultDisk&)> disk_at_end;
};

// Why a run failed. kStep: a step asked for what the world cannot do (a reorg_unsafe reaching a
// posted block, a finalize depth beyond the L1 head, a call naming a block that does not exist):
// the scenario is wrong, not the supervisor. kExpectation: an `expect` step did not hold.
// kInvariant: a check the runner makes after every step (databases, reference model,
// acknowledgments), the supervisor failing to reopen, or the nodes not settling.
enum class FailureKind { kNone, kStep, kExpectation, kInvariant };

struct RunResult {
  bool passed = false;
  size_t steps_run = 0;      // steps applied, including the failing one
  std::string failure;       // empty when passed
  FailureKind failure_kind = FailureKind::kNone;
  std::string trace;         // JSONL bytes
  Hash digest;               // SHA-256 of the trace bytes
  Timeline timeline;
  // How often each event the fuzzer aims at happened (docs/fuzz.md, "Coverage"): reorgs,
  // flip_flops, replacements, divergent_batches, cascades, restarts, crash, torn_write,
  // lost_write, fsync_error, read_error, no_space, bit_flip, torn_tail_recoveries,
  // corruption_refusals.
  std::map<std::string, uint64_t> coverage;
};

RunResult RunScenario(const Scenario& scenario, const RunOptions& options);

}  // namespace supersafe::sim
