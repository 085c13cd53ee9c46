#include "daemon/metrics.h"

#include <sstream>

namespace supersafe::daemon {

void Metrics::RecordCall(const rpc::CallRecord& call) {
  const double seconds = std::chrono::duration<double>(call.elapsed).count();
  std::string result = call.code == 0 ? "ok" : std::to_string(call.code);
  std::lock_guard<std::mutex> g(mu_);
  ++calls_[{std::string(call.method), result}];
  Latency& l = latency_[std::string(call.method)];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++l.buckets[i];
  ++l.count;
  l.sum += seconds;
}

void Metrics::RecordHttp(const std::string& path, int status) {
  std::lock_guard<std::mutex> g(mu_);
  ++http_[{path, status}];
}

std::string Metrics::Render(const std::map<ChainID, supervisor::Heads>& heads) const {
  std::ostringstream out;
  std::lock_guard<std::mutex> g(mu_);
  out << "# HELP supersafe_rpc_calls_total JSON-RPC calls by method and result (ok or the error code).\n"
         "# TYPE supersafe_rpc_calls_total counter\n";
  for (const auto& [key, n] : calls_)
    out << "supersafe_rpc_calls_total{method=\"" << key.first << "\",result=\"" << key.second << "\"} " << n << "\n";
  out << "# HELP supersafe_rpc_call_seconds JSON-RPC call latency by method, lock wait included.\n"
         "# TYPE supersafe_rpc_call_seconds histogram\n";
  for (const auto& [method, l] : latency_) {
    if (l.count == 0) continue;
    for (size_t i = 0; i < kBuckets.size(); ++i)
      out << "supersafe_rpc_call_seconds_bucket{method=\"" << method << "\",le=\"" << kBuckets[i] << "\"} "
          << l.buckets[i] << "\n";
    out << "supersafe_rpc_call_seconds_bucket{method=\"" << method << "\",le=\"+Inf\"} " << l.count << "\n";
    out << "supersafe_rpc_call_seconds_sum{method=\"" << method << "\"} " << l.sum << "\n";
    out << "supersafe_rpc_call_seconds_count{method=\"" << method << "\"} " << l.count << "\n";
  }
  out << "# HELP supersafe_http_responses_total HTTP responses by path and status.\n"
         "# TYPE supersafe_http_responses_total counter\n";
  for (const auto& [key, n] : http_)
    out << "supersafe_http_responses_total{path=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  out << "# HELP supersafe_head Block number of each chain's head by safety level.\n"
         "# TYPE supersafe_head gauge\n";
  for (const auto& [chain, h] : heads) {
    const std::pair<const char*, const BlockID*> levels[] = {
        {"unsafe", &h.unsafe},         {"cross_unsafe", &h.cross_unsafe}, {"local_safe", &h.local_safe},
        {"cross_safe", &h.cross_safe}, {"finalized", &h.finalized}};
    for (const auto& [name, block] : levels)
      out << "supersafe_head{chain=\"" << chain.Decimal() << "\",level=\"" << name << "\"} " << block->number << "\n";
  }
  return out.str();
}

}  // namespace supersafe::daemon
