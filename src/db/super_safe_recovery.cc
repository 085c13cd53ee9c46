// The checks Open and Verify share, and the end of the file: the zero tail of preallocation and
// torn writes (docs/db-format.md, "Preallocation and the zero tail", "Recovery on open").
#include "db/super_safe_db_internal.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <variant>

#include "core/check.h"

namespace supersafe::db::super_safe_internal {

std::string Describe(const std::filesystem::path& file, const Problem& p) {
  return file.string() + ": corruption at offset " + std::to_string(p.offset) + ": " + p.what;
}

void ShiftProblems(std::vector<Problem>& problems, uint64_t by) {
  for (Problem& p : problems) p.offset += by;
}

// ---------------------------------------------------------------------------------------------
// The header entry

std::array<uint8_t, layout::kHeaderSize> EncodeHeader(const Hash& digest) {
  std::array<uint8_t, layout::kHeaderSize> h{};
  h[layout::kType] = layout::kTypeHeader;
  std::memcpy(h.data() + layout::kHeaderMagic, layout::kMagic, sizeof layout::kMagic);
  h[layout::kHeaderVersion] = static_cast<uint8_t>(layout::kFormatVersion >> 8);
  h[layout::kHeaderVersion + 1] = static_cast<uint8_t>(layout::kFormatVersion & 0xff);
  std::memcpy(h.data() + layout::kHeaderDigest, digest.bytes.data(), Hash::kSize);
  return h;
}

namespace {

// Bytes as text: printable ASCII as is, anything else as \xNN.
std::string Printable(const uint8_t* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"') {
      out += static_cast<char>(p[i]);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", p[i]);
      out += buf;
    }
  }
  return out;
}

// Every way the whole header entry at `h` differs from one Open would accept, by offset.
std::vector<Problem> HeaderProblems(const uint8_t* h, const std::optional<Hash>& digest) {
  std::vector<Problem> out;
  if (h[layout::kType] != layout::kTypeHeader)
    out.push_back({0, "the first entry is not a header: type " + HexOf(h[layout::kType]) +
                          " (a file written without one, or damage)"});
  if (std::memcmp(h + layout::kHeaderMagic, layout::kMagic, sizeof layout::kMagic) != 0)
    out.push_back({layout::kHeaderMagic, "header magic: expected \"SUPERSAFE\", found \"" +
                                              Printable(h + layout::kHeaderMagic, sizeof layout::kMagic) + "\""});
  const unsigned version = unsigned{h[layout::kHeaderVersion]} << 8 | h[layout::kHeaderVersion + 1];
  if (version != layout::kFormatVersion)
    out.push_back({layout::kHeaderVersion, "header format version: expected " + std::to_string(layout::kFormatVersion) +
                                                ", found " + std::to_string(version)});
  if (digest && std::memcmp(h + layout::kHeaderDigest, digest->bytes.data(), Hash::kSize) != 0)
    out.push_back({layout::kHeaderDigest, "dependency-set digest: expected " + digest->Hex() + ", found " +
                                               ToHex(ByteSpan(h + layout::kHeaderDigest, Hash::kSize)) +
                                               " (the file was written for another dependency set)"});
  for (size_t b = layout::kHeaderReserved; b < layout::kHeaderSize; ++b) {
    if (h[b] != 0) {
      out.push_back({b, "header with nonzero reserved byte " + std::to_string(b) + " (" + HexOf(h[b]) + ")"});
      break;
    }
  }
  return out;
}

}  // namespace

HeaderVerdict JudgeHeader(const uint8_t* first, uint64_t size, bool groups_empty, const std::optional<Hash>& digest) {
  HeaderVerdict v;
  if (size == 0) return v;
  // A write cut short leaves fewer bytes than an entry, or, in preallocated space, the header's
  // first bytes followed by zeros: then its nonzero bytes end before its reserved ones, and nothing
  // follows it (the header is synced before any group is written).
  if (size < layout::kHeaderSize) {
    v.kind = HeaderVerdict::Kind::kTorn;
    v.torn_bytes = size;
    return v;
  }
  v.problems = HeaderProblems(first, digest);
  if (v.problems.empty()) {
    v.kind = HeaderVerdict::Kind::kSound;
    return v;
  }
  uint64_t last = layout::kHeaderSize;  // one past the header's last nonzero byte
  while (last > 0 && first[last - 1] == 0) --last;
  if (groups_empty && size > layout::kHeaderSize && last < layout::kHeaderReserved) {
    v.kind = HeaderVerdict::Kind::kTorn;
    v.torn_bytes = last;
    v.problems.clear();
    return v;
  }
  v.kind = HeaderVerdict::Kind::kBad;
  return v;
}

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

std::vector<Problem> CheckGroups(const uint8_t* base, uint64_t from, uint64_t entries, GroupsChecked& at) {
  std::vector<Problem> problems;
  auto group = [&](uint64_t seal) {
    const uint32_t count = SealCountOf(base + seal * kEntry);
    return GroupBytes{base + (seal - count) * kEntry, count};
  };
  for (uint64_t i = from; i < entries; ++i) {
    const uint8_t* e = base + i * kEntry;
    const uint64_t offset = i * kEntry;
    CheckEntryAlone(e, offset, problems);
    if (i > 0 && L1Of(e) < L1Of(e - kEntry)) problems.push_back(OutOfOrder(e - kEntry, offset - kEntry));
    if (TypeOf(e) != layout::kTypeSeal) continue;
    const size_t before = problems.size();
    CheckGroup(base, i, problems);
    const uint32_t count = SealCountOf(e);
    if (problems.size() != before || count == 0 || count > i) continue;
    if (at.current && L1Of(base + *at.current * kEntry) != L1Of(e)) at.previous_key = at.current;
    if (at.previous_key) {
      if (auto regression = CrossSafeRegression(group(*at.previous_key), group(i)))
        problems.push_back({offset, *regression});
    }
    at.current = i;
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The zero tail and torn writes in preallocated space

namespace {

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

// In a file with a zero tail (`size` past the content), a torn write ends at its last nonzero
// byte: zero bytes after it cannot be told from the zero tail.
void TrimTornEnd(const uint8_t* base, uint64_t size, Content& c) {
  if (!c.problems.empty() || c.keep == c.end || c.end == size) return;
  while (c.end > c.keep && base[c.end - 1] == 0) --c.end;
}

}  // namespace

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

}  // namespace supersafe::db::super_safe_internal
