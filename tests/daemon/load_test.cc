// The daemon under a slow upstream: reads never wait for a write's upstream round trips
// (daemon/daemon.h, "Concurrency contract").
#include <gtest/gtest.h>

#include <thread>

#include "core/access_list.h"
#include "core/messages.h"
#include "tests/daemon/daemon_fixture.h"

namespace supersafe::testing {
namespace {

using rpc::Json;
using namespace std::chrono_literals;

class SlowUpstreamTest : public DaemonFixture {
 protected:
  // The access-list entries of chain 900 block 1's log 0.
  Json AccessList() {
    const FakeChain& init = *chains_[0];
    const uint64_t ts = init.block(1).timestamp;
    AccessEntry e{init.config().id, 1, ts, 0, AccessChecksum(LogHashOf(FakeChain::Init("m")), init.config().id, 1, ts, 0)};
    Json out = Json::array();
    for (const Hash& h : EncodeAccessEntry(e)) out.push_back(h.Hex());
    return out;
  }
  // The call's answer and how long it took.
  std::pair<Json, std::chrono::milliseconds> Timed(const std::string& method, Json params) {
    const auto start = std::chrono::steady_clock::now();
    Json answer = Rpc(method, std::move(params));
    return {answer, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
  }

  // Head reads and checks while a write fetches from a node that takes 400 ms a request.
  void ReadWhileAWriteFetchesSlowly();
};

TEST_F(SlowUpstreamTest, HeadReadsAndChecksDoNotWaitForAWriteFetchingFromASlowNode) { ReadWhileAWriteFetchesSlowly(); }

// With one io thread, the write waits on a worker thread: the io thread serves the reads beside it.
TEST_F(SlowUpstreamTest, OneIoThreadServesReadsWhileAWorkerWaitsOnTheNode) {
  config_.server.io_threads = 1;
  config_.server.workers = 1;
  ReadWhileAWriteFetchesSlowly();
}

void SlowUpstreamTest::ReadWhileAWriteFetchesSlowly() {
  config_.poll_interval = 0ms;  // the test makes the writes
  config_.upstream_timeout = 5000ms;
  StartDaemon();
  Build(0, {FakeChain::Init("m")});
  ASSERT_EQ(Rpc("supervisor_updateLocalUnsafe", {"900", rpc::Encode(chains_[0]->block(1))})["result"], nullptr);
  l1_node_->Locked([&] { l1_.Mine(); });
  Rpc("supervisor_tryCrossSafe", {"900", rpc::Encode(chains_[0]->block(1).ID()), rpc::Encode(l1_.at(1).ID())});
  Rpc("supervisor_tryCrossSafe", {"901", rpc::Encode(chains_[1]->block(0).ID()), rpc::Encode(l1_.at(1).ID())});
  const Json cross_safe = Rpc("supervisor_crossSafe", {"900"});
  ASSERT_EQ(cross_safe["result"]["derived"], rpc::Encode(chains_[0]->block(1).ID())) << cross_safe.dump();

  // Chain 900's node now takes 400 ms for every block and every receipts request; a write that
  // indexes three more blocks fetches for seconds.
  Build(0);
  Build(0);
  Build(0);
  l2_nodes_[0]->delay_ms = 400;
  std::atomic<bool> written{false};
  std::thread writer([&] {
    httplib::Client c("127.0.0.1", daemon_->port());
    c.set_read_timeout(30, 0);
    auto res = c.Post("/", Json{{"jsonrpc", "2.0"}, {"id", 7}, {"method", "supervisor_updateLocalUnsafe"},
                               {"params", {"900", rpc::Encode(chains_[0]->block(4))}}}.dump(), "application/json");
    EXPECT_TRUE(res && Json::parse(res->body)["result"].is_null()) << (res ? res->body : "no answer");
    written = true;
  });
  std::this_thread::sleep_for(300ms);  // the write is fetching

  const Json desc{{"chainID", "901"}, {"timestamp", HexU64(chains_[0]->block(1).timestamp + 10)}, {"timeout", "0x0"}};
  int reads = 0;
  for (int i = 0; i < 5 && !written; ++i) {
    auto [unsafe, t1] = Timed("supervisor_localUnsafe", {"900"});
    EXPECT_LT(t1, 200ms);
    // Before the write, or after it: never anything else.
    const Json before = rpc::Encode(chains_[0]->block(1).ID()), after = rpc::Encode(chains_[0]->block(4).ID());
    EXPECT_TRUE(unsafe["result"] == before || unsafe["result"] == after) << unsafe.dump();
    auto [safe, t2] = Timed("supervisor_crossSafe", {"900"});
    EXPECT_LT(t2, 200ms);
    EXPECT_EQ(safe["result"], cross_safe["result"]);
    auto [sync, t3] = Timed("supervisor_syncStatus", Json::array());
    EXPECT_LT(t3, 200ms);
    EXPECT_EQ(sync["result"]["minSyncedL1"]["hash"], l1_.at(1).hash.Hex()) << sync.dump();
    auto [check, t4] = Timed("supervisor_checkAccessList", {AccessList(), "safe", desc});
    EXPECT_LT(t4, 200ms);
    EXPECT_TRUE(check.contains("result") && check["result"].is_null()) << check.dump();
    ++reads;
  }
  EXPECT_GE(reads, 2);  // the write was still fetching while they ran
  writer.join();
  EXPECT_EQ(Rpc("supervisor_localUnsafe", {"900"})["result"], rpc::Encode(chains_[0]->block(4).ID()));
}

}  // namespace
}  // namespace supersafe::testing
