// The super-safe-db's entries: encoding a group, the rules Append checks a group by
// (docs/db-format.md, "Entries", "Groups").
#include "db/super_safe_db_internal.h"

#include <cstdio>
#include <string>

#include "core/crypto.h"

namespace supersafe::db::super_safe_internal {

namespace {

void PutHeader(uint8_t* e, uint8_t type, uint64_t l1_number, const HashPrefix& l1_hash) {
  e[layout::kType] = type;
  Store64(e + layout::kL1Number, l1_number);
  std::memcpy(e + layout::kL1Hash, l1_hash.data(), HashPrefix::kSize);
}

}  // namespace

std::string HexOf(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%02llx", static_cast<unsigned long long>(v));
  return buf;
}

uint32_t GroupCrc(ByteSpan group) {
  static constexpr uint8_t kZeroCrc[4] = {};
  const size_t crc_at = group.size() - kEntry + layout::kSealCrc;
  const uint32_t crc = Crc32cExtend(Crc32c(group.first(crc_at)), ByteSpan(kZeroCrc, 4));
  return Crc32cExtend(crc, group.subspan(crc_at + 4));
}

uint8_t* EncodeGroup(const Group& g, uint8_t* e) {
  for (const ChainEntry& c : g.entries) {
    PutHeader(e, layout::kTypeChain, g.l1_number, g.l1_hash);
    Store32(e + layout::kChainIndex, c.chain_index);
    Store64(e + layout::kLocalSafeNumber, c.local_safe_number);
    std::memcpy(e + layout::kLocalSafeHash, c.local_safe_hash.data(), HashPrefix::kSize);
    Store64(e + layout::kCrossSafeNumber, c.cross_safe_number);
    std::memcpy(e + layout::kCrossSafeHash, c.cross_safe_hash.data(), HashPrefix::kSize);
    e[layout::kFlags] = c.flags;
    e += kEntry;
  }
  static_assert(layout::kFlags + 1 == kEntry, "a chain entry's fields cover it");
  PutHeader(e, layout::kTypeSeal, g.l1_number, g.l1_hash);
  Store32(e + layout::kSealCount, static_cast<uint32_t>(g.entries.size()));
  Store32(e + layout::kSealCrc, 0);
  Store64(e + layout::kSealTimestamp, g.l1_timestamp);
  std::memset(e + layout::kSealReserved, 0, kEntry - layout::kSealReserved);
  return e + kEntry;
}

Status CheckArgument(const Group& g) {
  if (g.entries.empty()) return InvalidArgument("a group needs at least one chain entry");
  if ((g.entries.size() + 1) * kEntry > layout::kMaxWrite)
    return InvalidArgument("too many chain entries in one group (" + std::to_string(g.entries.size()) + "; at most " +
                           std::to_string(layout::kMaxWrite / kEntry - 1) + ")");
  for (size_t k = 0; k < g.entries.size(); ++k) {
    const ChainEntry& c = g.entries[k];
    if (k > 0 && c.chain_index <= g.entries[k - 1].chain_index)
      return InvalidArgument("chain entries are not in ascending chain_index order (" +
                             std::to_string(g.entries[k - 1].chain_index) + " then " +
                             std::to_string(c.chain_index) + ")");
    if ((c.flags & ~kKnownFlags) != 0)
      return InvalidArgument("chain " + std::to_string(c.chain_index) + ": unknown flag bits in " + HexOf(c.flags));
  }
  return Status::Ok();
}

std::optional<std::string> CrossSafeRegression(const GroupBytes& prev, const GroupBytes& next) {
  uint32_t j = 0;
  for (uint32_t k = 0; k < prev.count; ++k) {
    const uint32_t chain = ChainIndexOf(prev.entry(k));
    while (j < next.count && ChainIndexOf(next.entry(j)) < chain) ++j;
    if (j == next.count || ChainIndexOf(next.entry(j)) != chain)
      return "chain " + std::to_string(chain) + " of the group for L1 block " + std::to_string(L1Of(prev.first)) +
             " is missing";
    const uint64_t before = Load64(prev.entry(k) + layout::kCrossSafeNumber);
    const uint64_t after = Load64(next.entry(j) + layout::kCrossSafeNumber);
    if (after < before)
      return "chain " + std::to_string(chain) + ": cross-safe number " + std::to_string(after) +
             " is below " + std::to_string(before) + " in the group for L1 block " + std::to_string(L1Of(prev.first));
  }
  return std::nullopt;
}

}  // namespace supersafe::db::super_safe_internal

namespace supersafe::db {

Hash DependencySetDigest(std::span<const ChainID> chains) {
  Bytes ids;
  ids.reserve(chains.size() * Hash::kSize);
  for (const ChainID& id : chains) {
    const Hash b = id.ToBytes32();
    ids.insert(ids.end(), b.bytes.begin(), b.bytes.end());
  }
  return Keccak256(ByteSpan(ids.data(), ids.size()));
}

}  // namespace supersafe::db
