// Crc32cMany computes what Crc32c computes one input at a time, split with the worker thread it
// shares with Keccak256Many or not.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>
#include <vector>

#include "core/crypto.h"

namespace supersafe {
namespace {

// `count` inputs: mostly 810 bytes (a super-safe-db group of 8 chains), with short, empty, odd
// and long ones.
std::vector<Bytes> RandomInputs(std::mt19937_64& rng, size_t count) {
  std::vector<Bytes> inputs(count);
  for (Bytes& b : inputs) {
    const size_t kind = rng() % 8;
    const size_t len = kind == 0 ? rng() % 16 : kind == 1 ? 90 + rng() % 8000 : kind == 2 ? rng() % 811 : 810;
    b.resize(len);
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
  }
  return inputs;
}

size_t TotalBytes(const std::vector<Bytes>& inputs) {
  size_t n = 0;
  for (const Bytes& b : inputs) n += b.size();
  return n;
}

// Crc32cMany (and Crc32cManyInline) against Crc32c one by one; the number of mismatches.
size_t Mismatches(const std::vector<Bytes>& inputs) {
  std::vector<ByteSpan> spans(inputs.begin(), inputs.end());
  std::vector<uint32_t> many(inputs.size(), 0xDEADBEEF), once(inputs.size(), 0xDEADBEEF);
  Crc32cMany(spans, many);
  Crc32cManyInline(spans, once);
  size_t bad = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const uint32_t want = Crc32c(spans[i]);
    bad += (many[i] == want ? 0 : 1) + (once[i] == want ? 0 : 1);
  }
  return bad;
}

// A batch of 810-byte inputs just below, at or above the split threshold.
std::vector<Bytes> GroupsOfTotal(std::mt19937_64& rng, size_t total) {
  std::vector<Bytes> inputs(total / 810, Bytes(810));
  if (total % 810 != 0) inputs.push_back(Bytes(total % 810));
  for (Bytes& b : inputs)
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
  return inputs;
}

TEST(Crc32cMany, KnownVectors) {
  const std::string_view check = "123456789";
  const ByteSpan in[] = {ByteSpan(), ByteSpan(reinterpret_cast<const uint8_t*>(check.data()), check.size())};
  uint32_t out[2] = {1, 1};
  Crc32cMany(in, out);
  EXPECT_EQ(out[0], 0u);
  EXPECT_EQ(out[1], 0xE3069283u);
}

TEST(Crc32cMany, EqualsCrc32cAroundAndAboveTheSplitThreshold) {
  std::mt19937_64 rng(3);
  constexpr size_t kMin = kCrc32cManySplitMinBytes;
  for (size_t total : {size_t{0}, size_t{810}, kMin - 1, kMin, kMin + 1, 2 * kMin + 7, size_t{810'000}}) {
    const std::vector<Bytes> inputs = GroupsOfTotal(rng, total);
    ASSERT_EQ(TotalBytes(inputs), total);
    EXPECT_EQ(Mismatches(inputs), 0u) << total << " bytes";
  }
  // One input over the threshold is never split, and is still right.
  EXPECT_EQ(Mismatches({Bytes(2 * kMin, 0x5A)}), 0u);
  for (size_t count : {size_t{1}, size_t{2}, size_t{7}, size_t{100}, size_t{1000}, size_t{5003}})
    for (int round = 0; round < 3; ++round)
      EXPECT_EQ(Mismatches(RandomInputs(rng, count)), 0u) << count << " inputs, round " << round;
}

TEST(Crc32cMany, ConcurrentCallersOfBothBatchFunctionsEachGetTheirOwnResults) {
  // Crc32cMany and Keccak256Many callers at once share one worker: one batch at a time has its
  // help, the others run inline; every output is its own input's.
  constexpr int kThreads = 4;
  std::vector<size_t> bad(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &bad] {
      std::mt19937_64 rng(200 + t);
      for (int round = 0; round < 30; ++round) {
        if (t % 2 == 0) {
          const size_t count = round % 3 == 0 ? rng() % 64 : 300 + rng() % 1500;
          bad[t] += Mismatches(RandomInputs(rng, count));
        } else {
          std::vector<Bytes> inputs(kKeccak256ManySplitMin + rng() % 1000);
          for (Bytes& b : inputs) {
            b.resize(rng() % 200);
            for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
          }
          std::vector<ByteSpan> spans(inputs.begin(), inputs.end());
          std::vector<Hash> out(spans.size());
          Keccak256Many(spans, out);
          for (size_t i = 0; i < spans.size(); ++i) bad[t] += out[i] == Keccak256(spans[i]) ? 0 : 1;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(bad[t], 0u) << "thread " << t;
}

TEST(Crc32cMany, WorksInAForkedChildAndItsExit) {
  std::mt19937_64 rng(9);
  ASSERT_EQ(Mismatches(GroupsOfTotal(rng, 4 * kCrc32cManySplitMinBytes)), 0u);  // the worker runs now
  const std::vector<Bytes> inputs = GroupsOfTotal(rng, 4 * kCrc32cManySplitMinBytes);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(20);  // a hang fails the test instead of blocking it
    std::exit(Mismatches(inputs) == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child did not exit normally, status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace supersafe
