#include "daemon/transport.h"

#include <cctype>

namespace supersafe::daemon {

std::string Endpoint::authority() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Result<Endpoint> ParseEndpoint(const std::string& what, const std::string& url) {
  const std::string bad = what + " URL '" + url + "': ";
  Endpoint e;
  e.url = url;
  const size_t sep = url.find("://");
  if (sep == std::string::npos) return InvalidArgument(bad + "want http(s)://host[:port][/path] or ws(s)://...");
  e.scheme = url.substr(0, sep);
  for (char& c : e.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (e.scheme == "http" || e.scheme == "ws") e.port = 80;
  else if (e.scheme == "https" || e.scheme == "wss") e.port = 443;
  else return InvalidArgument(bad + "scheme '" + e.scheme + "' is not one of http, https, ws, wss");
  std::string rest = url.substr(sep + 3);
  const size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  e.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (e.path[0] == '?') e.path = "/" + e.path;
  if (authority.find('@') != std::string::npos) return InvalidArgument(bad + "user info is not supported");
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return InvalidArgument(bad + "unclosed '[' in the host");
    e.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return InvalidArgument(bad + "junk after the IPv6 address");
    if (!after.empty()) port = after.substr(1);
    if (after == ":") port = "!";
  } else {
    const size_t colon = authority.rfind(':');
    e.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1), port = port.empty() ? "!" : port;
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
      return InvalidArgument(bad + "port is not a number");
    e.port = std::stoi(port);
    if (e.port < 1 || e.port > 65535) return InvalidArgument(bad + "port out of range");
  }
  if (e.host.empty() || e.host.find_first_of(" #[]") != std::string::npos) return InvalidArgument(bad + "no valid host");
  return e;
}

Result<RpcReply> ReplyOf(rpc::Json answer, uint64_t id, const std::string& who) {
  if (!answer.is_object()) return IOError(who + ": the answer is not a JSON object");
  if (!answer.contains("id") || answer["id"] != id) return IOError(who + ": the answer's id does not match the request");
  RpcReply reply;
  if (auto e = answer.find("error"); e != answer.end() && !e->is_null()) {
    RpcError err;
    if (!e->is_object()) {
      err.message = e->dump();
    } else {
      if (auto c = e->find("code"); c != e->end() && c->is_number_integer()) err.code = c->get<int64_t>();
      if (auto m = e->find("message"); m != e->end() && m->is_string()) err.message = m->get<std::string>();
      if (auto d = e->find("data"); d != e->end()) err.data = *d;
    }
    reply.error = std::move(err);
    return reply;
  }
  auto r = answer.find("result");
  if (r == answer.end()) return IOError(who + ": the answer has no result");
  reply.result = std::move(*r);
  return reply;
}

}  // namespace supersafe::daemon
