#include "db/super_safe_db.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

#include "core/crypto.h"
#include "db/super_safe_format.h"

namespace supersafe::db {
namespace {

namespace layout = super_safe_format;
constexpr uint64_t kEntry = layout::kEntrySize;

// ---------------------------------------------------------------------------------------------
// Entry fields

// Big-endian loads and stores: one access and a byte swap (core's GetU64BE and PutU64BE go byte
// by byte, and these sit on the hot paths).
void Store64(uint8_t* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}
void Store32(uint8_t* p, uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}
uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}
uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}

uint8_t TypeOf(const uint8_t* e) { return e[layout::kType]; }
uint64_t L1Of(const uint8_t* e) { return Load64(e + layout::kL1Number); }
bool SameL1Hash(const uint8_t* a, const uint8_t* b) {
  return std::memcmp(a + layout::kL1Hash, b + layout::kL1Hash, HashPrefix::kSize) == 0;
}
uint32_t ChainIndexOf(const uint8_t* e) { return Load32(e + layout::kChainIndex); }
uint32_t SealCountOf(const uint8_t* e) { return Load32(e + layout::kSealCount); }

std::string HexOf(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%02llx", static_cast<unsigned long long>(v));
  return buf;
}

void PutHeader(uint8_t* e, uint8_t type, uint64_t l1_number, const HashPrefix& l1_hash) {
  e[layout::kType] = type;
  Store64(e + layout::kL1Number, l1_number);
  std::memcpy(e + layout::kL1Hash, l1_hash.data(), HashPrefix::kSize);
}

void DecodeChainEntry(const uint8_t* e, ChainEntry& c) {
  c.chain_index = ChainIndexOf(e);
  c.local_safe_number = Load64(e + layout::kLocalSafeNumber);
  std::memcpy(c.local_safe_hash.data(), e + layout::kLocalSafeHash, HashPrefix::kSize);
  c.cross_safe_number = Load64(e + layout::kCrossSafeNumber);
  std::memcpy(c.cross_safe_hash.data(), e + layout::kCrossSafeHash, HashPrefix::kSize);
  c.flags = e[layout::kFlags];
}

// CRC-32C of a group's bytes (its chain entries, then its seal) with the seal's CRC field as zero.
uint32_t GroupCrc(ByteSpan group) {
  static constexpr uint8_t kZeroCrc[4] = {};
  const size_t crc_at = group.size() - kEntry + layout::kSealCrc;
  const uint32_t crc = Crc32cExtend(Crc32c(group.first(crc_at)), ByteSpan(kZeroCrc, 4));
  return Crc32cExtend(crc, group.subspan(crc_at + 4));
}

// Writes `g` at `e` as chain entries followed by its seal, every byte of them, with the seal's CRC
// field zero (the bytes GroupCrc covers); returns the end. The group must have passed CheckArgument.
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

// A group in memory-mapped or encoded bytes: `count` chain entries from `first`, then its seal.
struct GroupBytes {
  const uint8_t* first = nullptr;
  uint32_t count = 0;
  const uint8_t* entry(uint32_t k) const { return first + k * kEntry; }
};

// The rule that keeps FirstCrossSafeAtLeast a binary search: every chain of the group for the
// previous L1 number is present in `next`, with a cross-safe number not below the previous one.
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

// ---------------------------------------------------------------------------------------------
// Checks shared by Open and Verify. A Problem names the byte offset of the entry at fault.

struct Problem {
  uint64_t offset = 0;
  std::string what;
  auto operator<=>(const Problem&) const = default;
};

std::string Describe(const std::filesystem::path& file, const Problem& p) {
  return file.string() + ": corruption at offset " + std::to_string(p.offset) + ": " + p.what;
}

// What one entry shows on its own: its type, a chain entry's flags, a seal's count and reserved bytes.
void CheckEntryAlone(const uint8_t* e, uint64_t offset, std::vector<Problem>& out) {
  switch (TypeOf(e)) {
    case layout::kTypeChain:
      if ((e[layout::kFlags] & ~kKnownFlags) != 0)
        out.push_back({offset, "chain entry with unknown flag bits in " + HexOf(e[layout::kFlags])});
      return;
    case layout::kTypeSeal:
      if (SealCountOf(e) == 0) out.push_back({offset, "seal with an entry count of 0"});
      for (size_t b = layout::kSealReserved; b < kEntry; ++b) {
        if (e[b] != 0) {
          out.push_back({offset, "seal with nonzero reserved byte " + std::to_string(b) + " (" + HexOf(e[b]) + ")"});
          break;
        }
      }
      return;
    default:
      out.push_back({offset, "unknown entry type " + HexOf(TypeOf(e))});
  }
}

// The group closed by the seal at entry index `seal` of `base`: its count, its CRC, and that it is
// chain entries of the seal's L1 block in ascending chain order, starting right after a seal.
void CheckGroup(const uint8_t* base, uint64_t seal, std::vector<Problem>& out) {
  const uint8_t* s = base + seal * kEntry;
  const uint64_t seal_offset = seal * kEntry;
  const uint32_t count = SealCountOf(s);
  if (count == 0) return;  // CheckEntryAlone reports it
  if (count > seal) {
    out.push_back({seal_offset, "seal counts " + std::to_string(count) + " chain entries but only " +
                                    std::to_string(seal) + " entries precede it"});
    return;
  }
  const uint64_t start = seal - count;
  const uint32_t stored = Load32(s + layout::kSealCrc);
  const uint32_t computed = GroupCrc(ByteSpan(base + start * kEntry, (count + 1) * kEntry));
  if (stored != computed) {
    // Which bytes are wrong is unknown, the count included: checking the range it implies would
    // only name entries that may well be sound.
    out.push_back({seal_offset, "CRC mismatch over the group at [" + std::to_string(start * kEntry) + ", " +
                                    std::to_string(seal_offset + kEntry) + "): stored " + HexOf(stored) +
                                    ", computed " + HexOf(computed)});
    return;
  }
  for (uint64_t k = start; k < seal; ++k) {
    const uint8_t* e = base + k * kEntry;
    const uint64_t offset = k * kEntry;
    if (TypeOf(e) == layout::kTypeSeal) {
      out.push_back({offset, "seal inside the group of the seal at offset " + std::to_string(seal_offset)});
      continue;
    }
    if (TypeOf(e) != layout::kTypeChain) continue;  // CheckEntryAlone reports it
    if (L1Of(e) != L1Of(s))
      out.push_back({offset, "L1 number " + std::to_string(L1Of(e)) + " differs from its seal's " +
                                 std::to_string(L1Of(s))});
    else if (!SameL1Hash(e, s))
      out.push_back({offset, "L1 hash prefix differs from its seal's"});
    if (k > start && TypeOf(e - kEntry) == layout::kTypeChain && ChainIndexOf(e) <= ChainIndexOf(e - kEntry))
      out.push_back({offset, "chain index " + std::to_string(ChainIndexOf(e)) + " does not ascend from " +
                                 std::to_string(ChainIndexOf(e - kEntry))});
  }
  if (start > 0 && TypeOf(base + (start - 1) * kEntry) != layout::kTypeSeal)
    out.push_back({(start - 1) * kEntry, "the entry before the group of the seal at offset " +
                                             std::to_string(seal_offset) + " is not a seal"});
}

// The end of the file: where the last seal is and whether what follows it is a torn write (a
// prefix of one group's chain entries, maybe ending in a partial entry) or damage.
struct Tail {
  std::optional<uint64_t> last_seal;  // entry index
  uint64_t torn_offset = 0;           // where the torn write starts (the file size when none)
  std::vector<Problem> problems;      // not a torn write: corruption
};

Tail AnalyzeTail(const uint8_t* base, uint64_t size) {
  Tail t;
  const uint64_t entries = size / kEntry;
  uint64_t first = entries;  // first entry after the last seal
  while (first > 0 && TypeOf(base + (first - 1) * kEntry) == layout::kTypeChain) --first;
  if (first > 0) {
    const uint8_t* e = base + (first - 1) * kEntry;
    if (TypeOf(e) != layout::kTypeSeal) {
      CheckEntryAlone(e, (first - 1) * kEntry, t.problems);
      return t;
    }
    t.last_seal = first - 1;
  }
  t.torn_offset = first * kEntry;
  // The chain entries after the last seal: one group's, in order, at or above the seal's key.
  for (uint64_t k = first; k < entries; ++k) {
    const uint8_t* e = base + k * kEntry;
    const uint64_t offset = k * kEntry;
    CheckEntryAlone(e, offset, t.problems);
    if (t.last_seal && L1Of(e) < L1Of(base + *t.last_seal * kEntry))
      t.problems.push_back({offset, "out-of-order key: L1 number " + std::to_string(L1Of(e)) +
                                        " is below the last seal's " + std::to_string(L1Of(base + *t.last_seal * kEntry))});
    if (k > first) {
      const uint8_t* prev = e - kEntry;
      if (L1Of(e) != L1Of(prev) || !SameL1Hash(e, prev))
        t.problems.push_back({offset, "unsealed chain entries of different L1 blocks"});
      if (ChainIndexOf(e) <= ChainIndexOf(prev))
        t.problems.push_back({offset, "chain index " + std::to_string(ChainIndexOf(e)) + " does not ascend from " +
                                          std::to_string(ChainIndexOf(prev))});
    }
  }
  if (size % kEntry != 0) {
    const uint8_t type = base[entries * kEntry];
    if (type != layout::kTypeChain && type != layout::kTypeSeal)
      t.problems.push_back({entries * kEntry, "unknown entry type " + HexOf(type) + " in the partial last entry"});
  }
  // A torn write cannot leave a complete seal behind: if the last entry is a seal of the entries
  // before it in all but its type byte, the seal was acknowledged and has been damaged since.
  if (t.problems.empty() && entries >= first + 2) {
    const uint64_t last = entries - 1;
    const uint8_t* e = base + last * kEntry;
    if (SealCountOf(e) == last - first) {
      Bytes group(base + first * kEntry, base + entries * kEntry);
      group[group.size() - kEntry + layout::kType] = layout::kTypeSeal;
      if (GroupCrc(group) == Load32(e + layout::kSealCrc))
        t.problems.push_back({last * kEntry, "seal with a damaged type byte " + HexOf(TypeOf(e))});
    }
  }
  return t;
}

// An entry whose key is above the next entry's. Named at the higher one.
Problem OutOfOrder(const uint8_t* e, uint64_t offset) {
  return {offset, "out-of-order key: L1 number " + std::to_string(L1Of(e)) + " is above the next entry's " +
                      std::to_string(L1Of(e + kEntry))};
}

// Open's structural checks: the last group in full; then, if it is sound, that the entry before
// it is a seal of no higher key and the file starts with a chain entry of no higher key.
std::vector<Problem> CheckLastGroup(const uint8_t* base, uint64_t seal) {
  std::vector<Problem> out;
  const uint8_t* s = base + seal * kEntry;
  const uint32_t count = SealCountOf(s);
  const uint64_t start = count >= 1 && count <= seal ? seal - count : seal;
  for (uint64_t k = start; k <= seal; ++k) CheckEntryAlone(base + k * kEntry, k * kEntry, out);
  CheckGroup(base, seal, out);
  if (out.empty() && count < seal && L1Of(s - (count + 1) * kEntry) > L1Of(s))
    out.push_back(OutOfOrder(s - (count + 1) * kEntry, (seal - count - 1) * kEntry));
  if (out.empty() && (TypeOf(base) != layout::kTypeChain || L1Of(base) > L1Of(s))) {
    CheckEntryAlone(base, 0, out);
    if (out.empty()) out.push_back({0, "the file does not start with a chain entry at or below the last key"});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every entry and group of the first `entries` entries on their own and against each other: types,
// seals, CRCs, key order, and the Append rules across L1 numbers (Open and Verify).
std::vector<Problem> CheckGroups(const uint8_t* base, uint64_t entries) {
  std::vector<Problem> problems;
  // The newest group seen for the current L1 number, and the one for the L1 number before it.
  std::optional<GroupBytes> current, previous_key;
  for (uint64_t i = 0; i < entries; ++i) {
    const uint8_t* e = base + i * kEntry;
    const uint64_t offset = i * kEntry;
    CheckEntryAlone(e, offset, problems);
    if (i > 0 && L1Of(e) < L1Of(e - kEntry)) problems.push_back(OutOfOrder(e - kEntry, offset - kEntry));
    if (TypeOf(e) != layout::kTypeSeal) continue;
    const size_t before = problems.size();
    CheckGroup(base, i, problems);
    const uint32_t count = SealCountOf(e);
    if (problems.size() != before || count == 0 || count > i) continue;
    const GroupBytes gb{e - count * kEntry, count};
    if (current && L1Of(current->first) != L1Of(e)) previous_key = current;
    if (previous_key) {
      if (auto regression = CrossSafeRegression(*previous_key, gb)) problems.push_back({offset, *regression});
    }
    current = gb;
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The zero tail and torn writes in preallocated space (docs/db-format.md, "Preallocation and the
// zero tail").

bool AllZero(const uint8_t* p, size_t n) {
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (w != 0) return false;
  }
  for (; n > 0; ++p, --n)
    if (*p != 0) return false;
  return true;
}

// The end of the content: one past the last nonzero byte, rounded up to a whole entry (every entry
// has a nonzero type byte), at most `size`. Scans back over at most kMaxZeroTail bytes and an entry.
uint64_t ContentEnd(const uint8_t* base, uint64_t size, uint64_t data_end, std::vector<Problem>& problems) {
  const uint64_t reach = layout::kMaxZeroTail + kEntry;
  const uint64_t floor = size > reach ? size - reach : 0;
  uint64_t end = std::max(floor, std::min(size, data_end));  // the bytes from data_end on are zero
  while (end > floor && end % 8 != 0 && base[end - 1] == 0) --end;
  while (end >= floor + 8 && end % 8 == 0 && AllZero(base + end - 8, 8)) end -= 8;
  while (end > floor && base[end - 1] == 0) --end;
  const bool all_zero = end == floor && floor > 0;
  end = std::min(size, (end + kEntry - 1) / kEntry * kEntry);
  if (size - end > layout::kMaxZeroTail) {
    problems.push_back({end, "the file ends in " + std::string(all_zero ? "more than " : "") +
                                 std::to_string(size - end) + " zero bytes, more than preallocation leaves (" +
                                 std::to_string(layout::kMaxZeroTail) + ")"});
    return size;
  }
  return end;
}

// Evidence of a torn write in preallocated space, where the pages of one write can reach the disk
// in any order: the first all-zero entry within the last kMaxWrite bytes of content (valid data
// never has one). Returns where its run of zero bytes starts.
std::optional<uint64_t> ZeroRunInLastWrite(const uint8_t* base, uint64_t end) {
  const uint64_t entries = end / kEntry;
  const uint64_t window = layout::kMaxWrite / kEntry;
  for (uint64_t k = entries > window ? entries - window : 0; k < entries; ++k) {
    const uint8_t* e = base + k * kEntry;
    if (e[0] != 0 || !AllZero(e, kEntry)) continue;
    uint64_t start = k * kEntry;
    while (start > 0 && start + kEntry > k * kEntry && base[start - 1] == 0) --start;
    return start;
  }
  return std::nullopt;
}

// A torn write in preallocated space that ended inside the last entry left the rest of that entry
// zero, so it reads as a whole entry with wrong fields. Asked when the content up to `end` is not
// sound: returns where the entry's bytes end (one past its last nonzero byte) if the entry can be
// such a prefix: a chain entry ending in a zero byte, or a seal whose timestamp's last byte is zero
// too (a whole seal ends in its timestamp; the 45 bytes after it are zero anyway). Not when the
// entry is an acknowledged seal with a damaged type byte.
std::optional<uint64_t> PaddedLastEntry(const uint8_t* base, uint64_t end, const std::vector<Problem>& problems) {
  if (end < kEntry || end % kEntry != 0) return std::nullopt;
  const uint64_t last = end - kEntry;
  for (const Problem& p : problems)
    if (p.what.starts_with("seal with a damaged type byte")) return std::nullopt;
  uint64_t stop = end;
  while (stop > last && base[stop - 1] == 0) --stop;
  const uint64_t limit = TypeOf(base + last) == layout::kTypeSeal ? layout::kSealReserved - 1 : kEntry - 1;
  if (stop - last > limit) return std::nullopt;
  return stop;
}

// Where the torn write that left zero bytes from `zero_start` on begins: right after the last seal
// that the zeros left whole (its bytes before the reserved ones all before `zero_start`). The
// entries between are chain entries or the seal the zeros cut into.
std::variant<uint64_t, Problem> TornWriteStart(const uint8_t* base, uint64_t zero_start) {
  for (uint64_t j = (zero_start + kEntry - 1) / kEntry; j-- > 0;) {
    const uint8_t* e = base + j * kEntry;
    if (zero_start - j * kEntry > layout::kMaxWrite + kEntry)
      return Problem{j * kEntry, "no seal within " + std::to_string(layout::kMaxWrite) +
                                     " bytes before the zero bytes at offset " + std::to_string(zero_start)};
    if (TypeOf(e) == layout::kTypeSeal && j * kEntry + layout::kSealReserved <= zero_start) return (j + 1) * kEntry;
    if (TypeOf(e) != layout::kTypeChain && TypeOf(e) != layout::kTypeSeal)
      return Problem{j * kEntry, "unknown entry type " + HexOf(TypeOf(e)) + " before the zero bytes at offset " +
                                     std::to_string(zero_start)};
  }
  return uint64_t{0};
}

// What Open (and Verify) make of the file: where the content ends, how much of it stays (the rest
// is a torn write), or why it is corrupt.
struct Content {
  uint64_t end = 0;
  uint64_t keep = 0;
  std::vector<Problem> problems;
};

// In a file with a zero tail (`size` past the content), a torn write ends at its last nonzero
// byte: zero bytes after it cannot be told from the zero tail.
void TrimTornEnd(const uint8_t* base, uint64_t size, Content& c) {
  if (!c.problems.empty() || c.keep == c.end || c.end == size) return;
  while (c.end > c.keep && base[c.end - 1] == 0) --c.end;
}

// `data_end`: every byte from it to `size` is zero (File::DataEnd).
Content AnalyzeFile(const uint8_t* base, uint64_t size, uint64_t data_end) {
  Content c;
  c.end = ContentEnd(base, size, data_end, c.problems);
  if (!c.problems.empty()) return c;
  // The bytes up to `keep` must end in a sound group; after it, a torn write.
  auto check = [&](uint64_t keep) {
    Tail tail = AnalyzeTail(base, keep);
    std::vector<Problem> problems = std::move(tail.problems);
    if (problems.empty() && tail.last_seal) problems = CheckLastGroup(base, *tail.last_seal);
    return std::make_pair(std::move(tail), std::move(problems));
  };
  auto cut_at_zeros = [&](uint64_t zero_start) {
    auto start = TornWriteStart(base, zero_start);
    if (const Problem* p = std::get_if<Problem>(&start)) {
      c.problems.push_back(*p);
      return;
    }
    c.keep = std::get<uint64_t>(start);
    auto [tail, problems] = check(c.keep);
    SS_CHECK(!problems.empty() || tail.torn_offset == c.keep, "a torn-write start that is not after a seal");
    c.problems = std::move(problems);
    TrimTornEnd(base, size, c);
  };
  // The rules for torn writes in preallocated space hold only where there is a zero tail: a file
  // without one opens as it always did.
  const bool zero_tail = c.end < size;
  if (zero_tail) {
    if (auto zeros = ZeroRunInLastWrite(base, c.end)) {
      cut_at_zeros(*zeros);
      return c;
    }
  }
  auto [tail, problems] = check(c.end);
  if (!problems.empty() && zero_tail) {
    if (auto partial = PaddedLastEntry(base, c.end, problems)) {
      auto [tail2, problems2] = check(*partial);
      if (problems2.empty()) {
        c.end = *partial;
        tail = std::move(tail2);
        problems = std::move(problems2);
      }
    }
  }
  c.keep = tail.torn_offset;
  c.problems = std::move(problems);
  TrimTornEnd(base, size, c);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Searching sorted entries

// Asks for the cache lines that hold bytes [from, to), to be read soon. The empty volatile asm is
// what keeps the request: GCC counts __builtin_prefetch as free of side effects, so a function
// that only prefetches (and reads) is found pure, and a call to it whose result is unused is
// deleted. Without it GCC 12 deleted the prefetch of the guessed group in UpperBoundForGroup,
// every prefetch of FirstAtLeast's probes (PrefetchEntry), and those of the batched lookups.
void PrefetchBytes(const uint8_t* from, const uint8_t* to) {
  for (auto line = reinterpret_cast<uintptr_t>(from) & ~uintptr_t{63}; line < reinterpret_cast<uintptr_t>(to);
       line += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(line));
    asm volatile("");
  }
}

// One probe of FirstReached at index i: whether i has reached the target, its value (guides
// interpolation), and what the probe learnt next to i: if i has not reached the target, the last
// index known to share i's value and whether the index after that one has; if i has, the first
// index known to share i's value and whether the index before that one has not. Indices sharing a
// value are those of one L1 number; the neighbour is the next or previous L1 number's group.
struct Probe {
  bool reached;
  double value;
  uint64_t same;  // last (not reached) or first (reached) index known to share the value
  bool decided = false;  // the index after (not reached) or before (reached) `same` is on the other side
};

// Interpolated probes while they help, then bisection, so the worst case stays O(log n).
constexpr int kInterpolations = 8;

// Where to probe in a range of `width` (> 1) positions whose ends hold values va and vb: at the
// interpolated position of `target` for the first kInterpolations rounds, in the middle after.
uint64_t ProbeStep(int round, uint64_t width, double target, double va, double vb) {
  if (round >= kInterpolations || !(vb > va)) return width / 2;
  const double f = std::clamp((target - va) / (vb - va), 0.0, 1.0);
  return std::clamp<uint64_t>(static_cast<uint64_t>(f * static_cast<double>(width)), 1, width - 1);
}

// The first index in [lo, hi) that has reached the target (hi if none), for `probe` monotone in
// the index (false, then true). The first probes go where the values interpolate to `target`:
// on keys that grow about linearly with the position, as L1 numbers and L2 numbers do, each one
// cuts the distance to the answer by orders of magnitude, even when they all land on one side.
// After kInterpolations probes it bisects, so the worst case stays O(log n). Whatever the values,
// it terminates, and returns hi if hi-1 has not reached the target, else lo if lo has, else an
// index that has while the one before it has not.
template <typename ProbeFn>
uint64_t FirstReached(uint64_t lo, uint64_t hi, double target, const ProbeFn& probe) {
  if (lo == hi) return hi;
  const Probe last = probe(hi - 1);
  if (!last.reached) return hi;
  if (hi - 1 == lo) return lo;
  const Probe first = probe(lo);
  if (first.reached) return lo;
  uint64_t a = lo, b = hi - 1;  // a has not reached the target, b has
  double va = first.value, vb = last.value;
  auto narrow = [&](const Probe& p, uint64_t at) {
    if (p.reached) {
      b = std::clamp(p.same, a + 1, std::min(at, b));
      vb = p.value;
      if (p.decided && b == p.same) a = b - 1;
    } else {
      a = std::clamp(p.same, std::max(at, a), b - 1);
      va = p.value;
      if (p.decided && a == p.same) b = a + 1;
    }
  };
  narrow(first, lo);
  narrow(last, hi - 1);
  for (int round = 0; b - a > 1; ++round) {
    const uint64_t mid = a + ProbeStep(round, b - a, target, va, vb);
    narrow(probe(mid), mid);
  }
  return b;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SuperSafeDB

struct SuperSafeDB::Impl {
  std::unique_ptr<AppendFile> file;
  RecoveryReport recovery;
  std::unique_ptr<Mapping> mapping;  // read-only view of the file
  const uint8_t* base = nullptr;     // mapping->data()
  size_t mapped = 0;                 // mapping length; may reach past the end of the file
  uint64_t entries = 0;           // complete entries; when non-zero the last one is a seal
  // AppendBatch's buffer, kept to spare fresh pages per batch: the encoded groups (not
  // value-initialised; EncodeGroup writes every byte).
  std::unique_ptr<uint8_t[]> encoded;
  size_t encoded_capacity = 0;

  // The position index (docs/db-format.md, "Lookups"): slot b covers the L1 numbers
  // [first_key + (b << slot_shift), first_key + ((b + 1) << slot_shift)) and remembers, once a
  // lookup has found it, the first entry with a key at or above the slot's first L1 number, that
  // entry's key and the size of its group. Open leaves every slot unknown (0); lookups fill them
  // (const methods may run concurrently, hence std::atomic_ref), writes keep them true.
  uint64_t first_key = 0;  // Key(0) and Key(entries - 1), when entries > 0
  uint64_t last_key = 0;
  unsigned slot_shift = 0;
  mutable std::vector<uint64_t> slots;
  // A slot packs: bits 28..63 the entry index + 1 (0: not known yet), bits 16..27 the group size
  // in entries, seal included (0: no guess), bits 0..15 the entry's key minus the slot's first
  // L1 number.
  static constexpr unsigned kMinSlotShift = 6;  // 64 L1 numbers per slot
  static constexpr unsigned kSlotPosShift = 28;
  static constexpr uint64_t kMaxSlotGroup = 0xFFF;
  static constexpr uint64_t kMaxSlotDelta = 0xFFFF;

  // Makes the mapping cover `bytes`. Pages past the end of the file are never read.
  Status EnsureMapped(uint64_t bytes) {
    if (base != nullptr && bytes <= mapped) return Status::Ok();
    const size_t length = std::max<size_t>(size_t{64} << 20, std::bit_ceil(bytes * 2));
    SS_ASSIGN_OR_RETURN(mapping, file->raw().Map(0, length));
    base = mapping->data();
    mapped = mapping->length();
    return Status::Ok();
  }

  const uint8_t* Entry(uint64_t i) const {
    SS_CHECK(i < entries, "entry index past the end of " + file->path().string());
    return base + i * kEntry;
  }
  uint64_t Key(uint64_t i) const { return L1Of(Entry(i)); }

  // Asks for entries [first, first+count) (clipped to the file) to be loaded in parallel: a
  // group's entries are read one after another, and each would otherwise be a memory round trip.
  void Prefetch(uint64_t first, uint64_t count) const {
    const uint64_t end = std::min(entries, first + count);
    if (first >= end) return;
    PrefetchBytes(base + first * kEntry, base + end * kEntry);
  }

  // Asks for the cache lines of entry i (if it is in the file).
  void PrefetchEntry(uint64_t i) const {
    if (i >= entries) return;
    PrefetchBytes(base + i * kEntry, base + (i + 1) * kEntry);
  }

  // Stops the process on stored bytes that contradict the format (Open checks only the tail;
  // VerifySuperSafeDB finds such damage without stopping).
  void CheckStored(bool ok, uint64_t index, const char* what) const {
    SS_CHECK(ok, Describe(file->path(), {index * kEntry, what}));
  }

  // The group closed by the seal at `seal`, checked for structure as it is read.
  GroupBytes GroupAt(uint64_t seal) const {
    const uint8_t* s = Entry(seal);
    CheckStored(TypeOf(s) == layout::kTypeSeal, seal, "expected a seal");
    const uint32_t count = SealCountOf(s);
    CheckStored(count >= 1 && count <= seal, seal, "seal count out of range");
    return {s - count * kEntry, count};
  }

  // Decodes into `g`, reusing the capacity of g.entries.
  void DecodeGroup(uint64_t seal, Group& g) const {
    const GroupBytes gb = GroupAt(seal);
    Prefetch(seal - gb.count, gb.count);
    const uint8_t* s = Entry(seal);
    g.l1_number = L1Of(s);
    std::memcpy(g.l1_hash.data(), s + layout::kL1Hash, HashPrefix::kSize);
    g.l1_timestamp = Load64(s + layout::kSealTimestamp);
    g.entries.resize(gb.count);
    for (uint32_t k = 0; k < gb.count; ++k) {
      const uint8_t* e = gb.entry(k);
      CheckStored(TypeOf(e) == layout::kTypeChain && L1Of(e) == g.l1_number, seal - gb.count + k,
                  "expected a chain entry of its seal's L1 block");
      DecodeChainEntry(e, g.entries[k]);
    }
  }
  Group DecodeGroup(uint64_t seal) const {
    Group g;
    DecodeGroup(seal, g);
    return g;
  }

  // The end of x's newest group (UpperBound), asking for that group's entries while the guess
  // is checked.
  uint64_t UpperBoundForGroup(uint64_t x) const {
    return UpperBound(x, [&](uint64_t p, uint64_t group) { Prefetch(p + 1 - group, group + 1); });
  }

  // Brings the index in line with the file after Open, an append or a truncation: slots for the
  // L1 numbers up to the tip, none known past it. Constant time unless the first key changes or the
  // key range outgrows the slot width (then every slot is forgotten) or the table has to grow.
  // The table holds at most max(1024, entries / 64) slots: on an ordinary file, one per 64 L1
  // numbers (140 KB for 10 million entries).
  void RefreshIndex() {
    if (entries == 0) {
      slots.clear();
      first_key = last_key = 0;
      slot_shift = 0;
      return;
    }
    const uint64_t first = Key(0);
    last_key = Key(entries - 1);
    const uint64_t cap = std::max<uint64_t>(1024, entries / 64);
    unsigned shift = kMinSlotShift;
    while (((last_key - first) >> shift) + 1 > cap) ++shift;
    if (slots.empty() || first != first_key || shift > slot_shift) {
      slots.clear();
      first_key = first;
      slot_shift = shift;
    }
    slots.resize(((last_key - first_key) >> slot_shift) + 1, 0);
  }

  // After a truncation to `keep` entries: forgets the slots that point at or past it (the others
  // still name the first entry of their L1 range), then refreshes.
  void ForgetFrom(uint64_t keep) {
    for (uint64_t& slot : slots)
      if (slot != 0 && (slot >> kSlotPosShift) - 1 >= keep) slot = 0;
    RefreshIndex();
  }

  uint64_t PeekSlot(uint64_t b) const { return std::atomic_ref<uint64_t>(slots[b]).load(std::memory_order_relaxed); }

  // Slot b, found and remembered if not known yet (one full search). 0 if it cannot be packed.
  uint64_t Slot(uint64_t b) const {
    if (uint64_t s = PeekSlot(b); s != 0) return s;
    const uint64_t key0 = first_key + (b << slot_shift);
    const uint64_t v = b == 0 ? 0 : UpperBoundIn(0, entries, key0 - 1);
    if (v >= entries || v + 1 >= (uint64_t{1} << (64 - kSlotPosShift))) return 0;
    uint64_t delta = Key(v) - key0, group = 0;
    for (uint64_t i = v; i < entries && i - v < kMaxSlotGroup; ++i) {
      if (TypeOf(Entry(i)) == layout::kTypeSeal) {
        group = i - v + 1;
        break;
      }
    }
    if (delta > kMaxSlotDelta) group = delta = 0;  // no guess: the slot only bounds the search
    const uint64_t s = ((v + 1) << kSlotPosShift) | (group << 16) | delta;
    std::atomic_ref<uint64_t>(slots[b]).store(s, std::memory_order_relaxed);
    return s;
  }

  // The first entry with a key above x (entries if none). On a file as the supervisor writes it
  // (a group for every L1 number, all of one size, revisions rare) this is one read: the slot of
  // x gives the first group of its L1 range, x's newest group is (x - that key) groups further on
  // if nothing in between is missing or revised, and reading that seal's key and the key after
  // it proves it (keys never fall). When the guess is wrong, the key read moves the anchor and the
  // guess is made again (revisions before x), a few times, then the search falls back to
  // UpperBoundIn within the slot's range. `prefetch(p, g)` is told each guess (seal p, groups of g
  // entries) before it is read, so a caller can ask for the entries it will read next.
  template <typename PrefetchFn>
  uint64_t UpperBound(uint64_t x, const PrefetchFn& prefetch) const {
    if (entries == 0 || x < first_key) return 0;
    if (x >= last_key) return entries;
    const uint64_t b = (x - first_key) >> slot_shift;
    const uint64_t slot = Slot(b);
    if (slot == 0) return UpperBoundIn(0, entries, x);
    const uint64_t v = (slot >> kSlotPosShift) - 1;
    const uint64_t group = (slot >> 16) & kMaxSlotGroup;
    uint64_t anchor_key = first_key + (b << slot_shift) + (slot & kMaxSlotDelta);
    if (x < anchor_key) return v;  // v is the first entry at or above the slot's first L1 number
    uint64_t lo = v, anchor = v;   // the answer is in [lo, hi]
    uint64_t hi = entries;
    if (group != 0) {
      for (int round = 0; round < 4; ++round) {
        if (x - anchor_key >= entries) break;
        const uint64_t p = anchor + (x - anchor_key + 1) * group - 1;  // x's seal, if all is regular
        if (p >= entries) break;
        prefetch(p, group);
        if (Key(p) > x) {
          hi = p;
          break;
        }
        if (p + 1 == entries || Key(p + 1) > x) return p + 1;
        lo = anchor = p + 1;
        anchor_key = Key(p + 1);
      }
    }
    if (b + 1 < slots.size()) {
      if (const uint64_t next = PeekSlot(b + 1); next != 0) hi = std::min(hi, (next >> kSlotPosShift) - 1);
    }
    return UpperBoundIn(lo, std::max(lo, hi), x);
  }
  uint64_t UpperBound(uint64_t x) const {
    return UpperBound(x, [](uint64_t, uint64_t) {});
  }

  // The first entry in [lo, hi] with a key above x, for lo no later than the answer and hi no
  // earlier. A probe that lands on key x itself finishes the search by walking to the end of it.
  uint64_t UpperBoundIn(uint64_t lo, uint64_t hi, uint64_t x) const {
    return FirstReached(lo, hi, static_cast<double>(x) + 0.5, [&](uint64_t i) {
      const uint64_t k = Key(i);
      if (k == x) return Probe{false, static_cast<double>(k), EndOfKey(i) - 1, true};
      if (k < x) return Probe{false, static_cast<double>(k), i, i + 1 < entries && Key(i + 1) > x};
      return Probe{true, static_cast<double>(k), i, i > 0 && Key(i - 1) <= x};
    });
  }

  // The first entry after i with a key above Key(i) (entries if none): one past the seal of the
  // newest revision of that L1 block. Walks the few entries of a group, then gallops and bisects
  // (many revisions, or many chains).
  uint64_t EndOfKey(uint64_t i) const {
    constexpr uint64_t kWalk = 32;
    const uint64_t x = Key(i);
    Prefetch(i + 1, kWalk / 2);
    uint64_t lo = i;
    for (const uint64_t walk_end = std::min(entries, i + kWalk); lo + 1 < walk_end; ++lo)
      if (Key(lo + 1) != x) return lo + 1;
    uint64_t hi = entries;  // Key(lo) == x; Key(hi) > x or hi == entries
    for (uint64_t step = 1;; step *= 2) {
      if (step >= entries - lo) break;
      if (Key(lo + step) > x) {
        hi = lo + step;
        break;
      }
      lo += step;
    }
    while (hi - lo > 1) {
      const uint64_t mid = lo + (hi - lo) / 2;
      (Key(mid) > x ? hi : lo) = mid;
    }
    return hi;
  }

  // The chain's entry in the group of the seal at `seal`, nullptr if the chain is not in it.
  const uint8_t* ChainEntryIn(uint64_t seal, uint32_t chain) const {
    const GroupBytes gb = GroupAt(seal);
    auto index_at = [&](uint32_t k) {
      const uint8_t* e = gb.entry(k);
      CheckStored(TypeOf(e) == layout::kTypeChain, seal - gb.count + k, "expected a chain entry");
      return ChainIndexOf(e);
    };
    // Chain indices are usually 0..count-1: try the chain's own position first.
    uint32_t k = std::min(chain, gb.count - 1);
    if (index_at(k) != chain) {
      uint32_t lo = 0, hi = gb.count;  // first entry with index >= chain
      while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        (index_at(mid) < chain ? lo = mid + 1 : hi = mid);
      }
      if (lo == gb.count || index_at(lo) != chain) return nullptr;
      k = lo;
    }
    return gb.entry(k);
  }

  // The chain's number at `field` in the group of the seal at `seal`, if the chain is in it.
  std::optional<uint64_t> ChainNumber(uint64_t seal, uint32_t chain, size_t field) const {
    const uint8_t* e = ChainEntryIn(seal, chain);
    if (e == nullptr) return std::nullopt;
    return Load64(e + field);
  }

  // A search over L1 numbers k for f(k) >= l2_number, where f(k) is the chain's number in the
  // newest group with an L1 number at or below k (-1 without the chain): interpolation on the
  // number first, then bisection, as FirstReached. Each probe finds its group with UpperBound (one
  // read on a regular file) and also reads the group before it or the group after it, prefetched
  // with it, so a probe that lands next to the answer ends the search.
  std::optional<uint64_t> FirstAtLeast(uint32_t chain, uint64_t l2_number, size_t field) const {
      if (entries == 0) return std::nullopt;
    auto value = [&](uint64_t seal) { return ChainNumber(seal, chain, field); };
    auto reached = [&](const std::optional<uint64_t>& n) { return n && *n >= l2_number; };
    auto number = [](const std::optional<uint64_t>& n) { return n ? static_cast<double>(*n) : -1.0; };
    const std::optional<uint64_t> at_last = value(entries - 1);
    if (!reached(at_last)) return std::nullopt;
    const std::optional<uint64_t> at_first = value(UpperBound(first_key) - 1);
    if (reached(at_first)) return first_key;
    // f(a) has not reached the number, f(b) has; b is an L1 number in the file.
    uint64_t a = first_key, b = last_key;
    double va = number(at_first), vb = number(at_last);
    const double target = static_cast<double>(l2_number) - 0.5;
    // The entries a probe reads: the chain's entry and the seal of the guessed group, of the group
    // before it and of the group after it (positions as the guess assumes chains 0..group-2).
    auto prefetch = [&](uint64_t p, uint64_t group) {
      const uint64_t slot = std::min<uint64_t>(chain, group - 2) + 1;
      for (uint64_t seal : {p - group, p, p + group}) {
        if (seal >= entries || seal + 1 < group) continue;  // also p - group below 0
        PrefetchEntry(seal);
        PrefetchEntry(seal + 1 - group + slot - 1);
      }
      PrefetchEntry(p + 1);
      PrefetchEntry(p + group + 1);
    };
    for (int round = 0; b - a > 1; ++round) {
      const uint64_t k = a + ProbeStep(round, b - a, target, va, vb);
      const uint64_t seal = UpperBound(k, prefetch) - 1;  // k >= first_key, so there is one
      const uint64_t key = Key(seal);                        // f(k) == f(key); nothing in (key, k]
      const std::optional<uint64_t> n = value(seal);
      const uint32_t count = GroupAt(seal).count;
      if (reached(n)) {
        b = key;  // above a, since f(a) has not reached the number
        vb = number(n);
        // The entry before this group's first revision is the newest group of the L1 number before.
        const uint64_t start = seal - count;
        if (start > 0 && Key(start - 1) < key) {
          const std::optional<uint64_t> before = value(start - 1);
          if (!reached(before)) return key;
          b = Key(start - 1);
          vb = number(before);
        }
      } else {
        a = k;
        va = number(n);
        if (seal + 1 == entries) continue;  // not reached at the tip: cannot happen (f(b) has)
        // f stays at f(k) up to the next L1 number in the file; try its group, if it is the newest.
        const uint64_t next_key = Key(seal + 1);
        a = next_key - 1;
        const uint64_t next_seal = seal + count + 1;  // if it is the same size
        if (next_seal < entries && TypeOf(Entry(next_seal)) == layout::kTypeSeal && Key(next_seal) == next_key &&
            (next_seal + 1 == entries || Key(next_seal + 1) > next_key)) {
          const std::optional<uint64_t> next = value(next_seal);
          if (reached(next)) return next_key;
          a = next_key;
          va = number(next);
        }
      }
    }
    return b;
  }
};

SuperSafeDB::SuperSafeDB(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SuperSafeDB::~SuperSafeDB() = default;

Result<std::unique_ptr<SuperSafeDB>> SuperSafeDB::Open(const std::filesystem::path& dir, const OpenOptions& options) {
  Env* env = EnvOr(options.env);
  SS_ASSIGN_OR_RETURN(const FileType type, env->TypeOf(dir));
  if (type == FileType::kNone) return IOError(dir.string() + ": directory does not exist");
  if (type != FileType::kDirectory) return IOError(dir.string() + ": not a directory");

  auto impl = std::make_unique<Impl>();
  SS_ASSIGN_OR_RETURN(impl->file, AppendFile::Open(env, dir / kFileName, layout::kPreallocChunk));
  const uint64_t size = impl->file->size();
  SS_RETURN_IF_ERROR(impl->EnsureMapped(size));
  SS_ASSIGN_OR_RETURN(const uint64_t data_end, impl->file->raw().DataEnd());

  Content content = AnalyzeFile(impl->base, size, data_end);
  if (content.problems.empty()) content.problems = CheckGroups(impl->base, content.keep / kEntry);
  if (!content.problems.empty()) {
    std::sort(content.problems.begin(), content.problems.end());
    return Corruption(Describe(impl->file->path(), content.problems.front()));
  }
  impl->file->SetContentSize(content.end);
  if (content.keep < content.end) {
    SS_ASSIGN_OR_RETURN(impl->recovery.torn_bytes, impl->file->MoveTailToBroken(content.keep));
  }
  SS_CHECK(impl->file->size() == content.keep && content.keep % kEntry == 0,
           "recovery left " + impl->file->path().string() + " at a size that is not its last seal's end");
  impl->entries = content.keep / kEntry;
  impl->RefreshIndex();
  return std::unique_ptr<SuperSafeDB>(new SuperSafeDB(std::move(impl)));
}

const RecoveryReport& SuperSafeDB::recovery() const { return impl_->recovery; }

Status SuperSafeDB::Append(const Group& group) { return AppendBatch(std::span<const Group>(&group, 1)); }

Status SuperSafeDB::AppendBatch(std::span<const Group> groups) {
  Impl& d = *impl_;
  SS_RETURN_IF_ERROR(d.file->CheckAlive());
  auto context = [](const Group& g) { return "group for L1 block " + std::to_string(g.l1_number); };
  if (groups.empty()) return Status::Ok();

  // Each group is checked and encoded in one visit (its entries are read from memory once); the
  // next groups' entries are prefetched meanwhile, since a caller's groups are separate heap blocks.
  size_t total = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const size_t n = groups[i].entries.size();
    if (n == 0 || (n + 1) * kEntry > layout::kMaxWrite) {
      // Nothing is allocated for it; the first rejected group (this one or one before) is reported.
      for (size_t j = 0; j <= i; ++j) {
        if (Status s = CheckArgument(groups[j]); !s.ok()) return s.WithContext(context(groups[j]));
      }
    }
    total += (n + 1) * kEntry;
  }
  if (d.encoded_capacity < total) {
    d.encoded_capacity = std::max(total, 2 * d.encoded_capacity);
    d.encoded = std::make_unique_for_overwrite<uint8_t[]>(d.encoded_capacity);
  }
  const ByteSpan bytes(d.encoded.get(), total);
  constexpr size_t kPrefetchAhead = 4;
  uint8_t* out = d.encoded.get();
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i + kPrefetchAhead < groups.size()) {
      const std::vector<ChainEntry>& ahead = groups[i + kPrefetchAhead].entries;
      const auto* p = reinterpret_cast<const char*>(ahead.data());
      const size_t n = ahead.size() * sizeof(ChainEntry);
      for (size_t off = 0; off < n; off += 64) __builtin_prefetch(p + off);
    }
    const Group& g = groups[i];
    if (Status s = CheckArgument(g); !s.ok()) return s.WithContext(context(g));
    uint8_t* end = EncodeGroup(g, out);
    Store32(end - kEntry + layout::kSealCrc, Crc32c(ByteSpan(out, static_cast<size_t>(end - out))));
    out = end;
  }
  SS_CHECK(out == bytes.data() + bytes.size(), "AppendBatch encoded a size other than it reserved");

  // Keys never fall, only the tip is revised, and cross-safe numbers never fall between the newest
  // revisions of successive L1 blocks. `tip` is the newest group; `below_tip` the newest group of
  // the L1 block before the tip's (what a revision of the tip is compared with).
  std::optional<GroupBytes> tip, below_tip;
  if (d.entries > 0) {
    tip = d.GroupAt(d.entries - 1);
    const uint64_t tip_key = d.Key(d.entries - 1);
    const uint64_t end = tip_key == 0 ? 0 : d.UpperBound(tip_key - 1);
    if (end > 0) below_tip = d.GroupAt(end - 1);
  }
  const uint8_t* next = bytes.data();
  for (const Group& g : groups) {
    const GroupBytes gb{next, static_cast<uint32_t>(g.entries.size())};
    next += (gb.count + 1) * kEntry;
    if (tip) {
      const uint64_t tip_key = L1Of(tip->first);
      if (g.l1_number < tip_key)
        return InvalidArgument(context(g) + ": below the tip's L1 block " + std::to_string(tip_key));
      if (g.l1_number > tip_key) below_tip = tip;
      if (below_tip) {
        if (auto regression = CrossSafeRegression(*below_tip, gb))
          return InvalidArgument(context(g) + ": " + *regression);
      }
    }
    tip = gb;
  }

  const uint64_t old_size = d.file->size();
  SS_CHECK(old_size == d.entries * kEntry, "file size and entry count disagree on " + d.file->path().string());
  SS_RETURN_IF_ERROR(d.EnsureMapped(old_size + bytes.size()));
  // Whole groups, at most kMaxWrite bytes per write and fdatasync (what bounds a torn write).
  for (size_t g = 0, start = 0; g < groups.size();) {
    size_t end = start;
    for (; g < groups.size() && end - start + (groups[g].entries.size() + 1) * kEntry <= layout::kMaxWrite; ++g)
      end += (groups[g].entries.size() + 1) * kEntry;
    SS_RETURN_IF_ERROR(d.file->Append(ByteSpan(bytes.data() + start, end - start)));
    start = end;
  }
  SS_CHECK(d.file->size() == old_size + bytes.size(), "append did not grow " + d.file->path().string());
  d.entries += bytes.size() / kEntry;
  d.RefreshIndex();
  const uint8_t* last = d.Entry(d.entries - 1);
  SS_CHECK(std::memcmp(last, bytes.data() + bytes.size() - kEntry, kEntry) == 0,
           "the mapping of " + d.file->path().string() + " does not read back the seal just written");
  return Status::Ok();
}

Status SuperSafeDB::TruncateFrom(uint64_t l1_number) {
  Impl& d = *impl_;
  SS_RETURN_IF_ERROR(d.file->CheckAlive());
  const uint64_t keep = l1_number == 0 ? 0 : d.UpperBound(l1_number - 1);
  if (keep == d.entries) return Status::Ok();
  if (keep > 0) d.CheckStored(TypeOf(d.Entry(keep - 1)) == layout::kTypeSeal, keep - 1, "expected a seal");
  SS_RETURN_IF_ERROR(d.file->Truncate(keep * kEntry));
  SS_CHECK(d.file->size() == keep * kEntry, "truncate left " + d.file->path().string() + " at the wrong size");
  d.entries = keep;
  d.ForgetFrom(keep);
  return Status::Ok();
}

bool SuperSafeDB::empty() const { return impl_->entries == 0; }
uint64_t SuperSafeDB::entry_count() const { return impl_->entries; }

std::optional<Group> SuperSafeDB::Last() const {
  if (impl_->entries == 0) return std::nullopt;
  return impl_->DecodeGroup(impl_->entries - 1);
}

bool SuperSafeDB::At(uint64_t l1_number, Group* out) const {
  const uint64_t end = impl_->UpperBoundForGroup(l1_number);
  if (end == 0 || impl_->Key(end - 1) != l1_number) return false;
  impl_->DecodeGroup(end - 1, *out);
  return true;
}

bool SuperSafeDB::AtOrBefore(uint64_t l1_number, Group* out) const {
  const uint64_t end = impl_->UpperBoundForGroup(l1_number);
  if (end == 0) return false;
  impl_->DecodeGroup(end - 1, *out);
  return true;
}

std::optional<Group> SuperSafeDB::At(uint64_t l1_number) const {
  Group g;
  if (!At(l1_number, &g)) return std::nullopt;
  return g;
}

std::optional<Group> SuperSafeDB::AtOrBefore(uint64_t l1_number) const {
  Group g;
  if (!AtOrBefore(l1_number, &g)) return std::nullopt;
  return g;
}

std::optional<uint64_t> SuperSafeDB::FirstCrossSafeAtLeast(uint32_t chain_index, uint64_t l2_number) const {
  return impl_->FirstAtLeast(chain_index, l2_number, layout::kCrossSafeNumber);
}

std::optional<uint64_t> SuperSafeDB::FirstLocalSafeAtLeast(uint32_t chain_index, uint64_t l2_number) const {
  return impl_->FirstAtLeast(chain_index, l2_number, layout::kLocalSafeNumber);
}

// ---------------------------------------------------------------------------------------------
// Batched lookups (docs/db-format.md, "Batched lookups")

namespace {

constexpr uint64_t kNoEntry = UINT64_MAX;

// Asks for the lines of seal s (its key, count and timestamp) and of the key after it.
template <typename Impl>
void PrefetchSeal(const Impl& d, uint64_t s) {
  const uint8_t* e = d.base + s * kEntry;
  PrefetchBytes(e, e + (s + 1 < d.entries ? kEntry + layout::kL1Number + 8 : kEntry));
}

// One key of a batch in flight. Its search for the upper bound of x (the first entry with a key
// above x) proceeds one read at a time: each step reads the entry `probe` and the one after it,
// whose cache lines were asked for after the previous step; between two steps of one key the
// other keys in flight take theirs, so the reads of different keys overlap.
struct InFlight {
  // kSearch: the next step reads the probe. kPayload: the upper bound is known (end) and the next
  // step answers from the lines of seal `ready`.
  enum class Phase : uint8_t { kSearch, kPayload };
  Phase phase;
  bool with_payload;  // kSearch: the probe is a guess of the seal; ask for the answer's lines too
  int round;          // probes so far in this search
  size_t key;         // index in the batch
  uint64_t x;
  // The upper bound is in [lo, hi], and Key(lo - 1) <= x.
  uint64_t lo, hi;
  // What guides the probes (not their correctness): a group with key ka <= x starts at pa, and
  // one with key kz + 1 > x at pb (or pb is the entry count and kz the last key), as far as is
  // known; a group is known to start at `base`; groups are assumed to be `group` entries long,
  // seal included.
  uint64_t pa, ka, pb, kz;
  uint64_t base, group;
  uint64_t probe;  // the next step reads Key(probe) and Key(probe + 1)
  uint64_t ready;  // the seal whose payload (what the answer reads) was asked for
  uint64_t end;    // the upper bound, once found
  // FirstAtLeast's own search over L1 numbers (as Impl::FirstAtLeast): f(a) below, f(b) at or past.
  uint64_t a, b;
  double va, vb;
  int outer_round;
  bool before;  // waiting for the group before the probe's (FirstAtLeast, reached at the probe)
};

// The batched lookups. A template only so that it can be handed the private SuperSafeDB::Impl.
// `Policy` says what a lookup wants: Start(f) begins key f.key, Payload(f, seal, group) asks for the
// lines the answer will read if `seal` is the one (those of Key(seal) and Key(seal + 1) included),
// Finish(f) answers from f.end (or goes on: FirstAtLeast); Start and Finish return whether the key
// is still in flight.
template <typename Impl>
class Batcher {
 public:
  explicit Batcher(const Impl& d) : d_(d) {
    // The group size to assume where the index has none: the newest group's.
    if (d.entries > 0) tip_group_ = std::max<uint64_t>(2, d.GroupAt(d.entries - 1).count + 1);
  }
  const Impl& db() const { return d_; }

  // Runs every key of the batch through `policy`, with kWaves waves of kWaveSize keys in flight.
  // For each wave in turn, every key in it takes one step (reads what it asked for and decides; a
  // key that is done makes room for the next key of the batch), then the wave asks for the lines
  // of its keys' next steps, all in one tight loop. The other waves' steps give those lines time
  // to arrive. Asking in a tight loop is what lets the page walks and misses of different keys
  // overlap: a prefetch that misses the TLB cannot retire before its page walk is done, and a
  // step is a few hundred instructions, so a key asking right after its own step held up the next
  // key's request until then (measured on the regular benchmark file: 70 % of the time stalled on
  // one prefetch, and MultiChainAt at 4.2 to 5.1 M/s instead of 7.4 M/s).
  template <size_t kWaveSize, size_t kWaves, typename Policy>
  void Run(size_t keys, Policy& policy) {
    InFlight ring[kWaves][kWaveSize];
    size_t live[kWaves] = {};
    size_t next = 0, in_flight = 0;
    auto start_next = [&](InFlight& f) {
      while (next < keys) {
        f.key = next++;
        if (policy.Start(f)) return true;
      }
      return false;
    };
    for (size_t v = 0; v < kWaves; ++v) {
      while (live[v] < kWaveSize && start_next(ring[v][live[v]])) ++live[v];
      for (size_t w = 0; w < live[v]; ++w) Ask(ring[v][w], policy);
      in_flight += live[v];
    }
    while (in_flight > 0) {
      for (size_t v = 0; v < kWaves; ++v) {
        InFlight* wave = ring[v];
        for (size_t w = 0; w < live[v];) {
          if (Advance(wave[w], policy) || start_next(wave[w])) {
            ++w;
          } else {
            wave[w] = wave[--live[v]];  // done, and no key left to start: close the gap
            --in_flight;
          }
        }
        for (size_t w = 0; w < live[v]; ++w) Ask(wave[w], policy);
      }
    }
  }

  // Starts the search for the upper bound of x. False if it is known without reading (f.end set),
  // true if a probe is due (Run asks for its lines).
  bool BeginSearch(InFlight& f, uint64_t x) const {
    const Impl& d = d_;
    f.phase = InFlight::Phase::kSearch;
    f.with_payload = false;
    f.x = x;
    f.round = 0;
    f.ready = kNoEntry;
    f.group = tip_group_;
    if (d.entries == 0 || x < d.first_key) {
      f.end = 0;
      return false;
    }
    if (x >= d.last_key) {
      f.end = d.entries;
      return false;
    }
    // As Impl::UpperBound: x's slot gives the first entry of its range of L1 numbers (filled with
    // a search of its own when it is not known yet).
    const uint64_t b = (x - d.first_key) >> d.slot_shift;
    const uint64_t slot = d.Slot(b);
    f.lo = 1;  // Key(0) == first_key <= x
    f.pa = f.base = 0;
    f.ka = d.first_key;
    if (slot != 0) {
      // v is the first entry at or above the slot's first L1 number; its key is v_key if the slot
      // has a group size, else only known to be at or above v_key (and Key(v - 1) is below it).
      const uint64_t v = (slot >> Impl::kSlotPosShift) - 1;
      const uint64_t v_key = d.first_key + (b << d.slot_shift) + (slot & Impl::kMaxSlotDelta);
      if (x < v_key) {
        f.end = v;
        return false;
      }
      const uint64_t group = (slot >> 16) & Impl::kMaxSlotGroup;
      if (group >= 2) f.group = group;
      f.lo = group != 0 ? v + 1 : v;
      f.pa = f.base = v;
      f.ka = v_key;
    }
    f.hi = f.pb = d.entries;
    f.kz = d.last_key;
    if (b + 1 < d.slots.size()) {
      // The next slot's first entry has a key above x: a bound, and a better point to interpolate to.
      if (const uint64_t next = d.PeekSlot(b + 1); next != 0) {
        f.hi = f.pb = (next >> Impl::kSlotPosShift) - 1;
        f.kz = d.first_key + ((b + 1) << d.slot_shift) + (next & Impl::kMaxSlotDelta) - 1;
      }
    }
    NextProbe(f);
    return true;
  }

  // After the search: whether the key must wait for the lines of its answer (Run asks for them).
  bool AwaitPayload(InFlight& f) const {
    if (f.end == 0 || f.end - 1 == f.ready) return false;
    f.ready = f.end - 1;
    f.phase = InFlight::Phase::kPayload;
    return true;
  }

 private:
  // Asks for the lines of f's next step.
  template <typename Policy>
  void Ask(const InFlight& f, const Policy& policy) const {
    if (f.phase == InFlight::Phase::kPayload) {
      policy.Payload(f, f.ready, f.group);
      return;
    }
    if (f.with_payload) {  // which covers the probe's lines
      policy.Payload(f, f.probe, f.group);
      return;
    }
    PrefetchSeal(d_, f.probe);
  }

  // Interpolated probes on the L1 number for kInterpolations rounds, each moved to the nearest
  // seal if groups are `group` long from `base`, then bisection, so the worst case stays O(log n).
  // Between pa and pb as the supervisor writes them (a group of one size for every L1 number, pa a
  // group start) the seal is computed exactly, without floating point, and the first probe is the
  // answer.
  void NextProbe(InFlight& f) const {
    // The probe reads one of the entries [lo - 1, hi - 1] and the entry after it.
    uint64_t m = f.lo - 1 + (f.hi - f.lo) / 2;
    f.with_payload = f.round < kInterpolations;
    if (f.with_payload) {
      const uint64_t g = f.group;
      if (f.pa == f.base && f.pb - f.pa == (f.kz - f.ka + 1) * g) {
        m = std::clamp(f.pa + (f.x - f.ka + 1) * g - 1, f.lo - 1, f.hi - 1);
      } else {
        const double lo = static_cast<double>(f.lo - 1), hi = static_cast<double>(f.hi - 1);
        const double end = static_cast<double>(f.pa) + (static_cast<double>(f.x - f.ka) + 1) /
                                                           (static_cast<double>(f.kz - f.ka) + 1) *
                                                           static_cast<double>(f.pb - f.pa);
        const double gd = static_cast<double>(g), groups = (end - static_cast<double>(f.base)) / gd;
        const double seal = static_cast<double>(f.base) + std::floor(groups + 0.5) * gd - 1;
        if (seal >= lo && seal <= hi) {
          m = static_cast<uint64_t>(seal);
        } else if (seal < lo) {
          m = f.lo - 1;
        } else if (seal > hi) {
          m = f.hi - 1;
        }  // else NaN (keys near 2^64, where doubles round them together): bisect
      }
    }
    ++f.round;
    f.probe = m;
    if (f.with_payload) f.ready = m;
  }

  // One step of the search: reads the probe. True if the search goes on, false if f.end is found.
  bool SearchStep(InFlight& f) const {
    const Impl& d = d_;
    const uint64_t m = f.probe;
    const uint8_t* e = d.Entry(m);
    const uint64_t k = L1Of(e);
    uint64_t start = m;  // where the group of m starts, as far as is known
    if (TypeOf(e) == layout::kTypeSeal) {  // a group starts after it, and its count is a group size
      f.base = m + 1;
      if (const uint32_t count = SealCountOf(e); count >= 1 && count <= std::min<uint64_t>(m, Impl::kMaxSlotGroup)) {
        f.group = count + 1;
        start = m - count;
      }
    }
    if (k > f.x) {
      f.hi = m;
      f.pb = start;
      f.kz = k - 1;
    } else if (m + 1 == d.entries || d.Key(m + 1) > f.x) {
      f.end = m + 1;
      return false;
    } else {
      f.lo = m + 2;
      f.pa = m + 1;
      f.ka = d.Key(m + 1);
    }
    if (f.lo == f.hi) {
      f.end = f.lo;
      return false;
    }
    NextProbe(f);
    return true;
  }

  template <typename Policy>
  bool Advance(InFlight& f, Policy& policy) const {
    if (f.phase == InFlight::Phase::kSearch && (SearchStep(f) || AwaitPayload(f))) return true;
    return policy.Finish(f);
  }

  const Impl& d_;
  uint64_t tip_group_ = 2;
};

// At / AtOrBefore into Groups.
template <typename Impl>
struct GroupLookups {
  static constexpr size_t kWaveSize = 2, kWaves = 8;
  Batcher<Impl>& batch;
  std::span<const uint64_t> keys;
  std::span<Group> out;
  std::span<bool> found;
  bool exact;  // At: the group must be for the key itself
  size_t hits = 0;

  bool Start(InFlight& f) {
    if (batch.BeginSearch(f, keys[f.key]) || batch.AwaitPayload(f)) return true;
    return Finish(f);
  }
  // The whole group: its entries and its seal, and the key after it.
  void Payload(const InFlight&, uint64_t seal, uint64_t group) const {
    const Impl& d = batch.db();
    const uint64_t first = seal + 1 >= group ? seal + 1 - group : 0;
    PrefetchBytes(d.base + first * kEntry, d.base + seal * kEntry);
    PrefetchSeal(d, seal);
  }
  bool Finish(InFlight& f) {
    const Impl& d = batch.db();
    const bool hit = f.end > 0 && (!exact || d.Key(f.end - 1) == f.x);
    if (hit) d.DecodeGroup(f.end - 1, out[f.key]);
    found[f.key] = hit;
    hits += hit;
    return false;
  }
};

// One chain of At / AtOrBefore.
template <typename Impl>
struct ChainLookups {
  static constexpr size_t kWaveSize = 4, kWaves = 6;
  Batcher<Impl>& batch;
  std::span<const SuperSafeDB::ChainL1Key> keys;
  std::span<SuperSafeDB::ChainView> out;
  std::span<bool> found;
  bool exact;
  size_t hits = 0;

  bool Start(InFlight& f) {
    if (batch.BeginSearch(f, keys[f.key].l1_number) || batch.AwaitPayload(f)) return true;
    return Finish(f);
  }
  // The seal (key, count, timestamp), the key after it, and the chain's entry if chains are
  // 0..group-2.
  void Payload(const InFlight& f, uint64_t seal, uint64_t group) const {
    const Impl& d = batch.db();
    PrefetchSeal(d, seal);
    if (seal + 1 >= group) d.PrefetchEntry(seal + 1 - group + std::min<uint64_t>(keys[f.key].chain_index, group - 2));
  }
  bool Finish(InFlight& f) {
    const Impl& d = batch.db();
    bool hit = f.end > 0 && (!exact || d.Key(f.end - 1) == f.x);
    if (hit) {
      const uint64_t seal = f.end - 1;
      const uint8_t* e = d.ChainEntryIn(seal, keys[f.key].chain_index);
      hit = e != nullptr;
      if (hit) {
        const uint8_t* s = d.Entry(seal);
        d.CheckStored(L1Of(e) == L1Of(s), static_cast<uint64_t>(e - d.base) / kEntry,
                      "expected a chain entry of its seal's L1 block");
        SuperSafeDB::ChainView& v = out[f.key];
        v.l1_number = L1Of(s);
        std::memcpy(v.l1_hash.data(), s + layout::kL1Hash, HashPrefix::kSize);
        v.l1_timestamp = Load64(s + layout::kSealTimestamp);
        DecodeChainEntry(e, v.entry);
      }
    }
    found[f.key] = hit;
    hits += hit;
    return false;
  }
};

// FirstCrossSafeAtLeast / FirstLocalSafeAtLeast: Impl::FirstAtLeast's search over L1 numbers, step
// for step (so that the answers are the same, also where local-safe numbers fall and several L1
// numbers would do), with each of its upper bounds a batched search.
template <typename Impl>
struct FirstAtLeastLookups {
  static constexpr size_t kWaveSize = 2, kWaves = 8;
  Batcher<Impl>& batch;
  std::span<const SuperSafeDB::ChainL2Key> keys;
  std::span<std::optional<uint64_t>> out;
  size_t field;
  uint64_t first_seal = 0;  // the seal of the first L1 number's newest group

  std::optional<uint64_t> Value(const InFlight& f, uint64_t seal) const {
    return batch.db().ChainNumber(seal, keys[f.key].chain_index, field);
  }
  bool Reached(const InFlight& f, const std::optional<uint64_t>& n) const { return n && *n >= keys[f.key].l2_number; }
  static double Number(const std::optional<uint64_t>& n) { return n ? static_cast<double>(*n) : -1.0; }
  double Target(const InFlight& f) const { return static_cast<double>(keys[f.key].l2_number) - 0.5; }

  // The chain's numbers in the newest group and in the first L1 number's, which every key of the
  // chain starts from: remembered for the last few chains seen.
  struct Ends {
    uint32_t chain = 0;
    bool known = false;
    std::optional<uint64_t> at_last, at_first;
  };
  std::array<Ends, 16> ends{};
  const Ends& EndsOf(const InFlight& f) {
    const uint32_t chain = keys[f.key].chain_index;
    Ends& e = ends[chain % ends.size()];
    if (!e.known || e.chain != chain) e = {chain, true, Value(f, batch.db().entries - 1), Value(f, first_seal)};
    return e;
  }

  bool Start(InFlight& f) {
    const Impl& d = batch.db();
    if (d.entries == 0) return Done(f, std::nullopt);
    const Ends& e = EndsOf(f);
    const std::optional<uint64_t> at_last = e.at_last;
    if (!Reached(f, at_last)) return Done(f, std::nullopt);
    const std::optional<uint64_t> at_first = e.at_first;
    if (Reached(f, at_first)) return Done(f, d.first_key);
    f.a = d.first_key;
    f.b = d.last_key;
    f.va = Number(at_first);
    f.vb = Number(at_last);
    f.outer_round = 0;
    f.before = false;
    return NextOuterProbe(f);
  }
  bool Done(InFlight& f, std::optional<uint64_t> answer) {
    out[f.key] = answer;
    return false;
  }
  // What a round of the search over L1 numbers ends in.
  enum class Next { kDone, kProbe, kWait };
  Next Answer(InFlight& f, std::optional<uint64_t> answer) {
    Done(f, answer);
    return Next::kDone;
  }
  // Starts the upper bound of the next L1 number to probe, and goes on while no read is needed.
  bool NextOuterProbe(InFlight& f) {
    for (;;) {
      if (f.b - f.a <= 1) return Done(f, f.b);
      const uint64_t k = f.a + ProbeStep(f.outer_round, f.b - f.a, Target(f), f.va, f.vb);
      if (batch.BeginSearch(f, k) || batch.AwaitPayload(f)) return true;
      if (const Next next = Probed(f); next != Next::kProbe) return next == Next::kWait;
    }
  }
  // What a probe reads if `seal` is its seal: the seal, the key after it and the chain's entry,
  // and the same of the group after it, the one the search reads next if this group has not
  // reached the number (positions as if chains are 0..group-2). If it has, the search reads the
  // group before instead; Probed waits for that one (on the benchmark files the interpolated
  // probe lands just below the answer, so that is the rare case).
  void Payload(const InFlight& f, uint64_t seal, uint64_t group) const {
    const Impl& d = batch.db();
    const uint64_t slot = std::min<uint64_t>(keys[f.key].chain_index, group - 2);
    for (const uint64_t s : {seal, seal + group}) {
      if (s >= d.entries) break;
      PrefetchSeal(d, s);
      if (s + 1 >= group) d.PrefetchEntry(s + 1 - group + slot);
    }
    if (seal >= group) {  // the key of the seal before the group
      const uint8_t* e = d.base + (seal - group) * kEntry;
      PrefetchBytes(e, e + layout::kL1Number + 8);
    }
  }
  bool Finish(InFlight& f) {
    const Next next = f.before ? ProbedBefore(f) : Probed(f);
    return next == Next::kProbe ? NextOuterProbe(f) : next == Next::kWait;
  }

  // One round of Impl::FirstAtLeast's loop, from the upper bound of probe k = f.x: the answer
  // (written), or the next probe is due, or the round waits for the lines of the group before the
  // probe's (f.before; ProbedBefore ends the round).
  Next Probed(InFlight& f) {
    const Impl& d = batch.db();
    const uint64_t seal = f.end - 1;  // k >= first_key, so there is one
    const uint64_t key = d.Key(seal);
    const std::optional<uint64_t> n = Value(f, seal);
    const uint32_t count = d.GroupAt(seal).count;
    ++f.outer_round;
    if (Reached(f, n)) {
      f.b = key;
      f.vb = Number(n);
      const uint64_t start = seal - count;
      if (start > 0 && d.Key(start - 1) < key) {
        // ProbedBefore reads that group once its lines are in.
        f.before = true;
        f.ready = start - 1;
        f.phase = InFlight::Phase::kPayload;
        return Next::kWait;
      }
      return Next::kProbe;
    }
    f.a = f.x;
    f.va = Number(n);
    if (seal + 1 == d.entries) return Next::kProbe;
    const uint64_t next_key = d.Key(seal + 1);
    f.a = next_key - 1;
    const uint64_t next_seal = seal + count + 1;
    if (next_seal < d.entries && TypeOf(d.Entry(next_seal)) == layout::kTypeSeal && d.Key(next_seal) == next_key &&
        (next_seal + 1 == d.entries || d.Key(next_seal + 1) > next_key)) {
      const std::optional<uint64_t> next = Value(f, next_seal);
      if (Reached(f, next)) return Answer(f, next_key);
      f.a = next_key;
      f.va = Number(next);
    }
    return Next::kProbe;
  }
  Next ProbedBefore(InFlight& f) {
    f.before = false;
    const std::optional<uint64_t> before = Value(f, f.ready);
    if (!Reached(f, before)) return Answer(f, f.b);  // f.b is the probe's key
    f.b = batch.db().Key(f.ready);
    f.vb = Number(before);
    return Next::kProbe;
  }
};

template <typename T>
void CheckOutput(std::span<T> out, size_t keys, const char* what) {
  SS_CHECK(out.size() >= keys, std::string(what) + ": output span shorter than the keys");
}

// The body of MultiAt, MultiAtOrBefore, MultiChainAt and MultiChainAtOrBefore: `exact` for At.
template <template <typename> class Lookups, typename Impl, typename Key, typename Out>
size_t RunAtLookups(const Impl& impl, std::span<const Key> keys, std::span<Out> out, std::span<bool> found,
                    bool exact, const char* what) {
  CheckOutput(out, keys.size(), what);
  CheckOutput(found, keys.size(), what);
  Batcher<Impl> batch(impl);
  Lookups<Impl> lookups{batch, keys, out, found, exact};
  batch.template Run<Lookups<Impl>::kWaveSize, Lookups<Impl>::kWaves>(keys.size(), lookups);
  return lookups.hits;
}

// The body of MultiFirstCrossSafeAtLeast and MultiFirstLocalSafeAtLeast: `field` is the number searched.
template <typename Impl>
void RunFirstAtLeastLookups(const Impl& impl, std::span<const SuperSafeDB::ChainL2Key> keys,
                            std::span<std::optional<uint64_t>> out, size_t field, const char* what) {
  CheckOutput(out, keys.size(), what);
  Batcher<Impl> batch(impl);
  FirstAtLeastLookups<Impl> lookups{batch, keys, out, field};
  if (impl.entries > 0) lookups.first_seal = impl.UpperBound(impl.first_key) - 1;
  batch.template Run<FirstAtLeastLookups<Impl>::kWaveSize, FirstAtLeastLookups<Impl>::kWaves>(keys.size(), lookups);
}

}  // namespace

size_t SuperSafeDB::MultiAt(std::span<const uint64_t> l1_numbers, std::span<Group> out, std::span<bool> found) const {
  return RunAtLookups<GroupLookups>(*impl_, l1_numbers, out, found, true, "MultiAt");
}

size_t SuperSafeDB::MultiAtOrBefore(std::span<const uint64_t> l1_numbers, std::span<Group> out,
                                    std::span<bool> found) const {
  return RunAtLookups<GroupLookups>(*impl_, l1_numbers, out, found, false, "MultiAtOrBefore");
}

size_t SuperSafeDB::MultiChainAt(std::span<const ChainL1Key> keys, std::span<ChainView> out,
                                 std::span<bool> found) const {
  return RunAtLookups<ChainLookups>(*impl_, keys, out, found, true, "MultiChainAt");
}

size_t SuperSafeDB::MultiChainAtOrBefore(std::span<const ChainL1Key> keys, std::span<ChainView> out,
                                         std::span<bool> found) const {
  return RunAtLookups<ChainLookups>(*impl_, keys, out, found, false, "MultiChainAtOrBefore");
}

void SuperSafeDB::MultiFirstCrossSafeAtLeast(std::span<const ChainL2Key> keys,
                                             std::span<std::optional<uint64_t>> out) const {
  RunFirstAtLeastLookups(*impl_, keys, out, layout::kCrossSafeNumber, "MultiFirstCrossSafeAtLeast");
}

void SuperSafeDB::MultiFirstLocalSafeAtLeast(std::span<const ChainL2Key> keys,
                                             std::span<std::optional<uint64_t>> out) const {
  RunFirstAtLeastLookups(*impl_, keys, out, layout::kLocalSafeNumber, "MultiFirstLocalSafeAtLeast");
}

// ---------------------------------------------------------------------------------------------
// Verify

std::vector<Finding> VerifySuperSafeDB(Env* env, const std::filesystem::path& file) {
  auto cannot = [&](const Status& s) { return std::vector<Finding>{{file, 0, s.ToString()}}; };
  Result<Env::Opened> opened = env->Open(file, Env::OpenMode::kReadOnly);
  if (!opened.ok()) return cannot(opened.status());
  Result<uint64_t> file_size = opened->file->Size();
  if (!file_size.ok()) return cannot(file_size.status());
  const uint64_t size = *file_size;
  if (size == 0) return {};
  Result<std::unique_ptr<Mapping>> mapping = opened->file->Map(0, size);
  if (!mapping.ok()) return cannot(mapping.status());
  const uint8_t* base = (*mapping)->data();
  Result<uint64_t> data_end = opened->file->DataEnd();
  if (!data_end.ok()) return cannot(data_end.status());

  std::vector<Problem> problems;
  // As Open judges the end: the zero tail is no finding, a torn write is one finding for all of it.
  Content content = AnalyzeFile(base, size, *data_end);
  const bool torn = content.problems.empty() && content.keep < content.end;
  const uint64_t checked = torn ? content.keep : content.end;
  problems = std::move(content.problems);
  std::vector<Problem> groups = CheckGroups(base, checked / kEntry);
  problems.insert(problems.end(), groups.begin(), groups.end());
  if (torn) {
    problems.push_back({content.keep, "torn write: the " + std::to_string(content.end - content.keep) +
                                          " bytes from here are not sealed whole (opening moves them to " +
                                          file.filename().string() + ".broken)"});
  } else {
    Tail tail = AnalyzeTail(base, checked);
    problems.insert(problems.end(), tail.problems.begin(), tail.problems.end());
  }

  std::sort(problems.begin(), problems.end());
  problems.erase(std::unique(problems.begin(), problems.end()), problems.end());
  std::vector<Finding> findings;
  findings.reserve(problems.size());
  for (Problem& p : problems) findings.push_back({file, p.offset, std::move(p.what)});
  return findings;
}

Result<uint64_t> SuperSafeContentSize(Env* env, const std::filesystem::path& file) {
  SS_ASSIGN_OR_RETURN(Env::Opened opened, env->Open(file, Env::OpenMode::kReadOnly));
  SS_ASSIGN_OR_RETURN(const uint64_t size, opened.file->Size());
  SS_ASSIGN_OR_RETURN(const uint64_t data_end, opened.file->DataEnd());
  uint64_t end = std::min(size, data_end);  // the bytes from data_end on are zero
  Bytes block(64 << 10);
  while (end > 0) {
    const uint64_t n = std::min<uint64_t>(block.size(), end);
    SS_RETURN_IF_ERROR(opened.file->ReadAt(end - n, n, block.data()));
    uint64_t k = n;
    while (k > 0 && block[k - 1] == 0) --k;
    if (k > 0) {
      end = end - n + k;
      break;
    }
    end -= n;
  }
  return std::min(size, (end + kEntry - 1) / kEntry * kEntry);
}

Result<SuperSafeDump> DumpSuperSafeDB(Env* env, const std::filesystem::path& file) {
  SuperSafeDump dump;
  SS_ASSIGN_OR_RETURN(dump.content_end, SuperSafeContentSize(env, file));
  SS_ASSIGN_OR_RETURN(const Bytes bytes, ReadWholeFile(env, file));
  dump.file_size = bytes.size();
  SS_CHECK(dump.content_end <= bytes.size(), "content end past the end of " + file.string());
  const uint64_t whole = dump.content_end / kEntry * kEntry;
  dump.partial_bytes = dump.content_end - whole;
  for (uint64_t offset = 0; offset < whole; offset += kEntry) {
    const uint8_t* e = bytes.data() + offset;
    DumpedEntry d;
    d.offset = offset;
    d.type = TypeOf(e);
    d.l1_number = L1Of(e);
    std::memcpy(d.l1_hash.data(), e + layout::kL1Hash, HashPrefix::kSize);
    if (d.type == layout::kTypeChain) {
      d.kind = DumpedEntry::Kind::kChain;
      DecodeChainEntry(e, d.chain);
    } else if (d.type == layout::kTypeSeal) {
      d.kind = DumpedEntry::Kind::kSeal;
      d.seal_count = SealCountOf(e);
      d.seal_crc = Load32(e + layout::kSealCrc);
      d.l1_timestamp = Load64(e + layout::kSealTimestamp);
    }
    dump.entries.push_back(d);
  }
  return dump;
}

}  // namespace supersafe::db
