// The op-geth block builder of a sequencer: assembles one block from log specs, checking every
// executing message first. The executing-side checks come first, as op-geth's tx pool ingress
// filter asks checkAccessList with the executing timestamp (that of the block being built) and a
// timeout (chain setting `exec_timeout`, default one day): the block is after its chain's interop
// activation block, the message's timestamp is not after the executing timestamp, and the message
// does not expire before the executing timestamp plus the timeout; a failure is `conflicts`.
// Then the supervisor's CheckMessage. A message is included when the answer is a level at or above
// the chain's policy (`policy:`, default unsafe); one answered `conflicts`, `unknown`, a level below
// the policy, or an error is left out, unless `force` (a faulty sequencer). A message from an
// earlier log of the block being built counts as known (level unsafe) when its log hash and
// timestamp match, and conflicts otherwise. Named init logs are registered in the world with the
// identifier they get.
//
// The tx pool (chain option `mempool: true`; docs/scenario-format.md "The tx pool"): each executing
// message is one interop tx. One left out because of `unknown` or a level below the policy waits
// in the chain's pool (L2Chain::pool, arrival order); one left out because of `conflicts` or an
// error is dropped for good. Every build of the chain first re-checks the pending txs in order,
// with the executing-side checks and CheckMessage (no same-block rule): `conflicts` or an error
// prunes the tx, a level at or above the policy includes it (before the step's own logs),
// anything else keeps it pending. PrunePool re-checks without including, for the chain's next
// block. Every decision goes to the trace (pool_added, pool_dropped, pool_included,
// pool_pending, pool_pruned).
#pragma once

#include <span>
#include <vector>

#include "sim/scenario.h"
#include "sim/supervisor_host.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace supersafe::sim {

// Builds one block on `chain`'s unsafe head with the logs of `logs`, in order; every check and
// left-out message goes to the trace.
const L2Block& BuildBlock(World& world, SupervisorHost& host, Trace& trace, size_t chain,
                          std::span<const LogSpec* const> logs, bool force);
// Builds a block at height `number` (1 .. unsafe head) beside the sequencer's block there: same
// parent and timestamp, these logs; the unsafe chain does not change (L2Chain::BuildBeside). The
// same checks, without the tx pool (nothing is taken from it or added to it); trace:
// build_divergent. For a batch that disagrees with what the sequencer gossiped.
const L2Block& BuildDivergentBlock(World& world, SupervisorHost& host, Trace& trace, size_t chain, uint64_t number,
                                   const std::vector<LogSpec>& logs, bool force);

// Re-checks every pending tx of `chain`'s pool in arrival order and prunes the ones answered
// `conflicts` or an error (trace: pool_pruned); the others stay pending, none is included. Returns
// the number pruned. The `pool` step and, with `nodes: auto`, the runner after every step call it.
size_t PrunePool(World& world, SupervisorHost& host, Trace& trace, size_t chain);
// PrunePool on every chain, in chain-index order.
void PrunePools(World& world, SupervisorHost& host, Trace& trace);

// The executing message a kExecNamed / kExecExplicit spec stands for, as of now.
ExecutingMessage ResolveMessage(const World& world, const LogSpec& spec);

}  // namespace supersafe::sim
