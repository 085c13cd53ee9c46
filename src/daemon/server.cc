#include "daemon/server.h"

#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace supersafe::daemon {

namespace {

using Clock = std::chrono::steady_clock;

// A connection's socket for httplib's request parser: reads wait at most io_timeout for bytes and
// never past the deadline of the request being read; writes wait at most io_timeout each.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, std::chrono::milliseconds io_timeout) : sock_(sock), io_timeout_(io_timeout) {}
  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }
  // Bytes already received and not yet parsed (the start of a pipelined request).
  bool has_buffered() const { return pos_ < len_; }

  bool is_readable() const override { return pos_ < len_ || Wait(POLLIN, deadline_); }
  bool is_writable() const override { return Wait(POLLOUT, Clock::time_point::max()); }
  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == len_) {
      if (!Wait(POLLIN, deadline_)) return -1;
      ssize_t n;
      do n = ::recv(sock_, buffer_, sizeof buffer_, 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
    }
    const size_t k = std::min(size, len_ - pos_);
    std::memcpy(ptr, buffer_ + pos_, k);
    pos_ += k;
    return static_cast<ssize_t>(k);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { Address(::getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { Address(::getsockname, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  // Whether the socket is ready for `events` before io_timeout from now and before `deadline`.
  bool Wait(short events, Clock::time_point deadline) const {
    const Clock::time_point now = Clock::now();
    const Clock::time_point until = std::min(now + io_timeout_, deadline);
    if (until <= now) return false;
    pollfd p{sock_, events, 0};
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
    int r;
    do r = ::poll(&p, 1, static_cast<int>(ms));
    while (r < 0 && errno == EINTR);
    return r > 0;
  }
  void Address(int (*query)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ip.clear();
    port = 0;
    if (query(sock_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    char host[64] = {};
    if (addr.ss_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      port = ntohs(a->sin6_port);
    }
    ip = host;
  }

  socket_t sock_;
  std::chrono::milliseconds io_timeout_;
  Clock::time_point deadline_ = Clock::time_point::max();
  char buffer_[4096];
  size_t pos_ = 0, len_ = 0;
};

// httplib's server with its connection loop replaced by one that gives each request a deadline
// (cpp-httplib 0.11 has only per-read timeouts, which a client trickling bytes never meets).
class DeadlineServer final : public httplib::Server {
 public:
  explicit DeadlineServer(const ServerOptions& o) : options_(o) {
    new_task_queue = [n = std::max<size_t>(1, o.workers)] { return new httplib::ThreadPool(n); };
  }
  // cpp-httplib listens with a backlog of 5: when more clients connect at once than the accept
  // loop takes in, the kernel drops their SYNs and they retry after a second (p99 latency of
  // 0.9 to 1.6 s at 256 connections). Listening again on the bound socket widens the queue.
  bool WidenBacklog() { return svr_sock_ != INVALID_SOCKET && ::listen(svr_sock_, SOMAXCONN) == 0; }

 private:
  static constexpr size_t kMaxRequestsPerConnection = 100;  // then the connection closes

  bool process_and_close_socket(socket_t sock) override {
    DeadlineStream stream(sock, options_.io_timeout);
    bool ok = true;
    for (size_t served = 0; served < kMaxRequestsPerConnection; ++served) {
      if (!stream.has_buffered() && !AwaitRequest(sock, served == 0 ? options_.io_timeout : options_.keep_alive)) break;
      stream.set_deadline(Clock::now() + options_.request_deadline);
      bool closed = false;
      ok = process_request(stream, served + 1 == kMaxRequestsPerConnection, closed, nullptr);
      if (!ok || closed) break;
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }
  // Waits for the first byte of a request, in short slices so that a stopped server lets go.
  bool AwaitRequest(socket_t sock, std::chrono::milliseconds timeout) const {
    const Clock::time_point until = Clock::now() + timeout;
    while (svr_sock_ != INVALID_SOCKET) {
      const Clock::time_point now = Clock::now();
      if (now >= until) return false;
      pollfd p{sock, POLLIN, 0};
      const auto slice = std::min<int64_t>(100, std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
      const int r = ::poll(&p, 1, static_cast<int>(slice));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
    return false;
  }

  const ServerOptions options_;
};

std::string PathLabel(const std::string& path) {
  if (path == "/" || path == "/healthz" || path == "/metrics") return path;
  return "other";
}


// Binds `http` to addr:port (0: any free port) and serves it on `thread`; returns the port.
// SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second daemon share
// the port instead of failing to start.
Result<int> BindAndServe(DeadlineServer& http, const ServerOptions& options, const std::string& addr, int port,
                         const std::string& what, std::thread& thread) {
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_tcp_nodelay(true);
  http.set_payload_max_length(options.max_body);
  http.set_read_timeout(options.io_timeout.count(), 0);
  http.set_write_timeout(options.io_timeout.count(), 0);
  http.set_keep_alive_timeout(options.keep_alive.count());
  const std::string where = addr + ":" + std::to_string(port);
  int bound = port;
  if (port == 0) {
    bound = http.bind_to_any_port(addr);
    if (bound < 0) return InvalidArgument(what + " address " + addr + ": cannot listen on any port");
  } else {
    if (port < 0 || port > 65535) return InvalidArgument(what + " port " + std::to_string(port) + ": out of range");
    if (!http.bind_to_port(addr, port))
      return InvalidArgument(what + " address " + where + ": cannot listen (port in use or address not local)");
  }
  if (!http.WidenBacklog()) return Internal(what + " address " + where + ": cannot widen the listen backlog");
  auto returned = std::make_shared<std::atomic<bool>>(false);
  thread = std::thread([srv = &http, returned] {
    srv->listen_after_bind();
    *returned = true;
  });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so Stop() always stops.
  while (!http.is_running() && !*returned) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (*returned) {
    thread.join();
    return Internal(what + " address " + where + ": the server stopped right after it started");
  }
  return bound;
}

void StopServing(std::unique_ptr<httplib::Server>& http, std::thread& thread) {
  if (!http) return;
  http->stop();
  if (thread.joinable()) thread.join();
  http.reset();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, supervisor::CoreGate& gate,
                                              rpc::Dispatcher& dispatcher) {
  std::unique_ptr<Server> s(new Server());
  s->options_ = options;
  s->gate_ = &gate;
  s->metrics_ = std::make_unique<Metrics>(options.version);
  auto http = std::make_unique<DeadlineServer>(options);
  DeadlineServer& bound = *http;
  s->http_ = std::move(http);
  s->Install(dispatcher);
  SS_ASSIGN_OR_RETURN(s->port_, BindAndServe(bound, options, options.addr, options.port, "rpc", s->thread_));
  return s;
}

Result<std::unique_ptr<Server>> Server::StartConstant(const ServerOptions& options, std::string answer) {
  std::unique_ptr<Server> s(new Server());
  s->options_ = options;
  auto http = std::make_unique<DeadlineServer>(options);
  DeadlineServer& bound = *http;
  s->http_ = std::move(http);
  s->http_->Post("/", [max = options.max_body, answer = std::move(answer)](const httplib::Request&, httplib::Response& res,
                                                                          const httplib::ContentReader& read) {
    std::string body;  // read as the daemon reads it
    const bool complete = read([&](const char* data, size_t n) {
      if (n > max - body.size()) return false;
      body.append(data, n);
      return true;
    });
    if (!complete) {
      res.status = 413;
      res.set_header("Connection", "close");
      return;
    }
    res.set_content(answer, "application/json");
  });
  SS_ASSIGN_OR_RETURN(s->port_, BindAndServe(bound, options, options.addr, options.port, "rpc", s->thread_));
  return s;
}

Server::~Server() { Stop(); }

void Server::Stop() { StopServing(http_, thread_); }

std::string Server::RenderMetrics() { return metrics_->Render(gate_->snapshot()->heads); }

void Server::Install(rpc::Dispatcher& dispatcher) {
  dispatcher.set_observer([this](const rpc::CallRecord& r) { metrics_->RecordCall(r); });
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics_->RecordHttp(PathLabel(req.path), res.status);
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

  http_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const bool dead = !gate_->snapshot()->alive.ok();
    rpc::Json body{{"version", options_.version}};
    if (dead) body["error"] = "the core lost its state after a failed write; restart the daemon";
    res.status = dead ? 503 : 200;
    res.set_content(body.dump() + "\n", "application/json");
  });

  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderMetrics(), "text/plain; version=0.0.4");
  });
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& addr, int port,
                                                            const ServerOptions& limits,
                                                            std::function<std::string()> render) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  ServerOptions options = limits;
  options.workers = std::min<size_t>(limits.workers, 4);  // a scraper or two
  auto http = std::make_unique<DeadlineServer>(options);
  DeadlineServer& bound = *http;
  m->http_ = std::move(http);
  m->http_->Get(".*", [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(), "text/plain; version=0.0.4");
  });
  SS_ASSIGN_OR_RETURN(m->port_, BindAndServe(bound, options, addr, port, "metrics", m->thread_));
  return m;
}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() { StopServing(http_, thread_); }

}  // namespace supersafe::daemon
