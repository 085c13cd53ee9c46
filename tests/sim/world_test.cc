// The simulated world is a pure function of scenario and seed: same seed, same hashes; another
// seed, other hashes; an L1 flip-flop with the same contents restores the same hashes.
#include "sim/world.h"

#include "sim/sources.h"

#include <gtest/gtest.h>

namespace supersafe::sim {
namespace {

Scenario TwoChains() {
  auto sc = ParseScenario(R"(name: w
chains:
  - {name: A, id: 900}
  - {name: B, id: 901, block_time: 1}
steps: []
)",
                          "w.yaml");
  SS_CHECK(sc.ok(), sc.status().ToString());
  return *sc;
}

Log InitLog(const std::string& name) {
  Log log;
  log.address = DefaultOrigin();
  log.topics.push_back(Hash{});
  log.topics[0].bytes[0] = static_cast<uint8_t>(name.size());
  return log;
}

// Builds, batches and mines the same way in any world.
std::vector<Hash> Drive(World& w) {
  w.chain(0).Build({InitLog("a")});
  w.chain(0).Build({});
  w.chain(1).Build({InitLog("bb")});
  EXPECT_EQ(w.QueueBatch(0, std::nullopt), 2u);
  EXPECT_EQ(w.QueueBatch(1, std::nullopt), 1u);
  w.Mine(2);
  std::vector<Hash> out;
  for (const auto& b : w.l1().blocks()) out.push_back(b.ref.hash);
  for (size_t c = 0; c < w.chain_count(); ++c)
    for (const auto& b : w.chain(c).unsafe()) out.push_back(b.ref.hash);
  return out;
}

// Blocks built with one SharedLogs hold the same vector, and the supervisor's source hands that
// vector over as it is (no copy); a block without logs gets an empty one.
TEST(World, SourceHandsOverABlocksSharedLogs) {
  Scenario sc = TwoChains();
  World w(sc, 7);
  SharedLogs logs(std::vector<Log>{InitLog("a"), InitLog("bb")});
  const BlockID one = w.chain(0).Build(logs, 0).ID();
  const BlockID two = w.chain(0).Build(logs, 0).ID();
  const BlockID empty = w.chain(0).Build({}).ID();
  EXPECT_NE(one.hash, two.hash);
  SimChainSource source(w, 0);
  auto a = source.LogsShared(one);
  auto b = source.LogsShared(two);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), logs.shared().get());
  EXPECT_EQ(b->get(), logs.shared().get());
  auto copied = source.Logs(two);
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(*copied, **b);
  auto none = source.LogsShared(empty);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)->empty());
  EXPECT_EQ(source.LogsShared(BlockID{Hash{}, 1}).status().code(), Code::kNotFound);
}

TEST(World, SameSeedSameHashes) {
  Scenario sc = TwoChains();
  World a(sc, 7), b(sc, 7), c(sc, 8);
  auto ha = Drive(a), hb = Drive(b), hc = Drive(c);
  EXPECT_EQ(ha, hb);
  ASSERT_EQ(ha.size(), hc.size());
  for (size_t i = 0; i < ha.size(); ++i) EXPECT_NE(ha[i], hc[i]) << i;
}

TEST(World, TimestampsFollowGenesis) {
  Scenario sc = TwoChains();
  World w(sc, 0);
  Drive(w);
  EXPECT_EQ(w.chain(0).unsafe()[2].ref.timestamp, 1004u);
  EXPECT_EQ(w.chain(1).unsafe()[1].ref.timestamp, 1001u);
  EXPECT_EQ(w.l1().at(2).ref.timestamp, 24u);
  EXPECT_EQ(w.l1().at(2).ref.parent_hash, w.l1().at(1).ref.hash);
}

TEST(World, BatchesOrderedByChainThenNumberAndNotRepeated) {
  Scenario sc = TwoChains();
  World w(sc, 0);
  w.chain(1).Build({});
  w.chain(0).Build({});
  w.chain(0).Build({});
  EXPECT_EQ(w.QueueBatch(1, std::nullopt), 1u);
  EXPECT_EQ(w.QueueBatch(0, 1), 1u);
  EXPECT_EQ(w.QueueBatch(0, std::nullopt), 1u);  // only block 2: block 1 is queued already
  EXPECT_EQ(w.QueueBatch(0, std::nullopt), 0u);
  w.Mine(1);
  const auto& batches = w.l1().head().batches;
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].chain_index, 0u);
  EXPECT_EQ(batches[0].blocks[0].ref.number, 1u);
  EXPECT_EQ(batches[1].blocks[0].ref.number, 2u);
  EXPECT_EQ(batches[2].chain_index, 1u);
  EXPECT_EQ(w.QueueBatch(0, std::nullopt), 0u);  // on L1 now
}

TEST(World, FlipFlopRestoresHashes) {
  Scenario sc = TwoChains();
  World w(sc, 3);
  Drive(w);  // L1 1 holds the batches, L1 2 is empty
  const Hash one = w.l1().at(1).ref.hash, two = w.l1().at(2).ref.hash;
  ASSERT_TRUE(w.ReorgL1(2, "b", true).ok());
  EXPECT_NE(w.l1().at(1).ref.hash, one);
  EXPECT_EQ(w.l1().at(1).batches.size(), 2u);  // kept
  EXPECT_EQ(w.l1().head().fork, "b");
  ASSERT_TRUE(w.ReorgL1(2, "main", true).ok());
  EXPECT_EQ(w.l1().at(1).ref.hash, one);
  EXPECT_EQ(w.l1().at(2).ref.hash, two);
}

TEST(World, ReorgWithoutKeepingReturnsBatchesToQueues) {
  Scenario sc = TwoChains();
  World w(sc, 0);
  Drive(w);
  ASSERT_TRUE(w.ReorgL1(2, "b", false).ok());
  EXPECT_TRUE(w.l1().at(1).batches.empty());
  EXPECT_EQ(w.chain(0).queue().size(), 1u);
  EXPECT_EQ(w.chain(1).queue().size(), 1u);
  EXPECT_EQ(w.QueueBatch(0, std::nullopt), 0u);  // still posted: in the queue
  w.Mine(1);
  EXPECT_EQ(w.l1().at(3).batches.size(), 2u);
  EXPECT_EQ(w.l1().at(3).fork, "b");
}

TEST(World, ReorgCannotRemoveFinalized) {
  Scenario sc = TwoChains();
  World w(sc, 0);
  w.Mine(3);
  ASSERT_TRUE(w.l1().Finalize(2).ok());
  EXPECT_FALSE(w.ReorgL1(2, "b", false).ok());
  EXPECT_TRUE(w.ReorgL1(1, "b", false).ok());
  EXPECT_FALSE(w.l1().Finalize(1).ok());
  EXPECT_FALSE(w.l1().Finalize(9).ok());
}

TEST(World, RebuiltHeightNeverRepeatsAHash) {
  Scenario sc = TwoChains();
  World w(sc, 0);
  Hash first = w.chain(0).Build({}).ref.hash;
  w.chain(0).CutTo(0);
  Hash second = w.chain(0).Build({}).ref.hash;
  EXPECT_NE(first, second);
  EXPECT_NE(w.chain(0).Find(first), nullptr);  // the archive keeps reorged-out blocks
}

}  // namespace
}  // namespace supersafe::sim
