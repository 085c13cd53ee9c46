// The op-node's derivation (docs/scenario-format.md, "Derivation (the op-node)"): walking canonical
// L1 blocks 0..N in order, it takes its chain's batches and accepts each L2 block that builds on
// its current local-safe head. The result is a view per L1 block: the local-safe head derived
// through that block.
//
// Batches are span batches: a batch's first block must build on the local-safe head (number and
// parent hash); the blocks after it in the same batch follow it in order. Blocks at or below the
// head are skipped.
//
// Replacements: when the supervisor answers `invalid` for block b while the node reports view N,
// Replace(b, N) swaps b for its deposit-only block (same number and timestamp, no logs, b's
// parent), drops every view after N and derives view N again with the replacement known: the rest
// of b's batch is derived again on top of the replacement (same numbers, timestamps and logs, new
// parents and hashes; chain setting `after_replacement: rederive`, the default, as op-node derives
// the rest of a span batch since Holocene) or dropped (`drop`, as a singular batch whose parent
// hash no longer matches); later batches that built on b's batch no longer build on the head and
// are dropped. The replacement is remembered: derivation yields it at that height from view N on
// (a later copy of b in a batch yields the replacement too). An L1 reorg that removes view N
// forgets it.
//
// The node keeps its unsafe chain consistent with what it derived: whenever its local-safe head is
// not on the unsafe chain (a derived block differs from the sequenced one, or a replacement was
// forgotten), the unsafe chain is reset to the local-safe chain, as op-node's engine does.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/status.h"
#include "sim/l1_chain.h"
#include "sim/l2_chain.h"

namespace supersafe::sim {

struct Replacement {
  uint64_t view = 0;     // the L1 block at which the supervisor decided the invalidity
  BlockID original;      // the invalid block
  BlockID replacement;   // its deposit-only block
};

// The chain's derivation settings (docs/scenario-format.md, chain keys).
struct DerivationRules {
  bool rederive_after_replacement = true;  // after_replacement: rederive (true) or drop (false)
  uint64_t seq_window = 0;                 // in L1 blocks; 0: no sequencing window
};

class Derivation {
 public:
  // Starts with view 0: the chain's block 0 derived from L1 block 0.
  Derivation(L2Chain& chain, const L1Chain& l1, DerivationRules rules = {});

  // Drops the derived views whose L1 block is no longer canonical (and the replacements decided in
  // them), then derives views up to min(to, L1 head). Returns the first dropped L1 number, if any.
  std::optional<uint64_t> DeriveTo(uint64_t to);

  // The newest derived L1 number.
  uint64_t tip() const { return views_.size() - 1; }
  // The local-safe head derived through L1 block `view` (<= tip()).
  const BlockID& SafeAt(uint64_t view) const { return views_.at(view).safe; }
  const BlockID& safe() const { return views_.back().safe; }
  // SafeAt(view) if the node derived `view` from the L1 block that is canonical now; else nullopt.
  std::optional<BlockID> CanonicalSafeAt(uint64_t view) const;
  // For each view 0..tip(), the number of the newest block of its local-safe chain that is still
  // on the unsafe chain. Equal to SafeAt(view).number except for views before a replacement, whose
  // local-safe blocks above the replaced height were cut off with it (they never became
  // cross-safe: the replaced block was waiting in those views).
  std::vector<uint64_t> SafeNumbersOnChain() const;
  // SafeNumbersOnChain()[view] alone (view <= tip()).
  uint64_t SafeNumberOnChain(uint64_t view) const;
  // What the node would derive, without deriving: SafeNumbersOnChain() for the views that are still
  // on the canonical L1 chain, then one entry for every further canonical L1 block up to the head,
  // as if the node derived through it now (no new replacements); where the node still holds a view
  // derived from an L1 block reorged out since, the larger of the two; then made non-decreasing.
  // With manual nodes, an upper bound of what any honest caller can have told the supervisor, which
  // may not have heard of the reorg yet.
  std::vector<uint64_t> ProjectSafeNumbersOnChain() const;
  // The lowest view dropped or rewritten since the last call (nullopt if views were only added):
  // every view below it is the same as at that call. For mirrors that update in place.
  std::optional<uint64_t> TakeFirstChangedView() { return std::exchange(first_changed_view_, std::nullopt); }

  // Replaces `invalid`, which the supervisor named while the node reported view `view`. Returns the
  // replacement. kInvalidArgument if `view` is not derived or `invalid` is not on the local-safe
  // chain derived through `view`.
  Result<BlockID> Replace(const BlockID& invalid, uint64_t view);

  const std::vector<Replacement>& replacements() const { return replacements_; }
  // The block at height `number` on the chain ending at `tip` (via the archive); nullopt if the
  // chain is shorter.
  std::optional<BlockID> AncestorAt(const BlockID& tip, uint64_t number) const;

 private:
  struct View {
    Hash l1_hash;
    BlockID safe;
  };
  // Derives view tip() + 1. With replacements decided at that view, derives it again from the
  // newest view below all of them whose head the chain still builds on.
  void DeriveNext();
  // The local-safe head after reading L1 block k's batches on top of `safe_head`; a derived block
  // with a replacement decided at a view <= `known` yields that replacement.
  BlockID ApplyBatches(uint64_t k, BlockID safe_head, uint64_t known) const;
  // The newest block of the chain ending at `safe` that is on the unsafe chain.
  uint64_t NumberOnChain(const BlockID& safe) const;
  // Resets the unsafe chain to the local-safe chain if the local-safe head is not on it.
  void AdoptSafeChain(const BlockID& safe);
  const Replacement* ReplacementOf(const Hash& original) const;
  // The block `block` builds on, from the chain or its archive; null for block 0.
  const L2Block* Parent(const L2Block& block) const;

  L2Chain* chain_;
  const L1Chain* l1_;
  DerivationRules rules_;
  std::vector<View> views_;
  std::vector<Replacement> replacements_;
  std::optional<uint64_t> first_changed_view_;
};

}  // namespace supersafe::sim
