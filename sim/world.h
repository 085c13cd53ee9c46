// The simulated world of one scenario run: L1, the L2 chains with their sequencers, batchers and
// op-node derivations, and the named messages emitted so far. Everything is a pure function of
// the scenario, the seed and the steps applied; nothing here talks to the supervisor.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/messages.h"
#include "core/status.h"
#include "sim/derivation.h"
#include "sim/l1_chain.h"
#include "sim/l2_chain.h"
#include "sim/scenario.h"

namespace supersafe::sim {

class World {
 public:
  World(const Scenario& scenario, uint64_t seed);
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const Scenario& scenario() const { return *scenario_; }
  L1Chain& l1() { return l1_; }
  const L1Chain& l1() const { return l1_; }
  size_t chain_count() const { return chains_.size(); }
  L2Chain& chain(size_t i) { return *chains_.at(i); }
  const L2Chain& chain(size_t i) const { return *chains_.at(i); }
  Derivation& derivation(size_t i) { return *derivations_.at(i); }
  const Derivation& derivation(size_t i) const { return *derivations_.at(i); }

  // Batcher: queues one batch of the chain's unsafe blocks above its node's local-safe head that
  // are in no batch on the canonical L1 or in the queue, up to `through` (default all). Returns
  // the number of blocks queued (0: nothing to post, no batch).
  size_t QueueBatch(size_t chain, std::optional<uint64_t> through);
  // The batcher queues one batch that disagrees with the unsafe chain: the chain's unsafe blocks
  // above its node's local-safe head and below `block` that are in no batch, then `block` (built
  // beside the sequencer's block at its height). Returns the number of blocks queued.
  size_t QueueDivergentBatch(size_t chain, const L2Block& block);
  // The batcher loses the chain's queued batches (they are never posted); their blocks can be
  // batched again. Returns the number of blocks they held.
  size_t DropQueuedBatches(size_t chain);
  // Mines `count` L1 blocks; every queued batch goes into the first.
  void Mine(uint64_t count);
  // Drops the newest `depth` L1 blocks and mines `depth` new ones on fork `fork`; with
  // keep_batches the dropped batches go into the first new block, otherwise back to their queues.
  Status ReorgL1(uint64_t depth, const std::string& fork, bool keep_batches);
  // Whether block `hash` of `chain` is in a batch on the canonical L1 or in the queue.
  bool IsPosted(size_t chain, const Hash& hash) const;

  // Named messages emitted so far: identifier and payload hash.
  const std::map<std::string, ExecutingMessage>& messages() const { return messages_; }
  void RegisterMessage(const std::string& name, const ExecutingMessage& msg) { messages_[name] = msg; }

 private:
  // The L2 block hashes in batches on the canonical L1, per chain (with multiplicity), kept in step
  // with l1_ when IsPosted asks: L1 blocks are hash-linked, so the indexed ones that are still
  // there are a prefix of l1_.blocks().
  void SyncPostedIndex() const;
  struct IndexedL1Block {
    Hash hash;
    std::vector<std::pair<uint32_t, Hash>> posted;  // (chain index, L2 block hash)
  };
  mutable std::vector<IndexedL1Block> indexed_l1_;
  // [chain]: hash -> number of batches. Looked up only, never iterated (its order decides nothing).
  struct HashOfBlockHash {
    size_t operator()(const Hash& h) const {
      uint64_t v;
      std::memcpy(&v, h.bytes.data(), sizeof v);
      return static_cast<size_t>(v);
    }
  };
  mutable std::vector<std::unordered_map<Hash, uint32_t, HashOfBlockHash>> posted_;

  const Scenario* scenario_;
  L1Chain l1_;
  std::vector<std::unique_ptr<L2Chain>> chains_;
  std::vector<std::unique_ptr<Derivation>> derivations_;
  std::map<std::string, ExecutingMessage> messages_;
};

}  // namespace supersafe::sim
