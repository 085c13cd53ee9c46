// The HTTP front of the daemon: POST / carries JSON-RPC (rpc::Dispatcher), GET /healthz answers
// op-service's JSON {"version": "..."} with 200 while the core is usable (503, with an "error"
// member, once a write failed), GET /metrics the Prometheus text (daemon/metrics.h); anything
// else is 404. MetricsServer is the separate metrics endpoint (--metrics.enabled).
//
// Limits (daemon/http_listener.h): a body over `max_body` bytes, as sent, chunked or as
// decompressed, is refused with HTTP 413 before it is parsed; batches are capped by the
// dispatcher; a client that sends or reads slower than `io_timeout` between bytes, or takes longer
// than `request_deadline` over one request, is disconnected. Admin calls need `Authorization:
// Bearer <JWT>` (daemon/jwt.h) when a secret is configured; without a secret they are refused. A
// missing or bad token only refuses the admin calls of the request (JSON-RPC error -32001 naming
// why); other calls run as usual.
//
// Threads: `io_threads` threads accept, read and write every connection asynchronously
// (Boost.Beast). A request whose calls never wait (rpc::Dispatcher::NeverWaits: head reads from
// the gate's snapshot, checkAccessList and checkMessage under its shared lock), /healthz and
// /metrics are answered on the io thread that read it; any other request runs on one of `workers`
// threads, which may wait for upstream nodes and the core's exclusive lock, and its answer is
// posted back to the connection (a body that is one plain head read, rpc::Dispatcher::TryHeadRead,
// is answered from the snapshot's encoded answers before any parse). So no read waits behind a
// write's upstream fetches, and an idle keep-alive connection holds no thread. Start() binds
// before returning, so a port in use is an error of Start().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "daemon/http_listener.h"
#include "daemon/jwt.h"
#include "daemon/metrics.h"
#include "rpc/dispatcher.h"
#include "supervisor/prefetch.h"
#include "supervisor/supervisor.h"

namespace boost::asio {
class thread_pool;
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
  std::chrono::seconds keep_alive{2};  // idle keep-alive connections close after this
  // Threads serving the connections; 0: one per core.
  size_t io_threads = 0;
  // Threads running the calls that may wait on upstream nodes or the core's exclusive lock (writes,
  // crossDerivedToSource, superRootAtTimestamp, admin_rewind, ...): at most this many such requests
  // run at once, the others queue. Writes take the exclusive lock one at a time anyway.
  size_t workers = 16;
  std::optional<JwtSecret> jwt;
  std::string version;  // /healthz and op_supervisor_default_info
};

class Server {
 public:
  // Binds addr:port and serves on io threads and workers; sets the dispatcher's observer to this
  // server's metrics. `gate` and `dispatcher` must outlive the server. Errors: kInvalidArgument
  // when the address cannot be bound (in use, not local, malformed), naming it.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, supervisor::CoreGate& gate,
                                               rpc::Dispatcher& dispatcher);
  // The load benchmark's yardstick: the same HTTP server and options, reading every POST body as
  // Start's server does and answering it with `answer` (no core, no metrics, no other path).
  static Result<std::unique_ptr<Server>> StartConstant(const ServerOptions& options, std::string answer);
  ~Server();  // Stop()

  int port() const { return port_; }
  // Stops accepting, closes idle connections, lets in-flight requests finish (for at most
  // min(request_deadline, 5 s), then drops their answers), joins the io threads, then waits for
  // the calls already running on the workers (queued ones are dropped). Idempotent.
  void Stop();
  Metrics& metrics() { return *metrics_; }
  // The Prometheus text, with every chain's heads from the gate's latest snapshot.
  std::string RenderMetrics();

 private:
  Server() = default;
  void Serve(rpc::Dispatcher& dispatcher, HttpRequest request, HttpReply reply);
  // Runs `request` and replies (204 for notifications only, 500 if the dispatcher threw).
  static void Run(rpc::Dispatcher& dispatcher, const rpc::Json& request, const rpc::CallContext& ctx,
                  const HttpReply& reply);

  ServerOptions options_;
  supervisor::CoreGate* gate_ = nullptr;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<boost::asio::thread_pool> workers_;
  std::unique_ptr<HttpListener> http_;
  int port_ = 0;
};

// op-service's metrics server: GET on any path answers `render()` as Prometheus text; nothing
// else is served (404). Same limits as Server (`limits`: max_body, io_timeout, request_deadline,
// keep_alive), on one io thread. kInvalidArgument naming the address when it cannot be bound.
class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& addr, int port, const ServerOptions& limits,
                                                      std::function<std::string()> render);
  ~MetricsServer();  // Stop()
  int port() const { return port_; }
  void Stop();

 private:
  MetricsServer() = default;
  std::unique_ptr<HttpListener> http_;
  int port_ = 0;
};

}  // namespace supersafe::daemon
