// The op-node's derivation: accepting batched blocks that build on the local-safe head, deposit-only
// replacements, and how L1 reorgs keep or forget them.
#include "sim/derivation.h"

#include <gtest/gtest.h>

#include "sim/world.h"

namespace supersafe::sim {
namespace {

class DerivationTest : public ::testing::Test {
 protected:
  DerivationTest() : sc_(Parse()), w_(sc_, 1) {}
  static Scenario Parse() {
    auto sc = ParseScenario("name: d\nchains:\n  - {name: A, id: 900}\nsteps: []\n", "d.yaml");
    SS_CHECK(sc.ok(), sc.status().ToString());
    return *sc;
  }
  L2Chain& a() { return w_.chain(0); }
  Derivation& d() { return w_.derivation(0); }

  Scenario sc_;
  World w_;
};

TEST_F(DerivationTest, AcceptsBatchedBlocksInL1Order) {
  a().Build({});
  a().Build({});
  a().Build({});
  w_.QueueBatch(0, 2);
  w_.Mine(1);
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(2);
  d().DeriveTo(2);
  EXPECT_EQ(d().tip(), 2u);
  EXPECT_EQ(d().SafeNumbersOnChain(), (std::vector<uint64_t>{0, 2, 3}));
  d().DeriveTo(99);  // clamped to the L1 head
  EXPECT_EQ(d().SafeNumbersOnChain(), (std::vector<uint64_t>{0, 2, 3, 3}));
  EXPECT_EQ(d().safe(), a().unsafe()[3].ID());
}

TEST_F(DerivationTest, ReplacementCutsUnsafeChainAndIsDerivedFromItsView) {
  for (int i = 0; i < 4; ++i) a().Build({});
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(1);
  d().DeriveTo(1);
  const BlockID invalid = a().unsafe()[2].ID();
  auto repl = d().Replace(invalid, 1);
  ASSERT_TRUE(repl.ok()) << repl.status().ToString();
  EXPECT_EQ(repl->number, 2u);
  EXPECT_EQ(d().safe(), *repl);
  ASSERT_EQ(a().head().ID(), *repl);  // unsafe chain cut back to the replacement
  EXPECT_TRUE(a().head().deposit_only);
  EXPECT_TRUE(a().head().logs.empty());
  EXPECT_EQ(a().head().ref.timestamp, 1004u);
  EXPECT_EQ(a().head().ref.parent_hash, a().unsafe()[1].ref.hash);

  // The sequencer builds on the replacement; its next batch derives on top of it.
  a().Build({});
  EXPECT_EQ(w_.QueueBatch(0, std::nullopt), 1u);  // block 3 on the replacement; the replacement itself is derived
  w_.Mine(1);
  d().DeriveTo(2);
  EXPECT_EQ(d().SafeNumbersOnChain(), (std::vector<uint64_t>{0, 2, 3}));
  EXPECT_EQ(d().safe(), a().head().ID());
}

TEST_F(DerivationTest, ReplacementHashIsStable) {
  for (int i = 0; i < 2; ++i) a().Build({});
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(1);
  d().DeriveTo(1);
  const L2Block original = a().unsafe()[2];
  auto r1 = d().Replace(original.ID(), 1);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(a().MakeReplacement(original).ID(), *r1);
}

TEST_F(DerivationTest, RejectsBlockNotDerived) {
  for (int i = 0; i < 2; ++i) a().Build({});
  w_.QueueBatch(0, 1);
  w_.Mine(1);
  d().DeriveTo(1);
  EXPECT_FALSE(d().Replace(a().unsafe()[2].ID(), 1).ok());  // not local-safe yet
  EXPECT_FALSE(d().Replace(a().unsafe()[1].ID(), 5).ok());  // view not derived
  BlockID wrong = a().unsafe()[1].ID();
  wrong.hash.bytes[0] ^= 1;
  EXPECT_FALSE(d().Replace(wrong, 1).ok());
}

TEST_F(DerivationTest, ReorgRemovingTheViewForgetsTheReplacement) {
  for (int i = 0; i < 2; ++i) a().Build({});
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(2);  // batch in L1 1, L1 2 empty
  d().DeriveTo(2);
  const L2Block original = a().unsafe()[2];
  ASSERT_TRUE(d().Replace(original.ID(), 2).ok());
  // View 1 still derived the original block, which is no longer on the chain: on-chain, view 1
  // reaches only its parent.
  EXPECT_EQ(d().SafeAt(1), original.ID());
  EXPECT_EQ(d().SafeNumbersOnChain(), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_TRUE(a().head().deposit_only);

  ASSERT_TRUE(w_.ReorgL1(1, "b", false).ok());  // removes L1 2, where the replacement was decided
  auto dropped = d().DeriveTo(2);
  ASSERT_EQ(dropped, 2u);
  EXPECT_TRUE(d().replacements().empty());
  EXPECT_EQ(d().safe(), original.ID());
  EXPECT_EQ(a().head().ID(), original.ID());  // the unsafe chain follows the derived chain again
}

TEST_F(DerivationTest, ReorgAboveTheViewKeepsTheReplacement) {
  for (int i = 0; i < 2; ++i) a().Build({});
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(1);
  d().DeriveTo(1);
  auto repl = d().Replace(a().unsafe()[2].ID(), 1);
  ASSERT_TRUE(repl.ok());
  w_.Mine(2);
  d().DeriveTo(3);
  ASSERT_TRUE(w_.ReorgL1(1, "b", true).ok());
  EXPECT_EQ(d().DeriveTo(3), 3u);
  EXPECT_EQ(d().replacements().size(), 1u);
  EXPECT_EQ(d().safe(), *repl);
  EXPECT_EQ(a().head().ID(), *repl);
}

TEST_F(DerivationTest, DerivedBlocksWinOverSequencedOnes) {
  a().Build({});
  a().Build({});
  w_.QueueBatch(0, std::nullopt);
  // An unsafe reorg after batching: the queued batch no longer matches the unsafe chain from 2 on.
  a().CutTo(1);
  a().Build({});
  w_.Mine(1);
  d().DeriveTo(1);
  // The batch's block 2 builds on block 1, so it is derived and wins over the sequenced one.
  EXPECT_EQ(d().safe().number, 2u);
  EXPECT_EQ(a().head().ID(), d().safe());
}

}  // namespace
}  // namespace supersafe::sim
