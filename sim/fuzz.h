// Generated scenarios for property testing (`supersafe fuzz`, tests/sim/fuzz_test.cc).
//
// A FuzzCase is a list of step intents drawn from one seed (SplitMix64 over the seed's "fuzz"
// salt, no library distributions, so the same seed gives the same case on any machine).
// RenderScenario turns a case into a scenario file, written through the step table (sim/steps.h)
// as the parser reads it, and keeps it valid by construction: it tracks
// what it can (L1 head and finalized block, fork labels, blocks built, messages emitted) and
// clamps or leaves out an intent that would ask for the impossible (a reorg below the finalized
// block, an unsafe reorg of posted blocks). A few intents stay impossible at run time (a chain cut
// by a deposit-only replacement is shorter than the renderer thinks); such a run fails with
// FailureKind::kStep and counts as discarded, not as a finding. Generated scenarios hold no
// `expect` steps: a failure is a breach of the invariants the runner checks after every step.
//
// ShrinkCase makes a failing case small while it keeps failing the same way (same failure kind
// and check): it drops runs of steps, then simplifies the ones left, until nothing changes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/runner.h"

namespace supersafe::sim {

enum class FuzzKind : uint8_t {
  kBuild,        // a: blocks (1..3), b: logs (FuzzLogs)
  kBatch,
  kMine,         // a: count
  kReorgL1,      // a: depth, b: keep_batches (0/1)
  kFlipFlop,     // back to the fork before the last reorg, same depth, batches kept
  kFinalize,     // a: depth below the L1 head
  kReorgUnsafe,  // a: depth; only right after a build of the same chain
  kRestart,
  kCrash,        // a: torn bytes, b: 0 super-safe-db, 1 event-log DB
  kCall,         // a: method (FuzzCall), b: a number argument
  kDerive,       // manual nodes only
  kSync,         // manual nodes only
  kPool,         // re-check A's tx pool (only when A has one: FuzzCase::kPoolOnA)
  kDropBatches,  // the batcher loses the chain's queued batches
  // Storage faults of the simulated disk (`fault:` steps, sim/fault_disk.h).
  kPowerLoss,    // a: which disk operation from now
  kFsyncError,   // a: which sync from now
  kReadError,    // a: which read from now
  kNoSpace,      // a: which write from now
  kBitFlip,      // b: 0 super-safe-db, 1 event-log DB, 2 replacement log (of `chain`)
  // The batcher posts another block than the sequencer gossiped, at a height above what the
  // chain's earlier batches posted: a: which height, b: its logs (none, a payload, an exec).
  kBatchDivergent,
};

enum class FuzzLogs : uint8_t { kNone, kInit, kExec, kForcedExec, kInvalidExec, kPayload };
enum class FuzzCall : uint8_t { kTryCrossSafe, kTryFinalize, kUpdateLocalUnsafe, kGetCrossUnsafe, kCheckMessage };

struct FuzzStep {
  FuzzKind kind = FuzzKind::kBuild;
  uint32_t chain = 0;  // taken modulo the case's chain count
  uint32_t a = 0;
  uint32_t b = 0;
  uint32_t c = 0;      // a pick among what exists when the step is rendered (a message, a block)
  bool operator==(const FuzzStep&) const = default;
};

struct FuzzCase {
  uint64_t seed = 0;
  uint32_t chains = 2;  // 1..4
  bool manual = false;  // nodes: manual
  // Chain parameters, as bits: block times 2, 3, 1, 2 instead of all 2; B's interop activation at
  // its block 3; A's builder at policy safe with a tx pool; an expiry window of 20 seconds (and a
  // builder timeout of 4 seconds, not op-geth's day: that would leave every message out); B and D
  // drop the rest of a batch after a replacement (after_replacement: drop); A has a sequencing
  // window of 4 L1 blocks.
  static constexpr uint32_t kBlockTimes = 1, kLateInterop = 2, kPoolOnA = 4, kShortExpiry = 8, kDropRest = 16,
                            kSeqWindowOnA = 32;
  static constexpr uint32_t kLastVariant = kSeqWindowOnA;
  uint32_t variant = 0;
  std::vector<FuzzStep> steps;
  bool operator==(const FuzzCase&) const = default;
};

struct FuzzProfile {
  uint32_t min_chains = 2;
  uint32_t max_chains = 3;
  uint32_t steps = 40;
  uint32_t manual_percent = 25;  // share of cases with manual nodes
  // Relative weight of each FuzzKind (index = the enum's value); derive and sync only count with
  // manual nodes.
  std::vector<uint32_t> weights = {30, 14, 12, 4, 3, 4, 4, 3, 3, 6, 10, 10, 3, 3, 2, 2, 2, 2, 1, 2};
  uint32_t variant_percent = 40;  // share of cases with other chain parameters than the defaults
};

// Reads a profile from YAML: any of `chains: [min, max]`, `steps: N`, `manual_percent: P`,
// `weights: {build: 30, batch: 14, mine: 12, reorg_l1: 4, flip_flop: 3, finalize: 4,
// reorg_unsafe: 4, restart: 3, crash: 3, call: 6, derive: 10, sync: 10, pool: 3, drop_batches: 3,
// power_loss: 2, fsync_error: 2, read_error: 2, no_space: 2, bit_flip: 1, batch_divergent: 2}`,
// `variant_percent: P` (missing keys keep the defaults). Unknown keys and out-of-range values are errors naming the file and key.
Result<FuzzProfile> ParseFuzzProfile(const std::string& text, const std::string& file);

FuzzCase GenerateCase(uint64_t seed, const FuzzProfile& profile);

// The coverage counters (RunResult::coverage) that the profile's weights aim at, sorted: a
// campaign that never produced one of them did not test what the profile asks for.
std::vector<std::string> CoverageAimedAt(const FuzzProfile& profile);

// The case as a scenario file (YAML), named fuzz-<seed>.
std::string RenderScenario(const FuzzCase& c);
// The same file in its two parts (sim/scenario.h): what RunCase parses.
ScenarioText RenderScenarioParts(const FuzzCase& c);

// Renders, parses and runs the case with every check, on the memory disk or in a fresh temporary
// data directory that is removed afterwards. A rendered file that does not parse is reported as an
// invariant failure (the generator's bug), with the parser's message.
RunResult RunCase(const FuzzCase& c, DiskKind disk = DiskKind::kMemory);

// What "fails the same way" compares: the failure kind and the failure's check, i.e. its message
// without the step prefix and without digits ("reference model (view L1 ): B cross_safe: ...").
std::string FailureSignature(const RunResult& r);

// Shrinks `failing` while `still_fails` holds for the candidate; at most `max_runs` calls of
// `still_fails`. `runs` (optional) receives the number of calls made.
FuzzCase ShrinkCase(FuzzCase failing, const std::function<bool(const FuzzCase&)>& still_fails, size_t max_runs,
                    size_t* runs = nullptr);

}  // namespace supersafe::sim
