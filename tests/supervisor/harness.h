// A small hand-driven world for supervisor unit tests: an L1 chain with forks, L2 chains whose
// blocks the test builds log by log, and a supervisor over a temporary data directory.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/fp.h"
#include "core/messages.h"
#include "supervisor/prefetch.h"
#include "supervisor/supervisor.h"

namespace supersafe::testing {

using supervisor::ChainConfig;
using supervisor::CrossSafeAnswer;
using supervisor::CrossSafeStatus;
using supervisor::Supervisor;

inline Hash HashOf(const std::string& s) { return Keccak256(s); }

inline Address DefaultOrigin() { return Address::Parse("0x4242424242424242424242424242424242424242").value(); }

class FakeL1 : public supervisor::L1Source {
 public:
  FakeL1() { blocks_.push_back(Make(0, Hash(), "main")); }
  Result<BlockRef> BlockByNumber(uint64_t n) override {
    ++block_by_number_calls;
    if (n >= blocks_.size()) return NotFound("L1 block #" + std::to_string(n) + " above head");
    return blocks_[n];
  }
  const BlockRef& Mine(const std::string& fork = "main") {
    blocks_.push_back(Make(blocks_.size(), blocks_.back().hash, fork));
    return blocks_.back();
  }
  void Reorg(size_t depth, const std::string& fork) {
    for (size_t i = 0; i < depth; ++i) blocks_.pop_back();
    for (size_t i = 0; i < depth; ++i) Mine(fork);
  }
  void Rewind(size_t depth) {
    for (size_t i = 0; i < depth; ++i) blocks_.pop_back();
  }
  const BlockRef& at(uint64_t n) const { return blocks_.at(n); }
  uint64_t head() const { return blocks_.size() - 1; }
  size_t block_by_number_calls = 0;  // how often the supervisor asked (an upstream round trip in the daemon)

 private:
  static BlockRef Make(uint64_t n, const Hash& parent, const std::string& fork) {
    BlockRef b;
    b.number = n;
    b.parent_hash = parent;
    b.timestamp = n * 12;
    b.hash = HashOf("L1/" + parent.Hex() + "/" + std::to_string(n) + "/" + fork);
    return b;
  }
  std::vector<BlockRef> blocks_;
};

class FakeChain : public supervisor::ChainSource {
 public:
  explicit FakeChain(ChainConfig cfg) : cfg_(std::move(cfg)) {
    blocks_.push_back(cfg_.genesis);
    logs_.push_back({});
  }
  Result<BlockRef> BlockByNumber(uint64_t n) override {
    if (n >= blocks_.size()) return NotFound("L2 block #" + std::to_string(n) + " above head");
    return blocks_[n];
  }
  Result<std::vector<Log>> Logs(const BlockID& id) override {
    if (id.number >= blocks_.size() || blocks_[id.number].hash != id.hash) return NotFound("no such block");
    return logs_[id.number];
  }
  Result<Bytes> OutputPreimage(const BlockID& id) override {
    return OutputV0Preimage(HashOf("state/" + id.hash.Hex()), HashOf("mp/" + id.hash.Hex()), id.hash);
  }

  // Builds the next block holding `logs`; `salt` makes a block differ from an earlier one at its height.
  const BlockRef& Build(std::vector<Log> logs = {}, const std::string& salt = "") {
    BlockRef b;
    b.number = blocks_.size();
    b.parent_hash = blocks_.back().hash;
    b.timestamp = cfg_.TimeOf(b.number);
    std::string content = salt;
    for (const Log& l : logs) content += LogHashOf(l).Hex();
    b.hash = HashOf("L2/" + cfg_.id.Decimal() + "/" + b.parent_hash.Hex() + "/" + std::to_string(b.number) + "/" + content);
    blocks_.push_back(b);
    logs_.push_back(std::move(logs));
    return blocks_.back();
  }
  // Cuts the chain back to below `n` and puts a deposit-only block at `n`.
  const BlockRef& ReplaceWithDepositOnly(uint64_t n) {
    blocks_.resize(n);
    logs_.resize(n);
    return Build({}, "deposit-only");
  }
  void CutTo(uint64_t n) {
    blocks_.resize(n + 1);
    logs_.resize(n + 1);
  }

  // A log initiating a message named `name`.
  static Log Init(const std::string& name) { return Log{DefaultOrigin(), {HashOf(name)}, {}}; }
  // The identifier of log `index` of block `n`.
  Identifier IdOf(uint64_t n, uint32_t index) const {
    return Identifier{logs_.at(n).at(index).address, n, index, blocks_.at(n).timestamp, cfg_.id};
  }
  Hash PayloadOf(uint64_t n, uint32_t index) const { return PayloadHashOf(logs_.at(n).at(index)); }
  // A log executing log `index` of block `n` of this chain.
  Log Exec(uint64_t n, uint32_t index) const {
    return MakeExecutingMessageLog(ExecutingMessage{IdOf(n, index), PayloadOf(n, index)});
  }
  // An executing message of a log this chain will hold at (n, index) with the given payload name.
  Log ExecFuture(uint64_t n, uint32_t index, const std::string& name) const {
    Identifier id{DefaultOrigin(), n, index, cfg_.TimeOf(n), cfg_.id};
    return MakeExecutingMessageLog(ExecutingMessage{id, PayloadHashOf(Init(name))});
  }

  const BlockRef& block(uint64_t n) const { return blocks_.at(n); }
  size_t log_count(uint64_t n) const { return logs_.at(n).size(); }
  const BlockRef& head() const { return blocks_.back(); }
  const ChainConfig& config() const { return cfg_; }

 private:
  ChainConfig cfg_;
  std::vector<BlockRef> blocks_;
  std::vector<std::vector<Log>> logs_;
};

class SupervisorHarness : public ::testing::Test {
 protected:
  // Chains with the given IDs, block time 2, genesis at 1000, interop from genesis.
  void Start(std::vector<ChainID> ids, uint64_t expiry = 604800, uint64_t interop_time = 0) {
    dir_ = std::filesystem::temp_directory_path() /
           ("supersafe-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
    deps_.expiry_window = expiry;
    deps_.genesis_l1 = l1_.at(0);
    for (const ChainID& id : ids) {
      ChainConfig cfg;
      cfg.id = id;
      cfg.genesis.number = 0;
      cfg.genesis.timestamp = 1000;
      cfg.genesis.hash = HashOf("genesis/" + id.Decimal());
      cfg.block_time = 2;
      cfg.interop_time = interop_time;
      deps_.chains.push_back(cfg);
      chains_.push_back(std::make_unique<FakeChain>(cfg));
    }
    Reopen();
  }
  void TearDown() override {
    sup_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  ~SupervisorHarness() override { SupervisorHarness::TearDown(); }
  void Reopen() {
    sup_.reset();
    supervisor::Sources sources;
    sources.l1 = &l1_;
    for (auto& c : chains_) sources.chains[c->config().id] = c.get();
    auto s = Supervisor::Open(dir_, deps_, sources);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sup_ = std::move(s).value();
  }
  // Reopens the core over prefetched sources, as the daemon runs it: `prefetched_` holds them.
  void ReopenPrefetched() {
    sup_.reset();
    std::vector<ChainID> ids;
    for (auto& c : chains_) ids.push_back(c->config().id);
    prefetched_ = std::make_unique<supervisor::PrefetchedSources>(ids);
    auto s = Supervisor::Open(dir_, deps_, prefetched_->sources());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sup_ = std::move(s).value();
  }

  FakeChain& chain(size_t i) { return *chains_.at(i); }
  const ChainID& id(size_t i) { return chains_.at(i)->config().id; }

  // Reports every chain's unsafe head.
  void SyncAll() {
    for (auto& c : chains_) ASSERT_TRUE(sup_->UpdateLocalUnsafe(c->config().id, c->head()).ok());
  }
  Result<CrossSafeAnswer> Report(size_t c, uint64_t local_safe, uint64_t l1) {
    return sup_->TryCrossSafe(id(c), chain(c).block(local_safe).ID(), l1_.at(l1).ID());
  }
  // Every chain reports L1 block `l1` with the given local-safe heads, in chain order; returns the
  // answers (the last one completes the group).
  std::vector<Result<CrossSafeAnswer>> ReportAll(uint64_t l1, std::vector<uint64_t> local_safe) {
    std::vector<Result<CrossSafeAnswer>> out;
    for (size_t c = 0; c < chains_.size(); ++c) out.push_back(Report(c, local_safe[c], l1));
    return out;
  }
  supervisor::Heads HeadsOf(size_t c) {
    auto h = sup_->HeadsOf(id(c));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : supervisor::Heads{};
  }
  uint64_t CrossSafe(size_t c) { return HeadsOf(c).cross_safe.number; }
  uint64_t CrossUnsafe(size_t c) { return HeadsOf(c).cross_unsafe.number; }

  FakeL1 l1_;
  supervisor::DependencySet deps_;
  std::vector<std::unique_ptr<FakeChain>> chains_;
  std::unique_ptr<supervisor::PrefetchedSources> prefetched_;  // declared before sup_: outlives it
  std::unique_ptr<Supervisor> sup_;
  std::filesystem::path dir_;
  static inline int counter_ = 0;
};

}  // namespace supersafe::testing
