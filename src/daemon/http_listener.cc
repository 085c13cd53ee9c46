#include "daemon/http_listener.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

namespace supersafe::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadSize = 16 * 1024;
constexpr uint32_t kHeaderLimit = 16 * 1024;
constexpr std::chrono::seconds kStopGrace{5};
constexpr std::chrono::milliseconds kSweep{100};  // how often timeouts are looked for

enum class Inflated { kOk, kTooLarge, kCorrupt };

// Inflates a gzip or zlib stream (RFC 1952 or 1950, told apart by its header) into `out`, stopping
// as soon as it would exceed `max` bytes.
Inflated Inflate(const std::string& in, size_t max, std::string& out) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Inflated::kCorrupt;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char chunk[16384];
  int r = Z_OK;
  Inflated result = Inflated::kOk;
  while (r != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    r = inflate(&z, Z_NO_FLUSH);
    if (r != Z_OK && r != Z_STREAM_END) {
      result = Inflated::kCorrupt;  // also a stream cut short (Z_BUF_ERROR: no progress possible)
      break;
    }
    const size_t n = sizeof chunk - z.avail_out;
    if (n > max - out.size()) {
      result = Inflated::kTooLarge;
      break;
    }
    out.append(chunk, n);
  }
  inflateEnd(&z);
  return result;
}

}  // namespace

class Session;
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Strand>;

int64_t Ticks(Clock::time_point t) { return t.time_since_epoch().count(); }
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

struct HttpListener::Impl {
  Impl(const HttpLimits& l, HttpHandler h, HttpLogger g) : limits(l), handler(std::move(h)), logger(std::move(g)) {}

  void Accept();
  void Sweep();
  void Forget(Session* s) {
    std::lock_guard<std::mutex> lock(mu);
    sessions.erase(s);
    if (sessions.empty()) drained.notify_all();
  }

  const HttpLimits limits;
  const HttpHandler handler;
  const HttpLogger logger;
  // Declared before the io_context: sessions that its destructor drops still find them.
  std::mutex mu;
  std::condition_variable drained;
  std::unordered_set<Session*> sessions;  // every live connection
  bool stopping = false;
  bool stopped = false;

  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{ioc.get_executor()};
  Strand strand{net::make_strand(ioc)};  // the acceptor's and the sweep's
  net::basic_socket_acceptor<tcp, Strand> acceptor{strand};
  net::steady_timer retry{strand};
  net::steady_timer sweep{strand};
  std::vector<std::thread> threads;
};

// One connection. Every member function but deadline() runs on the connection's strand (the
// socket's executor). Timeouts: the connection keeps the time by which its current wait must end
// (deadline_); the listener's sweep closes connections past theirs, kSweep late at most. A timer
// per read or write would cost a timer queue update and a cancelled completion for each.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpListener::Impl& impl, Socket&& socket) : impl_(impl), socket_(std::move(socket)) {}
  ~Session() { impl_.Forget(this); }
  Strand executor() { return socket_.get_executor(); }
  int64_t deadline() const { return deadline_.load(std::memory_order_relaxed); }

  void ReadNext() {
    if (stopping_) return Close();
    parser_.emplace();
    parser_->eager(true);
    parser_->body_limit(impl_.limits.max_body);
    parser_->header_limit(kHeaderLimit);
    path_.clear();
    header_seen_ = false;
    started_ = buffer_.size() > 0;  // a pipelined request
    if (started_) request_deadline_ = Clock::now() + impl_.limits.request_deadline;
    started_ ? Parse() : Read();
  }

  // Stop() of the listener: an idle connection closes now, any other after its answer.
  void StopSoon() {
    stopping_ = true;
    keep_ = false;
    if (closing_ || (!started_ && !answering_)) Close();
  }

  // The sweep found the deadline past: close, unless the connection has moved on since.
  void TimeOut() {
    if (Ticks(Clock::now()) >= deadline()) Close();
  }

 private:
  void Expire(Clock::time_point t) { deadline_.store(Ticks(t), std::memory_order_relaxed); }

  void Read() {
    const Clock::time_point now = Clock::now();
    const auto& l = impl_.limits;
    Expire(started_ ? std::min(now + l.io_timeout, request_deadline_) : now + (first_ ? l.io_timeout : l.keep_alive));
    socket_.async_read_some(buffer_.prepare(kReadSize), beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t n) {
    if (ec) return Close();  // timed out, closed by the client, or stopped
    buffer_.commit(n);
    if (!started_) {
      started_ = true;
      request_deadline_ = Clock::now() + impl_.limits.request_deadline;
    }
    Parse();
  }

  void Parse() {
    for (;;) {
      if (parser_->is_header_done() && !header_seen_) {
        header_seen_ = true;
        const auto& req = parser_->get();
        const std::string_view target(req.target().data(), req.target().size());
        path_ = std::string(target.substr(0, target.find('?')));
        if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          Expire(Clock::now() + impl_.limits.io_timeout);
          net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (ec) return self->Close();
                             self->Parse();
                           });
          return;
        }
      }
      if (parser_->is_done()) break;
      if (buffer_.size() == 0) return Read();
      beast::error_code ec;
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more || (!ec && used == 0)) return Read();
      if (ec) return Refuse(ec == http::error::body_limit ? 413 : 400);
    }
    OnRequest();
  }

  void OnRequest() {
    http::request<http::string_body>& req = parser_->get();
    Expire(Clock::time_point::max());  // the handler has no deadline; the write will
    first_ = false;
    started_ = false;
    answering_ = true;
    keep_ = req.keep_alive() && !stopping_;
    head_ = req.method() == http::verb::head;
    version_ = req.version();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.path = path_;
    if (auto auth = req.find(http::field::authorization); auth != req.end()) {
      r.has_authorization = true;
      r.authorization = std::string(auth->value());
    }
    const beast::string_view encoding = req[http::field::content_encoding];
    if (encoding.empty() || beast::iequals(encoding, "identity")) {
      r.body = std::move(req.body());
    } else if (beast::iequals(encoding, "gzip") || beast::iequals(encoding, "x-gzip") || beast::iequals(encoding, "deflate")) {
      switch (Inflate(req.body(), impl_.limits.max_body, r.body)) {
        case Inflated::kOk:
          break;
        case Inflated::kTooLarge:
          return Refuse(413);
        case Inflated::kCorrupt:
          return Refuse(400);
      }
    } else {
      return Refuse(415);
    }
    parser_.reset();
    impl_.handler(std::move(r), [self = shared_from_this()](HttpResponse answer) {
      net::dispatch(self->executor(), [self, answer = std::move(answer)]() mutable { self->Answer(std::move(answer)); });
    });
  }

  void Answer(HttpResponse answer) {
    status_ = answer.status;
    body_ = std::move(answer.body);
    head_text_.clear();
    head_text_.append(version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(std::to_string(status_)).append(" ");
    const beast::string_view reason = http::obsolete_reason(static_cast<http::status>(status_));
    head_text_.append(reason.data(), reason.size()).append("\r\n");
    if (!answer.content_type.empty()) head_text_.append("Content-Type: ").append(answer.content_type).append("\r\n");
    if (status_ != 204 && status_ >= 200) head_text_.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n");
    if (!keep_) head_text_.append("Connection: close\r\n");
    else if (version_ == 10) head_text_.append("Connection: keep-alive\r\n");
    head_text_.append("\r\n");
    if (head_ || status_ == 204) body_.clear();
    Expire(Clock::now() + impl_.limits.io_timeout);
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_text_), net::buffer(body_)};
    net::async_write(socket_, buffers, beast::bind_front_handler(&Session::OnWritten, shared_from_this()));
  }

  // Answers `status` with no body and closes the connection.
  void Refuse(unsigned status) {
    answering_ = true;
    keep_ = false;
    head_ = false;
    version_ = 11;
    Answer(HttpResponse{status, "", ""});
  }

  void OnWritten(beast::error_code ec, size_t) {
    answering_ = false;
    if (impl_.logger) impl_.logger(path_, status_);
    if (ec) return Close();
    if (!keep_) return Linger();
    ReadNext();
  }

  // Stops sending and reads what the client still sends, for io_timeout at most, then closes.
  void Linger() {
    closing_ = true;
    if (stopping_) return Close();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    Expire(Clock::now() + impl_.limits.io_timeout);
    Drain();
  }
  void Drain() {
    buffer_.clear();
    socket_.async_read_some(buffer_.prepare(kReadSize), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->Drain();
    });
  }

  void Close() {
    closing_ = true;
    Expire(Clock::time_point::max());
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  HttpListener::Impl& impl_;
  Socket socket_;
  std::atomic<int64_t> deadline_{kNever};  // written on the strand, read by the sweep
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string head_text_, body_;  // the answer being written
  unsigned status_ = 0;
  std::string path_;
  Clock::time_point request_deadline_;  // of the request being read
  unsigned version_ = 11;
  bool first_ = true;         // no request read yet
  bool started_ = false;      // bytes of the next request have come
  bool header_seen_ = false;  // its header was looked at (path, Expect)
  bool answering_ = false;    // a request is with the handler or its answer is being written
  bool keep_ = false;         // keep the connection open after the answer
  bool head_ = false;
  bool stopping_ = false;
  bool closing_ = false;
};

void HttpListener::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, Socket socket) {
    if (!acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors, say: try again shortly rather than spin.
      retry.expires_after(std::chrono::milliseconds(50));
      retry.async_wait([this](beast::error_code e) {
        if (!e) Accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(*this, std::move(socket));
    bool serve;
    {
      std::lock_guard<std::mutex> lock(mu);
      serve = !stopping;
      if (serve) sessions.insert(session.get());
    }
    if (serve) net::post(session->executor(), [session] { session->ReadNext(); });
    Accept();
  });
}

void HttpListener::Impl::Sweep() {
  sweep.expires_after(kSweep);
  sweep.async_wait([this](beast::error_code ec) {
    if (ec) return;
    const int64_t now = Ticks(Clock::now());
    std::vector<std::shared_ptr<Session>> late;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (Session* s : sessions)
        if (s->deadline() <= now)
          if (auto held = s->weak_from_this().lock()) late.push_back(std::move(held));
    }
    for (auto& s : late) net::post(s->executor(), [s] { s->TimeOut(); });
    Sweep();
  });
}

Result<std::unique_ptr<HttpListener>> HttpListener::Start(const HttpLimits& limits, const std::string& addr, int port,
                                                          const std::string& what, HttpHandler handler,
                                                          HttpLogger logger) {
  const std::string where = addr + ":" + std::to_string(port);
  if (port < 0 || port > 65535) return InvalidArgument(what + " port " + std::to_string(port) + ": out of range");
  std::unique_ptr<HttpListener> l(new HttpListener());
  l->impl_ = std::make_unique<Impl>(limits, std::move(handler), std::move(logger));
  Impl& impl = *l->impl_;
  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto ip = net::ip::make_address(addr, ec);
  if (!ec) {
    endpoint = tcp::endpoint(ip, static_cast<uint16_t>(port));
  } else {
    tcp::resolver resolver(impl.ioc);
    auto found = resolver.resolve(addr, std::to_string(port), tcp::resolver::passive, ec);
    if (ec || found.empty()) return InvalidArgument(what + " address " + where + ": cannot resolve the host");
    endpoint = found.begin()->endpoint();
  }
  auto cannot = [&](const char* step) {
    return InvalidArgument(what + " address " + where + ": cannot listen (" + step + ": " + ec.message() + ")");
  };
  impl.acceptor.open(endpoint.protocol(), ec);
  if (ec) return cannot("socket");
  impl.acceptor.set_option(net::socket_base::reuse_address(true), ec);  // never SO_REUSEPORT
  if (ec) return cannot("SO_REUSEADDR");
  impl.acceptor.bind(endpoint, ec);
  if (ec) return cannot("bind");
  impl.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return cannot("listen");
  l->port_ = impl.acceptor.local_endpoint(ec).port();
  if (ec) return cannot("local address");

  impl.Accept();
  impl.Sweep();
  const size_t threads = std::max<size_t>(1, limits.io_threads);
  for (size_t i = 0; i < threads; ++i) {
    impl.threads.emplace_back([&impl] {
      for (;;) {
        try {
          impl.ioc.run();
          return;
        } catch (const std::exception&) {
          // A handler threw: its connection is dropped (its handlers are gone), the others go on.
        }
      }
    });
  }
  return l;
}

HttpListener::~HttpListener() { Stop(); }

void HttpListener::Stop() {
  if (!impl_ || impl_->stopped) return;
  Impl& impl = *impl_;
  impl.stopped = true;
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    impl.stopping = true;
    for (Session* s : impl.sessions)
      if (auto held = s->weak_from_this().lock()) live.push_back(std::move(held));
  }
  net::post(impl.acceptor.get_executor(), [&impl] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    impl.retry.cancel();  // the sweep goes on: it times out the requests still being read
  });
  for (auto& s : live) net::post(s->executor(), [s] { s->StopSoon(); });
  live.clear();  // only the posted handlers hold them now
  {
    std::unique_lock<std::mutex> lock(impl.mu);
    impl.drained.wait_for(lock, std::min<std::chrono::milliseconds>(impl.limits.request_deadline, kStopGrace),
                          [&] { return impl.sessions.empty(); });
  }
  impl.work.reset();
  impl.ioc.stop();
  for (auto& t : impl.threads) t.join();
  impl.threads.clear();
}

}  // namespace supersafe::daemon
