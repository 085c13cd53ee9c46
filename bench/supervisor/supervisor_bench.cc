// Supervisor core throughput (issue figures in bench/README.md):
//   BM_CrossSafePromotion  - L2 blocks promoted to cross-safe per second: 8 chains, 10 logs per
//                            block, one executing message in ten blocks; views of 500 blocks per
//                            chain, one group write (fdatasync) per view.
//   BM_Indexing            - catching up: logs indexed per second (log hashes, access-list
//                            checksums, event-log DB appends, cross-unsafe), 2 chains of 20 000
//                            blocks x 10 logs, one UpdateLocalUnsafe per 1000 blocks of a chain.
//   BM_CheckMessage        - in-process CheckMessage against 100 million indexed logs.
//   BM_CheckAccessList     - in-process checkAccessList (one message per call), same DB.
// The databases live in SUPERSAFE_BENCH_DIR (default /var/tmp) and are removed at the end.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>

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
  SyntheticChain(ChainConfig cfg, size_t index, size_t chains, uint64_t blocks, uint32_t logs)
      : cfg_(std::move(cfg)), index_(index), chains_(chains), blocks_(blocks), logs_(logs) {}

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
      // One block in ten executes log 0 of the previous block of the next chain.
      if (i == logs_ - 1 && id.number % 10 == 0 && id.number > 1 && chains_ > 1) {
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

  World(size_t n, uint64_t blocks, uint32_t logs) {
    deps.genesis_l1 = l1.BlockByNumber(0).value();
    sources.l1 = &l1;
    for (size_t i = 0; i < n; ++i) {
      ChainConfig cfg = SyntheticChain::Config(900 + i);
      deps.chains.push_back(cfg);
      chains.push_back(std::make_unique<SyntheticChain>(cfg, i, n, blocks, logs));
      sources.chains[cfg.id] = chains.back().get();
    }
  }
};

void BM_CrossSafePromotion(benchmark::State& state) {
  constexpr size_t kChains = 8;
  constexpr uint64_t kBlocks = 20000;
  constexpr uint64_t kPerView = 500;
  fs::path dir = BenchDir("promotion");
  World world(kChains, kBlocks, 10);
  auto sup = supervisor::Supervisor::Open(dir, world.deps, world.sources).value();
  for (size_t c = 0; c < kChains; ++c)
    SS_CHECK(sup->UpdateLocalUnsafe(world.deps.chains[c].id, world.chains[c]->Ref(kBlocks)).ok(), "index");
  uint64_t promoted = 0;
  for (auto _ : state) {
    for (uint64_t view = 1; view * kPerView <= kBlocks; ++view) {
      BlockID l1 = world.l1.BlockByNumber(view)->ID();
      for (size_t c = 0; c < kChains; ++c) {
        auto r = sup->TryCrossSafe(world.deps.chains[c].id, world.chains[c]->Ref(view * kPerView).ID(), l1);
        SS_CHECK(r.ok() || r.status().code() == Code::kFutureData, r.status().ToString());
      }
    }
    for (size_t c = 0; c < kChains; ++c) promoted += sup->HeadsOf(world.deps.chains[c].id)->cross_safe.number;
  }
  SS_CHECK(promoted == kChains * kBlocks, "not every block was promoted: " + std::to_string(promoted));
  state.SetItemsProcessed(static_cast<int64_t>(promoted));
  sup.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_CrossSafePromotion)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Indexing(benchmark::State& state) {
  constexpr size_t kChains = 2;
  constexpr uint64_t kBlocks = 20000;
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
BENCHMARK(BM_Indexing)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

// 2 chains x 5 million blocks x 10 logs = 100 million logs, written straight into the event-log
// DBs, then opened by the supervisor (which recomputes cross-unsafe over all of them).
class MessageDB {
 public:
  static constexpr uint64_t kBlocks = 5'000'000;
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
