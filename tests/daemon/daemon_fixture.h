// The whole daemon in-process over fake upstream nodes (tests/daemon/fake_node.h): chains 900
// and 901 from genesis at time 1000, two-second blocks, a dependency set and rollup configs in a
// temporary directory, an admin secret of 0x77...; StartDaemon() serves on an ephemeral port.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/daemon.h"
#include "tests/daemon/fake_node.h"

namespace supersafe::testing {

inline ChainConfig ConfigOf(uint64_t id) {
  ChainConfig cfg;
  cfg.id = ChainID(id);
  cfg.genesis.timestamp = 1000;
  cfg.genesis.hash = HashOf("genesis/" + cfg.id.Decimal());
  cfg.block_time = 2;
  return cfg;
}

class DaemonFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("supersafe-daemon-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (uint64_t id : {900, 901}) chains_.push_back(std::make_unique<FakeChain>(ConfigOf(id)));
    l1_node_ = std::make_unique<FakeNode>(&l1_);
    for (auto& c : chains_) l2_nodes_.push_back(std::make_unique<FakeNode>(c.get()));
    Write("deps.json", R"({"dependencies":{"901":{},"900":{}}})");
    rpc::Json rollups = rpc::Json::object();
    for (auto& c : chains_)
      rollups[c->config().id.Decimal()] = {
          {"genesis", {{"l1", rpc::Encode(l1_.at(0).ID())}, {"l2", rpc::Encode(c->block(0).ID())}, {"l2_time", 1000}}},
          {"block_time", 2}};
    Write("rollup.json", rollups.dump());
    Write("jwt.hex", std::string(64, '7'));
    config_.datadir = dir_ / "data";
    config_.dependency_set = dir_ / "deps.json";
    config_.rollup_config_set = dir_ / "rollup.json";
    config_.admin_jwt_secret = dir_ / "jwt.hex";
    config_.l1_rpc = l1_node_->url();
    for (size_t i = 0; i < chains_.size(); ++i) config_.l2_rpc[chains_[i]->config().id] = l2_nodes_[i]->url();
    config_.server.port = 0;
    config_.poll_interval = std::chrono::milliseconds(20);
    config_.upstream_timeout = std::chrono::milliseconds(2000);
  }
  void TearDown() override {
    daemon_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  void StartDaemon() {
    auto d = daemon::Daemon::Start(config_, [this](daemon::LogLevel, const std::string& line) {
      std::lock_guard<std::mutex> g(log_mu_);
      log_.push_back(line);
    });
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d).value();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", daemon_->port());
  }
  Status StartError() {
    auto d = daemon::Daemon::Start(config_, [](daemon::LogLevel, const std::string&) {});
    return d.ok() ? Status::Ok() : d.status();
  }
  rpc::Json Rpc(const std::string& method, rpc::Json params) {
    auto res = client_->Post("/", rpc::Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}}.dump(),
                             "application/json");
    EXPECT_TRUE(res);
    return res ? rpc::Json::parse(res->body) : rpc::Json();
  }
  void Build(size_t c, std::vector<Log> logs = {}) { l2_nodes_[c]->Locked([&] { chains_[c]->Build(std::move(logs)); }); }

  FakeL1 l1_;
  std::vector<std::unique_ptr<FakeChain>> chains_;
  std::unique_ptr<FakeNode> l1_node_;
  std::vector<std::unique_ptr<FakeNode>> l2_nodes_;
  daemon::DaemonConfig config_;
  std::unique_ptr<daemon::Daemon> daemon_;
  std::unique_ptr<httplib::Client> client_;
  std::filesystem::path dir_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
  static inline int counter_ = 0;
};

}  // namespace supersafe::testing
