#include "sim/world.h"

#include <algorithm>

#include "sim/seed.h"

namespace supersafe::sim {

World::World(const Scenario& scenario, uint64_t seed)
    : scenario_(&scenario),
      l1_(SubsystemSalt(seed, "l1"), scenario.genesis.l1_time, scenario.genesis.l1_block_time) {
  const Hash sequencer_salt = SubsystemSalt(seed, "sequencer");
  for (size_t i = 0; i < scenario.chains.size(); ++i) {
    const ChainSpec& c = scenario.chains[i];
    chains_.push_back(std::make_unique<L2Chain>(static_cast<uint32_t>(i), c.name, c.id, scenario.genesis.l2_time,
                                                c.block_time, c.interop_time, sequencer_salt));
    DerivationRules rules;
    rules.rederive_after_replacement = c.after_replacement == ChainSpec::AfterReplacement::kRederive;
    rules.seq_window = c.seq_window.value_or(0);
    derivations_.push_back(std::make_unique<Derivation>(*chains_.back(), l1_, rules));
  }
}

void World::SyncPostedIndex() const {
  posted_.resize(chains_.size());
  const auto& blocks = l1_.blocks();
  size_t keep = std::min(indexed_l1_.size(), blocks.size());
  while (keep > 0 && indexed_l1_[keep - 1].hash != blocks[keep - 1].ref.hash) --keep;
  for (size_t k = keep; k < indexed_l1_.size(); ++k) {
    for (const auto& [chain, hash] : indexed_l1_[k].posted) {
      auto it = posted_.at(chain).find(hash);
      if (--it->second == 0) posted_[chain].erase(it);
    }
  }
  indexed_l1_.resize(keep);
  for (size_t k = keep; k < blocks.size(); ++k) {
    IndexedL1Block indexed{blocks[k].ref.hash, {}};
    for (const Batch& b : blocks[k].batches) {
      for (const L2Block& blk : b.blocks) {
        indexed.posted.push_back({b.chain_index, blk.ref.hash});
        ++posted_.at(b.chain_index)[blk.ref.hash];
      }
    }
    indexed_l1_.push_back(std::move(indexed));
  }
}

size_t World::DropQueuedBatches(size_t chain) {
  std::vector<Batch>& queue = chains_.at(chain)->queue();
  size_t blocks = 0;
  for (const Batch& b : queue) blocks += b.blocks.size();
  queue.clear();
  return blocks;
}

bool World::IsPosted(size_t chain, const Hash& hash) const {
  SyncPostedIndex();
  if (posted_.at(chain).count(hash) != 0) return true;
  for (const Batch& b : chains_.at(chain)->queue()) {
    if (b.chain_index != chain) continue;
    for (const L2Block& blk : b.blocks)
      if (blk.ref.hash == hash) return true;
  }
  return false;
}

size_t World::QueueBatch(size_t chain, std::optional<uint64_t> through) {
  L2Chain& c = *chains_.at(chain);
  uint64_t last = std::min<uint64_t>(through.value_or(c.head().ref.number), c.head().ref.number);
  Batch batch;
  batch.chain_index = c.index();
  for (uint64_t n = derivations_.at(chain)->safe().number + 1; n <= last; ++n) {
    const L2Block& blk = c.unsafe()[n];
    if (!IsPosted(chain, blk.ref.hash)) batch.blocks.push_back(blk);
  }
  size_t count = batch.blocks.size();
  if (count > 0) c.queue().push_back(std::move(batch));
  return count;
}

size_t World::QueueDivergentBatch(size_t chain, const L2Block& block) {
  L2Chain& c = *chains_.at(chain);
  Batch batch;
  batch.chain_index = c.index();
  for (uint64_t n = derivations_.at(chain)->safe().number + 1; n < block.ref.number; ++n) {
    const L2Block& blk = c.unsafe()[n];
    if (!IsPosted(chain, blk.ref.hash)) batch.blocks.push_back(blk);
  }
  batch.blocks.push_back(block);
  c.queue().push_back(std::move(batch));
  return c.queue().back().blocks.size();
}

void World::Mine(uint64_t count) {
  std::vector<Batch> batches;
  for (auto& c : chains_) {
    for (Batch& b : c->queue()) batches.push_back(std::move(b));
    c->queue().clear();
  }
  l1_.Mine(std::move(batches));
  for (uint64_t i = 1; i < count; ++i) l1_.Mine({});
}

Status World::ReorgL1(uint64_t depth, const std::string& fork, bool keep_batches) {
  SS_ASSIGN_OR_RETURN(std::vector<L1Block> dropped, l1_.Rewind(depth));
  l1_.SetFork(fork);
  std::vector<Batch> batches;
  for (L1Block& blk : dropped)
    for (Batch& b : blk.batches) batches.push_back(std::move(b));
  if (keep_batches) {
    l1_.Mine(std::move(batches));
  } else {
    // Back to their queues, ahead of anything queued since: they were posted first.
    std::vector<std::vector<Batch>> returned(chains_.size());
    for (Batch& b : batches) returned.at(b.chain_index).push_back(std::move(b));
    for (size_t i = 0; i < chains_.size(); ++i) {
      auto& q = chains_[i]->queue();
      returned[i].insert(returned[i].end(), std::make_move_iterator(q.begin()), std::make_move_iterator(q.end()));
      q = std::move(returned[i]);
    }
    l1_.Mine({});
  }
  for (uint64_t i = 1; i < depth; ++i) l1_.Mine({});
  return Status::Ok();
}

}  // namespace supersafe::sim
