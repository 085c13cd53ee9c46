// Value types of the simulated world: L2 blocks as a sequencer builds them, pending interop txs of
// its tx pool, batches as a batcher posts them, L1 blocks carrying batches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/messages.h"
#include "core/types.h"

namespace supersafe::sim {

// The logs of a block, shared by every copy of it (the unsafe chain, the archive, batches, the
// runner's snapshot): a block's logs never change once it is built. Reads like a
// std::vector<Log>; compares by content.
class SharedLogs {
 public:
  SharedLogs() = default;
  SharedLogs(std::vector<Log> logs)  // NOLINT: implicit, as the vector it replaces
      : logs_(logs.empty() ? nullptr : std::make_shared<const std::vector<Log>>(std::move(logs))) {}

  const std::vector<Log>& get() const { return logs_ ? *logs_ : Empty(); }
  operator const std::vector<Log>&() const { return get(); }  // NOLINT
  // The shared vector itself (null when there are no logs), to share it further.
  const std::shared_ptr<const std::vector<Log>>& shared() const { return logs_; }
  size_t size() const { return get().size(); }
  bool empty() const { return get().empty(); }
  const Log& operator[](size_t i) const { return get()[i]; }
  std::vector<Log>::const_iterator begin() const { return get().begin(); }
  std::vector<Log>::const_iterator end() const { return get().end(); }
  bool operator==(const SharedLogs& other) const { return get() == other.get(); }

 private:
  static const std::vector<Log>& Empty() {
    static const std::vector<Log> kEmpty;
    return kEmpty;
  }
  std::shared_ptr<const std::vector<Log>> logs_;
};

struct L2Block {
  BlockRef ref;
  SharedLogs logs;            // log-index order
  bool deposit_only = false;  // a deposit-only replacement of an invalid block
  // The L1 block number of its epoch (its L1 origin): what the sequencing window counts from.
  // Not part of the hash of a sequenced block.
  uint64_t l1_origin = 0;
  BlockID ID() const { return ref.ID(); }
  bool operator==(const L2Block&) const = default;
};

// Consecutive L2 blocks of one chain, posted together. Copies: L1 holds the data, not references.
struct Batch {
  uint32_t chain_index = 0;
  std::vector<L2Block> blocks;  // ascending numbers
  bool operator==(const Batch&) const = default;
};

// An interop tx waiting in a sequencer's tx pool (`mempool: true`): the one executing-message log
// it emits, resolved when the tx first reached the builder.
struct PendingTx {
  std::string name;          // the message name; empty for an explicit identifier
  ExecutingMessage message;
  bool operator==(const PendingTx&) const = default;
};

struct L1Block {
  BlockRef ref;
  std::string fork;             // fork label it was mined on
  std::vector<Batch> batches;   // ordered by chain index, then first L2 number
  bool operator==(const L1Block&) const = default;
};

}  // namespace supersafe::sim
