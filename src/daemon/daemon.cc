#include "daemon/daemon.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/config.h"
#include "db/file.h"

namespace supersafe::daemon {

namespace {

Result<std::map<ChainID, RollupConfig>> LoadRollups(const DaemonConfig& config) {
  const bool set = !config.rollup_config_set.empty(), paths = !config.rollup_config_paths.empty();
  if (set == paths)
    return InvalidArgument(set ? "--rollup-config-set and --rollup-config-paths: give only one of them"
                               : "give --rollup-config-set FILE or --rollup-config-paths GLOB");
  if (paths) return LoadRollupConfigPaths(config.rollup_config_paths);
  SS_ASSIGN_OR_RETURN(std::string text, ReadTextFile(config.rollup_config_set, "--rollup-config-set"));
  return ParseRollupConfigSet(text, config.rollup_config_set.filename().string());
}

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::Start(const DaemonConfig& config, LogFn log) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->config_ = config;
  d->log_ = std::move(log);
  if (d->config_.server.version.empty()) d->config_.server.version = Version();

  SS_ASSIGN_OR_RETURN(std::string deps_text, ReadTextFile(config.dependency_set, "--dependency-set"));
  SS_ASSIGN_OR_RETURN(DependencyFile deps, ParseDependencySet(deps_text, config.dependency_set.filename().string()));
  SS_ASSIGN_OR_RETURN(auto rollups, LoadRollups(config));
  if (config.enable_admin && !config.admin_jwt_secret)
    return InvalidArgument("--rpc.enable-admin: the admin methods need --admin-jwt-secret FILE (callers sign HS256 JWTs with it)");
  if (config.admin_jwt_secret) {
    SS_ASSIGN_OR_RETURN(JwtSecret secret, ReadJwtSecret(*config.admin_jwt_secret));
    d->config_.server.jwt = secret;
  }

  JsonRpcClient::Options l1_options{config.upstream_timeout, std::nullopt};
  if (config.l1_rpc_jwt_secret) {
    SS_ASSIGN_OR_RETURN(l1_options.jwt, ReadJwtSecret(*config.l1_rpc_jwt_secret));
  }
  SS_ASSIGN_OR_RETURN(auto l1_rpc, JsonRpcClient::Create("--l1-rpc", config.l1_rpc, l1_options));
  d->l1_ = std::make_unique<L1Client>(std::move(l1_rpc));
  std::optional<JwtSecret> l2_secret;
  if (config.l2_rpc_jwt_secret) {
    SS_ASSIGN_OR_RETURN(l2_secret, ReadJwtSecret(*config.l2_rpc_jwt_secret));
  }
  for (const auto& [id, file] : config.l2_rpc_chain_jwt_secret)
    if (!config.l2_rpc.count(id)) return InvalidArgument("--l2-rpc.jwt-secret: chain " + id.Decimal() + " has no --l2-rpc");
  for (const ChainID& id : deps.chains) {
    auto it = config.l2_rpc.find(id);
    if (it == config.l2_rpc.end() && !config.l2_consensus_nodes.empty()) continue;  // read through its managed node
    if (it == config.l2_rpc.end()) return InvalidArgument("--l2-rpc: no URL for chain " + id.Decimal() + " of the dependency set");
    JsonRpcClient::Options options{config.upstream_timeout, l2_secret};
    if (auto f = config.l2_rpc_chain_jwt_secret.find(id); f != config.l2_rpc_chain_jwt_secret.end()) {
      SS_ASSIGN_OR_RETURN(options.jwt, ReadJwtSecret(f->second));
    }
    SS_ASSIGN_OR_RETURN(auto rpc, JsonRpcClient::Create("--l2-rpc " + id.Decimal(), it->second, options));
    d->l2_[id] = std::make_unique<L2Client>(std::move(rpc));
  }
  for (const auto& [id, url] : config.l2_rpc)
    if (!d->l2_.count(id)) return InvalidArgument("--l2-rpc: chain " + id.Decimal() + " is not in the dependency set");

  // The genesis group sits at the newest genesis L1 block; every chain's genesis.l1 must be canonical.
  BlockRef genesis_l1;
  bool first = true;
  for (const auto& [id, r] : rollups) {
    auto l1 = d->l1_->BlockByNumber(r.genesis_l1.number);
    const std::string which = "rollup config of chain " + id.Decimal() + ": genesis.l1 " + r.genesis_l1.ToString();
    if (!l1.ok()) return InvalidArgument(which + ": cannot fetch it from L1: " + l1.status().message());
    if (l1->hash != r.genesis_l1.hash) return InvalidArgument(which + " is not the L1 block at that height (" + l1->hash.Hex() + ")");
    if (first || l1->number > genesis_l1.number) genesis_l1 = *l1;
    first = false;
  }
  SS_ASSIGN_OR_RETURN(supervisor::DependencySet set, BuildDependencySet(deps, rollups, genesis_l1));
  if (!config.l2_consensus_nodes.empty()) {
    ManagedConfig managed;
    managed.nodes = config.l2_consensus_nodes;
    managed.jwt_secrets = config.l2_consensus_jwt_secrets;
    managed.timeout = config.upstream_timeout;
    if (config.poll_interval.count() > 0) managed.tick = config.poll_interval;
    SS_ASSIGN_OR_RETURN(d->managed_, ManagedMode::Create(managed, set, *d->l1_, d->log_));
  } else if (!config.l2_consensus_jwt_secrets.empty()) {
    return InvalidArgument("--l2-consensus.jwt-secret: given without --l2-consensus.nodes");
  }

  // One process per data directory: the lock lives as long as the descriptor (a crash releases it).
  const std::string datadir = "--datadir " + config.datadir.string();
  SS_RETURN_IF_ERROR(db::CreateDirectoriesDurably(db::Env::Posix(), config.datadir).WithContext(datadir));
  d->lock_fd_ = ::open((config.datadir / "LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (d->lock_fd_ < 0) return InvalidArgument(datadir + ": cannot open LOCK: " + std::strerror(errno));
  if (::flock(d->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return InvalidArgument(datadir + ": in use by another process (its LOCK is held)");

  // The upstream nodes are read outside the core's lock (supervisor/prefetch.h): the core reads
  // what each call fetched, through the prefetched sources.
  supervisor::Sources upstream;
  upstream.l1 = d->l1_.get();
  std::vector<ChainID> ids;
  for (const auto& c : set.chains) {
    upstream.chains[c.id] = d->l2_.count(c.id) ? static_cast<supervisor::ChainSource*>(d->l2_.at(c.id).get())
                                               : d->managed_->SourceFor(c.id);
    ids.push_back(c.id);
  }
  d->prefetched_ = std::make_unique<supervisor::PrefetchedSources>(ids);
  auto core = supervisor::Supervisor::Open(config.datadir, set, d->prefetched_->sources());
  if (!core.ok()) return core.status().WithContext(datadir);
  d->core_ = std::move(core).value();
  d->gate_ = std::make_unique<supervisor::CoreGate>(*d->core_, *d->prefetched_, upstream);
  rpc::Dispatcher::Options dispatch;
  dispatch.version = d->config_.server.version;
  d->dispatcher_ = std::make_unique<rpc::Dispatcher>(*d->gate_, dispatch);
  SS_ASSIGN_OR_RETURN(d->server_, Server::Start(d->config_.server, *d->gate_, *d->dispatcher_));
  if (config.metrics.enabled) {
    SS_ASSIGN_OR_RETURN(d->metrics_server_,
                        MetricsServer::Start(config.metrics.addr, config.metrics.port, d->config_.server,
                                             [s = d->server_.get()] { return s->RenderMetrics(); }));
    d->log_(LogLevel::kInfo, "serving metrics on " + config.metrics.addr + ":" + std::to_string(d->metrics_server_->port()));
  }
  d->log_(LogLevel::kInfo, "serving JSON-RPC on " + config.server.addr + ":" + std::to_string(d->server_->port()) +
                               " for " + std::to_string(set.chains.size()) + " chains; data directory " +
                               config.datadir.string() + "; version " + d->config_.server.version);
  if (config.poll_interval.count() > 0) d->poller_ = std::thread([p = d.get()] { p->PollLoop(); });
  if (d->managed_) {
    d->managed_->Start(*d->gate_);
    d->log_(LogLevel::kInfo, "managing " + std::to_string(config.l2_consensus_nodes.size()) + " op-nodes");
  }
  return d;
}

Daemon::~Daemon() { Stop(); }

void Daemon::Stop() {
  {
    std::lock_guard<std::mutex> g(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (managed_) managed_->Stop();
  metrics_server_.reset();  // it renders through server_
  if (server_) server_->Stop();
  server_.reset();
  dispatcher_.reset();
  gate_.reset();  // nothing drives the core any more
  core_.reset();
  // Their subscriptions call back into this object: end them while it is whole.
  l2_.clear();
  managed_.reset();
  l1_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
}

void Daemon::PollLoop() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    PollOnce();
    lock.lock();
    stop_cv_.wait_for(lock, config_.poll_interval, [this] { return stopping_ || woken_; });
  }
}

void Daemon::Wake() {
  {
    std::lock_guard<std::mutex> g(stop_mu_);
    woken_ = true;
  }
  stop_cv_.notify_all();
}

Result<BlockRef> Daemon::LatestOf(const ChainID& id, L2Client& client) {
  JsonRpcClient& rpc = client.rpc();
  if (!rpc.websocket()) return client.Latest();
  if (!rpc.subscribed()) {
    {
      std::lock_guard<std::mutex> g(heads_mu_);
      pushed_heads_.erase(id);  // a head of the old subscription may be stale by now
    }
    Status s = rpc.Subscribe("eth", rpc::Json::array({"newHeads"}), [this, id, who = rpc.name()](const rpc::Json& header) {
      auto head = BlockRefFromEth(header, who + " newHeads");
      if (!head.ok()) return;
      {
        std::lock_guard<std::mutex> g(heads_mu_);
        pushed_heads_[id] = *head;
      }
      Wake();
    }, [this] { Wake(); });  // resubscribe at once
    if (!s.ok()) return s;
    // The head as of the subscription, asked for once; from then on only pushed heads count.
    auto head = client.Latest();
    if (!head.ok()) return head;
    std::lock_guard<std::mutex> g(heads_mu_);
    pushed_heads_.emplace(id, *head);  // a head pushed meanwhile is newer: it stays
  }
  {
    std::lock_guard<std::mutex> g(heads_mu_);
    if (auto it = pushed_heads_.find(id); it != pushed_heads_.end()) return it->second;
  }
  return client.Latest();  // the subscription ended between the check and now
}

void Daemon::Note(const std::string& key, const Status& s) {
  std::string now = s.ok() ? "" : s.ToString();
  std::string& last = last_note_[key];
  if (now == last) return;
  log_(s.ok() ? LogLevel::kInfo : LogLevel::kWarn, key + (s.ok() ? ": ok again" : ": " + now));
  last = now;
}

void Daemon::PollOnce() {
  if (!gate_) return;
  for (auto& [chain, client] : l2_) {
    const ChainID& id = chain;  // a lambda below captures it (clang 14 cannot capture a structured binding)
    const std::string key = "poll chain " + id.Decimal();
    auto head = LatestOf(id, *client);
    if (!head.ok()) {
      Note(key, head.status());
      continue;
    }
    auto snap = gate_->snapshot();
    if (!snap->alive.ok()) return Note(key, snap->alive);
    const BlockRef& tip = snap->local_unsafe.at(id);
    if (tip.hash == head->hash) {
      Note(key, Status::Ok());
      continue;
    }
    BlockRef target = *head;
    if (head->number > tip.number && head->number - tip.number > config_.index_step) {
      auto step = client->BlockByNumber(tip.number + config_.index_step);
      if (!step.ok()) {
        Note(key, step.status());
        continue;
      }
      target = *step;
    }
    Status s;
    gate_->Run(supervisor::PlanIndex(*snap, id, target.number),
               [&](supervisor::Supervisor& core) { s = core.UpdateLocalUnsafe(id, target); }, true);
    Note(key, s);
  }

  // A ws(s) L1 upstream's new heads wake the loop for the finality check (its payload is unused).
  if (l1_->rpc().websocket() && !l1_->rpc().subscribed()) {
    Status s = l1_->rpc().Subscribe("eth", rpc::Json::array({"newHeads"}), [this](const rpc::Json&) { Wake(); }, [this] { Wake(); });
    if (!s.ok()) Note("subscribe L1 newHeads", s);
  }
  auto finalized = l1_->Finalized();
  if (!finalized.ok() || !*finalized) {
    Note("poll L1 finality", finalized.status());
    return;
  }
  auto snap = gate_->snapshot();
  if (!snap->alive.ok() || !snap->sync_error.ok()) {
    Note("poll L1 finality", !snap->alive.ok() ? snap->alive : snap->sync_error);
    return;
  }
  const uint64_t n = std::min((*finalized)->number, snap->sync.min_synced_l1.number);
  if (snap->finalized_l1 && snap->finalized_l1->number >= n) return;
  auto block = n == (*finalized)->number ? Result<BlockRef>(**finalized) : l1_->BlockByNumber(n);
  if (!block.ok()) {
    Note("poll L1 finality", block.status());
    return;
  }
  Status s;
  const ChainID first = snap->sync.chains.begin()->first;
  gate_->Run(supervisor::PlanL1(*snap, n),
             [&](supervisor::Supervisor& core) { s = core.TryFinalize(first, block->ID()).status(); }, true);
  Note("poll L1 finality", s);
  if (managed_) managed_->Wake();  // updateFinalized to the managed nodes
}

}  // namespace supersafe::daemon
