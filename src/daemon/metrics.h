// Prometheus text exposition of the daemon's counters: JSON-RPC calls per method and result,
// call latency per method, HTTP responses per path and status, and every chain's heads.
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
  void RecordCall(const rpc::CallRecord& call);
  void RecordHttp(const std::string& path, int status);
  // The exposition, with supersafe_head{chain,level} from `heads` (chain ID -> heads).
  std::string Render(const std::map<ChainID, supervisor::Heads>& heads) const;

  static constexpr std::array<double, 8> kBuckets = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0};

 private:
  struct Latency {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> calls_;  // (method, result) -> count
  std::map<std::string, Latency> latency_;                          // method -> histogram
  std::map<std::pair<std::string, int>, uint64_t> http_;            // (path, status) -> count
};

}  // namespace supersafe::daemon
