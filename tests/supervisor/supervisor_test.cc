#include "supervisor/supervisor.h"

#include <gtest/gtest.h>

#include "harness.h"
#include "core/access_list.h"

namespace supersafe::testing {
namespace {

const ChainID kA(900), kB(901), kC(902);

class SupervisorTest : public SupervisorHarness {
 protected:
  // Expects the answer of the call that completed a group.
  static void ExpectAccept(const Result<CrossSafeAnswer>& a, uint64_t cross_safe) {
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->status, CrossSafeStatus::kAccept);
    EXPECT_EQ(a->cross_safe.number, cross_safe);
  }
  static void ExpectInvalid(const Result<CrossSafeAnswer>& a, uint64_t first_invalid) {
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->status, CrossSafeStatus::kInvalid);
    EXPECT_EQ(a->local_safe.number, first_invalid);
  }
  // Replaces block n of chain c with a deposit-only block and reports it for L1 block l1.
  Result<CrossSafeAnswer> Replace(size_t c, uint64_t n, uint64_t l1) {
    chain(c).ReplaceWithDepositOnly(n);
    EXPECT_TRUE(sup_->UpdateLocalUnsafe(id(c), chain(c).head()).ok());
    return Report(c, n, l1);
  }
};

TEST_F(SupervisorTest, GenesisGroupHasEveryChainAtBlockZero) {
  Start({kA, kB});
  for (size_t c = 0; c < 2; ++c) {
    auto h = HeadsOf(c);
    EXPECT_EQ(h.unsafe, chain(c).block(0).ID());
    EXPECT_EQ(h.cross_unsafe.number, 0u);
    EXPECT_EQ(h.local_safe, chain(c).block(0).ID());
    EXPECT_EQ(h.cross_safe, chain(c).block(0).ID());
    EXPECT_EQ(h.finalized.number, 0u);
  }
}

// AllHeadsOf answers every chain's heads as HeadsOf does, with heads that differ between chains and
// between levels (cross-safe of one chain only, at a later view than the other's).
TEST_F(SupervisorTest, AllHeadsOfAnswersAsHeadsOfChainByChain) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("m1")});
  chain(1).Build();
  chain(1).Build({chain(0).Exec(1, 0)});
  SyncAll();
  l1_.Mine();
  (void)ReportAll(1, {0, 2});
  l1_.Mine();
  (void)ReportAll(2, {1, 2});
  chain(0).Build();
  SyncAll();
  auto all = sup_->AllHeadsOf();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  for (size_t c = 0; c < 2; ++c) {
    const supervisor::Heads one = HeadsOf(c);
    const supervisor::Heads& h = (*all)[c];
    EXPECT_EQ(h.unsafe, one.unsafe);
    EXPECT_EQ(h.cross_unsafe, one.cross_unsafe);
    EXPECT_EQ(h.local_safe, one.local_safe);
    EXPECT_EQ(h.cross_safe, one.cross_safe);
    EXPECT_EQ(h.finalized, one.finalized);
    EXPECT_EQ(h.local_safe_source, one.local_safe_source);
    EXPECT_EQ(h.cross_safe_source, one.cross_safe_source);
    EXPECT_EQ(h.local_safe_invalid, one.local_safe_invalid);
  }
  EXPECT_EQ((*all)[0].unsafe.number, 2u);
  EXPECT_NE((*all)[0].unsafe.hash, (*all)[1].unsafe.hash);  // in chain order, not one chain's twice
}

TEST_F(SupervisorTest, MessageBecomesCrossSafeOnceSourceIsLocalSafeInTheSameView) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("m1")});
  chain(1).Build();
  chain(1).Build({chain(0).Exec(1, 0)});
  SyncAll();
  EXPECT_EQ(CrossUnsafe(1), 2u);
  l1_.Mine();
  // View 1: A has derived nothing, so B's block 2 waits on A's block 1.
  auto first = ReportAll(1, {0, 2});
  EXPECT_EQ(first[0].status().code(), Code::kFutureData);
  ExpectAccept(first[1], 1);
  EXPECT_EQ(HeadsOf(1).local_safe.number, 2u);
  l1_.Mine();
  auto second = ReportAll(2, {1, 2});
  ExpectAccept(second[1], 2);
  EXPECT_EQ(CrossSafe(0), 1u);
  EXPECT_EQ(CrossSafe(1), 2u);
  EXPECT_EQ(sup_->CheckMessage(chain(0).IdOf(1, 0), chain(0).PayloadOf(1, 0)).value(), SafetyLevel::kSafe);
}

// Expiry: executing 10 s after the message with a 10 s window is valid; 12 s after it with an
// 11 s window (one second past) is not.
class ExpiryTest : public SupervisorTest {
 protected:
  Result<CrossSafeAnswer> ExecuteAfter(uint64_t window, uint64_t blocks_later) {
    Start({kA, kB}, window);
    chain(0).Build({FakeChain::Init("m1")});
    for (uint64_t i = 1; i < 1 + blocks_later; ++i) chain(1).Build();
    chain(1).Build({chain(0).Exec(1, 0)});
    SyncAll();
    l1_.Mine();
    return ReportAll(1, {1, chain(1).head().number})[1];
  }
};

TEST_F(ExpiryTest, AtExactlyTheWindowIsValid) {
  auto a = ExecuteAfter(10, 5);  // exec at 1012, message at 1002
  ExpectAccept(a, 6);
}

TEST_F(ExpiryTest, OneSecondPastTheWindowIsInvalid) {
  auto a = ExecuteAfter(11, 6);  // exec at 1014: 12 s after, window 11
  ExpectInvalid(a, 7);
  EXPECT_EQ(CrossSafe(1), 6u);
}

TEST_F(SupervisorTest, SameTimestampTwoWayExchangeIsValid) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("a"), chain(1).ExecFuture(1, 0, "b")});
  chain(1).Build({FakeChain::Init("b"), chain(0).ExecFuture(1, 0, "a")});
  SyncAll();
  EXPECT_EQ(CrossUnsafe(0), 1u);
  EXPECT_EQ(CrossUnsafe(1), 1u);
  l1_.Mine();
  auto a = ReportAll(1, {1, 1});
  ExpectAccept(a[1], 1);
  EXPECT_EQ(CrossSafe(0), 1u);
}

TEST_F(SupervisorTest, CycleThroughPlainLogsOfTwoBlocksIsInvalid) {
  Start({kA, kB});
  // A1 = [exec B1.log1, init a]; B1 = [exec A1.log1, init b]: A.0 -> A.1 -> B.0 -> B.1 -> A.0.
  chain(0).Build({chain(1).ExecFuture(1, 1, "b"), FakeChain::Init("a")});
  chain(1).Build({chain(0).ExecFuture(1, 1, "a"), FakeChain::Init("b")});
  SyncAll();
  EXPECT_EQ(CrossUnsafe(0), 0u);
  EXPECT_EQ(CrossUnsafe(1), 0u);
  l1_.Mine();
  auto a = ReportAll(1, {1, 1});
  ExpectInvalid(a[1], 1);
  ExpectInvalid(Report(0, 1, 1), 1);
}

TEST_F(SupervisorTest, ForwardReferenceInsideOneBlockIsInvalid) {
  Start({kA, kB});
  chain(0).Build({chain(0).ExecFuture(1, 1, "x"), FakeChain::Init("x")});
  SyncAll();
  l1_.Mine();
  ReportAll(1, {1, 0});
  ExpectInvalid(Report(0, 1, 1), 1);
  EXPECT_EQ(CrossSafe(0), 0u);
}

TEST_F(SupervisorTest, BackwardReferenceInsideOneBlockIsValid) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("x"), chain(0).ExecFuture(1, 0, "x")});
  SyncAll();
  l1_.Mine();
  ExpectAccept(ReportAll(1, {1, 0})[1], 0);
  EXPECT_EQ(CrossSafe(0), 1u);
}

TEST_F(SupervisorTest, IdentifierClaimingAnotherBlocksTimestampIsInvalid) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("m")});
  chain(0).Build();
  Identifier id = chain(0).IdOf(1, 0);
  id.timestamp = chain(0).block(2).timestamp;  // block 1 claimed at block 2's time
  chain(1).Build();
  chain(1).Build();
  chain(1).Build({MakeExecutingMessageLog({id, chain(0).PayloadOf(1, 0)})});
  SyncAll();
  l1_.Mine();
  ExpectInvalid(ReportAll(1, {2, 3})[1], 3);
  EXPECT_EQ(sup_->CheckMessage(id, chain(0).PayloadOf(1, 0)).value(), SafetyLevel::kConflicts);
}

TEST_F(SupervisorTest, UnknownChainIsInvalidAndCheckMessageSaysUnknownChain) {
  Start({kA, kB});
  Identifier id{DefaultOrigin(), 1, 0, 1002, ChainID(12345)};
  chain(0).Build();
  chain(0).Build({MakeExecutingMessageLog({id, HashOf("p")})});
  SyncAll();
  l1_.Mine();
  ReportAll(1, {2, 0});
  ExpectInvalid(Report(0, 2, 1), 2);
  EXPECT_EQ(sup_->CheckMessage(id, HashOf("p")).status().code(), Code::kUnknownChain);
}

TEST_F(SupervisorTest, WrongPayloadIsInvalidAndConflicts) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("m")});
  Identifier id = chain(0).IdOf(1, 0);
  chain(1).Build();
  chain(1).Build({MakeExecutingMessageLog({id, HashOf("not m")})});
  SyncAll();
  EXPECT_EQ(CrossUnsafe(1), 1u);  // stays unsafe, not invalidated at the cross-unsafe level
  EXPECT_EQ(sup_->CheckMessage(id, HashOf("not m")).value(), SafetyLevel::kConflicts);
  l1_.Mine();
  ExpectInvalid(ReportAll(1, {1, 2})[1], 2);
}

TEST_F(SupervisorTest, ChainIDsAbove64BitsEndToEnd) {
  ChainID wide1 = ChainID::Parse("0x10000000000000001").value();
  ChainID wide2 = ChainID::Parse("0x" + std::string(50, 'f')).value();
  Start({wide1, wide2});
  chain(0).Build({FakeChain::Init("m")});
  chain(1).Build();
  chain(1).Build({chain(0).Exec(1, 0)});
  SyncAll();
  l1_.Mine();
  ExpectAccept(ReportAll(1, {1, 2})[1], 2);
  EXPECT_EQ(sup_->CheckMessage(chain(0).IdOf(1, 0), chain(0).PayloadOf(1, 0)).value(), SafetyLevel::kSafe);
  ASSERT_TRUE(sup_->HeadsOf(wide2).ok());
  EXPECT_EQ(sup_->HeadsOf(ChainID(1)).status().code(), Code::kUnknownChain);
  // Low 64 bits alone name no chain: the supervisor never narrows.
  Identifier narrowed = chain(0).IdOf(1, 0);
  narrowed.chain_id = ChainID(1);
  EXPECT_EQ(sup_->CheckMessage(narrowed, chain(0).PayloadOf(1, 0)).status().code(), Code::kUnknownChain);
}

TEST_F(SupervisorTest, InvalidationCascadesAcrossThreeChains) {
  Start({kA, kB, kC});
  Identifier bogus{DefaultOrigin(), 1, 0, 1002, ChainID(777)};
  chain(0).Build({MakeExecutingMessageLog({bogus, HashOf("p")}), FakeChain::Init("a")});
  chain(1).Build();
  chain(1).Build({chain(0).Exec(1, 1), FakeChain::Init("b")});
  chain(2).Build();
  chain(2).Build();
  chain(2).Build({chain(1).Exec(2, 1)});
  SyncAll();
  EXPECT_EQ(CrossUnsafe(2), 2u);
  l1_.Mine();
  auto a = ReportAll(1, {1, 2, 3});
  ExpectInvalid(a[2], 3);
  ExpectInvalid(Report(0, 1, 1), 1);
  ExpectInvalid(Report(1, 2, 1), 2);
  EXPECT_EQ(CrossSafe(1), 1u);
  EXPECT_EQ(sup_->CheckMessage(chain(0).IdOf(1, 1), chain(0).PayloadOf(1, 1)).value(), SafetyLevel::kConflicts);
  // B cannot report the next L1 block before its replacement.
  l1_.Mine();
  EXPECT_EQ(Report(1, 2, 2).status().code(), Code::kAwaitingReplacementBlock);
  // Replacements, in any order; each revises the tip group.
  ExpectAccept(Replace(2, 3, 1), 3);
  ExpectAccept(Replace(0, 1, 1), 1);
  ExpectAccept(Replace(1, 2, 1), 2);
  EXPECT_EQ(CrossSafe(0), 1u);
  EXPECT_EQ(CrossSafe(1), 2u);
  EXPECT_EQ(CrossSafe(2), 3u);
  EXPECT_EQ(HeadsOf(0).cross_safe, chain(0).block(1).ID());
  ExpectAccept(ReportAll(2, {1, 2, 3})[2], 3);
}

// An identifier names a height, not a block hash: C3 names a log of A2, which sits above the
// invalid A1 and is dropped with it. C3 waits for what A derives at height 2: the same log at the
// same index makes it valid, another log invalid.
class DroppedSourceTest : public SupervisorTest {
 protected:
  Result<CrossSafeAnswer> RunWith(const std::string& new_log) {
    Start({kA, kC});
    chain(0).Build({MakeExecutingMessageLog({Identifier{DefaultOrigin(), 1, 0, 1002, ChainID(777)}, HashOf("p")})});
    chain(0).Build({FakeChain::Init("m")});
    chain(1).Build();
    chain(1).Build();
    chain(1).Build({chain(0).Exec(2, 0)});
    SyncAll();
    l1_.Mine();
    auto a = ReportAll(1, {2, 3});
    ExpectAccept(a[1], 2);  // C3 waits; it is not invalid
    EXPECT_EQ(HeadsOf(1).local_safe.number, 3u);
    ExpectInvalid(Report(0, 2, 1), 1);
    ExpectAccept(Replace(0, 1, 1), 1);
    EXPECT_EQ(CrossSafe(1), 2u);  // still waiting, on A's height 2
    EXPECT_EQ(sup_->CheckMessage(Identifier{DefaultOrigin(), 2, 0, 1004, kA}, PayloadHashOf(FakeChain::Init("m"))).value(),
              SafetyLevel::kUnknown);
    chain(0).Build({FakeChain::Init(new_log)});
    SyncAll();
    l1_.Mine();
    return ReportAll(2, {2, 3})[1];
  }
};

TEST_F(DroppedSourceTest, TheSameLogDerivedAgainAtThatHeightMakesTheMessageValid) {
  ExpectAccept(RunWith("m"), 3);
  EXPECT_EQ(CrossSafe(0), 2u);
}

TEST_F(DroppedSourceTest, AnotherBlockAtThatHeightMakesTheMessageInvalid) {
  ExpectInvalid(RunWith("n"), 3);
  EXPECT_EQ(CrossSafe(1), 2u);
}

// The view is judged timestamp by timestamp. S4 is invalid in its own right and found first; X5
// names a log of S4. But S3, below S4, names a log of U2, which is invalid too (found later: U1
// before it waits on W1, which is not local-safe): S3 is S's first invalid block, S4 is not in the
// view, and X5 waits instead of being invalid.
TEST_F(SupervisorTest, InvalidityIsDecidedInTimestampOrder) {
  const ChainID kS(900), kU(901), kX(902), kW(903);
  Start({kS, kU, kX, kW});
  const Log bogus = MakeExecutingMessageLog({Identifier{DefaultOrigin(), 1, 0, 1002, ChainID(777)}, HashOf("p")});
  chain(3).Build({FakeChain::Init("w")});
  chain(1).Build({chain(3).Exec(1, 0)});
  chain(1).Build({bogus, FakeChain::Init("u2")});
  chain(0).Build();
  chain(0).Build();
  chain(0).Build({chain(1).Exec(2, 1)});
  chain(0).Build({bogus, FakeChain::Init("s4")});
  for (int i = 0; i < 4; ++i) chain(2).Build();
  chain(2).Build({chain(0).Exec(4, 1)});
  SyncAll();
  l1_.Mine();
  ExpectAccept(ReportAll(1, {4, 2, 5, 0})[3], 0);
  ExpectInvalid(Report(0, 4, 1), 3);
  ExpectInvalid(Report(1, 2, 1), 2);
  ExpectAccept(Report(2, 5, 1), 4);
  EXPECT_EQ(HeadsOf(2).local_safe.number, 5u);
}

TEST_F(SupervisorTest, ReplacementOfTheFirstBlockAfterGenesisKeepsPendingOutput) {
  Start({kA, kB});
  Identifier bogus{DefaultOrigin(), 5, 0, 1010, kB};
  chain(0).Build({MakeExecutingMessageLog({bogus, HashOf("p")})});
  BlockID invalid = chain(0).block(1).ID();
  SyncAll();
  l1_.Mine();
  ReportAll(1, {1, 0});
  ExpectInvalid(Report(0, 1, 1), 1);
  ExpectAccept(Replace(0, 1, 1), 1);
  EXPECT_NE(HeadsOf(0).cross_safe.hash, invalid.hash);
  auto root = sup_->SuperRootAtTimestamp(1002);
  ASSERT_FALSE(root.ok());  // B's block at 1002 is not cross-safe yet
  EXPECT_EQ(root.status().code(), Code::kFutureData);
  chain(1).Build();
  SyncAll();
  l1_.Mine();
  ExpectAccept(ReportAll(2, {1, 1})[1], 1);
  root = sup_->SuperRootAtTimestamp(1002);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  ASSERT_EQ(root->chains.size(), 2u);
  EXPECT_EQ(root->chains[0].pending, chain(0).OutputPreimage(invalid).value());
  EXPECT_EQ(root->chains[0].canonical, OutputRoot(chain(0).OutputPreimage(chain(0).block(1).ID()).value()).value());
  EXPECT_EQ(root->chains[1].pending, chain(1).OutputPreimage(chain(1).block(1).ID()).value());
  EXPECT_EQ(root->cross_safe_derived_from.number, 2u);
  SuperV1 super{1002, {{kA, root->chains[0].canonical}, {kB, root->chains[1].canonical}}};
  EXPECT_EQ(root->super_root, SuperRoot(super));
}

// Two chains and two L1 views: A's blocks 1-2 and B's block 1 become cross-safe in view 1, A's
// 3-4 and B's 2-3 in view 2.
class TwoViewsTest : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    Start({kA, kB});
    for (int i = 0; i < 4; ++i) chain(0).Build();
    for (int i = 0; i < 3; ++i) chain(1).Build();
    SyncAll();
    l1_.Mine();
    ReportAll(1, {2, 1});
    l1_.Mine();
    ReportAll(2, {4, 3});
  }
};

// Many timestamps at once (the fault-proof export's call): each answer is the super root the
// rules give for that timestamp alone, whatever the order of the batch and with repeats.
TEST_F(TwoViewsTest, SuperRootsOfManyTimestampsAnswerEachAsAlone) {
  ASSERT_EQ(CrossSafe(0), 4u);
  ASSERT_EQ(CrossSafe(1), 3u);
  const std::vector<uint64_t> timestamps = {1006, 998, 1002, 1008, 1000, 1004, 1006, 1003};
  const auto roots = sup_->SuperRootsAtTimestamps(timestamps);
  ASSERT_EQ(roots.size(), timestamps.size());
  for (size_t i = 0; i < timestamps.size(); ++i) {
    const uint64_t t = timestamps[i];
    SCOPED_TRACE("timestamp " + std::to_string(t));
    if (t < 1000 || t >= 1008) {  // before genesis; B's block 4 does not exist
      ASSERT_FALSE(roots[i].ok());
      EXPECT_EQ(roots[i].status().code(), Code::kFutureData);
      continue;
    }
    ASSERT_TRUE(roots[i].ok()) << roots[i].status().ToString();
    const uint64_t n = (t - 1000) / 2;
    SuperV1 super{t, {}};
    for (size_t c = 0; c < 2; ++c) {
      const Hash root = OutputRoot(chain(c).OutputPreimage(chain(c).block(n).ID()).value()).value();
      EXPECT_EQ(roots[i]->chains[c].canonical, root);
      super.chains.push_back({id(c), root});
    }
    EXPECT_EQ(roots[i]->super_root, SuperRoot(super));
    const uint64_t view_a = n == 0 ? 0 : n <= 2 ? 1 : 2, view_b = n == 0 ? 0 : n <= 1 ? 1 : 2;
    EXPECT_EQ(roots[i]->cross_safe_derived_from, l1_.at(std::max(view_a, view_b)).ID());
    const auto alone = sup_->SuperRootAtTimestamp(t);
    ASSERT_TRUE(alone.ok());
    EXPECT_EQ(alone->super_root, roots[i]->super_root);
  }
}

// Many L1 views at once (an RPC batch of allSafeDerivedAt): each answer is the local-safe heads
// reported for that view, in any order and with repeats; a view not written yet or not canonical
// gets the error it gets alone.
TEST_F(TwoViewsTest, SafeHeadsOfManyViewsAnswerEachAsAlone) {
  const BlockID forged{HashOf("not L1"), 1};
  const std::vector<BlockID> views = {l1_.at(2).ID(), forged, l1_.at(0).ID(), BlockID{HashOf("later"), 3},
                                      l1_.at(1).ID(), l1_.at(2).ID()};
  const auto answers = sup_->AllSafeDerivedAtMany(views);
  ASSERT_EQ(answers.size(), views.size());
  const std::map<uint64_t, std::pair<uint64_t, uint64_t>> reported = {{0, {0, 0}}, {1, {2, 1}}, {2, {4, 3}}};
  for (size_t i = 0; i < views.size(); ++i) {
    SCOPED_TRACE("view " + views[i].ToString());
    if (views[i] == forged) {
      ASSERT_FALSE(answers[i].ok());
      EXPECT_EQ(answers[i].status().code(), Code::kConflictingData);
    } else if (views[i].number == 3) {
      ASSERT_FALSE(answers[i].ok());
      EXPECT_EQ(answers[i].status().code(), Code::kFutureData);
    } else {
      ASSERT_TRUE(answers[i].ok()) << answers[i].status().ToString();
      const auto [a, b] = reported.at(views[i].number);
      EXPECT_EQ(answers[i]->at(kA), chain(0).block(a).ID());
      EXPECT_EQ(answers[i]->at(kB), chain(1).block(b).ID());
    }
  }
}

TEST_F(SupervisorTest, InvalidationInTheMiddleOfABatchDropsTheRest) {
  Start({kA, kB});
  chain(0).Build();
  chain(0).Build({MakeExecutingMessageLog({Identifier{DefaultOrigin(), 9, 0, 1018, kB}, HashOf("p")})});
  chain(0).Build({FakeChain::Init("after")});
  chain(0).Build();
  SyncAll();
  l1_.Mine();
  ReportAll(1, {4, 0});
  auto a = Report(0, 4, 1);
  ExpectInvalid(a, 2);
  EXPECT_EQ(a->cross_safe.number, 1u);
  EXPECT_EQ(HeadsOf(0).local_safe.number, 2u);
  ExpectAccept(Replace(0, 2, 1), 2);
  EXPECT_EQ(HeadsOf(0).unsafe.number, 2u);
  EXPECT_EQ(sup_->CheckMessage(Identifier{DefaultOrigin(), 3, 0, 1006, kA}, PayloadHashOf(FakeChain::Init("after"))).value(),
            SafetyLevel::kUnknown);
}

// after_replacement: rederive. The node replaces A2 and derives A3 (with the same log) and A4 again
// on the replacement, in the same L1 view, and reports A4: the supervisor takes that as the
// replacement and revises the view with A's local-safe at 4. B3, which executes A3's log and
// waited while A2 was invalid, is cross-safe in the revised view. Before the replacement, a report
// above the invalid block on the old chain is still answered invalid.
TEST_F(SupervisorTest, InvalidationInTheMiddleOfABatchWithTheRestDerivedAgain) {
  Start({kA, kB});
  chain(0).Build();
  chain(0).Build({MakeExecutingMessageLog({Identifier{DefaultOrigin(), 9, 0, 1018, kB}, HashOf("p")})});
  chain(0).Build({FakeChain::Init("after")});
  chain(0).Build();
  chain(1).Build();
  chain(1).Build();
  chain(1).Build({chain(0).Exec(3, 0)});
  SyncAll();
  l1_.Mine();
  auto a = ReportAll(1, {4, 3});
  ExpectAccept(a[1], 2);  // B3 waits on A's height 3, above the invalid block
  ExpectInvalid(Report(0, 4, 1), 2);
  ExpectInvalid(Report(0, 4, 1), 2);  // the same report again: not replaced yet
  EXPECT_TRUE(HeadsOf(0).local_safe_invalid);
  chain(0).ReplaceWithDepositOnly(2);
  chain(0).Build({FakeChain::Init("after")});
  chain(0).Build();
  ASSERT_TRUE(sup_->UpdateLocalUnsafe(kA, chain(0).head()).ok());
  ExpectAccept(Report(0, 4, 1), 4);
  EXPECT_EQ(HeadsOf(0).local_safe, chain(0).block(4).ID());
  EXPECT_EQ(HeadsOf(0).local_safe_source.number, 1u);
  EXPECT_EQ(CrossSafe(1), 3u);
  EXPECT_EQ(sup_->CheckMessage(chain(0).IdOf(3, 0), chain(0).PayloadOf(3, 0)).value(), SafetyLevel::kSafe);
  ExpectAccept(Report(1, 3, 1), 3);
}

// A revision for A's replacement, with A3 derived again, finds B3 invalid after B's report for the
// next L1 block was buffered. That report was derived on the invalid block: A's report for L1 2
// must not complete the group with it; B is told to replace first.
TEST_F(SupervisorTest, AReportBufferedBeforeARevisionInvalidatedItsChainDoesNotCount) {
  Start({kA, kB});
  chain(0).Build();
  chain(0).Build({MakeExecutingMessageLog({Identifier{DefaultOrigin(), 9, 0, 1018, kB}, HashOf("p")})});
  chain(0).Build({FakeChain::Init("m")});
  chain(1).Build();
  chain(1).Build();
  chain(1).Build({chain(0).ExecFuture(3, 0, "other")});
  SyncAll();
  l1_.Mine();
  l1_.Mine();
  ExpectAccept(ReportAll(1, {3, 3})[1], 2);  // B3 waits on A's height 3
  auto buffered = Report(1, 3, 2);
  ASSERT_EQ(buffered.status().code(), Code::kFutureData) << buffered.status().ToString();
  ExpectInvalid(Report(0, 3, 1), 2);
  chain(0).ReplaceWithDepositOnly(2);
  chain(0).Build({FakeChain::Init("m")});
  ASSERT_TRUE(sup_->UpdateLocalUnsafe(kA, chain(0).head()).ok());
  ExpectAccept(Report(0, 3, 1), 3);
  EXPECT_EQ(HeadsOf(1).local_safe.number, 3u);  // B3 invalid in the revised view
  EXPECT_TRUE(HeadsOf(1).local_safe_invalid);
  EXPECT_FALSE(HeadsOf(0).local_safe_invalid);
  auto a = Report(0, 3, 2);
  EXPECT_EQ(a.status().code(), Code::kFutureData) << a.status().ToString();
  EXPECT_EQ(HeadsOf(0).local_safe_source.number, 1u);
  EXPECT_EQ(Report(1, 3, 2).status().code(), Code::kAwaitingReplacementBlock);
  ExpectInvalid(Report(1, 3, 1), 3);
}

TEST_F(SupervisorTest, FlipFlopL1ReorgGivesBackTheEarlierViews) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("m")});
  chain(1).Build();
  chain(1).Build({chain(0).Exec(1, 0)});
  SyncAll();
  l1_.Mine();
  ReportAll(1, {0, 1});
  l1_.Mine();
  ExpectAccept(ReportAll(2, {1, 2})[1], 2);
  auto main_view = sup_->AllSafeDerivedAt(l1_.at(2).ID()).value();
  // Reorg to fork b: L1 block 2 now derives nothing new.
  l1_.Reorg(1, "b");
  auto on_b = ReportAll(2, {0, 1});
  EXPECT_EQ(CrossSafe(1), 1u);
  EXPECT_EQ(CrossSafe(0), 0u);
  ExpectAccept(on_b[1], 1);
  EXPECT_EQ(sup_->AllSafeDerivedAt(l1_.at(2).ID()).value().at(kA).number, 0u);
  // Back to main: the same hashes, the same group.
  l1_.Reorg(1, "main");
  ExpectAccept(ReportAll(2, {1, 2})[1], 2);
  EXPECT_EQ(sup_->AllSafeDerivedAt(l1_.at(2).ID()).value(), main_view);
  EXPECT_EQ(CrossSafe(1), 2u);
}

TEST_F(SupervisorTest, OutOfOrderDuplicatedAndStaleCalls) {
  Start({kA, kB});
  chain(0).Build();
  chain(1).Build();
  SyncAll();
  l1_.Mine();
  l1_.Mine();
  EXPECT_EQ(Report(0, 1, 2).status().code(), Code::kOutOfOrder);
  EXPECT_EQ(Report(0, 1, 1).status().code(), Code::kFutureData);
  EXPECT_EQ(Report(0, 1, 1).status().code(), Code::kFutureData);  // duplicated
  ExpectAccept(Report(1, 1, 1), 1);
  ExpectAccept(Report(0, 1, 1), 1);  // stale: answered from view 1
  ExpectAccept(Report(0, 0, 1), 0);  // older local-safe: cross-safe clipped to it
  EXPECT_EQ(Report(0, 0, 1)->local_safe.number, 1u);
  BlockID other_fork{HashOf("elsewhere"), 1};
  EXPECT_EQ(sup_->TryCrossSafe(kA, chain(0).block(1).ID(), other_fork).status().code(), Code::kConflictingData);
  BlockID not_ours{HashOf("not a block"), 1};
  EXPECT_EQ(sup_->TryCrossSafe(kA, not_ours, l1_.at(1).ID()).status().code(), Code::kConflictingData);
  EXPECT_EQ(sup_->TryCrossSafe(ChainID(5), chain(0).block(1).ID(), l1_.at(1).ID()).status().code(),
            Code::kUnknownChain);
  // A report of a block the node does not have is "unknown", not an error.
  auto unknown = sup_->TryCrossSafe(kA, BlockID{HashOf("future"), 7}, l1_.at(2).ID());
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  EXPECT_EQ(unknown->status, CrossSafeStatus::kUnknown);
}

TEST_F(SupervisorTest, RestartGivesTheSameHeads) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("m")});
  chain(0).Build();
  chain(1).Build({chain(0).Exec(1, 0)});
  chain(1).Build();
  SyncAll();
  l1_.Mine();
  ReportAll(1, {1, 1});
  ASSERT_TRUE(sup_->TryFinalize(kA, l1_.at(1).ID()).ok());
  std::vector<supervisor::Heads> before{HeadsOf(0), HeadsOf(1)};
  EXPECT_EQ(before[0].cross_unsafe.number, 2u);
  EXPECT_EQ(before[1].cross_safe.number, 1u);
  Reopen();
  // Finality is forwarded again by the nodes after a restart; everything else is as before.
  ASSERT_TRUE(sup_->TryFinalize(kA, l1_.at(1).ID()).ok());
  for (size_t c = 0; c < 2; ++c) {
    auto after = HeadsOf(c);
    EXPECT_EQ(after.unsafe, before[c].unsafe);
    EXPECT_EQ(after.cross_unsafe, before[c].cross_unsafe);
    EXPECT_EQ(after.local_safe, before[c].local_safe);
    EXPECT_EQ(after.cross_safe, before[c].cross_safe);
    EXPECT_EQ(after.finalized, before[c].finalized);
  }
}

TEST_F(SupervisorTest, UnsafeReorgRewindsButNeverBelowCrossSafe) {
  Start({kA, kB});
  chain(0).Build();
  chain(0).Build();
  chain(0).Build();
  SyncAll();
  l1_.Mine();
  ReportAll(1, {2, 0});
  EXPECT_EQ(CrossSafe(0), 2u);
  chain(0).CutTo(2);
  chain(0).Build({}, "reorged");
  ASSERT_TRUE(sup_->UpdateLocalUnsafe(kA, chain(0).head()).ok());
  EXPECT_EQ(HeadsOf(0).unsafe, chain(0).head().ID());
  chain(0).CutTo(1);
  chain(0).Build({}, "too deep");
  EXPECT_EQ(sup_->UpdateLocalUnsafe(kA, chain(0).head()).code(), Code::kConflictingData);
  EXPECT_EQ(HeadsOf(0).unsafe.number, 3u);
}

TEST_F(SupervisorTest, AStaleUnsafeHeadBelowCrossSafeIsRefused) {
  Start({kA, kB});
  chain(0).Build();
  chain(0).Build();
  SyncAll();
  l1_.Mine();
  ReportAll(1, {2, 0});
  ASSERT_EQ(CrossSafe(0), 2u);
  // A late sync-status call names an older block of the same chain: it must not cut the index
  // below cross-safe (found by the daemon's bad-input test).
  EXPECT_EQ(sup_->UpdateLocalUnsafe(kA, chain(0).block(1)).code(), Code::kConflictingData);
  EXPECT_EQ(HeadsOf(0).unsafe.number, 2u);
  EXPECT_EQ(CrossSafe(0), 2u);
  ASSERT_TRUE(sup_->UpdateLocalUnsafe(kA, chain(0).block(2)).ok());
}

TEST_F(SupervisorTest, IndexingWorkPerCallIsBoundedAndTheNextCallsGoOn) {
  Start({kA, kB});
  constexpr uint64_t kStep = supervisor::Supervisor::kMaxBlocksIndexedPerCall;
  for (uint64_t i = 0; i < 2 * kStep + 100; ++i) chain(0).Build({FakeChain::Init("m" + std::to_string(i))});
  const BlockRef head = chain(0).head();
  ASSERT_TRUE(sup_->UpdateLocalUnsafe(kA, head).ok());
  EXPECT_EQ(HeadsOf(0).unsafe, chain(0).block(kStep).ID());
  // A message in a block not reached yet is unknown, not conflicting.
  const uint64_t n = 2 * kStep + 50;
  EXPECT_EQ(*sup_->CheckMessage(chain(0).IdOf(n, 0), chain(0).PayloadOf(n, 0)), SafetyLevel::kUnknown);
  ASSERT_TRUE(sup_->GetCrossUnsafe(kA, head.number).ok());
  EXPECT_EQ(HeadsOf(0).unsafe, chain(0).block(2 * kStep).ID());
  ASSERT_TRUE(sup_->UpdateLocalUnsafe(kA, head).ok());
  EXPECT_EQ(HeadsOf(0).unsafe, head.ID());
  EXPECT_EQ(*sup_->CheckMessage(chain(0).IdOf(n, 0), chain(0).PayloadOf(n, 0)),
            SafetyLevel::kCrossUnsafe);
}

TEST_F(SupervisorTest, UnsafeReorgDropsDependentCrossUnsafe) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("m")});
  chain(1).Build();
  chain(1).Build({chain(0).Exec(1, 0)});
  SyncAll();
  EXPECT_EQ(CrossUnsafe(1), 2u);
  chain(0).CutTo(0);
  chain(0).Build({}, "without m");
  ASSERT_TRUE(sup_->UpdateLocalUnsafe(kA, chain(0).head()).ok());
  EXPECT_EQ(CrossUnsafe(0), 1u);
  EXPECT_EQ(CrossUnsafe(1), 1u);
}

TEST_F(SupervisorTest, CheckMessageLevels) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("m1")});
  chain(0).Build({FakeChain::Init("m2")});
  chain(0).Build({FakeChain::Init("m3"), chain(1).ExecFuture(3, 0, "never")});
  SyncAll();
  l1_.Mine();
  ReportAll(1, {1, 0});
  l1_.Mine();
  ReportAll(2, {2, 0});
  ASSERT_TRUE(sup_->TryFinalize(kA, l1_.at(1).ID()).ok());
  auto level = [&](uint64_t n) { return sup_->CheckMessage(chain(0).IdOf(n, 0), chain(0).PayloadOf(n, 0)).value(); };
  EXPECT_EQ(level(1), SafetyLevel::kFinalized);
  EXPECT_EQ(level(2), SafetyLevel::kSafe);
  EXPECT_EQ(level(3), SafetyLevel::kUnsafe);
  Identifier beyond{DefaultOrigin(), 4, 0, 1008, kA};
  EXPECT_EQ(sup_->CheckMessage(beyond, HashOf("x")).value(), SafetyLevel::kUnknown);
  Identifier no_log = chain(0).IdOf(1, 0);
  no_log.log_index = 5;
  EXPECT_EQ(sup_->CheckMessage(no_log, chain(0).PayloadOf(1, 0)).value(), SafetyLevel::kConflicts);
  EXPECT_EQ(sup_->TryFinalize(kA, l1_.at(1).ID()).value(), chain(0).block(1).ID());
  EXPECT_EQ(sup_->TryFinalize(kA, BlockID{HashOf("x"), 1}).status().code(), Code::kConflictingData);
  l1_.Mine();
  EXPECT_EQ(sup_->TryFinalize(kA, l1_.at(3).ID()).status().code(), Code::kFutureData);
}

TEST_F(SupervisorTest, ActivationBlockLogsAreNeverValidMessages) {
  Start({kA, kB}, 604800, /*interop_time=*/1002);  // activation block 1
  chain(0).Build({FakeChain::Init("early")});
  chain(0).Build({FakeChain::Init("late")});
  chain(1).Build();
  chain(1).Build();
  chain(1).Build({chain(0).Exec(2, 0)});
  SyncAll();
  EXPECT_EQ(sup_->CheckMessage(chain(0).IdOf(1, 0), chain(0).PayloadOf(1, 0)).value(), SafetyLevel::kConflicts);
  EXPECT_EQ(CrossUnsafe(1), 3u);
  chain(1).Build({chain(0).Exec(1, 0)});
  SyncAll();
  EXPECT_EQ(CrossUnsafe(1), 3u);
}

TEST_F(SupervisorTest, CheckAccessList) {
  ChainID wide = ChainID::Parse("0x10000000000000001").value();
  Start({kA, wide});
  chain(1).Build({FakeChain::Init("m")});
  SyncAll();
  l1_.Mine();
  ReportAll(1, {0, 1});
  Identifier id = chain(1).IdOf(1, 0);
  Hash log_hash = LogHash(id.origin, chain(1).PayloadOf(1, 0));
  AccessEntry e{wide, 1, id.timestamp, 0, AccessChecksum(log_hash, wide, 1, id.timestamp, 0)};
  std::vector<Hash> entries = EncodeAccessEntry(e);
  ASSERT_EQ(entries.size(), 3u);  // lookup, extension, checksum
  EXPECT_EQ(ParseAccessList(entries).value().at(0), e);
  supervisor::ExecutingDescriptor desc{id.timestamp + 2, 10, std::nullopt};
  EXPECT_TRUE(sup_->CheckAccessList(entries, SafetyLevel::kSafe, desc).ok());
  EXPECT_EQ(sup_->CheckAccessList(entries, SafetyLevel::kFinalized, desc).code(), Code::kFutureData);
  supervisor::ExecutingDescriptor same{id.timestamp, 0, std::nullopt};
  EXPECT_EQ(sup_->CheckAccessList(entries, SafetyLevel::kUnsafe, same).code(), Code::kConflictingData);
  supervisor::ExecutingDescriptor late{id.timestamp + 604800, 1, std::nullopt};
  EXPECT_EQ(sup_->CheckAccessList(entries, SafetyLevel::kUnsafe, late).code(), Code::kConflictingData);
  std::vector<Hash> bad = entries;
  bad[2].bytes[5] ^= 1;
  EXPECT_EQ(sup_->CheckAccessList(bad, SafetyLevel::kUnsafe, desc).code(), Code::kConflictingData);
  std::vector<Hash> reserved = entries;
  reserved[0].bytes[2] = 1;
  EXPECT_EQ(sup_->CheckAccessList(reserved, SafetyLevel::kUnsafe, desc).code(), Code::kInvalidArgument);
  std::vector<Hash> truncated(entries.begin(), entries.begin() + 2);
  EXPECT_EQ(sup_->CheckAccessList(truncated, SafetyLevel::kUnsafe, desc).code(), Code::kInvalidArgument);
}

// op-supervisor's five minSafety names; local-safe holds for a block at or below the local-safe
// head even while it is not cross-unsafe (its dependency is not known yet).
TEST_F(SupervisorTest, CheckAccessListAtEachSafetyLevel) {
  Start({kA, kB});
  chain(1).Build({FakeChain::Init("m1")});
  chain(1).Build({chain(0).ExecFuture(1, 0, "not yet"), FakeChain::Init("m2")});
  ASSERT_TRUE(sup_->UpdateLocalUnsafe(id(1), chain(1).head()).ok());
  l1_.Mine();
  ReportAll(1, {0, 2});
  ASSERT_EQ(HeadsOf(1).local_safe.number, 2u);
  ASSERT_EQ(CrossUnsafe(1), 1u);
  ASSERT_EQ(CrossSafe(1), 1u);
  auto entries_of = [&](uint64_t n, uint32_t index) {
    Identifier msg = chain(1).IdOf(n, index);
    Hash log_hash = LogHash(msg.origin, chain(1).PayloadOf(n, index));
    return EncodeAccessEntry(AccessEntry{id(1), n, msg.timestamp, index,
                                         AccessChecksum(log_hash, id(1), n, msg.timestamp, index)});
  };
  const supervisor::ExecutingDescriptor desc{chain(1).block(2).timestamp + 2, 0, id(0)};
  using supervisor::AccessSafety;
  const std::vector<Hash> local_only = entries_of(2, 1), safe = entries_of(1, 0);
  EXPECT_TRUE(sup_->CheckAccessList(local_only, AccessSafety::kUnsafe, desc).ok());
  EXPECT_TRUE(sup_->CheckAccessList(local_only, AccessSafety::kLocalSafe, desc).ok());
  EXPECT_EQ(sup_->CheckAccessList(local_only, AccessSafety::kCrossUnsafe, desc).code(), Code::kFutureData);
  EXPECT_EQ(sup_->CheckAccessList(local_only, AccessSafety::kSafe, desc).code(), Code::kFutureData);
  for (auto level : {AccessSafety::kUnsafe, AccessSafety::kLocalSafe, AccessSafety::kCrossUnsafe, AccessSafety::kSafe})
    EXPECT_TRUE(sup_->CheckAccessList(safe, level, desc).ok()) << supervisor::AccessSafetyName(level);
  EXPECT_EQ(sup_->CheckAccessList(safe, AccessSafety::kFinalized, desc).code(), Code::kFutureData);
  EXPECT_EQ(sup_->CheckAccessList(safe, SafetyLevel::kUnknown, desc).code(), Code::kInvalidArgument);
  // Past the local-safe head: not even local-safe.
  chain(1).Build({FakeChain::Init("m3")});
  ASSERT_TRUE(sup_->UpdateLocalUnsafe(id(1), chain(1).head()).ok());
  const supervisor::ExecutingDescriptor later{chain(1).block(3).timestamp + 2, 0, std::nullopt};
  EXPECT_TRUE(sup_->CheckAccessList(entries_of(3, 0), AccessSafety::kUnsafe, later).ok());
  EXPECT_EQ(sup_->CheckAccessList(entries_of(3, 0), AccessSafety::kLocalSafe, later).code(), Code::kFutureData);
}

TEST_F(SupervisorTest, CrossDerivedToSourceAndSyncStatus) {
  Start({kA, kB});
  chain(0).Build();
  chain(1).Build();
  SyncAll();
  l1_.Mine();
  ReportAll(1, {0, 0});
  l1_.Mine();
  ReportAll(2, {1, 1});
  EXPECT_EQ(sup_->CrossDerivedToSource(kA, chain(0).block(1).ID()).value(), l1_.at(2));
  EXPECT_EQ(sup_->CrossDerivedToSource(kA, chain(0).block(0).ID()).value(), l1_.at(0));
  auto st = sup_->GetSyncStatus();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->min_synced_l1, l1_.at(2));
  EXPECT_EQ(st->chains.at(kB).cross_safe.number, 1u);
  EXPECT_EQ(st->safe_timestamp, 1002u);
}

// The daemon holds the core's lock around a read, so a head read that asked the L1 node for a
// block would make every other caller wait for that round trip (issue "Scale and load").
TEST_F(SupervisorTest, LocalUnsafeAndFinalizedReadNoUpstream) {
  Start({kA, kB});
  chain(0).Build({FakeChain::Init("m")});
  chain(0).Build();
  chain(1).Build();
  SyncAll();
  l1_.Mine();
  ReportAll(1, {1, 1});
  ASSERT_TRUE(sup_->TryFinalize(kA, l1_.at(1).ID()).ok());
  for (size_t c = 0; c < 2; ++c) {
    const supervisor::Heads h = HeadsOf(c);
    const size_t calls = l1_.block_by_number_calls;
    auto unsafe = sup_->LocalUnsafe(id(c));
    auto finalized = sup_->Finalized(id(c));
    EXPECT_EQ(l1_.block_by_number_calls, calls);
    ASSERT_TRUE(unsafe.ok() && finalized.ok());
    EXPECT_EQ(*unsafe, h.unsafe);
    EXPECT_EQ(unsafe->number, 2u - c);
    EXPECT_EQ(*finalized, h.finalized);
    EXPECT_EQ(finalized->number, 1u);
  }
}

}  // namespace
}  // namespace supersafe::testing

namespace supersafe::testing {
namespace {

// Managed mode's reset search reads which blocks are local-safe, after dropping groups of L1
// blocks that are gone (SyncL1).
TEST_F(SupervisorTest, LocalSafeBlockAtFollowsTheNewestGroupAndSyncL1DropsReorgedGroups) {
  Start({kA, kB});
  chain(0).Build();
  chain(0).Build();
  chain(1).Build();
  SyncAll();
  l1_.Mine();
  ReportAll(1, {1, 1});
  l1_.Mine();
  auto answers = ReportAll(2, {2, 1});
  ASSERT_TRUE(answers.back().ok()) << answers.back().status().ToString();
  EXPECT_EQ(*sup_->LocalSafeBlockAt(id(0), 2), chain(0).block(2).ID());
  EXPECT_EQ(*sup_->LocalSafeBlockAt(id(0), 0), chain(0).block(0).ID());
  EXPECT_EQ(sup_->LocalSafeBlockAt(id(1), 2).status().code(), Code::kFutureData);
  EXPECT_EQ(sup_->LocalSafeBlockAt(ChainID(uint64_t{7}), 0).status().code(), Code::kUnknownChain);
  // L1 block 2 is reorged out: until something checks L1 the group stays; SyncL1 drops it.
  l1_.Reorg(1, "other");
  EXPECT_EQ(*sup_->LocalSafeBlockAt(id(0), 2), chain(0).block(2).ID());
  ASSERT_TRUE(sup_->SyncL1().ok());
  EXPECT_EQ(sup_->LocalSafeBlockAt(id(0), 2).status().code(), Code::kFutureData);
  EXPECT_EQ(*sup_->LocalSafeBlockAt(id(0), 1), chain(0).block(1).ID());
}

}  // namespace
}  // namespace supersafe::testing
