#include "tests/daemon/rpc_test_server.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace supersafe::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using rpc::Json;

struct Conn {
  virtual ~Conn() = default;
  virtual void Send(std::string text) = 0;  // on the I/O thread
  virtual void Close() = 0;                 // on the I/O thread
};

struct TestRpcServer::Impl {
  Impl(Options o, Handler h) : options(std::move(o)), handler(std::move(h)), acceptor(ioc) {}

  net::io_context ioc;
  Options options;
  Handler handler;
  std::unique_ptr<ssl::context> tls;
  tcp::acceptor acceptor;
  std::thread thread;
  int port = 0;
  uint64_t next_conn = 1;
  std::map<uint64_t, std::weak_ptr<Conn>> conns;  // I/O thread only
  std::function<void(uint64_t)> on_ws_close;
  TestRpcServer* owner = nullptr;

  void Accept();
  // 401 text when a secret is set and the request lacks a valid token.
  std::optional<std::string> Refusal(const http::request<http::string_body>& req) {
    if (!options.jwt) return std::nullopt;
    auto it = req.find(http::field::authorization);
    if (it == req.end()) return "missing token";
    std::string value(it->value());
    if (value.rfind("Bearer ", 0) != 0) return "missing token";
    Status s = daemon::VerifyJwt(value.substr(7), *options.jwt, std::chrono::system_clock::now());
    if (!s.ok()) return "invalid token: " + s.message();
    return std::nullopt;
  }
  Json One(const Json& call, uint64_t conn, bool ws) {
    Json out{{"jsonrpc", "2.0"}, {"id", call.contains("id") ? call["id"] : Json(nullptr)}};
    if (!call.is_object() || !call.contains("method") || !call["method"].is_string()) {
      out["error"] = {{"code", -32600}, {"message", "invalid request"}};
      return out;
    }
    Reply r = handler(call["method"].get<std::string>(), call.contains("params") ? call["params"] : Json::array(), conn, ws);
    if (r.error) {
      out["error"] = {{"code", r.error->code}, {"message", r.error->message}};
      if (!r.error->data.is_null()) out["error"]["data"] = r.error->data;
    } else {
      out["result"] = r.result;
    }
    return out;
  }
  std::string Answer(const std::string& body, uint64_t conn, bool ws) {
    Json req = Json::parse(body, nullptr, false);
    if (req.is_discarded()) return Json{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", -32700}, {"message", "parse error"}}}}.dump();
    if (!req.is_array()) return One(req, conn, ws).dump();
    Json all = Json::array();
    for (const Json& c : req) all.push_back(One(c, conn, ws));
    return all.dump();
  }
};

namespace {

template <class WsStream>
class WsConn : public Conn, public std::enable_shared_from_this<WsConn<WsStream>> {
 public:
  template <class Next>
  WsConn(Next&& next, TestRpcServer::Impl* srv, uint64_t id) : ws_(std::forward<Next>(next)), srv_(srv), id_(id) {}
  void Accept(http::request<http::string_body> req) {
    ws_.text(true);
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->srv_->conns[self->id_] = self;
      ++self->srv_->owner->ws_upgrades;
      self->Read();
    });
  }
  void Send(std::string text) override {
    out_.push_back(std::move(text));
    if (out_.size() == 1) Write();
  }
  void Close() override {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void Read() {
    ws_.async_read(buf_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->srv_->conns.erase(self->id_);
        if (self->srv_->on_ws_close) self->srv_->on_ws_close(self->id_);
        return;
      }
      std::string text = beast::buffers_to_string(self->buf_.data());
      self->buf_.consume(self->buf_.size());
      self->Send(self->srv_->Answer(text, self->id_, true));
      self->Read();
    });
  }
  void Write() {
    ws_.async_write(net::buffer(out_.front()), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->out_.pop_front();
      if (!self->out_.empty()) self->Write();
    });
  }
  WsStream ws_;
  TestRpcServer::Impl* srv_;
  uint64_t id_;
  beast::flat_buffer buf_;
  std::deque<std::string> out_;
};

template <class Stream>
class HttpConn : public Conn, public std::enable_shared_from_this<HttpConn<Stream>> {
 public:
  template <class... Args>
  HttpConn(TestRpcServer::Impl* srv, uint64_t id, Args&&... args) : stream_(std::forward<Args>(args)...), srv_(srv), id_(id) {}
  void Start() {
    srv_->conns[id_] = this->shared_from_this();
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->Read();
      });
    } else {
      Read();
    }
  }
  void Send(std::string) override {}
  void Close() override {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

 private:
  void Read() {
    req_ = {};
    http::async_read(stream_, buf_, req_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->srv_->conns.erase(self->id_);
        return;
      }
      self->OnRequest();
    });
  }
  void Respond(http::status status, const std::string& type, std::string body, bool keep) {
    auto res = std::make_shared<http::response<http::string_body>>(status, req_.version());
    res->set(http::field::content_type, type);
    res->keep_alive(keep);
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = this->shared_from_this(), res, keep](beast::error_code ec, size_t) {
      if (ec || !keep) return self->Close();
      self->Read();
    });
  }
  void OnRequest() {
    if (srv_->owner->down) return Respond(http::status::service_unavailable, "text/plain", "down", false);
    if (auto why = srv_->Refusal(req_)) {
      ++srv_->owner->unauthorized;
      return Respond(http::status::unauthorized, "text/plain", *why, false);
    }
    if (websocket::is_upgrade(req_)) {
      srv_->conns.erase(id_);
      auto ws = std::make_shared<WsConn<websocket::stream<Stream>>>(std::move(stream_), srv_, id_);
      ws->Accept(std::move(req_));
      return;
    }
    if (req_.method() != http::verb::post) return Respond(http::status::method_not_allowed, "text/plain", "POST only", false);
    // Each HTTP request is its own "connection" for the handler.
    Respond(http::status::ok, "application/json", srv_->Answer(req_.body(), srv_->next_conn++, false), req_.keep_alive());
  }

  Stream stream_;
  TestRpcServer::Impl* srv_;
  uint64_t id_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
};

}  // namespace

void TestRpcServer::Impl::Accept() {
  acceptor.async_accept([self = this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;
    const uint64_t id = self->next_conn++;
    if (self->tls) {
      auto c = std::make_shared<HttpConn<beast::ssl_stream<beast::tcp_stream>>>(self, id, std::move(socket), *self->tls);
      c->Start();
    } else {
      auto c = std::make_shared<HttpConn<beast::tcp_stream>>(self, id, std::move(socket));
      c->Start();
    }
    self->Accept();
  });
}

TestRpcServer::TestRpcServer(Options options, Handler handler)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler))) {
  impl_->owner = this;
  if (!impl_->options.tls_cert_file.empty()) {
    impl_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(impl_->options.tls_cert_file);
    impl_->tls->use_private_key_file(impl_->options.tls_key_file, ssl::context::pem);
  }
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  impl_->thread = std::thread([p = impl_.get()] { p->ioc.run(); });
}

TestRpcServer::~TestRpcServer() { Stop(); }

int TestRpcServer::port() const { return impl_->port; }
std::string TestRpcServer::url(const std::string& scheme) const {
  return scheme + "://127.0.0.1:" + std::to_string(impl_->port);
}

void TestRpcServer::Notify(uint64_t conn, Json message) {
  net::post(impl_->ioc, [p = impl_.get(), conn, text = message.dump()] {
    auto it = p->conns.find(conn);
    if (it == p->conns.end()) return;
    if (auto c = it->second.lock()) c->Send(text);
  });
}

void TestRpcServer::DropConnections() {
  std::promise<void> done;
  net::post(impl_->ioc, [p = impl_.get(), &done] {
    for (auto& [id, weak] : p->conns)
      if (auto c = weak.lock()) c->Close();
    done.set_value();
  });
  done.get_future().wait();
}

void TestRpcServer::set_on_ws_close(std::function<void(uint64_t)> f) {
  std::promise<void> done;
  net::post(impl_->ioc, [p = impl_.get(), &done, f = std::move(f)] {
    p->on_ws_close = f;
    done.set_value();
  });
  done.get_future().wait();
}

void TestRpcServer::Stop() {
  if (!impl_->thread.joinable()) return;
  net::post(impl_->ioc, [p = impl_.get()] {
    beast::error_code ignored;
    p->acceptor.close(ignored);
    for (auto& [id, weak] : p->conns)
      if (auto c = weak.lock()) c->Close();
    p->ioc.stop();
  });
  impl_->thread.join();
}

std::pair<std::string, std::string> MakeSelfSignedCert(const std::string& dir) {
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
                          "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" +
                          key + "' -out '" + cert + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0 || !std::filesystem::exists(cert)) return {"", ""};
  return {cert, key};
}

}  // namespace supersafe::testing
