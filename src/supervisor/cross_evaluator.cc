#include "supervisor/cross_evaluator.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "supervisor/validity.h"

namespace supersafe::supervisor {

struct CrossMemoState {
  const DependencySet* deps = nullptr;
  std::vector<const db::EventDB*> events;
  std::vector<uint64_t> removals;      // per chain, the event DB's removals() when the memo started
  std::vector<uint64_t> invalid_from;  // as when the memo started
  std::vector<uint64_t> limits;        // of the last run (each at least the one before)
  // Per chain: the memo covers blocks [from, next_new) with executing messages; of those, the
  // ones not listed are settled (known valid, or waiting until invalid_from changes).
  std::vector<uint64_t> from, next_new;
  std::vector<std::map<uint64_t, uint64_t>> active;          // number -> timestamp: judged every run
  std::vector<std::map<uint64_t, uint64_t>> same_timestamp;  // number -> timestamp: settled, may be on a cycle
  // Per source chain: (source block, chain, block) of settled blocks with a message waiting until
  // that chain's limit reaches the source block (the lowest such source per block and chain).
  std::vector<std::set<std::tuple<uint64_t, size_t, uint64_t>>> wake;
  std::map<std::pair<size_t, uint64_t>, std::vector<std::pair<size_t, uint64_t>>> waits;  // its wake entries
};

CrossMemo::CrossMemo() : state(std::make_unique<CrossMemoState>()) {}
CrossMemo::~CrossMemo() = default;

namespace {

struct Member {
  size_t chain;
  uint64_t number;
  uint64_t timestamp;
  std::vector<db::LogRecord> logs;
};

enum class Verdict { kPromote, kWait, kInvalid };

class Evaluator {
 public:
  Evaluator(const CrossInput& in, CrossMemoState* memo)
      : in_(in), memo_(memo), heads_(in.heads), invalid_from_(in.invalid_from) {}

  Result<CrossOutput> Run() {
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t c = 0; c < heads_.size(); ++c) {
        while (heads_[c] < in_.limits[c] && heads_[c] + 1 < invalid_from_[c]) {
          SS_ASSIGN_OR_RETURN(Verdict v, TryPromote(c));
          if (v == Verdict::kPromote) {
            changed = true;
            continue;
          }
          if (v == Verdict::kInvalid) changed = true;
          break;
        }
      }
      if (!changed && in_.judge_beyond_waits) {
        SS_ASSIGN_OR_RETURN(changed, JudgeBeyondWaits());
      }
    }
    return CrossOutput{heads_, invalid_from_, std::move(invalidations_), blocks_loaded_};
  }

 private:
  void MarkInvalid(size_t chain, uint64_t number, std::string reason) {
    if (memo_ != nullptr) memo_->deps = nullptr;  // starts over: what it holds rests on invalid_from
    if (number < invalid_from_[chain]) invalid_from_[chain] = number;
    invalidations_.push_back({chain, number, std::move(reason)});
  }

  Result<Member> Load(size_t chain, uint64_t number) {
    ++blocks_loaded_;
    SS_ASSIGN_OR_RETURN(BlockRef ref, in_.events[chain]->Block(number));
    SS_ASSIGN_OR_RETURN(auto logs, in_.events[chain]->Logs(number));
    return Member{chain, number, ref.timestamp, std::move(logs)};
  }

  // Promotes the candidate after chain c's head with its same-timestamp set, or says why not.
  Result<Verdict> TryPromote(size_t c) {
    std::vector<Member> set;
    std::map<size_t, size_t> member_of_chain;  // chain -> index in set
    SS_ASSIGN_OR_RETURN(Member first, Load(c, heads_[c] + 1));
    set.push_back(std::move(first));
    member_of_chain[c] = 0;

    // Every message of every member is looked at before waiting: a message that is certainly
    // invalid makes its block invalid even while another message of the set still waits.
    bool waiting = false;
    for (size_t m = 0; m < set.size(); ++m) {
      for (const db::LogRecord& log : set[m].logs) {
        if (!log.exec) continue;
        const db::ExecRef& ref = *log.exec;
        MessageVerdict v = JudgeMessage(set[m], ref);
        if (v.kind == MessageVerdict::kInvalid) {
          MarkInvalid(set[m].chain, set[m].number, std::move(v.reason));
          return Verdict::kInvalid;
        }
        if (v.kind == MessageVerdict::kWait || v.kind == MessageVerdict::kDeferred) {
          waiting = true;
          continue;
        }
        const size_t s = v.source_chain;
        if (ref.block_number <= heads_[s]) continue;
        // Same timestamp: the source joins the set; it must be its chain's next candidate
        // (one block per chain per timestamp). An earlier-timestamp source must be promoted first.
        if (ref.timestamp < set[m].timestamp || (!member_of_chain.count(s) && ref.block_number != heads_[s] + 1)) {
          waiting = true;
          continue;
        }
        if (member_of_chain.count(s)) continue;
        SS_ASSIGN_OR_RETURN(Member joined, Load(s, ref.block_number));
        member_of_chain[s] = set.size();
        set.push_back(std::move(joined));
      }
    }
    if (waiting) return Verdict::kWait;
    if (auto cyclic = FindCycle(set, member_of_chain)) {
      MarkInvalid(cyclic->first, cyclic->second, "executing message on a same-timestamp cycle");
      return Verdict::kInvalid;
    }
    for (const Member& m : set) heads_[m.chain] = m.number;
    return Verdict::kPromote;
  }

  // The blocks above the heads that no candidate reaches yet: marks the first one of each chain that
  // is invalid in its own right, then the blocks on same-timestamp cycles. When neither is found,
  // decides the deferred verdict (of a message, or a cycle through a block that is not its
  // chain's candidate) with the lowest timestamp. True if it marked any.
  //
  // Why the lowest timestamp is right: a message only names blocks at its own timestamp or
  // earlier, so when nothing else moves, nothing can change any more for the blocks before that
  // timestamp, and so whether a source block is still in the view is settled.
  //
  // Only blocks with executing messages can be invalid or deferred, and the memo (CrossMemo) says
  // which of those can be now: the others hold only known-valid messages and messages that wait.
  // Those are looked at in the same order as every block would be (chain, then number), so the
  // first invalid one is the same. A timestamp's set can only hold a cycle if an executing message
  // at that timestamp names a log of a member (a block at that timestamp in the range): through a
  // known-valid message, one whose source claims, and has, the same timestamp; a waiting message's
  // source lies above its chain's range. Those timestamps are checked with every block of the
  // range at that timestamp, executing messages or not, as the set always was.
  Result<bool> JudgeBeyondWaits() {
    CrossMemoState& memo = *memo_;
    SyncMemo(memo);
    const size_t chains = heads_.size();
    std::optional<Deferred> first;
    auto defer = [&](const Member& m, std::string reason) {
      Deferred d{m.timestamp, m.chain, m.number, std::move(reason)};
      if (!first || std::tie(d.timestamp, d.chain, d.number) < std::tie(first->timestamp, first->chain, first->number))
        first = std::move(d);
    };
    // What to judge now: the blocks whose verdicts may differ from the last run's, or new ones.
    std::set<std::pair<size_t, uint64_t>> judge;
    for (size_t c = 0; c < chains; ++c) {
      const auto [lo, hi] = Range(c);
      PruneBelow(memo, c, lo);
      for (auto it = memo.active[c].begin(); it != memo.active[c].end() && it->first <= hi; ++it)
        judge.insert({c, it->first});
      for (auto n = in_.events[c]->NextWithExecutingMessages(std::max(memo.next_new[c], lo)); n && *n <= hi;
           n = in_.events[c]->NextWithExecutingMessages(*n + 1))
        judge.insert({c, *n});
      if (in_.judge_every_block)
        for (uint64_t n = lo; n <= hi; ++n) judge.insert({c, n});
    }
    for (size_t s = 0; s < chains; ++s) {
      auto& wake = memo.wake[s];
      while (!wake.empty() && std::get<0>(*wake.begin()) <= in_.limits[s]) {
        const auto [ref, c, n] = *wake.begin();
        Forget(memo, c, n);
        if (n >= Range(c).first) judge.insert({c, n});
      }
    }
    std::set<uint64_t> timestamps;  // that may hold a cycle
    for (const auto& [c, n] : judge) {
      SS_ASSIGN_OR_RETURN(Member m, Load(c, n));
      if (in_.judge_every_block) timestamps.insert(m.timestamp);
      BlockVerdict v = JudgeBlock(m);
      // The candidate itself was judged by TryPromote.
      if (v.invalid && n > heads_[c] + 1) {
        MarkInvalid(c, n, std::move(*v.invalid));
        return true;
      }
      if (v.deferred) defer(m, std::move(*v.deferred));
      Remember(memo, m, v);
    }
    for (size_t c = 0; c < chains; ++c) {
      memo.next_new[c] = std::max(memo.next_new[c], Range(c).second + 1);
      for (const auto* blocks : {&memo.active[c], &memo.same_timestamp[c]})
        for (const auto& [n, timestamp] : *blocks) timestamps.insert(timestamp);
    }
    for (uint64_t timestamp : timestamps) {
      std::vector<Member> set;  // every block at the timestamp in the range, in chain then number order
      for (size_t c = 0; c < chains; ++c) {
        const auto [lo, hi] = Range(c);
        if (lo > hi) continue;
        for (uint64_t n : in_.events[c]->BlocksWithTimestamp(timestamp, lo, hi)) {
          SS_ASSIGN_OR_RETURN(Member m, Load(c, n));
          set.push_back(std::move(m));
        }
      }
      if (set.empty() || (set.size() < 2 && !ReferencesOwnBlock(set[0]))) continue;
      std::map<size_t, size_t> member_of_chain;
      for (size_t i = 0; i < set.size(); ++i) member_of_chain[set[i].chain] = i;
      if (auto cyclic = FindCycle(set, member_of_chain)) {
        bool candidates_only = true;
        for (const Member& m : set) candidates_only = candidates_only && m.number == heads_[m.chain] + 1;
        if (candidates_only) {
          MarkInvalid(cyclic->first, cyclic->second, "executing message on a same-timestamp cycle");
          return true;
        }
        defer(set[member_of_chain.at(cyclic->first)], "executing message on a same-timestamp cycle");
      }
    }
    if (!first) return false;
    MarkInvalid(first->chain, first->number, std::move(first->reason));
    return true;
  }

  // The blocks above chain c's head that JudgeBeyondWaits looks at: [lo, hi], empty when lo > hi.
  std::pair<uint64_t, uint64_t> Range(size_t c) const {
    const uint64_t lo = heads_[c] + 1;
    if (invalid_from_[c] <= lo || in_.limits[c] < lo) return {lo, lo - 1};
    return {lo, std::min(in_.limits[c], invalid_from_[c] - 1)};
  }

  // Every executing message of a block, for the memo: the first invalid and the first deferred
  // verdict (in log order), and what the block's other messages wait for.
  struct BlockVerdict {
    std::optional<std::string> invalid, deferred;
    bool unsettled = false;       // a verdict may change with the heads or the DB: judge it every run
    bool same_timestamp = false;  // a known-valid message names a log at the block's own timestamp
    std::map<size_t, uint64_t> waits;  // source chain -> lowest block a message waits for above its limit
  };
  BlockVerdict JudgeBlock(const Member& m) const {
    BlockVerdict b;
    for (const db::LogRecord& log : m.logs) {
      if (!log.exec) continue;
      MessageVerdict v = JudgeMessage(m, *log.exec);
      switch (v.kind) {
        case MessageVerdict::kInvalid:
          if (!b.invalid) b.invalid = std::move(v.reason);
          b.unsettled = true;
          break;
        case MessageVerdict::kDeferred:
          if (!b.deferred) b.deferred = std::move(v.reason);
          b.unsettled = true;
          break;
        case MessageVerdict::kWait:
          if (v.wait == MessageVerdict::kUntilLimit) {
            auto [it, added] = b.waits.try_emplace(v.source_chain, log.exec->block_number);
            if (!added) it->second = std::min(it->second, log.exec->block_number);
          } else if (v.wait == MessageVerdict::kUnsettled) {
            b.unsettled = true;
          }
          break;
        case MessageVerdict::kKnown:
          if (log.exec->timestamp == m.timestamp) b.same_timestamp = true;
          break;
      }
    }
    return b;
  }

  // The memo holds what the runs since its start established; it starts over when an input it
  // rests on changed.
  void SyncMemo(CrossMemoState& memo) const {
    const size_t chains = heads_.size();
    bool same = memo.deps == in_.deps && memo.events == in_.events && memo.invalid_from == invalid_from_;
    for (size_t c = 0; same && c < chains; ++c)
      same = memo.removals[c] == in_.events[c]->removals() && memo.limits[c] <= in_.limits[c] &&
             memo.from[c] <= heads_[c] + 1;
    if (!same) {
      memo = CrossMemoState{};
      memo.deps = in_.deps;
      memo.events = in_.events;
      memo.invalid_from = invalid_from_;
      for (size_t c = 0; c < chains; ++c) memo.removals.push_back(in_.events[c]->removals());
      memo.from.assign(heads_.begin(), heads_.end());
      for (uint64_t& f : memo.from) ++f;
      memo.next_new = memo.from;
      memo.active.resize(chains);
      memo.same_timestamp.resize(chains);
      memo.wake.resize(chains);
    }
    memo.limits = in_.limits;
  }

  // Drops what the memo holds about chain c's blocks below `lo` (promoted).
  static void PruneBelow(CrossMemoState& memo, size_t c, uint64_t lo) {
    if (lo <= memo.from[c]) return;
    memo.from[c] = lo;
    for (auto* blocks : {&memo.active[c], &memo.same_timestamp[c]})
      blocks->erase(blocks->begin(), blocks->lower_bound(lo));
  }

  static void Forget(CrossMemoState& memo, size_t c, uint64_t n) {
    memo.active[c].erase(n);
    memo.same_timestamp[c].erase(n);
    auto it = memo.waits.find({c, n});
    if (it == memo.waits.end()) return;
    for (const auto& [s, ref] : it->second) memo.wake[s].erase({ref, c, n});
    memo.waits.erase(it);
  }

  static void Remember(CrossMemoState& memo, const Member& m, const BlockVerdict& v) {
    Forget(memo, m.chain, m.number);
    if (v.unsettled) {
      memo.active[m.chain][m.number] = m.timestamp;
      return;
    }
    if (v.same_timestamp) memo.same_timestamp[m.chain][m.number] = m.timestamp;
    if (v.waits.empty()) return;
    auto& waits = memo.waits[{m.chain, m.number}];
    for (const auto& [s, ref] : v.waits) {
      memo.wake[s].insert({ref, m.chain, m.number});
      waits.push_back({s, ref});
    }
  }

  struct Deferred {
    uint64_t timestamp;
    size_t chain;
    uint64_t number;
    std::string reason;
  };

  bool ReferencesOwnBlock(const Member& m) const {
    for (const db::LogRecord& log : m.logs)
      if (log.exec && log.exec->block_number == m.number && *ChainIndexOf(*in_.deps, log.exec->chain_id) == m.chain)
        return true;
    return false;
  }

  // One executing message of block `m`, on its own: invalid (a static rule, a reference to a
  // chain's first invalid block, a log its known source block does not hold), waiting (the source
  // is above its chain's limit, not indexed, or above its chain's first invalid block: that block
  // is dropped or derived again after the replacement, and the message is judged against what the
  // chain derives at that height), or known in `source_chain`.
  //
  // A verdict that rests on the source chain's blocks above its head is kDeferred rather than
  // kInvalid when blocks of that chain below the source are not promoted yet: one of them may
  // still be found invalid, which would take the source block out of the view (and the message
  // would wait instead). Deferred verdicts are decided in timestamp order (DecideDeferred).
  struct MessageVerdict {
    enum Kind { kInvalid, kDeferred, kWait, kKnown } kind;
    std::string reason;       // kInvalid, kDeferred
    size_t source_chain = 0;  // kKnown, kWait
    // kWait: until invalid_from changes, until the source chain's limit reaches the source, or
    // unsettled (the source block is not indexed: judge it every time).
    enum Wait { kUntilInvalidFromChanges, kUntilLimit, kUnsettled } wait = kUnsettled;
  };
  MessageVerdict JudgeMessage(const Member& m, const db::ExecRef& ref) const {
    if (auto why = StaticViolation(*in_.deps, in_.deps->chains[m.chain], m.number, m.timestamp, ref))
      return {MessageVerdict::kInvalid, *why};
    const size_t s = *ChainIndexOf(*in_.deps, ref.chain_id);
    if (ref.block_number > invalid_from_[s])
      return {MessageVerdict::kWait, "", s, MessageVerdict::kUntilInvalidFromChanges};
    if (ref.block_number > in_.limits[s]) return {MessageVerdict::kWait, "", s, MessageVerdict::kUntilLimit};
    const auto kind = ref.block_number <= heads_[s] + 1 ? MessageVerdict::kInvalid : MessageVerdict::kDeferred;
    if (ref.block_number == invalid_from_[s])
      return {kind, "references block #" + std::to_string(ref.block_number) + " of chain " + ref.chain_id.Decimal() +
                        ", which is invalid"};
    BlockRef source_block;
    const db::Presence p = in_.events[s]->Contains(ref.block_number, ref.log_index, ref.log_hash, &source_block);
    if (p == db::Presence::kUnknown) return {MessageVerdict::kWait, "", s, MessageVerdict::kUnsettled};
    if (p == db::Presence::kConflicts || source_block.timestamp != ref.timestamp)
      return {kind, "no log " + std::to_string(ref.log_index) + " with the claimed hash in block #" +
                        std::to_string(ref.block_number) + " of chain " + ref.chain_id.Decimal()};
    return {MessageVerdict::kKnown, "", s};
  }

  // The log-level graph of the set: log i -> log i+1 of a block; initiating log -> executing log.
  // Returns the block of one executing log that lies on a cycle, if any.
  std::optional<std::pair<size_t, uint64_t>> FindCycle(const std::vector<Member>& set,
                                                       const std::map<size_t, size_t>& member_of_chain) const {
    // Every cycle has an initiating -> executing edge, i.e. an executing log that references a
    // log of a member. Without one (the usual case: no same-timestamp reference), there is none.
    bool any_reference = false;
    for (const Member& m : set) {
      for (const db::LogRecord& log : m.logs) {
        if (!log.exec) continue;
        auto it = member_of_chain.find(*ChainIndexOf(*in_.deps, log.exec->chain_id));
        if (it != member_of_chain.end() && set[it->second].number == log.exec->block_number &&
            log.exec->log_index < set[it->second].logs.size())
          any_reference = true;
      }
    }
    if (!any_reference) return std::nullopt;
    std::vector<size_t> base(set.size() + 1, 0);
    for (size_t m = 0; m < set.size(); ++m) base[m + 1] = base[m] + set[m].logs.size();
    size_t n = base.back();
    std::vector<std::vector<size_t>> out(n);
    for (size_t m = 0; m < set.size(); ++m) {
      for (size_t i = 0; i < set[m].logs.size(); ++i) {
        if (i + 1 < set[m].logs.size()) out[base[m] + i].push_back(base[m] + i + 1);
        const auto& exec = set[m].logs[i].exec;
        if (!exec) continue;
        size_t s = *ChainIndexOf(*in_.deps, exec->chain_id);
        auto it = member_of_chain.find(s);
        if (it == member_of_chain.end() || set[it->second].number != exec->block_number) continue;
        if (exec->log_index >= set[it->second].logs.size()) continue;
        out[base[it->second] + exec->log_index].push_back(base[m] + i);
      }
    }
    // Tarjan's strongly connected components, iteratively.
    std::vector<int> index(n, -1), low(n, 0);
    std::vector<bool> on_stack(n, false);
    std::vector<size_t> stack;
    int next = 0;
    for (size_t root = 0; root < n; ++root) {
      if (index[root] >= 0) continue;
      std::vector<std::pair<size_t, size_t>> work{{root, 0}};
      while (!work.empty()) {
        auto& [v, edge] = work.back();
        if (edge == 0) {
          index[v] = low[v] = next++;
          stack.push_back(v);
          on_stack[v] = true;
        }
        if (edge < out[v].size()) {
          size_t w = out[v][edge++];
          if (index[w] < 0) {
            work.push_back({w, 0});
          } else if (on_stack[w]) {
            low[v] = std::min(low[v], index[w]);
          }
          continue;
        }
        size_t done = v;
        work.pop_back();
        if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
        if (low[done] != index[done]) continue;
        std::vector<size_t> component;
        size_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component.push_back(w);
        } while (w != done);
        bool self_loop = std::find(out[done].begin(), out[done].end(), done) != out[done].end();
        if (component.size() < 2 && !self_loop) continue;
        std::sort(component.begin(), component.end());
        for (size_t node : component) {
          size_t m = static_cast<size_t>(std::upper_bound(base.begin(), base.end(), node) - base.begin()) - 1;
          if (set[m].logs[node - base[m]].exec) return std::make_pair(set[m].chain, set[m].number);
        }
      }
    }
    return std::nullopt;
  }

  const CrossInput& in_;
  CrossMemoState* memo_;  // with judge_beyond_waits
  uint64_t blocks_loaded_ = 0;
  std::vector<uint64_t> heads_;
  std::vector<uint64_t> invalid_from_;
  std::vector<Invalidation> invalidations_;
};

}  // namespace

Result<CrossOutput> AdvanceCross(const CrossInput& input) {
  SS_CHECK(input.deps != nullptr && input.events.size() == input.deps->chains.size() &&
               input.heads.size() == input.events.size() && input.limits.size() == input.events.size() &&
               input.invalid_from.size() == input.events.size(),
           "AdvanceCross: inputs do not cover every chain");
  if (!input.judge_beyond_waits) return Evaluator(input, nullptr).Run();
  if (input.memo != nullptr && !input.judge_every_block) return Evaluator(input, input.memo->state.get()).Run();
  CrossMemoState fresh;
  return Evaluator(input, &fresh).Run();
}

}  // namespace supersafe::supervisor
