// Keccak256Many hashes like Keccak256, whatever the mix of input lengths; both count the
// permutations they run (core/keccak_count.h).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>
#include <vector>

#include "core/crypto.h"
#include "core/keccak_count.h"

namespace supersafe {
namespace {

// `count` inputs of random lengths: mostly one Keccak block (as the event-log DB's and the log
// hashes' inputs are), with the edges of the rate and some of several blocks.
std::vector<Bytes> RandomInputs(std::mt19937_64& rng, size_t count) {
  std::vector<Bytes> inputs(count);
  for (Bytes& b : inputs) {
    const size_t kind = rng() % 8;
    const size_t len = kind == 0 ? 136 + rng() % 400 : kind == 1 ? 135 + rng() % 2 : rng() % 136;
    b.resize(len);
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
  }
  return inputs;
}

// Keccak256Many against Keccak256 one by one; the number of mismatches.
size_t Mismatches(const std::vector<Bytes>& inputs) {
  std::vector<ByteSpan> spans(inputs.begin(), inputs.end());
  std::vector<Hash> out(inputs.size());
  Keccak256Many(spans, out);
  size_t bad = 0;
  for (size_t i = 0; i < inputs.size(); ++i) bad += out[i] == Keccak256(spans[i]) ? 0 : 1;
  return bad;
}

TEST(Keccak256Many, SplitBatchesEqualKeccak256OneByOne) {
  // Around the split threshold and well above it (split between the caller and the worker).
  std::mt19937_64 rng(11);
  constexpr size_t kMin = kKeccak256ManySplitMin;
  for (size_t count : {size_t{0}, size_t{1}, kMin - 1, kMin, kMin + 1, 2 * kMin + 3, size_t{5000}, size_t{20011}}) {
    for (int round = 0; round < 3; ++round)
      EXPECT_EQ(Mismatches(RandomInputs(rng, count)), 0u) << count << " inputs, round " << round;
  }
}

TEST(Keccak256Many, ConcurrentCallersEachGetTheirOwnHashes) {
  // Several threads at once, with batches on both sides of the threshold: one of them at a time
  // has the worker's help, the others hash inline; every output is its own input's hash.
  constexpr int kThreads = 4;
  std::vector<size_t> bad(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &bad] {
      std::mt19937_64 rng(100 + t);
      for (int round = 0; round < 40; ++round) {
        const size_t count = round % 3 == 0 ? rng() % kKeccak256ManySplitMin : kKeccak256ManySplitMin + rng() % 3000;
        bad[t] += Mismatches(RandomInputs(rng, count));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(bad[t], 0u) << "thread " << t;
}

TEST(Keccak256Many, WorksInAForkedChildAndItsExit) {
  // The worker's thread is not copied into a child: the child hashes inline and exits normally
  // (its copy of the worker is not joined).
  std::mt19937_64 rng(5);
  ASSERT_EQ(Mismatches(RandomInputs(rng, 4 * kKeccak256ManySplitMin)), 0u);  // the worker runs now
  const std::vector<Bytes> inputs = RandomInputs(rng, 4 * kKeccak256ManySplitMin);
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

TEST(Keccak256Many, EqualsKeccak256ForEveryLengthAndBatchSize) {
  std::mt19937_64 rng(7);
  for (size_t count : {0, 1, 2, 7, 8, 9, 16, 17, 40}) {
    for (int round = 0; round < 20; ++round) {
      std::vector<Bytes> inputs(count);
      for (Bytes& b : inputs) {
        // Mostly short (one block), with the edges of the rate, and some long ones.
        const size_t len = rng() % 4 == 0 ? 130 + rng() % 150 : rng() % 136;
        b.resize(len);
        for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
      }
      std::vector<ByteSpan> spans(inputs.begin(), inputs.end());
      std::vector<Hash> out(count);
      Keccak256Many(spans, out);
      for (size_t i = 0; i < count; ++i) EXPECT_EQ(out[i], Keccak256(spans[i])) << "length " << spans[i].size();
    }
  }
}

TEST(Keccak256Many, KnownVectors) {
  const std::string_view empty, abc = "abc";
  const ByteSpan in[] = {ByteSpan(reinterpret_cast<const uint8_t*>(empty.data()), 0),
                         ByteSpan(reinterpret_cast<const uint8_t*>(abc.data()), abc.size())};
  Hash out[2];
  Keccak256Many(in, out);
  EXPECT_EQ(out[0].Hex(), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  EXPECT_EQ(out[1].Hex(), "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

TEST(Keccak256Many, EveryLengthBelowTheRate) {
  // 135 bytes is the longest input that fits one padded block; 136 needs two.
  std::vector<Bytes> inputs;
  for (size_t len = 0; len <= 137; ++len) inputs.push_back(Bytes(len, static_cast<uint8_t>(len)));
  std::vector<ByteSpan> spans(inputs.begin(), inputs.end());
  std::vector<Hash> out(spans.size());
  Keccak256Many(spans, out);
  for (size_t i = 0; i < spans.size(); ++i) EXPECT_EQ(out[i], Keccak256(spans[i])) << "length " << i;
}

TEST(KeccakPermutationsRun, CountsOnePermutationPerRateBlockPaddingIncluded) {
  const Bytes empty, under_rate(135, 1), at_rate(136, 2), three_blocks(300, 3);
  uint64_t before = KeccakPermutationsRun();
  (void)Keccak256(empty);
  (void)Keccak256(under_rate);
  EXPECT_EQ(KeccakPermutationsRun() - before, 2u);
  before = KeccakPermutationsRun();
  (void)Keccak256(at_rate);  // a full block, then the padding alone
  (void)Keccak256(three_blocks);
  EXPECT_EQ(KeccakPermutationsRun() - before, 5u);
  // A batch large enough to be split over both threads counts the worker's share too.
  std::vector<ByteSpan> in(2 * kKeccak256ManySplitMin, ByteSpan(at_rate));
  std::vector<Hash> out(in.size());
  before = KeccakPermutationsRun();
  Keccak256Many(in, out);
  EXPECT_EQ(KeccakPermutationsRun() - before, 2 * in.size());
}

}  // namespace
}  // namespace supersafe
