#include "core/crypto.h"

#include <cryptopp/keccak.h>

#include <cryptopp/crc.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/check.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SUPERSAFE_KECCAK_AVX512 1
#endif

namespace supersafe {

Hash Keccak256(ByteSpan data) {
  CryptoPP::Keccak_256 k;
  k.Update(data.data(), data.size());
  Hash out;
  k.Final(out.data());
  return out;
}

// ---- Keccak-256, eight at a time ------------------------------------------------------------
//
// The Keccak-f[1600] permutation on eight independent states, one state per 64-bit lane of each
// 512-bit register: the 25 registers hold lane w of all eight states. Round structure as in the
// Keccak reference (theta, rho and pi, chi, iota), with chi's and theta's XORs as ternary logic.
#ifdef SUPERSAFE_KECCAK_AVX512
namespace {

constexpr size_t kKeccakRate = 136;  // bytes absorbed per permutation by Keccak-256
constexpr uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

// GCC 12 flags the intrinsics' own _mm512_undefined_epi32() as uninitialized once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) void KeccakF1600x8(uint64_t (*lanes)[8]) {
#define SS_XOR(a, b) _mm512_xor_si512(a, b)
#define SS_XOR3(a, b, c) _mm512_ternarylogic_epi64(a, b, c, 0x96)       // a ^ b ^ c
#define SS_CHI(a, b, c) _mm512_ternarylogic_epi64(a, b, c, 0xD2)        // a ^ (~b & c)
#define SS_ROL(a, n) _mm512_rol_epi64(a, n)
  __m512i A[25];
  for (int i = 0; i < 25; ++i) A[i] = _mm512_loadu_si512(lanes[i]);
  for (int round = 0; round < 24; ++round) {
    // theta
    const __m512i C0 = SS_XOR3(SS_XOR3(A[0], A[5], A[10]), A[15], A[20]);
    const __m512i C1 = SS_XOR3(SS_XOR3(A[1], A[6], A[11]), A[16], A[21]);
    const __m512i C2 = SS_XOR3(SS_XOR3(A[2], A[7], A[12]), A[17], A[22]);
    const __m512i C3 = SS_XOR3(SS_XOR3(A[3], A[8], A[13]), A[18], A[23]);
    const __m512i C4 = SS_XOR3(SS_XOR3(A[4], A[9], A[14]), A[19], A[24]);
    const __m512i D0 = SS_XOR(C4, SS_ROL(C1, 1));
    const __m512i D1 = SS_XOR(C0, SS_ROL(C2, 1));
    const __m512i D2 = SS_XOR(C1, SS_ROL(C3, 1));
    const __m512i D3 = SS_XOR(C2, SS_ROL(C4, 1));
    const __m512i D4 = SS_XOR(C3, SS_ROL(C0, 1));
    // rho and pi: B[y][2x+3y] = rol(A[x][y] ^ D[x], r[x][y]), written out per output row
    const __m512i B00 = SS_XOR(A[0], D0);
    const __m512i B01 = SS_ROL(SS_XOR(A[6], D1), 44);
    const __m512i B02 = SS_ROL(SS_XOR(A[12], D2), 43);
    const __m512i B03 = SS_ROL(SS_XOR(A[18], D3), 21);
    const __m512i B04 = SS_ROL(SS_XOR(A[24], D4), 14);
    const __m512i B10 = SS_ROL(SS_XOR(A[3], D3), 28);
    const __m512i B11 = SS_ROL(SS_XOR(A[9], D4), 20);
    const __m512i B12 = SS_ROL(SS_XOR(A[10], D0), 3);
    const __m512i B13 = SS_ROL(SS_XOR(A[16], D1), 45);
    const __m512i B14 = SS_ROL(SS_XOR(A[22], D2), 61);
    const __m512i B20 = SS_ROL(SS_XOR(A[1], D1), 1);
    const __m512i B21 = SS_ROL(SS_XOR(A[7], D2), 6);
    const __m512i B22 = SS_ROL(SS_XOR(A[13], D3), 25);
    const __m512i B23 = SS_ROL(SS_XOR(A[19], D4), 8);
    const __m512i B24 = SS_ROL(SS_XOR(A[20], D0), 18);
    const __m512i B30 = SS_ROL(SS_XOR(A[4], D4), 27);
    const __m512i B31 = SS_ROL(SS_XOR(A[5], D0), 36);
    const __m512i B32 = SS_ROL(SS_XOR(A[11], D1), 10);
    const __m512i B33 = SS_ROL(SS_XOR(A[17], D2), 15);
    const __m512i B34 = SS_ROL(SS_XOR(A[23], D3), 56);
    const __m512i B40 = SS_ROL(SS_XOR(A[2], D2), 62);
    const __m512i B41 = SS_ROL(SS_XOR(A[8], D3), 55);
    const __m512i B42 = SS_ROL(SS_XOR(A[14], D4), 39);
    const __m512i B43 = SS_ROL(SS_XOR(A[15], D0), 41);
    const __m512i B44 = SS_ROL(SS_XOR(A[21], D1), 2);
    // chi and iota
    A[0] = SS_XOR(SS_CHI(B00, B01, B02), _mm512_set1_epi64(static_cast<long long>(kRoundConstants[round])));
    A[1] = SS_CHI(B01, B02, B03);
    A[2] = SS_CHI(B02, B03, B04);
    A[3] = SS_CHI(B03, B04, B00);
    A[4] = SS_CHI(B04, B00, B01);
    A[5] = SS_CHI(B10, B11, B12);
    A[6] = SS_CHI(B11, B12, B13);
    A[7] = SS_CHI(B12, B13, B14);
    A[8] = SS_CHI(B13, B14, B10);
    A[9] = SS_CHI(B14, B10, B11);
    A[10] = SS_CHI(B20, B21, B22);
    A[11] = SS_CHI(B21, B22, B23);
    A[12] = SS_CHI(B22, B23, B24);
    A[13] = SS_CHI(B23, B24, B20);
    A[14] = SS_CHI(B24, B20, B21);
    A[15] = SS_CHI(B30, B31, B32);
    A[16] = SS_CHI(B31, B32, B33);
    A[17] = SS_CHI(B32, B33, B34);
    A[18] = SS_CHI(B33, B34, B30);
    A[19] = SS_CHI(B34, B30, B31);
    A[20] = SS_CHI(B40, B41, B42);
    A[21] = SS_CHI(B41, B42, B43);
    A[22] = SS_CHI(B42, B43, B44);
    A[23] = SS_CHI(B43, B44, B40);
    A[24] = SS_CHI(B44, B40, B41);
  }
  for (int i = 0; i < 25; ++i) _mm512_storeu_si512(lanes[i], A[i]);
#undef SS_XOR
#undef SS_XOR3
#undef SS_CHI
#undef SS_ROL
}
#pragma GCC diagnostic pop

bool HasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

// Up to eight inputs, each shorter than the rate: one padded block each, one permutation.
void Keccak256Short8(const ByteSpan* in, Hash* out, size_t n) {
  static_assert(std::endian::native == std::endian::little, "lanes are loaded as little-endian words");
  constexpr size_t kRateWords = kKeccakRate / 8;
  uint64_t lanes[25][8];
  for (size_t w = kRateWords; w < 25; ++w) std::fill(lanes[w], lanes[w] + 8, 0);
  for (size_t j = 0; j < 8; ++j) {
    if (j >= n) {  // an unused state: any value will do, zero keeps it defined
      for (size_t w = 0; w < kRateWords; ++w) lanes[w][j] = 0;
      continue;
    }
    // The input's whole words, then the last partial word with Keccak's (pre-SHA3) padding:
    // 0x01 after the last byte, 0x80 in the last byte of the rate.
    const uint8_t* p = in[j].data();
    const size_t len = in[j].size();
    const size_t full = len / 8;
    for (size_t w = 0; w < full; ++w) std::memcpy(&lanes[w][j], p + 8 * w, 8);
    uint64_t last = 0;
    if (len % 8 != 0) std::memcpy(&last, p + 8 * full, len % 8);
    lanes[full][j] = last ^ (uint64_t{0x01} << (8 * (len % 8)));
    for (size_t w = full + 1; w < kRateWords; ++w) lanes[w][j] = 0;
    lanes[kRateWords - 1][j] ^= uint64_t{0x80} << 56;
  }
  KeccakF1600x8(lanes);
  for (size_t j = 0; j < n; ++j) {
    const uint64_t words[4] = {lanes[0][j], lanes[1][j], lanes[2][j], lanes[3][j]};
    std::memcpy(out[j].bytes.data(), words, 32);
  }
}

}  // namespace
#endif

void Keccak256Many(std::span<const ByteSpan> in, std::span<Hash> out) {
  SS_CHECK(in.size() == out.size(), "Keccak256Many: as many outputs as inputs");
#ifdef SUPERSAFE_KECCAK_AVX512
  if (in.size() >= 2 && HasAvx512()) {
    ByteSpan batch[8];
    size_t where[8];
    size_t n = 0;
    auto flush = [&] {
      Hash hashes[8];
      if (n == 1) hashes[0] = Keccak256(batch[0]);
      else Keccak256Short8(batch, hashes, n);
      for (size_t k = 0; k < n; ++k) out[where[k]] = hashes[k];
      n = 0;
    };
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i].size() >= kKeccakRate) {
        out[i] = Keccak256(in[i]);
        continue;
      }
      batch[n] = in[i];
      where[n++] = i;
      if (n == 8) flush();
    }
    if (n > 0) flush();
    return;
  }
#endif
  for (size_t i = 0; i < in.size(); ++i) out[i] = Keccak256(in[i]);
}

uint32_t Crc32c(ByteSpan data) {
  // Crypto++ uses the SSE4.2 / ARMv8 CRC instructions when the CPU has them.
  CryptoPP::CRC32C c;
  c.Update(data.data(), data.size());
  uint8_t out[4];
  c.Final(out);  // little-endian
  return uint32_t{out[0]} | uint32_t{out[1]} << 8 | uint32_t{out[2]} << 16 | uint32_t{out[3]} << 24;
}

}  // namespace supersafe
