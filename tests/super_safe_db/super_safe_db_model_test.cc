// RapidCheck model test: random sequences of appends (revisions of the tip included), batches,
// truncations, reopens and simulated torn crashes, checked after every step against a plain
// in-memory model, a std::vector<Group> in file order. Operations are relative to the state they
// meet ("revise the tip", "one L1 block past it", "cross-safe one lower"), so every shrunk
// sequence is still meaningful.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <ostream>
#include <set>

#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "tests/super_safe_db/test_util.h"
#include "tests/crash_disk.h"

namespace supersafe::db {
namespace {

using ::supersafe::db::testing::EncodeGroupBytes;
using ::supersafe::db::testing::PrefixFrom;
using ::supersafe::db::testing::TempDir;
using ::supersafe::db::testing::TestChains;
constexpr size_t kEntry = super_safe_format::kEntrySize;

// How to derive the next group from the model's state.
struct GroupSpec {
  int l1_step = 1;       // the tip's L1 number plus this; 0 revises the tip, -1 goes below it
  int cross_delta = 0;   // against the group the new one is compared with
  int local_delta = 0;
  bool add_chain = false;
  bool drop_chain = false;
  bool unsorted = false;  // first two chain entries swapped
  uint8_t flags = 0;      // of chain 0; 4 is an unknown bit
  uint8_t hash_seed = 0;
};

enum class Kind { kAppend, kAppendBatch, kTruncate, kReopen, kArmCrash };

struct Op {
  Kind kind = Kind::kAppend;
  std::vector<GroupSpec> groups;  // kAppend: the first; kAppendBatch: all
  uint32_t pick = 0;              // kTruncate: which L1 number; kArmCrash: torn bytes
};

void showValue(const GroupSpec& s, std::ostream& os) {
  os << "{step " << s.l1_step << " cross " << s.cross_delta << " local " << s.local_delta
     << (s.add_chain ? " +chain" : "") << (s.drop_chain ? " -chain" : "") << (s.unsorted ? " unsorted" : "")
     << " flags " << int{s.flags} << " seed " << int{s.hash_seed} << "}";
}

void showValue(const Op& op, std::ostream& os) {
  const char* names[] = {"Append", "AppendBatch", "Truncate", "Reopen", "ArmCrash"};
  os << names[static_cast<int>(op.kind)];
  if (op.kind == Kind::kAppend) showValue(op.groups.at(0), os);
  if (op.kind == Kind::kAppendBatch) {
    os << "[";
    for (const GroupSpec& s : op.groups) showValue(s, os);
    os << "]";
  }
  if (op.kind == Kind::kTruncate || op.kind == Kind::kArmCrash) os << "(" << op.pick << ")";
}

// The model: every group ever acknowledged, in file order, and the state of the handle.
struct Model {
  std::vector<Group> groups;
  bool dead = false;
  std::deque<size_t> armed;  // crashes armed and not yet fired
  // A torn batch: its groups and how many of its bytes reached the file.
  std::vector<Group> torn_groups;
  size_t torn_bytes = 0;

  std::optional<Group> Tip() const {
    if (groups.empty()) return std::nullopt;
    return groups.back();
  }
  // The newest group with an L1 number below l1.
  static std::optional<Group> NewestBelow(const std::vector<Group>& groups, uint64_t l1) {
    for (auto it = groups.rbegin(); it != groups.rend(); ++it)
      if (it->l1_number < l1) return *it;
    return std::nullopt;
  }
  // Newest revision per L1 number, ascending.
  std::map<uint64_t, Group> Effective() const {
    std::map<uint64_t, Group> out;
    for (const Group& g : groups) out[g.l1_number] = g;
    return out;
  }
  uint64_t Entries() const {
    uint64_t n = 0;
    for (const Group& g : groups) n += g.entries.size() + 1;
    return n;
  }
  // The append rules, written plainly.
  static bool Accepts(const std::vector<Group>& groups, const Group& g) {
    if (g.entries.empty()) return false;
    for (size_t k = 0; k < g.entries.size(); ++k) {
      if (k > 0 && g.entries[k].chain_index <= g.entries[k - 1].chain_index) return false;
      if (g.entries[k].flags > 3) return false;
    }
    if (!groups.empty() && g.l1_number < groups.back().l1_number) return false;
    if (auto prev = NewestBelow(groups, g.l1_number)) {
      for (const ChainEntry& p : prev->entries) {
        auto it = std::find_if(g.entries.begin(), g.entries.end(),
                               [&](const ChainEntry& e) { return e.chain_index == p.chain_index; });
        if (it == g.entries.end() || it->cross_safe_number < p.cross_safe_number) return false;
      }
    }
    return true;
  }
};

uint64_t Shift(uint64_t v, int delta) {
  if (delta < 0 && v < static_cast<uint64_t>(-delta)) return 0;
  return v + static_cast<uint64_t>(static_cast<int64_t>(delta));
}

Group Build(const std::vector<Group>& groups, const GroupSpec& s) {
  Group g;
  const std::optional<Group> tip = groups.empty() ? std::nullopt : std::optional<Group>(groups.back());
  g.l1_number = tip ? Shift(tip->l1_number, s.l1_step) : static_cast<uint64_t>(std::max(0, s.l1_step));
  std::optional<Group> base = Model::NewestBelow(groups, g.l1_number);
  if (!base) base = tip;
  std::vector<ChainEntry> chains;
  if (base) chains = base->entries;
  if (chains.empty()) chains.resize(2);
  for (size_t k = 0; k < chains.size(); ++k) chains[k].chain_index = base ? chains[k].chain_index : static_cast<uint32_t>(k);
  if (s.add_chain) {
    ChainEntry extra;
    extra.chain_index = chains.back().chain_index + 1;
    chains.push_back(extra);
  }
  if (s.drop_chain && chains.size() > 1) chains.pop_back();
  for (ChainEntry& e : chains) {
    e.cross_safe_number = Shift(e.cross_safe_number, s.cross_delta + static_cast<int>(e.chain_index % 2));
    e.local_safe_number = Shift(e.local_safe_number, s.local_delta);
    e.cross_safe_hash = PrefixFrom(e.cross_safe_number, s.hash_seed);
    e.local_safe_hash = PrefixFrom(e.local_safe_number, s.hash_seed + 1u);
    e.flags = 0;
  }
  chains[0].flags = s.flags;
  if (s.unsorted && chains.size() >= 2) std::swap(chains[0], chains[1]);
  g.entries = std::move(chains);
  g.l1_hash = PrefixFrom(g.l1_number, s.hash_seed);
  g.l1_timestamp = g.l1_number * 12 + s.hash_seed;
  return g;
}

size_t Bytes(const Group& g) { return (g.entries.size() + 1) * kEntry; }

// FirstXAtLeast's contract against the model: an L1 number whose newest group has the chain at or
// past n while the newest group before it does not; nullopt exactly when the newest group does not.
// With numbers that never fall (cross-safe) that is the first such L1 number.
void CheckFirstAtLeast(const std::map<uint64_t, Group>& effective, uint32_t chain, uint64_t n, bool cross,
                       std::optional<uint64_t> got) {
  auto reached = [&](const Group& g) {
    for (const ChainEntry& e : g.entries)
      if (e.chain_index == chain) return (cross ? e.cross_safe_number : e.local_safe_number) >= n;
    return false;
  };
  std::optional<uint64_t> first;
  bool fell = false, before = false;
  for (const auto& [l1, g] : effective) {
    const bool r = reached(g);
    if (r && !first) first = l1;
    if (before && !r) fell = true;
    before = r;
  }
  if (cross) {
    RC_ASSERT(!fell);
    RC_ASSERT(got == first);
    return;
  }
  if (effective.empty() || !reached(effective.rbegin()->second)) {
    RC_ASSERT(!got);
    return;
  }
  RC_ASSERT(got.has_value());
  auto it = effective.find(*got);
  RC_ASSERT(it != effective.end());
  RC_ASSERT(reached(it->second));
  const bool rose_here = it == effective.begin() || !reached(std::prev(it)->second);
  RC_ASSERT(rose_here);
}

// The batched lookups, in one unsorted batch with duplicates: every L1 number around the file's,
// against the model; one chain's entry against the model's group; FirstXAtLeast against the
// single-key answer (itself checked against the model).
void CheckBatchesAgainstModel(const SuperSafeDB& db, const std::map<uint64_t, Group>& effective,
                              const std::set<uint32_t>& chains) {
  const uint64_t lo = effective.empty() ? 0 : effective.begin()->first;
  const uint64_t hi = effective.empty() ? 3 : effective.rbegin()->first;
  std::vector<uint64_t> keys = {UINT64_MAX};
  for (uint64_t l1 = lo == 0 ? 0 : lo - 1; l1 <= hi + 1; ++l1) keys.push_back(l1);
  keys.insert(keys.end(), keys.begin(), keys.begin() + static_cast<ptrdiff_t>(std::min<size_t>(keys.size(), 5)));
  std::reverse(keys.begin(), keys.end());
  std::vector<SuperSafeDB::ChainL1Key> chain_keys;
  for (uint64_t l1 : keys)
    for (uint32_t chain : chains) chain_keys.push_back({chain, l1});
  std::vector<SuperSafeDB::ChainL2Key> l2_keys;
  for (uint32_t chain : chains) {
    for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{UINT64_MAX}}) l2_keys.push_back({chain, n});
    for (const auto& [l1, g] : effective)
      for (const ChainEntry& e : g.entries)
        if (e.chain_index == chain)
          for (uint64_t n : {e.cross_safe_number, e.cross_safe_number + 1, e.local_safe_number,
                             e.local_safe_number + 1})
            l2_keys.push_back({chain, n});
  }
  std::reverse(l2_keys.begin(), l2_keys.end());

  auto expected = [&](uint64_t l1, bool exact) -> std::optional<Group> {
    auto after = effective.upper_bound(l1);
    if (after == effective.begin()) return std::nullopt;
    const Group& g = std::prev(after)->second;
    if (exact && g.l1_number != l1) return std::nullopt;
    return g;
  };
  for (const bool exact : {true, false}) {
    std::vector<Group> out(keys.size());
    std::unique_ptr<bool[]> found(new bool[keys.size()]);
    const std::span<bool> found_span(found.get(), keys.size());
    const size_t hits = exact ? db.MultiAt(keys, out, found_span) : db.MultiAtOrBefore(keys, out, found_span);
    size_t want_hits = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::optional<Group> want = expected(keys[i], exact);
      RC_ASSERT(found[i] == want.has_value());
      if (want) RC_ASSERT(out[i] == *want);
      want_hits += want.has_value();
    }
    RC_ASSERT(hits == want_hits);

    std::vector<SuperSafeDB::ChainView> views(chain_keys.size());
    std::unique_ptr<bool[]> chain_found(new bool[chain_keys.size()]);
    (void)(exact ? db.MultiChainAt(chain_keys, views, std::span<bool>(chain_found.get(), chain_keys.size()))
                 : db.MultiChainAtOrBefore(chain_keys, views, std::span<bool>(chain_found.get(), chain_keys.size())));
    for (size_t i = 0; i < chain_keys.size(); ++i) {
      std::optional<SuperSafeDB::ChainView> want;
      if (const std::optional<Group> g = expected(chain_keys[i].l1_number, exact)) {
        for (const ChainEntry& e : g->entries)
          if (e.chain_index == chain_keys[i].chain_index)
            want = SuperSafeDB::ChainView{g->l1_number, g->l1_hash, g->l1_timestamp, e};
      }
      RC_ASSERT(chain_found[i] == want.has_value());
      if (want) RC_ASSERT(views[i] == *want);
    }
  }
  std::vector<std::optional<uint64_t>> cross(l2_keys.size()), local(l2_keys.size());
  db.MultiFirstCrossSafeAtLeast(l2_keys, cross);
  db.MultiFirstLocalSafeAtLeast(l2_keys, local);
  for (size_t i = 0; i < l2_keys.size(); ++i) {
    RC_ASSERT(cross[i] == db.FirstCrossSafeAtLeast(l2_keys[i].chain_index, l2_keys[i].l2_number));
    RC_ASSERT(local[i] == db.FirstLocalSafeAtLeast(l2_keys[i].chain_index, l2_keys[i].l2_number));
  }
}

void CheckAgainstModel(const SuperSafeDB& db, const Model& m) {
  const std::map<uint64_t, Group> effective = m.Effective();
  RC_ASSERT(db.entry_count() == m.Entries());
  RC_ASSERT(db.empty() == m.groups.empty());
  RC_ASSERT(db.Last() == m.Tip());
  if (effective.empty()) {
    RC_ASSERT(!db.At(0));
    RC_ASSERT(!db.AtOrBefore(UINT64_MAX));
    RC_ASSERT(!db.FirstCrossSafeAtLeast(0, 0));
    CheckBatchesAgainstModel(db, effective, {0, 1});
    return;
  }
  const uint64_t lo = effective.begin()->first, hi = effective.rbegin()->first;
  for (uint64_t l1 = lo == 0 ? 0 : lo - 1; l1 <= hi + 1; ++l1) {
    auto it = effective.find(l1);
    RC_ASSERT(db.At(l1) == (it == effective.end() ? std::nullopt : std::optional<Group>(it->second)));
    auto after = effective.upper_bound(l1);
    RC_ASSERT(db.AtOrBefore(l1) ==
              (after == effective.begin() ? std::nullopt : std::optional<Group>(std::prev(after)->second)));
  }
  std::set<uint32_t> chains = {0};
  for (const ChainEntry& e : effective.rbegin()->second.entries) chains.insert(e.chain_index);
  chains.insert(*chains.rbegin() + 1);
  for (uint32_t chain : chains) {
    std::set<uint64_t> numbers = {0, UINT64_MAX};
    for (const auto& [l1, g] : effective) {
      for (const ChainEntry& e : g.entries) {
        if (e.chain_index != chain) continue;
        for (uint64_t v : {e.cross_safe_number, e.local_safe_number}) {
          numbers.insert(v);
          numbers.insert(v + 1);
        }
      }
    }
    for (uint64_t n : numbers) {
      CheckFirstAtLeast(effective, chain, n, true, db.FirstCrossSafeAtLeast(chain, n));
      CheckFirstAtLeast(effective, chain, n, false, db.FirstLocalSafeAtLeast(chain, n));
    }
  }
  CheckBatchesAgainstModel(db, effective, chains);
}

// Applies a write of `batch` to the model; returns the status the database must give.
Code ModelWrite(Model& m, const std::vector<Group>& batch) {
  if (m.dead) return Code::kIOError;
  std::vector<Group> after = m.groups;
  for (const Group& g : batch) {
    if (!Model::Accepts(after, g)) return Code::kInvalidArgument;
    after.push_back(g);
  }
  if (batch.empty()) return Code::kOk;
  if (!m.armed.empty()) {
    size_t length = 0;
    for (const Group& g : batch) length += Bytes(g);
    m.torn_bytes = std::clamp<size_t>(m.armed.front(), 1, length - 1);
    m.armed.pop_front();
    m.torn_groups = batch;
    m.dead = true;
    return Code::kIOError;
  }
  m.groups = std::move(after);
  return Code::kOk;
}

// Reopening: the whole groups of a torn batch survive, its partial tail goes to .broken. In the
// preallocated file the bytes the tear did not write read as zero: a group missing only zero bytes
// (its seal's reserved bytes) is whole, and the torn bytes end at the last nonzero one written.
uint64_t ModelReopen(Model& m) {
  std::vector<uint8_t> bytes;
  for (const Group& g : m.torn_groups) {
    const std::vector<uint8_t> b = EncodeGroupBytes(g);
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
  const size_t written = std::min<size_t>(m.torn_bytes, bytes.size());
  auto zero_from = [&](size_t from, size_t to) {
    return std::all_of(bytes.begin() + static_cast<ptrdiff_t>(from), bytes.begin() + static_cast<ptrdiff_t>(to),
                       [](uint8_t b) { return b == 0; });
  };
  size_t kept = 0;
  for (const Group& g : m.torn_groups) {
    if (kept + Bytes(g) > written && !zero_from(written, kept + Bytes(g))) break;
    kept += Bytes(g);
    m.groups.push_back(g);
  }
  size_t end = written;
  while (end > kept && bytes[end - 1] == 0) --end;
  const uint64_t torn = end > kept ? end - kept : 0;
  m.torn_groups.clear();
  m.torn_bytes = 0;
  m.dead = false;
  return torn;
}

}  // namespace
}  // namespace supersafe::db

namespace rc {
using supersafe::db::GroupSpec;
using supersafe::db::Kind;
using supersafe::db::Op;

template <>
struct Arbitrary<GroupSpec> {
  static Gen<GroupSpec> arbitrary() {
    return gen::build<GroupSpec>(
        gen::set(&GroupSpec::l1_step, gen::weightedElement<int>({{1, -1}, {3, 0}, {8, 1}, {2, 2}, {1, 7}})),
        gen::set(&GroupSpec::cross_delta, gen::weightedElement<int>({{1, -1}, {3, 0}, {4, 2}, {2, 6}})),
        gen::set(&GroupSpec::local_delta, gen::weightedElement<int>({{1, -5}, {2, 0}, {4, 6}, {1, 20}})),
        gen::set(&GroupSpec::add_chain, gen::weightedElement<bool>({{9, false}, {1, true}})),
        gen::set(&GroupSpec::drop_chain, gen::weightedElement<bool>({{30, false}, {1, true}})),
        gen::set(&GroupSpec::unsorted, gen::weightedElement<bool>({{30, false}, {1, true}})),
        gen::set(&GroupSpec::flags, gen::weightedElement<uint8_t>({{12, 0}, {2, 1}, {2, 2}, {1, 3}, {1, 4}})),
        gen::set(&GroupSpec::hash_seed, gen::inRange<uint8_t>(0, 4)));
  }
};

template <>
struct Arbitrary<Op> {
  static Gen<Op> arbitrary() {
    return gen::build<Op>(
        gen::set(&Op::kind, gen::weightedElement<Kind>({{10, Kind::kAppend},
                                                        {3, Kind::kAppendBatch},
                                                        {2, Kind::kTruncate},
                                                        {2, Kind::kReopen},
                                                        {1, Kind::kArmCrash}})),
        gen::set(&Op::groups, gen::mapcat(gen::inRange<size_t>(1, 6), [](size_t n) {
                   return gen::container<std::vector<GroupSpec>>(n, gen::arbitrary<GroupSpec>());
                 })),
        gen::set(&Op::pick, gen::inRange<uint32_t>(0, 2000)));
  }
};
}  // namespace rc

namespace supersafe::db {
namespace {

RC_GTEST_PROP(SuperSafeDBModel, MatchesAPlainVectorOfGroups, (const std::vector<Op>& ops)) {
  TempDir dir;
  ::supersafe::testing::CrashDisk crash;
  Model m;
  auto open = [&] {
    auto db = SuperSafeDB::Open(dir.path(), TestChains(), crash.options());
    RC_ASSERT(db.ok());
    return std::move(db).value();
  };
  std::unique_ptr<SuperSafeDB> db = open();
  bool saw_revision = false, saw_rejection = false, saw_batch = false, saw_torn_tail = false;
  for (const Op& op : ops) {
    switch (op.kind) {
      case Kind::kAppend: {
        const Group g = Build(m.groups, op.groups.at(0));
        const bool revision = !m.groups.empty() && g.l1_number == m.groups.back().l1_number;
        const Code want = ModelWrite(m, {g});
        RC_ASSERT(db->Append(g).code() == want);
        saw_revision |= want == Code::kOk && revision;
        saw_rejection |= want == Code::kInvalidArgument;
        break;
      }
      case Kind::kAppendBatch: {
        // A batch of as many groups as specs, the last one dropped: batches of 0 happen too.
        std::vector<Group> batch, scratch = m.groups;
        for (size_t k = 0; k + 1 < op.groups.size(); ++k) {
          batch.push_back(Build(scratch, op.groups[k]));
          scratch.push_back(batch.back());
        }
        const Code want = ModelWrite(m, batch);
        RC_ASSERT(db->AppendBatch(batch).code() == want);
        saw_batch |= want == Code::kOk && batch.size() > 1;
        break;
      }
      case Kind::kTruncate: {
        const auto effective = m.Effective();
        uint64_t l1 = op.pick % 3;  // near 0 when empty
        if (!effective.empty()) {
          auto it = effective.begin();
          std::advance(it, (op.pick / 2) % effective.size());
          l1 = it->first + op.pick % 2;
        }
        Code want = Code::kIOError;
        if (!m.dead) {
          want = Code::kOk;
          std::erase_if(m.groups, [&](const Group& g) { return g.l1_number >= l1; });
        }
        RC_ASSERT(db->TruncateFrom(l1).code() == want);
        break;
      }
      case Kind::kReopen: {
        db.reset();
        const uint64_t torn = ModelReopen(m);
        db = open();
        RC_ASSERT(db->recovery().torn_bytes == torn);
        saw_torn_tail |= torn > 0;
        RC_ASSERT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()).empty());
        break;
      }
      case Kind::kArmCrash:
        crash.Arm(op.pick);
        m.armed.push_back(op.pick);
        break;
    }
    CheckAgainstModel(*db, m);
  }
  RC_CLASSIFY(saw_revision, "revision");
  RC_CLASSIFY(saw_rejection, "rejected write");
  RC_CLASSIFY(saw_batch, "batch");
  RC_CLASSIFY(saw_torn_tail, "torn tail recovered");
}

}  // namespace
}  // namespace supersafe::db
