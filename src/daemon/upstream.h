// Clients of the daemon's upstream nodes over JSON-RPC, implementing the core's source interfaces
// (supervisor/supervisor.h). The daemon's gate calls them to fetch what a core call needs, never
// under the core's lock (supervisor/prefetch.h); each client serializes its own requests, so many
// threads may use one.
//
// Transports (JsonRpcClient): http:// and https:// (cpp-httplib, one keep-alive connection),
// ws:// and wss:// (daemon/ws_rpc.h; dialled at the first call and again after the connection
// drops). TLS verifies the server's certificate and name against the system's trust store
// (SSL_CERT_FILE / SSL_CERT_DIR override it). With a JWT secret every HTTP request, or each
// WebSocket upgrade, carries `Authorization: Bearer <HS256 token with iat = now>`, as an
// Engine-API-style authenticated endpoint wants.
//
// What is fetched when (docs/rpc.md, "Upstream"):
// - L1Client::BlockByNumber: eth_getBlockByNumber(n, false), whenever the core checks that a group's
//   L1 block is still canonical or reads an L1 block's hash and time.
// - L1Client::Finalized: eth_getBlockByNumber("finalized", false), by the poll loop.
// - L2Client::BlockByNumber / Latest: eth_getBlockByNumber, when the core indexes unsafe blocks
//   and by the poll loop.
// - L2Client::Logs: eth_getBlockReceipts(blockHash), each log checked to belong to that block.
// - L2Client::OutputPreimage: eth_getBlockByHash (stateRoot) and eth_getProof of the
//   L2ToL1MessagePasser at that block hash (storageHash).
//
// Errors: kNotFound only when the node answers that the block does not exist (null); anything else
// that went wrong (no connection, timeout, HTTP status, a JSON-RPC error, a malformed or
// inconsistent answer) is kIOError naming the upstream and the method, so the core never mistakes
// an unreachable node for a reorg.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/jwt.h"
#include "daemon/transport.h"
#include "rpc/codec.h"
#include "supervisor/supervisor.h"

namespace httplib {
class Client;
}

namespace supersafe::daemon {

class WsRpc;

class JsonRpcClient {
 public:
  struct Options {
    std::chrono::milliseconds timeout{10000};  // each request (and each dial)
    std::optional<JwtSecret> jwt;
  };
  // `url` is http(s)://host[:port][/path] or ws(s)://...; kInvalidArgument naming `name` otherwise.
  static Result<std::unique_ptr<JsonRpcClient>> Create(const std::string& name, const std::string& url, Options options);
  static Result<std::unique_ptr<JsonRpcClient>> Create(const std::string& name, const std::string& url,
                                                       std::chrono::milliseconds timeout) {
    return Create(name, url, Options{timeout, std::nullopt});
  }
  ~JsonRpcClient();
  // The `result` member of the answer (JSON null included); an error answer is kIOError naming
  // the upstream, the method and the server's message.
  Result<rpc::Json> Call(const std::string& method, rpc::Json params);
  // The answer as it came, error object included; kIOError only when no answer came.
  Result<RpcReply> Exchange(const std::string& method, rpc::Json params);
  // ws(s):// only: `<ns>_subscribe(params...)`; every notification of that subscription then
  // calls `on_item` with its `result` (on the connection's I/O thread: it must not block or call
  // this client). The subscription ends with the connection: `subscribed()` turns false and the
  // caller subscribes again; `on_end`, if given, is called then (on the I/O thread too).
  // kInvalidArgument for an http(s) upstream.
  Status Subscribe(const std::string& ns, rpc::Json params, std::function<void(const rpc::Json&)> on_item,
                   std::function<void()> on_end = {});
  bool subscribed() const;
  bool websocket() const { return endpoint_.websocket(); }
  const std::string& name() const { return name_; }

 private:
  JsonRpcClient() = default;
  Result<WsRpc*> Connection();  // the live WebSocket connection, dialled if needed; under mu_

  mutable std::mutex mu_;
  Endpoint endpoint_;
  Options options_;
  std::unique_ptr<httplib::Client> http_;
  std::unique_ptr<WsRpc> ws_;
  std::string name_;  // "--l1-rpc (http://...)", for messages
  uint64_t next_id_ = 1;
  // The current subscription (one per client): its id on the live connection, and its callback.
  struct Subscription {
    std::string id;
    std::function<void(const rpc::Json&)> on_item;
    std::function<void()> on_end;
  };
  std::shared_ptr<Subscription> subscription_;
  std::shared_ptr<std::mutex> subscription_mu_ = std::make_shared<std::mutex>();
};

// The decoding of upstream answers, apart from the transport (also fuzzed, fuzz/upstream_answer.cc).
// The `result` of a JSON-RPC answer body to request `id`; kIOError naming `who` for a body that is
// not a JSON object, an error answer, no result or another id.
Result<rpc::Json> ResultOfAnswer(std::string_view body, uint64_t id, const std::string& who);
// An eth block object's header fields; kIOError naming the field when malformed.
Result<BlockRef> BlockRefFromEth(const rpc::Json& block, const std::string& who);
// The logs of `block` from its eth_getBlockReceipts answer, in log-index order: kNotFound for null
// or a receipt of another block hash, kIOError naming the field for anything malformed.
Result<std::vector<Log>> LogsFromReceipts(const rpc::Json& receipts, const BlockID& block, const std::string& who);

class L1Client : public supervisor::L1Source {
 public:
  explicit L1Client(std::unique_ptr<JsonRpcClient> rpc) : rpc_(std::move(rpc)) {}
  JsonRpcClient& rpc() { return *rpc_; }
  Result<BlockRef> BlockByNumber(uint64_t number) override;
  // The node's finalized block; nullopt when it has none yet.
  Result<std::optional<BlockRef>> Finalized();

 private:
  std::unique_ptr<JsonRpcClient> rpc_;
};

class L2Client : public supervisor::ChainSource {
 public:
  explicit L2Client(std::unique_ptr<JsonRpcClient> rpc) : rpc_(std::move(rpc)) {}
  JsonRpcClient& rpc() { return *rpc_; }
  Result<BlockRef> BlockByNumber(uint64_t number) override;
  Result<std::vector<Log>> Logs(const BlockID& block) override;
  Result<Bytes> OutputPreimage(const BlockID& block) override;
  // The node's newest block.
  Result<BlockRef> Latest();

 private:
  std::unique_ptr<JsonRpcClient> rpc_;
};

}  // namespace supersafe::daemon
