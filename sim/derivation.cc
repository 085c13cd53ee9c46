#include "sim/derivation.h"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace supersafe::sim {

Derivation::Derivation(L2Chain& chain, const L1Chain& l1, DerivationRules rules)
    : chain_(&chain), l1_(&l1), rules_(rules) {
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

BlockID Derivation::ApplyBatches(uint64_t k, BlockID safe_head, uint64_t known) const {
  const uint64_t window = rules_.seq_window;
  for (const Batch& batch : l1_->at(k).batches) {
    if (batch.chain_index != chain_->index()) continue;
    // Included too late: the window of the batch's first epoch had passed.
    if (window != 0 && batch.blocks.front().l1_origin + window < k) continue;
    // The batch block the head stands for: the head itself, or its replacement or re-derived copy.
    std::optional<Hash> taken;
    for (const L2Block& blk : batch.blocks) {
      if (blk.ref.number != safe_head.number + 1) continue;
      BlockID next;
      if (blk.ref.parent_hash == safe_head.hash) {
        next = blk.ID();
      } else if (rules_.rederive_after_replacement && taken && blk.ref.parent_hash == *taken) {
        next = chain_->Rederive(blk, safe_head).ID();  // the rest of the batch, on a replacement
      } else {
        continue;
      }
      taken = blk.ref.hash;
      if (const Replacement* r = ReplacementOf(next.hash); r != nullptr && r->view <= known) next = r->replacement;
      safe_head = next;
    }
  }
  if (window == 0) return safe_head;
  // Out of batches at L1 block k: once the window of the head's epoch e has passed (e + window <=
  // k), derivation forces empty blocks: they fill epoch e while the next timestamp is before L1
  // block e+1's, then each further epoch gets one, as long as its window has passed too.
  while (true) {
    const L2Block* head = chain_->Find(safe_head.hash, safe_head.number);
    SS_CHECK(head != nullptr, "a local-safe block is missing from the archive");
    const uint64_t e = head->l1_origin;
    if (e + window > k) break;
    uint64_t origin = e;
    if (head->ref.timestamp + chain_->block_time() >= l1_->at(e + 1).ref.timestamp) {
      if (e + 1 + window > k) break;
      origin = e + 1;
    }
    safe_head = chain_->ForcedEmpty(safe_head, l1_->at(origin).ref.ID()).ID();
  }
  return safe_head;
}

void Derivation::DeriveNext() {
  const uint64_t k = tip() + 1;
  BlockID safe_head = ApplyBatches(k, safe(), k);
  uint64_t lowest = UINT64_MAX;  // the lowest block replaced at view k
  for (const Replacement& r : replacements_)
    if (r.view == k) lowest = std::min(lowest, r.original.number);
  if (lowest != UINT64_MAX) {
    // Derive again, from the newest view below every replaced block whose head the chain derived
    // through k - 1 still builds on (views after it that hold other blocks there were replaced).
    uint64_t v = k - 1;
    while (v > 0 && !(views_[v].safe.number < lowest && AncestorAt(safe(), views_[v].safe.number) == views_[v].safe)) --v;
    safe_head = views_[v].safe;
    for (uint64_t j = v + 1; j <= k; ++j) safe_head = ApplyBatches(j, safe_head, k);
  }
  views_.push_back({l1_->at(k).ref.hash, safe_head});
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
    safe_head = ApplyBatches(k, safe_head, canonical - 1);
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
  if (!at || *at != invalid || invalid.number == 0)
    return InvalidArgument("replace: block " + invalid.ToString() + " is not on " + chain_->name() +
                           "'s local-safe chain derived through L1 block " + std::to_string(view));
  const L2Block* original = chain_->Find(invalid.hash, invalid.number);
  SS_CHECK(original != nullptr, "a derived block is missing from the archive");
  const BlockID repl = chain_->MakeReplacement(*original).ID();
  replacements_.push_back({view, invalid, repl});
  first_changed_view_ = std::min(first_changed_view_.value_or(view), view);
  views_.resize(view);
  DeriveNext();
  SS_CHECK(AncestorAt(safe(), repl.number) == repl, "a replacement is not on the chain derived with it");
  return repl;
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
