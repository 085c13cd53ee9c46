#include "daemon/upstream.h"

#include <httplib.h>

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
                                                             std::chrono::milliseconds timeout) {
  const std::string bad = name + " URL '" + url + "': ";
  constexpr std::string_view kScheme = "http://";
  if (url.rfind("https://", 0) == 0) return InvalidArgument(bad + "https is not supported; use http (or a local TLS proxy)");
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument(bad + "want http://host[:port][/path]");
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority;
  int port = 80;
  if (size_t colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    std::string digits = authority.substr(colon + 1);
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos)
      return InvalidArgument(bad + "port is not a number");
    port = std::stoi(digits);
    if (port < 1 || port > 65535) return InvalidArgument(bad + "port out of range");
  }
  if (host.empty() || host.find_first_of("@ ?#") != std::string::npos) return InvalidArgument(bad + "no valid host");
  std::unique_ptr<JsonRpcClient> c(new JsonRpcClient());
  c->http_ = std::make_unique<httplib::Client>(host, port);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  c->http_->set_connection_timeout(secs.count(), usecs.count());
  c->http_->set_read_timeout(secs.count(), usecs.count());
  c->http_->set_write_timeout(secs.count(), usecs.count());
  c->http_->set_keep_alive(true);
  c->http_->set_tcp_nodelay(true);
  c->path_ = path;
  c->name_ = name + " (" + url + ")";
  return c;
}

JsonRpcClient::~JsonRpcClient() = default;

Result<Json> JsonRpcClient::Call(const std::string& method, Json params) {
  std::lock_guard<std::mutex> g(mu_);
  const std::string who = name_ + " " + method;
  const uint64_t id = next_id_++;
  Json req{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  auto res = http_->Post(path_, req.dump(), "application/json");
  if (!res) return Upstream(who, "request failed: " + httplib::to_string(res.error()));
  if (res->status != 200) return Upstream(who, "HTTP status " + std::to_string(res->status));
  return ResultOfAnswer(res->body, id, who);
}

Result<Json> ResultOfAnswer(std::string_view body, uint64_t id, const std::string& who) {
  Json answer = Json::parse(body, nullptr, false);
  if (!answer.is_object()) return Upstream(who, "the answer is not a JSON object");
  if (auto e = answer.find("error"); e != answer.end() && !e->is_null()) {
    std::string message = e->is_object() && e->contains("message") && (*e)["message"].is_string()
                              ? (*e)["message"].get<std::string>()
                              : e->dump();
    return Upstream(who, "error " + message);
  }
  if (!answer.contains("result")) return Upstream(who, "the answer has no result");
  if (!answer.contains("id") || answer["id"] != id) return Upstream(who, "the answer's id does not match the request");
  return std::move(answer["result"]);
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
