#include "daemon/metrics.h"

#include <sstream>

namespace supersafe::daemon {

namespace {

constexpr uint64_t kUsed = uint64_t{1} << 32;

// One histogram as Render writes it: cumulative bucket counts, their total and the sum.
template <size_t N>
struct Histogram {
  std::array<uint64_t, N> cumulative{};
  uint64_t count = 0;
  double sum = 0;
};

template <size_t N>
Histogram<N> Cumulate(const std::array<std::atomic<uint64_t>, N + 1>& buckets, uint64_t sum_ns) {
  Histogram<N> h;
  for (size_t i = 0; i <= N; ++i) {
    h.count += buckets[i].load(std::memory_order_relaxed);
    if (i < N) h.cumulative[i] = h.count;
  }
  h.sum = static_cast<double>(sum_ns) / 1e9;
  return h;
}

// The bucket of `seconds`: the first bound at or above it, N when above all.
template <size_t N>
size_t BucketOf(const std::array<double, N>& bounds, double seconds) {
  size_t i = 0;
  while (i < N && seconds > bounds[i]) ++i;
  return i;
}

// A histogram's lines for one label set, `labels` ending in a comma or empty.
template <size_t N>
void WriteHistogram(std::ostream& out, const std::string& name, const std::string& labels,
                    const std::array<double, N>& bounds, const Histogram<N>& h) {
  for (size_t i = 0; i < N; ++i)
    out << name << "_bucket{" << labels << "le=\"" << bounds[i] << "\"} " << h.cumulative[i] << "\n";
  out << name << "_bucket{" << labels << "le=\"+Inf\"} " << h.count << "\n";
  const std::string plain = labels.empty() ? "" : "{" + labels.substr(0, labels.size() - 1) + "}";
  out << name << "_sum" << plain << " " << h.sum << "\n";
  out << name << "_count" << plain << " " << h.count << "\n";
}

}  // namespace

Metrics::Metrics(std::string version)
    : version_(std::move(version)),
      labels_(rpc::Dispatcher::Labels()),
      slots_(std::make_unique<Slot[]>(labels_.size())) {}

Metrics::Slot& Metrics::SlotByName(std::string_view method) {
  for (size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] == method) return slots_[i];
  std::lock_guard<std::mutex> g(mu_);
  auto it = other_slots_.find(method);
  if (it == other_slots_.end()) it = other_slots_.emplace(std::string(method), std::make_unique<Slot>()).first;
  return *it->second;  // never erased: the reference stays valid without the lock
}

void Metrics::RecordCall(const rpc::CallRecord& call) {
  Slot& slot = call.label < labels_.size() ? slots_[call.label] : SlotByName(call.method);
  Record(slot, call.method, call.code, call.elapsed);
}

void Metrics::Record(Slot& slot, std::string_view method, int code, std::chrono::nanoseconds elapsed) {
  const uint64_t key = kUsed | static_cast<uint32_t>(code);
  bool counted = false;
  for (size_t i = 0; i < kCodesPerLabel && !counted; ++i) {
    uint64_t k = slot.code_keys[i].load(std::memory_order_acquire);
    if (k == 0) {
      uint64_t expected = 0;
      if (slot.code_keys[i].compare_exchange_strong(expected, key, std::memory_order_acq_rel)) k = key;
      else k = expected;  // another thread took it: maybe for this code
    }
    if (k == key) {
      slot.code_counts[i].fetch_add(1, std::memory_order_relaxed);
      counted = true;
    }
  }
  if (!counted) {
    std::lock_guard<std::mutex> g(mu_);
    ++overflow_calls_[{std::string(method), std::to_string(code)}];
  }
  const double seconds = std::chrono::duration<double>(elapsed).count();
  slot.buckets[BucketOf(kBuckets, seconds)].fetch_add(1, std::memory_order_relaxed);
  slot.op_buckets[BucketOf(kOpBuckets, seconds)].fetch_add(1, std::memory_order_relaxed);
  slot.sum_ns.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, elapsed.count())), std::memory_order_relaxed);
}

void Metrics::RecordHttp(const std::string& path, int status) {
  std::lock_guard<std::mutex> g(mu_);
  ++http_[{path, status}];
}

std::string Metrics::Render(const std::map<ChainID, supervisor::Heads>& heads) const {
  std::ostringstream out;
  std::lock_guard<std::mutex> g(mu_);
  // The counters by name, sorted as the exposition lists them; a method no call reached is left out.
  std::map<std::pair<std::string, std::string>, uint64_t> calls = overflow_calls_;
  std::map<std::string, Histogram<kBuckets.size()>> latency;
  std::map<std::string, Histogram<kOpBuckets.size()>> op_latency;
  auto collect = [&](const std::string& name, const Slot& slot) {
    for (size_t i = 0; i < kCodesPerLabel; ++i) {
      const uint64_t key = slot.code_keys[i].load(std::memory_order_acquire);
      const uint64_t n = slot.code_counts[i].load(std::memory_order_relaxed);
      if (key == 0 || n == 0) continue;
      const int code = static_cast<int>(static_cast<uint32_t>(key));
      calls[{name, code == 0 ? "ok" : std::to_string(code)}] += n;
    }
    const uint64_t sum_ns = slot.sum_ns.load(std::memory_order_relaxed);
    auto h = Cumulate<kBuckets.size()>(slot.buckets, sum_ns);
    if (h.count == 0) return;
    latency[name] = h;
    op_latency[name] = Cumulate<kOpBuckets.size()>(slot.op_buckets, sum_ns);
  };
  for (size_t i = 0; i < labels_.size(); ++i) collect(labels_[i], slots_[i]);
  for (const auto& [name, slot] : other_slots_) collect(name, *slot);

  out << "# HELP supersafe_rpc_calls_total JSON-RPC calls by method and result (ok or the error code).\n"
         "# TYPE supersafe_rpc_calls_total counter\n";
  for (const auto& [key, n] : calls)
    out << "supersafe_rpc_calls_total{method=\"" << key.first << "\",result=\"" << key.second << "\"} " << n << "\n";
  out << "# HELP supersafe_rpc_call_seconds JSON-RPC call latency by method, lock wait included.\n"
         "# TYPE supersafe_rpc_call_seconds histogram\n";
  for (const auto& [method, h] : latency)
    WriteHistogram(out, "supersafe_rpc_call_seconds", "method=\"" + method + "\",", kBuckets, h);
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
  for (const auto& [method, h] : op_latency)
    out << "op_supervisor_default_rpc_server_requests_total{method=\"" << method << "\"} " << h.count << "\n";
  out << "# HELP op_supervisor_default_rpc_server_request_duration_seconds Histogram of RPC server request durations\n"
         "# TYPE op_supervisor_default_rpc_server_request_duration_seconds histogram\n";
  for (const auto& [method, h] : op_latency)
    WriteHistogram(out, "op_supervisor_default_rpc_server_request_duration_seconds", "method=\"" + method + "\",",
                   kOpBuckets, h);
  return out.str();
}

}  // namespace supersafe::daemon
