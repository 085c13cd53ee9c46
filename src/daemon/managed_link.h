// ManagedMode's internals shared by managed.cc and managed_coordinator.cc: the node links and the
// decoding of op-node's JSON (Go's encoding/json reads member names in any case).
#pragma once

#include <cctype>

#include "daemon/managed.h"

namespace supersafe::daemon {

using rpc::Json;

namespace managed_internal {

constexpr int64_t kMethodNotFound = -32601;

// Go's encoding/json matches member names ignoring case: the exact key first, then any case.
inline const Json* Member(const Json& obj, const std::string& name) {
  if (!obj.is_object()) return nullptr;
  if (auto it = obj.find(name); it != obj.end()) return &*it;
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const auto& [key, value] : obj.items())
    if (lower(key) == lower(name)) return &value;
  return nullptr;
}

inline Result<const Json*> Need(const Json& obj, const std::string& name, const std::string& path) {
  const Json* m = Member(obj, name);
  if (!m || m->is_null()) return InvalidArgument(path + "." + name + " missing");
  return m;
}

inline Result<BlockID> IdFrom(const Json& j, const std::string& path) {
  BlockID b;
  SS_ASSIGN_OR_RETURN(const Json* hash, Need(j, "hash", path));
  SS_ASSIGN_OR_RETURN(b.hash, rpc::DecodeHash(*hash, path + ".hash"));
  SS_ASSIGN_OR_RETURN(const Json* number, Need(j, "number", path));
  SS_ASSIGN_OR_RETURN(b.number, rpc::DecodeNumber(*number, path + ".number"));
  return b;
}

inline Result<BlockRef> RefFrom(const Json& j, const std::string& path) {
  BlockRef b;
  SS_ASSIGN_OR_RETURN(BlockID id, IdFrom(j, path));
  b.hash = id.hash;
  b.number = id.number;
  SS_ASSIGN_OR_RETURN(const Json* parent, Need(j, "parentHash", path));
  SS_ASSIGN_OR_RETURN(b.parent_hash, rpc::DecodeHash(*parent, path + ".parentHash"));
  SS_ASSIGN_OR_RETURN(const Json* time, Need(j, "timestamp", path));
  SS_ASSIGN_OR_RETURN(b.timestamp, rpc::DecodeNumber(*time, path + ".timestamp"));
  return b;
}

struct L2Ref {
  BlockRef ref;
  std::optional<BlockID> l1_origin;  // absent from interop_blockRefByNumber's BlockRef
};

}  // namespace managed_internal

// --- the links ---

struct ManagedMode::Link {
  using L2Ref = managed_internal::L2Ref;
  size_t index = 0;
  std::string url;
  std::unique_ptr<JsonRpcClient> rpc;
  std::thread thread;
  // Link thread and callbacks: whether the subscription (WebSocket) is live.
  std::mutex mu;
  std::condition_variable cv;
  bool subscription_live = false;
  uint64_t seq = 0;  // events pushed (under ManagedMode::mu_)

  // Coordinator only.
  std::optional<std::pair<BlockRef, BlockRef>> exhausted;  // the newest exhaustL1 (source, derived)
  bool exhausted_fed = false;                              // the core has taken it
  bool provided = false;                                   // provideL1 answered it
  std::optional<Hash> awaiting_replacement;                // invalidated, its replacement not yet seen
  uint64_t drop_through = 0;                               // events queued before a reset are stale

  std::mutex status_mu;
  ManagedNodeStatus status;  // under status_mu
  template <typename F>
  void Update(F f) {
    std::lock_guard<std::mutex> g(status_mu);
    f(status);
  }
  std::optional<ChainID> chain() {
    std::lock_guard<std::mutex> g(status_mu);
    return status.chain;
  }
  std::string Who() { return "managed node " + url; }

  // One call; kIOError naming the node for no answer or an error answer whose message lacks
  // "not found" (kNotFound then: a missing block, as op-node words it).
  Result<Json> Call(const std::string& method, Json params) {
    SS_ASSIGN_OR_RETURN(RpcReply reply, rpc->Exchange(method, std::move(params)));
    if (!reply.error) return std::move(reply.result);
    const std::string what = Who() + " " + method + ": error " + std::to_string(reply.error->code) + " " + reply.error->message;
    if (reply.error->message.find("not found") != std::string::npos) return NotFound(what);
    return IOError(what);
  }

  // The node's canonical block `n`: interop_l2BlockRefByNumber, or the older
  // interop_blockRefByNumber where the node lacks it (-32601).
  Result<L2Ref> BlockAt(uint64_t n) {
    SS_ASSIGN_OR_RETURN(RpcReply reply, rpc->Exchange("interop_l2BlockRefByNumber", Json::array({n})));
    if (reply.error && reply.error->code == managed_internal::kMethodNotFound) {
      SS_ASSIGN_OR_RETURN(reply, rpc->Exchange("interop_blockRefByNumber", Json::array({n})));
    }
    const std::string who = Who() + " block #" + std::to_string(n);
    if (reply.error) {
      if (reply.error->message.find("not found") != std::string::npos) return NotFound(who + ": " + reply.error->message);
      return IOError(who + ": error " + reply.error->message);
    }
    if (reply.result.is_null()) return NotFound(who + ": null");
    auto ref = managed_internal::RefFrom(reply.result, "block");
    if (!ref.ok()) return IOError(who + ": malformed answer: " + ref.status().message());
    if (ref->number != n) return IOError(who + ": answered block #" + std::to_string(ref->number));
    L2Ref out{*ref, std::nullopt};
    if (const Json* origin = managed_internal::Member(reply.result, "l1origin"); origin && !origin->is_null()) {
      auto id = managed_internal::IdFrom(*origin, "block.l1origin");
      if (!id.ok()) return IOError(who + ": malformed answer: " + id.status().message());
      out.l1_origin = *id;
    }
    return out;
  }
};

}  // namespace supersafe::daemon
