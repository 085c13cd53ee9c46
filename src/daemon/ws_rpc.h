// JSON-RPC 2.0 over one WebSocket connection (Boost.Beast), ws:// or wss://, as geth and
// op-service serve it: requests and answers as text frames, server notifications (a message with
// `method` and no `id`, such as eth_subscription or interop_subscription) delivered to a callback.
//
// TLS (wss://) verifies the server's certificate against the system's trust store (OpenSSL's
// default paths; the SSL_CERT_FILE and SSL_CERT_DIR environment variables override them) and its
// host name, and sends the host name (SNI). With a JWT secret the upgrade request carries
// `Authorization: Bearer <HS256 token, iat = now>`, as the Engine API and op-node's interop RPC
// want it (only on the upgrade: the connection is authenticated from then on).
//
// Threads: each connection runs its own I/O thread; Call() may be made from any thread, many at
// once (answers are matched by id). Callbacks run on the I/O thread: they must not block or call
// Call() on the same connection. Once closed (by the peer, an error, a timeout or Close()) a
// connection stays closed; every waiting and later Call() fails with kIOError: dial a new one.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/jwt.h"
#include "daemon/transport.h"

namespace supersafe::daemon {

class WsRpc {
 public:
  struct Options {
    std::chrono::milliseconds timeout{10000};  // the dial (TCP, TLS, upgrade), and each call
    std::optional<JwtSecret> jwt;
    std::function<void(rpc::Json notification)> on_notification;
    // Once, when the connection ends: on the I/O thread, or in Close().
    std::function<void(const Status& why)> on_close;
    size_t max_message = 64 * 1024 * 1024;             // a bigger incoming message closes the connection
  };
  // kIOError naming `who` when the connection cannot be made in time (refused, TLS or upgrade
  // failed: an HTTP 401 answer to the upgrade says "401"); kInvalidArgument for a non-ws endpoint.
  static Result<std::unique_ptr<WsRpc>> Dial(const Endpoint& endpoint, const std::string& who, Options options);
  ~WsRpc();  // Close()

  // One call; the reply, or kIOError (closed, timeout, a malformed answer).
  Result<RpcReply> Call(const std::string& method, rpc::Json params);
  bool open() const;
  // Ends the connection (no close handshake) and joins the I/O thread. Idempotent; not from a callback.
  void Close();

  struct Impl;

 private:
  explicit WsRpc(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace supersafe::daemon
