// The HTTP/1.1 server under Server and MetricsServer (daemon/server.h): asynchronous accept, read
// and write (Boost.Beast over Boost.Asio) on an io_context that `io_threads` threads run. Each
// connection's handlers run one at a time (a strand), so its state needs no lock.
//
// It reads a whole request, decodes its body and hands it to the handler on an io thread; the
// handler answers through HttpReply, at once or later from any thread (the answer is posted back
// to the connection). A handler must not block: an io thread serves many connections.
//
// What it enforces, so that no handler sees it:
//  - A body over max_body bytes, as sent (Content-Length or chunked) or as inflated
//    (Content-Encoding gzip or deflate), is answered 413 and the connection closed; any other
//    encoding is 415. A request the parser refuses is answered 400 and the connection closed.
//  - A connection that sends nothing for io_timeout in the middle of a request, or whose request
//    (headers and body) is not complete request_deadline after its first byte, is closed; so is a
//    connection idle for keep_alive between requests (io_timeout before its first request). A
//    response that cannot be written within io_timeout closes the connection. Timeouts are
//    checked every 100 ms, so a connection may outlive its limit by that much.
//  - Pipelined requests are answered one after the other, in order. `Expect: 100-continue` is
//    answered before the body is read.
//  - Before closing after an answer, it stops sending and reads what the client still sends for
//    up to io_timeout, so that a client still writing a refused body reads the answer instead of a
//    reset.
// The logger hears of every response written: the request's path ("" when the request could not
// be read) and the status.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"

namespace supersafe::daemon {

struct HttpLimits {
  size_t max_body = 5 * 1024 * 1024;
  std::chrono::milliseconds io_timeout{10000};
  std::chrono::milliseconds request_deadline{30000};
  std::chrono::milliseconds keep_alive{2000};
  size_t io_threads = 1;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query
  bool has_authorization = false;
  std::string authorization;
  std::string body;  // dechunked and inflated
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type;
  std::string body;
};

// Answers the request it was made for; call it once, from any thread, and before the listener
// is destroyed (an answer after Stop() is dropped).
using HttpReply = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest, HttpReply)>;
using HttpLogger = std::function<void(const std::string& path, unsigned status)>;

class HttpListener {
 public:
  // Binds addr:port (0: any free port) with SO_REUSEADDR only (a second server on the same port
  // fails, it does not share it), listens with a backlog of SOMAXCONN and starts the io threads.
  // `what` names the listener in errors. kInvalidArgument naming addr:port when it cannot bind.
  static Result<std::unique_ptr<HttpListener>> Start(const HttpLimits& limits, const std::string& addr, int port,
                                                     const std::string& what, HttpHandler handler, HttpLogger logger);
  ~HttpListener();  // Stop()

  int port() const { return port_; }
  // Stops accepting, closes idle connections, lets requests being read or answered finish (each
  // connection closes after its answer) for at most min(request_deadline, 5 s), then stops the
  // io threads and joins them. Answers posted after that are dropped. Idempotent.
  void Stop();

  struct Impl;

 private:
  HttpListener() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace supersafe::daemon
