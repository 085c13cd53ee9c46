// The simulated L1 chain: blocks carrying batches, reorgs on fork labels, finality.
//
// Block n has timestamp l1_time + n * l1_block_time. Its hash is
//   keccak256(salt ‖ parent hash ‖ uint64 n ‖ fork label ‖ contents)
// with contents = for each batch: uint32 chain index ‖ uint32 block count ‖ the L2 block hashes,
// so re-mining a fork label with the same contents on the same parent gives back the same hashes
// (a flip-flop). Block 0 is on fork "main" and finalized from the start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/blocks.h"

namespace supersafe::sim {

class L1Chain {
 public:
  L1Chain(const Hash& salt, uint64_t genesis_time, uint64_t block_time);

  const std::vector<L1Block>& blocks() const { return blocks_; }
  const L1Block& head() const { return blocks_.back(); }
  const L1Block& at(uint64_t number) const { return blocks_.at(number); }
  uint64_t finalized() const { return finalized_; }
  // The label new blocks are mined on: the newest one a reorg switched to.
  const std::string& fork() const { return fork_; }

  // Mines one block on the head holding `batches` (sorted here by chain index, then first L2
  // number; stable for ties).
  const L1Block& Mine(std::vector<Batch> batches);
  // Removes the newest `depth` blocks and returns them (oldest first). kInvalidArgument if that
  // would remove the finalized block.
  Result<std::vector<L1Block>> Rewind(uint64_t depth);
  void SetFork(std::string label) { fork_ = std::move(label); }
  // Finalizes up to `number`. kInvalidArgument above the head or below the current finalized block.
  Status Finalize(uint64_t number);

 private:
  Hash HashOf(const Hash& parent, uint64_t number, const std::string& fork, const std::vector<Batch>& batches) const;

  Hash salt_;
  uint64_t genesis_time_;
  uint64_t block_time_;
  std::string fork_ = "main";
  std::vector<L1Block> blocks_;
  uint64_t finalized_ = 0;
};

}  // namespace supersafe::sim
