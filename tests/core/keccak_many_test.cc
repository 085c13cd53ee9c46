// Keccak256Many hashes like Keccak256, whatever the mix of input lengths.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/crypto.h"

namespace supersafe {
namespace {

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

}  // namespace
}  // namespace supersafe
