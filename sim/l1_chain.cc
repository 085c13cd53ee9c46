#include "sim/l1_chain.h"

#include <algorithm>

#include "core/crypto.h"

namespace supersafe::sim {

L1Chain::L1Chain(const Hash& salt, uint64_t genesis_time, uint64_t block_time)
    : salt_(salt), genesis_time_(genesis_time), block_time_(block_time) {
  L1Block genesis;
  genesis.ref.number = 0;
  genesis.ref.timestamp = genesis_time_;
  genesis.fork = fork_;
  genesis.ref.hash = HashOf(genesis.ref.parent_hash, 0, fork_, {});
  blocks_.push_back(std::move(genesis));
}

Hash L1Chain::HashOf(const Hash& parent, uint64_t number, const std::string& fork,
                     const std::vector<Batch>& batches) const {
  Bytes buf(salt_.bytes.begin(), salt_.bytes.end());
  buf.insert(buf.end(), parent.bytes.begin(), parent.bytes.end());
  uint8_t word[8];
  PutU64BE(word, number);
  buf.insert(buf.end(), word, word + 8);
  PutU32BE(word, static_cast<uint32_t>(fork.size()));
  buf.insert(buf.end(), word, word + 4);
  buf.insert(buf.end(), fork.begin(), fork.end());
  for (const Batch& b : batches) {
    PutU32BE(word, b.chain_index);
    buf.insert(buf.end(), word, word + 4);
    PutU32BE(word, static_cast<uint32_t>(b.blocks.size()));
    buf.insert(buf.end(), word, word + 4);
    for (const L2Block& blk : b.blocks) buf.insert(buf.end(), blk.ref.hash.bytes.begin(), blk.ref.hash.bytes.end());
  }
  return Keccak256(buf);
}

const L1Block& L1Chain::Mine(std::vector<Batch> batches) {
  std::stable_sort(batches.begin(), batches.end(), [](const Batch& a, const Batch& b) {
    if (a.chain_index != b.chain_index) return a.chain_index < b.chain_index;
    uint64_t fa = a.blocks.empty() ? 0 : a.blocks.front().ref.number;
    uint64_t fb = b.blocks.empty() ? 0 : b.blocks.front().ref.number;
    return fa < fb;
  });
  const L1Block& parent = head();
  L1Block blk;
  blk.ref.number = parent.ref.number + 1;
  blk.ref.parent_hash = parent.ref.hash;
  blk.ref.timestamp = genesis_time_ + blk.ref.number * block_time_;
  blk.fork = fork_;
  blk.ref.hash = HashOf(blk.ref.parent_hash, blk.ref.number, fork_, batches);
  blk.batches = std::move(batches);
  blocks_.push_back(std::move(blk));
  return blocks_.back();
}

Result<std::vector<L1Block>> L1Chain::Rewind(uint64_t depth) {
  uint64_t head_number = head().ref.number;
  if (depth > head_number || head_number - depth < finalized_)
    return InvalidArgument("L1 reorg of depth " + std::to_string(depth) + " from head " + std::to_string(head_number) +
                           " would remove finalized block " + std::to_string(finalized_));
  std::vector<L1Block> dropped(blocks_.end() - static_cast<std::ptrdiff_t>(depth), blocks_.end());
  blocks_.resize(blocks_.size() - depth);
  return dropped;
}

Status L1Chain::Finalize(uint64_t number) {
  if (number > head().ref.number)
    return InvalidArgument("cannot finalize L1 block " + std::to_string(number) + " above the head " +
                           std::to_string(head().ref.number));
  if (number < finalized_)
    return InvalidArgument("L1 block " + std::to_string(finalized_) + " is already finalized; " +
                           std::to_string(number) + " is older");
  finalized_ = number;
  return Status::Ok();
}

}  // namespace supersafe::sim
