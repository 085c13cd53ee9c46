// Byte layout of the event-log DB file (docs/event-db-format.md). All integers big-endian; every
// offset below is relative to the start of its entry (or of the file header).
#pragma once

#include <cstddef>
#include <cstdint>

namespace supersafe::db::event_format {

inline constexpr size_t kEntrySize = 40;

// File header: two entries' worth of bytes at offset 0.
inline constexpr size_t kFileHeaderSize = 2 * kEntrySize;
inline constexpr uint8_t kMagic[8] = {'S', 'S', 'E', 'V', 'T', 'L', 'O', 'G'};
inline constexpr uint32_t kFormatVersion = 2;  // 2: access-list checksum entries (docs/event-db-format.md)
inline constexpr size_t kHeaderMagic = 0;       // 8 bytes
inline constexpr size_t kHeaderVersion = 8;     // u32
inline constexpr size_t kHeaderEntrySize = 12;  // u32, kEntrySize
inline constexpr size_t kHeaderChainID = 16;    // uint256
inline constexpr size_t kHeaderReserved = 48;   // 28 zero bytes
inline constexpr size_t kHeaderCrc = 76;        // u32, CRC-32C of bytes [0, 76)

// Entry types (byte 0 of every entry after the file header).
inline constexpr uint8_t kTypeCheckpoint = 0x01;
inline constexpr uint8_t kTypeBlockHash = 0x02;
inline constexpr uint8_t kTypeParentHash = 0x03;
inline constexpr uint8_t kTypeLog = 0x04;
inline constexpr uint8_t kTypeExecChain = 0x05;
inline constexpr uint8_t kTypeExecPosition = 0x06;
inline constexpr uint8_t kTypeExecHash = 0x07;
inline constexpr uint8_t kTypeChecksum = 0x08;

// A block: checkpoint (3 entries), its logs (1 entry each, in log order), one access-list checksum
// entry per log (in log order), then one executing-message link (3 entries) per executing log, in
// log order.
inline constexpr size_t kCheckpointEntries = 3;
inline constexpr size_t kCheckpointSize = kCheckpointEntries * kEntrySize;
inline constexpr size_t kExecLinkEntries = 3;

// Checkpoint entry (type 0x01). Bytes [1, 4) are zero.
inline constexpr size_t kCheckpointCrc = 4;        // u32, CRC-32C of checkpoint bytes [8, 120)
inline constexpr size_t kCheckpointNumber = 8;     // u64
inline constexpr size_t kCheckpointTimestamp = 16; // u64
inline constexpr size_t kCheckpointLogCount = 24;  // u32
inline constexpr size_t kCheckpointExecCount = 28; // u32, logs that are executing messages
inline constexpr size_t kCheckpointBodyCrc = 32;   // u32, CRC-32C of the block's bytes after the checkpoint
inline constexpr size_t kCheckpointReserved = 36;  // 4 zero bytes

// Block hash (0x02) and parent hash (0x03) entries: bytes [1, 8) zero, the hash at [8, 40).
// Log entry (0x04): flags at 1, bytes [2, 4) zero, log index (u32) at 4, log hash at [8, 40).
// Exec chain (0x05): bytes [1, 4) zero, executing log's index (u32) at 4, chain ID (uint256) at [8, 40).
// Exec position (0x06): bytes [1, 4) zero, initiating log index (u32) at 4, block number (u64) at 8,
//   timestamp (u64) at 16, bytes [24, 40) zero.
// Exec hash (0x07): bytes [1, 4) zero, executing log's index (u32) at 4, expected log hash at [8, 40).
// Checksum (0x08): bytes [1, 4) zero, log index (u32) at 4, the log's access-list checksum at [8, 40)
//   (0x03 ‖ keccak256(keccak256(logHash ‖ idPacked) ‖ uint256(chainID))[1..32), core/access_list.h).
inline constexpr size_t kEntryIndex = 4;  // u32 in log and exec entries
inline constexpr size_t kEntryHash = 8;   // 32 bytes in hash, log, exec chain and exec hash entries
inline constexpr size_t kLogFlags = 1;
inline constexpr uint8_t kLogFlagExecuting = 0x01;
inline constexpr size_t kExecPositionNumber = 8;
inline constexpr size_t kExecPositionTimestamp = 16;
inline constexpr size_t kExecPositionReserved = 24;
inline constexpr uint8_t kChecksumPrefix = 0x03;  // byte 8 of every checksum entry

// Entry number (from the block's start) of log i's entry and of its checksum entry.
inline constexpr uint64_t LogEntryAt(uint64_t i) { return kCheckpointEntries + i; }
inline constexpr uint64_t ChecksumEntryAt(uint64_t log_count, uint64_t i) { return kCheckpointEntries + log_count + i; }

inline constexpr uint64_t BlockSize(uint64_t log_count, uint64_t exec_count) {
  return (kCheckpointEntries + 2 * log_count + kExecLinkEntries * exec_count) * kEntrySize;
}

// Preallocation (docs/event-db-format.md, "Preallocation and the zero tail"). The file grows in
// whole chunks; every write (one fdatasync each) holds at most kMaxWrite bytes (whole blocks, or a
// piece of one larger block), so only the last kMaxWrite bytes of content can hold the zeros of a
// torn write, and the zero tail is at most kMaxZeroTail bytes (a chunk, a torn write, an entry).
inline constexpr uint64_t kPreallocChunk = uint64_t{4} << 20;
inline constexpr uint64_t kMaxWrite = uint64_t{1} << 20;
inline constexpr uint64_t kMaxZeroTail = kPreallocChunk + kMaxWrite + kEntrySize;

}  // namespace supersafe::db::event_format
