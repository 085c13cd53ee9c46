// Internals of the super-safe-db (SuperSafeDB, db/super_safe_db.h) shared by its source files; not
// an interface. The files, one job each:
//   super_safe_codec.cc     entry fields, encoding a group, the rules Append checks its argument by
//   super_safe_recovery.cc  the checks Open and Verify share; the zero tail and torn writes
//   super_safe_db.cc        the database: open (recovery), append, truncate
//   super_safe_lookup.cc    the position index and the single-key lookups
//   super_safe_batch.cc     the batched lookups
//   super_safe_verify.cc    VerifySuperSafeDB, SuperSafeContentSize, DumpSuperSafeDB
// Layout and rules: docs/db-format.md.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/check.h"
#include "core/status.h"
#include "core/types.h"
#include "db/file.h"
#include "db/super_safe_db.h"
#include "db/super_safe_format.h"

namespace supersafe::db {
namespace super_safe_internal {

namespace layout = super_safe_format;
inline constexpr uint64_t kEntry = layout::kEntrySize;

// ---------------------------------------------------------------------------------------------
// Entry fields (super_safe_codec.cc)

// Big-endian loads and stores: one access and a byte swap (core's GetU64BE and PutU64BE go byte
// by byte, and these sit on the hot paths).
inline void Store64(uint8_t* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}
inline void Store32(uint8_t* p, uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}
inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}
inline uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}

inline uint8_t TypeOf(const uint8_t* e) { return e[layout::kType]; }
inline uint64_t L1Of(const uint8_t* e) { return Load64(e + layout::kL1Number); }
inline bool SameL1Hash(const uint8_t* a, const uint8_t* b) {
  return std::memcmp(a + layout::kL1Hash, b + layout::kL1Hash, HashPrefix::kSize) == 0;
}
inline uint32_t ChainIndexOf(const uint8_t* e) { return Load32(e + layout::kChainIndex); }
inline uint32_t SealCountOf(const uint8_t* e) { return Load32(e + layout::kSealCount); }

std::string HexOf(uint64_t v);

inline void DecodeChainEntry(const uint8_t* e, ChainEntry& c) {
  c.chain_index = ChainIndexOf(e);
  c.local_safe_number = Load64(e + layout::kLocalSafeNumber);
  std::memcpy(c.local_safe_hash.data(), e + layout::kLocalSafeHash, HashPrefix::kSize);
  c.cross_safe_number = Load64(e + layout::kCrossSafeNumber);
  std::memcpy(c.cross_safe_hash.data(), e + layout::kCrossSafeHash, HashPrefix::kSize);
  c.flags = e[layout::kFlags];
}

// CRC-32C of a group's bytes (its chain entries, then its seal) with the seal's CRC field as zero.
uint32_t GroupCrc(ByteSpan group);

// Writes `g` at `e` as chain entries followed by its seal, every byte of them, with the seal's CRC
// field zero (the bytes GroupCrc covers); returns the end. The group must have passed CheckArgument.
uint8_t* EncodeGroup(const Group& g, uint8_t* e);

// What Append requires of one group on its own (kInvalidArgument naming what is wrong).
Status CheckArgument(const Group& g);

// A group in memory-mapped or encoded bytes: `count` chain entries from `first`, then its seal.
struct GroupBytes {
  const uint8_t* first = nullptr;
  uint32_t count = 0;
  const uint8_t* entry(uint32_t k) const { return first + k * kEntry; }
};

// The rule that keeps FirstCrossSafeAtLeast a binary search: every chain of the group for the
// previous L1 number is present in `next`, with a cross-safe number not below the previous one.
std::optional<std::string> CrossSafeRegression(const GroupBytes& prev, const GroupBytes& next);

// ---------------------------------------------------------------------------------------------
// Checks shared by Open and Verify (super_safe_recovery.cc). A Problem names the byte offset of
// the entry at fault.

struct Problem {
  uint64_t offset = 0;
  std::string what;
  auto operator<=>(const Problem&) const = default;
};

// "<file>: corruption at offset <offset>: <what>".
std::string Describe(const std::filesystem::path& file, const Problem& p);

// The end of the file: where the last seal is and whether what follows it is a torn write (a
// prefix of one group's chain entries, maybe ending in a partial entry) or damage.
struct Tail {
  std::optional<uint64_t> last_seal;  // entry index
  uint64_t torn_offset = 0;           // where the torn write starts (the file size when none)
  std::vector<Problem> problems;      // not a torn write: corruption
};
Tail AnalyzeTail(const uint8_t* base, uint64_t size);

// Where CheckGroups has got to: the seal of the newest sound group seen for the current L1 number,
// and of the newest one for the L1 number before it (entry indices), what the Append rules compare
// the next group with.
struct GroupsChecked {
  std::optional<uint64_t> current;
  std::optional<uint64_t> previous_key;
};
// Entries [from, entries) on their own and against each other and the entries before them:
// types, seals, CRCs, key order, and the Append rules across L1 numbers (Open and Verify). `at` is
// where a check of the entries before `from` got to (empty when from is 0), and is moved on.
std::vector<Problem> CheckGroups(const uint8_t* base, uint64_t from, uint64_t entries, GroupsChecked& at);

// ---------------------------------------------------------------------------------------------
// The header entry (super_safe_recovery.cc; docs/db-format.md, "The header")

// The header Open writes for a dependency set of digest `digest`.
std::array<uint8_t, layout::kHeaderSize> EncodeHeader(const Hash& digest);

// What the first entry makes of a file.
struct HeaderVerdict {
  enum class Kind : uint8_t {
    kMissing,  // an empty file: Open writes the header
    kSound,    // the groups follow it
    kTorn,     // a header cut short in a file that holds nothing else: Open moves it and writes a new one
    kBad,      // refused: `problems`
  };
  Kind kind = Kind::kMissing;
  uint64_t torn_bytes = 0;        // kTorn: the header's bytes, to its last nonzero one
  std::vector<Problem> problems;  // kBad: what differs, by offset (a digest problem is at kHeaderDigest)
};
// `first`: the file's first min(size, kHeaderSize) bytes; `size`: the file's size; `groups_empty`:
// every byte after the header is zero (so nothing but the header was ever written); `digest`: the
// dependency-set digest expected, or nullopt to check all but the digest.
HeaderVerdict JudgeHeader(const uint8_t* first, uint64_t size, bool groups_empty, const std::optional<Hash>& digest);

// Adds `by` to the offset of every problem (offsets in the groups' bytes to file offsets).
void ShiftProblems(std::vector<Problem>& problems, uint64_t by);

// What Open (and Verify) make of the file: where the content ends, how much of it stays (the rest
// is a torn write), or why it is corrupt.
struct Content {
  uint64_t end = 0;
  uint64_t keep = 0;
  std::vector<Problem> problems;
};
// The file of `size` bytes at `base`; `data_end`: every byte from it to `size` is zero
// (File::DataEnd).
Content AnalyzeFile(const uint8_t* base, uint64_t size, uint64_t data_end);

// ---------------------------------------------------------------------------------------------
// Searching sorted entries

// Asks for the cache lines that hold bytes [from, to), to be read soon. The empty volatile asm is
// what keeps the request: GCC counts __builtin_prefetch as free of side effects, so a function
// that only prefetches (and reads) is found pure, and a call to it whose result is unused is
// deleted. Without it GCC 12 deleted the prefetch of the guessed group in UpperBoundForGroup,
// every prefetch of FirstAtLeast's probes (PrefetchEntry), and those of the batched lookups.
inline void PrefetchBytes(const uint8_t* from, const uint8_t* to) {
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
inline constexpr int kInterpolations = 8;

// Where to probe in a range of `width` (> 1) positions whose ends hold values va and vb: at the
// interpolated position of `target` for the first kInterpolations rounds, in the middle after.
inline uint64_t ProbeStep(int round, uint64_t width, double target, double va, double vb) {
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
inline uint64_t FirstReached(uint64_t lo, uint64_t hi, double target, const ProbeFn& probe) {
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

// ---------------------------------------------------------------------------------------------
// The open database's state: the file, its mapping and the position index. The methods defined
// out of line are in super_safe_lookup.cc (the index and searches) and super_safe_db.cc
// (EnsureMapped); the ones below are the hot reads every lookup makes, kept inline.
struct Handle {
  std::unique_ptr<AppendFile> file;
  RecoveryReport recovery;
  std::unique_ptr<Mapping> mapping;  // read-only view of the file
  const uint8_t* base = nullptr;     // the groups' first entry: mapping->data() + kHeaderSize
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
  Status EnsureMapped(uint64_t bytes);

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
    SS_CHECK(ok, Describe(file->path(), {layout::kHeaderSize + index * kEntry, what}));
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
  uint64_t UpperBoundForGroup(uint64_t x) const;

  // Brings the index in line with the file after Open, an append or a truncation: slots for the
  // L1 numbers up to the tip, none known past it. Constant time unless the first key changes or the
  // key range outgrows the slot width (then every slot is forgotten) or the table has to grow.
  // The table holds at most max(1024, entries / 64) slots: on an ordinary file, one per 64 L1
  // numbers (140 KB for 10 million entries).
  void RefreshIndex();

  // After a truncation to `keep` entries: forgets the slots that point at or past it (the others
  // still name the first entry of their L1 range), then refreshes.
  void ForgetFrom(uint64_t keep);

  uint64_t PeekSlot(uint64_t b) const { return std::atomic_ref<uint64_t>(slots[b]).load(std::memory_order_relaxed); }

  // Slot b, found and remembered if not known yet (one full search). 0 if it cannot be packed.
  uint64_t Slot(uint64_t b) const;

  // The first entry with a key above x (entries if none). On a file as the supervisor writes it
  // (a group for every L1 number, all of one size, revisions rare) this is one read: the slot of
  // x gives the first group of its L1 range, x's newest group is (x - that key) groups further on
  // if nothing in between is missing or revised, and reading that seal's key and the key after
  // it proves it (keys never fall). When the guess is wrong, the key read moves the anchor and the
  // guess is made again (revisions before x), a few times, then the search falls back to
  // UpperBoundIn within the slot's range. `prefetch(p, g)` is told each guess (seal p, groups of g
  // entries) before it is read, so a caller can ask for the entries it will read next.
  template <typename PrefetchFn>
  uint64_t UpperBound(uint64_t x, const PrefetchFn& prefetch) const;
  uint64_t UpperBound(uint64_t x) const;

  // The first entry in [lo, hi] with a key above x, for lo no later than the answer and hi no
  // earlier. A probe that lands on key x itself finishes the search by walking to the end of it.
  uint64_t UpperBoundIn(uint64_t lo, uint64_t hi, uint64_t x) const;

  // The first entry after i with a key above Key(i) (entries if none): one past the seal of the
  // newest revision of that L1 block. Walks the few entries of a group, then gallops and bisects
  // (many revisions, or many chains).
  uint64_t EndOfKey(uint64_t i) const;

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
  std::optional<uint64_t> FirstAtLeast(uint32_t chain, uint64_t l2_number, size_t field) const;
};

}  // namespace super_safe_internal

struct SuperSafeDB::Impl : super_safe_internal::Handle {};

}  // namespace supersafe::db
