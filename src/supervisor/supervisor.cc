#include "supervisor/supervisor.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/crypto.h"
#include "db/event_db.h"
#include "db/file.h"
#include "db/replacement_log.h"
#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "supervisor/cross_evaluator.h"
#include "supervisor/supervisor_impl.h"
#include "supervisor/validity.h"

namespace supersafe::supervisor {

namespace fs = std::filesystem;

Result<std::shared_ptr<const std::vector<Log>>> ChainSource::LogsShared(const BlockID& block) {
  SS_ASSIGN_OR_RETURN(std::vector<Log> logs, Logs(block));
  return std::make_shared<const std::vector<Log>>(std::move(logs));
}

const char* CrossSafeStatusName(CrossSafeStatus s) {
  switch (s) {
    case CrossSafeStatus::kAccept: return "accept";
    case CrossSafeStatus::kUnknown: return "unknown";
    case CrossSafeStatus::kInvalid: return "invalid";
  }
  return "?";
}

namespace {

using internal::Conflicting;
using internal::Future;

// A malformed CrossL2Inbox log is stored as an executing message that breaks rule 3 (its
// timestamp is after any block's), so the block holding it is invalid (docs/decisions.md).
db::ExecRef MalformedExecRef(const ChainID& own_chain) {
  db::ExecRef ref;
  ref.chain_id = own_chain;
  ref.timestamp = UINT64_MAX;
  return ref;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Opening

Result<std::unique_ptr<Supervisor>> Supervisor::Open(const fs::path& datadir, const DependencySet& deps,
                                                     Sources sources, const Options& options) {
  if (deps.chains.empty()) return InvalidArgument("dependency set: no chains");
  if (sources.l1 == nullptr) return InvalidArgument("sources: no L1 source");
  for (size_t i = 0; i < deps.chains.size(); ++i) {
    const ChainConfig& c = deps.chains[i];
    if (c.block_time == 0) return InvalidArgument("chain " + c.id.Decimal() + ": block_time is 0");
    for (size_t j = 0; j < i; ++j)
      if (deps.chains[j].id == c.id) return InvalidArgument("dependency set: chain " + c.id.Decimal() + " listed twice");
    if (sources.chains.count(c.id) == 0 || sources.chains.at(c.id) == nullptr)
      return InvalidArgument("sources: no source for chain " + c.id.Decimal());
  }
  db::Env* env = db::EnvOr(options.env);
  SS_RETURN_IF_ERROR(db::CreateDirectoriesDurably(env, datadir / "chains"));

  auto impl = std::make_unique<Impl>();
  impl->datadir = datadir;
  impl->deps = deps;
  impl->sources = sources;
  impl->options = options;
  const db::OpenOptions db_options{env};
  std::vector<ChainID> chain_ids;
  for (const ChainConfig& c : deps.chains) chain_ids.push_back(c.id);
  SS_ASSIGN_OR_RETURN(impl->safe, db::SuperSafeDB::Open(datadir, chain_ids, db_options));
  for (const ChainConfig& c : deps.chains) {
    fs::path dir = datadir / "chains" / c.id.Decimal();
    SS_RETURN_IF_ERROR(db::CreateDirectoriesDurably(env, dir));
    ChainState st;
    st.config = c;
    st.source = sources.chains.at(c.id);
    SS_ASSIGN_OR_RETURN(st.events, db::EventDB::Open(dir / "events.db", c.id, db_options));
    SS_ASSIGN_OR_RETURN(st.replacements, db::ReplacementLog::Open(dir / "replacements.db", db_options));
    impl->chains.push_back(std::move(st));
  }
  SS_RETURN_IF_ERROR(impl->Initialize());
  return std::unique_ptr<Supervisor>(new Supervisor(std::move(impl)));
}

Supervisor::Supervisor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Supervisor::~Supervisor() = default;
bool Supervisor::dead() const { return impl_->dead; }
const DependencySet& Supervisor::dependency_set() const { return impl_->deps; }

Status Supervisor::Impl::Initialize() {
  for (ChainState& c : chains) {
    if (!c.events->Latest()) {
      db::BlockRecord genesis{c.config.genesis, {}};
      SS_RETURN_IF_ERROR(Written(c.events->Append(genesis)));
    }
    auto first = c.events->First();
    if (first->number > c.config.genesis.number ||
        (first->number == c.config.genesis.number && first->hash != c.config.genesis.hash))
      return InvalidArgument("chain " + c.config.id.Decimal() + ": event-log DB does not start at the configured genesis");
  }
  if (safe->empty()) {
    db::Group g;
    g.l1_number = deps.genesis_l1.number;
    g.l1_hash = PrefixOf(deps.genesis_l1.hash);
    g.l1_timestamp = deps.genesis_l1.timestamp;
    for (size_t i = 0; i < chains.size(); ++i) {
      const BlockRef& b = chains[i].config.genesis;
      g.entries.push_back({static_cast<uint32_t>(i), b.number, PrefixOf(b.hash), b.number, PrefixOf(b.hash), 0});
    }
    SS_RETURN_IF_ERROR(Written(safe->Append(g)));
  }
  Refresh();
  const db::Group& tip = Tip();
  if (tip.entries.size() != chains.size())
    return InvalidArgument("dependency set has " + std::to_string(chains.size()) + " chains but " +
                           (datadir / db::SuperSafeDB::kFileName).string() + " holds " +
                           std::to_string(tip.entries.size()) + " per group");
  for (size_t i = 0; i < chains.size(); ++i) {
    auto latest = chains[i].events->Latest();
    if (latest->number < tip.entries[i].cross_safe_number)
      return Status(Code::kDataCorruption, "chain " + chains[i].config.id.Decimal() + ": event-log DB ends at #" +
                                               std::to_string(latest->number) + ", below its cross-safe head #" +
                                               std::to_string(tip.entries[i].cross_safe_number));
  }
  RecomputeCrossUnsafe(true);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Unsafe indexing and cross-unsafe

Status Supervisor::Impl::IndexThrough(size_t c, const BlockRef& head) {
  ChainState& chain = chains[c];
  const uint64_t floor = Tip().entries[c].cross_safe_number;
  BlockRef latest = *chain.events->Latest();
  auto source_hash = [&](uint64_t n) -> Result<Hash> {
    if (n == head.number) return head.hash;
    SS_ASSIGN_OR_RETURN(BlockRef b, chain.source->BlockByNumber(n));
    return b.hash;
  };
  // The newest indexed block still on the node's chain.
  uint64_t k = std::min(latest.number, head.number);
  while (true) {
    SS_ASSIGN_OR_RETURN(BlockRef stored, chain.events->Block(k));
    SS_ASSIGN_OR_RETURN(Hash theirs, source_hash(k));
    if (stored.hash == theirs) break;
    if (k <= floor)
      return Conflicting("chain " + chain.config.id.Decimal() + ": unsafe block #" + std::to_string(k) +
                         " differs at or below cross-safe #" + std::to_string(floor) +
                         "; wait for L1 to rewind cross-safe first");
    --k;
  }
  bool rewound = k < latest.number;
  if (rewound && k < floor)
    return Conflicting("chain " + chain.config.id.Decimal() + ": unsafe head #" + std::to_string(head.number) +
                       " is below cross-safe #" + std::to_string(floor) + "; wait for L1 to rewind cross-safe first");
  std::vector<db::BlockRecord> records;
  std::vector<std::shared_ptr<const std::vector<Log>>> block_logs;
  Hash parent = chain.events->Block(k)->hash;
  const uint64_t last = head.number - k > kMaxBlocksIndexedPerCall ? k + kMaxBlocksIndexedPerCall : head.number;
  for (uint64_t n = k + 1; n <= last; ++n) {
    BlockRef ref = head;
    if (n != head.number) {
      SS_ASSIGN_OR_RETURN(ref, chain.source->BlockByNumber(n));
    }
    if (ref.parent_hash != parent || ref.number != n)
      return Conflicting("chain " + chain.config.id.Decimal() + ": block #" + std::to_string(n) +
                         " does not build on #" + std::to_string(n - 1) + " as the node served it");
    SS_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<Log>> logs, chain.source->LogsShared(ref.ID()));
    parent = ref.hash;
    records.push_back(db::BlockRecord{ref, {}});
    block_logs.push_back(std::move(logs));
  }
  // Every log hash of the batch at once: Keccak256Many splits a large batch over two threads.
  std::vector<const Log*> all_logs;
  for (const auto& logs : block_logs)
    for (const Log& log : *logs) all_logs.push_back(&log);
  std::vector<Hash> log_hashes(all_logs.size());
  LogHashesOf(all_logs, log_hashes);
  size_t next_hash = 0;
  for (size_t b = 0; b < records.size(); ++b) {
    db::BlockRecord& rec = records[b];
    rec.logs.reserve(block_logs[b]->size());
    for (const Log& log : *block_logs[b]) {
      db::LogRecord lr{log_hashes[next_hash++], std::nullopt};
      auto exec = DecodeExecutingMessage(log);
      if (!exec.ok()) {
        lr.exec = MalformedExecRef(chain.config.id);
      } else if (exec->has_value()) {
        const ExecutingMessage& m = **exec;
        lr.exec = db::ExecRef{m.id.chain_id, m.id.block_number, m.id.log_index, m.id.timestamp, m.ExpectedLogHash()};
      }
      rec.logs.push_back(std::move(lr));
    }
  }
  // Every source answer is in hand: only now the DB changes (a call that failed on a fetch ran
  // again must find it as it was).
  if (rewound) SS_RETURN_IF_ERROR(Written(chain.events->RewindTo(k)));
  if (!records.empty()) SS_RETURN_IF_ERROR(Written(chain.events->AppendBatch(records)));
  RecomputeCrossUnsafe(rewound);
  return Status::Ok();
}

Result<db::Presence> Supervisor::Impl::EnsureIndexed(size_t c, const BlockID& block) {
  ChainState& chain = chains[c];
  BlockRef latest = *chain.events->Latest();
  if (block.number <= latest.number) {
    SS_ASSIGN_OR_RETURN(BlockRef stored, chain.events->Block(block.number));
    if (stored.hash == block.hash) return db::Presence::kFound;
  }
  auto ref = chain.source->BlockByNumber(block.number);
  if (!ref.ok()) return db::Presence::kUnknown;
  if (ref->hash != block.hash) return db::Presence::kConflicts;
  Status s = IndexThrough(c, *ref);
  if (!s.ok()) {
    if (dead) return s;
    return s.code() == Code::kConflictingData ? db::Presence::kConflicts : db::Presence::kUnknown;
  }
  // IndexThrough stops after kMaxBlocksIndexedPerCall blocks: the block may not be reached yet.
  return chain.events->Latest()->number >= block.number ? db::Presence::kFound : db::Presence::kUnknown;
}

void Supervisor::Impl::RecomputeCrossUnsafe(bool from_cross_safe) {
  const db::Group& tip = Tip();
  CrossInput in;
  in.deps = &deps;
  in.events = EventDBs();
  for (size_t i = 0; i < chains.size(); ++i) {
    uint64_t cross_safe = tip.entries[i].cross_safe_number;
    uint64_t latest = chains[i].events->Latest()->number;
    uint64_t head = from_cross_safe ? cross_safe : std::max(chains[i].cross_unsafe, cross_safe);
    in.heads.push_back(std::min(head, latest));
    in.limits.push_back(latest);
    in.invalid_from.push_back(kNoBlock);
  }
  auto out = AdvanceCross(in);
  SS_CHECK(out.ok(), "cross-unsafe over indexed blocks failed: " + out.status().ToString());
  for (size_t i = 0; i < chains.size(); ++i) chains[i].cross_unsafe = out->heads[i];
}

Status Supervisor::UpdateLocalUnsafe(const ChainID& chain, const BlockRef& unsafe) {
  SS_RETURN_IF_ERROR(impl_->Alive());
  SS_ASSIGN_OR_RETURN(size_t c, impl_->Index(chain));
  if (unsafe.number < impl_->chains[c].config.genesis.number)
    return InvalidArgument("unsafe.number " + std::to_string(unsafe.number) + " is below the chain's genesis");
  return impl_->IndexThrough(c, unsafe);
}

Status Supervisor::RewindUnsafe(const ChainID& chain, const BlockID& block) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(chain));
  const uint64_t local_safe = s.Tip().entries[c].local_safe_number;
  if (block.number < local_safe)
    return Conflicting("block #" + std::to_string(block.number) + " is below the local-safe head #" +
                       std::to_string(local_safe) + " of chain " + chain.Decimal() + "; derived data rewinds through L1");
  auto stored = s.IndexedHash(c, block.number);
  if (!stored || *stored != block.hash)
    return Conflicting("block " + block.ToString() + " is not indexed for chain " + chain.Decimal());
  if (block.number == s.chains[c].events->Latest()->number) return Status::Ok();
  SS_RETURN_IF_ERROR(s.Written(s.chains[c].events->RewindTo(block.number)));
  s.RecomputeCrossUnsafe(true);
  return Status::Ok();
}

Result<BlockID> Supervisor::GetCrossUnsafe(const ChainID& chain, uint64_t max_number) {
  SS_RETURN_IF_ERROR(impl_->Alive());
  SS_ASSIGN_OR_RETURN(size_t c, impl_->Index(chain));
  ChainState& st = impl_->chains[c];
  if (max_number > st.events->Latest()->number) {
    // Fetch newer logs as far as the node serves them; the answer does not wait for it.
    auto head = st.source->BlockByNumber(max_number);
    if (head.ok()) {
      Status s = impl_->IndexThrough(c, *head);
      if (impl_->dead) return s;
    }
  }
  return impl_->Resolve(c, std::min(st.cross_unsafe, max_number));
}

// ---------------------------------------------------------------------------------------------
// Cross-safe

Status Supervisor::Impl::EnsureL1Canonical() {
  std::optional<db::Group> g = Tip();
  uint64_t first_gone = kNoBlock;
  while (g) {
    auto l1 = sources.l1->BlockByNumber(g->l1_number);
    if (l1.ok() && PrefixOf(l1->hash) == g->l1_hash) break;
    if (!l1.ok() && l1.status().code() != Code::kNotFound) return l1.status();
    first_gone = g->l1_number;
    if (g->l1_number == deps.genesis_l1.number) g.reset();
    else g = safe->AtOrBefore(g->l1_number - 1);
  }
  if (!g) return Conflicting("the genesis L1 block is no longer canonical");
  if (first_gone == kNoBlock) return Status::Ok();
  SS_RETURN_IF_ERROR(Written(safe->TruncateFrom(first_gone)));
  Refresh();
  for (ChainState& c : chains) c.reported.reset();
  // Cross-unsafe never depended on L1; it stays, but not below the rewound cross-safe.
  RecomputeCrossUnsafe(false);
  return Status::Ok();
}

Result<db::Group> Supervisor::Impl::BuildGroup(const BlockRef& l1, const std::vector<uint64_t>& base_heads,
                                               const std::vector<BlockID>& local_safe,
                                               const std::vector<uint64_t>& invalid_from) {
  CrossInput in;
  in.deps = &deps;
  in.events = EventDBs();
  in.heads = base_heads;
  for (const BlockID& b : local_safe) in.limits.push_back(b.number);
  in.invalid_from = invalid_from;
  in.judge_beyond_waits = true;
  in.memo = &cross_safe_memo;
  SS_ASSIGN_OR_RETURN(CrossOutput out, AdvanceCross(in));
  // Keep the pending outputs now: once the node replaces a block, nobody can serve it. Every one
  // is asked for before anything is written (a not-fetched one ends the call unchanged).
  std::vector<std::tuple<size_t, BlockID, Bytes>> preimages;
  for (const Invalidation& inv : out.invalidations) {
    if (inv.number != out.invalid_from[inv.chain]) continue;
    BlockID block = Resolve(inv.chain, inv.number);
    auto preimage = chains[inv.chain].source->OutputPreimage(block);
    if (!preimage.ok() && preimage.status().code() == Code::kNotFetched) return preimage.status();
    if (preimage.ok()) preimages.emplace_back(inv.chain, block, std::move(preimage).value());
  }
  for (const auto& [c, block, preimage] : preimages)
    SS_RETURN_IF_ERROR(Written(chains[c].replacements->RecordInvalidated(block.number, block.hash, preimage)));
  db::Group g;
  g.l1_number = l1.number;
  g.l1_hash = PrefixOf(l1.hash);
  g.l1_timestamp = l1.timestamp;
  for (size_t i = 0; i < chains.size(); ++i) {
    db::ChainEntry e;
    e.chain_index = static_cast<uint32_t>(i);
    BlockID local = local_safe[i];
    if (out.invalid_from[i] <= local.number) {
      // A chain still awaiting its replacement keeps the invalid block it was given: its node may
      // have indexed the replacement at that height already.
      if (out.invalid_from[i] < local.number) local = Resolve(i, out.invalid_from[i]);
      e.flags |= db::kFlagLocalSafeInvalid;
    }
    e.local_safe_number = local.number;
    e.local_safe_hash = PrefixOf(local.hash);
    BlockID cross = Resolve(i, out.heads[i]);
    e.cross_safe_number = cross.number;
    e.cross_safe_hash = PrefixOf(cross.hash);
    if (chains[i].replacements->IsReplacement(cross.number, cross.hash)) e.flags |= db::kFlagCrossSafeReplacement;
    g.entries.push_back(e);
  }
  SS_RETURN_IF_ERROR(Written(safe->Append(g)));
  RememberL1(l1);
  Refresh();
  for (size_t i = 0; i < chains.size(); ++i)
    chains[i].cross_unsafe = std::max(chains[i].cross_unsafe, g.entries[i].cross_safe_number);
  return g;
}

Result<CrossSafeAnswer> Supervisor::Impl::AnswerFromGroup(size_t c, const db::Group& g, const BlockID& local_safe) {
  const db::ChainEntry& e = g.entries[c];
  CrossSafeAnswer a;
  a.cross_safe = CrossSafeOf(c, e);
  a.local_safe = LocalSafeOf(c, e);
  if (e.flags & db::kFlagLocalSafeInvalid) {
    a.status = CrossSafeStatus::kInvalid;
    return a;
  }
  if (local_safe.number > e.local_safe_number)
    return Conflicting("localSafe #" + std::to_string(local_safe.number) + " is past the local-safe #" +
                       std::to_string(e.local_safe_number) + " stored for L1 block #" + std::to_string(g.l1_number));
  bool matches = PrefixOf(local_safe.hash) == e.local_safe_hash;
  if (local_safe.number != e.local_safe_number) {
    SS_ASSIGN_OR_RETURN(db::Presence p, EnsureIndexed(c, local_safe));
    matches = p == db::Presence::kFound;
  }
  if (!matches)
    return Conflicting("localSafe " + local_safe.ToString() + " differs from the stored block at that height");
  if (e.cross_safe_number > local_safe.number) a.cross_safe = local_safe;
  a.status = CrossSafeStatus::kAccept;
  return a;
}

Result<CrossSafeAnswer> Supervisor::Impl::AcceptReplacement(size_t c, const db::Group& g, const BlockID& reported) {
  const db::ChainEntry& entry = g.entries[c];
  SS_ASSIGN_OR_RETURN(db::Presence p, EnsureIndexed(c, reported));
  if (p == db::Presence::kUnknown)
    return CrossSafeAnswer{CrossSafeStatus::kUnknown, CrossSafeOf(c, entry), LocalSafeOf(c, entry)};
  if (p == db::Presence::kConflicts)
    return Conflicting("replacement " + reported.ToString() + " is not the node's block at that height");
  // The event-log DB now holds the chain `reported` is on: its block at the invalid height is the
  // replacement, and with the rest of the batch derived again on it the report is above it.
  const BlockID replacement = Resolve(c, entry.local_safe_number);
  if (PrefixOf(replacement.hash) == entry.local_safe_hash) return AnswerFromGroup(c, g, reported);  // not replaced yet
  SS_ASSIGN_OR_RETURN(BlockRef l1, L1Of(g.l1_number, g.l1_hash));
  SS_ASSIGN_OR_RETURN(uint32_t logs, chains[c].events->LogCount(replacement.number));
  if (logs != 0)
    return Conflicting("replacement " + replacement.ToString() + " has " + std::to_string(logs) +
                       " logs; a deposit-only block has none");
  Status recorded = chains[c].replacements->RecordReplaced(replacement.number, replacement.hash);
  if (recorded.code() != Code::kInvalidArgument) SS_RETURN_IF_ERROR(Written(recorded));

  // Revise the tip group: the view is recomputed with the replacement in place.
  std::optional<db::Group> before = safe->AtOrBefore(g.l1_number - 1);
  SS_CHECK(before.has_value(), "an invalid block awaits replacement in the genesis group");
  std::vector<uint64_t> base;
  std::vector<BlockID> local;
  std::vector<uint64_t> invalid_from;
  for (size_t i = 0; i < chains.size(); ++i) {
    const db::ChainEntry& e = g.entries[i];
    base.push_back(before->entries[i].cross_safe_number);
    bool awaiting = i != c && (e.flags & db::kFlagLocalSafeInvalid);
    local.push_back(i == c ? reported : LocalSafeOf(i, e));
    invalid_from.push_back(awaiting ? e.local_safe_number : kNoBlock);
  }
  SS_ASSIGN_OR_RETURN(db::Group revised, BuildGroup(l1, base, local, invalid_from));
  return AnswerFromGroup(c, revised, reported);
}

Result<CrossSafeAnswer> Supervisor::TryCrossSafe(const ChainID& chain, const BlockID& local_safe,
                                                 const BlockID& derived_from) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(chain));
  SS_RETURN_IF_ERROR(s.EnsureL1Canonical());
  db::Group tip = s.Tip();

  if (derived_from.number > tip.l1_number + 1)
    return Status(Code::kOutOfOrder, "derivedFrom #" + std::to_string(derived_from.number) + " skips ahead of the tip L1 block #" +
                                         std::to_string(tip.l1_number) + "; derive again from #" +
                                         std::to_string(tip.l1_number + 1));
  if (derived_from.number == tip.l1_number + 1) {
    auto l1 = s.sources.l1->BlockByNumber(derived_from.number);
    if (!l1.ok() || l1->hash != derived_from.hash)
      return Conflicting("derivedFrom " + derived_from.ToString() + " is not on the canonical L1 chain");
    const db::ChainEntry& e = tip.entries[c];
    if (e.flags & db::kFlagLocalSafeInvalid)
      return Status(Code::kAwaitingReplacementBlock, "block #" + std::to_string(e.local_safe_number) + " of chain " +
                                                         chain.Decimal() + " is invalid and awaits its replacement");
    if (local_safe.number < e.local_safe_number)
      return Conflicting("localSafe #" + std::to_string(local_safe.number) + " is below the local-safe #" +
                         std::to_string(e.local_safe_number) + " of the previous L1 block");
    SS_ASSIGN_OR_RETURN(db::Presence p, s.EnsureIndexed(c, local_safe));
    if (p == db::Presence::kUnknown)
      return CrossSafeAnswer{CrossSafeStatus::kUnknown, s.CrossSafeOf(c, e), s.LocalSafeOf(c, e)};
    if (p == db::Presence::kConflicts)
      return Conflicting("localSafe " + local_safe.ToString() + " is not the node's block at that height");
    if (s.Resolve(c, e.local_safe_number).hash != s.LocalSafeOf(c, e).hash)
      return Conflicting("localSafe " + local_safe.ToString() + " does not descend from the stored local-safe");
    s.chains[c].reported = local_safe;
    s.chains[c].reported_from = derived_from.hash;
    // A chain whose block in the tip view became invalid after it reported the next L1 block (a
    // revision for another chain's replacement decided it) must replace the block first: its
    // report was derived on the invalid block and does not count.
    for (size_t i = 0; i < s.chains.size(); ++i)
      if (tip.entries[i].flags & db::kFlagLocalSafeInvalid) s.chains[i].reported.reset();
    // A report derived from an L1 block that is no longer canonical does not count: its node must
    // derive again (nobody may have told the supervisor of the reorg; the tip group is unchanged).
    for (ChainState& st : s.chains)
      if (st.reported && st.reported_from != derived_from.hash) st.reported.reset();
    for (const ChainState& st : s.chains)
      if (!st.reported) return Future("L1 block #" + std::to_string(derived_from.number) + " waits for every chain's report");
    std::vector<uint64_t> base;
    std::vector<BlockID> local;
    for (size_t i = 0; i < s.chains.size(); ++i) {
      base.push_back(tip.entries[i].cross_safe_number);
      local.push_back(*s.chains[i].reported);
    }
    SS_ASSIGN_OR_RETURN(db::Group g, s.BuildGroup(*l1, base, local, std::vector<uint64_t>(s.chains.size(), kNoBlock)));
    for (ChainState& st : s.chains) st.reported.reset();
    return s.AnswerFromGroup(c, g, local_safe);
  }

  std::optional<db::Group> g = s.safe->At(derived_from.number);
  if (!g || g->l1_hash != PrefixOf(derived_from.hash))
    return Conflicting("derivedFrom " + derived_from.ToString() + " is not the L1 block of the stored view");
  const db::ChainEntry& e = g->entries[c];
  // A report at or above the invalid block, other than the invalid block itself: the node replaced
  // it (and derived the rest of its batch again on the replacement, or not).
  bool replaces = (e.flags & db::kFlagLocalSafeInvalid) && g->l1_number == tip.l1_number &&
                  local_safe.number >= e.local_safe_number &&
                  (local_safe.number > e.local_safe_number || PrefixOf(local_safe.hash) != e.local_safe_hash);
  if (replaces) return s.AcceptReplacement(c, *g, local_safe);
  return s.AnswerFromGroup(c, *g, local_safe);
}

Status Supervisor::SyncL1() {
  SS_RETURN_IF_ERROR(impl_->Alive());
  return impl_->EnsureL1Canonical();
}

// ---------------------------------------------------------------------------------------------
// Finality

Result<BlockID> Supervisor::TryFinalize(const ChainID& chain, const BlockID& finalized_l1) {
  Impl& s = *impl_;
  SS_RETURN_IF_ERROR(s.Alive());
  SS_ASSIGN_OR_RETURN(size_t c, s.Index(chain));
  SS_RETURN_IF_ERROR(s.EnsureL1Canonical());
  const db::Group& tip = s.Tip();
  if (finalized_l1.number > tip.l1_number)
    return Future("the group of L1 block #" + std::to_string(finalized_l1.number) + " is not written yet (tip #" +
                  std::to_string(tip.l1_number) + ")");
  std::optional<db::Group> g = s.safe->At(finalized_l1.number);
  if (!g || g->l1_hash != PrefixOf(finalized_l1.hash))
    return Conflicting("finalizedL1 " + finalized_l1.ToString() + " is not canonical");
  if (!s.finalized_l1 || s.finalized_l1->number < finalized_l1.number) {
    SS_ASSIGN_OR_RETURN(BlockRef ref, s.L1Of(finalized_l1.number, g->l1_hash));
    s.finalized_l1 = ref;
    s.Refresh();
  }
  return s.CrossSafeOf(c, g->entries[c]);
}

}  // namespace supersafe::supervisor
