#include "core/fp.h"

#include <algorithm>

#include "core/crypto.h"

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

}  // namespace supersafe
