// The upstream clients against in-process fake nodes, the configuration files, and the whole
// daemon (files, upstream polling, HTTP) end to end, including its startup errors.
#include <gtest/gtest.h>

#include <fstream>

#include "core/fp.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/upstream.h"
#include "tests/daemon/daemon_fixture.h"

namespace supersafe::testing {
namespace {

using rpc::Json;
using namespace std::chrono_literals;

std::unique_ptr<daemon::JsonRpcClient> ClientOf(const std::string& url, std::chrono::milliseconds timeout = 2000ms) {
  auto c = daemon::JsonRpcClient::Create("test", url, timeout);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

TEST(Upstream, UrlsAreCheckedUpFront) {
  for (const char* bad : {"localhost:8545", "http://", "http://:80", "http://h:0", "http://h:99999",
                          "http://h:8a", "ftp://h"}) {
    auto c = daemon::JsonRpcClient::Create("--l1-rpc", bad, 1000ms);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find(std::string("--l1-rpc URL '") + bad + "'"), std::string::npos);
  }
  EXPECT_TRUE(daemon::JsonRpcClient::Create("x", "http://127.0.0.1:8545/rpc/v1", 1000ms).ok());
  EXPECT_TRUE(daemon::JsonRpcClient::Create("x", "http://node", 1000ms).ok());
  // TLS and WebSocket upstreams (upstream_tls_ws_test.cc).
  for (const char* good : {"https://x:1", "wss://x/ws", "ws://127.0.0.1:8546"})
    EXPECT_TRUE(daemon::JsonRpcClient::Create("x", good, 1000ms).ok()) << good;
}

TEST(Upstream, L1ClientReadsBlocksAndFinality) {
  FakeL1 l1;
  l1.Mine();
  l1.Mine();
  FakeNode node(&l1);
  daemon::L1Client client(ClientOf(node.url()));
  EXPECT_EQ(*client.BlockByNumber(2), l1.at(2));
  EXPECT_EQ(client.BlockByNumber(3).status().code(), Code::kNotFound);
  EXPECT_FALSE(client.Finalized()->has_value());
  node.set_finalized(1);
  EXPECT_EQ(**client.Finalized(), l1.at(1));

  // Trouble is an I/O error naming the upstream and the method, never "not found".
  for (auto mode : {FakeNode::Mode::kHttp500, FakeNode::Mode::kRpcError, FakeNode::Mode::kGarbage}) {
    node.mode = mode;
    auto r = client.BlockByNumber(1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kIOError) << r.status().ToString();
    EXPECT_NE(r.status().message().find("eth_getBlockByNumber"), std::string::npos) << r.status().message();
  }
  node.mode = FakeNode::Mode::kNormal;
  node.Shutdown();
  auto down = client.BlockByNumber(1);
  EXPECT_EQ(down.status().code(), Code::kIOError) << down.status().ToString();
}

TEST(Upstream, MalformedBlocksAreRefusedNamingTheField) {
  Json block{{"hash", "0x12"}, {"number", "0x1"}, {"parentHash", HashOf("p").Hex()}, {"timestamp", "0x2"}};
  auto r = daemon::BlockRefFromEth(block, "l1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kIOError);
  EXPECT_NE(r.status().message().find("block.hash"), std::string::npos);
  block["hash"] = HashOf("h").Hex();
  block.erase("timestamp");
  EXPECT_NE(daemon::BlockRefFromEth(block, "l1").status().message().find("block.timestamp missing"), std::string::npos);
  block["timestamp"] = 2;
  EXPECT_NE(daemon::BlockRefFromEth(block, "l1").status().message().find("block.timestamp"), std::string::npos);
}

TEST(Upstream, L2ClientReadsHeadersLogsAndOutputs) {
  FakeChain chain(ConfigOf(900));
  chain.Build({FakeChain::Init("a"), FakeChain::Init("b")});
  chain.Build({chain.Exec(1, 1)});
  FakeNode node(&chain);
  daemon::L2Client client(ClientOf(node.url()));
  EXPECT_EQ(*client.Latest(), chain.head());
  EXPECT_EQ(*client.BlockByNumber(1), chain.block(1));
  EXPECT_EQ(*client.Logs(chain.block(1).ID()), *chain.Logs(chain.block(1).ID()));
  EXPECT_EQ(*client.Logs(chain.block(2).ID()), *chain.Logs(chain.block(2).ID()));
  EXPECT_TRUE(client.Logs(chain.block(0).ID())->empty());
  EXPECT_EQ(client.Logs(BlockID{HashOf("gone"), 1}).status().code(), Code::kNotFound);
  EXPECT_EQ(*client.OutputPreimage(chain.block(2).ID()), *chain.OutputPreimage(chain.block(2).ID()));
  EXPECT_EQ(client.OutputPreimage(BlockID{HashOf("gone"), 1}).status().code(), Code::kNotFound);
}

// A node that answers eth_getBlockByHash with another block: its state root is not this output's.
TEST(Upstream, AnOutputIsReadOnlyFromTheBlockAskedFor) {
  FakeChain chain(ConfigOf(900));
  chain.Build();
  chain.Build();
  const BlockRef other = chain.block(1);
  httplib::Server node;
  node.Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    Json r = Json::parse(req.body);
    Json result = r["method"] == "eth_getBlockByHash"
                      ? Json{{"hash", other.hash.Hex()}, {"number", HexU64(other.number)},
                             {"parentHash", other.parent_hash.Hex()}, {"timestamp", HexU64(other.timestamp)},
                             {"stateRoot", FakeStateRoot(other.hash).Hex()}}
                      : Json{{"storageHash", FakeStorageRoot(other.hash).Hex()}};
    res.set_content(Json{{"jsonrpc", "2.0"}, {"id", r["id"]}, {"result", result}}.dump(), "application/json");
  });
  node.set_keep_alive_timeout(1);
  const int port = node.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { node.listen_after_bind(); });
  ASSERT_TRUE(WaitUntil([&] { return node.is_running(); }));
  daemon::L2Client client(ClientOf("http://127.0.0.1:" + std::to_string(port)));
  auto output = client.OutputPreimage(chain.block(2).ID());
  node.stop();
  serving.join();
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.status().code(), Code::kIOError) << output.status().ToString();
  EXPECT_NE(output.status().message().find("answered block #1"), std::string::npos) << output.status().message();
}

TEST(Config, FilesAreParsedWithErrorsNamingTheField) {
  auto deps = daemon::ParseDependencySet(R"({"dependencies":{"901":{},"0x384":{"activationTime":0}},
                                            "overrideMessageExpiryWindow":3600})", "deps.json");
  ASSERT_TRUE(deps.ok()) << deps.status().ToString();
  ASSERT_EQ(deps->chains.size(), 2u);
  EXPECT_EQ(deps->chains[0].Decimal(), "900");  // ascending chain ID gives the chain index
  EXPECT_EQ(deps->expiry_window, 3600u);
  EXPECT_EQ(daemon::ParseDependencySet(R"({"dependencies":{"9":{}}})", "d")->expiry_window, 604800u);

  auto bad_deps = [](const std::string& text, const std::string& want) {
    auto r = daemon::ParseDependencySet(text, "deps.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  };
  bad_deps("{", "deps.json: not valid JSON");
  bad_deps("[]", "want a JSON object");
  bad_deps("{}", "deps.json.dependencies: missing");
  bad_deps(R"({"dependencies":{}})", "non-empty");
  bad_deps(R"({"dependencies":{"x1":{}}})", "key 'x1'");
  bad_deps(R"({"dependencies":{"900":{},"0x384":{}}})", "listed twice");
  bad_deps(R"({"dependencies":{"1":{}},"overrideMessageExpiryWindow":-5})", "overrideMessageExpiryWindow");

  const std::string h = HashOf("g").Hex();
  const std::string good = R"({"900":{"genesis":{"l1":{"hash":")" + h + R"(","number":0},"l2":{"hash":")" + h +
                           R"(","number":0},"l2_time":1000},"block_time":2,"interop_time":1004}})";
  auto rollups = daemon::ParseRollupConfigSet(good, "rollup.json");
  ASSERT_TRUE(rollups.ok()) << rollups.status().ToString();
  EXPECT_EQ(rollups->at(ChainID(uint64_t{900})).interop_time, 1004u);
  auto bad_rollup = [](std::string text, const std::string& want) {
    auto r = daemon::ParseRollupConfigSet(text, "rollup.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  };
  bad_rollup(R"({"900":{"block_time":2}})", "rollup.json.900.genesis: missing");
  std::string short_hash = good;
  short_hash.replace(short_hash.find(h), h.size(), "0x1234");
  bad_rollup(short_hash, "rollup.json.900.genesis.l1.hash");
  bad_rollup(std::string(good).replace(good.find("\"block_time\":2"), 14, "\"block_time\":0"), "block_time: must be positive");
  bad_rollup(std::string(good).replace(good.find("1000"), 4, "1e3"), "rollup.json.900.genesis.l2_time");

  auto set = daemon::BuildDependencySet(*daemon::ParseDependencySet(R"({"dependencies":{"900":{},"901":{}}})", "d"),
                                        *rollups, BlockRef{});
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("no config for chain 901"), std::string::npos);
  auto both = *rollups;
  both[ChainID(uint64_t{901})] = both.begin()->second;
  EXPECT_TRUE(daemon::BuildDependencySet(*daemon::ParseDependencySet(R"({"dependencies":{"900":{},"901":{}}})", "d"), both,
                                         BlockRef{}).ok());
  set = daemon::BuildDependencySet(*daemon::ParseDependencySet(R"({"dependencies":{"901":{}}})", "d"), both, BlockRef{});
  EXPECT_NE(set.status().message().find("chain 900 is not in the dependency set"), std::string::npos);
}

class DaemonTest : public DaemonFixture {};

TEST_F(DaemonTest, FollowsUpstreamNodesAndServesTheCore) {
  StartDaemon();
  Build(0, {FakeChain::Init("m")});
  Build(1, {chains_[0]->Exec(1, 0)});
  ASSERT_TRUE(WaitUntil([&] { return Rpc("supervisor_localUnsafe", {"901"})["result"]["number"] == 1; }));
  ASSERT_TRUE(WaitUntil([&] {
    return Rpc("supervisor_checkMessage", {rpc::Encode(chains_[0]->IdOf(1, 0)), chains_[0]->PayloadOf(1, 0).Hex()})["result"] ==
           "cross-unsafe";
  }));

  // The op-node side over HTTP: both chains report L1 block 1.
  l1_node_->Locked([&] { l1_.Mine(); });
  EXPECT_EQ(Rpc("supervisor_tryCrossSafe", {"900", rpc::Encode(chains_[0]->block(1).ID()), rpc::Encode(l1_.at(1).ID())})
                ["error"]["code"], -321401);
  Json accepted = Rpc("supervisor_tryCrossSafe", {"901", rpc::Encode(chains_[1]->block(1).ID()), rpc::Encode(l1_.at(1).ID())});
  EXPECT_EQ(accepted["result"]["status"], "accept") << accepted.dump();

  // L1 finality is forwarded by the poll loop.
  l1_node_->Locked([&] { l1_.Mine(); });
  l1_node_->set_finalized(2);
  ASSERT_TRUE(WaitUntil([&] { return Rpc("supervisor_finalizedL1", Json::array())["result"] == rpc::Encode(l1_.at(1)); }));
  EXPECT_EQ(Rpc("supervisor_finalized", {"900"})["result"], rpc::Encode(chains_[0]->block(1).ID()));

  // Outputs come from eth_getBlockByHash and eth_getProof.
  Json root = Rpc("supervisor_superRootAtTimestamp", {"0x3ea"});
  ASSERT_TRUE(root.contains("result")) << root.dump();
  Hash want = *OutputRoot(OutputV0Preimage(FakeStateRoot(chains_[0]->block(1).hash), FakeStorageRoot(chains_[0]->block(1).hash),
                                           chains_[0]->block(1).hash));
  EXPECT_EQ(root["result"]["chains"][0]["canonical"], want.Hex());

  // A node that goes away is logged; the daemon keeps serving.
  l2_nodes_[1]->Shutdown();
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> g(log_mu_);
    for (const auto& line : log_)
      if (line.find("poll chain 901: IO_ERROR") != std::string::npos) return true;
    return false;
  }));
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  EXPECT_EQ(Rpc("supervisor_localSafe", {"901"})["result"]["derived"], rpc::Encode(chains_[1]->block(1).ID()));

  // Restarting over the same data directory gives the same heads.
  daemon_->Stop();
  daemon_.reset();
  config_.poll_interval = 0ms;
  StartDaemon();
  EXPECT_EQ(Rpc("supervisor_crossSafe", {"900"})["result"]["derived"], rpc::Encode(chains_[0]->block(1).ID()));
  EXPECT_EQ(Rpc("supervisor_localUnsafe", {"901"})["result"], rpc::Encode(chains_[1]->block(1).ID()));
}

TEST_F(DaemonTest, IndexesALongChainInBoundedSteps) {
  config_.index_step = 7;
  for (int i = 0; i < 30; ++i) Build(0);
  StartDaemon();
  ASSERT_TRUE(WaitUntil([&] { return Rpc("supervisor_localUnsafe", {"900"})["result"]["number"] == 30; }));
}

TEST_F(DaemonTest, StartupErrorsNameWhatIsWrong) {
  auto expect = [&](const std::string& want) {
    Status s = StartError();
    EXPECT_FALSE(s.ok()) << want;
    EXPECT_NE(s.message().find(want), std::string::npos) << s.ToString();
  };
  auto saved = config_;
  config_.dependency_set = dir_ / "missing.json";
  expect("--dependency-set");
  config_ = saved;
  Write("bad.json", R"({"dependencies":{"900":{}})");
  config_.dependency_set = dir_ / "bad.json";
  expect("bad.json: not valid JSON");
  config_ = saved;
  config_.l1_rpc = "localhost:1";
  expect("--l1-rpc URL 'localhost:1'");
  config_ = saved;
  config_.l2_rpc.erase(ChainID(uint64_t{901}));
  expect("--l2-rpc: no URL for chain 901");
  config_ = saved;
  config_.l2_rpc[ChainID(uint64_t{5})] = "http://127.0.0.1:1";
  expect("--l2-rpc: chain 5 is not in the dependency set");
  config_ = saved;
  Write("jwt-bad.hex", "abc");
  config_.admin_jwt_secret = dir_ / "jwt-bad.hex";
  expect("admin JWT secret");
  config_ = saved;
  l1_node_->mode = FakeNode::Mode::kHttp500;
  expect("genesis.l1");
  l1_node_->mode = FakeNode::Mode::kNormal;
  Write("rollup-bad.json", R"({"900":{"genesis":{"l1":{"hash":")" + HashOf("elsewhere").Hex() +
                               R"(","number":0},"l2":{"hash":")" + chains_[0]->block(0).hash.Hex() +
                               R"(","number":0},"l2_time":1000},"block_time":2},"901":{"genesis":{"l1":{"hash":")" +
                               l1_.at(0).hash.Hex() + R"(","number":0},"l2":{"hash":")" + chains_[1]->block(0).hash.Hex() +
                               R"(","number":0},"l2_time":1000},"block_time":2}})");
  config_.rollup_config_set = dir_ / "rollup-bad.json";
  expect("is not the L1 block at that height");
  config_ = saved;
  config_.rollup_config_paths = (dir_ / "rollup-*.json").string();
  expect("--rollup-config-set and --rollup-config-paths: give only one of them");
  config_.rollup_config_set.clear();
  config_.rollup_config_paths = (dir_ / "nothing-*.json").string();
  expect("no file matches");
  config_.rollup_config_paths.clear();
  expect("give --rollup-config-set FILE or --rollup-config-paths GLOB");
  config_ = saved;
  config_.admin_jwt_secret.reset();
  config_.enable_admin = true;
  expect("--rpc.enable-admin: the admin methods need --admin-jwt-secret");
  config_ = saved;
  httplib::Server blocker;
  const int blocked = blocker.bind_to_any_port("127.0.0.1");
  config_.server.port = blocked;
  expect("rpc address 127.0.0.1:" + std::to_string(blocked) + ": cannot listen");
  config_ = saved;
  config_.metrics.enabled = true;
  config_.metrics.port = blocked;
  expect("metrics address 127.0.0.1:" + std::to_string(blocked) + ": cannot listen");
  config_ = saved;
  StartDaemon();
  EXPECT_EQ(Rpc("admin_setFailsafeEnabled", {true})["error"]["code"], rpc::kUnauthorized);
  EXPECT_EQ(Rpc("admin_getFailsafeEnabled", Json::array())["result"], false);
  expect("in use by another process");  // a second daemon over the same data directory
  daemon_->Stop();
  EXPECT_TRUE(StartError().ok());
}

// op-node's rollup.json files as they are, found by glob (op-supervisor's --rollup-config-paths):
// the daemon starts from them as from a rollup-config-set file, and serves a separate metrics
// endpoint under op-supervisor's metric names when asked to.
TEST_F(DaemonTest, StartsFromOpNodeRollupFilesAndServesMetricsApart) {
  for (auto& c : chains_) {
    // The shape op-node writes: the fields op-supervisor reads among many it does not.
    Json rollup = {{"genesis",
                    {{"l1", rpc::Encode(l1_.at(0).ID())},
                     {"l2", rpc::Encode(c->block(0).ID())},
                     {"l2_time", 1000},
                     {"system_config", {{"batcherAddr", "0x" + std::string(40, '1')}, {"gasLimit", 30000000}}}}},
                   {"block_time", 2},
                   {"max_sequencer_drift", 600},
                   {"seq_window_size", 3600},
                   {"channel_timeout", 300},
                   {"l1_chain_id", 900},
                   {"l2_chain_id", std::stoull(c->config().id.Decimal())},
                   {"regolith_time", 0},
                   {"interop_time", 1000},
                   {"batch_inbox_address", "0x" + std::string(40, 'f')},
                   {"deposit_contract_address", "0x" + std::string(40, 'd')},
                   {"l1_system_config_address", "0x" + std::string(40, 'e')}};
    Write("rollup-" + c->config().id.Decimal() + ".json", rollup.dump(2));
  }
  config_.rollup_config_set.clear();
  config_.rollup_config_paths = (dir_ / "rollup-*.json").string();
  config_.metrics.enabled = true;
  config_.metrics.port = 0;
  StartDaemon();
  EXPECT_EQ(Rpc("supervisor_dependencySetV1", Json::array())["result"]["dependencies"].size(), 2u);
  Build(1);
  ASSERT_TRUE(WaitUntil([&] { return Rpc("supervisor_localUnsafe", {"901"})["result"]["number"] == 1; }));

  ASSERT_NE(daemon_->metrics_port(), 0);
  ASSERT_NE(daemon_->metrics_port(), daemon_->port());
  httplib::Client metrics("127.0.0.1", daemon_->metrics_port());
  for (const char* path : {"/metrics", "/"}) {
    auto res = metrics.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200);
    EXPECT_NE(res->body.find("op_supervisor_default_up 1\n"), std::string::npos) << res->body;
    EXPECT_NE(res->body.find("op_supervisor_default_info{version=\"" + std::string(daemon::Version()) + "\"} 1\n"),
              std::string::npos);
    EXPECT_NE(res->body.find("op_supervisor_default_rpc_server_requests_total{method=\"supervisor_localUnsafe\"}"),
              std::string::npos);
    EXPECT_NE(res->body.find("supersafe_head{chain=\"901\",level=\"unsafe\"} 1\n"), std::string::npos);
  }
  EXPECT_FALSE(metrics.Post("/", "{}", "application/json") && metrics.Post("/", "{}", "application/json")->status == 200);
  // The RPC port keeps its own /metrics and answers /healthz in op-service's shape.
  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(Json::parse(health->body), (Json{{"version", daemon::Version()}}));
  EXPECT_EQ(Rpc("health_status", Json::array())["result"], daemon::Version());
}

TEST(Config, OpNodeRollupFilesAreReadAsTheyAre) {
  const std::string h = HashOf("g").Hex();
  const std::string genesis = R"("genesis":{"l1":{"hash":")" + h + R"(","number":7},"l2":{"hash":")" + h +
                              R"(","number":0},"l2_time":1000,"system_config":{"gasLimit":30000000}})";
  auto one = daemon::ParseOpNodeRollupConfig("{" + genesis + R"(,"block_time":2,"l2_chain_id":901,"l1_chain_id":1})",
                                             "rollup.json");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->first, ChainID(uint64_t{901}));
  EXPECT_EQ(one->second.genesis_l1.number, 7u);
  EXPECT_EQ(one->second.interop_time, 1000u);  // absent: from genesis, as a rollup-config-set file
  auto named = daemon::ParseOpNodeRollupConfig("{" + genesis + R"(,"block_time":2,"l2_chain_id":"0x385"})", "r.json");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->first, ChainID(uint64_t{901}));
  auto bad = [&](const std::string& text, const std::string& want) {
    auto r = daemon::ParseOpNodeRollupConfig(text, "rollup.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  };
  bad("{" + genesis + R"(,"block_time":2})", "rollup.json.l2_chain_id: missing");
  bad("{" + genesis + R"(,"block_time":2,"l2_chain_id":-1})", "rollup.json.l2_chain_id: want an integer");
  bad("{" + genesis + R"(,"block_time":2,"l2_chain_id":1e30})", "rollup.json.l2_chain_id: want an integer");
  bad(R"({"block_time":2,"l2_chain_id":901})", "rollup.json.genesis: missing");
}

}  // namespace
}  // namespace supersafe::testing
