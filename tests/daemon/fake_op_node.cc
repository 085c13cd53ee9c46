#include "tests/daemon/fake_op_node.h"

#include <algorithm>
#include <cctype>

#include "core/fp.h"

namespace supersafe::testing {

using rpc::Json;

namespace {

struct GoParamError {
  std::string message;
};

daemon::RpcReply Error(int64_t code, std::string message, Json data = nullptr) {
  return daemon::RpcReply{nullptr, daemon::RpcError{code, std::move(message), std::move(data)}};
}
daemon::RpcReply Ok(Json result) { return daemon::RpcReply{std::move(result), std::nullopt}; }

// Go's encoding/json into a struct field: the exact name, else any case.
const Json* GoMember(const Json& obj, const std::string& name) {
  if (!obj.is_object()) throw GoParamError{"want an object"};
  if (auto it = obj.find(name); it != obj.end()) return &*it;
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const auto& [k, v] : obj.items())
    if (lower(k) == lower(name)) return &v;
  return nullptr;
}
uint64_t GoU64(const Json* j) {
  if (!j || j->is_null()) return 0;
  if (!j->is_number_unsigned()) throw GoParamError{"json: cannot unmarshal " + std::string(j->type_name()) + " into Go value of type uint64"};
  return j->get<uint64_t>();
}
Hash GoHash(const Json* j) {
  if (!j || j->is_null()) return Hash();
  auto h = j->is_string() ? Hash::Parse(j->get<std::string>()) : Result<Hash>(InvalidArgument("not a string"));
  if (!h.ok()) throw GoParamError{"hex string of 32 bytes wanted"};
  return *h;
}
BlockID GoBlockID(const Json& j) { return BlockID{GoHash(GoMember(j, "hash")), GoU64(GoMember(j, "number"))}; }
BlockRef GoBlockRef(const Json& j) {
  return BlockRef{GoHash(GoMember(j, "hash")), GoU64(GoMember(j, "number")), GoHash(GoMember(j, "parentHash")),
                  GoU64(GoMember(j, "timestamp"))};
}
// geth's positional params: exactly `n` of them ("params" absent or null counts as none).
const Json& Params(const Json& p, size_t n) {
  static const Json kNone = Json::array();
  const Json& a = p.is_null() ? kNone : p;
  if (!a.is_array() || a.size() != n)
    throw GoParamError{"missing value for required argument " + std::to_string(a.is_array() ? a.size() : 0)};
  return a;
}
Json Ref(const BlockRef& b) {
  return Json{{"hash", b.hash.Hex()}, {"number", b.number}, {"parentHash", b.parent_hash.Hex()}, {"timestamp", b.timestamp}};
}
Json Id(const BlockID& b) { return Json{{"hash", b.hash.Hex()}, {"number", b.number}}; }

}  // namespace

FakeOpNode::FakeOpNode(const ChainConfig& cfg, FakeL1* l1, FakeNode* l1_node, daemon::JwtSecret secret)
    : cfg_(cfg), l1_(l1), l1_node_(l1_node), chain_(cfg) {
  l1_node_->Locked([&] { l1_current_ = l1_->at(0); });
  origin_[0] = l1_current_.ID();
  cross_unsafe_ = cross_safe_ = finalized_ = cfg.genesis.ID();
  TestRpcServer::Options o;
  o.jwt = secret;
  server_ = std::make_unique<TestRpcServer>(o, [this](const std::string& m, const Json& p, uint64_t conn, bool ws) {
    std::lock_guard<std::mutex> g(mu_);
    calls_.push_back(Call{m, p});
    try {
      return Handle(m, p, conn, ws);
    } catch (const GoParamError& e) {
      return Error(-32602, "invalid argument: " + e.message);
    }
  });
  server_->set_on_ws_close([this](uint64_t conn) {
    std::lock_guard<std::mutex> g(mu_);
    if (subscription_ && subscription_->first == conn) subscription_.reset();
  });
  repeater_ = std::thread([this] { Repeat(); });
}

FakeOpNode::~FakeOpNode() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  repeater_.join();
  server_->Stop();
}

void FakeOpNode::Repeat() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(50));
    if (!stopping_ && waiting_for_l1_) EmitExhausted();
  }
}

void FakeOpNode::Emit(Json event) {
  if (subscription_) {
    server_->Notify(subscription_->first, Json{{"jsonrpc", "2.0"},
                                               {"method", "interop_subscription"},
                                               {"params", {{"subscription", subscription_->second}, {"result", {{"data", event}}}}}});
    return;
  }
  queue_.push_back(std::move(event));
  if (queue_.size() > 100) queue_.pop_front();
}

void FakeOpNode::EmitExhausted() {
  Emit(Json{{"exhaustL1", {{"source", Ref(l1_current_)}, {"derived", Ref(chain_.block(local_safe_))}}}});
}

Json FakeOpNode::L2Ref(uint64_t n) const {
  Json j = Ref(chain_.block(n));
  j["l1origin"] = Id(origin_.at(n));
  j["sequenceNumber"] = 0;
  return j;
}

BlockRef FakeOpNode::BuildUnsafe(std::vector<Log> logs, const BlockID& origin) {
  std::lock_guard<std::mutex> g(mu_);
  const BlockRef& b = chain_.Build(std::move(logs));
  origin_[b.number] = origin;
  Emit(Json{{"unsafeBlock", Ref(b)}});
  return b;
}

void FakeOpNode::Batch(uint64_t n, uint64_t l1) {
  std::lock_guard<std::mutex> g(mu_);
  batched_in_[n] = l1;
}

void FakeOpNode::SetDown(bool down) {
  server_->down = down;
  if (down) server_->DropConnections();
}

FakeOpNode::Heads FakeOpNode::heads() {
  std::lock_guard<std::mutex> g(mu_);
  return Heads{chain_.head(), chain_.block(local_safe_).ID(), cross_unsafe_, cross_safe_, finalized_, l1_current_};
}

BlockRef FakeOpNode::block(uint64_t n) {
  std::lock_guard<std::mutex> g(mu_);
  return chain_.block(n);
}

Bytes FakeOpNode::OutputPreimageOf(const BlockID& b) const {
  return OutputV0Preimage(FakeStateRoot(b.hash), FakeStorageRoot(b.hash), b.hash);
}

std::vector<FakeOpNode::Call> FakeOpNode::calls(const std::string& method) {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<Call> out;
  for (const Call& c : calls_)
    if (c.method == method) out.push_back(c);
  return out;
}

void FakeOpNode::DeriveFrom(const BlockRef& l1) {
  l1_current_ = l1;
  waiting_for_l1_ = false;
  // The L1 traversal, then every block batched in this L1 block, then "exhausted".
  Emit(Json{{"derivationUpdate", {{"source", Ref(l1)}, {"derived", Ref(chain_.block(local_safe_))}}},
            {"derivationOriginUpdate", Ref(l1)}});
  while (local_safe_ + 1 <= chain_.head().number && batched_in_.count(local_safe_ + 1) &&
         batched_in_.at(local_safe_ + 1) == l1.number) {
    ++local_safe_;
    Emit(Json{{"derivationUpdate", {{"source", Ref(l1)}, {"derived", Ref(chain_.block(local_safe_))}}}});
  }
  EmitExhausted();
  waiting_for_l1_ = true;
}

daemon::RpcReply FakeOpNode::Handle(const std::string& method, const Json& params, uint64_t conn, bool ws) {
  auto by_hash = [&](const Hash& h) -> std::optional<uint64_t> {
    for (uint64_t n = 0; n <= chain_.head().number; ++n)
      if (chain_.block(n).hash == h) return n;
    return std::nullopt;
  };
  if (method == "interop_chainID") return Ok(cfg_.id.Decimal());
  if (method == "interop_subscribe") {
    const Json& p = Params(params, 1);
    if (!ws) return Error(-32601, "notifications not supported");
    if (p[0] != "events") return Error(-32601, "no \"" + p[0].dump() + "\" subscription in interop namespace");
    if (subscription_) {
      server_->Notify(subscription_->first, Json{{"jsonrpc", "2.0"}, {"method", "interop_subscription"},
                                                 {"params", {{"subscription", subscription_->second},
                                                             {"result", {{"data", nullptr}, {"close", true}}}}}});
    }
    queue_.clear();
    std::string id = "0x" + std::to_string(next_sub_++) + "f";
    subscription_ = std::make_pair(conn, id);
    return Ok(id);
  }
  if (method == "interop_pullEvent") {
    Params(params, 0);
    if (subscription_) {
      server_->Notify(subscription_->first, Json{{"jsonrpc", "2.0"}, {"method", "interop_subscription"},
                                                 {"params", {{"subscription", subscription_->second},
                                                             {"result", {{"data", nullptr}, {"close", true}}}}}});
      subscription_.reset();
    }
    if (queue_.empty()) return Error(-39001, "out of events");
    Json e = std::move(queue_.front());
    queue_.pop_front();
    return Ok(std::move(e));
  }
  if (method == "interop_l2BlockRefByNumber") {
    const uint64_t n = GoU64(&Params(params, 1)[0]);
    if (n > chain_.head().number) return Error(-32000, "block not found");
    return Ok(L2Ref(n));
  }
  if (method == "interop_fetchReceipts") {
    auto n = by_hash(GoHash(&Params(params, 1)[0]));
    if (!n) return Error(-32000, "block not found");
    const BlockRef& b = chain_.block(*n);
    Json receipts = Json::array();
    uint64_t index = 0;
    const std::vector<Log> logs = chain_.Logs(b.ID()).value();
    for (const Log& l : logs) {
      Json topics = Json::array();
      for (const Hash& t : l.topics) topics.push_back(t.Hex());
      Json log{{"address", l.address.Hex()}, {"topics", topics}, {"data", ToHex(l.data)}, {"blockNumber", HexU64(b.number)},
               {"blockHash", b.hash.Hex()}, {"logIndex", HexU64(index++)}, {"removed", false}};
      receipts.push_back(Json{{"type", "0x2"}, {"status", "0x1"}, {"blockHash", b.hash.Hex()},
                              {"blockNumber", HexU64(b.number)}, {"logs", Json::array({log})}});
    }
    return Ok(receipts);
  }
  if (method == "interop_outputV0AtTimestamp" || method == "interop_pendingOutputV0AtTimestamp" ||
      method == "interop_l2BlockRefByTimestamp") {
    const uint64_t ts = GoU64(&Params(params, 1)[0]);
    if (ts < cfg_.genesis.timestamp) return Error(-32000, "timestamp before genesis");
    const uint64_t n = cfg_.genesis.number + (ts - cfg_.genesis.timestamp) / cfg_.block_time;
    if (n > chain_.head().number) return Error(-32000, "block not found");
    if (method == "interop_l2BlockRefByTimestamp") return Ok(L2Ref(n));
    BlockID b = chain_.block(n).ID();
    if (method == "interop_pendingOutputV0AtTimestamp")
      if (auto it = invalidated_.find(b.hash); it != invalidated_.end()) b = it->second.ID();
    return Ok(Json{{"StateRoot", FakeStateRoot(b.hash).Hex()}, {"MessagePasserStorageRoot", FakeStorageRoot(b.hash).Hex()},
                   {"BlockHash", b.hash.Hex()}});
  }
  if (method == "interop_updateCrossUnsafe" || method == "interop_updateFinalized") {
    const BlockID id = GoBlockID(Params(params, 1)[0]);
    if (!by_hash(id.hash)) return Error(-32000, "failed to get L2BlockRef: not found");
    (method == "interop_updateCrossUnsafe" ? cross_unsafe_ : finalized_) = id;
    return Ok(nullptr);
  }
  if (method == "interop_updateCrossSafe") {
    const Json& p = Params(params, 2);
    const BlockID derived = GoBlockID(p[0]), source = GoBlockID(p[1]);
    if (!by_hash(derived.hash)) return Error(-32000, "failed to get L2BlockRef: not found");
    bool l1_known = false;
    l1_node_->Locked([&] { l1_known = source.number <= l1_->head() && l1_->at(source.number).hash == source.hash; });
    if (!l1_known) return Error(-32000, "failed to get L1BlockRef: not found");
    cross_safe_ = derived;
    return Ok(nullptr);
  }
  if (method == "interop_invalidateBlock") {
    const Json& seal = Params(params, 1)[0];
    const Hash h = GoHash(GoMember(seal, "Hash"));
    auto n = by_hash(h);
    if (!n) return Error(-32000, "failed to get block: not found");
    const BlockRef old = chain_.block(*n);
    const BlockID origin = origin_.at(*n);
    const BlockRef& repl = chain_.ReplaceWithDepositOnly(*n);
    origin_[*n] = origin;
    invalidated_[repl.hash] = old;
    local_safe_ = *n;
    cross_unsafe_ = cross_safe_ = repl.ID();
    Emit(Json{{"replaceBlock", {{"replacement", Ref(repl)}, {"invalidated", old.hash.Hex()}}}});
    return Ok(nullptr);
  }
  if (method == "interop_provideL1") {
    const BlockRef next = GoBlockRef(Params(params, 1)[0]);
    if (next.number != l1_current_.number + 1) return Ok(nullptr);  // not the one it needs: ignored
    if (next.parent_hash != l1_current_.hash) {
      Emit(Json{{"reset", "L1 block " + next.ID().ToString() + " does not build on " + l1_current_.ID().ToString()}});
      return Ok(nullptr);
    }
    DeriveFrom(next);
    return Ok(nullptr);
  }
  if (method == "interop_reset") {
    const Json& p = Params(params, 5);
    const char* names[5] = {"unsafe", "cross-unsafe", "safe", "cross-safe", "finalized"};
    BlockID ids[5];
    for (int i = 0; i < 5; ++i) {
      ids[i] = GoBlockID(p[i]);
      if (ids[i].number > chain_.head().number) return Error(-39001, std::string(names[i]) + " reset target not found");
      if (chain_.block(ids[i].number).hash != ids[i].hash) return Error(-39002, "conflicting block", L2Ref(ids[i].number));
    }
    chain_.CutTo(ids[0].number);
    cross_unsafe_ = ids[1];
    local_safe_ = ids[2].number;
    cross_safe_ = ids[3];
    finalized_ = ids[4];
    // Derivation restarts from the L1 block the local-safe head was derived from.
    const uint64_t l1n = local_safe_ == 0 ? 0 : batched_in_.at(local_safe_);
    l1_node_->Locked([&] { l1_current_ = l1_->at(l1n); });
    EmitExhausted();
    return Ok(nullptr);
  }
  if (method == "interop_resetPreInterop") {
    Params(params, 0);
    chain_.CutTo(0);
    local_safe_ = 0;
    cross_unsafe_ = cross_safe_ = finalized_ = cfg_.genesis.ID();
    l1_node_->Locked([&] { l1_current_ = l1_->at(0); });
    return Ok(nullptr);
  }
  if (method == "interop_anchorPoint") {
    Json source;
    l1_node_->Locked([&] { source = Ref(l1_->at(0)); });
    return Ok(Json{{"source", source}, {"derived", Ref(chain_.block(0))}});
  }
  return Error(-32601, "the method " + method + " does not exist/is not available");
}

}  // namespace supersafe::testing
