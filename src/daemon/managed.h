// Managed mode: the supervisor dials op-nodes (`--l2-consensus.nodes`) and drives them over their
// `interop_*` API, a second adapter onto the same core beside the design's methods
// (docs/managed-mode.md).
//
// Each node has a link thread: it dials the node (ws(s):// or http(s)://, an HS256 JWT per HTTP
// request or WebSocket upgrade), asks `interop_chainID` (a chain of the dependency set, one node
// per chain), then takes the node's events: by `interop_subscribe ["events"]` over WebSocket, by
// polling `interop_pullEvent` over HTTP (at once after an event, 100 ms after -39001 "out of
// events"). A dropped connection, an ended subscription or a failed poll detaches the node; the
// link dials again with a backoff of 100 ms doubling to 10 s.
//
// One coordinator thread handles every node's events in arrival order and calls the core through
// its gate (supervisor/prefetch.h: what a call reads from the nodes and L1 is fetched first, the
// core runs under the gate's lock), as the design's methods do:
//   unsafeBlock        UpdateLocalUnsafe (indexing through the node: l2BlockRefByNumber,
//                      fetchReceipts), then cross-unsafe to every node (updateCrossUnsafe)
//   exhaustL1          the node's local-safe head as of that L1 block: TryCrossSafe once the
//                      previous L1 block's group is written; a written group sends cross-safe
//                      (updateCrossSafe) and invalid blocks (invalidateBlock) to every node; then
//                      provideL1 of the next canonical L1 block (at once when the node's L1 block
//                      is no longer canonical: the node then asks for a reset)
//   replaceBlock       TryCrossSafe of the replacement at the newest group; heads to every node
//   reset              the reset search (a bisection between the activation block and the core's
//                      local-safe head), then interop_reset or interop_resetPreInterop
//   derivationUpdate, derivationOriginUpdate   recorded for Status() only
// A conflict between a node and the core's local-safe data resets the node too. Every
// `tick` the coordinator retries what waited (provideL1 of an L1 block not there yet, reports the
// core could not take) and sends finality (updateFinalized) and any head a node has not taken.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/log.h"
#include "daemon/upstream.h"
#include "supervisor/prefetch.h"
#include "supervisor/supervisor.h"

namespace supersafe::daemon {

struct ManagedConfig {
  std::vector<std::string> nodes;                    // --l2-consensus.nodes URLs
  std::vector<std::filesystem::path> jwt_secrets;    // one per node, or one for all
  std::chrono::milliseconds timeout{10000};          // each call to a node
  std::chrono::milliseconds tick{2000};
};

// What the coordinator knows of one node, for logs, metrics and tests.
struct ManagedNodeStatus {
  std::string url;
  std::optional<ChainID> chain;
  bool attached = false;
  uint64_t attaches = 0;  // successful (re)attachments
  uint64_t events = 0;
  uint64_t resets = 0;           // interop_reset calls that succeeded
  uint64_t pre_interop_resets = 0;
  uint64_t invalidations = 0;    // interop_invalidateBlock calls that succeeded
  std::optional<BlockRef> provided_l1;   // the last L1 block given with provideL1
  std::optional<BlockID> local_safe;     // the newest derived block the node reported
  std::optional<BlockID> cross_unsafe, cross_safe, finalized;  // as last sent to the node
};

class ManagedMode {
 public:
  // Checks the URLs and reads the secrets (kInvalidArgument naming the flag); dials nothing.
  static Result<std::unique_ptr<ManagedMode>> Create(const ManagedConfig& config, const supervisor::DependencySet& deps,
                                                     L1Client& l1, LogFn log);
  ~ManagedMode();  // Stop()

  // The core's source for `chain`: every call goes to the node attached for that chain
  // (kIOError while none is). Valid as long as this object.
  supervisor::ChainSource* SourceFor(const ChainID& chain);
  // Starts the links and the coordinator. `gate` must outlive Stop().
  void Start(supervisor::CoreGate& gate);
  // Joins every thread. Idempotent.
  void Stop();
  // Makes the coordinator run its tick now (the daemon calls it after forwarding finality).
  void Wake();
  std::vector<ManagedNodeStatus> NodeStatus();

  struct Link;
  struct Source;

 private:
  ManagedMode() = default;
  void LinkLoop(Link& link);
  void CoordinatorLoop();
  void Push(Link& link, rpc::Json event);
  void Handle(Link& link, const rpc::Json& event);
  void Tick();
  void OnUnsafe(Link& link, const BlockRef& block);
  void OnExhausted(Link& link);
  void OnReplaced(Link& link, const BlockRef& replacement);
  void Advance();
  void AfterGroup();
  void ProvideNext(Link& link);
  void SyncHeads(Link& link);
  void Reset(Link& link, const std::string& why);
  Result<BlockID> TipL1();
  Result<supervisor::CrossSafeAnswer> TryCrossSafe(const ChainID& chain, const BlockID& local_safe, const BlockID& derived_from);
  Link* Attached(const ChainID& chain);
  void Warn(Link& link, const std::string& what, const Status& s);

  supervisor::DependencySet deps_;
  L1Client* l1_ = nullptr;
  LogFn log_;
  ManagedConfig config_;
  supervisor::CoreGate* gate_ = nullptr;
  std::vector<std::unique_ptr<Link>> links_;
  std::map<ChainID, std::unique_ptr<Source>> sources_;

  std::mutex mu_;  // the queue, the chain -> link map, stopping_
  std::condition_variable cv_;
  struct Queued {
    Link* link;
    uint64_t seq;
    rpc::Json event;
  };
  std::deque<Queued> queue_;
  std::map<ChainID, Link*> attached_;
  bool stopping_ = false;
  bool wake_ = false;
  std::thread coordinator_;
};

}  // namespace supersafe::daemon
