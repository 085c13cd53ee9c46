// `supersafe serve`: the supervisor core over its data directory, fed by upstream L1 and L2 nodes,
// served over HTTP JSON-RPC (docs/rpc.md).
//
// Start() does everything that can fail at startup, in order, and stops at the first error with a
// message naming the flag or file: read and check the dependency set and rollup configs (one
// rollup-config-set file, or op-node rollup.json files by glob), check the upstream URLs, fetch
// and check the genesis L1 block(s), lock and open the data directory (<datadir>/LOCK, held while
// the daemon runs; supersafe.db and chains/<id>/events.db as the simulator's supervisor keeps
// them), bind the RPC address and, when enabled, the metrics address, then start the poll loop.
//
// Concurrency contract: the core is driven through one CoreGate (supervisor/prefetch.h), by the
// HTTP server (through the dispatcher: reads on its io threads, anything that may wait on its
// workers; daemon/server.h), the poll loop and the managed-mode coordinator.
//  - No upstream round trip happens under the core's lock. The core reads the L1 and L2 nodes
//    through prefetched sources: before a call, the caller fetches from the nodes (lock not held)
//    what the call will read, the call runs under the gate's exclusive lock over that data, and
//    when it asked for something not fetched, the caller fetches it and runs the call again.
//  - Every write (updateLocalUnsafe, tryCrossSafe, tryFinalize, getCrossUnsafe's indexing,
//    admin_rewind, allSafeDerivedAt's L1 check, the poll loop's and managed mode's updates)
//    publishes an immutable snapshot of every chain's heads, the sync status and finality. The
//    head reads (localUnsafe, localSafe, crossSafe, finalized, finalizedL1, syncStatus), /metrics
//    and /healthz answer from the latest snapshot (an atomic load): they take no lock and see the
//    state before or after a write, never part of one.
//  - checkAccessList and checkMessage read the databases under the gate's shared lock: they run
//    beside each other and wait only while a write changes the databases (a write holds the
//    exclusive lock for its database work only, never for a fetch).
//  - Other reads (crossDerivedToSource, superRootAtTimestamp) run like writes without publishing.
//
// The poll loop, every `poll_interval`: for each chain, take the node's latest block and index up
// to `index_step` blocks towards it (UpdateLocalUnsafe); fetch L1's finalized block and forward
// it with TryFinalize once the super-safe-db holds its group (or the newest group below it).
// A ws:// or wss:// upstream is subscribed to (eth_subscribe newHeads): each new head wakes the
// loop at once, and a chain's latest block is the newest head it pushed (subscribed again in the
// next round after the connection drops); an http(s) upstream is asked (eth_getBlockByNumber).
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/log.h"
#include "daemon/managed.h"
#include "daemon/server.h"
#include "daemon/upstream.h"
#include "rpc/dispatcher.h"
#include "supervisor/prefetch.h"
#include "supervisor/supervisor.h"

namespace supersafe::daemon {

struct DaemonConfig {
  std::filesystem::path datadir;
  std::filesystem::path dependency_set;
  // Exactly one of the two: a rollup-config-set file, or a glob of op-node rollup.json files.
  std::filesystem::path rollup_config_set;
  std::string rollup_config_paths;
  std::optional<std::filesystem::path> admin_jwt_secret;
  // --rpc.enable-admin: asks for the admin methods; they need admin_jwt_secret (a secret alone
  // enables them too, as before the flag existed).
  bool enable_admin = false;
  struct Metrics {
    bool enabled = false;  // a separate metrics server (op-service's --metrics.*)
    std::string addr = "127.0.0.1";
    int port = 7300;  // 0: any free port (see Daemon::metrics_port())
  } metrics;
  std::string l1_rpc;
  std::map<ChainID, std::string> l2_rpc;
  // Secrets for upstreams that want an Engine-API-style JWT (every request, or the WebSocket
  // upgrade, carries one): L1's, one for every L2 upstream, and per-chain ones that win over it.
  std::optional<std::filesystem::path> l1_rpc_jwt_secret;
  std::optional<std::filesystem::path> l2_rpc_jwt_secret;
  std::map<ChainID, std::filesystem::path> l2_rpc_chain_jwt_secret;
  // Managed op-nodes (docs/managed-mode.md): each node's chain comes from interop_chainID. A chain
  // without --l2-rpc is read through its managed node; one with both is read through --l2-rpc.
  std::vector<std::string> l2_consensus_nodes;
  std::vector<std::filesystem::path> l2_consensus_jwt_secrets;
  ServerOptions server;  // `jwt` is filled from admin_jwt_secret; an empty `version` from Version()
  std::chrono::milliseconds poll_interval{2000};  // 0: no poll loop
  std::chrono::milliseconds upstream_timeout{10000};
  uint64_t index_step = 1000;  // most unsafe blocks indexed per chain per poll
};


class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> Start(const DaemonConfig& config, LogFn log);
  ~Daemon();  // Stop()

  int port() const { return server_->port(); }
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  // The managed nodes as the coordinator knows them; empty without --l2-consensus.nodes.
  std::vector<ManagedNodeStatus> ManagedStatus() { return managed_ ? managed_->NodeStatus() : std::vector<ManagedNodeStatus>{}; }
  // Stops the poll loop and the server (in-flight requests finish), then closes the data
  // directory. Idempotent.
  void Stop();
  // One round of the poll loop, now (the loop calls it; tests may too).
  void PollOnce();

 private:
  Daemon() = default;
  void PollLoop();
  void Note(const std::string& key, const Status& s);
  // The chain's newest block: the last head its subscription pushed, or asked for.
  Result<BlockRef> LatestOf(const ChainID& id, L2Client& client);
  void Wake();

  DaemonConfig config_;
  LogFn log_;
  std::unique_ptr<L1Client> l1_;
  std::map<ChainID, std::unique_ptr<L2Client>> l2_;
  std::unique_ptr<ManagedMode> managed_;
  int lock_fd_ = -1;  // flock on <datadir>/LOCK while the daemon runs
  std::unique_ptr<supervisor::PrefetchedSources> prefetched_;
  std::unique_ptr<supervisor::Supervisor> core_;
  std::unique_ptr<supervisor::CoreGate> gate_;
  std::unique_ptr<rpc::Dispatcher> dispatcher_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::thread poller_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  bool woken_ = false;                          // a subscription pushed a head (under stop_mu_)
  std::mutex heads_mu_;
  std::map<ChainID, BlockRef> pushed_heads_;    // the newest head each subscription pushed
  std::map<std::string, std::string> last_note_;  // poll loop only: log a condition when it changes
};

}  // namespace supersafe::daemon
