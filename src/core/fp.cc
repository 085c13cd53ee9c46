#include "core/fp.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/rlp.h"

namespace supersafe {

Bytes OutputV0Preimage(const Hash& state_root, const Hash& message_passer_storage_root, const Hash& block_hash) {
  Bytes out(kOutputV0PreimageSize, 0);
  std::copy(state_root.bytes.begin(), state_root.bytes.end(), out.begin() + 32);
  std::copy(message_passer_storage_root.bytes.begin(), message_passer_storage_root.bytes.end(), out.begin() + 64);
  std::copy(block_hash.bytes.begin(), block_hash.bytes.end(), out.begin() + 96);
  return out;
}

Result<Hash> OutputRoot(ByteSpan preimage) {
  if (preimage.size() != kOutputV0PreimageSize)
    return InvalidArgument("OutputV0 preimage: want 128 bytes, got " + std::to_string(preimage.size()));
  if (!std::all_of(preimage.begin(), preimage.begin() + 32, [](uint8_t b) { return b == 0; }))
    return InvalidArgument("OutputV0 preimage: version word is not zero");
  return Keccak256(preimage);
}

Hash SuperRoot(const SuperV1& super) { return Keccak256(EncodeSuperV1(super)); }

Bytes EncodeSuperV1(const SuperV1& super) {
  Bytes out(9 + 64 * super.chains.size());
  out[0] = 0x01;
  PutU64BE(out.data() + 1, super.timestamp);
  for (size_t i = 0; i < super.chains.size(); ++i) {
    SS_CHECK(i == 0 || super.chains[i - 1].chain_id < super.chains[i].chain_id, "SuperV1 chains not ascending");
    Hash id = super.chains[i].chain_id.ToBytes32();
    std::copy(id.bytes.begin(), id.bytes.end(), out.begin() + 9 + 64 * i);
    std::copy(super.chains[i].output_root.bytes.begin(), super.chains[i].output_root.bytes.end(),
              out.begin() + 9 + 64 * i + 32);
  }
  return out;
}

Result<SuperV1> DecodeSuperV1(ByteSpan preimage, size_t max_chains) {
  if (preimage.size() < 73) return InvalidArgument("SuperV1: length " + std::to_string(preimage.size()) + " under 73");
  if ((preimage.size() - 9) % 64 != 0) return InvalidArgument("SuperV1: length - 9 is not a multiple of 64");
  if (preimage[0] != 0x01) return InvalidArgument("SuperV1: version byte " + std::to_string(preimage[0]) + " is not 1");
  size_t n = (preimage.size() - 9) / 64;
  if (n > max_chains) return InvalidArgument("SuperV1: " + std::to_string(n) + " chains exceed " + std::to_string(max_chains));
  SuperV1 out;
  out.timestamp = GetU64BE(preimage.data() + 1);
  for (size_t i = 0; i < n; ++i) {
    SuperV1Chain c;
    c.chain_id = ChainID::FromBytes32(Hash::FromSpan(preimage.subspan(9 + 64 * i, 32)));
    c.output_root = Hash::FromSpan(preimage.subspan(9 + 64 * i + 32, 32));
    if (!out.chains.empty() && !(out.chains.back().chain_id < c.chain_id))
      return InvalidArgument("SuperV1: chain IDs not strictly ascending at chain " + std::to_string(i));
    out.chains.push_back(c);
  }
  return out;
}

Bytes EncodeTransitionState(const TransitionState& state) {
  std::vector<rlp::Item> progress;
  for (const OptimisticBlock& b : state.pending_progress)
    progress.push_back(rlp::Item::List({rlp::Item::String(b.block_hash.span()), rlp::Item::String(b.output_root.span())}));
  Bytes out{kTransitionStateVersion};
  Bytes body = rlp::Encode(
      rlp::Item::List({rlp::Item::String(state.super_root), rlp::Item::List(std::move(progress)), rlp::Item::Uint(state.step)}));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Result<TransitionState> DecodeTransitionState(ByteSpan preimage) {
  if (preimage.empty()) return InvalidArgument("TransitionState: empty preimage");
  if (preimage[0] != kTransitionStateVersion)
    return InvalidArgument("TransitionState: version byte " + std::to_string(preimage[0]) + " is not 255");
  auto decoded = rlp::Decode(preimage.subspan(1));
  if (!decoded.ok()) return decoded.status().WithContext("TransitionState");
  const rlp::Item& root = *decoded;
  if (!root.is_list || root.items.size() != 3)
    return InvalidArgument("TransitionState: want a list of 3 items [superRoot, pendingProgress, step]");
  const rlp::Item& super = root.items[0];
  const rlp::Item& progress = root.items[1];
  if (super.is_list) return InvalidArgument("TransitionState: superRoot is a list, want bytes");
  if (!progress.is_list) return InvalidArgument("TransitionState: pendingProgress is bytes, want a list");
  TransitionState out;
  out.super_root = super.bytes;
  for (size_t i = 0; i < progress.items.size(); ++i) {
    const rlp::Item& b = progress.items[i];
    const std::string which = "TransitionState: pendingProgress[" + std::to_string(i) + "]";
    if (!b.is_list || b.items.size() != 2) return InvalidArgument(which + ": want [blockHash, outputRoot]");
    for (const rlp::Item& h : b.items)
      if (h.is_list || h.bytes.size() != 32) return InvalidArgument(which + ": want two 32-byte hashes");
    out.pending_progress.push_back({Hash::FromSpan(b.items[0].bytes), Hash::FromSpan(b.items[1].bytes)});
  }
  SS_ASSIGN_OR_RETURN(out.step, rlp::DecodeUint(root.items[2], "TransitionState: step"));
  return out;
}

const Hash& InvalidState() {
  static const Hash kHash = Keccak256(kInvalidStatePreimage);
  return kHash;
}

}  // namespace supersafe
