// The op-node's derivation: accepting batched blocks that build on the local-safe head, deposit-only
// replacements, and how L1 reorgs keep or forget them.
#include "sim/derivation.h"

#include <gtest/gtest.h>

#include "sim/world.h"

namespace supersafe::sim {
namespace {

class DerivationTest : public ::testing::Test {
 protected:
  explicit DerivationTest(const std::string& chain_keys = "") : sc_(Parse(chain_keys)), w_(sc_, 1) {}
  static Scenario Parse(const std::string& chain_keys) {
    auto sc = ParseScenario("name: d\nchains:\n  - {name: A, id: 900" + chain_keys + "}\nsteps: []\n", "d.yaml");
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

// after_replacement: drop, the behaviour of singular batches.
class DropDerivationTest : public DerivationTest {
 protected:
  DropDerivationTest() : DerivationTest(", after_replacement: drop") {}
};

TEST_F(DropDerivationTest, ReplacementCutsUnsafeChainAndIsDerivedFromItsView) {
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

// after_replacement: rederive (the default): the rest of the batch is derived again on the
// replacement, in the same view: same numbers, timestamps and logs, new parents and hashes.
TEST_F(DerivationTest, TheRestOfTheBatchIsDerivedAgainOnTheReplacement) {
  a().Build({});
  a().Build({});
  a().Build({Log{DefaultOrigin(), {}, {1, 2, 3}}});
  a().Build({});
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(1);
  d().DeriveTo(1);
  const L2Block old3 = a().unsafe()[3];
  auto repl = d().Replace(a().unsafe()[2].ID(), 1);
  ASSERT_TRUE(repl.ok()) << repl.status().ToString();
  EXPECT_EQ(d().tip(), 1u);
  EXPECT_EQ(d().safe().number, 4u);
  ASSERT_EQ(a().head().ID(), d().safe());
  EXPECT_EQ(a().unsafe()[2].ID(), *repl);
  EXPECT_TRUE(a().unsafe()[2].deposit_only);
  const L2Block& new3 = a().unsafe()[3];
  EXPECT_NE(new3.ref.hash, old3.ref.hash);
  EXPECT_EQ(new3.ref.parent_hash, repl->hash);
  EXPECT_EQ(new3.ref.timestamp, old3.ref.timestamp);
  EXPECT_EQ(new3.logs, old3.logs);
  EXPECT_FALSE(new3.deposit_only);
  EXPECT_EQ(a().Rederive(old3, *repl).ID(), new3.ID());  // the same block whenever it is derived again
  EXPECT_EQ(d().SafeNumbersOnChain(), (std::vector<uint64_t>{0, 4}));
}

// A later batch built on the old blocks no longer builds on the head: dropped (its parent check
// fails). The replacement was decided at view 2, so view 1 keeps the old blocks.
TEST_F(DerivationTest, ALaterBatchBuiltOnTheOldBlocksIsDropped) {
  for (int i = 0; i < 3; ++i) a().Build({});
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(1);
  a().Build({});
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(1);
  d().DeriveTo(2);
  ASSERT_EQ(d().safe().number, 4u);
  const BlockID old3 = a().unsafe()[3].ID();
  ASSERT_TRUE(d().Replace(a().unsafe()[2].ID(), 2).ok());
  EXPECT_EQ(d().SafeAt(1), old3);
  EXPECT_EQ(d().safe().number, 3u);
  EXPECT_NE(d().safe(), old3);
  EXPECT_EQ(a().head().ID(), d().safe());
  EXPECT_EQ(d().SafeNumbersOnChain(), (std::vector<uint64_t>{0, 1, 3}));
}

// A block derived again can itself be found invalid in the same view: it is replaced, and what
// follows it in the batch is derived again on that replacement.
TEST_F(DerivationTest, ABlockDerivedAgainCanBeReplacedInTheSameView) {
  for (int i = 0; i < 4; ++i) a().Build({});
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(1);
  d().DeriveTo(1);
  ASSERT_TRUE(d().Replace(a().unsafe()[2].ID(), 1).ok());
  auto second = d().Replace(a().unsafe()[3].ID(), 1);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(d().replacements().size(), 2u);
  EXPECT_EQ(d().safe().number, 4u);
  EXPECT_TRUE(a().unsafe()[2].deposit_only);
  EXPECT_TRUE(a().unsafe()[3].deposit_only);
  EXPECT_EQ(a().unsafe()[3].ID(), *second);
  EXPECT_FALSE(a().unsafe()[4].deposit_only);
  EXPECT_EQ(a().head().ID(), d().safe());
  // An L1 reorg above the view keeps both replacements and derives the same chain again.
  const BlockID head = d().safe();
  w_.Mine(1);
  d().DeriveTo(2);
  ASSERT_TRUE(w_.ReorgL1(1, "b", false).ok());
  EXPECT_EQ(d().DeriveTo(2), 2u);
  EXPECT_EQ(d().replacements().size(), 2u);
  EXPECT_EQ(d().safe(), head);
}

// The sequencing window (seq_window: 2): a batch included after the window of its first block's
// epoch is dropped, and derivation forces empty blocks once an epoch's window has passed.
class WindowDerivationTest : public DerivationTest {
 protected:
  WindowDerivationTest() : DerivationTest(", seq_window: 2") {}
};

TEST_F(WindowDerivationTest, ABatchInTimeIsDerivedOneTooLateIsDroppedForAForcedBlock) {
  a().Build({Log{DefaultOrigin(), {}, {1}}});  // epoch 0 (the L1 head when it was built)
  const BlockID sequenced = a().unsafe()[1].ID();
  w_.Mine(1);
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(1);  // included in L1 2: 0 + 2 >= 2, in time
  d().DeriveTo(2);
  EXPECT_EQ(d().safe(), sequenced);

  a().Build({Log{DefaultOrigin(), {}, {2}}}, w_.l1().head().ref.number);  // built at L1 head 2: epoch 2
  EXPECT_EQ(a().head().l1_origin, 2u);
  w_.Mine(2);
  w_.QueueBatch(0, std::nullopt);
  w_.Mine(1);  // included in L1 5: 2 + 2 < 5, too late
  d().DeriveTo(4);
  // Epoch 0's window passed at L1 2 (nothing to fill: L2 time is past L1 block 1's); at L1 3 epoch
  // 1's did: a forced block at height 2 with epoch 1, and at L1 4 one with epoch 2.
  ASSERT_EQ(d().safe().number, 3u);
  const L2Block& forced = a().unsafe()[2];
  EXPECT_TRUE(forced.logs.empty());
  EXPECT_EQ(forced.l1_origin, 1u);
  EXPECT_EQ(forced.ref.timestamp, 1004u);
  EXPECT_EQ(a().unsafe()[3].l1_origin, 2u);
  EXPECT_EQ(a().ForcedEmpty(a().unsafe()[1].ID(), w_.l1().at(1).ref.ID()).ID(), forced.ID());
  d().DeriveTo(5);
  EXPECT_EQ(d().safe().number, 4u);  // the late batch is dropped: another forced block, epoch 3
  EXPECT_TRUE(a().head().logs.empty());
  EXPECT_EQ(a().head().l1_origin, 3u);
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
