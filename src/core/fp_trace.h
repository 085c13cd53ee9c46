// The super trace of an interop fault-proof game: the claim at every bisection position, computed
// from the supervisor's answers the way op-challenger's super trace provider computes it
// (docs/fp-fixtures.md, "Claims"). Pure functions of their inputs; the caller gathers
// the answers (supervisor_superRootAtTimestamp, supervisor_allSafeDerivedAt) first.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/fp.h"
#include "core/status.h"
#include "core/types.h"

namespace supersafe {

// The op-challenger default and the newest seen in its releases (1024 has been used too).
inline constexpr uint64_t kDefaultStepsPerTimestamp = 128;

struct RollupTiming {
  uint64_t genesis_time = 0;
  uint64_t genesis_number = 0;
  uint64_t block_time = 2;
};
// The chain's last block at or before `timestamp`: genesisNumber + (timestamp - genesisTime) /
// blockTime. kInvalidArgument before genesis, for a zero block time, or past block 2^64-1.
Result<uint64_t> TargetBlockNumber(const RollupTiming& timing, uint64_t timestamp);

// One supervisor_superRootAtTimestamp answer.
struct SuperRootAnswer {
  uint64_t cross_safe_derived_from = 0;  // L1 block number
  SuperV1 super;                          // canonical output roots, ascending chain ID
  std::vector<Bytes> pending;             // per chain of `super`: OutputV0 preimage before any replacement
};

// Everything the claims of one game read.
struct SuperTraceInputs {
  uint64_t prestate_timestamp = 0;
  uint64_t poststate_timestamp = 0;  // > prestate_timestamp
  uint64_t steps_per_timestamp = kDefaultStepsPerTimestamp;
  uint64_t l1_head_number = 0;
  // The answer at each timestamp the claims read ([prestate, poststate] suffices); nullopt where
  // the supervisor has none (not found, or not cross-safe yet).
  std::map<uint64_t, std::optional<SuperRootAnswer>> roots;
  std::map<ChainID, uint64_t> safe_at_l1_head;  // supervisor_allSafeDerivedAt(l1Head): block numbers
  std::map<ChainID, RollupTiming> rollup;
};

struct TracePoint {
  uint64_t timestamp = 0;
  uint64_t step = 0;
  bool operator==(const TracePoint&) const = default;
};

// traceIdx = trace_index + 1, T = prestate + traceIdx / S; from T >= poststate on, (poststate, 0);
// else (T, traceIdx % S). kInvalidArgument for S == 0, poststate <= prestate, or trace_index + 1
// beyond 64 bits.
Result<TracePoint> PointAt(uint64_t trace_index, uint64_t prestate, uint64_t poststate, uint64_t steps_per_timestamp);

struct Claim {
  uint64_t trace_index = 0;
  TracePoint point;
  Bytes preimage;  // SuperV1, TransitionState, or kInvalidStatePreimage
  Hash claim;      // keccak256(preimage)
};

// The claim at `trace_index`: step 0 is SuperV1(T); step k > 0 a TransitionState from SuperV1(T)
// with the pending outputs at T+1 of the first min(k, n) chains; InvalidState where the answers
// are missing or were not safe at the game's L1 head (docs/fp-fixtures.md gives every case).
// kInvalidArgument if a timestamp the claim reads is absent from `roots`, an answer has more
// chains than S-1 or a pending preimage that is not a 128-byte OutputV0 preimage, or a chain that
// the rule checks has no rollup timing or no safe head.
Result<Claim> ClaimAt(const SuperTraceInputs& in, uint64_t trace_index);

}  // namespace supersafe
