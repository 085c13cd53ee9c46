// Hash functions taken from libraries: Keccak-256 (Ethereum's, not SHA3-256) from Crypto++, and
// CRC-32C (Castagnoli, Crypto++'s hardware-accelerated CRC32C) for on-disk checksums.
#pragma once

#include <cstdint>

#include "core/types.h"

namespace supersafe {

Hash Keccak256(ByteSpan data);
inline Hash Keccak256(std::string_view s) {
  return Keccak256(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

// CRC-32C (Castagnoli) of `data`.
uint32_t Crc32c(ByteSpan data);

}  // namespace supersafe
