// The super-safe-db's batched lookups (docs/db-format.md, "Batched lookups").
#include "db/super_safe_db_internal.h"

#include <algorithm>
#include <optional>
#include <span>

namespace supersafe::db {

using namespace super_safe_internal;

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

}  // namespace supersafe::db
