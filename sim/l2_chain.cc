#include "sim/l2_chain.h"

#include <algorithm>

#include "core/crypto.h"

namespace supersafe::sim {

namespace {
void PutU64(Bytes& buf, uint64_t v) {
  uint8_t w[8];
  PutU64BE(w, v);
  buf.insert(buf.end(), w, w + 8);
}
}  // namespace

L2Chain::L2Chain(uint32_t index, std::string name, ChainID id, uint64_t l2_time, uint64_t block_time,
                 uint64_t interop_time, const Hash& salt)
    : index_(index),
      name_(std::move(name)),
      id_(std::move(id)),
      l2_time_(l2_time),
      block_time_(block_time),
      interop_time_(interop_time),
      salt_(salt),
      id_bytes_(id_.ToBytes32()) {
  L2Block genesis;
  genesis.ref.number = 0;
  genesis.ref.timestamp = l2_time_;
  genesis.ref.hash = BuildHash(0, genesis.ref.parent_hash, {});
  unsafe_.push_back(std::move(genesis));
}

Hash L2Chain::BuildHash(uint64_t number, const Hash& parent, const std::vector<Log>& logs) const {
  Bytes buf(salt_.bytes.begin(), salt_.bytes.end());
  buf.insert(buf.end(), id_bytes_.bytes.begin(), id_bytes_.bytes.end());
  PutU64(buf, number);
  buf.insert(buf.end(), parent.bytes.begin(), parent.bytes.end());
  PutU64(buf, logs.size());
  for (const Log& log : logs) {
    buf.insert(buf.end(), log.address.bytes.begin(), log.address.bytes.end());
    PutU64(buf, log.topics.size());
    for (const Hash& t : log.topics) buf.insert(buf.end(), t.bytes.begin(), t.bytes.end());
    PutU64(buf, log.data.size());
    buf.insert(buf.end(), log.data.begin(), log.data.end());
  }
  PutU64(buf, builds_);
  return Keccak256(buf);
}

const L2Block& L2Chain::Build(SharedLogs logs, uint64_t l1_origin) {
  ++builds_;
  L2Block blk;
  blk.ref.number = head().ref.number + 1;
  blk.ref.parent_hash = head().ref.hash;
  blk.ref.timestamp = TimeOf(blk.ref.number);
  blk.l1_origin = std::max(l1_origin, head().l1_origin);
  blk.ref.hash = BuildHash(blk.ref.number, blk.ref.parent_hash, logs);
  blk.logs = std::move(logs);
  unsafe_.push_back(std::move(blk));
  return unsafe_.back();
}

const L2Block& L2Chain::BuildBeside(uint64_t number, std::vector<Log> logs) {
  SS_CHECK(number >= 1 && number < unsafe_.size(), "L2Chain::BuildBeside: no unsafe block at that height");
  ++builds_;
  L2Block blk;
  blk.ref.number = number;
  blk.ref.parent_hash = unsafe_[number - 1].ref.hash;
  blk.ref.timestamp = TimeOf(number);
  blk.ref.hash = BuildHash(number, blk.ref.parent_hash, logs);
  blk.logs = std::move(logs);
  blk.l1_origin = unsafe_[number].l1_origin;
  return archive_.emplace(blk.ref.hash, std::move(blk)).first->second;
}

const L2Block& L2Chain::ForcedEmpty(const BlockID& parent, const BlockID& origin) const {
  L2Block blk;
  blk.ref.number = parent.number + 1;
  blk.ref.parent_hash = parent.hash;
  blk.ref.timestamp = TimeOf(blk.ref.number);
  blk.l1_origin = origin.number;
  Bytes buf;
  const std::string_view tag = "forced-empty";
  buf.insert(buf.end(), tag.begin(), tag.end());
  buf.insert(buf.end(), id_bytes_.bytes.begin(), id_bytes_.bytes.end());
  PutU64(buf, blk.ref.number);
  buf.insert(buf.end(), parent.hash.bytes.begin(), parent.hash.bytes.end());
  buf.insert(buf.end(), origin.hash.bytes.begin(), origin.hash.bytes.end());
  blk.ref.hash = Keccak256(buf);
  return archive_.emplace(blk.ref.hash, std::move(blk)).first->second;
}

void L2Chain::CutTo(uint64_t number) {
  SS_CHECK(number < unsafe_.size(), "CutTo above the unsafe head");
  if (number + 1 < unsafe_.size()) lowest_removed_ = std::min(lowest_removed_.value_or(number + 1), number + 1);
  for (size_t n = number + 1; n < unsafe_.size(); ++n) archive_.insert_or_assign(unsafe_[n].ref.hash, unsafe_[n]);
  unsafe_.resize(number + 1);
}

void L2Chain::Append(const L2Block& block) {
  SS_CHECK(block.ref.number == head().ref.number + 1 && block.ref.parent_hash == head().ref.hash,
           "L2Chain::Append: block does not build on the head");
  unsafe_.push_back(block);
}

const L2Block& L2Chain::MakeReplacement(const L2Block& invalid) {
  L2Block blk;
  blk.ref.number = invalid.ref.number;
  blk.ref.parent_hash = invalid.ref.parent_hash;
  blk.ref.timestamp = invalid.ref.timestamp;
  blk.deposit_only = true;
  blk.l1_origin = invalid.l1_origin;
  Bytes buf;
  const std::string_view tag = "deposit-only";
  buf.insert(buf.end(), tag.begin(), tag.end());
  buf.insert(buf.end(), id_bytes_.bytes.begin(), id_bytes_.bytes.end());
  PutU64(buf, blk.ref.number);
  buf.insert(buf.end(), blk.ref.parent_hash.bytes.begin(), blk.ref.parent_hash.bytes.end());
  blk.ref.hash = Keccak256(buf);
  return archive_.emplace(blk.ref.hash, blk).first->second;
}

const L2Block& L2Chain::Rederive(const L2Block& batch_block, const BlockID& parent) const {
  SS_CHECK(parent.number + 1 == batch_block.ref.number, "L2Chain::Rederive: the parent is not the block below");
  L2Block blk = batch_block;
  blk.ref.parent_hash = parent.hash;
  Bytes buf;
  const std::string_view tag = "rederived";
  buf.insert(buf.end(), tag.begin(), tag.end());
  buf.insert(buf.end(), id_bytes_.bytes.begin(), id_bytes_.bytes.end());
  PutU64(buf, blk.ref.number);
  buf.insert(buf.end(), parent.hash.bytes.begin(), parent.hash.bytes.end());
  buf.insert(buf.end(), batch_block.ref.hash.bytes.begin(), batch_block.ref.hash.bytes.end());
  blk.ref.hash = Keccak256(buf);
  return archive_.emplace(blk.ref.hash, std::move(blk)).first->second;
}

const L2Block* L2Chain::Find(const Hash& hash, uint64_t number) const {
  if (number < unsafe_.size() && unsafe_[number].ref.hash == hash) return &unsafe_[number];
  auto it = archive_.find(hash);
  return it == archive_.end() || it->second.ref.number != number ? nullptr : &it->second;
}

const L2Block* L2Chain::Find(const Hash& hash) const {
  auto it = archive_.find(hash);
  if (it != archive_.end()) return &it->second;
  for (const L2Block& b : unsafe_)
    if (b.ref.hash == hash) return &b;
  return nullptr;
}

}  // namespace supersafe::sim
