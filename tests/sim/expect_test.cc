// The expectation forms (sim/expectations.h) can fail: each one, given a wrong value after a run
// that passes with the right one, fails the run as a failed expectation naming what it expected
// and what it saw.
#include <gtest/gtest.h>

#include <string>

#include "sim/runner.h"
#include "sim/scenario.h"

namespace supersafe::sim {
namespace {

// A: m1 at block 1, block 2 plain. B: block 1 plain, block 2 forces a wrong payload (replaced at L1
// 1, its pending output kept), block 3 unsafe only. C: nothing. Then one expectation.
constexpr const char* kWorld = R"(name: forms
chains:
  - {name: A, id: 900}
  - {name: B, id: 901}
  - {name: C, id: 902}
steps:
  - build: {chain: A, logs: [{init: m1}]}
  - build: {chain: A}
  - build: {chain: B}
  - build: {chain: B, force: true, logs: [{exec: {chain: A, block: 1, log: 0, payload: m9}}]}
  - build: {chain: C, blocks: 2}
  - batch: {chain: A}
  - batch: {chain: B}
  - batch: {chain: C}
  - mine: 1
  - build: {chain: B}
  - mine: 1
)";

RunResult RunWith(const std::string& last_steps) {
  auto sc = ParseScenario(std::string(kWorld) + last_steps, "forms.yaml");
  SS_CHECK(sc.ok(), sc.status().ToString());
  return RunScenario(*sc, RunOptions{});
}

struct Form {
  const char* name;
  const char* holds;    // passes on kWorld
  const char* fails;    // the same form with a wrong value
  const char* message;  // part of the failure
};

const Form kForms[] = {
    {"several chains", "  - expect: {chains: {A: {cross_safe: 2}, B: {cross_safe: 2, unsafe: 3}}}\n",
     "  - expect: {chains: {A: {cross_safe: 2}, B: {cross_safe: 3}, C: {local_safe: 1}}}\n",
     "B cross_safe: expected 3, saw 2; C local_safe: expected 1, saw 2"},
    {"local-safe source", "  - expect: {chain: A, local_safe_source: 2}\n", "  - expect: {chain: A, local_safe_source: 1}\n",
     "A local_safe_source: expected L1 #1, saw L1 #2"},
    {"cross-safe source", "  - expect: {chain: B, cross_safe_source: 1}\n", "  - expect: {chain: B, cross_safe_source: 2}\n",
     "B cross_safe_source: expected L1 #2, saw L1 #1"},
    {"block source", "  - expect: {chain: A, block: 2, source: 1}\n", "  - expect: {chain: A, block: 2, source: 0}\n",
     "A#2 source: expected L1 #0, saw L1 #1"},
    {"block source error", "  - expect: {chain: B, block: 3, source: FUTURE_DATA}\n",
     "  - expect: {chain: B, block: 3, source: 2}\n", "B#3 source: expected L1 #2, saw FUTURE_DATA"},
    {"block source, not an error", "  - expect: {chain: B, block: 1, source: 1}\n",
     "  - expect: {chain: B, block: 1, source: FUTURE_DATA}\n", "B#1 source: expected FUTURE_DATA, saw L1 #1"},
    {"pending original", "  - expect: {chain: B, block: 2, pending: original}\n",
     "  - expect: {chain: B, block: 1, pending: original}\n", "B#1 pending: expected the output of the block it replaced"},
    {"pending none", "  - expect: {chain: B, block: 1, pending: none}\n", "  - expect: {chain: B, block: 2, pending: none}\n",
     "B#2 pending: expected none, saw 0x"},
    {"pending bytes",
     "  - expect: {chain: B, block: 2, replaced: true}\n",
     "  - expect: {chain: B, block: 2, pending: 0x"
     "0000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000}\n",
     "B#2 pending: expected 0x0000"},
    {"super root source", "  - expect: {super_root: {timestamp: 1004, source: 1}}\n",
     "  - expect: {super_root: {timestamp: 1004, source: 2}}\n", "super root at 1004 source: expected L1 #2, saw L1 #1"},
    {"super root error", "  - expect: {super_root: {timestamp: 1006, source: FUTURE_DATA}}\n",
     "  - expect: {super_root: {timestamp: 1006}}\n", "super root at 1006: expected a root, saw FUTURE_DATA"},
    {"super root, not an error", "  - expect: {super_root: {timestamp: 1002}}\n",
     "  - expect: {super_root: {timestamp: 1002, source: FUTURE_DATA}}\n",
     "super root at 1002: expected FUTURE_DATA, saw a root derived from L1 #1"},
    {"super root bytes", "  - expect: {super_root: {timestamp: 1000, source: 0}}\n",
     "  - expect: {super_root: {timestamp: 1000, root: "
     "0x0000000000000000000000000000000000000000000000000000000000000001}}\n",
     "super root at 1000: expected 0x0000000000000000000000000000000000000000000000000000000000000001, saw 0x"},
    {"super root pending", "  - expect: {super_root: {timestamp: 1004, pending: {A: none, B: original}}}\n",
     "  - expect: {super_root: {timestamp: 1004, pending: {B: none}}}\n", "super root at 1004 B pending: expected none"},
    {"rewind answer", "  - rewind: {chain: B, block: 3}\n  - expect: {result: ok}\n",
     "  - rewind: {chain: B, block: 1}\n  - expect: {result: ok}\n",
     "rewind result: expected a result, saw CONFLICTING_DATA"},
    {"rewind error", "  - rewind: {chain: B, block: 1}\n  - expect: {error: CONFLICTING_DATA}\n",
     "  - rewind: {chain: B, block: 2}\n  - expect: {error: CONFLICTING_DATA}\n",
     "rewind error: expected CONFLICTING_DATA, saw success"},
};

TEST(ExpectForms, EachHoldsWithTheRightValueAndFailsWithAWrongOne) {
  for (const Form& f : kForms) {
    RunResult ok = RunWith(f.holds);
    EXPECT_TRUE(ok.passed) << f.name << ": " << ok.failure;
    RunResult bad = RunWith(f.fails);
    EXPECT_FALSE(bad.passed) << f.name;
    EXPECT_EQ(bad.failure_kind, FailureKind::kExpectation) << f.name << ": " << bad.failure;
    EXPECT_NE(bad.failure.find(f.message), std::string::npos) << f.name << ": " << bad.failure;
  }
}

}  // namespace
}  // namespace supersafe::sim
