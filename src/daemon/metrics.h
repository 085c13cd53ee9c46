// Prometheus text exposition of the daemon's counters: JSON-RPC calls per method and result,
// call latency per method, HTTP responses per path and status, and every chain's heads; beside
// them the names op-supervisor exports, so that its dashboards and alerts work unchanged:
// op_supervisor_default_up, op_supervisor_default_info{version}, and op-service's RPC server
// metrics op_supervisor_default_rpc_server_requests_total{method} and
// op_supervisor_default_rpc_server_request_duration_seconds{method} (op-service's buckets).
// Thread-safe: Record* may be called from any thread while Render runs.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "rpc/dispatcher.h"
#include "supervisor/supervisor.h"

namespace supersafe::daemon {

class Metrics {
 public:
  explicit Metrics(std::string version = "") : version_(std::move(version)) {}
  void RecordCall(const rpc::CallRecord& call);
  void RecordHttp(const std::string& path, int status);
  // The exposition, with supersafe_head{chain,level} from `heads` (chain ID -> heads).
  std::string Render(const std::map<ChainID, supervisor::Heads>& heads) const;

  static constexpr std::array<double, 8> kBuckets = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0};
  // op-service's RPC server histogram buckets.
  static constexpr std::array<double, 11> kOpBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

 private:
  template <size_t N>
  struct Latency {
    std::array<uint64_t, N> buckets{};
    uint64_t count = 0;
    double sum = 0;
    void Observe(const std::array<double, N>& bounds, double seconds);
  };
  const std::string version_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> calls_;  // (method, result) -> count
  std::map<std::string, Latency<kBuckets.size()>> latency_;        // method -> histogram
  std::map<std::string, Latency<kOpBuckets.size()>> op_latency_;   // method -> op-service histogram
  std::map<std::pair<std::string, int>, uint64_t> http_;            // (path, status) -> count
};

}  // namespace supersafe::daemon
