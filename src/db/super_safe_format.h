// Byte layout of the super-safe-db (supersafe.db). The prose, with the seal, revisions and recovery
// rules, is docs/db-format.md; this header only names the numbers. All integers are big-endian.
#pragma once

#include <cstddef>
#include <cstdint>

namespace supersafe::db {

// ChainEntry::flags bits; every other bit must be zero.
inline constexpr uint8_t kFlagCrossSafeReplacement = 1 << 0;  // cross-safe block is a deposit-only replacement
inline constexpr uint8_t kFlagLocalSafeInvalid = 1 << 1;      // local-safe block is invalid, awaiting replacement
inline constexpr uint8_t kKnownFlags = kFlagCrossSafeReplacement | kFlagLocalSafeInvalid;

namespace super_safe_format {

inline constexpr size_t kEntrySize = 90;

// Byte 0 of every entry.
inline constexpr uint8_t kTypeHeader = 0x00;
inline constexpr uint8_t kTypeChain = 0x01;
inline constexpr uint8_t kTypeSeal = 0x02;

// Header (type 0x00), the file's first entry and only there; the groups follow it.
inline constexpr uint64_t kHeaderSize = kEntrySize;
inline constexpr size_t kHeaderMagic = 1;  // 9 bytes, kMagic
inline constexpr uint8_t kMagic[9] = {'S', 'U', 'P', 'E', 'R', 'S', 'A', 'F', 'E'};
inline constexpr size_t kHeaderVersion = 10;  // 2 bytes
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kHeaderDigest = 12;    // 32 bytes: DependencySetDigest (db/super_safe_db.h)
inline constexpr size_t kHeaderReserved = 44;  // zero to the end of the entry

// Fields shared by both entry types: every entry carries its group's L1 block, the lookup key.
inline constexpr size_t kType = 0;
inline constexpr size_t kL1Number = 1;  // 8 bytes
inline constexpr size_t kL1Hash = 9;    // 20 bytes: first 20 bytes of the L1 block hash

// Chain entry (type 0x01).
inline constexpr size_t kChainIndex = 29;        // 4 bytes: position in the dependency set
inline constexpr size_t kLocalSafeNumber = 33;   // 8 bytes
inline constexpr size_t kLocalSafeHash = 41;     // 20 bytes
inline constexpr size_t kCrossSafeNumber = 61;   // 8 bytes
inline constexpr size_t kCrossSafeHash = 69;     // 20 bytes
inline constexpr size_t kFlags = 89;             // 1 byte

// Seal (type 0x02), the last entry of every group.
inline constexpr size_t kSealCount = 29;      // 4 bytes: chain entries in the group (at least 1)
inline constexpr size_t kSealCrc = 33;        // 4 bytes: CRC-32C of the group's bytes with this field zero
inline constexpr size_t kSealTimestamp = 37;  // 8 bytes: L1 block timestamp
inline constexpr size_t kSealReserved = 45;   // zero to the end of the entry

// Preallocation (docs/db-format.md, "Preallocation and the zero tail"). The file grows in whole
// chunks; every write (one fdatasync each) holds at most kMaxWrite bytes, so only the last
// kMaxWrite bytes of content can belong to a torn write, and the zero tail is at most
// kMaxZeroTail bytes (a chunk, a torn write, an entry).
inline constexpr uint64_t kPreallocChunk = uint64_t{4} << 20;
inline constexpr uint64_t kMaxWrite = uint64_t{1} << 20;
inline constexpr uint64_t kMaxZeroTail = kPreallocChunk + kMaxWrite + kEntrySize;

}  // namespace super_safe_format
}  // namespace supersafe::db
