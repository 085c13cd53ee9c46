#include "core/crypto.h"

#include <cryptopp/keccak.h>

#include <cryptopp/crc.h>

namespace supersafe {

Hash Keccak256(ByteSpan data) {
  CryptoPP::Keccak_256 k;
  k.Update(data.data(), data.size());
  Hash out;
  k.Final(out.data());
  return out;
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
