// The daemon against real Ethereum nodes: two anvil processes (the binary named by $ANVIL), one as
// L1 and one as the L2 chain 900. Registered only when the setup script installed anvil, so it
// counts as passed only when it really ran.
//
// The L2 node emits a real log (a contract creation whose init code runs LOG1) in a block whose
// timestamp is on the chain's 2-second grid; the daemon indexes it from eth_getBlockByNumber and
// eth_getBlockReceipts, answers checkMessage, takes a cross-safe report, and computes the super root
// from eth_getBlockByHash and eth_getProof as anvil serves them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "core/crypto.h"
#include "core/fp.h"
#include "core/messages.h"
#include "daemon/daemon.h"
#include "daemon/upstream.h"
#include "tests/daemon/fake_node.h"

extern char** environ;

namespace supersafe::testing {
namespace {

using rpc::Json;
using namespace std::chrono_literals;

// One anvil process on a free port, stopped by the destructor.
class Anvil {
 public:
  Anvil(const std::filesystem::path& dir, const std::string& name, uint64_t chain_id, uint64_t genesis_time) {
    const char* bin = std::getenv("ANVIL");
    if (bin == nullptr) {
      ADD_FAILURE() << "ANVIL is not set";
      return;
    }
    const std::filesystem::path out = dir / (name + ".out");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args = {bin, "--port", "0", "--chain-id", std::to_string(chain_id), "--timestamp",
                                     std::to_string(genesis_time)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, bin, &actions, nullptr, argv.data(), environ) != 0) {
      ADD_FAILURE() << "cannot start " << bin;
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    for (auto until = std::chrono::steady_clock::now() + 20s; pid_ > 0 && std::chrono::steady_clock::now() < until;) {
      std::ifstream in(out);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str();
      const std::string mark = "Listening on 127.0.0.1:";
      if (size_t at = text.find(mark); at != std::string::npos && text.find('\n', at) != std::string::npos) {
        url_ = "http://127.0.0.1:" + std::to_string(std::stoi(text.substr(at + mark.size())));
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    if (url_.empty()) ADD_FAILURE() << "anvil did not say where it listens";
  }
  ~Anvil() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& url() const { return url_; }
  Json Call(const std::string& method, Json params) {
    if (!rpc_) rpc_ = std::move(daemon::JsonRpcClient::Create("anvil", url_, 5000ms)).value();
    auto r = rpc_->Call(method, std::move(params));
    EXPECT_TRUE(r.ok()) << method << ": " << r.status().ToString();
    return r.ok() ? *r : Json();
  }
  // Mines the next block at `timestamp`, holding a contract creation whose init code logs `topic`
  // when `topic` is given.
  Json Mine(uint64_t timestamp, std::optional<Hash> topic = std::nullopt) {
    Call("evm_setNextBlockTimestamp", {timestamp});
    if (topic) {
      const std::string from = Call("eth_accounts", Json::array())[0];
      // PUSH32 topic, PUSH1 0, PUSH1 0, LOG1, STOP
      const Json tx = Call("eth_sendTransaction", {{{"from", from}, {"data", "0x7f" + topic->Hex().substr(2) + "60006000a100"}}});
      // Automining may finish after the call returns.
      for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
        const Json receipt = Call("eth_getTransactionReceipt", Json::array({tx}));
        if (!receipt.is_null()) return Call("eth_getBlockByHash", {receipt["blockHash"], false});
        std::this_thread::sleep_for(10ms);
      }
      ADD_FAILURE() << "the transaction was not mined";
      return Json();
    }
    Call("evm_mine", Json::array());
    return Call("eth_getBlockByNumber", {"latest", false});
  }

 private:
  pid_t pid_ = -1;
  std::string url_;
  std::unique_ptr<daemon::JsonRpcClient> rpc_;
};

BlockID IdOf(const Json& block) {
  return BlockID{Hash::Parse(block["hash"].get<std::string>()).value(),
                 std::stoull(block["number"].get<std::string>(), nullptr, 16)};
}

TEST(Anvil, DaemonIndexesARealNodeAndServesItsLogs) {
  const auto dir = std::filesystem::temp_directory_path() / ("supersafe-anvil-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    Anvil l1(dir, "l1", 1, 100);
    Anvil l2(dir, "l2", 900, 1000);
    ASSERT_FALSE(l1.url().empty());
    ASSERT_FALSE(l2.url().empty());
    const Json l1_genesis = l1.Call("eth_getBlockByNumber", {"0x0", false});
    const Json l2_genesis = l2.Call("eth_getBlockByNumber", {"0x0", false});
    const Hash topic = Keccak256(std::string("supersafe anvil test"));
    const Json block1 = l2.Mine(1002, topic);
    ASSERT_EQ(block1["number"], "0x1");
    const Json receipts = l2.Call("eth_getBlockReceipts", Json::array({block1["hash"]}));
    const Address origin = Address::Parse(receipts[0]["logs"][0]["address"].get<std::string>()).value();

    std::ofstream(dir / "deps.json") << R"({"dependencies":{"900":{}}})";
    std::ofstream(dir / "rollup.json") << Json{{"900",
                                                {{"genesis",
                                                  {{"l1", rpc::Encode(IdOf(l1_genesis))},
                                                   {"l2", rpc::Encode(IdOf(l2_genesis))},
                                                   {"l2_time", 1000}}},
                                                 {"block_time", 2}}}}
                                                .dump();
    daemon::DaemonConfig config;
    config.datadir = dir / "data";
    config.dependency_set = dir / "deps.json";
    config.rollup_config_set = dir / "rollup.json";
    config.l1_rpc = l1.url();
    config.l2_rpc[ChainID(uint64_t{900})] = l2.url();
    config.server.port = 0;
    config.poll_interval = 50ms;
    auto d = daemon::Daemon::Start(config, [](daemon::LogLevel, const std::string& line) { std::fprintf(stderr, "daemon: %s\n", line.c_str()); });
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    httplib::Client client("127.0.0.1", (*d)->port());
    auto rpc = [&](const std::string& method, Json params) {
      auto res = client.Post("/", Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}}.dump(),
                             "application/json");
      return res ? Json::parse(res->body) : Json();
    };

    ASSERT_TRUE(WaitUntil([&] { return rpc("supervisor_localUnsafe", {"900"})["result"] == rpc::Encode(IdOf(block1)); }));
    Identifier id{origin, 1, 0, 1002, ChainID(uint64_t{900})};
    const Hash payload = PayloadHashOf(Log{origin, {topic}, {}});
    EXPECT_EQ(rpc("supervisor_checkMessage", {rpc::Encode(id), payload.Hex()})["result"], "cross-unsafe");
    EXPECT_EQ(rpc("supervisor_checkMessage", {rpc::Encode(id), topic.Hex()})["result"], "conflicts");

    const Json l1_block1 = l1.Mine(112);
    Json answer = rpc("supervisor_tryCrossSafe", {"900", rpc::Encode(IdOf(block1)), rpc::Encode(IdOf(l1_block1))});
    EXPECT_EQ(answer["result"]["status"], "accept") << answer.dump();
    EXPECT_EQ(rpc("supervisor_checkMessage", {rpc::Encode(id), payload.Hex()})["result"], "safe");

    Json root = rpc("supervisor_superRootAtTimestamp", {"0x3ea"});
    ASSERT_TRUE(root.contains("result")) << root.dump();
    const Json proof = l2.Call("eth_getProof", {"0x4200000000000000000000000000000000000016", Json::array(),
                                                {{"blockHash", block1["hash"]}}});
    const Bytes preimage = OutputV0Preimage(Hash::Parse(block1["stateRoot"].get<std::string>()).value(),
                                            Hash::Parse(proof["storageHash"].get<std::string>()).value(), IdOf(block1).hash);
    EXPECT_EQ(root["result"]["chains"][0]["canonical"], OutputRoot(preimage)->Hex());
    EXPECT_EQ(root["result"]["crossSafeDerivedFrom"], rpc::Encode(IdOf(l1_block1)));
    (*d)->Stop();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace supersafe::testing
