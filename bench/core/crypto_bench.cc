// Keccak256Many split over two threads against the same batch done inline (bench/README.md,
// "Keccak-256 over both cores"): batches of 64-byte inputs (one permutation each, like the
// event-log DB's access-list checksums), the two ways interleaved in one loop so that both see the
// same load; and CRC-32C from ISA-L against Crypto++'s.
// calls batches come back to back (the event-log DB hashes two rounds per append), then gap_us
// sleeps, as a DB append does while it waits for fdatasync, so that the worker has gone to sleep
// when the next batch comes.
// Timed regions: Keccak256Many, `calls` batches each way per iteration, the two ways timed apart
// (the counters); Crc32c, one checksum of `bytes` each way. SUPERSAFE_BENCH_SMOKE=1: minimal
// run times (the bench-smoke test suite).
#include <benchmark/benchmark.h>
#include <cryptopp/crc.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/crypto.h"

namespace supersafe {
namespace {

bool Smoke() {
  const char* env = std::getenv("SUPERSAFE_BENCH_SMOKE");
  return env != nullptr && std::string(env) == "1";
}

using Clock = std::chrono::steady_clock;

void BM_Keccak256Many(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  const auto gap_us = static_cast<useconds_t>(state.range(1));
  const int calls = static_cast<int>(state.range(2));
  Bytes data(64 * batch);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  std::vector<ByteSpan> in(batch);
  for (size_t i = 0; i < batch; ++i) in[i] = ByteSpan(data.data() + 64 * i, 64);
  std::vector<Hash> a(batch), b(batch);
  Clock::duration inline_time{}, many_time{};
  uint64_t round = 0;
  for (auto _ : state) {
    const bool inline_first = ++round % 2 == 0;
    for (int side = 0; side < 2; ++side) {
      if (gap_us > 0) ::usleep(gap_us);
      const auto start = Clock::now();
      if ((side == 0) == inline_first) {
        for (int c = 0; c < calls; ++c) Keccak256ManyInline(in, a);
        inline_time += Clock::now() - start;
      } else {
        for (int c = 0; c < calls; ++c) Keccak256Many(in, b);
        many_time += Clock::now() - start;
      }
    }
    data[64 * (round % batch)] ^= 1;  // new inputs every round
  }
  SS_CHECK(a == b, "Keccak256Many and Keccak256ManyInline disagree");
  const double hashes = static_cast<double>(state.iterations()) * static_cast<double>(batch) * calls;
  const double inline_s = std::chrono::duration<double>(inline_time).count();
  const double many_s = std::chrono::duration<double>(many_time).count();
  state.counters["inline_ns_per_hash"] = inline_s * 1e9 / hashes;
  state.counters["many_ns_per_hash"] = many_s * 1e9 / hashes;
  state.counters["speedup"] = inline_s / many_s;
}
BENCHMARK(BM_Keccak256Many)
    ->ArgNames({"batch", "gap_us", "calls"})
    ->ArgsProduct({{64, 100, 128, 256, 512, 1000, 10000}, {0}, {1}})
    ->ArgsProduct({{64, 100, 128, 256, 512, 1000, 10000}, {300}, {2}})
    ->MinTime(Smoke() ? 0.01 : 1);

// CRC-32C as the project computes it (ISA-L) against Crypto++'s CRC32C (what it used before), the
// same bytes alternately in one loop: 810 bytes (one super-safe-db group of 8 chains), 8120 bytes
// (an event-DB block of 100 logs) and 810,000 bytes (a catch-up batch of 1,000 groups).
void BM_Crc32c_vs_CryptoPP(benchmark::State& state) {
  const size_t len = static_cast<size_t>(state.range(0));
  Bytes data(len);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  Clock::duration ours{}, cryptopp{};
  uint32_t a = 0, b = 0;
  for (auto _ : state) {
    auto start = Clock::now();
    a = Crc32c(data);
    ours += Clock::now() - start;
    start = Clock::now();
    CryptoPP::CRC32C c;
    c.Update(data.data(), data.size());
    uint8_t out[4];
    c.Final(out);
    cryptopp += Clock::now() - start;
    b = uint32_t{out[0]} | uint32_t{out[1]} << 8 | uint32_t{out[2]} << 16 | uint32_t{out[3]} << 24;
    data[state.iterations() % len] ^= 1;  // new input every round
  }
  SS_CHECK(a == b, "ISA-L and Crypto++ disagree on a CRC-32C");
  const double bytes = static_cast<double>(state.iterations()) * static_cast<double>(len);
  state.counters["isal_GB_per_s"] = bytes / std::chrono::duration<double, std::nano>(ours).count();
  state.counters["cryptopp_GB_per_s"] = bytes / std::chrono::duration<double, std::nano>(cryptopp).count();
  state.counters["speedup"] = std::chrono::duration<double>(cryptopp) / std::chrono::duration<double>(ours);
}
BENCHMARK(BM_Crc32c_vs_CryptoPP)->ArgName("bytes")->Arg(810)->Arg(8120)->Arg(810000)->MinTime(Smoke() ? 0.01 : 0.5);

}  // namespace
}  // namespace supersafe

BENCHMARK_MAIN();
