// Supervisor core throughput (figures in bench/README.md, curves in bench/curves/). Each benchmark
// says what its timed region holds; set-up (building worlds, indexing, writing databases) is not
// timed unless a comment says so.
//   BM_CrossSafePromotion/C/P - L2 blocks promoted to cross-safe per second: C chains, 10 logs a
//                            block, P per mille of blocks carry an executing message; views of
//                            500 blocks per chain, one group write (fdatasync) per view. Every
//                            block is indexed in the set-up (UpdateLocalUnsafe indexes at most
//                            1024 blocks a call): the timed region is TryCrossSafe only. Counters:
//                            resident memory (VmRSS) after the run, per chain.
//   BM_WeakestLink/B          - 4 chains, chain 0 B blocks behind the others in local-safe; timed: one
//                            view in which every chain advances 10 blocks (one group write), per
//                            iteration; cost per group must not grow with B.
//   BM_Indexing            - catching up: logs indexed per second (log hashes, access-list
//                            checksums, event-log DB appends, cross-unsafe), 2 chains of 20 000
//                            blocks x 10 logs, one UpdateLocalUnsafe per 1000 blocks of a chain;
//                            timed: the UpdateLocalUnsafe calls (open and removal are not).
//   BM_CheckMessage        - timed: one in-process CheckMessage against 100 million indexed logs.
//   BM_CheckAccessList     - timed: one in-process checkAccessList (one message per call), same DB.
// The databases live in SUPERSAFE_BENCH_DIR (default /var/tmp) and are removed at the end.
// SUPERSAFE_BENCH_SMOKE=1 shrinks every size so that the whole binary runs in a few seconds
// (the bench-smoke test suite): it checks that every benchmark still runs and does what it says.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/crypto.h"
#include "core/fp.h"
#include "core/messages.h"
#include "db/event_db.h"
#include "core/access_list.h"
#include "supervisor/supervisor.h"

namespace supersafe {
namespace {

namespace fs = std::filesystem;
using supervisor::ChainConfig;

fs::path BenchDir(const std::string& name) {
  const char* env = std::getenv("SUPERSAFE_BENCH_DIR");
  fs::path dir = fs::path(env ? env : "/var/tmp") / ("supersafe-bench-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

bool Smoke() {
  const char* env = std::getenv("SUPERSAFE_BENCH_SMOKE");
  return env && std::string(env) == "1";
}

// VmRSS of this process in KiB (0 when /proc is not there).
double VmRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
  return 0;
}

Address Origin() { return Address::Parse("0x4242424242424242424242424242424242424242").value(); }

// The payload of log `i` of block `n`: cheap to recompute in the benchmark loop.
Hash PayloadOf(uint64_t n, uint32_t i) {
  Hash h;
  PutU64BE(h.data(), n);
  PutU32BE(h.data() + 8, i);
  h.bytes[31] = 0x5a;
  return h;
}

// A synthetic chain: block hashes from the number, logs generated on demand.
class SyntheticChain : public supervisor::ChainSource {
 public:
  // Block n > 1 carries an executing message when floor(n * exec_per_mille / 1000) steps: exactly
  // exec_per_mille of the blocks, evenly spread (100: every tenth block).
  SyntheticChain(ChainConfig cfg, size_t index, size_t chains, uint64_t blocks, uint32_t logs,
                 uint64_t exec_per_mille = 100)
      : cfg_(std::move(cfg)), index_(index), chains_(chains), blocks_(blocks), logs_(logs), per_mille_(exec_per_mille) {}

  static Hash HashOf(const ChainID& id, uint64_t n) {
    Hash h = Keccak256("block/" + id.Decimal() + "/" + std::to_string(n));
    return h;
  }
  static ChainConfig Config(uint64_t id) {
    ChainConfig c;
    c.id = ChainID(id);
    c.genesis = {HashOf(ChainID(id), 0), 0, Hash(), 1000};
    c.block_time = 2;
    return c;
  }
  Result<BlockRef> BlockByNumber(uint64_t n) override {
    if (n > blocks_) return NotFound("above head");
    return Ref(n);
  }
  BlockRef Ref(uint64_t n) const {
    return {HashOf(cfg_.id, n), n, n == 0 ? Hash() : HashOf(cfg_.id, n - 1), cfg_.TimeOf(n)};
  }
  Result<std::vector<Log>> Logs(const BlockID& id) override {
    std::vector<Log> out;
    if (id.number == 0) return out;
    for (uint32_t i = 0; i < logs_; ++i) {
      // An executing block's last log executes log 0 of the previous block of the next chain.
      const bool executes = id.number * per_mille_ / 1000 != (id.number - 1) * per_mille_ / 1000;
      if (i == logs_ - 1 && executes && id.number > 1 && chains_ > 1) {
        uint64_t src_chain = 900 + (index_ + 1) % chains_;
        Identifier sid{Origin(), id.number - 1, 0, cfg_.TimeOf(id.number - 1), ChainID(src_chain)};
        out.push_back(MakeExecutingMessageLog({sid, Keccak256(PayloadOf(id.number - 1, 0).span())}));
        continue;
      }
      Hash payload = PayloadOf(id.number, i);
      out.push_back(Log{Origin(), {}, Bytes(payload.bytes.begin(), payload.bytes.end())});
    }
    return out;
  }
  Result<Bytes> OutputPreimage(const BlockID& id) override { return OutputV0Preimage(Hash(), Hash(), id.hash); }

 private:
  ChainConfig cfg_;
  size_t index_, chains_;
  uint64_t blocks_;
  uint32_t logs_;
  uint64_t per_mille_;
};

class SyntheticL1 : public supervisor::L1Source {
 public:
  Result<BlockRef> BlockByNumber(uint64_t n) override {
    return BlockRef{Keccak256("l1/" + std::to_string(n)), n, n == 0 ? Hash() : Keccak256("l1/" + std::to_string(n - 1)),
                    n * 12};
  }
};

struct World {
  SyntheticL1 l1;
  std::vector<std::unique_ptr<SyntheticChain>> chains;
  supervisor::DependencySet deps;
  supervisor::Sources sources;

  World(size_t n, uint64_t blocks, uint32_t logs, uint64_t exec_per_mille = 100) {
    deps.genesis_l1 = l1.BlockByNumber(0).value();
    sources.l1 = &l1;
    for (size_t i = 0; i < n; ++i) {
      ChainConfig cfg = SyntheticChain::Config(900 + i);
      deps.chains.push_back(cfg);
      chains.push_back(std::make_unique<SyntheticChain>(cfg, i, n, blocks, logs, exec_per_mille));
      sources.chains[cfg.id] = chains.back().get();
    }
  }
};

// Indexes every chain of `world` through block `blocks`, kMaxBlocksIndexedPerCall at a time.
void IndexAll(supervisor::Supervisor& sup, World& world, uint64_t blocks) {
  constexpr uint64_t kStep = supervisor::Supervisor::kMaxBlocksIndexedPerCall;
  for (size_t c = 0; c < world.chains.size(); ++c) {
    const ChainID& id = world.deps.chains[c].id;
    for (uint64_t n = std::min(kStep, blocks);; n = std::min(n + kStep, blocks)) {
      SS_CHECK(sup.UpdateLocalUnsafe(id, world.chains[c]->Ref(n)).ok(), "index");
      if (n == blocks) break;
    }
    SS_CHECK(sup.LocalUnsafe(id)->number == blocks, "indexing stopped short");
  }
}

void BM_CrossSafePromotion(benchmark::State& state) {
  const size_t chains = static_cast<size_t>(state.range(0));
  const uint64_t per_mille = static_cast<uint64_t>(state.range(1));
  const uint64_t per_view = Smoke() ? 100 : 500;
  // 160,000 blocks in all (at least 4 views per chain), so that every point costs about the same.
  const uint64_t blocks = Smoke() ? 400 : std::max<uint64_t>(4 * per_view, 160000 / chains / per_view * per_view);
  fs::path dir = BenchDir("promotion");
  World world(chains, blocks, 10, per_mille);
  const double rss_before = VmRssKiB();
  auto sup = supervisor::Supervisor::Open(dir, world.deps, world.sources).value();
  IndexAll(*sup, world, blocks);
  uint64_t promoted = 0;
  for (auto _ : state) {
    for (uint64_t view = 1; view * per_view <= blocks; ++view) {
      BlockID l1 = world.l1.BlockByNumber(view)->ID();
      for (size_t c = 0; c < chains; ++c) {
        auto r = sup->TryCrossSafe(world.deps.chains[c].id, world.chains[c]->Ref(view * per_view).ID(), l1);
        SS_CHECK(r.ok() || r.status().code() == Code::kFutureData, r.status().ToString());
      }
    }
    for (size_t c = 0; c < chains; ++c) promoted += sup->HeadsOf(world.deps.chains[c].id)->cross_safe.number;
  }
  SS_CHECK(promoted == chains * blocks, "not every block was promoted: " + std::to_string(promoted));
  state.SetItemsProcessed(static_cast<int64_t>(promoted));
  state.counters["blocks"] = static_cast<double>(promoted);
  // Resident memory the open supervisor added (databases mapped and touched, caches), per chain
  // and per million indexed logs (10 a block).
  const double rss_kib = VmRssKiB() - rss_before;
  state.counters["rss_MiB_per_chain"] = rss_kib / 1024 / static_cast<double>(chains);
  state.counters["rss_MiB_per_Mlog"] = rss_kib / 1024 / (static_cast<double>(chains * blocks) * 10 / 1e6);
  sup.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_CrossSafePromotion)
    ->ArgNames({"chains", "exec_per_mille"})
    ->Args({8, 100})  // the configuration of the table in bench/README.md
    ->Args({2, 100})->Args({4, 100})->Args({16, 100})->Args({32, 100})->Args({64, 100})
    ->Args({8, 10})->Args({8, 50})->Args({8, 200})->Args({8, 500})
    ->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_WeakestLink(benchmark::State& state) {
  constexpr size_t kChains = 4;
  constexpr uint64_t kStep = 10;  // blocks every chain adds to local-safe per view
  const uint64_t backlog = static_cast<uint64_t>(state.range(0));
  const uint64_t views = static_cast<uint64_t>(state.max_iterations);
  const uint64_t blocks = backlog + (views + 1) * kStep;
  fs::path dir = BenchDir("weakest");
  World world(kChains, blocks, 10, 100);
  auto sup = supervisor::Supervisor::Open(dir, world.deps, world.sources).value();
  IndexAll(*sup, world, blocks);
  // View 1: chain 0 at kStep, the others `backlog` blocks ahead of it (not timed).
  auto report = [&](uint64_t view) {
    BlockID l1 = world.l1.BlockByNumber(view)->ID();
    for (size_t c = 0; c < kChains; ++c) {
      const uint64_t n = view * kStep + (c == 0 ? 0 : backlog);
      auto r = sup->TryCrossSafe(world.deps.chains[c].id, world.chains[c]->Ref(n).ID(), l1);
      SS_CHECK(r.ok() || r.status().code() == Code::kFutureData, r.status().ToString());
    }
  };
  report(1);
  uint64_t view = 1;
  for (auto _ : state) {
    SS_CHECK(view < views + 1, "more iterations than views");
    report(++view);
  }
  SS_CHECK(sup->HeadsOf(world.deps.chains[0].id)->cross_safe.number == view * kStep, "chain 0 not cross-safe");
  state.counters["backlog"] = static_cast<double>(backlog);
  state.SetItemsProcessed(state.iterations());
  sup.reset();
  fs::remove_all(dir);
}

void BM_Indexing(benchmark::State& state) {
  constexpr size_t kChains = 2;
  const uint64_t kBlocks = Smoke() ? 2000 : 20000;
  constexpr uint64_t kStep = 1000;
  constexpr uint32_t kLogs = 10;
  World world(kChains, kBlocks, kLogs);
  uint64_t logs = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fs::path dir = BenchDir("indexing");
    auto sup = supervisor::Supervisor::Open(dir, world.deps, world.sources).value();
    state.ResumeTiming();
    for (uint64_t n = kStep; n <= kBlocks; n += kStep) {
      for (size_t c = 0; c < kChains; ++c)
        SS_CHECK(sup->UpdateLocalUnsafe(world.deps.chains[c].id, world.chains[c]->Ref(n)).ok(), "index");
    }
    logs += kChains * kBlocks * kLogs;
    state.PauseTiming();
    sup.reset();
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(logs));
}
// Backlogs of 10 to 100,000 blocks (to 1,000 in the smoke run: the set-up indexes 4 x backlog blocks).
void WeakestLinkBacklogs(benchmark::internal::Benchmark* b) {
  b->ArgName("backlog");
  for (int64_t n : {10, 100, 1000}) b->Arg(n);
  if (!Smoke())
    for (int64_t n : {10000, 100000}) b->Arg(n);
}
BENCHMARK(BM_WeakestLink)
    ->Apply(WeakestLinkBacklogs)
    ->Iterations(Smoke() ? 3 : 20)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK(BM_Indexing)->Iterations(Smoke() ? 1 : 3)->Unit(benchmark::kMillisecond)->UseRealTime();

// 2 chains x 5 million blocks x 10 logs = 100 million logs, written straight into the event-log
// DBs, then opened by the supervisor (which recomputes cross-unsafe over all of them).
class MessageDB {
 public:
  static inline const uint64_t kBlocks = Smoke() ? 2'000 : 5'000'000;
  static constexpr uint32_t kLogs = 10;
  static MessageDB& Get() {
    static MessageDB db;
    return db;
  }
  supervisor::Supervisor& sup() { return *sup_; }
  World& world() { return world_; }
  ~MessageDB() {
    sup_.reset();
    fs::remove_all(dir_);
  }

 private:
  MessageDB() : world_(2, kBlocks, kLogs), dir_(BenchDir("messages")) {
    for (size_t c = 0; c < 2; ++c) {
      const ChainID& id = world_.deps.chains[c].id;
      fs::create_directories(dir_ / "chains" / id.Decimal());
      auto events = db::EventDB::Open(dir_ / "chains" / id.Decimal() / "events.db", id).value();
      std::vector<db::BlockRecord> batch;
      for (uint64_t n = 0; n <= kBlocks; ++n) {
        db::BlockRecord rec{world_.chains[c]->Ref(n), {}};
        if (n > 0)
          for (uint32_t i = 0; i < kLogs; ++i) rec.logs.push_back({LogHash(Origin(), Keccak256(PayloadOf(n, i).span())), {}});
        batch.push_back(std::move(rec));
        if (batch.size() == 10000 || n == kBlocks) {
          SS_CHECK(events->AppendBatch(batch).ok(), "append");
          batch.clear();
        }
      }
    }
    sup_ = supervisor::Supervisor::Open(dir_, world_.deps, world_.sources).value();
  }
  World world_;
  fs::path dir_;
  std::unique_ptr<supervisor::Supervisor> sup_;
};

void BM_CheckMessage(benchmark::State& state) {
  MessageDB& db = MessageDB::Get();
  const auto& cfg = db.world().deps.chains[0];
  std::mt19937_64 rng(7);
  std::vector<std::pair<Identifier, Hash>> queries;
  for (int i = 0; i < 4096; ++i) {
    uint64_t n = 1 + rng() % MessageDB::kBlocks;
    uint32_t li = static_cast<uint32_t>(rng() % MessageDB::kLogs);
    queries.push_back({Identifier{Origin(), n, li, cfg.TimeOf(n), cfg.id}, Keccak256(PayloadOf(n, li).span())});
  }
  size_t i = 0;
  for (auto _ : state) {
    const auto& q = queries[i++ & 4095];
    auto level = db.sup().CheckMessage(q.first, q.second);
    if (!level.ok() || *level != SafetyLevel::kCrossUnsafe) state.SkipWithError("unexpected level");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckMessage);

void BM_CheckAccessList(benchmark::State& state) {
  MessageDB& db = MessageDB::Get();
  const auto& cfg = db.world().deps.chains[1];
  std::mt19937_64 rng(8);
  std::vector<std::pair<std::vector<Hash>, supervisor::ExecutingDescriptor>> queries;
  for (int i = 0; i < 4096; ++i) {
    uint64_t n = 1 + rng() % (MessageDB::kBlocks - 1);
    uint32_t li = static_cast<uint32_t>(rng() % MessageDB::kLogs);
    Hash log_hash = LogHash(Origin(), Keccak256(PayloadOf(n, li).span()));
    AccessEntry e{cfg.id, n, cfg.TimeOf(n), li,
                              AccessChecksum(log_hash, cfg.id, n, cfg.TimeOf(n), li)};
    queries.push_back({EncodeAccessEntry(e), {cfg.TimeOf(n) + 2, 0, std::nullopt}});
  }
  size_t i = 0;
  for (auto _ : state) {
    const auto& q = queries[i++ & 4095];
    Status s = db.sup().CheckAccessList(q.first, SafetyLevel::kUnsafe, q.second);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckAccessList);

}  // namespace
}  // namespace supersafe

BENCHMARK_MAIN();
