#include "sim/state_checker.h"

#include <algorithm>
#include <iterator>

#include "sim/db_check.h"
#include "sim/fault_disk.h"
#include "sim/supervisor_host.h"
#include "sim/world.h"

namespace supersafe::sim {

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

SnapshotBlock SnapshotOf(const L2Block& b) {
  SnapshotBlock sb;
  sb.number = b.ref.number;
  sb.hash = b.ref.hash;
  sb.parent_hash = b.ref.parent_hash;
  sb.timestamp = b.ref.timestamp;
  sb.shared_logs = b.logs.shared();  // the world's logs, not a copy (null: none)
  sb.deposit_only_replacement = b.deposit_only;
  return sb;
}

}  // namespace

Status Breach(const Step& step, const std::string& what) {
  return Internal("step " + Num(step.index) + " (line " + Num(step.line) + ", " + step.kind + "): " + what);
}

StateChecker::StateChecker(const Scenario& scenario, World& world, SupervisorHost& host, FaultDisk& disk,
                           const std::filesystem::path& datadir)
    : scenario_(scenario), world_(world), host_(host) {
  std::vector<ChainID> ids;
  for (size_t i = 0; i < world_.chain_count(); ++i) ids.push_back(world_.chain(i).id());
  db_check_ = std::make_unique<DatabaseCheck>(disk, datadir, ids);
}

StateChecker::~StateChecker() = default;

Status StateChecker::CheckEnd(const Step& last) {
  SS_RETURN_IF_ERROR(CheckDatabases(last, true));
  return CheckAcks(last, true);
}

std::vector<ChainHeads> StateChecker::TakeCheckedHeads() {
  std::vector<ChainHeads> heads = std::move(checked_heads_);
  checked_heads_.clear();
  if (heads.size() != world_.chain_count()) heads.clear();
  return heads;
}

Status StateChecker::RecordAck(const Step& step, const Ack& ack) {
  auto key = std::make_pair(ack.chain, ack.view.number);
  fresh_acks_.insert(key);
  auto it = acks_.find(key);
  const bool clipped = ack.cross_safe.number == ack.reported_local_safe;
  if (it != acks_.end() && it->second.view == ack.view && ack.cross_safe.number < it->second.cross_safe.number) {
    if (clipped) return Status::Ok();  // a stale report's answer, clipped to it: the view is unchanged
    return Breach(step, "acknowledged cross-safe of " + world_.chain(ack.chain).name() + " at L1 " + Num(ack.view.number) +
                            " went back from " + it->second.cross_safe.ToString() + " to " + ack.cross_safe.ToString());
  }
  acks_[key] = ack;
  return Status::Ok();
}

Status StateChecker::CheckStep(const Step& step) {
  NoteChanges();
  SS_RETURN_IF_ERROR(CheckDatabases(step, false));
  const bool chain_cut =
      std::any_of(removed_from_.begin(), removed_from_.end(), [](const auto& r) { return r.has_value(); });
  const bool all_acks = l1_reorged_ || generation_changed_ || db_check_->rewritten() || chain_cut;
  SS_RETURN_IF_ERROR(CheckAcks(step, all_acks));
  return CheckModel(step);
}

void StateChecker::NoteChanges() {
  removed_from_.resize(world_.chain_count());
  for (size_t i = 0; i < world_.chain_count(); ++i) removed_from_[i] = world_.chain(i).TakeLowestRemoved();
  const L1Chain& l1 = world_.l1();
  l1_reorged_ = checked_l1_head_.number > l1.head().ref.number ||
                l1.at(checked_l1_head_.number).ref.hash != checked_l1_head_.hash;
  checked_l1_head_ = l1.head().ref.ID();
  generation_changed_ = host_.generation() != checked_generation_;
  checked_generation_ = host_.generation();
}

Status StateChecker::CheckDatabases(const Step& step, bool whole_files) {
  std::vector<db::Finding> findings = whole_files ? db_check_->Full() : db_check_->Step();
  if (findings.empty()) return Status::Ok();
  std::string what = whole_files ? "database invariant broken (whole files at the end of the run):"
                                 : "database invariant broken:";
  for (const auto& f : findings) what += " " + f.file.filename().string() + "@" + Num(f.offset) + ": " + f.what + ";";
  return Breach(step, what);
}

Result<bool> StateChecker::CheckAck(const Step& step, const Ack& ack) {
  const uint64_t n = ack.view.number;
  if (n > world_.l1().head().ref.number || world_.l1().at(n).ref.hash != ack.view.hash) return false;
  const L2Chain& c = world_.chain(ack.chain);
  if (ack.cross_safe.number >= c.unsafe().size() || c.unsafe()[ack.cross_safe.number].ref.hash != ack.cross_safe.hash)
    return Breach(step, c.name() + " " + ack.cross_safe.ToString() + ", acknowledged cross-safe at canonical L1 " +
                            Num(n) + ", is no longer on the chain");
  auto src = host_.Call([&](supervisor::Supervisor& sv) { return sv.CrossDerivedToSource(c.id(), ack.cross_safe); });
  if (!src.ok())
    return Breach(step, c.name() + " " + ack.cross_safe.ToString() + ", acknowledged cross-safe at canonical L1 " +
                            Num(n) + ": CrossDerivedToSource says " + src.status().ToString());
  if (src->number > n)
    return Breach(step, c.name() + " " + ack.cross_safe.ToString() + ", acknowledged cross-safe at L1 " + Num(n) +
                            ", is now cross-safe only from L1 " + Num(src->number));
  return true;
}

Status StateChecker::CheckAcks(const Step& step, bool all) {
  std::set<std::pair<size_t, uint64_t>> keys = std::move(fresh_acks_);
  fresh_acks_.clear();
  if (all) {
    for (const auto& [key, ack] : acks_) keys.insert(key);
  } else {
    // The newest acknowledgment of each chain whose answers the step's writes could change: the
    // super-safe-db written (a new group, or a revision of the tip's), or the chain's event-log DB.
    for (size_t c = 0; c < world_.chain_count(); ++c) {
      if (!db_check_->safe_db_written() && !db_check_->events_written(c)) continue;
      auto last = acks_.lower_bound({c + 1, 0});
      if (last != acks_.begin() && std::prev(last)->first.first == c) keys.insert(std::prev(last)->first);
    }
    auto it = acks_.lower_bound(ack_cursor_);
    for (size_t k = 0; k < std::min<size_t>(4, acks_.size()); ++k, ++it) {  // a rotating window
      if (it == acks_.end()) it = acks_.begin();
      keys.insert(it->first);
      ack_cursor_ = {it->first.first, it->first.second + 1};
    }
  }
  for (const auto& key : keys) {
    auto it = acks_.find(key);
    if (it == acks_.end()) continue;
    SS_ASSIGN_OR_RETURN(bool canonical, CheckAck(step, it->second));
    if (!canonical) acks_.erase(it);  // the view is no longer canonical: it may change
  }
  return Status::Ok();
}

void StateChecker::UpdateSnapshot() {
  WorldSnapshot& w = snapshot_;
  w.expiry_window = scenario_.expiry_window;
  w.l1_head = world_.l1().head().ref.number;
  w.l1_finalized = world_.l1().finalized();
  if (w.chains.size() != world_.chain_count()) {
    w.chains.resize(world_.chain_count());
    off_chain_views_.assign(world_.chain_count(), {});
    for (size_t i = 0; i < world_.chain_count(); ++i) {
      const L2Chain& c = world_.chain(i);
      SnapshotChain& sc = w.chains[i];
      sc.name = c.name();
      sc.id = c.id();
      sc.genesis_time = c.genesis_time();
      sc.block_time = c.block_time();
      sc.interop_time = c.interop_time();
    }
  }
  for (size_t i = 0; i < world_.chain_count(); ++i) {
    L2Chain& c = world_.chain(i);
    Derivation& d = world_.derivation(i);
    SnapshotChain& sc = w.chains[i];
    // Blocks: those below the lowest height cut since the last update are unchanged.
    const std::optional<uint64_t> removed = removed_from_[i];
    const bool cut = removed && *removed < sc.blocks.size();
    size_t keep = std::min(sc.blocks.size(), c.unsafe().size());
    if (removed) keep = std::min<size_t>(keep, *removed);
    sc.blocks.resize(keep);
    for (size_t n = keep; n < c.unsafe().size(); ++n) {
      const L2Block& b = c.unsafe()[n];
      sc.blocks.push_back(SnapshotOf(b));
    }
    // Views: an entry depends on the view (unchanged below the first changed one) and on the
    // unsafe chain. While the chain only grew, an entry whose block was on it stays; one whose
    // block was not (a view before a replacement) is recomputed; after a cut all are.
    const std::optional<uint64_t> changed = d.TakeFirstChangedView();
    std::vector<uint64_t>& at = sc.local_safe_at;
    std::vector<uint64_t>& off_chain = off_chain_views_[i];
    size_t views_kept = std::min<size_t>(at.size(), d.tip() + 1);
    if (changed) views_kept = std::min<size_t>(views_kept, *changed);
    if (cut) views_kept = 0;
    at.resize(views_kept);
    std::erase_if(off_chain, [&](uint64_t v) { return v >= views_kept; });
    for (uint64_t v : off_chain) at[v] = d.SafeNumberOnChain(v);
    std::erase_if(off_chain, [&](uint64_t v) { return at[v] == d.SafeAt(v).number; });
    for (uint64_t v = views_kept; v <= d.tip(); ++v) {
      at.push_back(d.SafeNumberOnChain(v));
      if (at.back() != d.SafeAt(v).number) off_chain.push_back(v);
    }
  }
}

Status StateChecker::CheckModel(const Step& step) {
  UpdateSnapshot();
  const bool exact = scenario_.nodes == NodesMode::kAuto;
  Expected expected;
  if (exact) {
    expected = model_.Compute(snapshot_);
  } else {
    // Manual nodes lag, and a direct call may tell the supervisor what a node has not derived yet:
    // bound the supervisor by what the nodes would derive from the canonical L1 chain as it is now.
    WorldSnapshot projected = snapshot_;
    for (size_t i = 0; i < world_.chain_count(); ++i)
      projected.chains[i].local_safe_at = world_.derivation(i).ProjectSafeNumbersOnChain();
    expected = ComputeExpected(projected);
  }
  checked_heads_.clear();
  auto all = host_.Call([&](supervisor::Supervisor& sv) { return sv.AllHeadsOf(); });
  if (!all.ok()) return Breach(step, "HeadsOf(" + world_.chain(0).name() + "): " + all.status().ToString());
  for (size_t i = 0; i < world_.chain_count(); ++i) {
    const L2Chain& c = world_.chain(i);
    const supervisor::Heads* h = &(*all)[i];
    checked_heads_.push_back({h->unsafe.number, h->cross_unsafe.number, h->local_safe.number, h->cross_safe.number,
                              h->finalized.number});
    const ExpectedHeads& e = expected.chains.at(i);
    struct Field {
      const char* name;
      uint64_t want;
      uint64_t saw;
      bool checked_in_manual;
    };
    const Field fields[] = {{"unsafe", e.unsafe, h->unsafe.number, false},
                            {"cross_unsafe", e.cross_unsafe, h->cross_unsafe.number, false},
                            {"local_safe", e.local_safe, h->local_safe.number, false},
                            {"cross_safe", e.cross_safe, h->cross_safe.number, true},
                            {"finalized", e.finalized, h->finalized.number, true}};
    // With manual nodes the supervisor hears of an L1 reorg only at the next call: while its newest
    // group is for an L1 block that is no longer canonical, it answers from that view, unbounded here.
    const BlockID& tip_l1 = h->local_safe_source;
    const bool stale_tip = tip_l1.number > world_.l1().head().ref.number || world_.l1().at(tip_l1.number).ref.hash != tip_l1.hash;
    for (const Field& f : fields) {
      if (!exact && stale_tip) break;
      bool bad = exact ? f.saw != f.want : (f.checked_in_manual && f.saw > f.want);
      if (bad)
        return Breach(step, "reference model (view L1 " + Num(e.view) + "): " + c.name() + " " + f.name + ": expected " +
                                (exact ? "" : "at most ") + Num(f.want) + ", supervisor says " + Num(f.saw));
    }
  }
  return Status::Ok();
}

Status StateChecker::CheckInvalid(size_t chain, const BlockID& invalid, uint64_t view) {
  WorldSnapshot w;
  w.expiry_window = scenario_.expiry_window;
  w.l1_head = view;
  w.l1_finalized = 0;
  for (size_t i = 0; i < world_.chain_count(); ++i) {
    const L2Chain& c = world_.chain(i);
    const Derivation& d = world_.derivation(i);
    if (d.tip() < view || !d.CanonicalSafeAt(view)) return Status::Ok();  // not this view: nothing to compare
    SnapshotChain sc;
    sc.name = c.name();
    sc.id = c.id();
    sc.genesis_time = c.genesis_time();
    sc.block_time = c.block_time();
    sc.interop_time = c.interop_time();
    for (const L2Block& b : c.unsafe()) sc.blocks.push_back(SnapshotOf(b));
    sc.local_safe_at = d.SafeNumbersOnChain();
    sc.local_safe_at.resize(view + 1);
    w.chains.push_back(std::move(sc));
  }
  const Expected expected = invalid_model_.Compute(w);
  const ExpectedHeads& e = expected.chains.at(chain);
  if (!e.invalid.empty() && e.invalid.front() == invalid.number) return Status::Ok();
  // Another chain that replaced a block in this view may have derived the rest of its batch again
  // after the supervisor's decision; its blocks can make an earlier block of this chain invalid,
  // which the supervisor only sees in its next revision. The named block must still be invalid.
  if (std::find(e.invalid.begin(), e.invalid.end(), invalid.number) != e.invalid.end())
    for (size_t j = 0; j < world_.chain_count(); ++j)
      for (const Replacement& r : world_.derivation(j).replacements())
        if (j != chain && r.view == view) return Status::Ok();
  return Internal("reference model (view L1 " + Num(view) + "): the supervisor calls " + world_.chain(chain).name() + " " +
                  invalid.ToString() + " invalid; the model finds " +
                  (e.invalid.empty() ? std::string("no invalid block") : "#" + Num(e.invalid.front()) + " first invalid") +
                  " in that chain");
}

}  // namespace supersafe::sim
