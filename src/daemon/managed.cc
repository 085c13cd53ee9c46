#include "daemon/managed.h"
#include "daemon/managed_link.h"

#include <algorithm>
#include <cctype>

#include "core/fp.h"
#include "supervisor/validity.h"

namespace supersafe::daemon {

using rpc::Json;
using namespace managed_internal;

namespace {

constexpr int64_t kOutOfEvents = -39001;  // op-service's stream: no event queued
constexpr auto kPollBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::seconds(10);

}  // namespace

struct ManagedMode::Source : supervisor::ChainSource {
  ManagedMode* mode = nullptr;
  supervisor::ChainConfig config;

  Result<Link*> Node() {
    Link* l = mode->Attached(config.id);
    if (!l) return IOError("no managed node of chain " + config.id.Decimal() + " is attached");
    return l;
  }
  Result<BlockRef> BlockByNumber(uint64_t number) override {
    SS_ASSIGN_OR_RETURN(Link * l, Node());
    SS_ASSIGN_OR_RETURN(L2Ref b, l->BlockAt(number));
    return b.ref;
  }
  Result<std::vector<Log>> Logs(const BlockID& block) override {
    SS_ASSIGN_OR_RETURN(Link * l, Node());
    SS_ASSIGN_OR_RETURN(Json receipts, l->Call("interop_fetchReceipts", Json::array({block.hash.Hex()})));
    return LogsFromReceipts(receipts, block, l->Who() + " interop_fetchReceipts(" + block.ToString() + ")");
  }
  // The node serves outputs by timestamp: its canonical block at that time must be `block`.
  Result<Bytes> OutputPreimage(const BlockID& block) override {
    SS_ASSIGN_OR_RETURN(Link * l, Node());
    const std::string who = l->Who() + " output of " + block.ToString();
    SS_ASSIGN_OR_RETURN(Json out, l->Call("interop_outputV0AtTimestamp", Json::array({config.TimeOf(block.number)})));
    if (out.is_null()) return NotFound(who + ": null");
    Hash roots[3];
    const char* names[3] = {"StateRoot", "MessagePasserStorageRoot", "BlockHash"};
    for (int i = 0; i < 3; ++i) {
      auto field = Need(out, names[i], "output");
      if (!field.ok()) return IOError(who + ": malformed answer: " + field.status().message());
      auto h = rpc::DecodeHash(**field, std::string("output.") + names[i]);
      if (!h.ok()) return IOError(who + ": malformed answer: " + h.status().message());
      roots[i] = *h;
    }
    if (roots[2] != block.hash) return NotFound(who + ": the node's block at that time is " + roots[2].Hex());
    return OutputV0Preimage(roots[0], roots[1], roots[2]);
  }
};

Result<std::unique_ptr<ManagedMode>> ManagedMode::Create(const ManagedConfig& config,
                                                         const supervisor::DependencySet& deps, L1Client& l1, LogFn log) {
  if (config.nodes.empty()) return InvalidArgument("--l2-consensus.nodes: no node given");
  const size_t n = config.nodes.size(), s = config.jwt_secrets.size();
  if (s == 0) return InvalidArgument("--l2-consensus.jwt-secret: managed nodes need a JWT secret (one, or one per node)");
  if (s != 1 && s != n)
    return InvalidArgument("--l2-consensus.jwt-secret: " + std::to_string(s) + " secrets for " + std::to_string(n) +
                           " nodes; give one for all or one per node, in --l2-consensus.nodes order");
  std::unique_ptr<ManagedMode> m(new ManagedMode());
  m->deps_ = deps;
  m->l1_ = &l1;
  m->log_ = std::move(log);
  m->config_ = config;
  for (size_t i = 0; i < n; ++i) {
    SS_ASSIGN_OR_RETURN(JwtSecret secret, ReadJwtSecret(config.jwt_secrets[s == 1 ? 0 : i]));
    auto link = std::make_unique<Link>();
    link->index = i;
    link->url = config.nodes[i];
    SS_ASSIGN_OR_RETURN(link->rpc, JsonRpcClient::Create("--l2-consensus.nodes", config.nodes[i],
                                                         JsonRpcClient::Options{config.timeout, secret}));
    link->status.url = config.nodes[i];
    m->links_.push_back(std::move(link));
  }
  for (const auto& c : deps.chains) {
    auto source = std::make_unique<Source>();
    source->mode = m.get();
    source->config = c;
    m->sources_[c.id] = std::move(source);
  }
  return m;
}

ManagedMode::~ManagedMode() { Stop(); }

supervisor::ChainSource* ManagedMode::SourceFor(const ChainID& chain) {
  auto it = sources_.find(chain);
  return it == sources_.end() ? nullptr : it->second.get();
}

void ManagedMode::Start(supervisor::CoreGate& gate) {
  gate_ = &gate;
  for (auto& l : links_) l->thread = std::thread([this, p = l.get()] { LinkLoop(*p); });
  coordinator_ = std::thread([this] { CoordinatorLoop(); });
}

void ManagedMode::Stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& l : links_) {
    {
      std::lock_guard<std::mutex> g(l->mu);
    }
    l->cv.notify_all();
  }
  for (auto& l : links_)
    if (l->thread.joinable()) l->thread.join();
  if (coordinator_.joinable()) coordinator_.join();
  for (auto& l : links_) l->rpc.reset();  // ends the connections and their callbacks
}

void ManagedMode::Wake() {
  {
    std::lock_guard<std::mutex> g(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

std::vector<ManagedNodeStatus> ManagedMode::NodeStatus() {
  std::vector<ManagedNodeStatus> out;
  for (auto& l : links_) {
    std::lock_guard<std::mutex> g(l->status_mu);
    out.push_back(l->status);
  }
  return out;
}

ManagedMode::Link* ManagedMode::Attached(const ChainID& chain) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = attached_.find(chain);
  return it == attached_.end() ? nullptr : it->second;
}

void ManagedMode::Warn(Link& link, const std::string& what, const Status& s) {
  log_(LogLevel::kWarn, link.Who() + ": " + what + ": " + s.ToString());
}

void ManagedMode::Push(Link& link, Json event) {
  {
    std::lock_guard<std::mutex> g(mu_);
    queue_.push_back(Queued{&link, ++link.seq, std::move(event)});
  }
  cv_.notify_all();
}

void ManagedMode::LinkLoop(Link& link) {
  auto backoff = kPollBackoff;
  auto stopping = [this] {
    std::lock_guard<std::mutex> g(mu_);
    return stopping_;
  };
  // Waits `d`, or less when stopping or (for a WebSocket) when the subscription ends.
  auto wait = [&](std::chrono::milliseconds d, bool until_sub_ends) {
    std::unique_lock<std::mutex> lock(link.mu);
    link.cv.wait_for(lock, d, [&] { return stopping() || (until_sub_ends && !link.subscription_live); });
  };
  auto detach = [&](const std::string& why, const Status& s) {
    if (auto chain = link.chain()) {
      std::lock_guard<std::mutex> g(mu_);
      if (attached_[*chain] == &link) attached_.erase(*chain);
    }
    link.Update([](ManagedNodeStatus& st) { st.attached = false; });
    if (!s.ok()) Warn(link, why, s);
    wait(backoff, false);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
  };
  while (!stopping()) {
    // Attach: which chain, then the event stream.
    auto id = link.Call("interop_chainID", Json::array());
    Result<ChainID> chain = id.ok() ? (id->is_string() ? ChainID::Parse(id->get<std::string>())
                                                      : Result<ChainID>(InvalidArgument("not a string")))
                                    : Result<ChainID>(id.status());
    if (!chain.ok()) {
      detach("interop_chainID", chain.status());
      continue;
    }
    if (!supervisor::ChainIndexOf(deps_, *chain)) {
      detach("attach", InvalidArgument("chain " + chain->Decimal() + " is not in the dependency set"));
      continue;
    }
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = attached_.find(*chain);
      if (it != attached_.end() && it->second != &link) {
        Warn(link, "attach", InvalidArgument("chain " + chain->Decimal() + " already has a managed node"));
      } else {
        attached_[*chain] = &link;
      }
    }
    if (Attached(*chain) != &link) {
      detach("attach", Status::Ok());
      continue;
    }
    link.Update([&](ManagedNodeStatus& st) { st.chain = *chain; });
    if (link.rpc->websocket()) {
      {
        std::lock_guard<std::mutex> g(link.mu);
        link.subscription_live = true;
      }
      auto end = [&link] {
        {
          std::lock_guard<std::mutex> g(link.mu);
          link.subscription_live = false;
        }
        link.cv.notify_all();
      };
      Status s = link.rpc->Subscribe("interop", Json::array({"events"}), [this, &link, end](const Json& item) {
        // {"data": EVENT} or {"data": null, "close": true}: the node ended the subscription.
        if (const Json* close = Member(item, "close"); close && close->is_boolean() && close->get<bool>()) return end();
        const Json* data = Member(item, "data");
        if (data && data->is_object()) Push(link, *data);
      }, end);
      if (!s.ok()) {
        end();
        detach("interop_subscribe", s);
        continue;
      }
    }
    link.Update([](ManagedNodeStatus& st) {
      st.attached = true;
      ++st.attaches;
      st.cross_unsafe = st.cross_safe = st.finalized = std::nullopt;  // a (re)attached node gets every head again
    });
    log_(LogLevel::kInfo, link.Who() + ": attached for chain " + chain->Decimal() +
                              (link.rpc->websocket() ? " (subscribed to its events)" : " (polling its events)"));
    backoff = kPollBackoff;
    Wake();  // the coordinator sends the heads the node has not got
    if (link.rpc->websocket()) {
      while (!stopping()) {
        wait(std::chrono::milliseconds(1000), true);
        std::lock_guard<std::mutex> g(link.mu);
        if (!link.subscription_live) break;
      }
      if (!stopping()) detach("events", IOError("the subscription ended"));
      continue;
    }
    // HTTP: poll.
    while (!stopping()) {
      auto reply = link.rpc->Exchange("interop_pullEvent", nullptr);
      if (!reply.ok()) {
        detach("interop_pullEvent", reply.status());
        break;
      }
      if (reply->error && reply->error->code == kOutOfEvents) {
        wait(kPollBackoff, false);
        continue;
      }
      if (reply->error) {
        detach("interop_pullEvent", IOError("error " + std::to_string(reply->error->code) + " " + reply->error->message));
        break;
      }
      if (reply->result.is_object()) Push(link, std::move(reply->result));
    }
  }
}

}  // namespace supersafe::daemon
