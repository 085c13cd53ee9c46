#include "core/access_list.h"

#include <algorithm>

#include "core/crypto.h"

namespace supersafe {

namespace {
constexpr uint8_t kLookup = 0x01;
constexpr uint8_t kExtension = 0x02;
constexpr uint8_t kChecksum = 0x03;

bool ZeroRange(const Hash& h, size_t from, size_t to) {
  return std::all_of(h.bytes.begin() + from, h.bytes.begin() + to, [](uint8_t b) { return b == 0; });
}
std::string At(size_t i) { return "access-list entry " + std::to_string(i) + ": "; }
}  // namespace

Hash AccessChecksum(const Hash& log_hash, const ChainID& chain_id, uint64_t block_number, uint64_t timestamp,
                    uint32_t log_index) {
  uint8_t buf[64] = {};
  std::copy(log_hash.bytes.begin(), log_hash.bytes.end(), buf);
  PutU64BE(buf + 32 + 12, block_number);
  PutU64BE(buf + 32 + 20, timestamp);
  PutU32BE(buf + 32 + 28, log_index);
  Hash id_log_hash = Keccak256(ByteSpan(buf, 64));
  std::copy(id_log_hash.bytes.begin(), id_log_hash.bytes.end(), buf);
  Hash chain = chain_id.ToBytes32();
  std::copy(chain.bytes.begin(), chain.bytes.end(), buf + 32);
  Hash bare = Keccak256(ByteSpan(buf, 64));
  bare.bytes[0] = kChecksum;
  return bare;
}

std::vector<Hash> EncodeAccessEntry(const AccessEntry& e) {
  std::vector<Hash> out;
  Hash lookup;
  lookup.bytes[0] = kLookup;
  PutU64BE(lookup.data() + 4, e.chain_id.Low64());
  PutU64BE(lookup.data() + 12, e.block_number);
  PutU64BE(lookup.data() + 20, e.timestamp);
  PutU32BE(lookup.data() + 28, e.log_index);
  out.push_back(lookup);
  if (!e.chain_id.FitsU64()) {
    Hash ext;
    ext.bytes[0] = kExtension;
    Hash chain = e.chain_id.ToBytes32();
    std::copy(chain.bytes.begin(), chain.bytes.begin() + 24, ext.bytes.begin() + 8);
    out.push_back(ext);
  }
  out.push_back(e.checksum);
  return out;
}

Result<std::vector<AccessEntry>> ParseAccessList(std::span<const Hash> entries) {
  std::vector<AccessEntry> out;
  size_t i = 0;
  while (i < entries.size()) {
    const Hash& lookup = entries[i];
    if (lookup.bytes[0] != kLookup) return InvalidArgument(At(i) + "want a lookup entry (type 0x01), got type " + std::to_string(lookup.bytes[0]));
    if (!ZeroRange(lookup, 1, 4)) return InvalidArgument(At(i) + "lookup entry has nonzero reserved bytes");
    AccessEntry e;
    Hash chain;  // big-endian uint256: low 64 bits from the lookup, upper 24 bytes from an extension
    std::copy(lookup.bytes.begin() + 4, lookup.bytes.begin() + 12, chain.bytes.begin() + 24);
    e.block_number = GetU64BE(lookup.data() + 12);
    e.timestamp = GetU64BE(lookup.data() + 20);
    e.log_index = GetU32BE(lookup.data() + 28);
    ++i;
    if (i < entries.size() && entries[i].bytes[0] == kExtension) {
      if (!ZeroRange(entries[i], 1, 8)) return InvalidArgument(At(i) + "extension entry has nonzero reserved bytes");
      std::copy(entries[i].bytes.begin() + 8, entries[i].bytes.end(), chain.bytes.begin());
      ++i;
    }
    if (i >= entries.size()) return InvalidArgument(At(i) + "missing checksum entry");
    if (entries[i].bytes[0] != kChecksum)
      return InvalidArgument(At(i) + "want a checksum entry (type 0x03), got type " + std::to_string(entries[i].bytes[0]));
    e.checksum = entries[i];
    e.chain_id = ChainID::FromBytes32(chain);
    ++i;
    out.push_back(e);
  }
  return out;
}

}  // namespace supersafe
