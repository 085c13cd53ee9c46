// Upstream data fetched before a core call, so that the core, run under its owner's lock, makes no
// network round trip, and the snapshot of heads the read surface answers from.
//
// FetchSet holds one core call's upstream answers (errors included: a kNotFound above a node's
// head is an answer) and the questions the core asked that had no answer in it. PrefetchedSources
// are the core's Sources in the daemon: each answers from the FetchSet installed for the running
// call and otherwise records a miss and answers kNotFetched.
//
// CoreGate is how an owner drives the core from many threads:
//   Run     fetches what a plan names from the upstream sources (no lock held), runs the call under
//           the exclusive lock with that data installed; while the call missed something, fetches
//           it (lock released again, widening the fetch around the miss: the next blocks of a
//           chain being indexed, the blocks below one being walked back) and runs the call again,
//           at most kMaxRounds times. A call run again is the same call: the core writes nothing
//           before it has every answer a write depends on (supervisor.h, "Sources"). A write then
//           publishes a new snapshot.
//   Check   runs a call that reads only the databases (CheckAccessList, CheckMessage) under the
//           shared lock: checks run beside each other and wait only for a write's database work.
//   snapshot() the latest published ReadSnapshot: a shared_ptr copied under a mutex that is held
//           only for the copy or for the swap that publishes (never for a write's work), so a reader
//           never waits on a write and sees the heads as of before or after it, never half of one.
//           (Not std::atomic<std::shared_ptr>: libstdc++ 12's unlocks it with relaxed order after a
//           load, a data race by the memory model that ThreadSanitizer reports.)
// Without PrefetchedSources (the simulator's and the tests' direct sources) Run simply runs the
// call under the lock, and snapshot() computes the snapshot under the lock at each call.
//
// Thread-safety: CoreGate's methods may be called from any thread. A FetchSet belongs to one Run.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "supervisor/supervisor.h"

namespace supersafe::supervisor {

// The upstream data a call is known to need, fetched before it runs.
struct FetchPlan {
  std::vector<uint64_t> l1;  // L1 blocks by number
  struct Blocks {
    ChainID chain;
    uint64_t from = 0, to = 0;      // blocks from..to; fetching stops at the first error (above the head)
    uint64_t logs_above = UINT64_MAX;  // and the logs of the fetched blocks above this number
  };
  std::vector<Blocks> blocks;
};

// What indexing `chain` up to block `target` reads from its node, as `snap` knows the indexed tip:
// the block at the tip (the common-ancestor check) and the blocks and logs after it, at most
// Supervisor::kMaxBlocksIndexedPerCall (UpdateLocalUnsafe, TryCrossSafe, GetCrossUnsafe).
FetchPlan PlanIndex(const ReadSnapshot& snap, const ChainID& chain, uint64_t target);
// The L1 block of the newest group (every safe write checks it is still canonical) and `also`.
FetchPlan PlanL1(const ReadSnapshot& snap, std::optional<uint64_t> also);

class FetchSet {
 public:
  enum class Kind : uint8_t { kL1, kBlock, kLogs, kPreimage };
  struct Miss {
    Kind kind;
    ChainID chain;  // not for kL1
    BlockID block;  // number only for kL1 and kBlock
  };

  // Fetching, from the real sources (no lock).
  void Fetch(const FetchPlan& plan, const Sources& upstream);
  // What the last runs missed, widened around each miss; returns the count of misses fetched.
  size_t FetchMisses(const Sources& upstream);
  bool missed() const { return !misses_.empty(); }

  // Answers, or kNotFetched after recording the miss (PrefetchedSources calls these).
  Result<BlockRef> L1(uint64_t number);
  Result<BlockRef> Block(const ChainID& chain, uint64_t number);
  Result<std::vector<Log>> Logs(const ChainID& chain, const BlockID& block);
  Result<Bytes> Preimage(const ChainID& chain, const BlockID& block);

 private:
  void FetchL1(L1Source& src, uint64_t n);
  // False once the node has no block at n (or another error).
  bool FetchBlock(ChainSource& src, const ChainID& chain, uint64_t n);
  void FetchLogs(ChainSource& src, const ChainID& chain, const BlockID& block);

  struct ChainData {
    std::map<uint64_t, Result<BlockRef>> blocks;
    std::map<std::pair<uint64_t, Hash>, Result<std::vector<Log>>> logs;  // by (number, hash)
    std::map<std::pair<uint64_t, Hash>, Result<Bytes>> preimages;
  };
  std::map<uint64_t, Result<BlockRef>> l1_;
  std::map<ChainID, ChainData> chains_;
  std::vector<Miss> misses_;
};

// The core's sources over installed FetchSets. Install and the core's calls happen under the
// owner's exclusive lock.
class PrefetchedSources {
 public:
  explicit PrefetchedSources(const std::vector<ChainID>& chains);
  ~PrefetchedSources();
  Sources sources();         // to open the core with
  void Install(FetchSet* set);  // nullptr: every question is a miss nobody records

 private:
  struct L1;
  struct Chain;
  FetchSet* set_ = nullptr;
  std::unique_ptr<L1> l1_;
  std::map<ChainID, std::unique_ptr<Chain>> chains_;
};

class CoreGate {
 public:
  static constexpr int kMaxRounds = 16;
  // Direct: the core's sources answer themselves (simulator, tests).
  explicit CoreGate(Supervisor& core);
  // Prefetching: `core` was opened over `prefetched.sources()`; `upstream` are the real sources.
  // `upstream` pointers must outlive the gate. Both publish the first snapshot.
  CoreGate(Supervisor& core, PrefetchedSources& prefetched, Sources upstream);

  // `call` runs on this thread, possibly more than once (see above); `write` publishes a snapshot
  // after it. A call that still misses data after kMaxRounds keeps the answer it gave then (the
  // core answers kNotFetched, or unknown where a missing block is unknown).
  void Run(const FetchPlan& plan, const std::function<void(Supervisor&)>& call, bool write);
  void Check(const std::function<void(Supervisor&)>& call);
  // Publishes a snapshot of the current state.
  void Publish();
  // Direct gates compute a fresh one under the lock instead: their owner may change the core
  // outside the gate (tests drive the core directly between calls).
  std::shared_ptr<const ReadSnapshot> snapshot();
  Supervisor& core() { return core_; }
  // The exclusive side of the lock, for an owner that must stop the core (Daemon::Stop).
  std::shared_mutex& mutex() { return mu_; }
  // How many times a call ran under the exclusive lock (every round of Run counts).
  uint64_t exclusive_runs() const { return exclusive_runs_.load(std::memory_order_relaxed); }

 private:
  // Under the exclusive lock: computes and publishes; false (nothing published) when an L1 block
  // was missing, unless `anyway` (its source is then the group's padded hash prefix).
  bool PublishLocked(FetchSet* set, bool anyway);
  void Install(FetchSet* set);

  Supervisor& core_;
  PrefetchedSources* prefetched_ = nullptr;
  Sources upstream_;
  std::shared_mutex mu_;
  uint64_t version_ = 0;  // under mu_
  std::atomic<uint64_t> exclusive_runs_{0};
  std::mutex snapshot_mu_;
  std::shared_ptr<const ReadSnapshot> snapshot_;  // under snapshot_mu_
};

}  // namespace supersafe::supervisor
