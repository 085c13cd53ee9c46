// Helpers of the daemon tests. FakeNode: an in-process upstream node: an httplib server on an ephemeral port answering
// the eth_* calls the daemon makes, from the harness's FakeL1 or FakeChain. Mutate the chain only
// inside Locked(); `mode` makes the node misbehave.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "rpc/codec.h"
#include "tests/supervisor/harness.h"

namespace supersafe::testing {

// Bounded polling for a condition another thread brings about: true once `done` holds.
inline bool WaitUntil(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(20)) {
  for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

inline Hash FakeStateRoot(const Hash& block) { return HashOf("state/" + block.Hex()); }
inline Hash FakeStorageRoot(const Hash& block) { return HashOf("mp/" + block.Hex()); }

// The eth_* answers of a node over a FakeL1 or a FakeChain (the caller holds whatever lock guards it).
struct EthView {
  using Json = rpc::Json;
  FakeL1* l1_ = nullptr;
  FakeChain* l2_ = nullptr;
  std::optional<uint64_t> finalized_;

  Result<BlockRef> ByNumber(uint64_t n) { return l1_ ? l1_->BlockByNumber(n) : l2_->BlockByNumber(n); }
  uint64_t Head() { return l1_ ? l1_->head() : l2_->head().number; }
  std::optional<BlockRef> ByHash(const std::string& hex) {
    for (uint64_t n = 0; n <= Head(); ++n)
      if (ByNumber(n)->hash.Hex() == hex) return *ByNumber(n);
    return std::nullopt;
  }
  static Json Header(const BlockRef& b) {
    return Json{{"hash", b.hash.Hex()},
                {"number", HexU64(b.number)},
                {"parentHash", b.parent_hash.Hex()},
                {"timestamp", HexU64(b.timestamp)},
                {"stateRoot", FakeStateRoot(b.hash).Hex()},
                {"transactions", Json::array()}};
  }

  Json Answer(const std::string& method, const Json& params) {
    if (method == "eth_getBlockByNumber") {
      std::string tag = params[0];
      std::optional<uint64_t> n;
      if (tag == "latest") n = Head();
      else if (tag == "finalized") n = finalized_;
      else n = std::stoull(tag.substr(2), nullptr, 16);
      if (!n || *n > Head()) return nullptr;
      return Header(*ByNumber(*n));
    }
    if (method == "eth_getBlockByHash") {
      auto b = ByHash(params[0]);
      return b ? Header(*b) : Json(nullptr);
    }
    if (method == "eth_getBlockReceipts" && l2_) {
      auto b = ByHash(params[0]);
      if (!b) return nullptr;
      Json receipts = Json::array();
      auto logs = l2_->Logs(b->ID());
      uint64_t index = 0;
      // One receipt per log, so receipts with several logs are covered by an empty receipt too.
      receipts.push_back(Json{{"blockHash", b->hash.Hex()}, {"logs", Json::array()}});
      for (const Log& l : *logs) {
        Json topics = Json::array();
        for (const Hash& t : l.topics) topics.push_back(t.Hex());
        Json log{{"address", l.address.Hex()}, {"topics", topics}, {"data", ToHex(l.data)},
                 {"logIndex", HexU64(index++)}, {"blockHash", b->hash.Hex()}};
        receipts.push_back(Json{{"blockHash", b->hash.Hex()}, {"logs", Json::array({log})}});
      }
      return receipts;
    }
    if (method == "eth_getProof" && l2_) {
      auto b = ByHash(params[2]["blockHash"]);
      if (!b) return nullptr;
      return Json{{"storageHash", FakeStorageRoot(b->hash).Hex()}};
    }
    return nullptr;
  }

};

class FakeNode {
 public:
  enum class Mode { kNormal, kHttp500, kRpcError, kGarbage };

  explicit FakeNode(FakeL1* l1) : l1_(l1) { Serve(); }
  explicit FakeNode(FakeChain* l2) : l2_(l2) { Serve(); }
  ~FakeNode() { Shutdown(); }

  void Shutdown() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  void Locked(const std::function<void()>& f) {
    std::lock_guard<std::mutex> g(mu_);
    f();
  }
  void set_finalized(std::optional<uint64_t> n) { Locked([&] { finalized_ = n; }); }
  std::atomic<Mode> mode{Mode::kNormal};
  std::atomic<int> calls{0};
  // A slow node: each block or receipts request (not "latest") sleeps this long before it answers.
  std::atomic<int> delay_ms{0};

 private:
  using Json = rpc::Json;

  void Serve() {
    server_.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      ++calls;
      if (mode == Mode::kHttp500) {
        res.status = 500;
        return;
      }
      if (mode == Mode::kGarbage) {
        res.set_content("<html>", "text/html");
        return;
      }
      Json r = Json::parse(req.body);
      Json out{{"jsonrpc", "2.0"}, {"id", r["id"]}};
      const std::string method = r["method"].get<std::string>();
      const bool by_number = method == "eth_getBlockByNumber" && r["params"][0] != "latest";
      if (delay_ms > 0 && (by_number || method == "eth_getBlockReceipts"))
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
      if (mode == Mode::kRpcError) {
        out["error"] = {{"code", -32000}, {"message", "node is syncing"}};
      } else {
        std::lock_guard<std::mutex> g(mu_);
        out["result"] = EthView{l1_, l2_, finalized_}.Answer(r["method"].get<std::string>(), r["params"]);
      }
      res.set_content(out.dump(), "application/json");
    });
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_timeout(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();  // stop() before the loop runs would not stop it
  }

  FakeL1* l1_ = nullptr;
  FakeChain* l2_ = nullptr;
  std::optional<uint64_t> finalized_;
  std::mutex mu_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace supersafe::testing
