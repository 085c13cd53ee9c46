// The event-log DB's in-memory lookups over blocks: the next block with executing messages and the
// blocks of a timestamp, through appends, rewinds, Clear and reopening (which rebuilds them).
#include <gtest/gtest.h>

#include "db/event_db.h"
#include "tests/event_db/event_db_test_util.h"

namespace supersafe::db {
namespace {

using testing::ChainBlock;
using testing::OpenOrDie;
using testing::TempDir;

// Block `n` with executing messages when `exec` (ChainBlock puts one at log 1 of 3), at `timestamp`.
BlockRecord At(uint64_t n, bool exec, uint64_t timestamp) {
  BlockRecord b = ChainBlock(n, 3, exec);
  b.ref.timestamp = timestamp;
  return b;
}

std::optional<uint64_t> Next(const EventDB& db, uint64_t n) { return db.NextWithExecutingMessages(n); }
using Numbers = std::vector<uint64_t>;

TEST(EventDBIndex, NextBlockWithExecutingMessagesThroughAppendRewindClearAndReopen) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  auto db = OpenOrDie(file);
  EXPECT_EQ(Next(*db, 0), std::nullopt);
  // Blocks 10..20; executing messages in 11, 14, 15 and 19.
  for (uint64_t n = 10; n <= 20; ++n) {
    const bool exec = n == 11 || n == 14 || n == 15 || n == 19;
    ASSERT_TRUE(db->Append(At(n, exec, 1000 + n)).ok());
  }
  EXPECT_EQ(Next(*db, 0), 11u);
  EXPECT_EQ(Next(*db, 11), 11u);
  EXPECT_EQ(Next(*db, 12), 14u);
  EXPECT_EQ(Next(*db, 15), 15u);
  EXPECT_EQ(Next(*db, 16), 19u);
  EXPECT_EQ(Next(*db, 20), std::nullopt);
  const uint64_t removals = db->removals();
  ASSERT_TRUE(db->RewindTo(16).ok());  // drops 19
  EXPECT_EQ(db->removals(), removals + 1);
  EXPECT_EQ(Next(*db, 16), std::nullopt);
  EXPECT_EQ(Next(*db, 15), 15u);
  ASSERT_TRUE(db->RewindTo(16).ok());  // nothing to remove
  EXPECT_EQ(db->removals(), removals + 1);
  ASSERT_TRUE(db->Append(At(17, true, 1017)).ok());
  EXPECT_EQ(Next(*db, 16), 17u);
  db.reset();
  db = OpenOrDie(file);  // rebuilt from the file
  EXPECT_EQ(Next(*db, 0), 11u);
  EXPECT_EQ(Next(*db, 12), 14u);
  EXPECT_EQ(Next(*db, 16), 17u);
  EXPECT_EQ(Next(*db, 18), std::nullopt);
  ASSERT_TRUE(db->Clear().ok());
  EXPECT_EQ(Next(*db, 0), std::nullopt);
  ASSERT_TRUE(db->Append(At(30, false, 1)).ok());
  ASSERT_TRUE(db->Append(At(31, true, 2)).ok());
  EXPECT_EQ(Next(*db, 0), 31u);
}

TEST(EventDBIndex, BlocksOfATimestampInOrderAndOutOfOrder) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  auto db = OpenOrDie(file);
  EXPECT_EQ(db->BlocksWithTimestamp(5, 0, 100), Numbers{});
  // Timestamps of blocks 0..7: 1 2 2 4 6 6 6 9 (in order), with one above 2^32 at block 8.
  const std::vector<uint64_t> ts = {1, 2, 2, 4, 6, 6, 6, 9, uint64_t{1} << 33};
  for (uint64_t n = 0; n < ts.size(); ++n) ASSERT_TRUE(db->Append(At(n, false, ts[n])).ok());
  EXPECT_EQ(db->BlocksWithTimestamp(2, 0, 8), (Numbers{1, 2}));
  EXPECT_EQ(db->BlocksWithTimestamp(6, 0, 8), (Numbers{4, 5, 6}));
  EXPECT_EQ(db->BlocksWithTimestamp(6, 5, 5), (Numbers{5}));
  EXPECT_EQ(db->BlocksWithTimestamp(6, 0, 4), (Numbers{4}));
  EXPECT_EQ(db->BlocksWithTimestamp(3, 0, 8), Numbers{});
  EXPECT_EQ(db->BlocksWithTimestamp(uint64_t{1} << 33, 0, 100), (Numbers{8}));
  EXPECT_EQ(db->BlocksWithTimestamp(1, 1, 8), Numbers{});
  EXPECT_EQ(db->BlocksWithTimestamp(6, 7, 3), Numbers{});
  // Out of order from block 9 on: 9 -> 6, 10 -> 2, 11 -> 6.
  for (uint64_t n = 9; n <= 11; ++n) ASSERT_TRUE(db->Append(At(n, false, n == 10 ? 2 : 6)).ok());
  EXPECT_EQ(db->BlocksWithTimestamp(6, 0, 11), (Numbers{4, 5, 6, 9, 11}));
  EXPECT_EQ(db->BlocksWithTimestamp(2, 0, 11), (Numbers{1, 2, 10}));
  EXPECT_EQ(db->BlocksWithTimestamp(6, 0, 8), (Numbers{4, 5, 6}));  // the drops lie above the range
  db.reset();
  db = OpenOrDie(file);
  EXPECT_EQ(db->BlocksWithTimestamp(2, 0, 11), (Numbers{1, 2, 10}));
  ASSERT_TRUE(db->RewindTo(9).ok());  // forgets the drop at 10; the one at 9 stays
  ASSERT_TRUE(db->Append(At(10, false, 7)).ok());
  EXPECT_EQ(db->BlocksWithTimestamp(6, 0, 10), (Numbers{4, 5, 6, 9}));
  EXPECT_EQ(db->BlocksWithTimestamp(7, 10, 10), (Numbers{10}));
  ASSERT_TRUE(db->RewindTo(8).ok());
  ASSERT_TRUE(db->Append(At(9, false, (uint64_t{1} << 33) + 1)).ok());
  EXPECT_EQ(db->BlocksWithTimestamp(6, 0, 9), (Numbers{4, 5, 6}));
}

}  // namespace
}  // namespace supersafe::db
