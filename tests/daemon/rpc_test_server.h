// A JSON-RPC server for the daemon's tests, as geth and op-service serve one: HTTP POST on any
// path and WebSocket (an upgrade on any path) on the same port, plain or TLS, with or without
// Engine-API-style JWT auth (every HTTP request, and the WebSocket upgrade, need a valid
// `Authorization: Bearer` token, else HTTP 401 with a text body). Boost.Beast, one I/O thread.
//
// The handler answers each call (single or within a batch) on the I/O thread, so it must not
// block; it may call Notify() (the notification goes out after its answer).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/jwt.h"
#include "daemon/transport.h"
#include "rpc/codec.h"

namespace supersafe::testing {

class TestRpcServer {
 public:
  struct Options {
    std::optional<daemon::JwtSecret> jwt;
    std::string tls_cert_file, tls_key_file;  // both empty: plain TCP
  };
  using Reply = daemon::RpcReply;
  // `conn` names the connection (stable for a WebSocket's life; each HTTP request gets a new one).
  using Handler = std::function<Reply(const std::string& method, const rpc::Json& params, uint64_t conn, bool websocket)>;

  TestRpcServer(Options options, Handler handler);
  ~TestRpcServer();  // Stop()

  int port() const;
  std::string url(const std::string& scheme) const;  // "<scheme>://127.0.0.1:<port>"
  // Sends `message` on WebSocket connection `conn`, if it is still open.
  void Notify(uint64_t conn, rpc::Json message);
  // Closes every open connection (the listener stays): a node that went away and came back.
  void DropConnections();
  void Stop();
  // Called on the I/O thread when a WebSocket connection ends.
  void set_on_ws_close(std::function<void(uint64_t conn)> f);

  std::atomic<int> unauthorized{0};  // requests and upgrades refused with 401
  std::atomic<bool> down{false};     // every request and upgrade answered 503: a node that is away
  std::atomic<int> ws_upgrades{0};   // WebSocket connections accepted

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// A self-signed certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1) made with the openssl
// command into `dir`: {cert.pem, key.pem}. Empty strings when openssl failed.
std::pair<std::string, std::string> MakeSelfSignedCert(const std::string& dir);

}  // namespace supersafe::testing
