// Fault-proof encodings that must match the OP Stack byte for byte (formats.md).
#pragma once

#include <vector>

#include "core/types.h"

namespace supersafe {

constexpr size_t kOutputV0PreimageSize = 128;

// bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot ‖ blockHash
Bytes OutputV0Preimage(const Hash& state_root, const Hash& message_passer_storage_root, const Hash& block_hash);
// keccak256 of a 128-byte OutputV0 preimage; kInvalidArgument for another length or version.
Result<Hash> OutputRoot(ByteSpan preimage);

struct SuperV1Chain {
  ChainID chain_id;
  Hash output_root;
  bool operator==(const SuperV1Chain&) const = default;
};

struct SuperV1 {
  uint64_t timestamp = 0;
  std::vector<SuperV1Chain> chains;  // ascending chain ID
  bool operator==(const SuperV1&) const = default;
};

// 0x01 ‖ uint64(timestamp) ‖ for each chain: uint256(chainID) ‖ outputRoot. Chains must be ascending.
Bytes EncodeSuperV1(const SuperV1& super);
// Rejects a length under 73, (len-9) % 64 != 0, another version byte, descending chain IDs, and
// more than `max_chains` chains.
Result<SuperV1> DecodeSuperV1(ByteSpan preimage, size_t max_chains);
// keccak256(EncodeSuperV1(super))
Hash SuperRoot(const SuperV1& super);

}  // namespace supersafe
