// Keccak256Many and Crc32cMany split over two threads against the same batch done inline
// (bench/README.md, "Keccak-256 over both cores" and "Catching up with the seals' CRCs over both
// cores"): batches of 64-byte inputs for Keccak (one permutation each, like the event-log DB's
// access-list checksums) and of 810-byte ones for CRC-32C (super-safe-db groups), the two ways
// interleaved in one loop so that both see the same load.
// calls batches come back to back (the event-log DB hashes two rounds per append), then gap_us
// sleeps, as a DB append does while it waits for fdatasync, so that the worker has gone to sleep
// when the next batch comes.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "core/check.h"
#include "core/crypto.h"

namespace supersafe {
namespace {

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
    ->MinTime(1);

// The same for Crc32cMany: batches of 810-byte inputs (super-safe-db groups of 8 chains).
void BM_Crc32cMany(benchmark::State& state) {
  constexpr size_t kLen = 810;
  const size_t batch = static_cast<size_t>(state.range(0));
  const auto gap_us = static_cast<useconds_t>(state.range(1));
  const int calls = static_cast<int>(state.range(2));
  Bytes data(kLen * batch);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  std::vector<ByteSpan> in(batch);
  for (size_t i = 0; i < batch; ++i) in[i] = ByteSpan(data.data() + kLen * i, kLen);
  std::vector<uint32_t> a(batch), b(batch);
  Clock::duration inline_time{}, many_time{};
  uint64_t round = 0;
  for (auto _ : state) {
    const bool inline_first = ++round % 2 == 0;
    for (int side = 0; side < 2; ++side) {
      if (gap_us > 0) ::usleep(gap_us);
      const auto start = Clock::now();
      if ((side == 0) == inline_first) {
        for (int c = 0; c < calls; ++c) Crc32cManyInline(in, a);
        inline_time += Clock::now() - start;
      } else {
        for (int c = 0; c < calls; ++c) Crc32cMany(in, b);
        many_time += Clock::now() - start;
      }
    }
    data[kLen * (round % batch)] ^= 1;  // new inputs every round
  }
  SS_CHECK(a == b, "Crc32cMany and Crc32cManyInline disagree");
  const double inputs = static_cast<double>(state.iterations()) * static_cast<double>(batch) * calls;
  const double inline_s = std::chrono::duration<double>(inline_time).count();
  const double many_s = std::chrono::duration<double>(many_time).count();
  state.counters["inline_us_per_batch"] = inline_s * 1e6 * static_cast<double>(batch) / inputs;
  state.counters["many_us_per_batch"] = many_s * 1e6 * static_cast<double>(batch) / inputs;
  state.counters["speedup"] = inline_s / many_s;
}
BENCHMARK(BM_Crc32cMany)
    ->ArgNames({"batch", "gap_us", "calls"})
    ->ArgsProduct({{64, 128, 256, 324, 512, 1000, 2000}, {0}, {1}})
    ->ArgsProduct({{64, 128, 256, 324, 512, 1000, 2000}, {1000}, {1}})
    ->MinTime(1);

}  // namespace
}  // namespace supersafe

BENCHMARK_MAIN();
