#include "daemon/metrics.h"

#include <sstream>

namespace supersafe::daemon {

namespace {

// A histogram's lines for one label set, `labels` ending in a comma or empty.
template <size_t N, typename L>
void WriteHistogram(std::ostream& out, const std::string& name, const std::string& labels,
                    const std::array<double, N>& bounds, const L& l) {
  for (size_t i = 0; i < N; ++i)
    out << name << "_bucket{" << labels << "le=\"" << bounds[i] << "\"} " << l.buckets[i] << "\n";
  out << name << "_bucket{" << labels << "le=\"+Inf\"} " << l.count << "\n";
  const std::string plain = labels.empty() ? "" : "{" + labels.substr(0, labels.size() - 1) + "}";
  out << name << "_sum" << plain << " " << l.sum << "\n";
  out << name << "_count" << plain << " " << l.count << "\n";
}

}  // namespace

template <size_t N>
void Metrics::Latency<N>::Observe(const std::array<double, N>& bounds, double seconds) {
  for (size_t i = 0; i < N; ++i)
    if (seconds <= bounds[i]) ++buckets[i];
  ++count;
  sum += seconds;
}

void Metrics::RecordCall(const rpc::CallRecord& call) {
  const double seconds = std::chrono::duration<double>(call.elapsed).count();
  std::string result = call.code == 0 ? "ok" : std::to_string(call.code);
  std::lock_guard<std::mutex> g(mu_);
  ++calls_[{std::string(call.method), result}];
  latency_[std::string(call.method)].Observe(kBuckets, seconds);
  op_latency_[std::string(call.method)].Observe(kOpBuckets, seconds);
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
  for (const auto& [method, l] : latency_)
    WriteHistogram(out, "supersafe_rpc_call_seconds", "method=\"" + method + "\",", kBuckets, l);
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

  // op-supervisor's names (namespace op_supervisor, process name "default").
  out << "# HELP op_supervisor_default_up 1 if the op-supervisor has finished starting up\n"
         "# TYPE op_supervisor_default_up gauge\n"
         "op_supervisor_default_up 1\n"
         "# HELP op_supervisor_default_info Pseudo-metric tracking version and config info\n"
         "# TYPE op_supervisor_default_info gauge\n"
         "op_supervisor_default_info{version=\""
      << version_ << "\"} 1\n";
  out << "# HELP op_supervisor_default_rpc_server_requests_total Total requests to the RPC server\n"
         "# TYPE op_supervisor_default_rpc_server_requests_total counter\n";
  for (const auto& [method, l] : op_latency_)
    out << "op_supervisor_default_rpc_server_requests_total{method=\"" << method << "\"} " << l.count << "\n";
  out << "# HELP op_supervisor_default_rpc_server_request_duration_seconds Histogram of RPC server request durations\n"
         "# TYPE op_supervisor_default_rpc_server_request_duration_seconds histogram\n";
  for (const auto& [method, l] : op_latency_)
    WriteHistogram(out, "op_supervisor_default_rpc_server_request_duration_seconds", "method=\"" + method + "\",",
                   kOpBuckets, l);
  return out.str();
}

}  // namespace supersafe::daemon
