// The supervisor core: safety levels of every chain of the dependency set, the super-safe-db
// writes, reorgs, finality, and the design's RPC methods as plain function calls.
//
// It takes data and time as arguments and does no I/O beyond its data directory; the L1 chain and
// the L2 chains are read through the source interfaces below, which the simulator and the daemon
// implement. Every method returns errors as values with the OP Stack codes (core/status.h).
//
// Sources may answer kNotFetched (the daemon's prefetched sources, supervisor/prefetch.h: the
// data was not fetched before the call); the caller fetches it and runs the call again. So a call
// asks for every source answer a write depends on before it writes: a call that ends on kNotFetched
// (or answers as if the data were not there) has changed nothing that running it again would
// not change the same way.
//
// Thread-compatibility: not thread-safe, except that CheckMessage and CheckAccessList may run
// concurrently with each other (they read the databases only); the daemon serializes everything
// else (CoreGate, supervisor/prefetch.h).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/messages.h"
#include "core/status.h"
#include "core/types.h"
#include "db/env.h"

namespace supersafe::supervisor {

struct ChainConfig {
  ChainID id;
  BlockRef genesis;            // block `genesis.number` (normally 0) at `genesis.timestamp`
  uint64_t block_time = 2;
  uint64_t interop_time = 0;   // activation: first block with timestamp >= interop_time
  // Timestamp of block `n` (n >= genesis.number).
  uint64_t TimeOf(uint64_t n) const { return genesis.timestamp + (n - genesis.number) * block_time; }
};

struct DependencySet {
  std::vector<ChainConfig> chains;  // chain-index order
  uint64_t expiry_window = 604800;
  BlockRef genesis_l1;              // L1 block of the genesis group (normally 0)
};

// The canonical L1 chain, as the caller sees it now.
class L1Source {
 public:
  virtual ~L1Source() = default;
  // kNotFound above the head.
  virtual Result<BlockRef> BlockByNumber(uint64_t number) = 0;
};

// One L2 chain, as its node sees it now.
class ChainSource {
 public:
  virtual ~ChainSource() = default;
  // The node's block at that height (its unsafe chain); kNotFound above its head.
  virtual Result<BlockRef> BlockByNumber(uint64_t number) = 0;
  // The logs of that block, in log-index order; kNotFound if the node no longer has it.
  virtual Result<std::vector<Log>> Logs(const BlockID& block) = 0;
  // The same logs, for a source that keeps them immutable and shared (the simulator's world) to
  // hand them over without a copy; the default wraps Logs().
  virtual Result<std::shared_ptr<const std::vector<Log>>> LogsShared(const BlockID& block);
  // The 128-byte OutputV0 preimage of that block.
  virtual Result<Bytes> OutputPreimage(const BlockID& block) = 0;
};

struct Sources {
  L1Source* l1 = nullptr;
  std::map<ChainID, ChainSource*> chains;  // one per chain of the dependency set
};

struct Options {
  db::Env* env = nullptr;  // the file system of the data directory; nullptr: db::Env::Posix()
};

enum class CrossSafeStatus : uint8_t { kAccept, kUnknown, kInvalid };
const char* CrossSafeStatusName(CrossSafeStatus s);  // "accept" | "unknown" | "invalid"

struct CrossSafeAnswer {
  CrossSafeStatus status = CrossSafeStatus::kAccept;
  BlockID cross_safe;  // newest cross-safe at the view with number <= the reported local-safe
  BlockID local_safe;  // the stored local-safe at that view; for kInvalid, the first invalid block
};

// Every head of one chain as the supervisor reports it.
struct Heads {
  BlockID unsafe;
  BlockID cross_unsafe;
  BlockID local_safe;
  BlockID cross_safe;
  BlockID finalized;
  BlockID local_safe_source;  // L1 block of the newest group
  BlockID cross_safe_source;  // L1 block in whose view cross_safe first became cross-safe
  // local_safe is invalid in the newest group's view and awaits its replacement (what the
  // supervisor's invalidation tells an op-node in managed mode).
  bool local_safe_invalid = false;
};

struct DerivedPair {
  BlockID source;   // L1
  BlockID derived;  // L2
};

struct ExecutingDescriptor {
  uint64_t timestamp = 0;
  uint64_t timeout = 0;
  std::optional<ChainID> chain_id;
};

// The least safety a checkAccessList call may require: op-supervisor's five level names, in its
// order, weakest first. kLocalSafe holds when the message's block is at or below its chain's
// local-safe head (of the newest group), whether or not it is cross-unsafe yet.
enum class AccessSafety : uint8_t { kUnsafe, kLocalSafe, kCrossUnsafe, kSafe, kFinalized };
const char* AccessSafetyName(AccessSafety level);  // "unsafe", "local-safe", "cross-unsafe", "safe", "finalized"
// kInvalidArgument for any other name.
Result<AccessSafety> ParseAccessSafety(std::string_view name);

struct SuperRootChain {
  ChainID chain_id;
  Hash canonical;  // output root of the canonical block
  Bytes pending;   // 128-byte OutputV0 preimage of the block before any replacement
};

struct SuperRootResponse {
  BlockID cross_safe_derived_from;
  uint64_t timestamp = 0;
  Hash super_root;
  uint8_t version = 1;
  std::vector<SuperRootChain> chains;  // ascending chain ID
};

struct ChainSyncStatus {
  BlockRef local_unsafe;
  BlockID local_safe;
  BlockID cross_unsafe;
  BlockID cross_safe;
  BlockID finalized;
};

struct SyncStatus {
  BlockRef min_synced_l1;
  uint64_t safe_timestamp = 0;
  uint64_t finalized_timestamp = 0;
  std::map<ChainID, ChainSyncStatus> chains;
};

// Every head the read surface answers, as of one moment between two writes (Supervisor::Snapshot):
// what the daemon publishes for its head reads and /metrics.
struct ReadSnapshot {
  uint64_t version = 0;        // numbered by its publisher, increasing
  Status alive;                // not OK once the core is dead: every head read answers it
  std::map<ChainID, Heads> heads;
  std::map<ChainID, BlockRef> local_unsafe;
  Status sync_error;           // GetSyncStatus's error, or OK and `sync`
  SyncStatus sync;
  std::optional<BlockRef> finalized_l1;
};

class Supervisor {
 public:
  // Opens (or initializes with the genesis group) the data directory: <dir>/supersafe.db and
  // <dir>/chains/<chainID>/events.db. Recomputes cross-unsafe from disk. `sources` must outlive
  // the supervisor. Errors: kCorruption naming file and offset; kInvalidArgument for a dependency
  // set that does not match the stored one.
  static Result<std::unique_ptr<Supervisor>> Open(const std::filesystem::path& datadir, const DependencySet& deps,
                                                  Sources sources, const Options& options = {});
  ~Supervisor();

  // True after a database write or sync failed: the state can no longer be trusted, the owner must
  // reopen the data directory (a new process).
  bool dead() const;

  // --- op-node facing ---
  // Every call that fetches unsafe blocks from a chain source (UpdateLocalUnsafe, GetCrossUnsafe,
  // and TryCrossSafe for a block not indexed yet) indexes at most this many past
  // the common ancestor, so that no one call's work grows with how far the node is ahead; the
  // next calls go on from there. A call about a block beyond that answers as if the block were
  // not fetched yet (unknown).
  static constexpr uint64_t kMaxBlocksIndexedPerCall = 1024;
  // The sync-status exchange: index `unsafe` (and any blocks between the indexed tip and it, at
  // most kMaxBlocksIndexedPerCall), fetching logs from the chain source; an unsafe reorg rewinds
  // the event-log DB, never below cross-safe (kConflictingData: wait for L1 to rewind cross-safe
  // first).
  Status UpdateLocalUnsafe(const ChainID& chain, const BlockRef& unsafe);
  // Operator rewind (admin_rewind): drops the chain's indexed unsafe blocks after `block`, which
  // must be indexed with that hash. Refused with kConflictingData below the local-safe head of the
  // newest group (derived data only rewinds through L1) or for a block that is not indexed;
  // changes nothing then. Recomputes every chain's cross-unsafe head.
  Status RewindUnsafe(const ChainID& chain, const BlockID& block);
  // Latest cross-unsafe at or below max_number.
  Result<BlockID> GetCrossUnsafe(const ChainID& chain, uint64_t max_number);
  // accept/unknown/invalid, or kFutureData / kOutOfOrder / kConflictingData /
  // kAwaitingReplacementBlock (docs/protocol-rules.md, "What the core answers"). At the tip view of
  // a chain whose block k is invalid, a report at or above k on a chain that holds another block at
  // k (no logs: the deposit-only replacement) is the replacement, with whatever the node derived on
  // it; the view is revised with it (docs/decisions.md). A chain awaiting a replacement cannot
  // report the next L1 block, and a report it made before its block became invalid no longer counts.
  Result<CrossSafeAnswer> TryCrossSafe(const ChainID& chain, const BlockID& local_safe, const BlockID& derived_from);
  // Drops the groups whose L1 block the L1 source no longer has, as TryCrossSafe and TryFinalize
  // do first (managed mode rewinds before it computes a node's reset).
  Status SyncL1();
  // The chain's cross-safe head at the view of finalized_l1; also records L1 finality.
  Result<BlockID> TryFinalize(const ChainID& chain, const BlockID& finalized_l1);

  // --- op-geth facing ---
  Result<SafetyLevel> CheckMessage(const Identifier& id, const Hash& payload_hash);
  // kFutureData when a message is below `min_safety` or not indexed yet, kConflictingData when it
  // can never be valid; the SafetyLevel form takes unsafe, cross-unsafe, safe or finalized.
  Status CheckAccessList(std::span<const Hash> entries, AccessSafety min_safety, const ExecutingDescriptor& desc);
  Status CheckAccessList(std::span<const Hash> entries, SafetyLevel min_safety, const ExecutingDescriptor& desc);

  // --- read surface ---
  // HeadsOf, LocalSafe and CrossSafe give the sources' full L1 block hashes (the databases keep a
  // prefix only): from the L1 blocks the core wrote groups for or read before, else from the L1
  // source; LocalUnsafe and Finalized read the databases alone.
  Result<Heads> HeadsOf(const ChainID& chain);
  // Every chain's heads in dependency-set order, each as HeadsOf gives it (the cross-safe sources'
  // lookups batched); fails only as HeadsOf fails for every chain.
  Result<std::vector<Heads>> AllHeadsOf();
  Result<BlockID> LocalUnsafe(const ChainID& chain);
  Result<DerivedPair> LocalSafe(const ChainID& chain);
  Result<DerivedPair> CrossSafe(const ChainID& chain);
  Result<BlockID> Finalized(const ChainID& chain);
  Result<BlockRef> FinalizedL1();
  Result<BlockRef> CrossDerivedToSource(const ChainID& chain, const BlockID& derived);
  // The indexed block at `number` when it is at or below the chain's local-safe head of the newest
  // group (an invalid local-safe block awaiting its replacement does not count); kFutureData above
  // it. Managed mode's reset search asks which of a node's blocks are local-safe here.
  Result<BlockID> LocalSafeBlockAt(const ChainID& chain, uint64_t number);
  Result<std::map<ChainID, BlockID>> AllSafeDerivedAt(const BlockID& derived_from);
  // out[i] is exactly AllSafeDerivedAt(derived_from[i]), the groups read by one batched lookup
  // (an RPC batch of allSafeDerivedAt calls).
  std::vector<Result<std::map<ChainID, BlockID>>> AllSafeDerivedAtMany(std::span<const BlockID> derived_from);
  Result<SuperRootResponse> SuperRootAtTimestamp(uint64_t timestamp);
  // out[i] is exactly SuperRootAtTimestamp(timestamps[i]) (the same answer or the same error), for
  // a caller with many timestamps at once (a fault-proof export, an RPC batch): the super-safe-db
  // lookups of every (timestamp, chain) pair go through one batched call.
  std::vector<Result<SuperRootResponse>> SuperRootsAtTimestamps(std::span<const uint64_t> timestamps);
  // The pending output stored for `block` (the replacement log): the OutputV0 preimage of the
  // invalid block it replaced, or nullopt when it replaced nothing or that preimage could not be
  // fetched (superRootAtTimestamp then answers the canonical output as `pending`).
  Result<std::optional<Bytes>> PendingOutput(const ChainID& chain, const BlockID& block);
  Result<SyncStatus> GetSyncStatus();
  // Every chain's heads, the sync status and finality at once (HeadsOf, GetSyncStatus, FinalizedL1);
  // an L1 block it cannot read makes the source a padded prefix as HeadsOf does.
  ReadSnapshot Snapshot();
  const DependencySet& dependency_set() const;

 private:
  struct Impl;
  explicit Supervisor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace supersafe::supervisor
