#include "daemon/server.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <thread>

namespace supersafe::daemon {

namespace {

std::string PathLabel(const std::string& path) {
  if (path == "/" || path == "/healthz" || path == "/metrics") return path;
  return "other";
}

bool IsGet(const HttpRequest& r) { return r.method == "GET" || r.method == "HEAD"; }

HttpLimits LimitsOf(const ServerOptions& o, size_t io_threads) {
  HttpLimits l;
  l.max_body = o.max_body;
  l.io_timeout = o.io_timeout;
  l.request_deadline = o.request_deadline;
  l.keep_alive = o.keep_alive;
  l.io_threads = io_threads;
  return l;
}

size_t IoThreads(const ServerOptions& o) {
  if (o.io_threads > 0) return o.io_threads;
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

rpc::CallContext ContextOf(const HttpRequest& req, const std::optional<JwtSecret>& jwt) {
  rpc::CallContext ctx;
  if (!jwt) {
    ctx.admin_denied_why = "admin methods are disabled (no admin JWT secret configured)";
  } else if (!req.has_authorization) {
    ctx.admin_denied_why = "admin methods need an Authorization: Bearer <JWT> header";
  } else {
    constexpr std::string_view kBearer = "Bearer ";
    if (req.authorization.rfind(kBearer, 0) != 0) {
      ctx.admin_denied_why = "Authorization header is not a Bearer token";
    } else {
      Status v = VerifyJwt(std::string_view(req.authorization).substr(kBearer.size()), *jwt, std::chrono::system_clock::now());
      ctx.admin = v.ok();
      if (!v.ok()) ctx.admin_denied_why = v.message();
    }
  }
  return ctx;
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, supervisor::CoreGate& gate,
                                              rpc::Dispatcher& dispatcher) {
  std::unique_ptr<Server> s(new Server());
  s->options_ = options;
  s->gate_ = &gate;
  s->metrics_ = std::make_unique<Metrics>(options.version);
  s->workers_ = std::make_unique<boost::asio::thread_pool>(std::max<size_t>(1, options.workers));
  dispatcher.set_observer([m = s->metrics_.get()](const rpc::CallRecord& r) { m->RecordCall(r); });
  Server* self = s.get();
  SS_ASSIGN_OR_RETURN(
      s->http_, HttpListener::Start(
                    LimitsOf(options, IoThreads(options)), options.addr, options.port, "rpc",
                    [self, &dispatcher](HttpRequest req, HttpReply reply) {
                      self->Serve(dispatcher, std::move(req), std::move(reply));
                    },
                    [m = s->metrics_.get()](const std::string& path, unsigned status) {
                      m->RecordHttp(PathLabel(path), static_cast<int>(status));
                    }));
  s->port_ = s->http_->port();
  return s;
}

Result<std::unique_ptr<Server>> Server::StartConstant(const ServerOptions& options, std::string answer) {
  std::unique_ptr<Server> s(new Server());
  s->options_ = options;
  SS_ASSIGN_OR_RETURN(s->http_, HttpListener::Start(
                                    LimitsOf(options, IoThreads(options)), options.addr, options.port, "rpc",
                                    [answer = std::move(answer)](HttpRequest req, HttpReply reply) {
                                      if (req.method == "POST" && req.path == "/") {
                                        reply(HttpResponse{200, "application/json", answer});
                                      } else {
                                        reply(HttpResponse{404, "", ""});
                                      }
                                    },
                                    nullptr));
  s->port_ = s->http_->port();
  return s;
}

Server::~Server() { Stop(); }

void Server::Stop() {
  if (http_) http_->Stop();  // no new requests reach the workers after this
  if (workers_) {
    workers_->stop();
    workers_->join();
    workers_.reset();  // before the listener: a dropped call holds its connection
  }
  http_.reset();
}

std::string Server::RenderMetrics() { return metrics_->Render(gate_->snapshot()->heads); }

void Server::Run(rpc::Dispatcher& dispatcher, const rpc::Json& request, const rpc::CallContext& ctx,
                 const HttpReply& reply) {
  std::optional<std::string> body;
  try {
    body = dispatcher.Run(request, ctx);
  } catch (const std::exception&) {
    // Not expected (errors are values); the connection gets an answer and the thread lives on.
    return reply(HttpResponse{500, "", ""});
  }
  if (!body) return reply(HttpResponse{204, "", ""});
  reply(HttpResponse{200, "application/json", std::move(*body)});
}

void Server::Serve(rpc::Dispatcher& dispatcher, HttpRequest req, HttpReply reply) {
  if (req.method == "POST" && req.path == "/") {
    // A plain head read: answered from the snapshot's encoded answers, the body never parsed into a Json.
    if (std::optional<std::string> answer = dispatcher.TryHeadRead(req.body))
      return reply(HttpResponse{200, "application/json", std::move(*answer)});
    rpc::CallContext ctx = ContextOf(req, options_.jwt);
    rpc::Json request = rpc::Dispatcher::Parse(req.body);
    if (dispatcher.NeverWaits(request)) return Run(dispatcher, request, ctx, reply);
    boost::asio::post(*workers_, [&dispatcher, request = std::move(request), ctx = std::move(ctx),
                                  reply = std::move(reply)] { Run(dispatcher, request, ctx, reply); });
    return;
  }
  if (IsGet(req) && req.path == "/healthz") {
    const bool dead = !gate_->snapshot()->alive.ok();
    rpc::Json body{{"version", options_.version}};
    if (dead) body["error"] = "the core lost its state after a failed write; restart the daemon";
    return reply(HttpResponse{dead ? 503u : 200u, "application/json", body.dump() + "\n"});
  }
  if (IsGet(req) && req.path == "/metrics") return reply(HttpResponse{200, "text/plain; version=0.0.4", RenderMetrics()});
  reply(HttpResponse{404, "", ""});
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& addr, int port,
                                                            const ServerOptions& limits,
                                                            std::function<std::string()> render) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  SS_ASSIGN_OR_RETURN(m->http_, HttpListener::Start(
                                    LimitsOf(limits, 1), addr, port, "metrics",
                                    [render = std::move(render)](HttpRequest req, HttpReply reply) {
                                      if (!IsGet(req)) return reply(HttpResponse{404, "", ""});
                                      reply(HttpResponse{200, "text/plain; version=0.0.4", render()});
                                    },
                                    nullptr));
  m->port_ = m->http_->port();
  return m;
}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() {
  if (http_) http_->Stop();
}

}  // namespace supersafe::daemon
