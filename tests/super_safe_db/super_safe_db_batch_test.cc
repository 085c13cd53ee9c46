// The batched lookups (MultiAt, MultiAtOrBefore, MultiChainAt, MultiChainAtOrBefore,
// MultiFirstCrossSafeAtLeast, MultiFirstLocalSafeAtLeast) give, key for key, exactly what the
// single-key lookups give: on regular and irregular files, with revisions, skipped L1 numbers,
// keys before the first and after the last group, an empty file, duplicate and unsorted keys,
// batches of every size around the number of keys in flight, and whatever the position index
// already knows (a fresh handle, after appends, truncations and reopening).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "tests/super_safe_db/test_util.h"

namespace supersafe::db {
namespace {

using ::supersafe::db::testing::FiveGroupsWithTheSealOf3Damaged;
using ::supersafe::db::testing::IrregularGroups;
using ::supersafe::db::testing::MakeGroup;
using ::supersafe::db::testing::OpenOk;
using ::supersafe::db::testing::ReadBytes;
using ::supersafe::db::testing::TempDir;
using ::supersafe::db::testing::WriteBytes;
namespace layout = super_safe_format;
using ChainL1Key = SuperSafeDB::ChainL1Key;
using ChainL2Key = SuperSafeDB::ChainL2Key;
using ChainView = SuperSafeDB::ChainView;

// What MultiChainAt / MultiChainAtOrBefore must answer: chain `chain` of the group, if it has it.
std::optional<ChainView> ViewOf(const std::optional<Group>& g, uint32_t chain) {
  if (!g) return std::nullopt;
  for (const ChainEntry& e : g->entries)
    if (e.chain_index == chain) return ChainView{g->l1_number, g->l1_hash, g->l1_timestamp, e};
  return std::nullopt;
}

// A value the lookups never produce: outputs start as it, so a miss that writes is caught.
Group Sentinel() { return MakeGroup(987'654'321, 2, 9); }
ChainView SentinelView() { return {987'654'321, Sentinel().l1_hash, 5, Sentinel().entries[1]}; }

// Runs every batched lookup over the keys, one batch each, and compares every answer with the
// single-key lookup's. Outputs are one longer than the keys: the extra element must stay as it was.
void ExpectBatchesMatchSingleKeys(const SuperSafeDB& db, const std::vector<uint64_t>& l1_numbers,
                                  const std::vector<ChainL1Key>& chain_keys, const std::vector<ChainL2Key>& l2_keys) {
  for (const bool exact : {true, false}) {
    SCOPED_TRACE(exact ? "MultiAt" : "MultiAtOrBefore");
    std::vector<Group> out(l1_numbers.size() + 1, Sentinel());
    std::unique_ptr<bool[]> found(new bool[l1_numbers.size() + 1]);
    std::fill_n(found.get(), l1_numbers.size() + 1, true);
    const std::span<bool> found_span(found.get(), l1_numbers.size() + 1);
    const size_t hits =
        exact ? db.MultiAt(l1_numbers, out, found_span) : db.MultiAtOrBefore(l1_numbers, out, found_span);
    size_t want_hits = 0;
    for (size_t i = 0; i < l1_numbers.size(); ++i) {
      const std::optional<Group> want = exact ? db.At(l1_numbers[i]) : db.AtOrBefore(l1_numbers[i]);
      ASSERT_EQ(found[i], want.has_value()) << "key " << i << ": " << l1_numbers[i];
      ASSERT_EQ(out[i], want ? *want : Sentinel()) << "key " << i << ": " << l1_numbers[i];
      want_hits += want.has_value();
    }
    EXPECT_EQ(hits, want_hits);
    EXPECT_EQ(out.back(), Sentinel());
    EXPECT_TRUE(found[l1_numbers.size()]);
  }
  for (const bool exact : {true, false}) {
    SCOPED_TRACE(exact ? "MultiChainAt" : "MultiChainAtOrBefore");
    std::vector<ChainView> out(chain_keys.size() + 1, SentinelView());
    std::unique_ptr<bool[]> found(new bool[chain_keys.size() + 1]);
    std::fill_n(found.get(), chain_keys.size() + 1, true);
    const std::span<bool> found_span(found.get(), chain_keys.size() + 1);
    const size_t hits =
        exact ? db.MultiChainAt(chain_keys, out, found_span) : db.MultiChainAtOrBefore(chain_keys, out, found_span);
    size_t want_hits = 0;
    for (size_t i = 0; i < chain_keys.size(); ++i) {
      const ChainL1Key& k = chain_keys[i];
      const std::optional<ChainView> want =
          ViewOf(exact ? db.At(k.l1_number) : db.AtOrBefore(k.l1_number), k.chain_index);
      const std::string what = "key " + std::to_string(i) + ": chain " + std::to_string(k.chain_index) + " L1 " +
                               std::to_string(k.l1_number);
      ASSERT_EQ(found[i], want.has_value()) << what;
      ASSERT_EQ(out[i], want ? *want : SentinelView()) << what;
      want_hits += want.has_value();
    }
    EXPECT_EQ(hits, want_hits);
    EXPECT_EQ(out.back(), SentinelView());
    EXPECT_TRUE(found[chain_keys.size()]);
  }
  for (const bool cross : {true, false}) {
    SCOPED_TRACE(cross ? "MultiFirstCrossSafeAtLeast" : "MultiFirstLocalSafeAtLeast");
    const std::optional<uint64_t> untouched = 424242;
    std::vector<std::optional<uint64_t>> out(l2_keys.size() + 1, untouched);
    if (cross) {
      db.MultiFirstCrossSafeAtLeast(l2_keys, out);
    } else {
      db.MultiFirstLocalSafeAtLeast(l2_keys, out);
    }
    for (size_t i = 0; i < l2_keys.size(); ++i) {
      const ChainL2Key& k = l2_keys[i];
      const std::optional<uint64_t> want = cross ? db.FirstCrossSafeAtLeast(k.chain_index, k.l2_number)
                                                 : db.FirstLocalSafeAtLeast(k.chain_index, k.l2_number);
      ASSERT_EQ(out[i], want) << "key " << i << ": chain " << k.chain_index << " L2 " << k.l2_number;
    }
    EXPECT_EQ(out.back(), untouched);
  }
}

// Keys for the batches, unsorted and with duplicates: every L1 number of [lo, hi] (a little wider
// than the file, so keys fall before its first group and after its last), random ones in between,
// 0 and the largest; chains 0..chains (one that no group has); L2 numbers up to a little past `top`.
struct Keys {
  std::vector<uint64_t> l1;
  std::vector<ChainL1Key> chain;
  std::vector<ChainL2Key> l2;
};

Keys MakeKeys(std::mt19937_64& rng, uint64_t lo, uint64_t hi, uint32_t chains, uint64_t top, size_t random = 2000) {
  Keys k;
  for (uint64_t l1 = lo;; ++l1) {
    k.l1.push_back(l1);
    if (l1 == hi || l1 - lo == 20'000) break;
  }
  for (size_t q = 0; q < random; ++q) k.l1.push_back(lo + rng() % (hi - lo + 1));
  k.l1.insert(k.l1.end(), {0, 1, UINT64_MAX, UINT64_MAX - 1});
  std::vector<uint64_t> dups(k.l1.begin(), k.l1.begin() + static_cast<ptrdiff_t>(std::min<size_t>(k.l1.size(), 50)));
  k.l1.insert(k.l1.end(), dups.begin(), dups.end());
  std::shuffle(k.l1.begin(), k.l1.end(), rng);
  for (uint64_t l1 : k.l1) k.chain.push_back({static_cast<uint32_t>(rng() % (chains + 1)), l1});
  for (size_t q = 0; q < k.l1.size(); ++q) {
    const uint64_t n = rng() % (top + 10);
    k.l2.push_back({static_cast<uint32_t>(rng() % (chains + 1)), n});
    if (q % 10 == 0) k.l2.push_back(k.l2.back());  // a duplicate
  }
  k.l2.push_back({0, 0});
  k.l2.push_back({0, UINT64_MAX});
  std::shuffle(k.l2.begin(), k.l2.end(), rng);
  return k;
}

void ExpectAgree(const SuperSafeDB& db, const Keys& k) { ExpectBatchesMatchSingleKeys(db, k.l1, k.chain, k.l2); }

// Every batch size around the number of keys in flight (8 or 16), and an empty batch.
void ExpectAgreeInBatchesOfEverySize(const SuperSafeDB& db, const Keys& k) {
  for (size_t size : {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100}) {
    SCOPED_TRACE("batch of " + std::to_string(size));
    for (size_t from = 0; from + size <= std::min<size_t>(k.l1.size(), 400); from += std::max<size_t>(size, 1) * 3) {
      ExpectBatchesMatchSingleKeys(db, std::vector<uint64_t>(k.l1.begin() + from, k.l1.begin() + from + size),
                                   std::vector<ChainL1Key>(k.chain.begin() + from, k.chain.begin() + from + size),
                                   std::vector<ChainL2Key>(k.l2.begin() + from, k.l2.begin() + from + size));
      if (size == 0) break;
    }
  }
}

TEST(SuperSafeDBBatch, AnEmptyDatabaseMissesEveryKey) {
  TempDir dir;
  auto db = OpenOk(dir);
  std::mt19937_64 rng(1);
  const Keys k = MakeKeys(rng, 0, 100, 3, 100, 100);
  ExpectAgree(*db, k);
  std::vector<Group> out(k.l1.size(), Sentinel());
  std::unique_ptr<bool[]> found(new bool[k.l1.size()]);
  EXPECT_EQ(db->MultiAtOrBefore(k.l1, out, std::span<bool>(found.get(), k.l1.size())), 0u);
}

TEST(SuperSafeDBBatch, OneGroup) {
  TempDir dir;
  auto db = OpenOk(dir);
  ASSERT_EQ(db->Append(MakeGroup(7, 3)), Status::Ok());
  std::mt19937_64 rng(2);
  ExpectAgree(*db, MakeKeys(rng, 0, 20, 3, 100, 200));
  ASSERT_EQ(db->Append(MakeGroup(7, 4, 1)), Status::Ok());  // revised
  ExpectAgree(*db, MakeKeys(rng, 0, 20, 4, 100, 200));
}

TEST(SuperSafeDBBatch, MultiAtFindsTheGroupsAndReusesTheCallersStorage) {
  TempDir dir;
  auto db = OpenOk(dir);
  for (uint64_t l1 = 10; l1 <= 200; ++l1) ASSERT_EQ(db->Append(MakeGroup(l1, 4)), Status::Ok());
  ASSERT_EQ(db->Append(MakeGroup(200, 4, 3)), Status::Ok());
  const std::vector<uint64_t> keys = {200, 15, 9, 15, 201, 100};
  std::vector<Group> out(keys.size());
  bool found[6];
  EXPECT_EQ(db->MultiAt(keys, out, found), 4u);
  EXPECT_THAT(found, ::testing::ElementsAre(true, true, false, true, false, true));
  EXPECT_EQ(out[0], MakeGroup(200, 4, 3));
  EXPECT_EQ(out[1], MakeGroup(15, 4));
  EXPECT_EQ(out[3], MakeGroup(15, 4));
  EXPECT_EQ(out[5], MakeGroup(100, 4));
  const ChainEntry* storage = out[5].entries.data();
  EXPECT_EQ(db->MultiAtOrBefore(keys, out, found), 5u);
  EXPECT_EQ(out[2], Group{});  // untouched: it was never written
  EXPECT_EQ(out[4], MakeGroup(200, 4, 3));
  EXPECT_EQ(out[5].entries.data(), storage);

  const std::vector<ChainL1Key> chain_keys = {{3, 200}, {4, 200}, {0, 9}, {2, 57}};
  std::vector<ChainView> views(chain_keys.size());
  EXPECT_EQ(db->MultiChainAt(chain_keys, views, std::span<bool>(found, 4)), 2u);
  EXPECT_THAT(std::span<bool>(found, 4), ::testing::ElementsAre(true, false, false, true));
  const Group g200 = MakeGroup(200, 4, 3);
  EXPECT_EQ(views[0], (ChainView{200, g200.l1_hash, g200.l1_timestamp, g200.entries[3]}));
  EXPECT_EQ(views[3].entry, MakeGroup(57, 4).entries[2]);

  std::vector<std::optional<uint64_t>> first(3);
  db->MultiFirstCrossSafeAtLeast(std::vector<ChainL2Key>{{0, 60}, {0, 61}, {5, 0}}, first);
  EXPECT_THAT(first, ::testing::ElementsAre(std::optional<uint64_t>(10), std::optional<uint64_t>(11), std::nullopt));
}

// The shape the supervisor writes (a group for every L1 number, one size), revisions everywhere,
// chains joining halfway, local-safe numbers falling; checked on a fresh handle (the position index
// empty), again with the index filled, after a truncation, an append and a reopen.
TEST(SuperSafeDBBatch, AgreeOnARegularFileWithRevisions) {
  TempDir dir;
  auto db = OpenOk(dir);
  std::mt19937_64 rng(77);
  auto append_range = [&](uint64_t from, uint64_t to, uint32_t chains) {
    std::vector<Group> batch;
    for (uint64_t l1 = from; l1 <= to; ++l1) {
      Group g = MakeGroup(l1, chains);
      if (l1 % 97 == 0)
        for (ChainEntry& e : g.entries) e.local_safe_number = e.cross_safe_number;  // a fall
      batch.push_back(g);
      if (rng() % 7 == 0) {
        const int revisions = 1 + static_cast<int>(rng() % 3);
        for (int r = 1; r <= revisions; ++r) batch.push_back(MakeGroup(l1, chains, r));
      }
    }
    ASSERT_EQ(db->AppendBatch(batch), Status::Ok());
  };
  append_range(1000, 6000, 3);
  append_range(6001, 9000, 5);  // chains 3 and 4 join
  db.reset();
  db = OpenOk(dir);
  const Keys k = MakeKeys(rng, 990, 9010, 5, 9010 * 6 + 10);
  ExpectAgree(*db, k);  // the index fills as the batch goes
  ExpectAgree(*db, k);  // known
  ExpectAgreeInBatchesOfEverySize(*db, k);

  ASSERT_EQ(db->TruncateFrom(4000), Status::Ok());
  ExpectAgree(*db, MakeKeys(rng, 3900, 4100, 5, 4100 * 6, 500));
  append_range(4000, 4800, 4);
  ExpectAgree(*db, MakeKeys(rng, 990, 4810, 5, 4810 * 6 + 10));
  db.reset();
  db = OpenOk(dir);
  ExpectAgree(*db, MakeKeys(rng, 990, 4810, 5, 4810 * 6 + 10));
}

// The benchmark's irregular shape at a small size: one L1 number in eight skipped, one in fifty
// revised, eight chains.
TEST(SuperSafeDBBatch, AgreeWithSkippedL1Numbers) {
  TempDir dir;
  auto db = OpenOk(dir);
  std::mt19937_64 rng(8);
  std::vector<Group> groups;
  uint64_t l1 = 20'000;
  for (int k = 0; k < 20'000; ++k) {
    groups.push_back(MakeGroup(l1, 8));
    if (rng() % 50 == 0) groups.push_back(MakeGroup(l1, 8, 1));
    l1 += rng() % 8 == 0 ? 2 : 1;
  }
  ASSERT_EQ(db->AppendBatch(groups), Status::Ok());
  const Keys k = MakeKeys(rng, 19'990, l1 + 10, 8, l1 * 6 + 10);
  ExpectAgree(*db, k);
  ExpectAgree(*db, k);
  ExpectAgreeInBatchesOfEverySize(*db, k);
}

// Keys that defeat interpolation: dense runs, a jump of 10^12, exponentially growing gaps, group
// sizes changing, chain indices with holes, revisions, local-safe numbers falling.
TEST(SuperSafeDBBatch, AgreeOnAnIrregularFile) {
  TempDir dir;
  auto db = OpenOk(dir);
  std::mt19937_64 rng(2024);
  const std::vector<Group> groups = IrregularGroups(rng);
  ASSERT_EQ(db->AppendBatch(groups), Status::Ok());
  std::vector<uint64_t> present;
  for (const Group& x : groups) present.push_back(x.l1_number);
  const uint64_t top = groups.back().entries[0].local_safe_number + 10;
  Keys k = MakeKeys(rng, 0, 5000, 12, top);
  for (int q = 0; q < 6000; ++q) {  // next to the keys present, across the whole range
    const uint64_t near = present[rng() % present.size()] + (rng() % 3) - 1;
    k.l1.push_back(q % 3 == 0 ? rng() % (present.back() + 2) : near);
    k.chain.push_back({static_cast<uint32_t>(rng() % 12), k.l1.back()});
  }
  std::shuffle(k.l1.begin(), k.l1.end(), rng);
  ExpectAgree(*db, k);
  ExpectAgreeInBatchesOfEverySize(*db, k);
}

// L1 numbers near 2^64, where doubles cannot tell neighbouring keys apart.
TEST(SuperSafeDBBatch, AgreeNearTheLargestL1Number) {
  TempDir dir;
  auto db = OpenOk(dir);
  std::vector<Group> groups;
  for (uint64_t l1 = UINT64_MAX - 3000; l1 != 0; l1 += 1 + (l1 % 5 == 0)) {
    groups.push_back(MakeGroup(l1, 2));
    if (l1 % 11 == 0) groups.push_back(MakeGroup(l1, 2, 1));
    if (l1 >= UINT64_MAX - 1) break;
  }
  ASSERT_EQ(db->AppendBatch(groups), Status::Ok());
  std::mt19937_64 rng(9);
  Keys k = MakeKeys(rng, UINT64_MAX - 3010, UINT64_MAX, 2, 100, 1000);
  ExpectAgree(*db, k);
}

TEST(SuperSafeDBBatchDeathTest, AShortOutputSpanStopsTheProcess) {
  TempDir dir;
  auto db = OpenOk(dir);
  ASSERT_EQ(db->Append(MakeGroup(1)), Status::Ok());
  const std::vector<uint64_t> keys = {1, 2};
  std::vector<Group> out(1);
  bool found[2];
  EXPECT_DEATH((void)db->MultiAt(keys, out, found), "shorter than the keys");
  std::vector<std::optional<uint64_t>> first(1);
  EXPECT_DEATH(db->MultiFirstCrossSafeAtLeast(std::vector<ChainL2Key>{{0, 1}, {0, 2}}, first), "shorter than the keys");
}

// As the single-key lookups: bytes that contradict the format stop the process, naming the offset.
TEST(SuperSafeDBBatchDeathTest, ABatchThatReadsDamageStopsTheProcess) {
  TempDir dir;
  std::unique_ptr<SuperSafeDB> db;
  const size_t seal_of_3 = FiveGroupsWithTheSealOf3Damaged(dir, &db);

  const std::vector<uint64_t> keys = {5, 3};
  std::vector<Group> out(2);
  bool found[2];
  EXPECT_DEATH((void)db->MultiAt(keys, out, found), "corruption at offset " + std::to_string(seal_of_3));
  std::vector<ChainView> views(2);
  EXPECT_DEATH((void)db->MultiChainAt(std::vector<ChainL1Key>{{0, 5}, {0, 3}}, views, found),
               "corruption at offset " + std::to_string(seal_of_3));
}

}  // namespace
}  // namespace supersafe::db
