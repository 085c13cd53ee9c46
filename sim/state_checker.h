// The runner's invariant checks (docs/simulator-checks.md, "The invariants, after every step"),
// kept beside the runner as the state it checks is: the runner applies steps, this judges what they
// left. After every step, CheckStep looks at
//   - the databases: the bytes the step appended (sim/db_check.h), all of a file it rewound;
//   - the acknowledgments recorded in the step; the newest one of each chain whose event-log DB,
//     or of every chain if the super-safe-db, the step wrote; a rotating window of 4 others; and
//     every one after a step that cut an unsafe chain, reorged L1, restarted the supervisor (or
//     crash-recovered it) or rewrote a database file (more than appending to it): nothing
//     acknowledged as cross-safe at an L1 view may change while that view is canonical;
//   - the supervisor's heads against the reference model (sim/reference_model.h): all heads exactly
//     with `nodes: auto`; with `nodes: manual` only cross-safe and finalized, which must not run
//     ahead of the model.
// CheckEnd, at the end of a passing run: the whole database files and every acknowledgment.
// CheckInvalid, before an auto node replaces a block: the model must find that same block first
// invalid in its chain at that view (or, when another chain replaced a block in that view, invalid).
//
// Every check reads the world and asks the supervisor (through the host); none changes either. A
// breach is an Internal status naming the step ("step 7 (line 23, expect): ...").
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "sim/op_node.h"
#include "sim/reference_model.h"
#include "sim/scenario.h"
#include "sim/timeline.h"

namespace supersafe::sim {

class DatabaseCheck;
class FaultDisk;
class SupervisorHost;
class World;

// "step 7 (line 23, expect): <what>", as an Internal status: the supervisor broke a rule.
Status Breach(const Step& step, const std::string& what);

class StateChecker {
 public:
  // Everything given must outlive the checker. `datadir` is on `disk`.
  StateChecker(const Scenario& scenario, World& world, SupervisorHost& host, FaultDisk& disk,
               const std::filesystem::path& datadir);
  ~StateChecker();
  StateChecker(const StateChecker&) = delete;
  StateChecker& operator=(const StateChecker&) = delete;

  // An answer that acknowledged `ack.cross_safe` at view `ack.view`; a breach if it takes back
  // what an earlier answer acknowledged at the same view.
  Status RecordAck(const Step& step, const Ack& ack);
  // Forgets every acknowledgment (what they covered was destroyed by injected damage).
  void ForgetAcks() { acks_.clear(), fresh_acks_.clear(); }
  // The checks after `step` (see the top of this file).
  Status CheckStep(const Step& step);
  // The checks at the end of a passing run whose last step is `last`.
  Status CheckEnd(const Step& last);
  Status CheckInvalid(size_t chain, const BlockID& invalid, uint64_t view);
  // The heads CheckStep read from the supervisor at its end, one per chain, if it read them all
  // (nothing has called the supervisor since); empty otherwise. Taking them clears them.
  std::vector<ChainHeads> TakeCheckedHeads();

 private:
  Status CheckDatabases(const Step& step, bool whole_files);
  // The acknowledgments the step may have affected, or (all) every one.
  Status CheckAcks(const Step& step, bool all);
  // One acknowledgment: false if its view is no longer canonical (it may change: forget it).
  Result<bool> CheckAck(const Step& step, const Ack& ack);
  Status CheckModel(const Step& step);
  // What changed in the world and the supervisor since the previous CheckStep.
  void NoteChanges();
  // Brings snapshot_ up to date with the world: only blocks and views that changed are copied
  // or recomputed (the chains and derivations say from where they changed).
  void UpdateSnapshot();

  const Scenario& scenario_;
  World& world_;
  SupervisorHost& host_;
  std::unique_ptr<DatabaseCheck> db_check_;
  std::map<std::pair<size_t, uint64_t>, Ack> acks_;  // (chain, L1 number) -> newest acknowledgment
  std::set<std::pair<size_t, uint64_t>> fresh_acks_;  // keys recorded since the last check
  std::pair<size_t, uint64_t> ack_cursor_{0, 0};      // where the rotating ack check goes on
  // Changes since the previous CheckStep (NoteChanges).
  std::vector<std::optional<uint64_t>> removed_from_;  // per chain: lowest unsafe height cut
  bool l1_reorged_ = false;
  bool generation_changed_ = false;
  BlockID checked_l1_head_;     // the L1 head at the previous check
  size_t checked_generation_ = 0;
  WorldSnapshot snapshot_;  // the world as of the last CheckModel
  // Per chain: the views whose local-safe block was not on the unsafe chain at the last update;
  // their snapshot entries are recomputed every time.
  std::vector<std::vector<uint64_t>> off_chain_views_;
  ReferenceModel model_;
  ReferenceModel invalid_model_;  // CheckInvalid's, kept across its calls
  std::vector<ChainHeads> checked_heads_;  // the heads CheckModel read in the current step
};

}  // namespace supersafe::sim
