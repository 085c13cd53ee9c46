// The Prometheus text of daemon/metrics.h, byte for byte (names, label order, sorting, bucket
// bounds, number format), and its counts under calls recorded from many threads at once.
#include <gtest/gtest.h>

#include <thread>

#include "daemon/metrics.h"

namespace supersafe::daemon {
namespace {

using namespace std::chrono_literals;

rpc::CallRecord Call(std::string_view method, int code, std::chrono::nanoseconds elapsed) {
  return rpc::CallRecord{method, code, elapsed};
}

TEST(MetricsTest, ExpositionText) {
  Metrics m("v1.2.3");
  m.RecordCall(Call("supervisor_localUnsafe", 0, 200us));
  m.RecordCall(Call("supervisor_localUnsafe", -320501, 3ms));
  m.RecordCall(Call("supervisor_localUnsafe", 0, 20ms));
  m.RecordCall(Call("unknown", -32601, 2s));
  m.RecordCall(Call("invalid", -32600, 0ns));
  m.RecordCall(Call("supervisor_checkAccessList", 0, 1ms));
  m.RecordHttp("/", 200);
  m.RecordHttp("/", 200);
  m.RecordHttp("/metrics", 200);
  m.RecordHttp("other", 404);
  std::map<ChainID, supervisor::Heads> heads;
  heads[ChainID(uint64_t{900})].unsafe.number = 7;
  heads[ChainID(uint64_t{900})].cross_safe.number = 3;
  heads[ChainID(uint64_t{901})].finalized.number = 1;
  const std::string expected = R"(# HELP supersafe_rpc_calls_total JSON-RPC calls by method and result (ok or the error code).
# TYPE supersafe_rpc_calls_total counter
supersafe_rpc_calls_total{method="invalid",result="-32600"} 1
supersafe_rpc_calls_total{method="supervisor_checkAccessList",result="ok"} 1
supersafe_rpc_calls_total{method="supervisor_localUnsafe",result="-320501"} 1
supersafe_rpc_calls_total{method="supervisor_localUnsafe",result="ok"} 2
supersafe_rpc_calls_total{method="unknown",result="-32601"} 1
# HELP supersafe_rpc_call_seconds JSON-RPC call latency by method, lock wait included.
# TYPE supersafe_rpc_call_seconds histogram
supersafe_rpc_call_seconds_bucket{method="invalid",le="0.0005"} 1
supersafe_rpc_call_seconds_bucket{method="invalid",le="0.001"} 1
supersafe_rpc_call_seconds_bucket{method="invalid",le="0.005"} 1
supersafe_rpc_call_seconds_bucket{method="invalid",le="0.01"} 1
supersafe_rpc_call_seconds_bucket{method="invalid",le="0.05"} 1
supersafe_rpc_call_seconds_bucket{method="invalid",le="0.1"} 1
supersafe_rpc_call_seconds_bucket{method="invalid",le="0.5"} 1
supersafe_rpc_call_seconds_bucket{method="invalid",le="1"} 1
supersafe_rpc_call_seconds_bucket{method="invalid",le="+Inf"} 1
supersafe_rpc_call_seconds_sum{method="invalid"} 0
supersafe_rpc_call_seconds_count{method="invalid"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_checkAccessList",le="0.0005"} 0
supersafe_rpc_call_seconds_bucket{method="supervisor_checkAccessList",le="0.001"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_checkAccessList",le="0.005"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_checkAccessList",le="0.01"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_checkAccessList",le="0.05"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_checkAccessList",le="0.1"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_checkAccessList",le="0.5"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_checkAccessList",le="1"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_checkAccessList",le="+Inf"} 1
supersafe_rpc_call_seconds_sum{method="supervisor_checkAccessList"} 0.001
supersafe_rpc_call_seconds_count{method="supervisor_checkAccessList"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_localUnsafe",le="0.0005"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_localUnsafe",le="0.001"} 1
supersafe_rpc_call_seconds_bucket{method="supervisor_localUnsafe",le="0.005"} 2
supersafe_rpc_call_seconds_bucket{method="supervisor_localUnsafe",le="0.01"} 2
supersafe_rpc_call_seconds_bucket{method="supervisor_localUnsafe",le="0.05"} 3
supersafe_rpc_call_seconds_bucket{method="supervisor_localUnsafe",le="0.1"} 3
supersafe_rpc_call_seconds_bucket{method="supervisor_localUnsafe",le="0.5"} 3
supersafe_rpc_call_seconds_bucket{method="supervisor_localUnsafe",le="1"} 3
supersafe_rpc_call_seconds_bucket{method="supervisor_localUnsafe",le="+Inf"} 3
supersafe_rpc_call_seconds_sum{method="supervisor_localUnsafe"} 0.0232
supersafe_rpc_call_seconds_count{method="supervisor_localUnsafe"} 3
supersafe_rpc_call_seconds_bucket{method="unknown",le="0.0005"} 0
supersafe_rpc_call_seconds_bucket{method="unknown",le="0.001"} 0
supersafe_rpc_call_seconds_bucket{method="unknown",le="0.005"} 0
supersafe_rpc_call_seconds_bucket{method="unknown",le="0.01"} 0
supersafe_rpc_call_seconds_bucket{method="unknown",le="0.05"} 0
supersafe_rpc_call_seconds_bucket{method="unknown",le="0.1"} 0
supersafe_rpc_call_seconds_bucket{method="unknown",le="0.5"} 0
supersafe_rpc_call_seconds_bucket{method="unknown",le="1"} 0
supersafe_rpc_call_seconds_bucket{method="unknown",le="+Inf"} 1
supersafe_rpc_call_seconds_sum{method="unknown"} 2
supersafe_rpc_call_seconds_count{method="unknown"} 1
# HELP supersafe_http_responses_total HTTP responses by path and status.
# TYPE supersafe_http_responses_total counter
supersafe_http_responses_total{path="/",status="200"} 2
supersafe_http_responses_total{path="/metrics",status="200"} 1
supersafe_http_responses_total{path="other",status="404"} 1
# HELP supersafe_head Block number of each chain's head by safety level.
# TYPE supersafe_head gauge
supersafe_head{chain="900",level="unsafe"} 7
supersafe_head{chain="900",level="cross_unsafe"} 0
supersafe_head{chain="900",level="local_safe"} 0
supersafe_head{chain="900",level="cross_safe"} 3
supersafe_head{chain="900",level="finalized"} 0
supersafe_head{chain="901",level="unsafe"} 0
supersafe_head{chain="901",level="cross_unsafe"} 0
supersafe_head{chain="901",level="local_safe"} 0
supersafe_head{chain="901",level="cross_safe"} 0
supersafe_head{chain="901",level="finalized"} 1
)";
  const std::string text = m.Render(heads);
  ASSERT_EQ(text.substr(0, expected.size()), expected);
  const std::string op = text.substr(expected.size());
  const std::string op_expected = R"(# HELP op_supervisor_default_up 1 if the op-supervisor has finished starting up
# TYPE op_supervisor_default_up gauge
op_supervisor_default_up 1
# HELP op_supervisor_default_info Pseudo-metric tracking version and config info
# TYPE op_supervisor_default_info gauge
op_supervisor_default_info{version="v1.2.3"} 1
# HELP op_supervisor_default_rpc_server_requests_total Total requests to the RPC server
# TYPE op_supervisor_default_rpc_server_requests_total counter
op_supervisor_default_rpc_server_requests_total{method="invalid"} 1
op_supervisor_default_rpc_server_requests_total{method="supervisor_checkAccessList"} 1
op_supervisor_default_rpc_server_requests_total{method="supervisor_localUnsafe"} 3
op_supervisor_default_rpc_server_requests_total{method="unknown"} 1
# HELP op_supervisor_default_rpc_server_request_duration_seconds Histogram of RPC server request durations
# TYPE op_supervisor_default_rpc_server_request_duration_seconds histogram
)";
  ASSERT_EQ(op.substr(0, op_expected.size()), op_expected);
  const std::string local = R"(op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="0.005"} 2
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="0.01"} 2
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="0.025"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="0.05"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="0.1"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="0.25"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="0.5"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="1"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="2.5"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="5"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="10"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="supervisor_localUnsafe",le="+Inf"} 3
op_supervisor_default_rpc_server_request_duration_seconds_sum{method="supervisor_localUnsafe"} 0.0232
op_supervisor_default_rpc_server_request_duration_seconds_count{method="supervisor_localUnsafe"} 3
op_supervisor_default_rpc_server_request_duration_seconds_bucket{method="unknown",le="0.005"} 0
)";
  EXPECT_NE(op.find(local), std::string::npos) << op;
  // The op-service histograms come in the same method order, four of them.
  EXPECT_LT(op.find("duration_seconds_count{method=\"invalid\"} 1\n"),
            op.find("duration_seconds_count{method=\"supervisor_checkAccessList\"} 1\n"));
  const std::string last = "\nop_supervisor_default_rpc_server_request_duration_seconds_count{method=\"unknown\"} 1\n";
  EXPECT_EQ(op.substr(op.size() - last.size()), last);
}

// No call is lost when many threads record at once.
TEST(MetricsTest, CountsUnderConcurrentCalls) {
  Metrics m;
  constexpr int kThreads = 4, kCalls = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        m.RecordCall(Call(i % 2 ? "supervisor_crossSafe" : "supervisor_checkAccessList", 0, 100us));
        if (i % 100 == 0) m.RecordCall(Call("supervisor_crossSafe", -320501 - t % 2, 2ms));
        if (i % 1000 == 0) m.RecordHttp("/", 200);
      }
    });
  }
  std::string during;
  for (int i = 0; i < 20; ++i) during = m.Render({});  // renders while calls are recorded
  for (auto& t : threads) t.join();
  const std::string text = m.Render({});
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  const int n = kThreads * kCalls / 2, errors = kThreads / 2 * (kCalls / 100);
  EXPECT_TRUE(has("supersafe_rpc_calls_total{method=\"supervisor_checkAccessList\",result=\"ok\"} " + std::to_string(n))) << text;
  EXPECT_TRUE(has("supersafe_rpc_calls_total{method=\"supervisor_crossSafe\",result=\"ok\"} " + std::to_string(n)));
  EXPECT_TRUE(has("supersafe_rpc_calls_total{method=\"supervisor_crossSafe\",result=\"-320501\"} " + std::to_string(errors)));
  EXPECT_TRUE(has("supersafe_rpc_calls_total{method=\"supervisor_crossSafe\",result=\"-320502\"} " + std::to_string(errors)));
  EXPECT_TRUE(has("supersafe_rpc_call_seconds_count{method=\"supervisor_crossSafe\"} " + std::to_string(n + 2 * errors)));
  EXPECT_TRUE(has("supersafe_rpc_call_seconds_bucket{method=\"supervisor_crossSafe\",le=\"0.0005\"} " + std::to_string(n)));
  EXPECT_TRUE(has("op_supervisor_default_rpc_server_requests_total{method=\"supervisor_checkAccessList\"} " + std::to_string(n)));
  EXPECT_TRUE(has("supersafe_http_responses_total{path=\"/\",status=\"200\"} " + std::to_string(kThreads * kCalls / 1000)));
}

// More distinct results than a method has lock-free counters for, and a name outside the
// dispatcher's labels: still each counted once, in the same sorted text.
TEST(MetricsTest, ManyResultCodesAndNamesOutsideTheSurface) {
  Metrics m;
  for (int code = 1; code <= 40; ++code) {
    m.RecordCall(Call("supervisor_syncStatus", -code, 1ms));
    m.RecordCall(Call("supervisor_syncStatus", -code, 1ms));
  }
  m.RecordCall(Call("a_name_of_another_observer", 5, 1ms));
  const std::string text = m.Render({});
  for (int code = 1; code <= 40; ++code)
    EXPECT_NE(text.find("supersafe_rpc_calls_total{method=\"supervisor_syncStatus\",result=\"-" + std::to_string(code) +
                        "\"} 2\n"),
              std::string::npos)
        << code;
  EXPECT_LT(text.find("result=\"-1\"}"), text.find("result=\"-10\"}"));
  EXPECT_LT(text.find("result=\"-10\"}"), text.find("result=\"-2\"}"));
  EXPECT_NE(text.find("supersafe_rpc_call_seconds_count{method=\"supervisor_syncStatus\"} 80\n"), std::string::npos);
  EXPECT_LT(text.find("supersafe_rpc_calls_total{method=\"a_name_of_another_observer\",result=\"5\"} 1\n"),
            text.find("supersafe_rpc_calls_total{method=\"supervisor_syncStatus\""));
}

}  // namespace
}  // namespace supersafe::daemon
