#include "daemon/upstream.h"

#include <httplib.h>

#include "daemon/ws_rpc.h"

#include "core/fp.h"

namespace supersafe::daemon {

using rpc::Json;

namespace {

const char* kMessagePasser = "0x4200000000000000000000000000000000000016";

Status Upstream(const std::string& who, const std::string& what) { return IOError(who + ": " + what); }

// Re-labels a decoder's kInvalidArgument as the upstream's fault.
template <typename T>
Result<T> FromUpstream(Result<T> r, const std::string& who) {
  if (r.ok()) return r;
  return Upstream(who, "malformed answer: " + r.status().message());
}

Result<const Json*> Field(const Json& j, const char* name, const std::string& who, const std::string& path) {
  if (!j.is_object() || !j.contains(name)) return Upstream(who, "malformed answer: " + path + "." + name + " missing");
  return &j[name];
}

}  // namespace

Result<std::unique_ptr<JsonRpcClient>> JsonRpcClient::Create(const std::string& name, const std::string& url,
                                                             Options options) {
  SS_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(name, url));
  std::unique_ptr<JsonRpcClient> c(new JsonRpcClient());
  c->endpoint_ = endpoint;
  c->options_ = options;
  c->name_ = name + " (" + url + ")";
  if (endpoint.websocket()) return c;
  // httplib's scheme-host-port form picks its TLS client for https (certificate and host name
  // verified by default).
  c->http_ = std::make_unique<httplib::Client>(endpoint.scheme + "://" + endpoint.authority());
  const auto timeout = options.timeout;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  c->http_->set_connection_timeout(secs.count(), usecs.count());
  c->http_->set_read_timeout(secs.count(), usecs.count());
  c->http_->set_write_timeout(secs.count(), usecs.count());
  c->http_->set_keep_alive(true);
  c->http_->set_tcp_nodelay(true);
  return c;
}

JsonRpcClient::~JsonRpcClient() {
  std::unique_ptr<WsRpc> ws;
  {
    std::lock_guard<std::mutex> g(mu_);
    ws = std::move(ws_);
  }
}

Result<WsRpc*> JsonRpcClient::Connection() {
  if (ws_ && ws_->open()) return ws_.get();
  ws_.reset();
  WsRpc::Options o;
  o.timeout = options_.timeout;
  o.jwt = options_.jwt;
  // Notifications go to the subscription of the moment; the connection never outlives this client.
  o.on_notification = [mu = subscription_mu_, this](rpc::Json m) {
    std::lock_guard<std::mutex> g(*mu);
    if (!subscription_) return;
    const Json* params = m.contains("params") ? &m["params"] : nullptr;
    if (!params || !params->is_object() || !params->contains("subscription") || !params->contains("result")) return;
    if ((*params)["subscription"] != subscription_->id) return;
    subscription_->on_item((*params)["result"]);
  };
  o.on_close = [this, mu = subscription_mu_](const Status&) {
    std::shared_ptr<Subscription> ended;
    {
      std::lock_guard<std::mutex> g(*mu);
      ended = std::move(subscription_);
    }
    if (ended && ended->on_end) ended->on_end();
  };
  SS_ASSIGN_OR_RETURN(ws_, WsRpc::Dial(endpoint_, name_, std::move(o)));
  return ws_.get();
}

Result<RpcReply> JsonRpcClient::Exchange(const std::string& method, Json params) {
  std::lock_guard<std::mutex> g(mu_);
  const std::string who = name_ + " " + method;
  if (endpoint_.websocket()) {
    SS_ASSIGN_OR_RETURN(WsRpc * ws, Connection());
    auto reply = ws->Call(method, std::move(params));
    if (!reply.ok()) return Upstream(who, reply.status().message());
    return reply;
  }
  const uint64_t id = next_id_++;
  Json req{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) req["params"] = std::move(params);  // none, as Go's client sends a call without arguments
  httplib::Headers headers;
  if (options_.jwt)
    headers.emplace("Authorization", "Bearer " + MakeJwt(*options_.jwt, std::chrono::duration_cast<std::chrono::seconds>(
                                                                            std::chrono::system_clock::now().time_since_epoch())
                                                                            .count()));
  auto res = http_->Post(endpoint_.path, headers, req.dump(), "application/json");
  if (!res) {
    std::string why = httplib::to_string(res.error());
    if (res.error() == httplib::Error::SSLServerVerification) why += " (the server's certificate is not trusted)";
    return Upstream(who, "request failed: " + why);
  }
  if (res->status != 200) return Upstream(who, "HTTP status " + std::to_string(res->status));
  return ReplyOf(Json::parse(res->body, nullptr, false), id, who);
}

Result<Json> JsonRpcClient::Call(const std::string& method, Json params) {
  SS_ASSIGN_OR_RETURN(RpcReply reply, Exchange(method, std::move(params)));
  if (reply.error) return Upstream(name_ + " " + method, "error " + reply.error->message);
  return std::move(reply.result);
}

Status JsonRpcClient::Subscribe(const std::string& ns, Json params, std::function<void(const Json&)> on_item,
                                std::function<void()> on_end) {
  if (!endpoint_.websocket()) return InvalidArgument(name_ + ": subscriptions need a ws:// or wss:// URL");
  std::lock_guard<std::mutex> g(mu_);
  const std::string who = name_ + " " + ns + "_subscribe";
  SS_ASSIGN_OR_RETURN(WsRpc * ws, Connection());
  auto reply = ws->Call(ns + "_subscribe", std::move(params));
  if (!reply.ok()) return Upstream(who, reply.status().message());
  if (reply->error) return Upstream(who, "error " + reply->error->message);
  if (!reply->result.is_string()) return Upstream(who, "the subscription id is not a string");
  std::lock_guard<std::mutex> s(*subscription_mu_);
  subscription_ = std::make_shared<Subscription>(
      Subscription{reply->result.get<std::string>(), std::move(on_item), std::move(on_end)});
  return Status::Ok();
}

bool JsonRpcClient::subscribed() const {
  std::lock_guard<std::mutex> g(mu_);
  std::lock_guard<std::mutex> s(*subscription_mu_);
  return subscription_ != nullptr && ws_ && ws_->open();
}

Result<Json> ResultOfAnswer(std::string_view body, uint64_t id, const std::string& who) {
  SS_ASSIGN_OR_RETURN(RpcReply reply, ReplyOf(Json::parse(body, nullptr, false), id, who));
  if (reply.error) return Upstream(who, "error " + reply.error->message);
  return std::move(reply.result);
}

Result<BlockRef> BlockRefFromEth(const Json& block, const std::string& who) {
  BlockRef b;
  SS_ASSIGN_OR_RETURN(const Json* hash, Field(block, "hash", who, "block"));
  SS_ASSIGN_OR_RETURN(b.hash, FromUpstream(rpc::DecodeHash(*hash, "block.hash"), who));
  SS_ASSIGN_OR_RETURN(const Json* number, Field(block, "number", who, "block"));
  SS_ASSIGN_OR_RETURN(b.number, FromUpstream(rpc::DecodeHexU64(*number, "block.number"), who));
  SS_ASSIGN_OR_RETURN(const Json* parent, Field(block, "parentHash", who, "block"));
  SS_ASSIGN_OR_RETURN(b.parent_hash, FromUpstream(rpc::DecodeHash(*parent, "block.parentHash"), who));
  SS_ASSIGN_OR_RETURN(const Json* time, Field(block, "timestamp", who, "block"));
  SS_ASSIGN_OR_RETURN(b.timestamp, FromUpstream(rpc::DecodeHexU64(*time, "block.timestamp"), who));
  return b;
}

namespace {

Result<BlockRef> BlockAt(JsonRpcClient& rpc, const Json& tag, std::optional<uint64_t> number) {
  SS_ASSIGN_OR_RETURN(Json block, rpc.Call("eth_getBlockByNumber", Json::array({tag, false})));
  const std::string who = rpc.name() + " eth_getBlockByNumber(" + tag.get<std::string>() + ")";
  if (block.is_null()) return NotFound(who + ": no such block");
  SS_ASSIGN_OR_RETURN(BlockRef b, BlockRefFromEth(block, who));
  if (number && b.number != *number) return Upstream(who, "answered block #" + std::to_string(b.number));
  return b;
}

}  // namespace

Result<BlockRef> L1Client::BlockByNumber(uint64_t number) { return BlockAt(*rpc_, HexU64(number), number); }

Result<std::optional<BlockRef>> L1Client::Finalized() {
  auto b = BlockAt(*rpc_, "finalized", std::nullopt);
  if (!b.ok() && b.status().code() == Code::kNotFound) return std::optional<BlockRef>();
  if (!b.ok()) return b.status();
  return std::optional<BlockRef>(*b);
}

Result<BlockRef> L2Client::BlockByNumber(uint64_t number) { return BlockAt(*rpc_, HexU64(number), number); }
Result<BlockRef> L2Client::Latest() { return BlockAt(*rpc_, "latest", std::nullopt); }

Result<std::vector<Log>> LogsFromReceipts(const Json& receipts, const BlockID& block, const std::string& who) {
  if (receipts.is_null()) return NotFound(who + ": no such block");
  if (!receipts.is_array()) return Upstream(who, "malformed answer: want an array of receipts");
  std::vector<Log> logs;
  for (size_t r = 0; r < receipts.size(); ++r) {
    const std::string at = "receipts[" + std::to_string(r) + "]";
    SS_ASSIGN_OR_RETURN(const Json* block_hash, Field(receipts[r], "blockHash", who, at));
    SS_ASSIGN_OR_RETURN(Hash h, FromUpstream(rpc::DecodeHash(*block_hash, at + ".blockHash"), who));
    if (h != block.hash) return NotFound(who + ": the node now has another block at that height");
    SS_ASSIGN_OR_RETURN(const Json* list, Field(receipts[r], "logs", who, at));
    if (!list->is_array()) return Upstream(who, "malformed answer: " + at + ".logs is not an array");
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& l = (*list)[i];
      const std::string lat = at + ".logs[" + std::to_string(i) + "]";
      Log log;
      SS_ASSIGN_OR_RETURN(const Json* address, Field(l, "address", who, lat));
      SS_ASSIGN_OR_RETURN(log.address, FromUpstream(rpc::DecodeAddress(*address, lat + ".address"), who));
      SS_ASSIGN_OR_RETURN(const Json* topics, Field(l, "topics", who, lat));
      SS_ASSIGN_OR_RETURN(log.topics, FromUpstream(rpc::DecodeHashList(*topics, lat + ".topics"), who));
      SS_ASSIGN_OR_RETURN(const Json* data, Field(l, "data", who, lat));
      if (!data->is_string()) return Upstream(who, "malformed answer: " + lat + ".data is not a string");
      SS_ASSIGN_OR_RETURN(log.data, FromUpstream(ParseHexBytes(data->get<std::string>(), lat + ".data"), who));
      SS_ASSIGN_OR_RETURN(const Json* index, Field(l, "logIndex", who, lat));
      SS_ASSIGN_OR_RETURN(uint64_t log_index, FromUpstream(rpc::DecodeHexU64(*index, lat + ".logIndex"), who));
      if (log_index != logs.size())
        return Upstream(who, lat + ".logIndex is " + std::to_string(log_index) + ", want " + std::to_string(logs.size()));
      logs.push_back(std::move(log));
    }
  }
  return logs;
}

Result<std::vector<Log>> L2Client::Logs(const BlockID& block) {
  SS_ASSIGN_OR_RETURN(Json receipts, rpc_->Call("eth_getBlockReceipts", Json::array({block.hash.Hex()})));
  return LogsFromReceipts(receipts, block, rpc_->name() + " eth_getBlockReceipts(" + block.ToString() + ")");
}

Result<Bytes> L2Client::OutputPreimage(const BlockID& block) {
  SS_ASSIGN_OR_RETURN(Json header, rpc_->Call("eth_getBlockByHash", Json::array({block.hash.Hex(), false})));
  const std::string who = rpc_->name() + " output of " + block.ToString();
  if (header.is_null()) return NotFound(who + ": no such block");
  SS_ASSIGN_OR_RETURN(BlockRef answered, BlockRefFromEth(header, who));
  if (!(answered.ID() == block)) return Upstream(who, "eth_getBlockByHash answered block " + answered.ID().ToString());
  SS_ASSIGN_OR_RETURN(const Json* state, Field(header, "stateRoot", who, "block"));
  SS_ASSIGN_OR_RETURN(Hash state_root, FromUpstream(rpc::DecodeHash(*state, "block.stateRoot"), who));
  Json at{{"blockHash", block.hash.Hex()}};
  SS_ASSIGN_OR_RETURN(Json proof, rpc_->Call("eth_getProof", Json::array({kMessagePasser, Json::array(), at})));
  SS_ASSIGN_OR_RETURN(const Json* storage, Field(proof, "storageHash", who, "proof"));
  SS_ASSIGN_OR_RETURN(Hash storage_root, FromUpstream(rpc::DecodeHash(*storage, "proof.storageHash"), who));
  return OutputV0Preimage(state_root, storage_root, block.hash);
}

}  // namespace supersafe::daemon
