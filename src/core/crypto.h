// Hash functions taken from libraries: Keccak-256 (Ethereum's, not SHA3-256) from Crypto++, and
// CRC-32C (Castagnoli, Crypto++'s hardware-accelerated CRC32C) for on-disk checksums.
#pragma once

#include <cstdint>
#include <span>

#include "core/types.h"

namespace supersafe {

Hash Keccak256(ByteSpan data);
inline Hash Keccak256(std::string_view s) {
  return Keccak256(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

// out[i] = Keccak256(in[i]) for every i (in.size() == out.size()), with one Crypto++ hasher for
// the batch. Keccak is always Crypto++'s (formats.md: never hand-written).
void Keccak256Many(std::span<const ByteSpan> in, std::span<Hash> out);

// CRC-32C (Castagnoli) of `data`.
uint32_t Crc32c(ByteSpan data);

}  // namespace supersafe
