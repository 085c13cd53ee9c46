#include "supervisor/cross_evaluator.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "supervisor/validity.h"

namespace supersafe::supervisor {

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
  explicit Evaluator(const CrossInput& in)
      : in_(in), heads_(in.heads), invalid_from_(in.invalid_from) {}

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
    return CrossOutput{heads_, invalid_from_, std::move(invalidations_)};
  }

 private:
  void MarkInvalid(size_t chain, uint64_t number, std::string reason) {
    if (number < invalid_from_[chain]) invalid_from_[chain] = number;
    invalidations_.push_back({chain, number, std::move(reason)});
  }

  Result<Member> Load(size_t chain, uint64_t number) const {
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
  Result<bool> JudgeBeyondWaits() {
    std::map<uint64_t, std::vector<Member>> by_timestamp;  // every block above the heads
    std::optional<Deferred> first;
    auto defer = [&](const Member& m, std::string reason) {
      Deferred d{m.timestamp, m.chain, m.number, std::move(reason)};
      if (!first || std::tie(d.timestamp, d.chain, d.number) < std::tie(first->timestamp, first->chain, first->number))
        first = std::move(d);
    };
    for (size_t c = 0; c < heads_.size(); ++c) {
      for (uint64_t n = heads_[c] + 1; n <= in_.limits[c] && n < invalid_from_[c]; ++n) {
        SS_ASSIGN_OR_RETURN(Member m, Load(c, n));
        for (const db::LogRecord& log : m.logs) {
          if (!log.exec) continue;
          MessageVerdict v = JudgeMessage(m, *log.exec);
          if (v.kind == MessageVerdict::kDeferred) defer(m, std::move(v.reason));
          // The candidate itself was judged by TryPromote.
          if (v.kind == MessageVerdict::kInvalid && n > heads_[c] + 1) {
            MarkInvalid(c, n, std::move(v.reason));
            return true;
          }
        }
        by_timestamp[m.timestamp].push_back(std::move(m));
      }
    }
    for (auto& [timestamp, set] : by_timestamp) {
      if (set.size() < 2 && !ReferencesOwnBlock(set[0])) continue;
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
    size_t source_chain = 0;  // kKnown
  };
  MessageVerdict JudgeMessage(const Member& m, const db::ExecRef& ref) const {
    if (auto why = StaticViolation(*in_.deps, in_.deps->chains[m.chain], m.number, m.timestamp, ref))
      return {MessageVerdict::kInvalid, *why};
    const size_t s = *ChainIndexOf(*in_.deps, ref.chain_id);
    if (ref.block_number > invalid_from_[s]) return {MessageVerdict::kWait, ""};
    if (ref.block_number > in_.limits[s]) return {MessageVerdict::kWait, ""};
    const auto kind = ref.block_number <= heads_[s] + 1 ? MessageVerdict::kInvalid : MessageVerdict::kDeferred;
    if (ref.block_number == invalid_from_[s])
      return {kind, "references block #" + std::to_string(ref.block_number) + " of chain " + ref.chain_id.Decimal() +
                        ", which is invalid"};
    BlockRef source_block;
    const db::Presence p = in_.events[s]->Contains(ref.block_number, ref.log_index, ref.log_hash, &source_block);
    if (p == db::Presence::kUnknown) return {MessageVerdict::kWait, ""};
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
  return Evaluator(input).Run();
}

}  // namespace supersafe::supervisor
