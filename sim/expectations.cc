#include "sim/expectations.h"

#include <algorithm>
#include <variant>

#include "core/fp.h"
#include "db/event_db.h"
#include "sim/sources.h"
#include "sim/supervisor_host.h"
#include "sim/world.h"

namespace supersafe::sim {
namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

// Collects mismatches; Status() joins them.
class Mismatches {
 public:
  void Add(const std::string& what, const std::string& want, const std::string& saw) {
    items_.push_back(what + ": expected " + want + ", saw " + saw);
  }
  void Raw(const std::string& text) { items_.push_back(text); }
  Status ToStatus() const {
    if (items_.empty()) return Status::Ok();
    std::string out;
    for (const std::string& i : items_) out += (out.empty() ? "" : "; ") + i;
    return Internal(out);
  }

 private:
  std::vector<std::string> items_;
};

class Checker {
 public:
  explicit Checker(const ExpectationContext& ctx) : ctx_(ctx) {}

  void Heads(const HeadsExpect& e);
  void Block(const BlockExpect& e);
  void SuperRoot(const SuperRootExpect& e);
  void Message(const MessageExpect& e);
  void Result(const ResultExpect& e);
  void Error(const ErrorExpect& e);
  void Pool(const PoolExpect& e);
  Status Done() const { return m_.ToStatus(); }

 private:
  const L2Chain& Chain(size_t i) const { return ctx_.world.chain(i); }
  // An answered L1 block against `want`: the canonical L1 block of that number.
  void L1Block(const std::string& what, uint64_t want, const BlockID& saw);
  void Source(const std::string& what, const SourceWant& want, const ::supersafe::Result<BlockRef>& saw);
  // A pending output against `want`, for the canonical block `block` of `chain`.
  void Pending(const std::string& what, const PendingWant& want, size_t chain, const L2Block& block,
               const std::optional<Bytes>& saw);
  // The preimage of the block the canonical `block` replaced, if it is a replacement.
  std::optional<Bytes> OriginalPreimage(size_t chain, const L2Block& block) const;

  const ExpectationContext& ctx_;
  Mismatches m_;
};

void Checker::L1Block(const std::string& what, uint64_t want, const BlockID& saw) {
  const L1Chain& l1 = ctx_.world.l1();
  if (saw.number != want) return m_.Add(what, "L1 #" + Num(want), "L1 #" + Num(saw.number));
  if (want > l1.head().ref.number || l1.at(want).ref.hash != saw.hash)
    m_.Add(what, "the canonical L1 #" + Num(want), saw.ToString() + ", not the canonical block of that number");
}

void Checker::Source(const std::string& what, const SourceWant& want, const ::supersafe::Result<BlockRef>& saw) {
  if (const Code* code = std::get_if<Code>(&want)) {
    if (saw.ok()) return m_.Add(what, CodeName(*code), "L1 #" + Num(saw->number));
    if (saw.status().code() != *code) m_.Add(what, CodeName(*code), saw.status().ToString());
    return;
  }
  if (!saw.ok()) return m_.Add(what, "L1 #" + Num(std::get<uint64_t>(want)), saw.status().ToString());
  L1Block(what, std::get<uint64_t>(want), saw->ID());
}

void Checker::Heads(const HeadsExpect& e) {
  const L2Chain& c = Chain(e.chain);
  auto h = ctx_.host.Call([&](supervisor::Supervisor& sv) { return sv.HeadsOf(c.id()); });
  if (!h.ok()) return m_.Raw("HeadsOf(" + c.name() + "): " + h.status().ToString());
  const std::pair<const char*, std::pair<std::optional<uint64_t>, uint64_t>> fields[] = {
      {"unsafe", {e.unsafe, h->unsafe.number}},
      {"cross_unsafe", {e.cross_unsafe, h->cross_unsafe.number}},
      {"local_safe", {e.local_safe, h->local_safe.number}},
      {"cross_safe", {e.cross_safe, h->cross_safe.number}},
      {"finalized", {e.finalized, h->finalized.number}}};
  for (const auto& [name, v] : fields)
    if (v.first && *v.first != v.second) m_.Add(c.name() + " " + name, Num(*v.first), Num(v.second));
  // The sources as supervisor_localSafe and supervisor_crossSafe serve them.
  if (e.local_safe_source) {
    auto p = ctx_.host.Call([&](supervisor::Supervisor& sv) { return sv.LocalSafe(c.id()); });
    if (!p.ok()) m_.Add(c.name() + " local_safe_source", "L1 #" + Num(*e.local_safe_source), p.status().ToString());
    else L1Block(c.name() + " local_safe_source", *e.local_safe_source, p->source);
  }
  if (e.cross_safe_source) {
    auto p = ctx_.host.Call([&](supervisor::Supervisor& sv) { return sv.CrossSafe(c.id()); });
    if (!p.ok()) m_.Add(c.name() + " cross_safe_source", "L1 #" + Num(*e.cross_safe_source), p.status().ToString());
    else L1Block(c.name() + " cross_safe_source", *e.cross_safe_source, p->source);
  }
}

std::optional<Bytes> Checker::OriginalPreimage(size_t chain, const L2Block& block) const {
  for (const Replacement& r : ctx_.world.derivation(chain).replacements())
    if (r.replacement == block.ID()) return SimOutputPreimage(Chain(chain).id(), r.original.hash);
  return std::nullopt;
}

void Checker::Pending(const std::string& what, const PendingWant& want, size_t chain, const L2Block& block,
                      const std::optional<Bytes>& saw) {
  auto text = [](const std::optional<Bytes>& b) { return b ? ToHex(*b) : std::string("none"); };
  switch (want.kind) {
    case PendingWant::Kind::kNone:
      if (saw) m_.Add(what, "none", text(saw));
      return;
    case PendingWant::Kind::kBytes:
      if (saw != want.bytes) m_.Add(what, ToHex(want.bytes), text(saw));
      return;
    case PendingWant::Kind::kOriginal: {
      const std::optional<Bytes> original = OriginalPreimage(chain, block);
      if (!original)
        return m_.Add(what, "the output of the block it replaced",
                      Chain(chain).name() + "#" + Num(block.ref.number) + " " + block.ref.hash.Hex() +
                          " replaced no block");
      if (saw != original) m_.Add(what, ToHex(*original) + " (the replaced block's)", text(saw));
      return;
    }
  }
}

void Checker::Block(const BlockExpect& e) {
  const L2Chain& c = Chain(e.chain);
  const std::string name = c.name() + "#" + Num(e.block);
  if (e.block >= c.unsafe().size()) return m_.Raw(c.name() + " has no block " + Num(e.block));
  const L2Block& blk = c.unsafe()[e.block];
  if (e.logs && blk.logs.size() != *e.logs) m_.Add(name + " logs", Num(*e.logs), Num(blk.logs.size()));
  if (e.replaced && blk.deposit_only != *e.replaced)
    m_.Add(name + " replaced", *e.replaced ? "true" : "false", blk.deposit_only ? "true" : "false");
  if (e.replaced && *e.replaced && blk.deposit_only) {
    const std::filesystem::path events = ctx_.datadir / "chains" / c.id().Decimal() / "events.db";
    auto db = db::EventDB::Open(events, c.id(), db::OpenOptions{ctx_.files});
    if (!db.ok()) return m_.Raw("opening " + c.name() + "'s event-log DB: " + db.status().ToString());
    auto stored = (*db)->Block(e.block);
    if (!stored.ok()) m_.Add(name + " in the event-log DB", blk.ID().ToString(), stored.status().ToString());
    else if (*stored != blk.ref) m_.Add(name + " in the event-log DB", blk.ID().ToString(), stored->ID().ToString());
  }
  if (e.source) {
    auto r = ctx_.host.Call([&](supervisor::Supervisor& sv) { return sv.CrossDerivedToSource(c.id(), blk.ID()); });
    Source(name + " source", *e.source, r);
  }
  if (e.pending) {
    auto r = ctx_.host.Call([&](supervisor::Supervisor& sv) { return sv.PendingOutput(c.id(), blk.ID()); });
    if (!r.ok()) return m_.Raw(name + " pending output: " + r.status().ToString());
    Pending(name + " pending", *e.pending, e.chain, blk, *r);
  }
}

void Checker::SuperRoot(const SuperRootExpect& e) {
  const std::string what = "super root at " + Num(e.timestamp);
  auto r = ctx_.host.Call([&](supervisor::Supervisor& sv) { return sv.SuperRootAtTimestamp(e.timestamp); });
  const Code* want_error = e.source ? std::get_if<Code>(&*e.source) : nullptr;
  if (want_error) {
    if (r.ok()) m_.Add(what, CodeName(*want_error), "a root derived from L1 #" + Num(r->cross_safe_derived_from.number));
    else if (r.status().code() != *want_error) m_.Add(what, CodeName(*want_error), r.status().ToString());
    return;
  }
  if (!r.ok()) return m_.Add(what, "a root", r.status().ToString());
  if (e.source) L1Block(what + " source", std::get<uint64_t>(*e.source), r->cross_safe_derived_from);
  if (e.root && *e.root != r->super_root) m_.Add(what, e.root->Hex(), r->super_root.Hex());
  // The root must commit to the chains' canonical blocks at the timestamp, as the world holds them.
  SuperV1 super;
  super.timestamp = e.timestamp;
  std::vector<std::pair<ChainID, size_t>> order;
  for (size_t i = 0; i < ctx_.world.chain_count(); ++i) order.emplace_back(Chain(i).id(), i);
  std::sort(order.begin(), order.end());
  for (const auto& [id, i] : order) {
    const L2Chain& c = Chain(i);
    const uint64_t n = (e.timestamp - c.genesis_time()) / c.block_time();
    if (e.timestamp < c.genesis_time() || n >= c.unsafe().size())
      return m_.Raw(what + ": answered, but " + c.name() + " has no block at that timestamp");
    auto root = OutputRoot(SimOutputPreimage(id, c.unsafe()[n].ref.hash));
    SS_CHECK(root.ok(), "the simulator's output preimage has 128 bytes");
    super.chains.push_back({id, *root});
  }
  const Hash world_root = ::supersafe::SuperRoot(super);
  if (world_root != r->super_root)
    m_.Add(what, world_root.Hex() + " (the chains' canonical blocks at that timestamp)", r->super_root.Hex());
  for (const auto& [chain, want] : e.pending) {
    const L2Chain& c = Chain(chain);
    const L2Block& blk = c.unsafe()[(e.timestamp - c.genesis_time()) / c.block_time()];
    auto it = std::find_if(r->chains.begin(), r->chains.end(),
                           [&](const supervisor::SuperRootChain& x) { return x.chain_id == c.id(); });
    if (it == r->chains.end()) {
      m_.Raw(what + ": the answer has no entry for " + c.name());
      continue;
    }
    // The answer's `pending` is the canonical output when nothing is stored: that is "none".
    const Bytes canonical = SimOutputPreimage(c.id(), blk.ref.hash);
    const std::optional<Bytes> stored = it->pending == canonical ? std::nullopt : std::optional<Bytes>(it->pending);
    Pending(what + " " + c.name() + " pending", want, chain, blk, stored);
  }
}

void Checker::Message(const MessageExpect& e) {
  const ExecutingMessage& msg = ctx_.world.messages().at(e.message);
  auto r = ctx_.host.Call([&](supervisor::Supervisor& sv) { return sv.CheckMessage(msg.id, msg.payload_hash); });
  const std::string saw = r.ok() ? SafetyLevelName(*r) : r.status().ToString();
  if (!r.ok() || *r != e.level) m_.Add("message " + e.message, SafetyLevelName(e.level), saw);
}

void Checker::Result(const ResultExpect& e) {
  const CallOutcome& c = *ctx_.last_call;
  const std::string call = std::string(CallMethodName(c.method));
  if (!c.status.ok()) return m_.Add(call + " result", "a result", c.status.ToString());
  if (e.status && *e.status != supervisor::CrossSafeStatusName(c.cross_safe->status))
    m_.Add(call + " status", *e.status, supervisor::CrossSafeStatusName(c.cross_safe->status));
  if (e.cross_safe && *e.cross_safe != c.cross_safe->cross_safe.number)
    m_.Add(call + " cross_safe", Num(*e.cross_safe), Num(c.cross_safe->cross_safe.number));
  if (e.local_safe && *e.local_safe != c.cross_safe->local_safe.number)
    m_.Add(call + " local_safe", Num(*e.local_safe), Num(c.cross_safe->local_safe.number));
  if (e.block && *e.block != c.block->number) m_.Add(call + " block", Num(*e.block), Num(c.block->number));
  if (e.level && *e.level != *c.level) m_.Add(call + " level", SafetyLevelName(*e.level), SafetyLevelName(*c.level));
}

void Checker::Error(const ErrorExpect& e) {
  const CallOutcome& c = *ctx_.last_call;
  if (c.status.code() != e.code)
    m_.Add(std::string(CallMethodName(c.method)) + " error", CodeName(e.code),
           c.status.ok() ? std::string("success") : c.status.ToString());
}

void Checker::Pool(const PoolExpect& e) {
  const L2Chain& c = Chain(e.chain);
  if (c.pool().size() != e.pending) m_.Add(c.name() + " pending txs", Num(e.pending), Num(c.pool().size()));
}

}  // namespace

Status CheckExpectation(const Expectation& expectation, const ExpectationContext& ctx) {
  Checker check(ctx);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, HeadsExpect>) check.Heads(e);
        else if constexpr (std::is_same_v<T, ChainsExpect>) for (const HeadsExpect& h : e.chains) check.Heads(h);
        else if constexpr (std::is_same_v<T, BlockExpect>) check.Block(e);
        else if constexpr (std::is_same_v<T, SuperRootExpect>) check.SuperRoot(e);
        else if constexpr (std::is_same_v<T, MessageExpect>) check.Message(e);
        else if constexpr (std::is_same_v<T, ResultExpect>) check.Result(e);
        else if constexpr (std::is_same_v<T, ErrorExpect>) check.Error(e);
        else if constexpr (std::is_same_v<T, PoolExpect>) check.Pool(e);
      },
      expectation);
  return check.Done();
}

}  // namespace supersafe::sim
