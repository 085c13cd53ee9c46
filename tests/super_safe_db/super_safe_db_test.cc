// The super-safe-db API: appends, revisions, lookups, truncation, argument checks, crash handling
// and open errors. Byte-level damage is in super_safe_db_surgery_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "tests/super_safe_db/test_util.h"
#include "tests/crash_disk.h"

namespace supersafe::db {
namespace {

using ::supersafe::db::testing::FiveGroupsWithTheSealOf3Damaged;
using ::supersafe::db::testing::IrregularGroups;
using ::supersafe::db::testing::MakeGroup;
using ::supersafe::db::testing::OpenOk;
using ::supersafe::db::testing::ContentBytes;
using ::supersafe::db::testing::ContentSize;
using ::supersafe::db::testing::ReadBytes;
using ::supersafe::db::testing::TempDir;
using ::supersafe::db::testing::WriteBytes;
using ::supersafe::db::testing::TestChains;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;
namespace layout = super_safe_format;

TEST(SuperSafeDB, NewDatabaseIsEmpty) {
  TempDir dir;
  auto db = OpenOk(dir);
  EXPECT_TRUE(db->empty());
  EXPECT_EQ(db->entry_count(), 0u);
  EXPECT_FALSE(db->Last());
  EXPECT_FALSE(db->At(0));
  EXPECT_FALSE(db->AtOrBefore(UINT64_MAX));
  EXPECT_FALSE(db->FirstCrossSafeAtLeast(0, 0));
  EXPECT_FALSE(db->FirstLocalSafeAtLeast(0, 0));
  EXPECT_EQ(db->TruncateFrom(0), Status::Ok());
  EXPECT_TRUE(std::filesystem::exists(dir.db()));
  EXPECT_EQ(ContentSize(dir.db()), layout::kHeaderSize);  // the header alone
}

TEST(SuperSafeDB, LookupsFindTheGroupsAppended) {
  TempDir dir;
  auto db = OpenOk(dir);
  for (uint64_t l1 : {10, 11, 13, 20}) ASSERT_EQ(db->Append(MakeGroup(l1)), Status::Ok());
  EXPECT_FALSE(db->empty());
  EXPECT_EQ(db->entry_count(), 4u * 4);
  EXPECT_EQ(ContentSize(dir.db()), layout::kHeaderSize + 4u * 4 * layout::kEntrySize);
  EXPECT_EQ(db->Last(), MakeGroup(20));
  EXPECT_EQ(db->At(13), MakeGroup(13));
  EXPECT_FALSE(db->At(12));
  EXPECT_FALSE(db->At(9));
  EXPECT_FALSE(db->At(21));
  EXPECT_FALSE(db->AtOrBefore(9));
  EXPECT_EQ(db->AtOrBefore(10), MakeGroup(10));
  EXPECT_EQ(db->AtOrBefore(12), MakeGroup(11));
  EXPECT_EQ(db->AtOrBefore(19), MakeGroup(13));
  EXPECT_EQ(db->AtOrBefore(UINT64_MAX), MakeGroup(20));

  db.reset();
  db = OpenOk(dir);
  EXPECT_EQ(db->recovery().torn_bytes, 0u);
  EXPECT_EQ(db->At(11), MakeGroup(11));
  EXPECT_EQ(db->Last(), MakeGroup(20));
}

TEST(SuperSafeDB, ARevisionReplacesTheTipForLookups) {
  TempDir dir;
  auto db = OpenOk(dir);
  ASSERT_EQ(db->Append(MakeGroup(10)), Status::Ok());
  ASSERT_EQ(db->Append(MakeGroup(11)), Status::Ok());
  ASSERT_EQ(db->Append(MakeGroup(11, 3, 1)), Status::Ok());
  ASSERT_EQ(db->Append(MakeGroup(11, 3, 2)), Status::Ok());
  EXPECT_EQ(db->At(11), MakeGroup(11, 3, 2));
  EXPECT_EQ(db->AtOrBefore(100), MakeGroup(11, 3, 2));
  EXPECT_EQ(db->At(10), MakeGroup(10));
  EXPECT_EQ(db->entry_count(), 4u * 4);
  ASSERT_EQ(db->Append(MakeGroup(12)), Status::Ok());
  EXPECT_EQ(db->At(11), MakeGroup(11, 3, 2));
  db.reset();
  db = OpenOk(dir);
  EXPECT_EQ(db->At(11), MakeGroup(11, 3, 2));
}

TEST(SuperSafeDB, OnlyTheTipCanBeRevised) {
  TempDir dir;
  auto db = OpenOk(dir);
  ASSERT_EQ(db->Append(MakeGroup(10)), Status::Ok());
  ASSERT_EQ(db->Append(MakeGroup(11)), Status::Ok());
  Status s = db->Append(MakeGroup(10, 3, 1));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("below the tip"));
  EXPECT_EQ(db->entry_count(), 8u);
  EXPECT_EQ(ContentSize(dir.db()), layout::kHeaderSize + 8u * layout::kEntrySize);
}

// Each bad group is rejected with kInvalidArgument and writes nothing.
TEST(SuperSafeDB, RejectedGroupsWriteNothing) {
  TempDir dir;
  auto db = OpenOk(dir);
  ASSERT_EQ(db->Append(MakeGroup(10)), Status::Ok());
  ASSERT_EQ(db->Append(MakeGroup(11)), Status::Ok());
  const auto before = ContentBytes(dir.db());

  std::vector<std::pair<std::string, Group>> bad;
  Group g = MakeGroup(12);
  g.entries.clear();
  bad.emplace_back("at least one chain entry", g);
  g = MakeGroup(12);
  std::swap(g.entries[0], g.entries[1]);
  bad.emplace_back("ascending chain_index", g);
  g = MakeGroup(12);
  g.entries[1].chain_index = 0;
  bad.emplace_back("ascending chain_index", g);
  g = MakeGroup(12);
  g.entries[2].flags = 0x04;
  bad.emplace_back("unknown flag bits", g);
  g = MakeGroup(12);
  g.entries[1].cross_safe_number = MakeGroup(11).entries[1].cross_safe_number - 1;
  bad.emplace_back("cross-safe number", g);
  g = MakeGroup(12);
  g.entries.pop_back();
  bad.emplace_back("chain 2 of the group for L1 block 11 is missing", g);
  // A revision of the tip is compared with the group before the tip.
  g = MakeGroup(11, 3, 1);
  g.entries[0].cross_safe_number = MakeGroup(10).entries[0].cross_safe_number - 1;
  bad.emplace_back("is below", g);

  for (const auto& [why, group] : bad) {
    Status s = db->Append(group);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << why;
    EXPECT_THAT(s.message(), HasSubstr(why));
    std::vector<Group> batch = {MakeGroup(12), group};
    if (group.l1_number == 12) batch[0] = MakeGroup(11, 3, 5);
    EXPECT_EQ(db->AppendBatch(batch).code(), Code::kInvalidArgument) << why;
  }
  EXPECT_EQ(ContentBytes(dir.db()), before);
  EXPECT_EQ(db->entry_count(), 8u);
}

TEST(SuperSafeDB, LocalSafeMayFallAndChainsMayBeAdded) {
  TempDir dir;
  auto db = OpenOk(dir);
  ASSERT_EQ(db->Append(MakeGroup(10, 2)), Status::Ok());
  Group g = MakeGroup(11, 3);
  g.entries[0].local_safe_number = 1;  // a local-safe block found invalid
  g.entries[0].flags = kFlagLocalSafeInvalid | kFlagCrossSafeReplacement;
  ASSERT_EQ(db->Append(g), Status::Ok());
  EXPECT_EQ(db->At(11), g);
  // A revision may go below the revision it replaces, not below the group before the tip.
  Group revised = MakeGroup(11, 3, 1);
  revised.entries[1].cross_safe_number = MakeGroup(10, 2).entries[1].cross_safe_number;
  ASSERT_EQ(db->Append(revised), Status::Ok());
  EXPECT_EQ(db->At(11), revised);
}

TEST(SuperSafeDB, AppendBatchWritesAllGroupsOrNone) {
  TempDir dir;
  auto db = OpenOk(dir);
  std::vector<Group> batch = {MakeGroup(1), MakeGroup(2), MakeGroup(2, 3, 1), MakeGroup(5)};
  ASSERT_EQ(db->AppendBatch(batch), Status::Ok());
  EXPECT_EQ(db->At(2), MakeGroup(2, 3, 1));
  EXPECT_EQ(db->Last(), MakeGroup(5));
  EXPECT_EQ(db->entry_count(), 16u);
  EXPECT_EQ(db->AppendBatch({}), Status::Ok());
  std::vector<Group> bad = {MakeGroup(6), MakeGroup(7), MakeGroup(6)};
  EXPECT_EQ(db->AppendBatch(bad).code(), Code::kInvalidArgument);
  EXPECT_EQ(db->entry_count(), 16u);
  EXPECT_EQ(ContentSize(dir.db()), layout::kHeaderSize + 16u * layout::kEntrySize);
}

// AppendBatch reuses its encoding buffer without clearing it: batches of other shapes after a large
// one (whose CRCs are computed over both cores) still store exactly the documented bytes, seals'
// reserved zeros included where the previous batch had chain fields.
TEST(SuperSafeDB, AppendBatchWritesTheDocumentedBytesWhateverCameBefore) {
  TempDir dir;
  auto db = OpenOk(dir);
  std::vector<Group> all;
  std::vector<Group> large;
  for (uint64_t l1 = 1; l1 <= 6000; ++l1) large.push_back(MakeGroup(l1, 1));
  ASSERT_EQ(db->AppendBatch(large), Status::Ok());  // 1.08 MB: two writes
  all.insert(all.end(), large.begin(), large.end());
  // Chains may be added, never dropped: every later group has more chains, so its seals fall
  // where the buffer held chain entries before.
  for (uint32_t chains : {2u, 3u, 7u}) {
    std::vector<Group> batch;
    for (uint64_t k = 1; k <= 1200; ++k) batch.push_back(MakeGroup(all.back().l1_number + k, chains));
    ASSERT_EQ(db->AppendBatch(batch), Status::Ok());
    all.insert(all.end(), batch.begin(), batch.end());
    all.push_back(MakeGroup(all.back().l1_number + 1, chains));
    ASSERT_EQ(db->Append(all.back()), Status::Ok());
  }
  std::vector<uint8_t> want = testing::HeaderBytes();
  for (const Group& g : all) {
    const auto b = testing::EncodeGroupBytes(g);
    want.insert(want.end(), b.begin(), b.end());
  }
  EXPECT_EQ(ContentBytes(dir.db()), want);
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), ::testing::IsEmpty());
}

// The first bad group of a batch is the one reported, whichever check rejects a later one.
TEST(SuperSafeDB, AppendBatchReportsItsFirstBadGroup) {
  TempDir dir;
  auto db = OpenOk(dir);
  Group flags = MakeGroup(2);
  flags.entries[1].flags = 0x80;
  Group empty = MakeGroup(3);
  empty.entries.clear();
  const auto max_chains = static_cast<uint32_t>(layout::kMaxWrite / layout::kEntrySize - 1);
  for (const Group& later : {empty, MakeGroup(3, max_chains + 1)}) {
    Status s = db->AppendBatch(std::vector<Group>{MakeGroup(1), flags, later});
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_THAT(s.message(), AllOf(HasSubstr("unknown flag bits"), HasSubstr("L1 block 2")));
    s = db->AppendBatch(std::vector<Group>{MakeGroup(1), later, flags});
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_THAT(s.message(), AllOf(Not(HasSubstr("flag")), HasSubstr("L1 block 3")));
  }
  EXPECT_TRUE(db->empty());
  EXPECT_EQ(ContentSize(dir.db()), layout::kHeaderSize);  // the header alone
}

// A crash switch armed once fires on the first write: a batch that tore was one write.
TEST(SuperSafeDB, AppendBatchIsOneWrite) {
  TempDir dir;
  ::supersafe::testing::CrashDisk crash;
  auto db = OpenOk(dir, crash.options());
  std::vector<Group> batch = {MakeGroup(1), MakeGroup(2), MakeGroup(3)};
  // Group 1 whole, then 9 bytes of group 2: a type byte and an L1 number ending in a nonzero byte
  // (zero bytes at the end of a torn write cannot be told from the preallocated zeros after it).
  const size_t torn = 4 * layout::kEntrySize + 9;
  crash.Arm(torn);
  EXPECT_EQ(db->AppendBatch(batch).code(), Code::kIOError);
  EXPECT_FALSE(crash.armed());
  db.reset();
  db = OpenOk(dir, crash.options());
  EXPECT_EQ(db->recovery().torn_bytes, 9u);
  EXPECT_EQ(db->Last(), MakeGroup(1));
  EXPECT_EQ(db->entry_count(), 4u);
}

TEST(SuperSafeDB, TruncateFromRemovesThatL1BlockAndEverythingAfter) {
  TempDir dir;
  auto db = OpenOk(dir);
  for (uint64_t l1 : {10, 11, 13, 13, 20}) ASSERT_EQ(db->Append(MakeGroup(l1)), Status::Ok());
  ASSERT_EQ(db->TruncateFrom(21), Status::Ok());
  EXPECT_EQ(db->entry_count(), 20u);
  ASSERT_EQ(db->TruncateFrom(14), Status::Ok());
  EXPECT_EQ(db->Last(), MakeGroup(13));
  EXPECT_EQ(db->entry_count(), 16u);
  ASSERT_EQ(db->TruncateFrom(13), Status::Ok());
  EXPECT_EQ(db->Last(), MakeGroup(11));
  EXPECT_FALSE(db->At(13));
  EXPECT_EQ(ContentSize(dir.db()), layout::kHeaderSize + 8u * layout::kEntrySize);
  ASSERT_EQ(db->Append(MakeGroup(12)), Status::Ok());
  db.reset();
  db = OpenOk(dir);
  EXPECT_EQ(db->Last(), MakeGroup(12));
  ASSERT_EQ(db->TruncateFrom(0), Status::Ok());
  EXPECT_TRUE(db->empty());
  ASSERT_EQ(db->Append(MakeGroup(3)), Status::Ok());
  EXPECT_EQ(db->Last(), MakeGroup(3));
}

TEST(SuperSafeDB, FirstSafeAtLeastFindsTheViewThatReachedTheBlock) {
  TempDir dir;
  auto db = OpenOk(dir);
  // Chain 2 joins at L1 block 12; the tip's last revision counts, not the revision it replaced.
  for (uint64_t l1 : {10, 11}) ASSERT_EQ(db->Append(MakeGroup(l1, 2)), Status::Ok());
  for (uint64_t l1 : {12, 14}) ASSERT_EQ(db->Append(MakeGroup(l1, 3)), Status::Ok());
  Group high = MakeGroup(15, 3);
  high.entries[0].cross_safe_number = 1000;
  ASSERT_EQ(db->Append(high), Status::Ok());
  Group low = MakeGroup(15, 3, 1);
  ASSERT_EQ(db->Append(low), Status::Ok());

  EXPECT_EQ(db->FirstCrossSafeAtLeast(0, 0), 10u);
  EXPECT_EQ(db->FirstCrossSafeAtLeast(0, 60), 10u);
  EXPECT_EQ(db->FirstCrossSafeAtLeast(0, 61), 11u);
  EXPECT_EQ(db->FirstCrossSafeAtLeast(0, 66), 11u);
  EXPECT_EQ(db->FirstCrossSafeAtLeast(0, 67), 12u);
  EXPECT_EQ(db->FirstCrossSafeAtLeast(0, 73), 14u);
  EXPECT_EQ(db->FirstCrossSafeAtLeast(0, 90), 15u);
  EXPECT_FALSE(db->FirstCrossSafeAtLeast(0, 91));  // only the replaced revision had 1000
  EXPECT_EQ(db->FirstCrossSafeAtLeast(2, 0), 12u);  // chain 2 is absent before 12
  EXPECT_FALSE(db->FirstCrossSafeAtLeast(3, 0));
  EXPECT_EQ(db->FirstLocalSafeAtLeast(1, 64), 10u);
  EXPECT_EQ(db->FirstLocalSafeAtLeast(1, 65), 11u);
  EXPECT_EQ(db->FirstLocalSafeAtLeast(2, 77), 12u);
  EXPECT_FALSE(db->FirstLocalSafeAtLeast(1, UINT64_MAX));
}

// Lookups against a linear scan on a file whose keys defeat interpolation in places: dense runs,
// a jump of 10^12, exponentially growing gaps, revisions, chains joining, local-safe falling.
TEST(SuperSafeDB, LookupsMatchALinearScanOnAnIrregularFile) {
  TempDir dir;
  auto db = OpenOk(dir);
  std::mt19937_64 rng(2024);
  const std::vector<Group> groups = IrregularGroups(rng);
  ASSERT_EQ(db->AppendBatch(groups), Status::Ok());

  std::map<uint64_t, Group> newest;
  for (const Group& x : groups) newest[x.l1_number] = x;
  std::vector<uint64_t> keys;
  for (const auto& [l1, x] : newest) keys.push_back(l1);
  for (int q = 0; q < 3000; ++q) {
    const uint64_t near = keys[rng() % keys.size()];
    const uint64_t l1 = q % 3 == 0 ? rng() % (keys.back() + 2) : near + (rng() % 3) - 1;
    auto it = newest.upper_bound(l1);
    ASSERT_EQ(db->AtOrBefore(l1), it == newest.begin() ? std::nullopt : std::optional<Group>(std::prev(it)->second)) << l1;
    auto at = newest.find(l1);
    ASSERT_EQ(db->At(l1), at == newest.end() ? std::nullopt : std::optional<Group>(at->second)) << l1;
  }
  auto number = [](const Group& x, uint32_t chain, bool cross) -> std::optional<uint64_t> {
    for (const ChainEntry& e : x.entries)
      if (e.chain_index == chain) return cross ? e.cross_safe_number : e.local_safe_number;
    return std::nullopt;
  };
  const uint64_t top = groups.back().entries[0].local_safe_number + 10;
  for (int q = 0; q < 3000; ++q) {
    const uint32_t chain = static_cast<uint32_t>(rng() % 12);
    const uint64_t n = rng() % top;
    std::optional<uint64_t> first;
    for (const auto& [l1, x] : newest) {
      if (number(x, chain, true) >= n) {
        first = l1;
        break;
      }
    }
    ASSERT_EQ(db->FirstCrossSafeAtLeast(chain, n), first) << "chain " << chain << " n " << n;
    // Local-safe numbers fall at times: the answer is an L1 block where the chain rose to n.
    auto got = db->FirstLocalSafeAtLeast(chain, n);
    const bool newest_reached = number(newest.rbegin()->second, chain, false) >= n;
    ASSERT_EQ(got.has_value(), newest_reached) << "chain " << chain << " n " << n;
    if (got) {
      auto it = newest.find(*got);
      ASSERT_NE(it, newest.end());
      EXPECT_GE(number(it->second, chain, false), n);
      if (it != newest.begin()) {
        EXPECT_FALSE(number(std::prev(it)->second, chain, false) >= n);
      }
    }
  }
}

// Checks every lookup against a linear scan of `groups` (the groups appended, in file order), for
// every L1 number in [lo, hi] and for cross-safe and local-safe numbers of every chain.
void ExpectLookupsMatchAScan(const SuperSafeDB& db, const std::vector<Group>& groups, uint64_t lo, uint64_t hi) {
  std::map<uint64_t, Group> newest;
  for (const Group& x : groups) newest[x.l1_number] = x;
  Group into;
  for (uint64_t l1 = lo; l1 <= hi; ++l1) {
    auto it = newest.upper_bound(l1);
    const std::optional<Group> before = it == newest.begin() ? std::nullopt : std::optional<Group>(std::prev(it)->second);
    ASSERT_EQ(db.AtOrBefore(l1), before) << l1;
    auto at = newest.find(l1);
    const std::optional<Group> exact = at == newest.end() ? std::nullopt : std::optional<Group>(at->second);
    ASSERT_EQ(db.At(l1), exact) << l1;
    // The overloads into a caller's Group agree, and leave it alone on a miss.
    const Group sentinel = MakeGroup(999'999, 1);
    into = sentinel;
    ASSERT_EQ(db.At(l1, &into), exact.has_value()) << l1;
    ASSERT_EQ(into, exact ? *exact : sentinel) << l1;
    into = sentinel;
    ASSERT_EQ(db.AtOrBefore(l1, &into), before.has_value()) << l1;
    ASSERT_EQ(into, before ? *before : sentinel) << l1;
  }
  if (newest.empty()) return;
  auto number = [](const Group& x, uint32_t chain, bool cross) -> std::optional<uint64_t> {
    for (const ChainEntry& e : x.entries)
      if (e.chain_index == chain) return cross ? e.cross_safe_number : e.local_safe_number;
    return std::nullopt;
  };
  uint64_t top = 0;
  for (const ChainEntry& e : newest.rbegin()->second.entries) top = std::max({top, e.cross_safe_number, e.local_safe_number});
  for (uint32_t chain = 0; chain < 10; ++chain) {
    for (uint64_t n = 0; n <= top + 2; n += 1 + n / 500) {
      std::optional<uint64_t> first;
      for (const auto& [l1, x] : newest) {
        if (number(x, chain, true) >= n) {
          first = l1;
          break;
        }
      }
      ASSERT_EQ(db.FirstCrossSafeAtLeast(chain, n), first) << "chain " << chain << " n " << n;
      auto got = db.FirstLocalSafeAtLeast(chain, n);
      ASSERT_EQ(got.has_value(), number(newest.rbegin()->second, chain, false) >= n) << "chain " << chain << " n " << n;
      if (got) {
        auto it = newest.find(*got);
        ASSERT_NE(it, newest.end());
        EXPECT_GE(number(it->second, chain, false), n);
        if (it != newest.begin()) {
          EXPECT_FALSE(number(std::prev(it)->second, chain, false) >= n);
        }
      }
    }
  }
}

// A file as the supervisor writes it: a group for every L1 number, all of one size, so lookups
// compute where a group is. Here revisions are everywhere (one L1 number in five, runs of up to
// four revisions), local-safe numbers fall at times, chains join halfway (the group size
// changes), and the file is truncated, extended and reopened: lookups stay exact throughout.
TEST(SuperSafeDB, LookupsMatchALinearScanOnARegularFileWithRevisionsEverywhere) {
  TempDir dir;
  auto db = OpenOk(dir);
  std::mt19937_64 rng(77);
  std::vector<Group> groups;
  auto append_range = [&](uint64_t from, uint64_t to, uint32_t chains) {
    std::vector<Group> batch;
    for (uint64_t l1 = from; l1 <= to; ++l1) {
      Group g = MakeGroup(l1, chains);
      if (l1 % 97 == 0)
        for (ChainEntry& e : g.entries) e.local_safe_number = e.cross_safe_number;  // a fall
      batch.push_back(g);
      if (rng() % 5 == 0) {
        const int revisions = 1 + static_cast<int>(rng() % 4);
        for (int r = 1; r <= revisions; ++r) batch.push_back(MakeGroup(l1, chains, r));
      }
    }
    // Lookups between appends too: the index must follow the file as it grows.
    for (size_t k = 0; k < batch.size(); k += 700) {
      const size_t n = std::min<size_t>(700, batch.size() - k);
      ASSERT_EQ(db->AppendBatch(std::span<const Group>(batch).subspan(k, n)), Status::Ok());
      groups.insert(groups.end(), batch.begin() + static_cast<ptrdiff_t>(k), batch.begin() + static_cast<ptrdiff_t>(k + n));
      EXPECT_EQ(db->At(groups.back().l1_number), groups.back());
      const Group& some = groups[rng() % groups.size()];
      std::optional<Group> newest_of_some;
      for (const Group& x : groups)
        if (x.l1_number == some.l1_number) newest_of_some = x;
      EXPECT_EQ(db->At(some.l1_number), newest_of_some);
    }
  };
  append_range(1000, 3000, 3);
  append_range(3001, 4500, 5);  // chains 3 and 4 join
  ExpectLookupsMatchAScan(*db, groups, 990, 4510);

  // Truncate into the middle (slots past the cut are forgotten), then write a different history.
  ASSERT_EQ(db->TruncateFrom(2500), Status::Ok());
  std::erase_if(groups, [](const Group& g) { return g.l1_number >= 2500; });
  ExpectLookupsMatchAScan(*db, groups, 2400, 2600);
  append_range(2500, 3200, 4);
  ExpectLookupsMatchAScan(*db, groups, 990, 3210);

  db.reset();
  db = OpenOk(dir);
  ExpectLookupsMatchAScan(*db, groups, 990, 3210);

  // Truncated to nothing and started again at another L1 number.
  ASSERT_EQ(db->TruncateFrom(0), Status::Ok());
  groups.clear();
  ExpectLookupsMatchAScan(*db, groups, 0, 10);
  append_range(50'000, 50'300, 2);
  ExpectLookupsMatchAScan(*db, groups, 49'990, 50'310);
}

// The overloads into a caller's Group reuse its entries' storage.
TEST(SuperSafeDB, LookupsIntoACallersGroupReuseItsStorage) {
  TempDir dir;
  auto db = OpenOk(dir);
  for (uint64_t l1 = 1; l1 <= 100; ++l1) ASSERT_EQ(db->Append(MakeGroup(l1, 4)), Status::Ok());
  Group g;
  ASSERT_TRUE(db->At(7, &g));
  EXPECT_EQ(g, MakeGroup(7, 4));
  const ChainEntry* storage = g.entries.data();
  for (uint64_t l1 = 1; l1 <= 100; ++l1) {
    ASSERT_TRUE(db->At(l1, &g));
    ASSERT_EQ(g, MakeGroup(l1, 4));
    ASSERT_TRUE(db->AtOrBefore(l1 + 1000, &g));
    ASSERT_EQ(g, MakeGroup(100, 4));
  }
  EXPECT_EQ(g.entries.data(), storage);
  EXPECT_FALSE(db->At(101, &g));
  EXPECT_FALSE(db->AtOrBefore(0, &g));
  EXPECT_EQ(g, MakeGroup(100, 4));
}

TEST(SuperSafeDB, ASimulatedCrashKillsTheHandleAndReopeningRecovers) {
  TempDir dir;
  ::supersafe::testing::CrashDisk crash;
  auto db = OpenOk(dir, crash.options());
  ASSERT_EQ(db->Append(MakeGroup(1)), Status::Ok());
  const auto acknowledged = ContentBytes(dir.db());
  crash.Arm(99);  // a chain entry and 9 bytes of the next, the last of them nonzero
  Status s = db->Append(MakeGroup(2));
  EXPECT_EQ(s.code(), Code::kIOError);
  EXPECT_THAT(s.message(), HasSubstr("simulated crash"));
  EXPECT_EQ(db->Append(MakeGroup(3)).code(), Code::kIOError);
  EXPECT_EQ(db->AppendBatch(std::vector<Group>{MakeGroup(3)}).code(), Code::kIOError);
  EXPECT_EQ(db->TruncateFrom(0).code(), Code::kIOError);
  EXPECT_EQ(db->Last(), MakeGroup(1));  // reads answer from what was acknowledged
  auto torn = ReadBytes(dir.db());
  ASSERT_GT(torn.size(), acknowledged.size() + 99);
  EXPECT_NE(torn[acknowledged.size() + 98], 0);
  EXPECT_TRUE(std::all_of(torn.begin() + acknowledged.size() + 99, torn.end(), [](uint8_t b) { return b == 0; }));
  torn.resize(acknowledged.size() + 99);

  db.reset();
  db = OpenOk(dir, crash.options());
  EXPECT_EQ(db->recovery().torn_bytes, 99u);
  EXPECT_EQ(ReadBytes(dir.db()), acknowledged);  // the zero tail is cut too
  EXPECT_EQ(ReadBytes(dir.broken()), std::vector<uint8_t>(torn.begin() + acknowledged.size(), torn.end()));
  EXPECT_EQ(db->Last(), MakeGroup(1));
  ASSERT_EQ(db->Append(MakeGroup(2)), Status::Ok());
  EXPECT_EQ(db->Last(), MakeGroup(2));
}

TEST(SuperSafeDB, OpenErrorsNameWhatIsWrong) {
  TempDir dir;
  auto missing = SuperSafeDB::Open(dir.path() / "nope", TestChains());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIOError);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope: directory does not exist"));

  WriteBytes(dir.path() / "file", {1, 2, 3});
  auto not_dir = SuperSafeDB::Open(dir.path() / "file", TestChains());
  ASSERT_FALSE(not_dir.ok());
  EXPECT_THAT(not_dir.status().message(), HasSubstr("not a directory"));

  TempDir dir2;
  std::filesystem::create_directory(dir2.db());
  auto db_is_dir = SuperSafeDB::Open(dir2.path(), TestChains());
  ASSERT_FALSE(db_is_dir.ok());
  EXPECT_EQ(db_is_dir.status().code(), Code::kIOError);

  TempDir dir3;
  WriteBytes(dir3.db(), std::vector<uint8_t>(1000, 'x'));
  auto garbage = SuperSafeDB::Open(dir3.path(), TestChains());
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), Code::kCorruption);
  EXPECT_THAT(garbage.status().message(),
              HasSubstr("supersafe.db: corruption at offset 0: the first entry is not a header: type 0x78"));
  EXPECT_EQ(ReadBytes(dir3.db()), std::vector<uint8_t>(1000, 'x'));
  EXPECT_FALSE(std::filesystem::exists(dir3.broken()));
}

TEST(SuperSafeDB, VerifyReportsNothingOnAHealthyFileAndNamesAMissingOne) {
  TempDir dir;
  {
    auto db = OpenOk(dir);
    for (uint64_t l1 = 1; l1 < 50; ++l1) ASSERT_EQ(db->Append(MakeGroup(l1, 1 + l1 / 16)), Status::Ok());
    ASSERT_EQ(db->Append(MakeGroup(49, 4, 1)), Status::Ok());
  }
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), ::testing::IsEmpty());
  auto missing = VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.path() / "absent.db");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_THAT(missing[0].what, HasSubstr("no such file"));
}

// Open reads only the end of the file: damage in the middle is Verify's to find. A lookup that
// reads structurally impossible bytes stops the process, naming the offset.
TEST(SuperSafeDBDeathTest, ALookupThatReadsDamageStopsTheProcess) {
  TempDir dir;
  std::unique_ptr<SuperSafeDB> db;
  const size_t seal_of_3 = FiveGroupsWithTheSealOf3Damaged(dir, &db);

  EXPECT_EQ(db->At(5), MakeGroup(5));
  EXPECT_DEATH((void)db->At(3), "corruption at offset " + std::to_string(seal_of_3));
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()),
              Contains(AllOf(Field(&Finding::offset, seal_of_3), Field(&Finding::what, HasSubstr("unknown entry type 0x07")))));
}

}  // namespace
}  // namespace supersafe::db
