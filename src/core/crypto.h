// Hash functions taken from libraries: Keccak-256 (Ethereum's, not SHA3-256) from Crypto++, and
// CRC-32C (Castagnoli) from ISA-L for on-disk checksums.
#pragma once

#include <cstdint>
#include <span>

#include "core/types.h"

namespace supersafe {

Hash Keccak256(ByteSpan data);
inline Hash Keccak256(std::string_view s) {
  return Keccak256(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

// out[i] = Keccak256(in[i]) for every i (in.size() == out.size()); Keccak is always Crypto++'s
// (never hand-written). The output is exactly that of the one-by-one loop.
//
// A batch of kKeccak256ManySplitMin inputs or more is split with one persistent worker thread
// (process-wide, started by the first such batch, joined at exit): the caller and the worker take
// chunks of the batch from a shared counter, and the call returns once every hash is written and
// the worker has left the batch. The worker serves one caller at a time; a caller that finds it
// busy, a smaller batch, a forked child and a call during static destruction hash inline, on the
// calling thread. Safe to call from any number of threads at once; `in` and `out` must not
// overlap and must stay untouched by other threads during the call.
void Keccak256Many(std::span<const ByteSpan> in, std::span<Hash> out);
// The smallest batch that Keccak256Many splits (bench/core: below it, waking the worker costs
// more than it saves).
inline constexpr size_t kKeccak256ManySplitMin = 512;
// The same as Keccak256Many, always on the calling thread.
void Keccak256ManyInline(std::span<const ByteSpan> in, std::span<Hash> out);

// CRC-32C (Castagnoli) of `data`, from ISA-L (its iSCSI CRC, with the vector-instruction kernel
// the CPU has; bench/core compares it with Crypto++'s CRC32C, 3.5 to 11 times slower here).
uint32_t Crc32c(ByteSpan data);
// Extends a CRC-32C over more bytes: Crc32cExtend(Crc32c(a), b) == Crc32c(a ‖ b).
uint32_t Crc32cExtend(uint32_t crc, ByteSpan data);

}  // namespace supersafe
