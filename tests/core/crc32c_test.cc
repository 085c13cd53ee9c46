// Crc32c (ISA-L) against published CRC-32C vectors and against an independent implementation,
// Crypto++'s CRC32C, over lengths and alignments that exercise every kernel path.
#include <gtest/gtest.h>

#include <cryptopp/crc.h>

#include <random>
#include <string_view>
#include <vector>

#include "core/crypto.h"

namespace supersafe {
namespace {

uint32_t CryptoppCrc32c(ByteSpan data) {
  CryptoPP::CRC32C c;
  c.Update(data.data(), data.size());
  uint8_t out[4];
  c.Final(out);  // little-endian
  return uint32_t{out[0]} | uint32_t{out[1]} << 8 | uint32_t{out[2]} << 16 | uint32_t{out[3]} << 24;
}

ByteSpan Span(std::string_view s) { return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

TEST(Crc32c, PublishedVectors) {
  EXPECT_EQ(Crc32c(ByteSpan()), 0u);
  EXPECT_EQ(Crc32c(Span("123456789")), 0xE3069283u);
  // RFC 3720 (iSCSI), appendix B.4.
  Bytes b(32, 0x00);
  EXPECT_EQ(Crc32c(b), 0x8A9136AAu);
  b.assign(32, 0xFF);
  EXPECT_EQ(Crc32c(b), 0x62A8AB43u);
  for (size_t i = 0; i < 32; ++i) b[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(Crc32c(b), 0x46DD794Eu);
  for (size_t i = 0; i < 32; ++i) b[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(Crc32c(b), 0x113FDB5Cu);
}

TEST(Crc32c, EqualsCryptoppOverLengthsAndAlignments) {
  std::mt19937_64 rng(7);
  Bytes data(70000);
  for (uint8_t& x : data) x = static_cast<uint8_t>(rng());
  size_t mismatches = 0, cases = 0;
  for (size_t len = 0; len <= 1100; ++len) {
    for (size_t offset : {0, 1, 3, 7, 8, 13}) {
      const ByteSpan s(data.data() + offset, len);
      mismatches += Crc32c(s) == CryptoppCrc32c(s) ? 0 : 1;
      ++cases;
    }
  }
  for (int i = 0; i < 200; ++i) {
    const size_t offset = rng() % 64, len = rng() % (data.size() - 64);
    const ByteSpan s(data.data() + offset, len);
    mismatches += Crc32c(s) == CryptoppCrc32c(s) ? 0 : 1;
    ++cases;
  }
  EXPECT_EQ(mismatches, 0u) << "of " << cases;
}

TEST(Crc32c, ExtendEqualsTheCrcOfTheConcatenation) {
  std::mt19937_64 rng(8);
  Bytes data(5000);
  for (uint8_t& x : data) x = static_cast<uint8_t>(rng());
  for (size_t cut : {size_t{0}, size_t{1}, size_t{33}, size_t{810}, size_t{4999}, size_t{5000}}) {
    const ByteSpan all(data);
    EXPECT_EQ(Crc32cExtend(Crc32c(all.first(cut)), all.subspan(cut)), Crc32c(all)) << "cut at " << cut;
  }
  EXPECT_EQ(Crc32cExtend(0, data), Crc32c(data));
  EXPECT_EQ(Crc32cExtend(0x12345678u, ByteSpan()), 0x12345678u);
}

}  // namespace
}  // namespace supersafe
