// ManagedMode's coordinator (daemon/managed.h): every node's events, one at a time, onto the core.
#include <algorithm>

#include "daemon/managed.h"
#include "daemon/managed_link.h"
#include "supervisor/validity.h"

namespace supersafe::daemon {

using rpc::Json;

namespace {

Json SealOf(const BlockID& b, uint64_t timestamp) {
  // op-supervisor's BlockSeal has no JSON tags: Go writes the field names as they are.
  return Json{{"Hash", b.hash.Hex()}, {"Number", b.number}, {"Timestamp", timestamp}};
}

}  // namespace

void ManagedMode::CoordinatorLoop() {
  auto next_tick = std::chrono::steady_clock::now();
  while (true) {
    std::optional<Queued> item;
    bool tick = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, next_tick, [&] { return stopping_ || wake_ || !queue_.empty(); });
      if (stopping_) return;
      if (!queue_.empty()) {
        item = std::move(queue_.front());
        queue_.pop_front();
      } else {
        tick = true;
        wake_ = false;
      }
    }
    if (item) {
      if (item->seq > item->link->drop_through) Handle(*item->link, item->event);
      continue;
    }
    if (tick) {
      Tick();
      next_tick = std::chrono::steady_clock::now() + config_.tick;
    }
  }
}

Result<BlockID> ManagedMode::TipL1() {
  auto snap = gate_->snapshot();
  if (!snap->alive.ok()) return snap->alive;
  return snap->heads.at(deps_.chains.front().id).local_safe_source;
}

Result<supervisor::CrossSafeAnswer> ManagedMode::TryCrossSafe(const ChainID& chain, const BlockID& local_safe,
                                                              const BlockID& derived_from) {
  auto snap = gate_->snapshot();
  supervisor::FetchPlan plan = supervisor::PlanIndex(*snap, chain, local_safe.number);
  plan.l1 = supervisor::PlanL1(*snap, derived_from.number).l1;
  std::optional<Result<supervisor::CrossSafeAnswer>> a;
  gate_->Run(plan, [&](supervisor::Supervisor& core) { a.emplace(core.TryCrossSafe(chain, local_safe, derived_from)); }, true);
  return std::move(*a);
}

void ManagedMode::Handle(Link& link, const Json& event) {
  auto chain = link.chain();
  if (!chain) return;
  link.Update([](ManagedNodeStatus& st) { ++st.events; });
  // Fields in op-supervisor's order: reset, unsafeBlock, derivationUpdate, exhaustL1, replaceBlock,
  // derivationOriginUpdate.
  auto field = [&](const char* name) -> const Json* {
    auto it = event.find(name);
    return it == event.end() || it->is_null() ? nullptr : &*it;
  };
  if (const Json* reset = field("reset")) {
    Reset(link, "the node asked for a reset: " + (reset->is_string() ? reset->get<std::string>() : reset->dump()));
    return;  // what else came with it is stale
  }
  if (const Json* unsafe = field("unsafeBlock")) {
    auto b = rpc::DecodeBlockRef(*unsafe, "unsafeBlock");
    if (!b.ok()) Warn(link, "unsafeBlock", b.status());
    else OnUnsafe(link, *b);
  }
  auto pair_of = [&](const Json& j, const std::string& path) -> std::optional<std::pair<BlockRef, BlockRef>> {
    auto s = j.contains("source") ? rpc::DecodeBlockRef(j["source"], path + ".source")
                                  : Result<BlockRef>(InvalidArgument(path + ".source missing"));
    auto d = j.contains("derived") ? rpc::DecodeBlockRef(j["derived"], path + ".derived")
                                   : Result<BlockRef>(InvalidArgument(path + ".derived missing"));
    if (!s.ok() || !d.ok()) {
      Warn(link, path, s.ok() ? d.status() : s.status());
      return std::nullopt;
    }
    return std::make_pair(*s, *d);
  };
  if (const Json* update = field("derivationUpdate")) {
    if (auto p = pair_of(*update, "derivationUpdate")) link.Update([&](ManagedNodeStatus& st) { st.local_safe = p->second.ID(); });
  }
  if (const Json* exhaust = field("exhaustL1")) {
    if (auto p = pair_of(*exhaust, "exhaustL1")) {
      if (!link.exhausted || !(link.exhausted->first == p->first && link.exhausted->second == p->second)) {
        link.exhausted = *p;
        link.exhausted_fed = false;
      }
      // A node repeats exhaustL1 while it waits for L1 (a provideL1 may have been lost with a
      // connection): each one is answered again; a node ignores an L1 block it does not need.
      link.provided = false;
      link.Update([&](ManagedNodeStatus& st) { st.local_safe = p->second.ID(); });
      OnExhausted(link);
    }
  }
  if (const Json* replace = field("replaceBlock")) {
    auto r = replace->contains("replacement") ? rpc::DecodeBlockRef((*replace)["replacement"], "replaceBlock.replacement")
                                              : Result<BlockRef>(InvalidArgument("replaceBlock.replacement missing"));
    if (!r.ok()) Warn(link, "replaceBlock", r.status());
    else OnReplaced(link, *r);
  }
}

void ManagedMode::OnUnsafe(Link& link, const BlockRef& block) {
  Status s;
  const ChainID chain = *link.chain();
  gate_->Run(supervisor::PlanIndex(*gate_->snapshot(), chain, block.number),
             [&](supervisor::Supervisor& core) { s = core.UpdateLocalUnsafe(chain, block); }, true);
  if (s.code() == Code::kConflictingData) return Reset(link, "its unsafe chain conflicts with the local-safe data: " + s.message());
  if (!s.ok()) Warn(link, "indexing unsafe block " + block.ID().ToString(), s);
  for (auto& l : links_) SyncHeads(*l);
}

void ManagedMode::OnExhausted(Link& link) {
  Advance();
  ProvideNext(link);
}

// Feeds the core every node's report for the L1 block after the newest group, and checks
// reports at or below it, until no group is written any more.
void ManagedMode::Advance() {
  while (true) {
    auto tip = TipL1();
    if (!tip.ok()) return;
    bool wrote = false;
    for (auto& lp : links_) {
      Link& l = *lp;
      auto chain = l.chain();
      if (!chain || !l.exhausted || l.exhausted_fed || Attached(*chain) != &l) continue;
      const auto& [source, derived] = *l.exhausted;
      if (source.number > tip->number + 1) continue;  // the node is ahead: wait for the others
      Result<supervisor::CrossSafeAnswer> a = TryCrossSafe(*chain, derived.ID(), source.ID());
      const Code code = a.ok() ? Code::kOk : a.status().code();
      if (a.ok() && a->status == supervisor::CrossSafeStatus::kUnknown) continue;  // not indexed yet: next tick
      if (code == Code::kAwaitingReplacementBlock || code == Code::kIOError) continue;
      l.exhausted_fed = true;
      if (code == Code::kConflictingData) {
        auto canonical = l1_->BlockByNumber(source.number);
        if (canonical.ok() && canonical->hash == source.hash) {
          Reset(l, "its local-safe data conflicts with the supervisor's: " + a.status().message());
          continue;
        }
        // Derived from an L1 block reorged out: the next provideL1 makes the node reset itself.
      } else if (!a.ok() && code != Code::kFutureData) {
        Warn(l, "local-safe " + derived.ID().ToString() + " from L1 " + source.ID().ToString(), a.status());
      }
      if (a.ok() && source.number == tip->number + 1) wrote = true;
    }
    if (!wrote) return;
    AfterGroup();
  }
}

// A group was written: tell every node its invalid block, heads and next L1 block.
void ManagedMode::AfterGroup() {
  for (auto& lp : links_) {
    Link& l = *lp;
    auto chain = l.chain();
    if (!chain || !l.exhausted || Attached(*chain) != &l) continue;
    const auto& [source, derived] = *l.exhausted;
    Result<supervisor::CrossSafeAnswer> a = TryCrossSafe(*chain, derived.ID(), source.ID());
    if (!a.ok() || a->status != supervisor::CrossSafeStatus::kInvalid) continue;
    if (l.awaiting_replacement == a->local_safe.hash) continue;
    const auto& cfg = deps_.chains[*supervisor::ChainIndexOf(deps_, *chain)];
    auto r = l.Call("interop_invalidateBlock", Json::array({SealOf(a->local_safe, cfg.TimeOf(a->local_safe.number))}));
    if (!r.ok()) {
      Warn(l, "interop_invalidateBlock " + a->local_safe.ToString(), r.status());
      continue;
    }
    l.awaiting_replacement = a->local_safe.hash;
    l.Update([](ManagedNodeStatus& st) { ++st.invalidations; });
    log_(LogLevel::kWarn, l.Who() + ": block " + a->local_safe.ToString() + " is invalid; the node replaces it");
  }
  for (auto& l : links_) {
    SyncHeads(*l);
    ProvideNext(*l);
  }
}

void ManagedMode::OnReplaced(Link& link, const BlockRef& replacement) {
  auto tip = TipL1();
  if (!tip.ok()) return Warn(link, "replaceBlock", tip.status());
  Result<supervisor::CrossSafeAnswer> a = TryCrossSafe(*link.chain(), replacement.ID(), *tip);
  if (!a.ok() || a->status != supervisor::CrossSafeStatus::kAccept) {
    Warn(link, "replacement " + replacement.ID().ToString(),
         a.ok() ? Status(Code::kFutureData, std::string("answer ") + supervisor::CrossSafeStatusName(a->status)) : a.status());
    return;
  }
  link.awaiting_replacement.reset();
  // The node moved all its heads to the replacement; its older exhaustL1 report is done with.
  if (link.exhausted && link.exhausted->second.number >= replacement.number) link.exhausted.reset();
  link.Update([&](ManagedNodeStatus& st) { st.local_safe = replacement.ID(); });
  AfterGroup();
  Advance();
}

void ManagedMode::ProvideNext(Link& link) {
  auto chain = link.chain();
  if (!chain || !link.exhausted || link.provided || link.awaiting_replacement || Attached(*chain) != &link) return;
  const BlockRef source = link.exhausted->first;
  auto tip = TipL1();
  if (!tip.ok()) return;
  auto current = l1_->BlockByNumber(source.number);
  const bool canonical = current.ok() && current->hash == source.hash;
  if (current.ok() && canonical && source.number > tip->number) return;  // lockstep: the others first
  if (!current.ok() && current.status().code() != Code::kNotFound) return;
  auto next = l1_->BlockByNumber(source.number + 1);
  if (!next.ok()) return;  // not there yet (or L1 trouble): the next tick tries again
  auto r = link.Call("interop_provideL1", Json::array({rpc::Encode(*next)}));
  if (!r.ok()) return Warn(link, "interop_provideL1 " + next->ID().ToString(), r.status());
  link.provided = true;
  link.Update([&](ManagedNodeStatus& st) { st.provided_l1 = *next; });
}

void ManagedMode::SyncHeads(Link& link) {
  auto chain = link.chain();
  if (!chain || Attached(*chain) != &link) return;
  std::optional<BlockID> xu, fin;
  std::optional<supervisor::DerivedPair> xs;
  {
    // The indexed blocks only (no fetch): the cross-unsafe head at the indexed tip.
    auto snap = gate_->snapshot();
    if (!snap->alive.ok()) return;
    const supervisor::Heads& h = snap->heads.at(*chain);
    xu = h.cross_unsafe;
    xs = supervisor::DerivedPair{h.cross_safe_source, h.cross_safe};
    if (snap->finalized_l1) fin = h.finalized;
  }
  ManagedNodeStatus sent;
  {
    std::lock_guard<std::mutex> g(link.status_mu);
    sent = link.status;
  }
  if (xu && sent.cross_unsafe != xu) {
    auto r = link.Call("interop_updateCrossUnsafe", Json::array({rpc::Encode(*xu)}));
    if (r.ok()) link.Update([&](ManagedNodeStatus& st) { st.cross_unsafe = xu; });
  }
  if (xs && sent.cross_safe != xs->derived) {
    auto r = link.Call("interop_updateCrossSafe", Json::array({rpc::Encode(xs->derived), rpc::Encode(xs->source)}));
    if (r.ok()) link.Update([&](ManagedNodeStatus& st) { st.cross_safe = xs->derived; });
  }
  if (fin && sent.finalized != fin) {
    auto r = link.Call("interop_updateFinalized", Json::array({rpc::Encode(*fin)}));
    if (r.ok()) link.Update([&](ManagedNodeStatus& st) { st.finalized = fin; });
  }
}

void ManagedMode::Tick() {
  // An L1 reorg rewinds the safe data even while no node reports.
  gate_->Run(supervisor::PlanL1(*gate_->snapshot(), std::nullopt), [](supervisor::Supervisor& core) { (void)core.SyncL1(); },
             true);
  Advance();
  for (auto& l : links_) {
    ProvideNext(*l);
    SyncHeads(*l);
  }
}

// The reset search (docs/managed-mode.md, "Reset").
void ManagedMode::Reset(Link& link, const std::string& why) {
  const ChainID chain = *link.chain();
  const auto& cfg = deps_.chains[*supervisor::ChainIndexOf(deps_, chain)];
  log_(LogLevel::kWarn, link.Who() + ": resetting: " + why);
  auto pre_interop = [&] {
    auto r = link.Call("interop_resetPreInterop", nullptr);
    if (!r.ok()) return Warn(link, "interop_resetPreInterop", r.status());
    link.exhausted.reset();
    link.awaiting_replacement.reset();
    link.Update([](ManagedNodeStatus& st) { ++st.pre_interop_resets; });
  };
  BlockID z, a;
  supervisor::Heads heads;
  BlockID finalized;
  uint64_t db_unsafe = 0;
  {
    Status sync;
    std::optional<Result<supervisor::DerivedPair>> ls;
    std::optional<Result<BlockID>> act, f;
    std::optional<Result<supervisor::Heads>> h;
    gate_->Run(supervisor::PlanL1(*gate_->snapshot(), std::nullopt), [&](supervisor::Supervisor& core) {
      sync = core.SyncL1();
      ls.emplace(core.LocalSafe(chain));
      act.emplace(core.LocalSafeBlockAt(chain, supervisor::ActivationBlock(cfg)));
      h.emplace(core.HeadsOf(chain));
      f.emplace(core.Finalized(chain));
    }, true);
    if (!sync.ok()) return Warn(link, "reset", sync);
    if (!ls->ok() || !h->ok() || !f->ok())
      return Warn(link, "reset", !ls->ok() ? ls->status() : !h->ok() ? h->status() : f->status());
    if (!act->ok()) {
      // No local-safe activation block yet: the node derives alone until it has one.
      return pre_interop();
    }
    z = (*ls)->derived;
    a = **act;
    heads = **h;
    finalized = **f;
    db_unsafe = heads.unsafe.number;
  }
  auto is_local_safe = [&](const BlockID& b) {
    bool yes = false;
    gate_->Run({}, [&](supervisor::Supervisor& core) {
      auto r = core.LocalSafeBlockAt(chain, b.number);
      yes = r.ok() && *r == b;
    }, false);
    return yes;
  };
  BlockID target;
  auto node_z = link.BlockAt(z.number);
  if (node_z.ok() && node_z->ref.ID() == z) {
    target = z;
  } else {
    auto node_a = link.BlockAt(a.number);
    if (!node_a.ok() && node_a.status().code() != Code::kNotFound) return Warn(link, "reset search", node_a.status());
    if (!node_a.ok() || !(node_a->ref.ID() == a)) return pre_interop();
    uint64_t hi = z.number;
    target = a;
    while (target.number + 1 < hi) {
      const uint64_t i = (target.number + hi) / 2;
      auto node_i = link.BlockAt(i);
      if (!node_i.ok() && node_i.status().code() != Code::kNotFound) return Warn(link, "reset search", node_i.status());
      if (!node_i.ok() || !is_local_safe(node_i->ref.ID())) hi = i;
      else target = node_i->ref.ID();
    }
  }
  // The unsafe head: the node's highest block above the target, up to the core's unsafe head,
  // whose L1 origin is canonical (a binary search, then a walk down).
  auto valid = [&](uint64_t n) -> std::optional<BlockID> {
    auto b = link.BlockAt(n);
    if (!b.ok() || !b->l1_origin) return std::nullopt;
    auto l1 = l1_->BlockByNumber(b->l1_origin->number);
    if (!l1.ok() || l1->hash != b->l1_origin->hash) return std::nullopt;
    return b->ref.ID();
  };
  BlockID unsafe = target;
  if (db_unsafe > target.number) {
    uint64_t lo = target.number, hi = db_unsafe + 1;  // valid(lo) assumed, hi past the range
    while (lo + 1 < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (valid(mid)) lo = mid;
      else hi = mid;
    }
    for (uint64_t n = lo; n > target.number; --n)
      if (auto b = valid(n)) {
        unsafe = *b;
        break;
      }
  }
  auto below = [&](const BlockID& head) { return head.number < target.number ? head : target; };
  const BlockID xu = below(heads.cross_unsafe), xs = below(heads.cross_safe), fin = below(finalized);
  auto r = link.Call("interop_reset", Json::array({rpc::Encode(unsafe), rpc::Encode(xu), rpc::Encode(target),
                                                   rpc::Encode(xs), rpc::Encode(fin)}));
  if (!r.ok()) return Warn(link, "interop_reset", r.status());
  log_(LogLevel::kInfo, link.Who() + ": reset to local-safe " + target.ToString() + ", unsafe " + unsafe.ToString());
  link.exhausted.reset();
  link.awaiting_replacement.reset();
  {
    std::lock_guard<std::mutex> g(mu_);
    link.drop_through = link.seq;  // events sent before the reset describe the old heads
  }
  link.Update([&](ManagedNodeStatus& st) {
    ++st.resets;
    st.cross_unsafe = xu;
    st.cross_safe = xs;
    st.finalized = fin;
    st.local_safe = target;
  });
}

}  // namespace supersafe::daemon
