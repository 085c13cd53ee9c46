#include "sim/derivation.h"

#include <algorithm>
#include <cstdint>

namespace supersafe::sim {

Derivation::Derivation(L2Chain& chain, const L1Chain& l1) : chain_(&chain), l1_(&l1) {
  views_.push_back({l1.at(0).ref.hash, chain.unsafe().at(0).ID()});
}

std::optional<uint64_t> Derivation::DeriveTo(uint64_t to) {
  std::optional<uint64_t> dropped;
  for (uint64_t k = 1; k < views_.size(); ++k) {
    if (k >= l1_->blocks().size() || l1_->at(k).ref.hash != views_[k].l1_hash) {
      dropped = k;
      first_changed_view_ = std::min(first_changed_view_.value_or(k), k);
      views_.resize(k);
      std::erase_if(replacements_, [k](const Replacement& r) { return r.view >= k; });
      AdoptSafeChain(safe());
      break;
    }
  }
  uint64_t last = std::min<uint64_t>(to, l1_->head().ref.number);
  while (tip() < last) DeriveNext();
  return dropped;
}

BlockID Derivation::ApplyBatches(uint64_t k, BlockID safe_head, uint64_t replacement_views_below) const {
  for (const Batch& batch : l1_->at(k).batches) {
    if (batch.chain_index != chain_->index()) continue;
    for (const L2Block& blk : batch.blocks) {
      if (blk.ref.number != safe_head.number + 1 || blk.ref.parent_hash != safe_head.hash) continue;
      if (const Replacement* r = ReplacementOf(blk.ref.hash);
          r != nullptr && r->view <= k && r->view < replacement_views_below) {
        safe_head = r->replacement;  // decided earlier: the replacement, and the rest of the batch is dropped
        break;
      }
      safe_head = blk.ID();
    }
  }
  return safe_head;
}

void Derivation::DeriveNext() {
  const uint64_t k = tip() + 1;
  const L1Block& l1 = l1_->at(k);
  BlockID safe_head = ApplyBatches(k, safe(), UINT64_MAX);
  for (const Replacement& r : replacements_) {
    if (r.view != k) continue;
    auto at = AncestorAt(safe_head, r.original.number);
    if (at && *at == r.original) safe_head = r.replacement;
  }
  views_.push_back({l1.ref.hash, safe_head});
  AdoptSafeChain(safe_head);
}

std::vector<uint64_t> Derivation::SafeNumbersOnChain() const {
  std::vector<uint64_t> out;
  out.reserve(views_.size());
  for (uint64_t v = 0; v < views_.size(); ++v) out.push_back(SafeNumberOnChain(v));
  return out;
}

std::vector<uint64_t> Derivation::ProjectSafeNumbersOnChain() const {
  uint64_t canonical = 1;  // views 0 .. canonical-1 were derived from today's canonical L1 blocks
  while (canonical < views_.size() && canonical < l1_->blocks().size() &&
         l1_->at(canonical).ref.hash == views_[canonical].l1_hash)
    ++canonical;
  std::vector<uint64_t> out;
  out.reserve(l1_->blocks().size());
  for (uint64_t v = 0; v < canonical; ++v) out.push_back(SafeNumberOnChain(v));
  BlockID safe_head = views_[canonical - 1].safe;
  for (uint64_t k = canonical; k < l1_->blocks().size(); ++k) {
    safe_head = ApplyBatches(k, safe_head, canonical);
    out.push_back(NumberOnChain(safe_head));
  }
  // Views derived from L1 blocks reorged out since: the node may have reported them before the
  // supervisor heard of the reorg.
  for (uint64_t v = canonical; v < views_.size(); ++v) {
    if (v == out.size()) out.push_back(0);
    out[v] = std::max(out[v], SafeNumberOnChain(v));
  }
  // Non-decreasing, so that the bound at the newest view covers an answer from an older view the
  // supervisor may still hold (a reorg to a fork that derives less).
  for (uint64_t v = 1; v < out.size(); ++v) out[v] = std::max(out[v], out[v - 1]);
  return out;
}

std::optional<BlockID> Derivation::CanonicalSafeAt(uint64_t view) const {
  if (view >= views_.size() || view >= l1_->blocks().size() || l1_->at(view).ref.hash != views_[view].l1_hash)
    return std::nullopt;
  return views_[view].safe;
}

uint64_t Derivation::SafeNumberOnChain(uint64_t view) const { return NumberOnChain(views_.at(view).safe); }

uint64_t Derivation::NumberOnChain(const BlockID& safe) const {
  const auto& unsafe = chain_->unsafe();
  if (safe.number < unsafe.size() && unsafe[safe.number].ref.hash == safe.hash) return safe.number;
  const L2Block* blk = chain_->Find(safe.hash, safe.number);
  while (blk != nullptr && !(blk->ref.number < unsafe.size() && unsafe[blk->ref.number].ref.hash == blk->ref.hash))
    blk = Parent(*blk);
  SS_CHECK(blk != nullptr, "a local-safe chain does not reach the unsafe chain");
  return blk->ref.number;
}

Result<BlockID> Derivation::Replace(const BlockID& invalid, uint64_t view) {
  if (view > tip())
    return InvalidArgument("replace: view " + std::to_string(view) + " is not derived (tip " + std::to_string(tip()) +
                           ")");
  auto at = AncestorAt(views_[view].safe, invalid.number);
  if (!at || *at != invalid)
    return InvalidArgument("replace: block " + invalid.ToString() + " is not on " + chain_->name() +
                           "'s local-safe chain derived through L1 block " + std::to_string(view));
  const L2Block* original = chain_->Find(invalid.hash, invalid.number);
  SS_CHECK(original != nullptr, "a derived block is missing from the archive");
  const L2Block& repl = chain_->MakeReplacement(*original);
  replacements_.push_back({view, invalid, repl.ID()});
  first_changed_view_ = std::min(first_changed_view_.value_or(view), view);
  views_.resize(view + 1);
  views_.back().safe = repl.ID();
  AdoptSafeChain(repl.ID());
  return repl.ID();
}

std::optional<BlockID> Derivation::AncestorAt(const BlockID& tip, uint64_t number) const {
  if (number > tip.number) return std::nullopt;
  const L2Block* blk = chain_->Find(tip.hash, tip.number);
  while (blk != nullptr && blk->ref.number > number) blk = Parent(*blk);
  if (blk == nullptr) return std::nullopt;
  return blk->ID();
}

void Derivation::AdoptSafeChain(const BlockID& safe_head) {
  const auto& unsafe = chain_->unsafe();
  if (safe_head.number < unsafe.size() && unsafe[safe_head.number].ref.hash == safe_head.hash) return;
  std::vector<const L2Block*> missing;  // newest first
  const L2Block* blk = chain_->Find(safe_head.hash, safe_head.number);
  SS_CHECK(blk != nullptr, "local-safe block missing from the archive");
  while (!(blk->ref.number < unsafe.size() && unsafe[blk->ref.number].ref.hash == blk->ref.hash)) {
    missing.push_back(blk);
    blk = Parent(*blk);
    SS_CHECK(blk != nullptr, "local-safe chain does not reach the unsafe chain");
  }
  chain_->CutTo(blk->ref.number);
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) chain_->Append(**it);
}

const L2Block* Derivation::Parent(const L2Block& block) const {
  return block.ref.number == 0 ? nullptr : chain_->Find(block.ref.parent_hash, block.ref.number - 1);
}

const Replacement* Derivation::ReplacementOf(const Hash& original) const {
  for (const Replacement& r : replacements_)
    if (r.original.hash == original) return &r;
  return nullptr;
}

}  // namespace supersafe::sim
