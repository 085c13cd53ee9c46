// Value types of the simulated world: L2 blocks as a sequencer builds them, batches as a batcher
// posts them, L1 blocks carrying batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/messages.h"
#include "core/types.h"

namespace supersafe::sim {

struct L2Block {
  BlockRef ref;
  std::vector<Log> logs;      // log-index order
  bool deposit_only = false;  // a deposit-only replacement of an invalid block
  BlockID ID() const { return ref.ID(); }
  bool operator==(const L2Block&) const = default;
};

// Consecutive L2 blocks of one chain, posted together. Copies: L1 holds the data, not references.
struct Batch {
  uint32_t chain_index = 0;
  std::vector<L2Block> blocks;  // ascending numbers
  bool operator==(const Batch&) const = default;
};

struct L1Block {
  BlockRef ref;
  std::string fork;             // fork label it was mined on
  std::vector<Batch> batches;   // ordered by chain index, then first L2 number
  bool operator==(const L1Block&) const = default;
};

}  // namespace supersafe::sim
