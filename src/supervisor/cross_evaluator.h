// The cross-safety engine shared by cross-unsafe and cross-safe: advances every chain's head block
// by block over the indexed blocks, to a fixed point.
//
// A candidate block (the one after a chain's head) is promoted together with its same-timestamp
// set: the not-yet-promoted blocks at its timestamp that it references, directly or through
// others. The set goes up when every executing message in it is valid, every source at an earlier
// timestamp is already promoted, and the log-level graph at that timestamp has no cycle. A block
// whose message breaks a rule is invalid; so is one that references a log in its chain's first
// invalid block. A message whose source is not yet eligible (above the source chain's limit) makes
// its block wait, and so does one whose source lies above its chain's first invalid block: an
// identifier names a height, not a block hash, and the blocks above an invalid one are dropped or
// derived again after its replacement, so the message is judged against what the chain derives
// at that height.
//
// With `judge_beyond_waits` (cross-safe), a block is invalid in its own right even while a block
// before it waits (docs/protocol-rules.md, "Invalid in a view": a block is invalid in view N if one
// of its messages is): once no candidate moves, the blocks after a waiting candidate, up to the
// limit, are judged too:
// a message that breaks a static rule, names a log its known source block does not hold, names
// its source chain's first invalid block, names a later log of its own block, or lies on a
// same-timestamp log-level cycle makes its block invalid. Such a verdict that rests on a source
// block whose chain has unpromoted blocks below it is decided only when nothing else moves, in
// timestamp order (one of those blocks may still turn out invalid and take the source out of the
// view), so the outcome is that of judging the view timestamp by timestamp. Nothing is
// invalidated this way without the flag (cross-unsafe, where failing blocks only stop the head).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "db/event_db.h"
#include "supervisor/supervisor.h"

namespace supersafe::supervisor {

inline constexpr uint64_t kNoBlock = UINT64_MAX;

struct Invalidation {
  size_t chain = 0;
  uint64_t number = 0;
  std::string reason;
};

struct CrossMemoState;
// What earlier cross-safe runs (judge_beyond_waits) learned about the blocks above the heads, so
// that a run judges again only the blocks whose inputs changed: per block with executing messages,
// whether a message is invalid or deferred (judged again every run), which messages wait on a
// source above its chain's limit (judged again once that limit reaches the source), and whether
// one names a log at its own timestamp (its timestamp is checked for a cycle every run). Every
// other message is known valid, which stays true while the source chains' event DBs lose no
// blocks, no limit goes down, no head goes below the memo's range and invalid_from is unchanged;
// a run that sees otherwise, or that marks a block invalid, starts the memo over. The outcome
// of a run is the same with a memo, with a fresh one and without one. Not thread-safe.
struct CrossMemo {
  CrossMemo();
  ~CrossMemo();
  CrossMemo(const CrossMemo&) = delete;
  CrossMemo& operator=(const CrossMemo&) = delete;
  std::unique_ptr<CrossMemoState> state;
};

struct CrossInput {
  const DependencySet* deps = nullptr;
  std::vector<const db::EventDB*> events;  // chain-index order
  std::vector<uint64_t> heads;             // already promoted, per chain
  std::vector<uint64_t> limits;            // highest eligible block, per chain (>= heads)
  std::vector<uint64_t> invalid_from;      // first block known invalid, per chain, or kNoBlock
  bool judge_beyond_waits = false;
  CrossMemo* memo = nullptr;  // with judge_beyond_waits: kept across runs by the caller (optional)
  // For tests: judge every block of the range and check every timestamp of it for a cycle (no
  // memo, no index), the plain reading of the rules that the outcome must equal.
  bool judge_every_block = false;
};

struct CrossOutput {
  std::vector<uint64_t> heads;
  std::vector<uint64_t> invalid_from;       // per chain, kNoBlock when none
  std::vector<Invalidation> invalidations;  // newly found, in discovery order
  uint64_t blocks_loaded = 0;               // blocks whose logs the run decoded (the cost of a run)
};

// Runs to the fixed point. Errors only when an indexed block the limits promise is unreadable.
Result<CrossOutput> AdvanceCross(const CrossInput& input);

}  // namespace supersafe::supervisor
