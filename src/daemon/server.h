// The HTTP front of the daemon (cpp-httplib): POST / carries JSON-RPC (rpc::Dispatcher), GET
// /healthz answers op-service's JSON {"version": "..."} with 200 while the core is usable (503,
// with an "error" member, once a write failed), GET /metrics the Prometheus text
// (daemon/metrics.h). MetricsServer is the separate metrics endpoint (--metrics.enabled).
//
// Limits: a body over `max_body` bytes, as sent or as decompressed, is refused with HTTP 413
// before it is parsed; batches are capped by the dispatcher; a client that sends or reads slower
// than `io_timeout` between bytes is disconnected. Admin calls need `Authorization: Bearer <JWT>` (daemon/jwt.h) when a secret is
// configured; without a secret they are refused. A missing or bad token only refuses the admin
// calls of the request (JSON-RPC error -32001 naming why); other calls run as usual.
//
// Threads: httplib serves each connection on a worker of its pool; the dispatcher goes through the
// core's gate; /metrics and /healthz read the gate's latest snapshot (no lock). Start() binds
// before returning, so a port in use is an error of Start().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/status.h"
#include "daemon/jwt.h"
#include "daemon/metrics.h"
#include "rpc/dispatcher.h"
#include "supervisor/prefetch.h"
#include "supervisor/supervisor.h"

namespace httplib {
class Server;
}

namespace supersafe::daemon {

struct ServerOptions {
  std::string addr = "127.0.0.1";
  int port = 8545;  // 0: any free port (see Server::port())
  size_t max_body = 5 * 1024 * 1024;
  std::chrono::seconds io_timeout{10};
  // Reading one request, headers and body, takes at most this long, however the client paces its
  // bytes (io_timeout alone restarts with every byte): slow clients are cut off.
  std::chrono::milliseconds request_deadline{30000};
  std::chrono::seconds keep_alive{2};  // idle keep-alive connections close after this; bounds Stop()
  // Connections served at once: each open connection holds a worker thread until it closes (up to
  // keep_alive idle between requests), so a connection beyond this many waits for one to close.
  // cpp-httplib's default was max(8, cores - 1), which made the 9th keep-alive client wait for
  // seconds (issue "Scale and load"); an idle worker costs a blocked thread and its stack.
  size_t workers = 256;
  std::optional<JwtSecret> jwt;
  std::string version;  // /healthz and op_supervisor_default_info
};

class Server {
 public:
  // Binds addr:port and serves on a background thread; sets the dispatcher's observer to this
  // server's metrics. `gate` and `dispatcher` must outlive the server. Errors: kInvalidArgument
  // when the address cannot be bound (in use, not local, malformed), naming it.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, supervisor::CoreGate& gate,
                                               rpc::Dispatcher& dispatcher);
  // The load benchmark's yardstick: the same HTTP server and options, reading every POST body as
  // Start's server does and answering it with `answer` (no core, no metrics, no other path).
  static Result<std::unique_ptr<Server>> StartConstant(const ServerOptions& options, std::string answer);
  ~Server();  // Stop()

  int port() const { return port_; }
  // Stops accepting, lets in-flight requests finish, joins the serving thread. Idempotent.
  void Stop();
  Metrics& metrics() { return *metrics_; }
  // The Prometheus text, with every chain's heads from the gate's latest snapshot.
  std::string RenderMetrics();

 private:
  Server() = default;
  void Install(rpc::Dispatcher& dispatcher);

  ServerOptions options_;
  supervisor::CoreGate* gate_ = nullptr;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
  std::unique_ptr<Metrics> metrics_;
};

// op-service's metrics server: GET on any path answers `render()` as Prometheus text; nothing
// else is served. Same slow-client limits as Server (`limits`: io_timeout, request_deadline,
// keep_alive). kInvalidArgument naming the address when it cannot be bound.
class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& addr, int port, const ServerOptions& limits,
                                                      std::function<std::string()> render);
  ~MetricsServer();  // Stop()
  int port() const { return port_; }
  void Stop();

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace supersafe::daemon
