// Fault-proof encodings that must match the OP Stack byte for byte (docs/fp-fixtures.md, "Encodings").
#pragma once

#include <string_view>
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

// One chain's block derived part way through a super-root transition.
struct OptimisticBlock {
  Hash block_hash;
  Hash output_root;
  bool operator==(const OptimisticBlock&) const = default;
};

// The state between two super roots: `step` of the transition from `super_root` (the SuperV1
// preimage of the prior timestamp, kept as raw bytes as op-program keeps it) with the blocks
// derived so far.
struct TransitionState {
  Bytes super_root;
  std::vector<OptimisticBlock> pending_progress;
  uint64_t step = 0;
  bool operator==(const TransitionState&) const = default;
};

inline constexpr uint8_t kTransitionStateVersion = 0xFF;

// 0xFF ‖ RLP([super_root, [[blockHash, outputRoot], ...], step])
Bytes EncodeTransitionState(const TransitionState& state);
// Rejects an empty input, another version byte, non-canonical or malformed RLP, a shape other than
// [bytes, [[32 bytes, 32 bytes], ...], uint64], and bytes after the list (kInvalidArgument).
Result<TransitionState> DecodeTransitionState(ByteSpan preimage);

// The claim of a state that cannot be reached: keccak256 of these 7 bytes (InvalidState). The view
// points into one named array, never a literal: each translation unit has its own copy of a literal,
// and a compiler may take begin() from its unit's copy and end() from the linked variable's.
inline constexpr char kInvalidStatePreimageChars[] = "invalid";
inline constexpr std::string_view kInvalidStatePreimage{kInvalidStatePreimageChars,
                                                        sizeof kInvalidStatePreimageChars - 1};
// 0xffd7db0f9d5cdeb49c4c9eba649d4dc6d852d64671e65488e57f58584992ac68
const Hash& InvalidState();

}  // namespace supersafe
