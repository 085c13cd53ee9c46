#include "daemon/ws_rpc.h"

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace supersafe::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using rpc::Json;

// The state every connection shares, whatever its stream; the I/O itself is in Session<Stream>.
// Handlers capture `this` only: Close() joins the I/O thread before the object goes away, and
// the io_context (declared first, destroyed last) drops the handlers that never ran.
struct WsRpc::Impl {
  enum class State { kDialing, kOpen, kClosed };

  Impl(const Endpoint& e, std::string w, Options o) : endpoint(e), who(std::move(w)), options(std::move(o)) {}
  virtual ~Impl() = default;
  virtual void Connect() = 0;                // on the I/O thread
  virtual void Send(std::string text) = 0;   // from any thread
  virtual void Abort() = 0;                  // on the I/O thread

  net::io_context ioc;
  const Endpoint endpoint;
  const std::string who;
  const Options options;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  State state = State::kDialing;
  Status why_closed;
  uint64_t next_id = 1;
  std::map<uint64_t, std::optional<Result<RpcReply>>> pending;  // answered once it holds a value

  void Opened() {
    std::lock_guard<std::mutex> g(mu);
    if (state == State::kDialing) state = State::kOpen;
    cv.notify_all();
  }
  void Fail(const Status& why) {
    {
      std::lock_guard<std::mutex> g(mu);
      if (state == State::kClosed) return;
      state = State::kClosed;
      why_closed = why;
      cv.notify_all();
    }
    if (options.on_close) options.on_close(why);
  }
  void OnMessage(const std::string& text) {
    Json m = Json::parse(text, nullptr, false);
    if (!m.is_object()) return;  // not JSON-RPC: nothing can be matched to it
    auto id = m.find("id");
    if (id != m.end() && !id->is_null() && (m.contains("result") || m.contains("error"))) {
      if (!id->is_number_unsigned()) return;
      const uint64_t n = id->get<uint64_t>();
      std::lock_guard<std::mutex> g(mu);
      auto it = pending.find(n);
      if (it == pending.end()) return;  // its caller gave up waiting
      it->second = ReplyOf(std::move(m), n, who);
      cv.notify_all();
      return;
    }
    if (m.contains("method") && options.on_notification) options.on_notification(std::move(m));
  }
};

namespace {

std::string Describe(const beast::error_code& ec) { return ec.message(); }

using PlainStream = websocket::stream<beast::tcp_stream>;
using TlsStream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

template <class Stream>
class Session final : public WsRpc::Impl {
 public:
  Session(const Endpoint& e, std::string w, WsRpc::Options o)
    requires std::is_same_v<Stream, PlainStream>
      : Impl(e, std::move(w), std::move(o)), resolver_(ioc), ws_(ioc) {}
  // `ctx` (the trust store) lives as long as the stream that uses it.
  Session(const Endpoint& e, std::string w, WsRpc::Options o, std::shared_ptr<ssl::context> ctx)
    requires std::is_same_v<Stream, TlsStream>
      : Impl(e, std::move(w), std::move(o)), ctx_(std::move(ctx)), resolver_(ioc), ws_(ioc, *ctx_) {}

  void Connect() override {
    resolver_.async_resolve(endpoint.host, std::to_string(endpoint.port),
                            [this](beast::error_code ec, tcp::resolver::results_type results) {
                              if (ec) return Fail(IOError(who + ": cannot resolve " + endpoint.host + ": " + Describe(ec)));
                              beast::get_lowest_layer(ws_).expires_after(options.timeout);
                              beast::get_lowest_layer(ws_).async_connect(
                                  results, [this](beast::error_code ec, const tcp::endpoint&) { Connected(ec); });
                            });
  }

  void Send(std::string text) override {
    net::post(ioc, [this, text = std::move(text)]() mutable {
      queue_.push_back(std::move(text));
      if (queue_.size() == 1) Write();
    });
  }

  void Abort() override {
    beast::error_code ignored;
    resolver_.cancel();
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void Connected(beast::error_code ec) {
    if (ec) return Fail(IOError(who + ": cannot connect to " + endpoint.authority() + ": " + Describe(ec)));
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      auto& tls = ws_.next_layer();
      if (!SSL_set_tlsext_host_name(tls.native_handle(), endpoint.host.c_str()))
        return Fail(IOError(who + ": TLS: cannot set the server name"));
      tls.set_verify_mode(ssl::verify_peer);
      tls.set_verify_callback(ssl::host_name_verification(endpoint.host));
      tls.async_handshake(ssl::stream_base::client, [this](beast::error_code ec) {
        if (ec) return Fail(IOError(who + ": TLS handshake failed: " + Describe(ec)));
        Upgrade();
      });
    } else {
      Upgrade();
    }
  }

  void Upgrade() {
    beast::get_lowest_layer(ws_).expires_never();  // the WebSocket stream keeps its own timeouts
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
    timeouts.handshake_timeout = options.timeout;
    ws_.set_option(timeouts);
    std::string token = options.jwt ? MakeJwt(*options.jwt, std::chrono::duration_cast<std::chrono::seconds>(
                                                                std::chrono::system_clock::now().time_since_epoch())
                                                                .count())
                                    : "";
    ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      req.set(http::field::user_agent, "supersafe");
      if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    }));
    ws_.read_message_max(options.max_message);
    ws_.text(true);
    ws_.async_handshake(response_, endpoint.authority(), endpoint.path, [this](beast::error_code ec) {
      if (ec) {
        std::string status = response_.result_int() ? " (HTTP " + std::to_string(response_.result_int()) + ")" : "";
        return Fail(IOError(who + ": WebSocket upgrade refused" + status + ": " + Describe(ec)));
      }
      Opened();
      Read();
    });
  }

  void Read() {
    ws_.async_read(buffer_, [this](beast::error_code ec, size_t) {
      if (ec) {
        return Fail(IOError(who + ": " + (ec == websocket::error::closed ? std::string("the server closed the connection")
                                                                         : "connection lost: " + Describe(ec))));
      }
      std::string text = beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
      OnMessage(text);
      Read();
    });
  }

  void Write() {
    ws_.async_write(net::buffer(queue_.front()), [this](beast::error_code ec, size_t) {
      if (ec) return Fail(IOError(who + ": write failed: " + Describe(ec)));
      queue_.pop_front();
      if (!queue_.empty()) Write();
    });
  }

  std::shared_ptr<ssl::context> ctx_;
  tcp::resolver resolver_;
  Stream ws_;
  beast::flat_buffer buffer_;
  websocket::response_type response_;
  std::deque<std::string> queue_;
};

}  // namespace

Result<std::unique_ptr<WsRpc>> WsRpc::Dial(const Endpoint& endpoint, const std::string& who, Options options) {
  if (!endpoint.websocket()) return InvalidArgument(who + ": not a ws:// or wss:// URL");
  const auto timeout = options.timeout;
  std::shared_ptr<Impl> impl;
  if (endpoint.tls()) {
    // OpenSSL's default trust store, read at each dial (SSL_CERT_FILE / SSL_CERT_DIR honoured).
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    beast::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (ec) return IOError(who + ": cannot load the TLS trust store: " + ec.message());
    impl = std::make_shared<Session<TlsStream>>(endpoint, who, std::move(options), std::move(ctx));
  } else {
    impl = std::make_shared<Session<PlainStream>>(endpoint, who, std::move(options));
  }
  net::post(impl->ioc, [p = impl.get()] { p->Connect(); });
  impl->thread = std::thread([p = impl.get()] { p->ioc.run(); });
  std::unique_ptr<WsRpc> rpc(new WsRpc(impl));
  std::unique_lock<std::mutex> lock(impl->mu);
  // The stream's own timers end a dial that hangs; the margin only covers their firing.
  const bool settled = impl->cv.wait_for(lock, timeout + std::chrono::seconds(2),
                                         [&] { return impl->state != Impl::State::kDialing; });
  const bool open = settled && impl->state == Impl::State::kOpen;
  const Status why = settled && !open ? impl->why_closed
                                      : IOError(who + ": no connection within " + std::to_string(timeout.count()) + " ms");
  lock.unlock();
  if (open) return rpc;
  rpc->Close();
  return why;
}

WsRpc::~WsRpc() { Close(); }

bool WsRpc::open() const {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->state == Impl::State::kOpen;
}

void WsRpc::Close() {
  if (!impl_->thread.joinable()) return;
  net::post(impl_->ioc, [p = impl_.get()] {
    p->Abort();
    p->ioc.stop();
  });
  impl_->thread.join();
  impl_->Fail(IOError(impl_->who + ": connection closed"));
}

Result<RpcReply> WsRpc::Call(const std::string& method, Json params) {
  Impl& s = *impl_;
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> g(s.mu);
    if (s.state != Impl::State::kOpen) return s.state == Impl::State::kClosed ? s.why_closed : IOError(s.who + ": not connected");
    id = s.next_id++;
    s.pending[id];
  }
  Json request{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) request["params"] = std::move(params);
  s.Send(rpc::Dump(request));
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait_for(lock, s.options.timeout, [&] { return s.pending[id].has_value() || s.state == Impl::State::kClosed; });
  auto answer = std::move(s.pending[id]);
  s.pending.erase(id);
  if (answer) return std::move(*answer);
  if (s.state == Impl::State::kClosed) return s.why_closed.WithContext(method);
  return IOError(s.who + " " + method + ": no answer within " + std::to_string(s.options.timeout.count()) + " ms");
}

}  // namespace supersafe::daemon
