// The simulated op-node of one chain as it talks to the supervisor (docs/scenario-format.md,
// "How nodes act"):
//   (1) ReportUnsafe: UpdateLocalUnsafe with its unsafe head when that changed since the last
//       successful report, again while the supervisor has not indexed it all (one call indexes
//       at most Supervisor::kMaxBlocksIndexedPerCall blocks) and each call moves it on;
//   (2) ReportSafe: for each derived L1 block N after the last one the supervisor acknowledged for
//       its chain, in order, TryCrossSafe(chain, local-safe derived through N, N), stopping at the
//       first error or non-accept answer;
//   (3) on `invalid` it replaces the named block (sim/derivation.h); on OUT_OF_ORDER it reports
//       again from the supervisor's tip; on AWAITING_REPLACEMENT_BLOCK it reports the tip view
//       again, whose answer names the invalid block; and when it has nothing new to report but
//       the supervisor says its local-safe block in the acknowledged view is invalid (a revision
//       found it so after the report: Heads::local_safe_invalid), it reports that view again;
//   (4) ForwardFinality: TryFinalize with the newest finalized L1 block, once per block and
//       supervisor process (again after a restart or a crash recovery).
// Supervisor errors are answers, traced and retried later; a Status returned by these methods is a
// breach that fails the run (e.g. the supervisor named a block the node never derived).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/supervisor_host.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace supersafe::sim {

// An `accept` answer: the supervisor acknowledged `cross_safe` as cross-safe at L1 view `view`.
struct Ack {
  size_t chain = 0;
  BlockID view;
  BlockID cross_safe;
  // The local-safe the call reported: an answer to a stale report is clipped to it, which is no
  // change of what the view holds.
  uint64_t reported_local_safe = UINT64_MAX;
};

class OpNode {
 public:
  OpNode(World& world, size_t chain, SupervisorHost& host, Trace& trace);

  // Derives through min(to, L1 head); after an L1 reorg the acknowledged views above the fork
  // point are forgotten.
  void Derive(uint64_t to);
  void ReportUnsafe();
  // Forgets what it reported as unsafe, so that the next ReportUnsafe reports again (after the
  // supervisor lost data that a storage fault destroyed).
  void ForgetUnsafeReport() { reported_unsafe_.reset(); }
  // A reset of the node's derivation (a `reset` step): it reports again every view after L1 block
  // `to` (never moving forward, and never below the view of its newest replacement, which it
  // keeps), then its unsafe head and L1 finality. Returns the L1 block it reports after.
  uint64_t Reset(uint64_t to);
  Status ReportSafe();
  void ForwardFinality();

  // Called before the node replaces a block the supervisor called invalid while it reported L1
  // block `view`; an error stops the node's reports and is a breach.
  using InvalidCheck = std::function<Status(size_t chain, const BlockID& invalid, uint64_t view)>;
  void SetInvalidCheck(InvalidCheck check) { invalid_check_ = std::move(check); }

  // Accept answers since the last call.
  std::vector<Ack> TakeAcks() { return std::move(acks_); }
  // Replacements made since the last call ("B#3 replaced at L1 5").
  std::vector<std::string> TakeReplacementNotes() { return std::move(replacement_notes_); }
  // Everything a round can change about this node, for detecting a quiet round.
  struct State {
    uint64_t acked = 0;
    BlockID safe;
    uint64_t tip = 0;
    Hash unsafe_head;
    size_t replacements = 0;
    std::optional<Hash> reported_unsafe;
    std::optional<Hash> forwarded_finality;
    size_t forwarded_generation = 0;
    bool operator==(const State&) const = default;
  };
  State Fingerprint() const;

 private:
  World* world_;
  size_t chain_;
  SupervisorHost* host_;
  Trace* trace_;
  uint64_t acked_ = 0;  // the genesis group acknowledges L1 block 0
  std::optional<BlockRef> reported_unsafe_;
  std::optional<BlockID> forwarded_finality_;
  size_t forwarded_generation_ = 0;  // SupervisorHost::generation() it was forwarded to
  std::vector<Ack> acks_;
  std::vector<std::string> replacement_notes_;
  InvalidCheck invalid_check_;
};

}  // namespace supersafe::sim
