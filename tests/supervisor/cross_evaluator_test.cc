// The cross-safe evaluator's memo and block index: runs that keep a memo across calls, runs with a
// fresh one and runs that judge every block in the plain way give the same outcome, over random
// event DBs (same-timestamp references, cycles, invalid and waiting messages, rewinds); and the
// work of a run does not grow with the backlog of a chain that waits for another.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/crypto.h"
#include "db/event_db.h"
#include "supervisor/cross_evaluator.h"
#include "tests/temp_dir.h"

namespace supersafe::supervisor {
namespace {

using testing::TempDir;

Hash HashOf(const std::string& label) { return Keccak256(label); }

// K chains with block time 2 from timestamp 1000: the blocks at one height share a timestamp.
class World {
 public:
  World(const TempDir& dir, size_t chains) {
    for (size_t c = 0; c < chains; ++c) {
      ChainConfig cfg;
      cfg.id = ChainID(uint64_t{900 + c});
      cfg.genesis.number = 0;
      cfg.genesis.timestamp = 1000;
      cfg.block_time = 2;
      deps.chains.push_back(cfg);
      dbs.push_back(db::EventDB::Open(dir.path() / std::to_string(c) / "events.db", cfg.id).value());
      forks.push_back(0);
    }
  }
  // The hash of log i of block n of chain c on its current fork.
  Hash LogHash(size_t c, uint64_t n, uint32_t i) const {
    return HashOf("log/" + std::to_string(c) + "/" + std::to_string(forks[c]) + "/" + std::to_string(n) + "/" +
                  std::to_string(i));
  }
  db::ExecRef Ref(size_t s, uint64_t m, uint32_t i) const {
    return db::ExecRef{deps.chains[s].id, m, i, deps.chains[s].TimeOf(m), LogHash(s, m, i)};
  }
  void Append(size_t c, std::vector<db::LogRecord> logs) {
    const auto latest = dbs[c]->Latest();
    const uint64_t n = latest ? latest->number + 1 : 0;
    db::BlockRecord b;
    b.ref = BlockRef{HashOf("block/" + std::to_string(c) + "/" + std::to_string(forks[c]) + "/" + std::to_string(n)), n,
                     latest ? latest->hash : Hash{}, deps.chains[c].TimeOf(n)};
    b.logs = std::move(logs);
    SS_CHECK(dbs[c]->Append(b).ok(), "append");
  }
  CrossInput Input(const std::vector<uint64_t>& heads, const std::vector<uint64_t>& limits,
                   const std::vector<uint64_t>& invalid_from) const {
    CrossInput in;
    in.deps = &deps;
    for (const auto& d : dbs) in.events.push_back(d.get());
    in.heads = heads;
    in.limits = limits;
    in.invalid_from = invalid_from;
    in.judge_beyond_waits = true;
    return in;
  }

  DependencySet deps;
  std::vector<std::unique_ptr<db::EventDB>> dbs;
  std::vector<uint64_t> forks;
};

// A random block of chain c at height n: up to 4 logs, about a third executing messages, most of
// them valid, naming recent blocks of any chain (the same height included, so same-timestamp sets
// and cycles occur), some waiting, some naming a wrong log or a later block.
std::vector<db::LogRecord> RandomLogs(const World& w, size_t c, uint64_t n, std::mt19937_64& rng) {
  std::vector<db::LogRecord> logs;
  const size_t count = rng() % 5;
  for (uint32_t i = 0; i < count; ++i) {
    db::LogRecord log{w.LogHash(c, n, i), std::nullopt};
    if (n >= 2 && rng() % 3 == 0) {
      const size_t s = rng() % w.deps.chains.size();
      const uint64_t back = rng() % 4;
      const uint64_t m = std::max<uint64_t>(1, back == 3 ? n : n - std::min(n - 1, rng() % 6));
      db::ExecRef ref = w.Ref(s, rng() % 40 == 0 ? m + 1 : m, static_cast<uint32_t>(rng() % 3));
      if (rng() % 25 == 0) ref.log_hash = HashOf("wrong");
      log.exec = ref;
    }
    logs.push_back(std::move(log));
  }
  return logs;
}

bool SameOutcome(const CrossOutput& a, const CrossOutput& b, std::string* why) {
  if (a.heads != b.heads) *why = "heads differ";
  else if (a.invalid_from != b.invalid_from) *why = "invalid_from differs";
  else if (a.invalidations.size() != b.invalidations.size()) *why = "invalidation counts differ";
  for (size_t i = 0; why->empty() && i < a.invalidations.size(); ++i) {
    const Invalidation &x = a.invalidations[i], &y = b.invalidations[i];
    if (x.chain != y.chain || x.number != y.number || x.reason != y.reason)
      *why = "invalidation " + std::to_string(i) + ": chain " + std::to_string(x.chain) + " #" +
             std::to_string(x.number) + " (" + x.reason + ") vs chain " + std::to_string(y.chain) + " #" +
             std::to_string(y.number) + " (" + y.reason + ")";
  }
  return why->empty();
}

TEST(CrossEvaluator, MemoFreshAndEveryBlockRunsAgreeOnRandomViews) {
  int invalidations = 0, cycles = 0, rewinds = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir dir;
    std::mt19937_64 rng(seed);
    const size_t chains = 2 + seed % 3;
    World w(dir, chains);
    for (size_t c = 0; c < chains; ++c) w.Append(c, {});  // genesis
    CrossMemo memo;
    std::vector<uint64_t> heads(chains, 0), limits(chains, 0), invalid_from(chains, kNoBlock);
    for (int step = 0; step < 40; ++step) {
      // Index more blocks; raise the limits, one chain often lagging.
      for (size_t c = 0; c < chains; ++c) {
        const uint64_t target = limits[c] + 1 + rng() % 8;
        while (w.dbs[c]->Latest()->number < target) w.Append(c, RandomLogs(w, c, w.dbs[c]->Latest()->number + 1, rng));
        if (invalid_from[c] == kNoBlock && (c != 0 || rng() % 4 == 0)) limits[c] += rng() % 6;
        limits[c] = std::min(limits[c], w.dbs[c]->Latest()->number);
      }
      CrossInput in = w.Input(heads, limits, invalid_from);
      in.memo = &memo;
      auto kept = AdvanceCross(in);
      in.memo = nullptr;
      auto fresh = AdvanceCross(in);
      in.judge_every_block = true;
      auto every = AdvanceCross(in);
      ASSERT_TRUE(kept.ok() && fresh.ok() && every.ok());
      std::string why;
      ASSERT_TRUE(SameOutcome(*kept, *every, &why)) << "step " << step << ": memo vs every block: " << why;
      ASSERT_TRUE(SameOutcome(*fresh, *every, &why)) << "step " << step << ": fresh vs every block: " << why;
      heads = kept->heads;
      invalid_from = kept->invalid_from;
      for (const Invalidation& inv : kept->invalidations) {
        ++invalidations;
        cycles += inv.reason.find("cycle") != std::string::npos;
      }
      // An invalid block is replaced: the chain is rewound and derived again without its logs.
      for (size_t c = 0; c < chains; ++c) {
        if (invalid_from[c] == kNoBlock || rng() % 2 == 0) continue;
        ++rewinds;
        ASSERT_TRUE(w.dbs[c]->RewindTo(invalid_from[c] - 1).ok());
        ++w.forks[c];
        w.Append(c, {});
        limits[c] = std::min(limits[c], invalid_from[c]);
        invalid_from[c] = kNoBlock;
      }
      // A reorg below a limit that leaves the limit where it was: other blocks at the same heights.
      const size_t c = rng() % chains;
      if (rng() % 4 == 0 && invalid_from[c] == kNoBlock && heads[c] < limits[c]) {
        ++rewinds;
        ASSERT_TRUE(w.dbs[c]->RewindTo(heads[c] + rng() % (limits[c] - heads[c])).ok());
        ++w.forks[c];
        while (w.dbs[c]->Latest()->number < limits[c]) w.Append(c, RandomLogs(w, c, w.dbs[c]->Latest()->number + 1, rng));
      }
    }
  }
  // The random views hold what the memo has to get right.
  EXPECT_GT(invalidations, 100);
  EXPECT_GT(cycles, 5);
  EXPECT_GT(rewinds, 50);
}

// A cycle between two candidates (A and B at height 10), where another chain (C) holds a block
// without executing messages at that timestamp above its candidate: the cycle's verdict is
// deferred, so C's candidate, whose deferred verdict has an earlier timestamp, is decided first,
// and the cycle's blocks are then invalid for naming it. Leaving blocks without executing
// messages out of the timestamp's set would decide the cycle first.
TEST(CrossEvaluator, ABlockWithoutMessagesAtTheTimestampDefersACycleOfCandidates) {
  TempDir dir;
  enum : size_t { A, B, C, D, E };
  World w(dir, 5);
  auto plain = [&](size_t c, uint64_t n, uint32_t i) { return db::LogRecord{w.LogHash(c, n, i), std::nullopt}; };
  auto exec = [&](size_t c, uint64_t n, uint32_t i, db::ExecRef ref) { return db::LogRecord{w.LogHash(c, n, i), ref}; };
  db::ExecRef wrong = w.Ref(E, 8, 0);
  wrong.log_hash = HashOf("wrong");
  for (uint64_t n = 0; n <= 12; ++n) {
    for (size_t c = A; c <= E; ++c) {
      std::vector<db::LogRecord> logs{plain(c, n, 0)};
      if (c == A && n == 10) logs = {exec(A, 10, 0, w.Ref(B, 10, 1)), plain(A, 10, 1), exec(A, 10, 2, w.Ref(C, 9, 0))};
      if (c == B && n == 10) logs = {exec(B, 10, 0, w.Ref(A, 10, 1)), plain(B, 10, 1)};
      if (c == C && n == 9) logs = {exec(C, 9, 0, wrong)};                // deferred: E's #7 waits
      if (c == E && n == 7) logs = {exec(E, 7, 0, w.Ref(D, 7, 0))};       // waits: above D's invalid block
      w.Append(c, std::move(logs));
    }
  }
  CrossInput in = w.Input({9, 9, 8, 0, 6}, {12, 12, 12, 0, 8}, {kNoBlock, kNoBlock, kNoBlock, 1, kNoBlock});
  CrossMemo memo;
  in.memo = &memo;
  auto kept = AdvanceCross(in);
  in.judge_every_block = true;
  auto every = AdvanceCross(in);
  ASSERT_TRUE(kept.ok() && every.ok());
  std::string why;
  EXPECT_TRUE(SameOutcome(*kept, *every, &why)) << why;
  ASSERT_EQ(kept->invalidations.size(), 3u);
  EXPECT_EQ(kept->invalidations[0].chain, C);
  EXPECT_EQ(kept->invalidations[0].number, 9u);
  EXPECT_NE(kept->invalidations[0].reason.find("no log 0 with the claimed hash"), std::string::npos);
  for (size_t i : {1, 2}) {
    EXPECT_EQ(kept->invalidations[i].number, 10u);
    EXPECT_NE(kept->invalidations[i].reason.find("which is invalid"), std::string::npos) << kept->invalidations[i].reason;
  }
}

// One chain `backlog` blocks behind the others, which execute messages of it at every tenth block:
// a group is a run in which every chain's limit goes up 10 blocks. With the memo, a run decodes
// about the new blocks; without it, every block with executing messages above the heads.
uint64_t LoadsPerGroup(uint64_t backlog, bool with_memo) {
  TempDir dir;
  constexpr size_t kChains = 4;
  constexpr uint64_t kStep = 10, kGroups = 8;
  World w(dir, kChains);
  const uint64_t blocks = backlog + (kGroups + 2) * kStep;
  for (uint64_t n = 0; n <= blocks; ++n) {
    for (size_t c = 0; c < kChains; ++c) {
      std::vector<db::LogRecord> logs{{w.LogHash(c, n, 0), std::nullopt}};
      if (c != 0 && n >= 2 && n % 10 == 0) logs.push_back({w.LogHash(c, n, 1), w.Ref(0, n - 1, 0)});
      w.Append(c, std::move(logs));
    }
  }
  CrossMemo memo;
  std::vector<uint64_t> heads(kChains, 0), limits(kChains, 0);
  uint64_t loads = 0;
  for (uint64_t g = 1; g <= kGroups; ++g) {
    for (size_t c = 0; c < kChains; ++c) limits[c] = g * kStep + (c == 0 ? 0 : backlog);
    CrossInput in = w.Input(heads, limits, std::vector<uint64_t>(kChains, kNoBlock));
    if (with_memo) in.memo = &memo;
    auto out = AdvanceCross(in);
    SS_CHECK(out.ok() && out->invalidations.empty() && out->heads[0] == g * kStep, "weakest link run");
    heads = out->heads;
    if (g > 1) loads += out->blocks_loaded;  // the first group judges the whole backlog once
  }
  return loads / (kGroups - 1);
}

TEST(CrossEvaluator, WorkPerGroupDoesNotGrowWithTheBacklog) {
  const uint64_t small = LoadsPerGroup(100, true), large = LoadsPerGroup(3000, true);
  EXPECT_LE(large, small + 2) << "decoded blocks per group: " << small << " at 100 behind, " << large << " at 3000";
  EXPECT_LT(large, 120u);
  // Without a memo the same runs decode the backlog's blocks with executing messages every time.
  EXPECT_GT(LoadsPerGroup(3000, false), 3 * 3000 / 10);
}

}  // namespace
}  // namespace supersafe::supervisor
