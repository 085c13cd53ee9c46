#include "sim/sources.h"

#include "core/crypto.h"

namespace supersafe::sim {

namespace {
Hash RootOf(std::string_view tag, const ChainID& chain, const Hash& block_hash) {
  Bytes buf(tag.begin(), tag.end());
  Hash id = chain.ToBytes32();
  buf.insert(buf.end(), id.bytes.begin(), id.bytes.end());
  buf.insert(buf.end(), block_hash.bytes.begin(), block_hash.bytes.end());
  return Keccak256(buf);
}
}  // namespace

Bytes SimOutputPreimage(const ChainID& chain, const Hash& block_hash) {
  Bytes out(32, 0);
  Hash state = RootOf("stateRoot", chain, block_hash);
  Hash passer = RootOf("messagePasserStorageRoot", chain, block_hash);
  out.insert(out.end(), state.bytes.begin(), state.bytes.end());
  out.insert(out.end(), passer.bytes.begin(), passer.bytes.end());
  out.insert(out.end(), block_hash.bytes.begin(), block_hash.bytes.end());
  return out;
}

Result<BlockRef> SimL1Source::BlockByNumber(uint64_t number) {
  if (number >= world_->l1().blocks().size())
    return NotFound("L1 block " + std::to_string(number) + " is above the head " +
                    std::to_string(world_->l1().head().ref.number));
  return world_->l1().at(number).ref;
}

Result<BlockRef> SimChainSource::BlockByNumber(uint64_t number) {
  const L2Chain& c = world_->chain(chain_);
  if (number >= c.unsafe().size())
    return NotFound("chain " + c.name() + ": block " + std::to_string(number) + " is above the unsafe head " +
                    std::to_string(c.head().ref.number));
  return c.unsafe()[number].ref;
}

const L2Block* SimChainSource::Find(const BlockID& block) const {
  return world_->chain(chain_).Find(block.hash, block.number);
}

Result<std::vector<Log>> SimChainSource::Logs(const BlockID& block) {
  const L2Block* blk = Find(block);
  if (blk == nullptr) return NotFound("chain " + world_->chain(chain_).name() + ": no block " + block.ToString());
  return blk->logs.get();
}

Result<std::shared_ptr<const std::vector<Log>>> SimChainSource::LogsShared(const BlockID& block) {
  const L2Block* blk = Find(block);
  if (blk == nullptr) return NotFound("chain " + world_->chain(chain_).name() + ": no block " + block.ToString());
  if (blk->logs.shared() == nullptr) return std::make_shared<const std::vector<Log>>();
  return blk->logs.shared();
}

Result<Bytes> SimChainSource::OutputPreimage(const BlockID& block) {
  if (Find(block) == nullptr)
    return NotFound("chain " + world_->chain(chain_).name() + ": no block " + block.ToString());
  return SimOutputPreimage(world_->chain(chain_).id(), block.hash);
}

}  // namespace supersafe::sim
