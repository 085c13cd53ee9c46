#include "daemon/server.h"

#include <httplib.h>

#include <atomic>

namespace supersafe::daemon {

namespace {

std::string PathLabel(const std::string& path) {
  if (path == "/" || path == "/healthz" || path == "/metrics") return path;
  return "other";
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, supervisor::Supervisor& core,
                                              std::mutex& core_mu, rpc::Dispatcher& dispatcher) {
  std::unique_ptr<Server> s(new Server());
  s->options_ = options;
  s->http_ = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second daemon share
  // the port instead of failing to start.
  s->http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s->http_->set_tcp_nodelay(true);
  s->http_->set_payload_max_length(options.max_body);
  s->http_->set_read_timeout(options.io_timeout.count(), 0);
  s->http_->set_write_timeout(options.io_timeout.count(), 0);
  s->http_->set_keep_alive_timeout(options.keep_alive.count());
  s->Install(core, core_mu, dispatcher);
  const std::string where = options.addr + ":" + std::to_string(options.port);
  if (options.port == 0) {
    s->port_ = s->http_->bind_to_any_port(options.addr);
    if (s->port_ < 0) return InvalidArgument("rpc address " + options.addr + ": cannot listen on any port");
  } else {
    if (options.port < 0 || options.port > 65535) return InvalidArgument("rpc port " + std::to_string(options.port) + ": out of range");
    if (!s->http_->bind_to_port(options.addr, options.port))
      return InvalidArgument("rpc address " + where + ": cannot listen (port in use or address not local)");
    s->port_ = options.port;
  }
  auto returned = std::make_shared<std::atomic<bool>>(false);
  s->thread_ = std::thread([srv = s->http_.get(), returned] {
    srv->listen_after_bind();
    *returned = true;
  });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so Stop() always stops.
  while (!s->http_->is_running() && !*returned) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (*returned) return Internal("rpc address " + where + ": the server stopped right after it started");
  return s;
}

Server::~Server() { Stop(); }

void Server::Stop() {
  if (!http_) return;
  http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

void Server::Install(supervisor::Supervisor& core, std::mutex& core_mu, rpc::Dispatcher& dispatcher) {
  dispatcher.set_observer([this](const rpc::CallRecord& r) { metrics_.RecordCall(r); });
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics_.RecordHttp(PathLabel(req.path), res.status);
  });

  http_->Post("/", [this, &dispatcher](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& read) {
    // httplib holds Content-Length to max_body but inflates a compressed body without a bound.
    std::string body;
    bool too_large = false;
    auto receive = [&](const char* data, size_t n) {
      too_large = n > options_.max_body - body.size();
      if (!too_large) body.append(data, n);
      return !too_large;
    };
    // A multipart body is no JSON-RPC body: its parts are read and dropped, so it answers -32700.
    const bool multipart = req.is_multipart_form_data();
    const bool complete = multipart ? read([](const httplib::MultipartFormData&) { return true; }, receive) : read(receive);
    if (multipart) body.clear();
    if (!complete) {
      if (too_large) res.status = 413;  // else httplib has set 413 (Content-Length) or 400
      res.set_header("Connection", "close");
      return;
    }
    rpc::CallContext ctx;
    if (!options_.jwt) {
      ctx.admin_denied_why = "admin methods are disabled (no admin JWT secret configured)";
    } else if (!req.has_header("Authorization")) {
      ctx.admin_denied_why = "admin methods need an Authorization: Bearer <JWT> header";
    } else {
      const std::string auth = req.get_header_value("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      if (auth.rfind(kBearer, 0) != 0) {
        ctx.admin_denied_why = "Authorization header is not a Bearer token";
      } else {
        Status v = VerifyJwt(std::string_view(auth).substr(kBearer.size()), *options_.jwt, std::chrono::system_clock::now());
        ctx.admin = v.ok();
        if (!v.ok()) ctx.admin_denied_why = v.message();
      }
    }
    std::optional<std::string> answer = dispatcher.Handle(body, ctx);
    if (!answer) {
      res.status = 204;
      return;
    }
    res.set_content(*answer, "application/json");
  });

  http_->Get("/healthz", [&core, &core_mu](const httplib::Request&, httplib::Response& res) {
    bool dead;
    {
      std::lock_guard<std::mutex> g(core_mu);
      dead = core.dead();
    }
    res.status = dead ? 503 : 200;
    res.set_content(dead ? "the core lost its state after a failed write; restart the daemon\n" : "ok\n", "text/plain");
  });

  http_->Get("/metrics", [this, &core, &core_mu](const httplib::Request&, httplib::Response& res) {
    std::map<ChainID, supervisor::Heads> heads;
    {
      std::lock_guard<std::mutex> g(core_mu);
      for (const auto& c : core.dependency_set().chains)
        if (auto h = core.HeadsOf(c.id); h.ok()) heads[c.id] = *h;
    }
    res.set_content(metrics_.Render(heads), "text/plain; version=0.0.4");
  });
}

}  // namespace supersafe::daemon
