// The supervisor's view of the simulated world (supervisor::L1Source and ChainSource): the
// canonical L1 chain, and per chain its node's unsafe chain plus every block the node ever held.
//
// Output roots in the simulator (docs/fp-fixtures.md, "Encodings"): the 128-byte preimage is
//   bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot ‖ blockHash
// with stateRoot = keccak256("stateRoot" ‖ chainID(32) ‖ blockHash) and
// messagePasserStorageRoot = keccak256("messagePasserStorageRoot" ‖ chainID(32) ‖ blockHash).
#pragma once

#include "sim/world.h"
#include "supervisor/supervisor.h"

namespace supersafe::sim {

// The simulator's OutputV0 preimage of block `block_hash` of chain `chain`.
Bytes SimOutputPreimage(const ChainID& chain, const Hash& block_hash);

class SimL1Source : public supervisor::L1Source {
 public:
  explicit SimL1Source(const World& world) : world_(&world) {}
  Result<BlockRef> BlockByNumber(uint64_t number) override;

 private:
  const World* world_;
};

class SimChainSource : public supervisor::ChainSource {
 public:
  SimChainSource(const World& world, size_t chain) : world_(&world), chain_(chain) {}
  Result<BlockRef> BlockByNumber(uint64_t number) override;
  Result<std::vector<Log>> Logs(const BlockID& block) override;
  Result<std::shared_ptr<const std::vector<Log>>> LogsShared(const BlockID& block) override;
  Result<Bytes> OutputPreimage(const BlockID& block) override;

 private:
  const L2Block* Find(const BlockID& block) const;
  const World* world_;
  size_t chain_;
};

}  // namespace supersafe::sim
