// The super-safe-db's position index and single-key lookups (docs/db-format.md, "Lookups").
#include "db/super_safe_db_internal.h"

#include <algorithm>
#include <atomic>
#include <optional>

namespace supersafe::db {
namespace super_safe_internal {

template <typename PrefetchFn>
uint64_t Handle::UpperBound(uint64_t x, const PrefetchFn& prefetch) const {
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

uint64_t Handle::UpperBound(uint64_t x) const {
  return UpperBound(x, [](uint64_t, uint64_t) {});
}

uint64_t Handle::UpperBoundForGroup(uint64_t x) const {
  return UpperBound(x, [&](uint64_t p, uint64_t group) { Prefetch(p + 1 - group, group + 1); });
}

void Handle::RefreshIndex() {
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

void Handle::ForgetFrom(uint64_t keep) {
  for (uint64_t& slot : slots)
    if (slot != 0 && (slot >> kSlotPosShift) - 1 >= keep) slot = 0;
  RefreshIndex();
}

uint64_t Handle::Slot(uint64_t b) const {
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

uint64_t Handle::UpperBoundIn(uint64_t lo, uint64_t hi, uint64_t x) const {
  return FirstReached(lo, hi, static_cast<double>(x) + 0.5, [&](uint64_t i) {
    const uint64_t k = Key(i);
    if (k == x) return Probe{false, static_cast<double>(k), EndOfKey(i) - 1, true};
    if (k < x) return Probe{false, static_cast<double>(k), i, i + 1 < entries && Key(i + 1) > x};
    return Probe{true, static_cast<double>(k), i, i > 0 && Key(i - 1) <= x};
  });
}

uint64_t Handle::EndOfKey(uint64_t i) const {
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

std::optional<uint64_t> Handle::FirstAtLeast(uint32_t chain, uint64_t l2_number, size_t field) const {
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

}  // namespace super_safe_internal

using namespace super_safe_internal;

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

}  // namespace supersafe::db
