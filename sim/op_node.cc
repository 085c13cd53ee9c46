#include "sim/op_node.h"

#include <algorithm>

namespace supersafe::sim {

OpNode::OpNode(World& world, size_t chain, SupervisorHost& host, Trace& trace)
    : world_(&world), chain_(chain), host_(&host), trace_(&trace) {
  reported_unsafe_ = world.chain(chain).unsafe().at(0).ref;  // the supervisor starts with block 0
}

void OpNode::Derive(uint64_t to) {
  Derivation& d = world_->derivation(chain_);
  uint64_t before = d.tip();
  auto dropped = d.DeriveTo(to);
  if (dropped) {
    acked_ = std::min(acked_, *dropped - 1);
    trace_->Add("l1_reorg_seen", {{"chain", world_->chain(chain_).name()}, {"dropped_from", *dropped},
                                  {"local_safe", ToJson(d.safe())}});
  }
  if (d.tip() != before || dropped)
    trace_->Add("derive", {{"chain", world_->chain(chain_).name()}, {"through", d.tip()},
                           {"local_safe", ToJson(d.safe())}});
}

void OpNode::ReportUnsafe() {
  const L2Chain& c = world_->chain(chain_);
  const BlockRef head = c.head().ref;
  if (reported_unsafe_ == head) return;
  // One call indexes at most Supervisor::kMaxBlocksIndexedPerCall blocks: call again while the
  // supervisor is behind and each call moves it on.
  std::optional<uint64_t> indexed;
  while (true) {
    Status s = host_->Call([&](supervisor::Supervisor& sv) { return sv.UpdateLocalUnsafe(c.id(), head); });
    trace_->Add("update_local_unsafe",
                Fields().String("chain", c.name()).Block("unsafe", head).String("result", s.ToString()));
    if (!s.ok()) return;
    auto now = host_->Call([&](supervisor::Supervisor& sv) { return sv.LocalUnsafe(c.id()); });
    if (!now.ok() || now->number >= head.number) break;
    if (indexed && now->number <= *indexed) return;  // no progress: the next round tries again
    indexed = now->number;
  }
  reported_unsafe_ = head;
}

Status OpNode::ReportSafe() {
  const L2Chain& c = world_->chain(chain_);
  Derivation& d = world_->derivation(chain_);
  if (acked_ > 0 && acked_ == d.tip()) {
    // Nothing new to report. A revision of the acknowledged view (for another chain's replacement)
    // may have found a block reported there invalid: report the view again to hear which (op-node
    // is told by the supervisor's invalidation in managed mode).
    auto heads = host_->Call([&](supervisor::Supervisor& sv) { return sv.HeadsOf(c.id()); });
    if (heads.ok() && heads->local_safe_source.number == acked_ && heads->local_safe_invalid) {
      --acked_;
      trace_->Add("rederive", {{"chain", c.name()}, {"from_l1", acked_}});
    }
  }
  for (uint64_t n = acked_ + 1; n <= d.tip(); ++n) {
    const BlockID local_safe = d.SafeAt(n);
    const BlockID l1 = world_->l1().at(n).ref.ID();
    auto r = host_->Call([&](supervisor::Supervisor& sv) { return sv.TryCrossSafe(c.id(), local_safe, l1); });
    auto trace_call = [&](auto result) {
      if (!trace_->enabled()) return;
      trace_->Add("try_cross_safe", Json{{"chain", c.name()}, {"local_safe", ToJson(local_safe)},
                                         {"derived_from", ToJson(l1)}, {"result", result()}});
    };
    if (!r.ok()) {
      trace_call([&] { return ToJson(r.status()); });
      const Code code = r.status().code();
      if (code == Code::kOutOfOrder || code == Code::kAwaitingReplacementBlock) {
        // OUT_OF_ORDER: report again from the supervisor's tip. AWAITING_REPLACEMENT_BLOCK: a block
        // of this chain became invalid in the tip view after the node had reported it (a revision
        // for another chain's replacement decided it); report the tip view again to learn which.
        auto heads = host_->Call([&](supervisor::Supervisor& sv) { return sv.HeadsOf(c.id()); });
        if (heads.ok()) {
          const uint64_t tip = heads->local_safe_source.number;
          acked_ = std::min(code == Code::kOutOfOrder || tip == 0 ? tip : tip - 1, d.tip());
          trace_->Add("rederive", {{"chain", c.name()}, {"from_l1", acked_}});
        }
      }
      return Status::Ok();
    }
    trace_call([&] {
      return Json{{"status", supervisor::CrossSafeStatusName(r->status)},
                  {"cross_safe", ToJson(r->cross_safe)},
                  {"local_safe", ToJson(r->local_safe)}};
    });
    switch (r->status) {
      case supervisor::CrossSafeStatus::kAccept:
        acked_ = n;
        acks_.push_back({chain_, l1, r->cross_safe, local_safe.number});
        continue;
      case supervisor::CrossSafeStatus::kUnknown:
        return Status::Ok();
      case supervisor::CrossSafeStatus::kInvalid: {
        if (invalid_check_) SS_RETURN_IF_ERROR(invalid_check_(chain_, r->local_safe, n));
        auto repl = d.Replace(r->local_safe, n);
        if (!repl.ok())
          return Internal("supervisor answered invalid for " + c.name() + " " + r->local_safe.ToString() +
                          " at L1 " + std::to_string(n) + ", but " + repl.status().message());
        trace_->Add("replace", {{"chain", c.name()}, {"invalid", ToJson(r->local_safe)},
                                {"replacement", ToJson(*repl)}, {"view", n}});
        replacement_notes_.push_back(c.name() + "#" + std::to_string(repl->number) +
                                     " replaced by deposit-only block at L1 " + std::to_string(n));
        return Status::Ok();
      }
    }
  }
  return Status::Ok();
}

uint64_t OpNode::Reset(uint64_t to) {
  uint64_t floor = 0;
  for (const Replacement& r : world_->derivation(chain_).replacements()) floor = std::max(floor, r.view);
  acked_ = std::min(acked_, std::max(to, floor));
  reported_unsafe_.reset();
  forwarded_finality_.reset();
  return acked_;
}

void OpNode::ForwardFinality() {
  const L2Chain& c = world_->chain(chain_);
  const BlockID fin = world_->l1().at(world_->l1().finalized()).ref.ID();
  if (forwarded_finality_ == fin && forwarded_generation_ == host_->generation()) return;
  auto r = host_->Call([&](supervisor::Supervisor& sv) { return sv.TryFinalize(c.id(), fin); });
  Json ev{{"chain", c.name()}, {"finalized_l1", ToJson(fin)}};
  ev["result"] = r.ok() ? ToJson(*r) : ToJson(r.status());
  trace_->Add("try_finalize", ev);
  if (r.ok()) {
    forwarded_finality_ = fin;
    forwarded_generation_ = host_->generation();
  }
}

OpNode::State OpNode::Fingerprint() const {
  const Derivation& d = world_->derivation(chain_);
  State s;
  s.acked = acked_;
  s.safe = d.safe();
  s.tip = d.tip();
  s.unsafe_head = world_->chain(chain_).head().ref.hash;
  s.replacements = d.replacements().size();
  if (reported_unsafe_) s.reported_unsafe = reported_unsafe_->hash;
  if (forwarded_finality_) s.forwarded_finality = forwarded_finality_->hash;
  s.forwarded_generation = forwarded_generation_;
  return s;
}

}  // namespace supersafe::sim
