// The message checks and the read surface of Supervisor (supervisor.h); the writes are in
// supervisor.cc, the state both share in supervisor_impl.h.
#include <algorithm>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "core/access_list.h"
#include "core/fp.h"
#include "db/super_safe_format.h"
#include "supervisor/supervisor.h"
#include "supervisor/supervisor_impl.h"
#include "supervisor/validity.h"

namespace supersafe::supervisor {

using internal::Conflicting;
using internal::Future;

// ---------------------------------------------------------------------------------------------
// Message checks

Result<SafetyLevel> Supervisor::Impl::LevelOf(size_t c, uint64_t number) {
  if (number <= FinalizedGroup().entries[c].cross_safe_number) return SafetyLevel::kFinalized;
  if (number <= Tip().entries[c].cross_safe_number) return SafetyLevel::kSafe;
  if (number <= chains[c].cross_unsafe) return SafetyLevel::kCrossUnsafe;
  return SafetyLevel::kUnsafe;
}

Result<SafetyLevel> Supervisor::CheckMessage(const Identifier& id, const Hash& payload_hash) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(id.chain_id));
  const ChainConfig& cfg = s.chains[c].config;
  if (id.block_number <= ActivationBlock(cfg)) return SafetyLevel::kConflicts;
  if ((id.block_number - cfg.genesis.number) > (UINT64_MAX - cfg.genesis.timestamp) / cfg.block_time ||
      cfg.TimeOf(id.block_number) != id.timestamp)
    return SafetyLevel::kConflicts;
  db::Presence p = s.chains[c].events->Contains(id.block_number, id.log_index, LogHash(id.origin, payload_hash));
  if (p == db::Presence::kUnknown) return SafetyLevel::kUnknown;
  if (p == db::Presence::kConflicts) return SafetyLevel::kConflicts;
  const db::Group& tip = s.Tip();
  const db::ChainEntry& e = tip.entries[c];
  if ((e.flags & db::kFlagLocalSafeInvalid) && id.block_number >= e.local_safe_number) return SafetyLevel::kConflicts;
  return s.LevelOf(c, id.block_number);
}

Status Supervisor::CheckAccessList(std::span<const Hash> entries, SafetyLevel min_safety,
                                   const ExecutingDescriptor& desc) {
  switch (min_safety) {
    case SafetyLevel::kUnsafe: return CheckAccessList(entries, AccessSafety::kUnsafe, desc);
    case SafetyLevel::kCrossUnsafe: return CheckAccessList(entries, AccessSafety::kCrossUnsafe, desc);
    case SafetyLevel::kSafe: return CheckAccessList(entries, AccessSafety::kSafe, desc);
    case SafetyLevel::kFinalized: return CheckAccessList(entries, AccessSafety::kFinalized, desc);
    default: break;
  }
  SS_RETURN_IF_ERROR(impl_->Alive());
  return InvalidArgument("minSafety: want unsafe, cross-unsafe, safe or finalized, got " +
                         std::string(SafetyLevelName(min_safety)));
}

Status Supervisor::CheckAccessList(std::span<const Hash> entries, AccessSafety min_safety,
                                   const ExecutingDescriptor& desc) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  if (desc.chain_id) SS_RETURN_IF_ERROR(s.Index(*desc.chain_id).status());
  SS_ASSIGN_OR_RETURN(std::vector<AccessEntry> parsed, ParseAccessList(entries));
  for (size_t i = 0; i < parsed.size(); ++i) {
    const AccessEntry& a = parsed[i];
    auto which = [i] { return "message " + std::to_string(i) + ": "; };  // built for errors only
    SS_ASSIGN_OR_RETURN(size_t c, s.Index(a.chain_id));
    const ChainConfig& cfg = s.chains[c].config;
    if (a.timestamp >= desc.timestamp)
      return Conflicting(which() + "timestamp " + std::to_string(a.timestamp) +
                         " is not before the executing timestamp " + std::to_string(desc.timestamp));
    if (desc.timestamp + desc.timeout > a.timestamp + s.deps.expiry_window)
      return Conflicting(which() + "expires within the executing window");
    if (a.block_number <= ActivationBlock(cfg) ||
        (a.block_number - cfg.genesis.number) > (UINT64_MAX - cfg.genesis.timestamp) / cfg.block_time ||
        cfg.TimeOf(a.block_number) != a.timestamp)
      return Conflicting(which() + "block #" + std::to_string(a.block_number) + " and timestamp " +
                         std::to_string(a.timestamp) + " do not fit the chain");
    // The event DB holds every log's checksum, computed when the block was indexed.
    switch (s.chains[c].events->ContainsChecksum(a.block_number, a.log_index, a.timestamp, a.checksum)) {
      case db::Presence::kUnknown:
        return Future(which() + "block #" + std::to_string(a.block_number) + " is not indexed yet");
      case db::Presence::kConflicts: return Conflicting(which() + "no log matches the checksum");
      case db::Presence::kFound: break;
    }
    SS_ASSIGN_OR_RETURN(SafetyLevel level, s.LevelOf(c, a.block_number));
    const db::Group& tip = s.Tip();
    const db::ChainEntry& e = tip.entries[c];
    if ((e.flags & db::kFlagLocalSafeInvalid) && a.block_number >= e.local_safe_number)
      return Conflicting(which() + "block #" + std::to_string(a.block_number) + " is invalid");
    bool meets = false;
    switch (min_safety) {
      case AccessSafety::kUnsafe: meets = true; break;
      case AccessSafety::kLocalSafe: meets = a.block_number <= e.local_safe_number || level >= SafetyLevel::kSafe; break;
      case AccessSafety::kCrossUnsafe: meets = level >= SafetyLevel::kCrossUnsafe; break;
      case AccessSafety::kSafe: meets = level >= SafetyLevel::kSafe; break;
      case AccessSafety::kFinalized: meets = level >= SafetyLevel::kFinalized; break;
    }
    if (!meets && min_safety == AccessSafety::kLocalSafe)
      return Future(which() + "block #" + std::to_string(a.block_number) + " is past the local-safe head #" +
                    std::to_string(e.local_safe_number));
    if (!meets)
      return Future(which() + "is " + SafetyLevelName(level) + ", below the required " + AccessSafetyName(min_safety));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Read surface

Heads Supervisor::Impl::HeadsAt(size_t c, const std::optional<uint64_t>& cross_safe_since) {
  Impl& s = *this;
  const db::Group& tip = s.Tip();
  const db::ChainEntry& e = tip.entries[c];
  Heads h;
  h.unsafe = s.chains[c].events->Latest()->ID();
  h.cross_unsafe = s.Resolve(c, s.chains[c].cross_unsafe);
  h.local_safe = s.LocalSafeOf(c, e);
  h.local_safe_invalid = (e.flags & db::kFlagLocalSafeInvalid) != 0;
  h.cross_safe = s.CrossSafeOf(c, e);
  h.finalized = s.CrossSafeOf(c, s.FinalizedGroup().entries[c]);
  h.local_safe_source = {Hash(), tip.l1_number};
  std::copy(tip.l1_hash.bytes.begin(), tip.l1_hash.bytes.end(), h.local_safe_source.hash.bytes.begin());
  if (auto l1 = s.L1Of(tip.l1_number, tip.l1_hash); l1.ok() && PrefixOf(l1->hash) == tip.l1_hash)
    h.local_safe_source = l1->ID();
  h.cross_safe_source = h.local_safe_source;
  if (cross_safe_since) {
    if (auto l1 = s.GroupL1(*cross_safe_since); l1.ok()) h.cross_safe_source = l1->ID();
  }
  return h;
}

std::vector<Heads> Supervisor::Impl::AllHeads() {
  Impl& s = *this;
  std::vector<db::SuperSafeDB::ChainL2Key> keys;
  for (size_t c = 0; c < s.chains.size(); ++c)
    keys.push_back({static_cast<uint32_t>(c), s.Tip().entries[c].cross_safe_number});
  std::vector<std::optional<uint64_t>> since(keys.size());
  s.safe->MultiFirstCrossSafeAtLeast(keys, since);
  std::vector<Heads> out;
  for (size_t c = 0; c < s.chains.size(); ++c) out.push_back(HeadsAt(c, since[c]));
  return out;
}

Result<Heads> Supervisor::HeadsOf(const ChainID& chain) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(chain));
  return s.HeadsAt(c, s.safe->FirstCrossSafeAtLeast(static_cast<uint32_t>(c), s.Tip().entries[c].cross_safe_number));
}

Result<std::vector<Heads>> Supervisor::AllHeadsOf() {
  SS_RETURN_IF_ERROR(impl_->Alive());
  return impl_->AllHeads();
}

// LocalUnsafe and Finalized read only the databases: HeadsOf also asks the L1 source for the
// sources' hashes, an upstream round trip that a plain head read must not pay (the daemon holds
// the core's lock around every read).
Result<BlockID> Supervisor::LocalUnsafe(const ChainID& chain) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(chain));
  return s.chains[c].events->Latest()->ID();
}

Result<DerivedPair> Supervisor::LocalSafe(const ChainID& chain) {
  SS_ASSIGN_OR_RETURN(Heads h, HeadsOf(chain));
  return DerivedPair{h.local_safe_source, h.local_safe};
}

Result<DerivedPair> Supervisor::CrossSafe(const ChainID& chain) {
  SS_ASSIGN_OR_RETURN(Heads h, HeadsOf(chain));
  return DerivedPair{h.cross_safe_source, h.cross_safe};
}

Result<BlockID> Supervisor::Finalized(const ChainID& chain) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(chain));
  return s.CrossSafeOf(c, s.FinalizedGroup().entries[c]);
}

Result<BlockRef> Supervisor::FinalizedL1() {
  SS_RETURN_IF_ERROR(impl_->Alive());
  if (!impl_->finalized_l1) return Future("no finalized L1 block forwarded yet");
  return *impl_->finalized_l1;
}

Result<BlockRef> Supervisor::CrossDerivedToSource(const ChainID& chain, const BlockID& derived) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(chain));
  if (derived.number > s.Tip().entries[c].cross_safe_number)
    return Future("block " + derived.ToString() + " is not cross-safe yet");
  auto stored = s.IndexedHash(c, derived.number);
  if (!stored || *stored != derived.hash)
    return Conflicting("block " + derived.ToString() + " is not the canonical block at that height");
  auto first = s.safe->FirstCrossSafeAtLeast(static_cast<uint32_t>(c), derived.number);
  SS_CHECK(first.has_value(), "cross-safe block has no view in which it became cross-safe");
  return s.GroupL1(*first);
}

Result<BlockID> Supervisor::LocalSafeBlockAt(const ChainID& chain, uint64_t number) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(chain));
  const db::ChainEntry& e = s.Tip().entries[c];
  const bool invalid = e.flags & db::kFlagLocalSafeInvalid;
  if (number > e.local_safe_number || (invalid && number == e.local_safe_number))
    return Future("block #" + std::to_string(number) + " of chain " + chain.Decimal() + " is not local-safe");
  auto hash = s.IndexedHash(c, number);
  if (!hash) return Future("block #" + std::to_string(number) + " of chain " + chain.Decimal() + " is not indexed");
  return BlockID{*hash, number};
}

Result<std::optional<Bytes>> Supervisor::PendingOutput(const ChainID& chain, const BlockID& block) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(chain));
  return s.chains[c].replacements->PendingPreimage(block.number, block.hash);
}

Result<std::map<ChainID, BlockID>> Supervisor::AllSafeDerivedAt(const BlockID& derived_from) {
  return std::move(AllSafeDerivedAtMany(std::span<const BlockID>(&derived_from, 1)).front());
}

std::vector<Result<std::map<ChainID, BlockID>>> Supervisor::AllSafeDerivedAtMany(
    std::span<const BlockID> derived_from) {
  using Answer = Result<std::map<ChainID, BlockID>>;
  Impl& s = *impl_;
  Status ready = s.Alive();
  if (ready.ok()) ready = s.EnsureL1Canonical();
  if (!ready.ok()) return std::vector<Answer>(derived_from.size(), ready);
  std::vector<uint64_t> numbers;
  for (const BlockID& b : derived_from) numbers.push_back(b.number);
  std::vector<db::Group> groups(numbers.size());
  std::unique_ptr<bool[]> found(new bool[numbers.size()]());
  s.safe->MultiAt(numbers, groups, std::span<bool>(found.get(), numbers.size()));
  std::vector<Answer> out;
  out.reserve(derived_from.size());
  for (size_t k = 0; k < derived_from.size(); ++k) {
    const BlockID& b = derived_from[k];
    if (b.number > s.Tip().l1_number) {
      out.push_back(Future("the group of L1 block #" + std::to_string(b.number) + " is not written yet"));
    } else if (!found[k] || groups[k].l1_hash != PrefixOf(b.hash)) {
      out.push_back(Conflicting("derivedFrom " + b.ToString() + " is not canonical"));
    } else {
      std::map<ChainID, BlockID> heads;
      for (size_t i = 0; i < s.chains.size(); ++i) heads[s.chains[i].config.id] = s.LocalSafeOf(i, groups[k].entries[i]);
      out.push_back(std::move(heads));
    }
  }
  return out;
}

Result<SuperRootResponse> Supervisor::SuperRootAtTimestamp(uint64_t timestamp) {
  return std::move(SuperRootsAtTimestamps(std::span<const uint64_t>(&timestamp, 1)).front());
}

std::vector<Result<SuperRootResponse>> Supervisor::SuperRootsAtTimestamps(std::span<const uint64_t> timestamps) {
  Impl& s = *impl_;
  if (Status alive = s.Alive(); !alive.ok()) return std::vector<Result<SuperRootResponse>>(timestamps.size(), alive);
  const db::Group& tip = s.Tip();
  std::vector<size_t> order(s.chains.size());  // the super root lists chains by ID
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return s.chains[a].config.id < s.chains[b].config.id; });
  // A timestamp's chains are answered in that order up to the first one whose block is not
  // cross-safe yet (its error, unless an earlier chain's output fails first). Every block before
  // it gets its key for the batched lookup of the view in which it became cross-safe.
  struct Plan {
    std::vector<uint64_t> numbers;  // by position in `order`, up to `future`
    size_t future = 0;              // position of the first chain not cross-safe yet, or order.size()
    Status future_error;
    size_t first_key = 0;           // where its keys start in `keys`
  };
  std::vector<Plan> plans(timestamps.size());
  std::vector<db::SuperSafeDB::ChainL2Key> keys;
  keys.reserve(timestamps.size() * order.size());
  for (size_t i = 0; i < timestamps.size(); ++i) {
    const uint64_t t = timestamps[i];
    Plan& p = plans[i];
    p.first_key = keys.size();
    for (p.future = 0; p.future < order.size(); ++p.future) {
      const size_t c = order[p.future];
      const ChainConfig& cfg = s.chains[c].config;
      if (t < cfg.genesis.timestamp) {
        p.future_error = Future("timestamp " + std::to_string(t) + " is before chain " + cfg.id.Decimal() + "'s genesis");
        break;
      }
      const uint64_t n = cfg.genesis.number + (t - cfg.genesis.timestamp) / cfg.block_time;
      if (n > tip.entries[c].cross_safe_number) {
        p.future_error = Future("chain " + cfg.id.Decimal() + " block #" + std::to_string(n) + " is not cross-safe yet");
        break;
      }
      p.numbers.push_back(n);
      keys.push_back({static_cast<uint32_t>(c), n});
    }
  }
  std::vector<std::optional<uint64_t>> first(keys.size());
  s.safe->MultiFirstCrossSafeAtLeast(keys, first);

  std::vector<Result<SuperRootResponse>> out;
  out.reserve(timestamps.size());
  for (size_t i = 0; i < timestamps.size(); ++i) {
    out.push_back([&]() -> Result<SuperRootResponse> {
      const Plan& p = plans[i];
      SuperRootResponse r;
      r.timestamp = timestamps[i];
      SuperV1 super;
      super.timestamp = timestamps[i];
      uint64_t derived_from = 0;
      for (size_t k = 0; k < p.numbers.size(); ++k) {
        const size_t c = order[k];
        const uint64_t n = p.numbers[k];
        const BlockID block = s.Resolve(c, n);
        SS_ASSIGN_OR_RETURN(Bytes canonical, s.chains[c].source->OutputPreimage(block));
        SS_ASSIGN_OR_RETURN(Hash root, OutputRoot(canonical));
        Bytes pending = s.chains[c].replacements->PendingPreimage(n, block.hash).value_or(canonical);
        r.chains.push_back({s.chains[c].config.id, root, pending});
        super.chains.push_back({s.chains[c].config.id, root});
        const std::optional<uint64_t>& became = first[p.first_key + k];
        SS_CHECK(became.has_value(), "cross-safe block has no view in which it became cross-safe");
        derived_from = std::max(derived_from, *became);
      }
      if (p.future < order.size()) return p.future_error;
      SS_ASSIGN_OR_RETURN(BlockRef l1, s.GroupL1(derived_from));
      r.cross_safe_derived_from = l1.ID();
      r.super_root = SuperRoot(super);
      return r;
    }());
  }
  return out;
}

Result<SyncStatus> Supervisor::Impl::SyncStatusOf(const std::vector<Heads>& heads) {
  Impl& s = *this;
  SyncStatus st;
  const db::Group& tip = s.Tip();
  SS_ASSIGN_OR_RETURN(st.min_synced_l1, s.L1Of(tip.l1_number, tip.l1_hash));
  st.safe_timestamp = UINT64_MAX;
  st.finalized_timestamp = UINT64_MAX;
  for (size_t c = 0; c < s.chains.size(); ++c) {
    const Heads& h = heads[c];
    ChainSyncStatus cs;
    cs.local_unsafe = *s.chains[c].events->Latest();
    cs.local_safe = h.local_safe;
    cs.cross_unsafe = h.cross_unsafe;
    cs.cross_safe = h.cross_safe;
    cs.finalized = h.finalized;
    st.safe_timestamp = std::min(st.safe_timestamp, s.chains[c].config.TimeOf(h.cross_safe.number));
    st.finalized_timestamp = std::min(st.finalized_timestamp, s.chains[c].config.TimeOf(h.finalized.number));
    st.chains[s.chains[c].config.id] = cs;
  }
  return st;
}

Result<SyncStatus> Supervisor::GetSyncStatus() {
  SS_RETURN_IF_ERROR(impl_->Alive());
  return impl_->SyncStatusOf(impl_->AllHeads());
}

ReadSnapshot Supervisor::Snapshot() {
  Impl& s = *impl_;
  ReadSnapshot snap;
  snap.alive = s.Alive();
  if (!snap.alive.ok()) return snap;
  const std::vector<Heads> heads = s.AllHeads();
  for (size_t c = 0; c < s.chains.size(); ++c) {
    snap.heads[s.chains[c].config.id] = heads[c];
    snap.local_unsafe[s.chains[c].config.id] = *s.chains[c].events->Latest();
  }
  auto sync = s.SyncStatusOf(heads);
  if (sync.ok()) snap.sync = std::move(sync).value();
  else snap.sync_error = sync.status();
  snap.finalized_l1 = s.finalized_l1;
  return snap;
}

}  // namespace supersafe::supervisor
