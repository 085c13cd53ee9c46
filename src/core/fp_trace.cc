#include "core/fp_trace.h"

#include <algorithm>

#include "core/crypto.h"

namespace supersafe {

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

// The answer at `t`, nullopt when the supervisor had none; an error if the caller did not look.
Result<const std::optional<SuperRootAnswer>*> Lookup(const SuperTraceInputs& in, uint64_t t) {
  auto it = in.roots.find(t);
  if (it == in.roots.end()) return InvalidArgument("no super root answer gathered for timestamp " + Num(t));
  const std::optional<SuperRootAnswer>& a = it->second;
  if (a && a->pending.size() != a->super.chains.size())
    return InvalidArgument("super root at " + Num(t) + ": " + Num(a->pending.size()) + " pending outputs for " +
                           Num(a->super.chains.size()) + " chains");
  if (a && a->super.chains.size() > in.steps_per_timestamp - 1)
    return InvalidArgument("super root at " + Num(t) + ": " + Num(a->super.chains.size()) + " chains exceed " +
                           Num(in.steps_per_timestamp) + " steps per timestamp - 1");
  return &a;
}

Claim Make(uint64_t trace_index, TracePoint point, Bytes preimage) {
  Claim c{trace_index, point, std::move(preimage), Hash()};
  c.claim = Keccak256(c.preimage);
  return c;
}

Claim Invalid(uint64_t trace_index, TracePoint point) {
  return Make(trace_index, point, Bytes(kInvalidStatePreimage.begin(), kInvalidStatePreimage.end()));
}

}  // namespace

Result<uint64_t> TargetBlockNumber(const RollupTiming& timing, uint64_t timestamp) {
  if (timing.block_time == 0) return InvalidArgument("rollup config: block time is zero");
  if (timestamp < timing.genesis_time)
    return InvalidArgument("timestamp " + Num(timestamp) + " is before genesis " + Num(timing.genesis_time));
  const uint64_t blocks = (timestamp - timing.genesis_time) / timing.block_time;
  if (blocks > UINT64_MAX - timing.genesis_number)
    return InvalidArgument("timestamp " + Num(timestamp) + ": the block number exceeds 2^64-1");
  return timing.genesis_number + blocks;
}

Result<TracePoint> PointAt(uint64_t trace_index, uint64_t prestate, uint64_t poststate, uint64_t steps_per_timestamp) {
  if (steps_per_timestamp == 0) return InvalidArgument("steps per timestamp is zero");
  if (poststate <= prestate) return InvalidArgument("poststate " + Num(poststate) + " is not after prestate " + Num(prestate));
  if (trace_index == UINT64_MAX) return InvalidArgument("trace index + 1 exceeds 64 bits");
  const uint64_t idx = trace_index + 1;
  const uint64_t increments = idx / steps_per_timestamp;
  if (increments >= poststate - prestate) return TracePoint{poststate, 0};
  return TracePoint{prestate + increments, idx % steps_per_timestamp};
}

Result<Claim> ClaimAt(const SuperTraceInputs& in, uint64_t trace_index) {
  SS_ASSIGN_OR_RETURN(TracePoint p,
                      PointAt(trace_index, in.prestate_timestamp, in.poststate_timestamp, in.steps_per_timestamp));
  SS_ASSIGN_OR_RETURN(const std::optional<SuperRootAnswer>* at, Lookup(in, p.timestamp));
  if (!*at || (*at)->cross_safe_derived_from > in.l1_head_number) return Invalid(trace_index, p);
  const SuperV1& prev = (*at)->super;
  if (p.step == 0) return Make(trace_index, p, EncodeSuperV1(prev));

  const uint64_t next_t = p.timestamp + 1;
  SS_ASSIGN_OR_RETURN(const std::optional<SuperRootAnswer>* next, Lookup(in, next_t));
  if (!*next) return Invalid(trace_index, p);
  const bool next_unsafe = (*next)->cross_safe_derived_from > in.l1_head_number;
  TransitionState state{EncodeSuperV1(prev), {}, p.step};
  const size_t n = std::min<uint64_t>(p.step, (*next)->super.chains.size());
  for (size_t i = 0; i < n; ++i) {
    const ChainID& chain = (*next)->super.chains[i].chain_id;
    if (next_unsafe) {
      // Not cross-safe at the L1 head: each chain's block must at least be local-safe there.
      auto timing = in.rollup.find(chain);
      if (timing == in.rollup.end()) return InvalidArgument("no rollup config for chain " + chain.Decimal());
      SS_ASSIGN_OR_RETURN(uint64_t target, TargetBlockNumber(timing->second, next_t));
      auto safe = in.safe_at_l1_head.find(chain);
      if (safe == in.safe_at_l1_head.end()) return InvalidArgument("no safe head at the L1 head for chain " + chain.Decimal());
      if (safe->second < target) return Invalid(trace_index, p);
    }
    const Bytes& pending = (*next)->pending[i];
    auto root = OutputRoot(pending);
    if (!root.ok()) return root.status().WithContext("pending output of chain " + chain.Decimal() + " at " + Num(next_t));
    state.pending_progress.push_back({Hash::FromSpan(ByteSpan(pending).subspan(96, 32)), *root});
  }
  return Make(trace_index, p, EncodeTransitionState(state));
}

}  // namespace supersafe
