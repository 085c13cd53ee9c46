// Fuzzer throughput (bench/README.md, "fuzzer"): generated cases per CPU second on one thread, as
// `supersafe fuzz --jobs 1` runs them (sim::RunCase: render, parse, run with every check after every
// step, no trace kept), on the simulated disk over memory and over real files in one process, so
// that the ratio of the two is measured under the same conditions.
//
// The cases: seeds 1..200 of the default fuzz profile (sim/fuzz.h) with 100 steps a case (20 with
// SUPERSAFE_BENCH_SMOKE=1), generated before the timing starts; iteration i runs case i mod 200. The
// real files go under $TMPDIR (run it with TMPDIR=/dev/shm to measure the code, not the disk). A
// case that fails other than by a step the world cannot do stops the benchmark with an error.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "sim/fuzz.h"

namespace {

using supersafe::sim::DiskKind;
using supersafe::sim::FailureKind;
using supersafe::sim::FuzzCase;
using supersafe::sim::FuzzProfile;

bool Smoke() {
  const char* env = std::getenv("SUPERSAFE_BENCH_SMOKE");
  return env != nullptr && std::string(env) == "1";
}

const std::vector<FuzzCase>& Cases() {
  static const std::vector<FuzzCase> cases = [] {
    FuzzProfile profile;
    profile.steps = Smoke() ? 20 : 100;
    std::vector<FuzzCase> out;
    for (uint64_t seed = 1; seed <= 200; ++seed) out.push_back(supersafe::sim::GenerateCase(seed, profile));
    return out;
  }();
  return cases;
}

void BM_FuzzCases(benchmark::State& state, DiskKind disk) {
  const std::vector<FuzzCase>& cases = Cases();
  size_t next = 0;
  uint64_t steps = 0;
  for (auto _ : state) {
    const FuzzCase& c = cases[next++ % cases.size()];
    const supersafe::sim::RunResult r = supersafe::sim::RunCase(c, disk);
    if (!r.passed && r.failure_kind != FailureKind::kStep) {
      state.SkipWithError(("seed " + std::to_string(c.seed) + " failed: " + r.failure).c_str());
      break;
    }
    steps += c.steps.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));  // items: cases
  state.counters["steps_per_case"] =
      state.iterations() > 0 ? static_cast<double>(steps) / static_cast<double>(state.iterations()) : 0;
}

BENCHMARK_CAPTURE(BM_FuzzCases, memory, DiskKind::kMemory)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FuzzCases, posix, DiskKind::kPosix)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
