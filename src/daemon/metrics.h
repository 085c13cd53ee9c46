// Prometheus text exposition of the daemon's counters: JSON-RPC calls per method and result,
// call latency per method, HTTP responses per path and status, and every chain's heads; beside
// them the names op-supervisor exports, so that its dashboards and alerts work unchanged:
// op_supervisor_default_up, op_supervisor_default_info{version}, and op-service's RPC server
// metrics op_supervisor_default_rpc_server_requests_total{method} and
// op_supervisor_default_rpc_server_request_duration_seconds{method} (op-service's buckets).
// Thread-safe: Record* may be called from any thread while Render runs. RecordCall of a call the
// dispatcher labelled (CallRecord::label) takes no lock and allocates nothing: atomic counters per
// label, per result code (up to kCodesPerLabel distinct codes a label; more go to a map under a
// mutex) and per histogram bucket.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rpc/dispatcher.h"
#include "supervisor/supervisor.h"

namespace supersafe::daemon {

class Metrics {
 public:
  explicit Metrics(std::string version = "");
  void RecordCall(const rpc::CallRecord& call);
  void RecordHttp(const std::string& path, int status);
  // The exposition, with supersafe_head{chain,level} from `heads` (chain ID -> heads).
  std::string Render(const std::map<ChainID, supervisor::Heads>& heads) const;

  static constexpr std::array<double, 8> kBuckets = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0};
  // op-service's RPC server histogram buckets.
  static constexpr std::array<double, 11> kOpBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

 private:
  static constexpr size_t kCodesPerLabel = 16;
  // One method's counters. Buckets count the calls at or below their bound and above the one
  // before (the last: above every bound): Render adds them up, so each histogram it writes is
  // consistent with itself however calls race with it.
  struct Slot {
    std::array<std::atomic<uint64_t>, kCodesPerLabel> code_keys{};  // 0: free; else (1 << 32) | code
    std::array<std::atomic<uint64_t>, kCodesPerLabel> code_counts{};
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
    std::array<std::atomic<uint64_t>, kOpBuckets.size() + 1> op_buckets{};
    std::atomic<uint64_t> sum_ns{0};
  };
  // `method`: the slot's name, for a code counted past kCodesPerLabel.
  void Record(Slot& slot, std::string_view method, int code, std::chrono::nanoseconds elapsed);
  Slot& SlotByName(std::string_view method);

  const std::string version_;
  const std::vector<std::string>& labels_;  // rpc::Dispatcher::Labels()
  std::unique_ptr<Slot[]> slots_;           // one per label
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Slot>, std::less<>> other_slots_;  // names outside labels_; under mu_
  std::map<std::pair<std::string, std::string>, uint64_t> overflow_calls_;  // past kCodesPerLabel; under mu_
  std::map<std::pair<std::string, int>, uint64_t> http_;                    // (path, status) -> count; under mu_
};

}  // namespace supersafe::daemon
