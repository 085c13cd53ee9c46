// Helpers shared by the super-safe-db tests: temporary directories, deterministic groups, raw file
// access for byte surgery.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/crypto.h"
#include "core/types.h"
#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "tests/temp_dir.h"

namespace supersafe {
// Readable failure messages.
inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }
namespace db {
inline void PrintTo(const Group& g, std::ostream* os) {
  *os << "Group{l1 " << g.l1_number << " " << g.l1_hash.Hex() << " ts " << g.l1_timestamp << ":";
  for (const ChainEntry& e : g.entries)
    *os << " [chain " << e.chain_index << " local " << e.local_safe_number << " cross " << e.cross_safe_number
        << " flags " << int{e.flags} << "]";
  *os << "}";
}
}  // namespace db
}  // namespace supersafe

namespace supersafe::db::testing {

// A temp dir (tests/temp_dir.h) that also names the super-safe-db files in it.
class TempDir : public ::supersafe::testing::TempDir {
 public:
  TempDir() : ::supersafe::testing::TempDir("ssdb-test") {}
  std::filesystem::path db() const { return path() / SuperSafeDB::kFileName; }
  std::filesystem::path broken() const { return path() / (std::string(SuperSafeDB::kFileName) + ".broken"); }
};

// The dependency set the tests open their files for (the header's digest; the groups need not
// match it).
inline const std::vector<ChainID>& TestChains() {
  static const std::vector<ChainID> chains = {ChainID(uint64_t{901}), ChainID(uint64_t{902}), ChainID(uint64_t{903})};
  return chains;
}

inline HashPrefix PrefixFrom(uint64_t a, uint64_t b) {
  HashPrefix h;
  PutU64BE(h.data(), a);
  PutU64BE(h.data() + 8, b);
  PutU32BE(h.data() + 16, static_cast<uint32_t>(a * 31 + b));
  return h;
}

// A group for `l1` with chains 0..chains-1; numbers grow with `l1`, `revision` varies the hashes.
inline Group MakeGroup(uint64_t l1, uint32_t chains = 3, uint64_t revision = 0) {
  Group g;
  g.l1_number = l1;
  g.l1_hash = PrefixFrom(l1, revision);
  g.l1_timestamp = 1'700'000'000 + l1 * 12;
  for (uint32_t c = 0; c < chains; ++c) {
    ChainEntry e;
    e.chain_index = c;
    e.local_safe_number = l1 * 6 + c + 3;
    e.local_safe_hash = PrefixFrom(e.local_safe_number, 100 + c);
    e.cross_safe_number = l1 * 6 + c;
    e.cross_safe_hash = PrefixFrom(e.cross_safe_number, 200 + c + revision);
    g.entries.push_back(e);
  }
  return g;
}

// Opens (or creates) the DB in `dir`; stops the test binary if that fails.
inline std::unique_ptr<SuperSafeDB> OpenOk(const TempDir& dir, const OpenOptions& options = {}) {
  auto db = SuperSafeDB::Open(dir.path(), TestChains(), options);
  SS_CHECK(db.ok(), db.status().ToString());
  return std::move(db).value();
}

// 6,000 groups whose keys defeat interpolation in places: dense runs, a jump of 10^12, exponentially
// growing gaps, revisions (one group in ten), chains joining with holes in their indices,
// local-safe numbers falling. Draws from `rng`, which goes on from there.
inline std::vector<Group> IrregularGroups(std::mt19937_64& rng) {
  std::vector<Group> groups;
  Group g = MakeGroup(0, 1);
  for (int k = 0; k < 6000; ++k) {
    const bool revise = k > 0 && rng() % 10 == 0;
    if (!revise) {
      if (k == 2000) g.l1_number += 1'000'000'000'000;
      else if (k >= 4000 && k < 4040) g.l1_number += uint64_t{1} << (k - 4000);
      else g.l1_number += 1 + rng() % 3;
    }
    if (g.entries.size() < 6 && rng() % 500 == 0)
      g.entries.push_back({static_cast<uint32_t>(g.entries.size() * 2), 0, {}, 0, {}, 0});
    for (ChainEntry& e : g.entries) {
      if (!revise) e.cross_safe_number += rng() % 4 == 0 ? 50 : rng() % 3;
      e.local_safe_number = rng() % 20 == 0 ? e.cross_safe_number : e.local_safe_number + rng() % 9;
    }
    g.l1_hash = PrefixFrom(g.l1_number, k);
    groups.push_back(g);
  }
  return groups;
}

inline std::vector<uint8_t> ReadBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// A group's bytes as docs/db-format.md lays them out (chain entries, then the seal with its CRC),
// written here from the document, independently of the code under test.
inline std::vector<uint8_t> EncodeGroupBytes(const Group& g) {
  namespace f = super_safe_format;
  std::vector<uint8_t> out((g.entries.size() + 1) * f::kEntrySize, 0);
  uint8_t* e = out.data();
  auto header = [&](uint8_t type) {
    e[f::kType] = type;
    PutU64BE(e + f::kL1Number, g.l1_number);
    std::memcpy(e + f::kL1Hash, g.l1_hash.data(), HashPrefix::kSize);
  };
  for (const ChainEntry& c : g.entries) {
    header(f::kTypeChain);
    PutU32BE(e + f::kChainIndex, c.chain_index);
    PutU64BE(e + f::kLocalSafeNumber, c.local_safe_number);
    std::memcpy(e + f::kLocalSafeHash, c.local_safe_hash.data(), HashPrefix::kSize);
    PutU64BE(e + f::kCrossSafeNumber, c.cross_safe_number);
    std::memcpy(e + f::kCrossSafeHash, c.cross_safe_hash.data(), HashPrefix::kSize);
    e[f::kFlags] = c.flags;
    e += f::kEntrySize;
  }
  header(f::kTypeSeal);
  PutU32BE(e + f::kSealCount, static_cast<uint32_t>(g.entries.size()));
  PutU64BE(e + f::kSealTimestamp, g.l1_timestamp);
  PutU32BE(e + f::kSealCrc, Crc32c(out));
  return out;
}

// The header entry as docs/db-format.md lays it out ("Entries"), for a file written for `chains`,
// written here from the document: 0x00, "SUPERSAFE", version 1, keccak256 of the chain IDs as 32
// big-endian bytes each, zeros.
inline std::vector<uint8_t> HeaderBytes(const std::vector<ChainID>& chains = TestChains()) {
  std::vector<uint8_t> ids;
  for (const ChainID& c : chains) {
    const Hash h = c.ToBytes32();
    ids.insert(ids.end(), h.bytes.begin(), h.bytes.end());
  }
  const Hash digest = Keccak256(ByteSpan(ids.data(), ids.size()));
  std::vector<uint8_t> h(super_safe_format::kEntrySize, 0);
  const std::string magic = "SUPERSAFE";
  std::copy(magic.begin(), magic.end(), h.begin() + 1);
  h[11] = 1;  // version 1, big-endian, bytes 10..12
  std::copy(digest.bytes.begin(), digest.bytes.end(), h.begin() + 12);
  return h;
}

// The content of supersafe.db without the zero tail preallocation leaves (docs/db-format.md): up to
// the last nonzero byte, rounded up to a whole 90-byte entry but not past the end of the file.
inline std::vector<uint8_t> ContentBytes(const std::filesystem::path& p) {
  std::vector<uint8_t> bytes = ReadBytes(p);
  size_t end = bytes.size();
  while (end > 0 && bytes[end - 1] == 0) --end;
  constexpr size_t kEntry = super_safe_format::kEntrySize;
  bytes.resize(std::min(bytes.size(), (end + kEntry - 1) / kEntry * kEntry));
  return bytes;
}
inline size_t ContentSize(const std::filesystem::path& p) { return ContentBytes(p).size(); }

inline void WriteBytes(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  SS_CHECK(out.good(), "writing " + p.string() + " failed");
}

// Writes groups for L1 1..5 (3 chains each) into `dir` with `*db` open, then, under the open
// database, overwrites the type byte of L1 3's seal with an unknown type (Open would refuse the
// file: it checks every group); returns that seal's offset.
inline size_t FiveGroupsWithTheSealOf3Damaged(const TempDir& dir, std::unique_ptr<SuperSafeDB>* db) {
  *db = OpenOk(dir);
  for (uint64_t l1 = 1; l1 <= 5; ++l1) SS_CHECK((*db)->Append(MakeGroup(l1)).ok(), "append");
  const size_t seal_of_3 = super_safe_format::kHeaderSize + (3 * 4 - 1) * super_safe_format::kEntrySize;
  const int fd = ::open(dir.db().c_str(), O_WRONLY | O_CLOEXEC);
  const uint8_t type = 0x07;
  SS_CHECK(fd >= 0 && ::pwrite(fd, &type, 1, static_cast<off_t>(seal_of_3 + super_safe_format::kType)) == 1,
           "damaging the seal of L1 3");
  ::close(fd);
  return seal_of_3;
}

}  // namespace supersafe::db::testing
