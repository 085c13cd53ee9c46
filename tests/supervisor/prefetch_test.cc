// The core over prefetched sources (supervisor/prefetch.h): every call driven through a CoreGate
// with nothing planned still reaches the state the sources describe, fetching only between runs,
// never while the core runs.
#include <gtest/gtest.h>

#include "supervisor/prefetch.h"
#include "tests/supervisor/harness.h"

namespace supersafe::testing {
namespace {

// The real sources, counting calls and those made while a core call runs.
struct Guard {
  bool in_core = false;
  int calls = 0, calls_in_core = 0;
  void Note() {
    ++calls;
    if (in_core) ++calls_in_core;
  }
};
struct GuardedL1 : supervisor::L1Source {
  L1Source* real = nullptr;
  Guard* guard = nullptr;
  Result<BlockRef> BlockByNumber(uint64_t n) override { return guard->Note(), real->BlockByNumber(n); }
};
struct GuardedChain : supervisor::ChainSource {
  ChainSource* real = nullptr;
  Guard* guard = nullptr;
  Result<BlockRef> BlockByNumber(uint64_t n) override { return guard->Note(), real->BlockByNumber(n); }
  Result<std::vector<Log>> Logs(const BlockID& b) override { return guard->Note(), real->Logs(b); }
  Result<Bytes> OutputPreimage(const BlockID& b) override { return guard->Note(), real->OutputPreimage(b); }
};

class PrefetchTest : public SupervisorHarness {
 protected:
  void OpenPrefetched() {
    ASSERT_NO_FATAL_FAILURE(ReopenPrefetched());
    upstream_l1_.real = &l1_;
    upstream_l1_.guard = &guard_;
    supervisor::Sources upstream{&upstream_l1_, {}};
    for (auto& c : chains_) {
      upstream_chains_.push_back(std::make_unique<GuardedChain>());
      upstream_chains_.back()->real = c.get();
      upstream_chains_.back()->guard = &guard_;
      upstream.chains[c->config().id] = upstream_chains_.back().get();
    }
    gate_ = std::make_unique<supervisor::CoreGate>(*sup_, *prefetched_, upstream);
  }
  void TearDown() override {
    gate_.reset();
    SupervisorHarness::TearDown();
  }
  // `f` through the gate with nothing planned: only the misses drive the fetching.
  template <typename F>
  auto Run(F f) {
    std::optional<decltype(f(*sup_))> out;
    gate_->Run({}, [&](Supervisor& core) {
      guard_.in_core = true;
      out.emplace(f(core));
      guard_.in_core = false;
    }, true);
    return std::move(*out);
  }

  Guard guard_;
  GuardedL1 upstream_l1_;
  std::vector<std::unique_ptr<GuardedChain>> upstream_chains_;
  std::unique_ptr<supervisor::CoreGate> gate_;
};

const ChainID kA(uint64_t{900}), kB(uint64_t{901});

TEST_F(PrefetchTest, IndexingReorgsAndInvalidBlocksFetchOnlyBetweenRuns) {
  Start({kA, kB});
  OpenPrefetched();
  // 40 blocks with logs, indexed in one call from an empty plan.
  for (int i = 0; i < 40; ++i) chain(0).Build({FakeChain::Init("m" + std::to_string(i))});
  ASSERT_TRUE(Run([&](Supervisor& s) { return s.UpdateLocalUnsafe(kA, chain(0).head()); }).ok());
  EXPECT_EQ(gate_->snapshot()->heads.at(kA).unsafe, chain(0).head().ID());

  // A reorg 5 deep: the walk back and the new blocks are fetched as the core asks for them.
  chain(0).CutTo(35);
  for (int i = 0; i < 5; ++i) chain(0).Build({FakeChain::Init("fork" + std::to_string(i))}, "fork");
  ASSERT_TRUE(Run([&](Supervisor& s) { return s.UpdateLocalUnsafe(kA, chain(0).head()); }).ok());
  EXPECT_EQ(gate_->snapshot()->heads.at(kA).unsafe, chain(0).head().ID());
  EXPECT_EQ(*sup_->LocalUnsafe(kA), chain(0).head().ID());

  // Chain B's block 1 executes a message that does not exist: invalid, and its pending output
  // (fetched only when the core finds the block invalid) is kept.
  chain(1).Build({MakeExecutingMessageLog({Identifier{DefaultOrigin(), 5, 0, 1010, kA}, HashOf("nothing")})});
  const BlockID invalid = chain(1).block(1).ID();
  ASSERT_TRUE(Run([&](Supervisor& s) { return s.UpdateLocalUnsafe(kB, chain(1).head()); }).ok());
  l1_.Mine();
  auto a = Run([&](Supervisor& s) { return s.TryCrossSafe(kA, chain(0).block(40).ID(), l1_.at(1).ID()); });
  EXPECT_EQ(a.status().code(), Code::kFutureData) << a.status().ToString();
  auto b = Run([&](Supervisor& s) { return s.TryCrossSafe(kB, invalid, l1_.at(1).ID()); });
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->status, supervisor::CrossSafeStatus::kInvalid);
  // The node replaces it with a deposit-only block: accepted, and the replacement carries the
  // invalid block's output as its pending output.
  const BlockID replacement = chain(1).ReplaceWithDepositOnly(1).ID();
  auto r = Run([&](Supervisor& s) { return s.TryCrossSafe(kB, replacement, l1_.at(1).ID()); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, supervisor::CrossSafeStatus::kAccept);
  auto pending = sup_->PendingOutput(kB, replacement);
  ASSERT_TRUE(pending.ok() && pending->has_value());
  EXPECT_EQ(**pending, chain(1).OutputPreimage(invalid).value());

  // The published heads carry the full L1 hash of their source, with no upstream call for it.
  auto snap = gate_->snapshot();
  EXPECT_EQ(snap->heads.at(kA).local_safe_source, l1_.at(1).ID());
  EXPECT_EQ(snap->heads.at(kA).cross_safe, chain(0).block(40).ID());
  ASSERT_TRUE(snap->sync_error.ok()) << snap->sync_error.ToString();
  EXPECT_EQ(snap->sync.min_synced_l1, l1_.at(1));

  EXPECT_GT(guard_.calls, 80);
  EXPECT_EQ(guard_.calls_in_core, 0);
}

TEST_F(PrefetchTest, ASourceWithNothingInstalledAnswersNotFetched) {
  Start({kA});
  OpenPrefetched();
  chain(0).Build();
  // Outside a gate's run nothing is installed: the core gets NOT_FETCHED and changes nothing.
  Status s = sup_->UpdateLocalUnsafe(kA, chain(0).head());
  EXPECT_EQ(s.code(), Code::kNotFetched) << s.ToString();
  EXPECT_EQ(sup_->LocalUnsafe(kA)->number, 0u);
}

}  // namespace
}  // namespace supersafe::testing
