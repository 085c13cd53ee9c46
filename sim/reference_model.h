// The reference model: a second, deliberately simple computation of what every safety level must
// be, from the simulated world's ground truth. It shares no code with src/supervisor (only value
// types and hashing from src/core), and favours obviousness over speed: plain fixed-point loops.
//
// The runner keeps a snapshot of the world (WorldSnapshot), updates it after every step, asks the
// model for the expected heads, and compares them with what the supervisor reports. The model it
// asks is a ReferenceModel kept for the whole run, which looks again only at what changed since the
// previous step (docs/reference-model.md, "Incremental"); ComputeExpected computes from scratch.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/messages.h"
#include "core/types.h"

namespace supersafe::sim {

struct SnapshotBlock {
  uint64_t number = 0;
  Hash hash;
  Hash parent_hash;
  uint64_t timestamp = 0;
  std::vector<Log> logs;  // log-index order; executing messages are CrossL2Inbox logs
  // When set, the block's logs are these instead of `logs` (the runner shares the world's).
  std::shared_ptr<const std::vector<Log>> shared_logs;
  const std::vector<Log>& Logs() const { return shared_logs ? *shared_logs : logs; }
  bool deposit_only_replacement = false;
};

struct SnapshotChain {
  std::string name;
  ChainID id;
  uint64_t genesis_time = 0;  // timestamp of block 0
  uint64_t block_time = 2;
  uint64_t interop_time = 0;  // activation block: first with timestamp >= interop_time
  // The node's unsafe chain from block 0 to its unsafe head (index = block number).
  std::vector<SnapshotBlock> blocks;
  // local_safe_at[n] = the node's local-safe head number derived from canonical L1 blocks 0..n,
  // for n = 0 .. the last L1 block the node has derived (size = that + 1). All these blocks are
  // in `blocks` (a local-safe block is always on the node's unsafe chain in the simulator).
  // The numbers name blocks of `blocks` as they are now: after a deposit-only replacement of
  // block k recorded in view r, local_safe_at[n] for every n < r is at most k - 1 (the old block
  // k, and whatever was derived on it, is no longer in `blocks`; the replacement counts as
  // derived from view r). The model cannot check this and would trust a stale number.
  std::vector<uint64_t> local_safe_at;
};

struct WorldSnapshot {
  std::vector<SnapshotChain> chains;  // chain-index order
  uint64_t expiry_window = 604800;
  uint64_t l1_head = 0;               // canonical L1 head number
  uint64_t l1_finalized = 0;          // newest finalized L1 number
};

// Expected heads of one chain (block numbers).
struct ExpectedHeads {
  uint64_t unsafe = 0;
  uint64_t cross_unsafe = 0;
  // View = the newest L1 block every chain has derived through (min over chains of
  // local_safe_at.size()-1): the newest group the supervisor can have written.
  uint64_t view = 0;
  uint64_t local_safe = 0;   // local_safe_at[view], or the first invalid block when awaiting replacement
  uint64_t cross_safe = 0;   // cross-safe at `view`
  uint64_t finalized = 0;    // cross-safe at view min(l1_finalized, view)
  // Blocks (numbers) of this chain that are invalid at `view` and not yet replaced: at most the
  // first one matters (the node replaces it); listed for diagnostics.
  std::vector<uint64_t> invalid;
};

struct Expected {
  std::vector<ExpectedHeads> chains;  // chain-index order
};

// Computes the expected heads. Pure function of the snapshot.
Expected ComputeExpected(const WorldSnapshot& world);

// The same computation over a sequence of snapshots of one evolving world: Compute(w) equals
// ComputeExpected(w) for every snapshot, while blocks and results of earlier calls are reused.
// A block is identified by its chain, number and hash: a block with the same number and hash as in
// an earlier call must have the same parent, timestamp, logs and replacement flag (in the
// simulator the hash commits to all of them). Block checks (numbers, timestamps, parent links) are
// made when a block is first seen. A snapshot with other chain parameters starts afresh.
class ReferenceModel {
 public:
  ReferenceModel();
  ~ReferenceModel();
  ReferenceModel(const ReferenceModel&) = delete;
  ReferenceModel& operator=(const ReferenceModel&) = delete;

  Expected Compute(const WorldSnapshot& world);

  struct State;  // what is kept between calls (reference_model.cc)

 private:
  std::unique_ptr<State> state_;
};

}  // namespace supersafe::sim
