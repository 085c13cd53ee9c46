// Managed mode end to end: the whole daemon drives two fake op-nodes (tests/daemon/
// fake_op_node.h), chain 900 over WebSocket (events by subscription) and chain 901 over HTTP
// (events by polling), both with a JWT, through the flow of docs/managed-mode.md: startup,
// unsafe blocks, derivation, an invalid message and its replacement, an L1 reorg and the
// resets it causes, finality, and a node that goes away and comes back. Every call the daemon
// makes is decoded as op-node's Go server decodes it (the fake answers -32602 otherwise).
#include <gtest/gtest.h>

#include "core/fp.h"
#include "core/messages.h"
#include "tests/daemon/daemon_fixture.h"
#include "tests/daemon/fake_op_node.h"

namespace supersafe::testing {
namespace {

using rpc::Json;

constexpr auto kLimit = std::chrono::seconds(60);  // a loaded two-core machine

Json Id(const BlockID& b) { return Json{{"hash", b.hash.Hex()}, {"number", b.number}}; }

class ManagedModeTest : public DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    Write("node-jwt.hex", "0x" + std::string(64, '5'));
    const auto secret = *daemon::ParseJwtSecret(std::string(64, '5'));
    a_ = std::make_unique<FakeOpNode>(ConfigOf(900), &l1_, l1_node_.get(), secret);
    b_ = std::make_unique<FakeOpNode>(ConfigOf(901), &l1_, l1_node_.get(), secret);
    config_.l2_rpc.clear();
    config_.l2_consensus_nodes = {a_->url("ws"), b_->url("http")};
    config_.l2_consensus_jwt_secrets = {dir_ / "node-jwt.hex"};
    config_.poll_interval = std::chrono::milliseconds(50);
  }
  void TearDown() override {
    daemon_.reset();
    a_.reset();
    b_.reset();
    DaemonFixture::TearDown();
  }
  BlockRef L1(uint64_t n) {
    BlockRef b;
    l1_node_->Locked([&] { b = l1_.at(n); });
    return b;
  }
  void MineL1() { l1_node_->Locked([&] { l1_.Mine(); }); }
  std::vector<daemon::ManagedNodeStatus> Status() { return daemon_->ManagedStatus(); }
  Json Sync(const char* chain, const char* head) { return Rpc("supervisor_syncStatus", Json::array())["result"]["chains"][chain][head]; }

  std::string Dump() {
    std::string out;
    for (FakeOpNode* n : {a_.get(), b_.get()}) {
      auto h = n->heads();
      out += "node: unsafe " + h.unsafe.ID().ToString() + " safe " + h.local_safe.ToString() + " xsafe " +
             h.cross_safe.ToString() + " l1 " + h.l1.ID().ToString() + "\n";
      for (const char* m : {"interop_provideL1", "interop_reset", "interop_updateCrossSafe"})
        for (const auto& c : n->calls(m)) out += std::string("  ") + m + " " + c.params.dump() + "\n";
    }
    std::lock_guard<std::mutex> g(log_mu_);
    for (const auto& l : log_) out += l + "\n";
    return out;
  }
  // Whether the supervisor called interop_updateCrossSafe(derived, source) on `node`.
  static bool SentCrossSafe(FakeOpNode& node, const BlockID& derived, const BlockID& source) {
    for (const auto& c : node.calls("interop_updateCrossSafe"))
      if (c.params == Json::array({Id(derived), Id(source)})) return true;
    return false;
  }

  std::unique_ptr<FakeOpNode> a_, b_;
};

TEST_F(ManagedModeTest, TheWholeFlow) {
  StartDaemon();
  // --- startup: each node attached by its chain ID, A subscribed, B polled ---
  ASSERT_TRUE(WaitUntil([&] {
    auto s = Status();
    return s.size() == 2 && s[0].attached && s[1].attached;
  }, kLimit));
  EXPECT_EQ(Status()[0].chain, ChainID(uint64_t{900}));
  EXPECT_EQ(Status()[1].chain, ChainID(uint64_t{901}));
  ASSERT_FALSE(a_->calls("interop_subscribe").empty());
  EXPECT_EQ(a_->calls("interop_subscribe")[0].params, Json::array({"events"}));
  EXPECT_TRUE(b_->calls("interop_subscribe").empty()) << "over HTTP the supervisor never subscribes";
  EXPECT_TRUE(WaitUntil([&] { return !b_->calls("interop_pullEvent").empty(); }, kLimit));
  EXPECT_EQ(a_->server().unauthorized + b_->server().unauthorized, 0);

  // --- unsafe blocks: A1 initiates M; B1 executes M with a wrong payload hash ---
  const BlockRef a1 = a_->BuildUnsafe({FakeChain::Init("M")}, L1(0).ID());
  ASSERT_TRUE(WaitUntil([&] { return a_->heads().cross_unsafe == a1.ID(); }, kLimit));
  bool fetched = false;
  for (const auto& c : a_->calls("interop_fetchReceipts")) fetched |= c.params == Json::array({a1.hash.Hex()});
  EXPECT_TRUE(fetched) << "the supervisor indexes A1 through the node";
  Identifier m;
  {
    auto lock = a_->lock();
    m = a_->chain().IdOf(1, 0);
  }
  const BlockRef b1 = b_->BuildUnsafe({MakeExecutingMessageLog(ExecutingMessage{m, HashOf("not M's payload")})}, L1(0).ID());
  ASSERT_TRUE(WaitUntil([&] { return Sync("901", "localUnsafe")["number"] == 1; }, kLimit));
  EXPECT_EQ(Sync("901", "crossUnsafe")["number"], 0);
  EXPECT_EQ(b_->heads().cross_unsafe, b_->block(0).ID());

  // --- derivation from L1 block 1: B1 is invalid, replaced by a deposit-only B1' ---
  a_->Batch(1, 1);
  b_->Batch(1, 1);
  MineL1();
  ASSERT_TRUE(WaitUntil([&] { return !b_->calls("interop_invalidateBlock").empty(); }, kLimit));
  EXPECT_EQ(b_->calls("interop_invalidateBlock")[0].params,
            Json::array({{{"Hash", b1.hash.Hex()}, {"Number", 1}, {"Timestamp", 1002}}}));
  ASSERT_TRUE(WaitUntil([&] { return b_->block(1).hash != b1.hash; }, kLimit));
  const BlockRef b1r = b_->block(1);
  // The supervisor takes the replacement and tells B (the node moved its own heads already).
  ASSERT_TRUE(WaitUntil([&] { return SentCrossSafe(*b_, b1r.ID(), L1(1).ID()); }, kLimit));
  EXPECT_EQ(Sync("901", "safe")["hash"], b1r.hash.Hex());
  ASSERT_TRUE(WaitUntil([&] { return a_->heads().cross_safe == a1.ID(); }, kLimit));
  EXPECT_TRUE(SentCrossSafe(*a_, a1.ID(), L1(1).ID()));
  EXPECT_TRUE(a_->calls("interop_invalidateBlock").empty());
  bool provided_1 = false;
  for (const auto& c : a_->calls("interop_provideL1")) provided_1 |= c.params == Json::array({rpc::Encode(L1(1))});
  EXPECT_TRUE(provided_1) << "provideL1 carries the L1 BlockRef with JSON numbers";
  // B's output at time 1002 is B1''s; the pending output is the invalidated B1's.
  Json super = Rpc("supervisor_superRootAtTimestamp", {HexU64(1002)});
  ASSERT_TRUE(super.contains("result")) << super.dump();
  EXPECT_EQ(super["result"]["chains"][1]["pending"], ToHex(b_->OutputPreimageOf(b1.ID())));
  EXPECT_EQ(super["result"]["chains"][1]["canonical"], OutputRoot(b_->OutputPreimageOf(b1r.ID()))->Hex());

  // --- L1 block 2: A2 and B2 become cross-safe; A3 (origin L1 #2) stays unsafe ---
  const BlockRef a2 = a_->BuildUnsafe({}, L1(1).ID());
  const BlockRef b2 = b_->BuildUnsafe({}, L1(1).ID());
  a_->Batch(2, 2);
  b_->Batch(2, 2);
  MineL1();
  ASSERT_TRUE(WaitUntil([&] { return a_->heads().cross_safe == a2.ID() && b_->heads().cross_safe == b2.ID(); }, kLimit));
  const BlockRef a3 = a_->BuildUnsafe({}, L1(2).ID());
  ASSERT_TRUE(WaitUntil([&] { return a_->heads().cross_unsafe == a3.ID(); }, kLimit));

  // --- L1 reorg: #2 becomes #2'; each node is given #3', asks for a reset, and is reset ---
  l1_node_->Locked([&] {
    l1_.Reorg(1, "fork");
    l1_.Mine("fork");
  });
  ASSERT_TRUE(WaitUntil([&] { return !a_->calls("interop_reset").empty() && !b_->calls("interop_reset").empty(); }, kLimit));
  // A1 matches; A2's L1 origin (#1) is canonical, A3's (#2) is not; nothing is finalized yet.
  EXPECT_EQ(a_->calls("interop_reset")[0].params,
            Json::array({Id(a2.ID()), Id(a1.ID()), Id(a1.ID()), Id(a1.ID()), Id(a_->block(0).ID())}));
  EXPECT_EQ(b_->calls("interop_reset")[0].params,
            Json::array({Id(b2.ID()), Id(b1r.ID()), Id(b1r.ID()), Id(b1r.ID()), Id(b_->block(0).ID())}));
  // Both derive again from #2': A2 and B2 were batched there too.
  ASSERT_TRUE(WaitUntil([&] { return SentCrossSafe(*a_, a2.ID(), L1(2).ID()) && SentCrossSafe(*b_, b2.ID(), L1(2).ID()); },
                        kLimit))
      << Dump();
  EXPECT_EQ(Rpc("supervisor_localSafe", {"900"})["result"]["source"], rpc::Encode(L1(2).ID()));

  // --- finality: L1 #2' finalized -> each node's finalized head ---
  l1_node_->set_finalized(2);
  ASSERT_TRUE(WaitUntil([&] { return a_->heads().finalized == a2.ID() && b_->heads().finalized == b2.ID(); }, kLimit));

  // --- A goes away, builds a block nobody hears of, comes back: the supervisor re-attaches,
  // resubscribes, and catches up from the next event ---
  a_->SetDown(true);
  ASSERT_TRUE(WaitUntil([&] { return !Status()[0].attached; }, kLimit));
  // Another block than the A3 the reset dropped (the supervisor still has that one indexed).
  const BlockRef a3n = a_->BuildUnsafe({FakeChain::Init("while away")}, L1(2).ID());
  a_->SetDown(false);
  ASSERT_TRUE(WaitUntil([&] { return Status()[0].attached && Status()[0].attaches >= 2; }, kLimit));
  const BlockRef a4 = a_->BuildUnsafe({}, L1(2).ID());
  ASSERT_TRUE(WaitUntil([&] { return a_->heads().cross_unsafe == a4.ID(); }, kLimit));
  EXPECT_EQ(Sync("900", "localUnsafe")["hash"], a4.hash.Hex());
  ASSERT_NE(a3n.hash, a3.hash);
  // The message of the block nobody heard of is indexed: checkMessage finds it.
  Identifier away;
  {
    auto lock = a_->lock();
    away = a_->chain().IdOf(3, 0);
  }
  EXPECT_EQ(Rpc("supervisor_checkMessage", {rpc::Encode(away), PayloadHashOf(FakeChain::Init("while away")).Hex()})["result"],
            "cross-unsafe");
  EXPECT_GE(a_->calls("interop_subscribe").size(), 2u);
}

// Wrong secrets, a chain outside the dependency set, and the flags' own checks.
TEST_F(ManagedModeTest, RefusedNodesAndFlags) {
  Write("other-jwt.hex", std::string(64, '6'));
  config_.l2_consensus_jwt_secrets = {dir_ / "other-jwt.hex"};
  StartDaemon();
  ASSERT_TRUE(WaitUntil([&] { return a_->server().unauthorized > 0 && b_->server().unauthorized > 0; }, kLimit));
  for (const auto& s : Status()) EXPECT_FALSE(s.attached);
  daemon_.reset();

  config_.l2_consensus_jwt_secrets = {dir_ / "node-jwt.hex", dir_ / "node-jwt.hex", dir_ / "node-jwt.hex"};
  EXPECT_NE(StartError().message().find("3 secrets for 2 nodes"), std::string::npos) << StartError().ToString();
  config_.l2_consensus_jwt_secrets.clear();
  EXPECT_NE(StartError().message().find("--l2-consensus.jwt-secret"), std::string::npos);
  config_.l2_consensus_jwt_secrets = {dir_ / "node-jwt.hex"};
  config_.l2_consensus_nodes = {"tcp://x"};
  EXPECT_NE(StartError().message().find("--l2-consensus.nodes URL"), std::string::npos) << StartError().ToString();
}

}  // namespace
}  // namespace supersafe::testing
