// The reference model (see reference_model.h and docs/reference-model.md).
//
// Written to be read: every level is a plain fixed-point loop over the blocks it has to look at.
// It uses only value types and hashing from src/core; it shares nothing with src/supervisor.
//
// Three computations, all over one "level" = a per-chain limit (the highest block number known
// at that level: the unsafe head for cross-unsafe, local_safe_at[view] for cross-safe):
//   1. Judge every executing message against the level: kInvalid, kWait, kMismatch(source) or
//      kDepends(source), and whether it lies on a same-timestamp cycle.
//   2. Heads: the greatest per-chain prefix in which every block's messages are kDepends on a
//      block that is itself inside the prefix (greatest fixed point; same-timestamp sets go up
//      together because a set that supports itself survives the loop).
//   3. Invalid blocks: timestamp by timestamp, the least fixed point of "has a kInvalid or
//      kMismatch message, or one on a cycle, or one naming the first invalid block of its source
//      chain"; a message naming a block above its chain's first invalid block waits.
//
// Incremental, and still the same computation: each level starts from a "base", a per-chain
// prefix already known to be closed (every block in it has only messages that depend on blocks
// inside it). A closed prefix whose blocks are unchanged stays closed at every level that contains
// it, is inside the greatest fixed point, holds no invalid block, and no log-graph cycle passes
// through it (a cycle through a block of the prefix can only go back through blocks the prefix
// depends on, which are inside it). So the three loops only need the blocks above the base; the
// heads of the previous call are such prefixes when their blocks have not changed.
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
  Hash expected_log_hash;         // msg.ExpectedLogHash(), valid only when !malformed
  std::optional<size_t> source;   // chain index of msg.id.chain_id, if in the dependency set
  bool static_ok = false;         // rules 1, 3, 4, 5, 6 hold
};

// What an executing message is, judged at one level: invalid whatever its source (a static rule,
// malformed), waiting (the source block is above the level), or naming a source block within the
// level that does not hold the log (kMismatch, rule 2) or does (kDepends).
enum class Verdict { kInvalid, kWait, kMismatch, kDepends };

struct Judged {
  Verdict verdict = Verdict::kInvalid;
  size_t chain = 0;       // source chain (kMismatch, kDepends)
  uint64_t block = 0;     // source block number (kMismatch, kDepends)
  bool on_cycle = false;  // on a log-level cycle among the level's blocks above the base
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

// The parameters every digest depends on; a snapshot with others starts the model afresh.
struct Config {
  struct Chain {
    std::string name;
    ChainID id;
    uint64_t genesis_time = 0, block_time = 0, interop_time = 0;
    bool operator==(const Chain&) const = default;
  };
  std::vector<Chain> chains;
  uint64_t expiry_window = 0;
  bool operator==(const Config&) const = default;

  static Config Of(const WorldSnapshot& w) {
    Config c;
    for (const SnapshotChain& s : w.chains)
      c.chains.push_back({s.name, s.id, s.genesis_time, s.block_time, s.interop_time});
    c.expiry_window = w.expiry_window;
    return c;
  }
};

// A block digested once: its identity, log count, and executing messages with the static rules
// applied. Log hashes are computed when a message references them.
struct Digest {
  Hash hash;
  uint64_t timestamp = 0;
  uint32_t log_count = 0;  // 0 for block 0 and deposit-only replacements (their logs are ignored)
  std::vector<ExecLog> execs;
  std::vector<std::optional<Hash>> log_hashes;  // [log], filled on demand (empty until then)
};

// A per-chain prefix known to be closed, with the hash of each chain's top block of it.
struct Prefix {
  std::vector<uint64_t> heads;
  std::vector<Hash> top;
};

}  // namespace

struct ReferenceModel::State {
  Config config;
  std::vector<uint64_t> activation;            // [chain]
  std::vector<std::vector<Digest>> digests;    // [chain][block]
  std::vector<Prefix> closed;                  // heads of the previous call (cross-unsafe, cross-safe, finalized)
};

namespace {

// judged[c][n - from[c]][k] = verdict on the k-th executing message of block n of chain c, for
// from[c] <= n <= limits[c].
struct Judgement {
  std::vector<uint64_t> from;
  std::vector<std::vector<std::vector<Judged>>> blocks;
  const std::vector<Judged>& At(size_t c, uint64_t n) const { return blocks[c][n - from[c]]; }
  std::vector<Judged>& At(size_t c, uint64_t n) { return blocks[c][n - from[c]]; }
};

// One Compute call: the snapshot and the model's digests of it.
class Model {
 public:
  Model(const WorldSnapshot& world, ReferenceModel::State& state) : w_(world), s_(state) {}

  size_t NumChains() const { return w_.chains.size(); }

  // Brings the digests up to date with the snapshot, checking what is new in it.
  void Sync() {
    const Config config = Config::Of(w_);
    if (!(config == s_.config) || s_.digests.size() != NumChains()) {
      s_ = ReferenceModel::State{};
      s_.config = config;
      s_.digests.resize(NumChains());
      for (const SnapshotChain& chain : w_.chains) s_.activation.push_back(ActivationBlock(chain));
    }
    for (size_t c = 0; c < NumChains(); ++c) {
      const SnapshotChain& chain = w_.chains[c];
      const std::string who = "reference model: chain " + chain.name + ": ";
      SS_CHECK(chain.block_time > 0, who + "block_time is 0");
      SS_CHECK(!chain.blocks.empty(), who + "no blocks (block 0 is always there)");
      SS_CHECK(!chain.local_safe_at.empty(), who + "no local_safe_at[0] (the genesis group)");
      for (size_t d = 0; d < c; ++d)
        SS_CHECK(w_.chains[d].id != chain.id, who + "chain ID " + chain.id.Decimal() + " listed twice");
      // Keep the digests of the blocks that are still there (same number and hash), drop the rest.
      std::vector<Digest>& digests = s_.digests[c];
      size_t keep = std::min(digests.size(), chain.blocks.size());
      while (keep > 0 && digests[keep - 1].hash != chain.blocks[keep - 1].hash) --keep;
      digests.resize(keep);
      for (size_t n = keep; n < chain.blocks.size(); ++n) {
        const SnapshotBlock& b = chain.blocks[n];
        SS_CHECK(b.number == n, who + "blocks[" + std::to_string(n) + "] has number " + std::to_string(b.number));
        SS_CHECK(IsTimeOfBlock(chain, n, b.timestamp),
                 who + "block " + std::to_string(n) + " has timestamp " + std::to_string(b.timestamp));
        if (n > 0)
          SS_CHECK(b.parent_hash == chain.blocks[n - 1].hash,
                   who + "block " + std::to_string(n) + " does not build on block " + std::to_string(n - 1));
        digests.push_back(DigestOf(c, b));
      }
      for (uint64_t ls : chain.local_safe_at)
        SS_CHECK(ls < chain.blocks.size(), who + "local-safe block " + std::to_string(ls) +
                                               " is not on the unsafe chain");
    }
  }

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

  // The greatest prefix within `limits` that the previous call's heads prove closed: the
  // pointwise maximum of those whose blocks are all still there and that fit in `limits`
  // (block 0 alone, which has no logs, when none does).
  std::vector<uint64_t> Base(const std::vector<uint64_t>& limits) const {
    std::vector<uint64_t> base(NumChains(), 0);
    for (const Prefix& p : s_.closed) {
      bool usable = true;
      for (size_t c = 0; c < NumChains() && usable; ++c)
        usable = p.heads[c] <= limits[c] && s_.digests[c][p.heads[c]].hash == p.top[c];
      if (!usable) continue;
      for (size_t c = 0; c < NumChains(); ++c) base[c] = std::max(base[c], p.heads[c]);
    }
    return base;
  }
  void RememberClosed(const std::vector<std::vector<uint64_t>>& heads) {
    s_.closed.clear();
    for (const auto& h : heads) {
      Prefix p;
      p.heads = h;
      for (size_t c = 0; c < NumChains(); ++c) p.top.push_back(s_.digests[c][h[c]].hash);
      s_.closed.push_back(std::move(p));
    }
  }

  // Judges the executing messages of every block above `base` and within `limits`.
  Judgement Judge(const std::vector<uint64_t>& limits, const std::vector<uint64_t>& base) {
    Judgement out;
    out.blocks.resize(NumChains());
    for (size_t c = 0; c < NumChains(); ++c) {
      out.from.push_back(base[c] + 1);
      for (uint64_t n = base[c] + 1; n <= limits[c]; ++n) {
        out.blocks[c].emplace_back();
        for (const ExecLog& e : Execs(c, n)) out.blocks[c].back().push_back(JudgeOne(e, limits));
      }
    }
    // Executing messages on a log-level cycle.
    std::vector<std::pair<size_t, uint64_t>> blocks;
    for (size_t c = 0; c < NumChains(); ++c)
      for (uint64_t n = base[c] + 1; n <= limits[c]; ++n) blocks.push_back({c, n});
    auto in_graph = [&](size_t c, uint64_t n) { return n > base[c] && n <= limits[c]; };
    for (const LogPos& p : ExecLogsOnCycles(blocks, in_graph)) MarkOnCycle(out, p);
    return out;
  }

  // Greatest fixed point: the highest block per chain such that every block up to it (from 1;
  // block 0 has no logs) has only kDepends messages whose source block is within its chain's
  // head. Same-timestamp sources are in the same set, so a set is kept or dropped as a whole.
  // Blocks up to `base` (closed) are not looked at: they always stay.
  std::vector<uint64_t> Heads(const std::vector<uint64_t>& limits, const std::vector<uint64_t>& base,
                              const Judgement& judged) const {
    std::vector<uint64_t> heads = limits;
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t c = 0; c < NumChains(); ++c) {
        for (uint64_t n = std::max<uint64_t>(1, base[c] + 1); n <= heads[c]; ++n) {
          if (!BlockSupported(judged.At(c, n), heads)) {
            heads[c] = n - 1;
            changed = true;
            break;
          }
        }
      }
    }
    return heads;
  }

  // Invalid blocks: invalid[c] = the blocks of chain c (<= limits[c]) that are invalid at the
  // level, ascending. Blocks up to `heads` (the level's greatest fixed point, closed) are never
  // invalid. The view is judged timestamp by timestamp (a message names blocks at its own
  // timestamp or earlier): a block's chain's blocks above its first invalid one are not in the
  // view (they are dropped or derived again after the replacement), so a message naming one of
  // them waits. At each timestamp, the least fixed point over the blocks in the view: a block is
  // invalid if one of its messages is kInvalid, names the first invalid block of its source chain,
  // or names a source block below that (or in a chain with none) that does not hold the log
  // (kMismatch), or lies on a log-level cycle among the blocks in the view at that timestamp.
  // Blocks above their chain's first invalid one are listed too when a message is invalid by the
  // same rules without cycles (diagnostics; they affect nothing).
  std::vector<std::vector<uint64_t>> Invalid(const std::vector<uint64_t>& limits, const std::vector<uint64_t>& heads,
                                             const Judgement& judged) const {
    std::map<uint64_t, std::vector<std::pair<size_t, uint64_t>>> by_timestamp;
    for (size_t c = 0; c < NumChains(); ++c)
      for (uint64_t n = heads[c] + 1; n <= limits[c]; ++n) by_timestamp[s_.digests[c][n].timestamp].push_back({c, n});
    std::vector<uint64_t> first_invalid(NumChains(), kNone);
    std::vector<std::vector<uint64_t>> out(NumChains());
    // A message's verdict given the first invalid blocks known so far: true if it is invalid.
    auto invalid_message = [&](const Judged& j, bool on_cycle) {
      if (j.verdict == Verdict::kInvalid) return true;
      if (j.verdict == Verdict::kWait) return false;
      if (j.block > first_invalid[j.chain]) return false;  // the source is not in the view: wait
      if (j.block == first_invalid[j.chain]) return true;
      return j.verdict == Verdict::kMismatch || on_cycle;
    };
    for (const auto& [timestamp, blocks] : by_timestamp) {
      std::vector<std::pair<size_t, uint64_t>> in_view, beyond;
      for (const auto& [c, n] : blocks) (n < first_invalid[c] ? in_view : beyond).push_back({c, n});
      std::set<std::pair<size_t, uint64_t>> view_set(in_view.begin(), in_view.end());
      const std::set<LogPos> cycles =
          ExecLogsOnCycles(in_view, [&](size_t c, uint64_t n) { return view_set.count({c, n}) > 0; });
      std::set<std::pair<size_t, uint64_t>> bad;
      bool changed = true;
      while (changed) {
        changed = false;
        for (const auto& [c, n] : in_view) {
          if (bad.count({c, n})) continue;
          const std::vector<ExecLog>& execs = Execs(c, n);
          bool invalid = false;
          for (size_t k = 0; k < execs.size() && !invalid; ++k)
            invalid = invalid_message(judged.At(c, n)[k], cycles.count(LogPos{c, n, execs[k].log_index}) > 0);
          if (!invalid) continue;
          bad.insert({c, n});
          first_invalid[c] = n;  // one block per chain and timestamp, and none below it invalid
          changed = true;
        }
      }
      for (const auto& [c, n] : beyond) {
        bool invalid = false;
        for (const Judged& j : judged.At(c, n)) invalid = invalid || invalid_message(j, false);
        if (invalid) bad.insert({c, n});
      }
      for (const auto& [c, n] : bad) out[c].push_back(n);
    }
    for (std::vector<uint64_t>& v : out) std::sort(v.begin(), v.end());
    return out;
  }

 private:
  std::optional<size_t> ChainIndexOf(const ChainID& id) const {
    for (size_t c = 0; c < w_.chains.size(); ++c)
      if (w_.chains[c].id == id) return c;
    return std::nullopt;
  }

  const std::vector<ExecLog>& Execs(size_t c, uint64_t n) const { return s_.digests[c][n].execs; }

  Digest DigestOf(size_t c, const SnapshotBlock& b) const {
    Digest d;
    d.hash = b.hash;
    d.timestamp = b.timestamp;
    if (HasNoLogs(b)) return d;
    const std::vector<Log>& logs = b.Logs();
    d.log_count = static_cast<uint32_t>(logs.size());
    for (uint32_t i = 0; i < logs.size(); ++i) {
      auto decoded = DecodeExecutingMessage(logs[i]);
      if (!decoded.ok()) {
        ExecLog e;
        e.log_index = i;
        e.malformed = true;
        d.execs.push_back(e);
        continue;
      }
      if (!decoded->has_value()) continue;  // a plain log
      ExecLog e;
      e.log_index = i;
      e.msg = **decoded;
      e.expected_log_hash = e.msg.ExpectedLogHash();
      e.source = ChainIndexOf(e.msg.id.chain_id);
      e.static_ok = StaticRulesHold(c, b, e);
      d.execs.push_back(e);
    }
    return d;
  }

  // The hash of log `i` of block `n` of chain `c` (i < its log count).
  const Hash& LogHashAt(size_t c, uint64_t n, uint32_t i) {
    Digest& d = s_.digests[c][n];
    if (d.log_hashes.empty()) d.log_hashes.resize(d.log_count);
    if (!d.log_hashes[i]) d.log_hashes[i] = LogHashOf(w_.chains[c].blocks[n].Logs()[i]);
    return *d.log_hashes[i];
  }

  // Rules 1, 3, 4, 5, 6: they need only the identifier and the executing block.
  bool StaticRulesHold(size_t exec_chain, const SnapshotBlock& exec_block, const ExecLog& e) const {
    const Identifier& id = e.msg.id;
    const uint64_t t_exec = exec_block.timestamp;
    if (!e.source) return false;                                          // 1
    if (id.timestamp > t_exec) return false;                              // 3
    if (t_exec - id.timestamp > w_.expiry_window) return false;           // 4 (equality valid)
    if (exec_block.number <= s_.activation[exec_chain]) return false;     // 5 (executing side)
    if (id.block_number <= s_.activation[*e.source]) return false;        // 5 (initiating side)
    if (!IsTimeOfBlock(w_.chains[*e.source], id.block_number, id.timestamp)) return false;  // 6
    return true;
  }

  // Rule 2 against the blocks known at the level: wait while the source block is above the
  // level's limit for its chain; otherwise the log must exist with the right hash and time.
  Judged JudgeOne(const ExecLog& e, const std::vector<uint64_t>& limits) {
    Judged j;
    if (e.malformed || !e.static_ok) return j;  // kInvalid
    const Identifier& id = e.msg.id;
    const size_t s = *e.source;
    if (id.block_number > limits[s]) {
      j.verdict = Verdict::kWait;
      return j;
    }
    j.chain = s;
    j.block = id.block_number;
    j.verdict = Verdict::kMismatch;
    const Digest& src = s_.digests[s][id.block_number];
    if (src.timestamp != id.timestamp) return j;
    if (id.log_index >= src.log_count) return j;
    if (LogHashAt(s, id.block_number, id.log_index) != e.expected_log_hash) return j;
    j.verdict = Verdict::kDepends;
    return j;
  }

  // A block's messages all depend on blocks within `heads`.
  static bool BlockSupported(const std::vector<Judged>& messages, const std::vector<uint64_t>& heads) {
    for (const Judged& j : messages) {
      if (j.verdict != Verdict::kDepends || j.on_cycle) return false;
      if (j.block > heads[j.chain]) return false;
    }
    return true;
  }

  // The log graph over `blocks`: log i -> log i+1 of the same block, and an initiating log -> each
  // executing log of `blocks` that references it from a block with the same timestamp, when the
  // referenced block is `in_graph` (only same-timestamp references make edges, so each cycle lies
  // within one timestamp, as the spec's per-timestamp graph has it). Returns the executing logs
  // that can reach themselves. Every cycle has a reference edge, and enters each of its blocks
  // through one, so only blocks with a reference edge (in or out) are put in the graph.
  template <typename InGraph>
  std::set<LogPos> ExecLogsOnCycles(const std::vector<std::pair<size_t, uint64_t>>& blocks,
                                    const InGraph& in_graph) const {
    std::vector<std::pair<LogPos, LogPos>> references;  // (initiating log, executing log)
    for (const auto& [c, n] : blocks) {
      for (const ExecLog& e : Execs(c, n)) {
        std::optional<LogPos> target = SameTimestampTarget(c, n, e, in_graph);
        if (target) references.push_back({*target, LogPos{c, n, e.log_index}});
      }
    }
    std::set<LogPos> out;
    if (references.empty()) return out;
    std::set<std::pair<size_t, uint64_t>> graph_blocks;
    for (const auto& [from, to] : references) {
      graph_blocks.insert({from.chain, from.block});
      graph_blocks.insert({to.chain, to.block});
    }
    std::map<LogPos, std::vector<LogPos>> edges;
    for (const auto& [c, n] : graph_blocks) {
      const uint32_t count = s_.digests[c][n].log_count;
      for (uint32_t i = 0; i + 1 < count; ++i) edges[LogPos{c, n, i}].push_back(LogPos{c, n, i + 1});
    }
    for (const auto& [from, to] : references) edges[from].push_back(to);
    for (const auto& [c, n] : graph_blocks) {
      for (const ExecLog& e : Execs(c, n)) {
        LogPos self{c, n, e.log_index};
        if (Reaches(edges, self, self)) out.insert(self);
      }
    }
    return out;
  }

  // The log an executing message points at, when it exists in an `in_graph` block with the same
  // timestamp as the executing block. Whether the hash matches does not matter here: a mismatch
  // makes the message invalid anyway, and everything on a cycle through an invalid block is
  // invalid by cascade too.
  template <typename InGraph>
  std::optional<LogPos> SameTimestampTarget(size_t c, uint64_t n, const ExecLog& e, const InGraph& in_graph) const {
    if (e.malformed || !e.source) return std::nullopt;
    const size_t s = *e.source;
    const uint64_t bn = e.msg.id.block_number;
    if (!in_graph(s, bn)) return std::nullopt;
    if (s_.digests[s][bn].timestamp != s_.digests[c][n].timestamp) return std::nullopt;
    if (e.msg.id.log_index >= s_.digests[s][bn].log_count) return std::nullopt;
    return LogPos{s, bn, e.msg.id.log_index};
  }

  static void MarkOnCycle(Judgement& judged, const LogPos& p, const std::vector<ExecLog>& execs) {
    for (size_t k = 0; k < execs.size(); ++k)
      if (execs[k].log_index == p.log) judged.At(p.chain, p.block)[k].on_cycle = true;
  }
  void MarkOnCycle(Judgement& judged, const LogPos& p) const { MarkOnCycle(judged, p, Execs(p.chain, p.block)); }

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
  ReferenceModel::State& s_;
};

}  // namespace

ReferenceModel::ReferenceModel() : state_(std::make_unique<State>()) {}
ReferenceModel::~ReferenceModel() = default;

Expected ReferenceModel::Compute(const WorldSnapshot& world) {
  Expected out;
  if (world.chains.empty()) {
    *state_ = State{};
    return out;
  }
  Model model(world, *state_);
  model.Sync();

  uint64_t view = kNone;
  for (const SnapshotChain& c : world.chains) view = std::min<uint64_t>(view, c.local_safe_at.size() - 1);
  const uint64_t final_view = std::min(world.l1_finalized, view);

  const std::vector<uint64_t> unsafe = model.UnsafeLimits();
  const std::vector<uint64_t> unsafe_base = model.Base(unsafe);
  const std::vector<uint64_t> cross_unsafe = model.Heads(unsafe, unsafe_base, model.Judge(unsafe, unsafe_base));

  const std::vector<uint64_t> local_safe = model.LocalSafeLimits(view);
  const std::vector<uint64_t> safe_base = model.Base(local_safe);
  const Judgement at_view = model.Judge(local_safe, safe_base);
  const std::vector<uint64_t> cross_safe = model.Heads(local_safe, safe_base, at_view);
  const std::vector<std::vector<uint64_t>> invalid = model.Invalid(local_safe, cross_safe, at_view);

  const std::vector<uint64_t> local_safe_final = model.LocalSafeLimits(final_view);
  const std::vector<uint64_t> final_base = model.Base(local_safe_final);
  const std::vector<uint64_t> finalized =
      model.Heads(local_safe_final, final_base, model.Judge(local_safe_final, final_base));

  model.RememberClosed({cross_unsafe, cross_safe, finalized});

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

Expected ComputeExpected(const WorldSnapshot& world) { return ReferenceModel().Compute(world); }

}  // namespace supersafe::sim
