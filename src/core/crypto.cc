#include "core/crypto.h"

#include <cryptopp/keccak.h>

#include <cryptopp/crc.h>

#include "core/check.h"


namespace supersafe {

Hash Keccak256(ByteSpan data) {
  CryptoPP::Keccak_256 k;
  k.Update(data.data(), data.size());
  Hash out;
  k.Final(out.data());
  return out;
}

void Keccak256Many(std::span<const ByteSpan> in, std::span<Hash> out) {
  SS_CHECK(in.size() == out.size(), "Keccak256Many: as many outputs as inputs");
  // One Crypto++ object, restarted by each Final, for the whole batch.
  CryptoPP::Keccak_256 k;
  for (size_t i = 0; i < in.size(); ++i) {
    k.Update(in[i].data(), in[i].size());
    k.Final(out[i].data());
  }
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
