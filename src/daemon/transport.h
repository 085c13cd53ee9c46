// What the JSON-RPC clients share, whatever the transport: upstream URLs (http://, https://, ws://
// and wss://, with an optional port and path) and the reading of one JSON-RPC answer.
#pragma once

#include <optional>
#include <string>

#include "core/status.h"
#include "rpc/codec.h"

namespace supersafe::daemon {

struct Endpoint {
  std::string url;     // as given
  std::string scheme;  // "http", "https", "ws" or "wss"
  std::string host;    // a name, an IPv4 address, or an IPv6 address without its brackets
  int port = 0;        // the scheme's default (80 or 443) when the URL names none
  std::string path;    // "/" when the URL has none; the query string stays part of it
  bool tls() const { return scheme == "https" || scheme == "wss"; }
  bool websocket() const { return scheme == "ws" || scheme == "wss"; }
  // "host:port" as the Host header and httplib want it ("[::1]:8545" for IPv6).
  std::string authority() const;
};

// kInvalidArgument naming `what` and the URL: another scheme, user info, no host, a bad port.
Result<Endpoint> ParseEndpoint(const std::string& what, const std::string& url);

// A JSON-RPC error object as the server sent it.
struct RpcError {
  int64_t code = 0;
  std::string message;
  rpc::Json data;  // null when absent
};

// One answer: its result, or the server's error object.
struct RpcReply {
  rpc::Json result;
  std::optional<RpcError> error;
};

// The answer to request `id` in `answer` (a parsed body); kIOError naming `who` for anything that
// is not a JSON-RPC 2.0 answer to that id (not an object, another id, neither result nor error).
Result<RpcReply> ReplyOf(rpc::Json answer, uint64_t id, const std::string& who);

}  // namespace supersafe::daemon
