// Access-list entries of supervisor_checkAccessList (docs/rpc.md, "Access-list entries"): per
// executing message a lookup entry, an optional chain-ID extension, and a checksum entry.
#pragma once

#include <span>
#include <vector>

#include "core/status.h"
#include "core/types.h"

namespace supersafe {

struct AccessEntry {
  ChainID chain_id;
  uint64_t block_number = 0;
  uint64_t timestamp = 0;
  uint32_t log_index = 0;
  Hash checksum;  // 0x03 ‖ bare[1..32)
  bool operator==(const AccessEntry&) const = default;
};

// Parses the entries; any unknown, reserved-nonzero or out-of-sequence entry fails the whole call
// with kInvalidArgument naming the entry's position.
Result<std::vector<AccessEntry>> ParseAccessList(std::span<const Hash> entries);
// The entries for one message: lookup, extension when the chain ID needs more than 64 bits, checksum.
std::vector<Hash> EncodeAccessEntry(const AccessEntry& entry);
// 0x03 ‖ keccak256(keccak256(logHash ‖ idPacked) ‖ uint256(chainID))[1..32)
Hash AccessChecksum(const Hash& log_hash, const ChainID& chain_id, uint64_t block_number, uint64_t timestamp,
                    uint32_t log_index);

}  // namespace supersafe
