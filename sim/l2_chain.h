// One simulated L2 chain: its sequencer's unsafe chain, its batcher's queue, and an archive of
// the blocks the chain held and no longer does (so a node can serve logs of blocks it reorged out).
//
// Block n has timestamp l2_time + n * block_time. A built block's hash is
//   keccak256(salt ‖ chainID(32) ‖ uint64 n ‖ parent hash ‖ logs ‖ uint64 build counter)
// where the build counter counts this chain's builds, so a rebuilt height never repeats a hash.
// A deposit-only replacement's hash is keccak256("deposit-only" ‖ chainID(32) ‖ uint64 n ‖ parent),
// the same whenever the same block is replaced on the same parent. A batch block derived again on
// another parent after a replacement below it (Rederive) has the hash
// keccak256("rederived" ‖ chainID(32) ‖ uint64 n ‖ parent ‖ the batch block's hash).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/types.h"
#include "sim/blocks.h"

namespace supersafe::sim {

class L2Chain {
 public:
  // `salt` is the sequencer subsystem's salt (sim/seed.h); block 0 is built at construction.
  L2Chain(uint32_t index, std::string name, ChainID id, uint64_t l2_time, uint64_t block_time, uint64_t interop_time,
          const Hash& salt);

  uint32_t index() const { return index_; }
  const std::string& name() const { return name_; }
  const ChainID& id() const { return id_; }
  uint64_t genesis_time() const { return l2_time_; }
  uint64_t block_time() const { return block_time_; }
  uint64_t interop_time() const { return interop_time_; }
  uint64_t TimeOf(uint64_t n) const { return l2_time_ + n * block_time_; }

  // The unsafe chain, blocks 0..head (index = number).
  const std::vector<L2Block>& unsafe() const { return unsafe_; }
  const L2Block& head() const { return unsafe_.back(); }

  // Sequencer: builds one block on the head holding `logs` and returns it. Its L1 origin is
  // `l1_origin`, or the head's if that is later (an origin never goes back).
  const L2Block& Build(std::vector<Log> logs, uint64_t l1_origin = 0) { return Build(SharedLogs(std::move(logs)), l1_origin); }
  // The same with logs shared with other blocks.
  const L2Block& Build(SharedLogs logs, uint64_t l1_origin);
  // Builds a block at height `number` (1 .. head) on the unsafe block below it, holding `logs`,
  // without changing the unsafe chain (hashed as Build, the build counter included); recorded in
  // the archive. A block the sequencer did not gossip, for a batch that disagrees with it.
  const L2Block& BuildBeside(uint64_t number, std::vector<Log> logs);
  // Removes every unsafe block above `number` (number <= head).
  void CutTo(uint64_t number);
  // The lowest height whose block CutTo removed since the last call (nullopt if none): every block
  // below it is the same as at that call. For mirrors of the unsafe chain that update in place.
  std::optional<uint64_t> TakeLowestRemoved() { return std::exchange(lowest_removed_, std::nullopt); }
  // Appends `block`, which must build on the head (a derived block or a replacement).
  void Append(const L2Block& block);
  // The deposit-only replacement of `invalid` (same number and timestamp, no logs, same parent),
  // recorded in the archive.
  const L2Block& MakeReplacement(const L2Block& invalid);
  // `batch_block` derived on `parent` (a replacement of the block it built on, or a block derived
  // again itself): same number, timestamp and logs, a new parent and hash; recorded in the archive
  // (the same block every time for the same two). Const: the archive only gains a block the
  // derivation can always make again.
  const L2Block& Rederive(const L2Block& batch_block, const BlockID& parent) const;
  // The empty block derivation forces on `parent` when the sequencing window of its epoch has
  // passed (a batch-less, deposit-only block): next number and timestamp, no logs, L1 origin
  // `origin`, hash keccak256("forced-empty" ‖ chainID(32) ‖ uint64 n ‖ parent ‖ origin's hash);
  // recorded in the archive (const for the same reason as Rederive).
  const L2Block& ForcedEmpty(const BlockID& parent, const BlockID& origin) const;

  // Any block this chain ever held: block `number` with that hash, null if none. The pointer is
  // good until the unsafe chain next changes.
  const L2Block* Find(const Hash& hash, uint64_t number) const;
  // The same without the number (looks through the whole unsafe chain; for tests).
  const L2Block* Find(const Hash& hash) const;

  // The batcher's queue: posted by the next `mine`.
  std::vector<Batch>& queue() { return queue_; }
  const std::vector<Batch>& queue() const { return queue_; }

  // The sequencer's tx pool of pending interop txs, in arrival order (sim/builder.h; stays empty
  // unless the chain has `mempool: true`).
  std::vector<PendingTx>& pool() { return pool_; }
  const std::vector<PendingTx>& pool() const { return pool_; }

  // The logs of the newest block built from unnamed logs alone (sim/builder.cc), for the next such
  // block with the same logs to share them rather than copy them.
  SharedLogs& plain_logs() { return plain_logs_; }

 private:
  Hash BuildHash(uint64_t number, const Hash& parent, const std::vector<Log>& logs) const;

  uint32_t index_;
  std::string name_;
  ChainID id_;
  uint64_t l2_time_;
  uint64_t block_time_;
  uint64_t interop_time_;
  Hash salt_;
  Hash id_bytes_;  // the chain ID as 32 bytes, as block hashes take it
  uint64_t builds_ = 0;
  std::vector<L2Block> unsafe_;
  SharedLogs plain_logs_;
  std::optional<uint64_t> lowest_removed_;
  // The blocks the chain held that are not on it now (cut off by CutTo, or replacements not yet
  // appended): with the unsafe chain, every block it ever held. Looked up by hash only, never
  // iterated, so its order decides nothing. Block hashes are uniform, so their first eight bytes
  // are the hash-table hash.
  struct HashOfBlockHash {
    size_t operator()(const Hash& h) const {
      uint64_t v;
      std::memcpy(&v, h.bytes.data(), sizeof v);
      return static_cast<size_t>(v);
    }
  };
  mutable std::unordered_map<Hash, L2Block, HashOfBlockHash> archive_;
  std::vector<Batch> queue_;
  std::vector<PendingTx> pool_;
};

}  // namespace supersafe::sim
