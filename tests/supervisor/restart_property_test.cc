// Property: a supervisor restart at any point gives back the same heads (cross-unsafe recomputed
// from disk, everything else read back), whatever sequence of builds, messages, derivation,
// invalidations, replacements and L1 reorgs came before.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "harness.h"

namespace supersafe::testing {
namespace {

enum class Op { kBuildPlain, kBuildInit, kBuildExec, kBuildBogusExec, kSync, kDerive, kReorgL1, kRestart };

class RestartProperty : public SupervisorHarness {
 public:
  void TestBody() override {}

  // One node pass: every chain reports the newest L1 block with its unsafe head as local-safe,
  // replacing any block the supervisor calls invalid.
  void Derive() {
    l1_.Mine();
    uint64_t tip = sup_->GetSyncStatus()->min_synced_l1.number;
    for (uint64_t n = tip + 1; n <= l1_.head(); ++n) DeriveOne(n);
  }
  void DeriveOne(uint64_t n) {
    for (int round = 0; round < 8; ++round) {
      bool again = false;
      for (size_t c = 0; c < chains_.size(); ++c) {
        auto a = Report(c, chain(c).head().number, n);
        if (a.ok() && a->status == CrossSafeStatus::kInvalid) {
          chain(c).ReplaceWithDepositOnly(a->local_safe.number);
          ++replaced_;
          RC_ASSERT(sup_->UpdateLocalUnsafe(id(c), chain(c).head()).ok());
          again = true;
        }
      }
      if (!again) break;
    }
  }

  std::vector<supervisor::Heads> AllHeads() {
    std::vector<supervisor::Heads> out;
    for (size_t c = 0; c < chains_.size(); ++c) out.push_back(HeadsOf(c));
    return out;
  }

  void Run(const std::vector<std::pair<Op, size_t>>& ops) {
    Start({ChainID(900), ChainID::Parse("0x10000000000000001").value(), ChainID(902)});
    std::vector<std::pair<size_t, uint64_t>> inits;  // (chain, block) of blocks holding one init log
    for (const auto& [op, arg] : ops) {
      size_t c = arg % chains_.size();
      switch (op) {
        case Op::kBuildPlain: chain(c).Build(); break;
        case Op::kBuildInit:
          chain(c).Build({FakeChain::Init("m" + std::to_string(inits.size()))});
          inits.push_back({c, chain(c).head().number});
          break;
        case Op::kBuildExec: {
          if (inits.empty()) break;
          auto [src, block] = inits[arg % inits.size()];
          if (block > chain(src).head().number || chain(src).log_count(block) == 0 ||
              chain(src).block(block).timestamp > chain(c).config().TimeOf(chain(c).head().number + 1)) break;
          chain(c).Build({chain(src).Exec(block, 0)});
          break;
        }
        case Op::kBuildBogusExec:
          chain(c).Build({chain(c).ExecFuture(chain(c).head().number + 1, 5, "bogus")});
          break;
        case Op::kSync: SyncAll(); break;
        case Op::kDerive:
          SyncAll();
          Derive();
          break;
        case Op::kReorgL1:
          if (l1_.head() >= 2) l1_.Reorg(1, "fork" + std::to_string(arg));
          break;
        case Op::kRestart: {
          auto before = AllHeads();
          Reopen();
          auto after = AllHeads();
          for (size_t i = 0; i < before.size(); ++i) {
            RC_ASSERT(after[i].unsafe == before[i].unsafe);
            RC_ASSERT(after[i].cross_unsafe == before[i].cross_unsafe);
            RC_ASSERT(after[i].local_safe == before[i].local_safe);
            RC_ASSERT(after[i].cross_safe == before[i].cross_safe);
          }
          break;
        }
      }
    }
    uint64_t promoted = 0;
    for (size_t c = 0; c < chains_.size(); ++c) promoted += CrossSafe(c);
    RC_CLASSIFY(promoted > 0, "some block became cross-safe");
    RC_CLASSIFY(replaced_ > 0, "some block was replaced");
    TearDown();
  }
  int replaced_ = 0;
};

RC_GTEST_PROP(SupervisorRestart, AnyPointGivesTheSameHeads, ()) {
  auto ops = *rc::gen::container<std::vector<std::pair<Op, size_t>>>(
      rc::gen::pair(rc::gen::element(Op::kBuildPlain, Op::kBuildInit, Op::kBuildExec, Op::kBuildBogusExec, Op::kSync,
                                     Op::kDerive, Op::kReorgL1, Op::kRestart),
                    rc::gen::inRange<size_t>(0, 1000)));
  RestartProperty p;
  p.Run(ops);
}

}  // namespace
}  // namespace supersafe::testing
