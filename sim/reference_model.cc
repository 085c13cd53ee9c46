// The reference model (see reference_model.h and docs/reference-model.md).
//
// Written to be read, not to be fast: every level is a plain fixed-point loop over all blocks.
// It uses only value types and hashing from src/core; it shares nothing with src/supervisor.
//
// Three computations, all over one "level" = a per-chain limit (the highest block number known
// at that level: the unsafe head for cross-unsafe, local_safe_at[view] for cross-safe):
//   1. Judge every executing message against the level: kInvalid, kWait or kDepends(source).
//   2. Heads: the greatest per-chain prefix in which every block's messages are kDepends on a
//      block that is itself inside the prefix (greatest fixed point; same-timestamp sets go up
//      together because a set that supports itself survives the loop).
//   3. Invalid blocks: least fixed point of "has a kInvalid message, or depends on a block at or
//      above the first invalid block of its chain".
#include "sim/reference_model.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/messages.h"
#include "core/types.h"

namespace supersafe::sim {
namespace {

constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();

// One executing-message log as found in a block.
struct ExecLog {
  uint32_t log_index = 0;         // position in its block
  bool malformed = false;         // CrossL2Inbox + event topic, but does not decode
  ExecutingMessage msg;           // valid only when !malformed
  std::optional<size_t> source;   // chain index of msg.id.chain_id, if in the dependency set
  bool static_ok = false;         // rules 1, 3, 4, 5, 6 hold
};

// What an executing message is, judged at one level.
enum class Verdict { kInvalid, kWait, kDepends };

struct Judged {
  Verdict verdict = Verdict::kInvalid;
  size_t chain = 0;    // source chain (kDepends only)
  uint64_t block = 0;  // source block number (kDepends only)
};

// A position of a log in the world: (chain index, block number, log index).
struct LogPos {
  size_t chain = 0;
  uint64_t block = 0;
  uint32_t log = 0;
  auto operator<=>(const LogPos&) const = default;
};

// Activation block: the first block with timestamp >= interop_time.
uint64_t ActivationBlock(const SnapshotChain& c) {
  if (c.interop_time <= c.genesis_time) return 0;
  uint64_t delta = c.interop_time - c.genesis_time;
  return delta / c.block_time + (delta % c.block_time != 0 ? 1 : 0);
}

// Rule 6: does `timestamp` equal the chain's time for block `number`? (No overflow: a product
// past 2^64 cannot equal any u64 timestamp.)
bool IsTimeOfBlock(const SnapshotChain& c, uint64_t number, uint64_t timestamp) {
  if (timestamp < c.genesis_time) return false;
  uint64_t delta = timestamp - c.genesis_time;
  return delta % c.block_time == 0 && delta / c.block_time == number;
}

// Block 0 is indexed without logs, and a deposit-only replacement has none.
bool HasNoLogs(const SnapshotBlock& b) { return b.number == 0 || b.deposit_only_replacement; }

// The world, checked and pre-digested: log hashes and executing messages of every block, with
// the static rules already applied.
class Model {
 public:
  explicit Model(const WorldSnapshot& world) : w_(world) {
    CheckSnapshot();
    const size_t n_chains = w_.chains.size();
    activation_.resize(n_chains);
    log_hashes_.resize(n_chains);
    execs_.resize(n_chains);
    for (size_t c = 0; c < n_chains; ++c) {
      const SnapshotChain& chain = w_.chains[c];
      activation_[c] = ActivationBlock(chain);
      log_hashes_[c].resize(chain.blocks.size());
      execs_[c].resize(chain.blocks.size());
    }
    for (size_t c = 0; c < n_chains; ++c) {
      const SnapshotChain& chain = w_.chains[c];
      for (const SnapshotBlock& b : chain.blocks) {
        if (HasNoLogs(b)) continue;
        for (uint32_t i = 0; i < b.logs.size(); ++i) {
          const Log& log = b.logs[i];
          log_hashes_[c][b.number].push_back(LogHashOf(log));
          auto decoded = DecodeExecutingMessage(log);
          if (!decoded.ok()) {
            ExecLog e;
            e.log_index = i;
            e.malformed = true;
            execs_[c][b.number].push_back(e);
            continue;
          }
          if (!decoded->has_value()) continue;  // a plain log
          ExecLog e;
          e.log_index = i;
          e.msg = **decoded;
          e.source = ChainIndexOf(e.msg.id.chain_id);
          e.static_ok = StaticRulesHold(c, b, e);
          execs_[c][b.number].push_back(e);
        }
      }
    }
  }

  size_t NumChains() const { return w_.chains.size(); }
  const WorldSnapshot& world() const { return w_; }

  // Per-chain limits for the level "local-safe at view n".
  std::vector<uint64_t> LocalSafeLimits(uint64_t view) const {
    std::vector<uint64_t> limits;
    for (const SnapshotChain& c : w_.chains) limits.push_back(c.local_safe_at[view]);
    return limits;
  }
  // Per-chain limits for the level "unsafe".
  std::vector<uint64_t> UnsafeLimits() const {
    std::vector<uint64_t> limits;
    for (const SnapshotChain& c : w_.chains) limits.push_back(c.blocks.size() - 1);
    return limits;
  }

  // judged[c][n][k] = verdict on the k-th executing message of block n of chain c, n <= limits[c].
  using Judgement = std::vector<std::vector<std::vector<Judged>>>;

  Judgement Judge(const std::vector<uint64_t>& limits) const {
    Judgement out(NumChains());
    for (size_t c = 0; c < NumChains(); ++c) {
      out[c].resize(limits[c] + 1);
      for (uint64_t n = 0; n <= limits[c]; ++n)
        for (const ExecLog& e : execs_[c][n]) out[c][n].push_back(JudgeOne(e, limits));
    }
    // Executing messages on a log-level cycle are invalid.
    std::set<LogPos> on_cycle = ExecLogsOnCycles(limits);
    for (size_t c = 0; c < NumChains(); ++c)
      for (uint64_t n = 0; n <= limits[c]; ++n)
        for (size_t k = 0; k < execs_[c][n].size(); ++k)
          if (on_cycle.count(LogPos{c, n, execs_[c][n][k].log_index}))
            out[c][n][k].verdict = Verdict::kInvalid;
    return out;
  }

  // Greatest fixed point: the highest block per chain such that every block up to it (from 1;
  // block 0 has no logs) has only kDepends messages whose source block is within its chain's
  // head. Same-timestamp sources are in the same set, so a set is kept or dropped as a whole.
  std::vector<uint64_t> Heads(const std::vector<uint64_t>& limits, const Judgement& judged) const {
    std::vector<uint64_t> heads = limits;
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t c = 0; c < NumChains(); ++c) {
        for (uint64_t n = 1; n <= heads[c]; ++n) {
          if (!BlockSupported(judged[c][n], heads)) {
            heads[c] = n - 1;
            changed = true;
            break;
          }
        }
      }
    }
    return heads;
  }

  // Least fixed point: invalid[c] = the blocks of chain c (<= limits[c]) that are invalid at the
  // level, ascending. A block is invalid if one of its messages is kInvalid, or depends on a block
  // that is invalid or builds on an invalid block of its chain (at or above its first invalid one).
  std::vector<std::vector<uint64_t>> Invalid(const std::vector<uint64_t>& limits,
                                             const Judgement& judged) const {
    std::vector<std::vector<bool>> invalid(NumChains());
    std::vector<uint64_t> first_invalid(NumChains(), kNone);
    for (size_t c = 0; c < NumChains(); ++c) invalid[c].assign(limits[c] + 1, false);
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t c = 0; c < NumChains(); ++c) {
        for (uint64_t n = 0; n <= limits[c]; ++n) {
          if (invalid[c][n]) continue;
          bool bad = false;
          for (const Judged& j : judged[c][n]) {
            if (j.verdict == Verdict::kInvalid) bad = true;
            if (j.verdict == Verdict::kDepends && first_invalid[j.chain] <= j.block) bad = true;
          }
          if (!bad) continue;
          invalid[c][n] = true;
          first_invalid[c] = std::min(first_invalid[c], n);
          changed = true;
        }
      }
    }
    std::vector<std::vector<uint64_t>> out(NumChains());
    for (size_t c = 0; c < NumChains(); ++c)
      for (uint64_t n = 0; n <= limits[c]; ++n)
        if (invalid[c][n]) out[c].push_back(n);
    return out;
  }

 private:
  // The snapshot is the world's ground truth; a malformed one is a bug in the runner.
  void CheckSnapshot() const {
    for (size_t c = 0; c < w_.chains.size(); ++c) {
      const SnapshotChain& chain = w_.chains[c];
      const std::string who = "reference model: chain " + chain.name + ": ";
      SS_CHECK(chain.block_time > 0, who + "block_time is 0");
      SS_CHECK(!chain.blocks.empty(), who + "no blocks (block 0 is always there)");
      SS_CHECK(!chain.local_safe_at.empty(), who + "no local_safe_at[0] (the genesis group)");
      for (size_t d = 0; d < c; ++d)
        SS_CHECK(w_.chains[d].id != chain.id, who + "chain ID " + chain.id.Decimal() + " listed twice");
      for (size_t n = 0; n < chain.blocks.size(); ++n) {
        const SnapshotBlock& b = chain.blocks[n];
        SS_CHECK(b.number == n, who + "blocks[" + std::to_string(n) + "] has number " +
                                    std::to_string(b.number));
        SS_CHECK(IsTimeOfBlock(chain, n, b.timestamp),
                 who + "block " + std::to_string(n) + " has timestamp " + std::to_string(b.timestamp));
        if (n > 0)
          SS_CHECK(b.parent_hash == chain.blocks[n - 1].hash,
                   who + "block " + std::to_string(n) + " does not build on block " + std::to_string(n - 1));
      }
      for (uint64_t ls : chain.local_safe_at)
        SS_CHECK(ls < chain.blocks.size(), who + "local-safe block " + std::to_string(ls) +
                                               " is not on the unsafe chain");
    }
  }

  std::optional<size_t> ChainIndexOf(const ChainID& id) const {
    for (size_t c = 0; c < w_.chains.size(); ++c)
      if (w_.chains[c].id == id) return c;
    return std::nullopt;
  }

  // Rules 1, 3, 4, 5, 6: they need only the identifier and the executing block.
  bool StaticRulesHold(size_t exec_chain, const SnapshotBlock& exec_block, const ExecLog& e) const {
    const Identifier& id = e.msg.id;
    const uint64_t t_exec = exec_block.timestamp;
    if (!e.source) return false;                                          // 1
    if (id.timestamp > t_exec) return false;                              // 3
    if (t_exec - id.timestamp > w_.expiry_window) return false;           // 4 (equality valid)
    if (exec_block.number <= activation_[exec_chain]) return false;       // 5 (executing side)
    if (id.block_number <= activation_[*e.source]) return false;          // 5 (initiating side)
    if (!IsTimeOfBlock(w_.chains[*e.source], id.block_number, id.timestamp)) return false;  // 6
    return true;
  }

  // Rule 2 against the blocks known at the level: wait while the source block is above the
  // level's limit for its chain; otherwise the log must exist with the right hash and time.
  Judged JudgeOne(const ExecLog& e, const std::vector<uint64_t>& limits) const {
    Judged j;
    if (e.malformed || !e.static_ok) return j;  // kInvalid
    const Identifier& id = e.msg.id;
    const size_t s = *e.source;
    if (id.block_number > limits[s]) {
      j.verdict = Verdict::kWait;
      return j;
    }
    const SnapshotBlock& src = w_.chains[s].blocks[id.block_number];
    const std::vector<Hash>& hashes = log_hashes_[s][id.block_number];
    if (src.timestamp != id.timestamp) return j;
    if (id.log_index >= hashes.size()) return j;
    if (hashes[id.log_index] != e.msg.ExpectedLogHash()) return j;
    j.verdict = Verdict::kDepends;
    j.chain = s;
    j.block = id.block_number;
    return j;
  }

  // A block's messages all depend on blocks within `heads`.
  static bool BlockSupported(const std::vector<Judged>& messages, const std::vector<uint64_t>& heads) {
    for (const Judged& j : messages) {
      if (j.verdict != Verdict::kDepends) return false;
      if (j.block > heads[j.chain]) return false;
    }
    return true;
  }

  // The log graph over every block within `limits`: log i -> log i+1 of the same block, and an
  // initiating log -> each executing log that references it from a block at the same timestamp.
  // (Only same-timestamp references make edges, so each cycle lies within one timestamp, as the
  // spec's per-timestamp graph has it.) Returns the executing logs that can reach themselves.
  std::set<LogPos> ExecLogsOnCycles(const std::vector<uint64_t>& limits) const {
    std::map<LogPos, std::vector<LogPos>> edges;
    for (size_t c = 0; c < NumChains(); ++c) {
      for (uint64_t n = 0; n <= limits[c]; ++n) {
        const size_t count = log_hashes_[c][n].size();
        for (uint32_t i = 0; i + 1 < count; ++i) edges[LogPos{c, n, i}].push_back(LogPos{c, n, i + 1});
        for (const ExecLog& e : execs_[c][n]) {
          std::optional<LogPos> target = SameTimestampTarget(c, n, e, limits);
          if (target) edges[*target].push_back(LogPos{c, n, e.log_index});
        }
      }
    }
    std::set<LogPos> out;
    for (size_t c = 0; c < NumChains(); ++c) {
      for (uint64_t n = 0; n <= limits[c]; ++n) {
        for (const ExecLog& e : execs_[c][n]) {
          LogPos self{c, n, e.log_index};
          if (Reaches(edges, self, self)) out.insert(self);
        }
      }
    }
    return out;
  }

  // The log an executing message points at, when it exists within `limits` in a block with the
  // same timestamp as the executing block. Whether the hash matches does not matter here: a
  // mismatch makes the message invalid anyway, and everything on a cycle through an invalid
  // block is invalid by cascade too.
  std::optional<LogPos> SameTimestampTarget(size_t c, uint64_t n, const ExecLog& e,
                                            const std::vector<uint64_t>& limits) const {
    if (e.malformed || !e.source) return std::nullopt;
    const size_t s = *e.source;
    const uint64_t bn = e.msg.id.block_number;
    if (bn > limits[s]) return std::nullopt;
    if (w_.chains[s].blocks[bn].timestamp != w_.chains[c].blocks[n].timestamp) return std::nullopt;
    if (e.msg.id.log_index >= log_hashes_[s][bn].size()) return std::nullopt;
    return LogPos{s, bn, e.msg.id.log_index};
  }

  // Is there a path of one edge or more from `from` to `to`?
  static bool Reaches(const std::map<LogPos, std::vector<LogPos>>& edges, LogPos from, LogPos to) {
    std::set<LogPos> seen;
    std::deque<LogPos> queue;
    auto push_successors = [&](const LogPos& p) {
      auto it = edges.find(p);
      if (it == edges.end()) return;
      for (const LogPos& q : it->second)
        if (seen.insert(q).second) queue.push_back(q);
    };
    push_successors(from);
    while (!queue.empty()) {
      LogPos p = queue.front();
      queue.pop_front();
      if (p == to) return true;
      push_successors(p);
    }
    return false;
  }

  const WorldSnapshot& w_;
  std::vector<uint64_t> activation_;                        // [chain]
  std::vector<std::vector<std::vector<Hash>>> log_hashes_;  // [chain][block][log]
  std::vector<std::vector<std::vector<ExecLog>>> execs_;    // [chain][block][k]
};

}  // namespace

Expected ComputeExpected(const WorldSnapshot& world) {
  Expected out;
  if (world.chains.empty()) return out;
  const Model model(world);

  uint64_t view = kNone;
  for (const SnapshotChain& c : world.chains) view = std::min<uint64_t>(view, c.local_safe_at.size() - 1);
  const uint64_t final_view = std::min(world.l1_finalized, view);

  const std::vector<uint64_t> unsafe = model.UnsafeLimits();
  const std::vector<uint64_t> cross_unsafe = model.Heads(unsafe, model.Judge(unsafe));

  const std::vector<uint64_t> local_safe = model.LocalSafeLimits(view);
  const Model::Judgement at_view = model.Judge(local_safe);
  const std::vector<uint64_t> cross_safe = model.Heads(local_safe, at_view);
  const std::vector<std::vector<uint64_t>> invalid = model.Invalid(local_safe, at_view);

  const std::vector<uint64_t> local_safe_final = model.LocalSafeLimits(final_view);
  const std::vector<uint64_t> finalized = model.Heads(local_safe_final, model.Judge(local_safe_final));

  for (size_t c = 0; c < world.chains.size(); ++c) {
    ExpectedHeads h;
    h.unsafe = unsafe[c];
    h.cross_unsafe = cross_unsafe[c];
    h.view = view;
    h.local_safe = invalid[c].empty() ? local_safe[c] : invalid[c].front();
    h.cross_safe = cross_safe[c];
    h.finalized = finalized[c];
    h.invalid = invalid[c];
    // The two fixed points agree: nothing invalid is cross-safe.
    SS_CHECK(invalid[c].empty() || cross_safe[c] < invalid[c].front(),
             "reference model: chain " + world.chains[c].name + " cross-safe past an invalid block");
    out.chains.push_back(std::move(h));
  }
  return out;
}

}  // namespace supersafe::sim
