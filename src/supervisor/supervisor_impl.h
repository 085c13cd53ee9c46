// The supervisor's state shared by the files that implement Supervisor (supervisor.cc: opening,
// indexing, cross-safe and finality, the writes; supervisor_reads.cc: the message checks and the
// read surface). Internal to src/supervisor: nothing outside these files includes it.
//
// Impl owns the databases and the per-chain state; it is touched only through the Supervisor that
// owns it, under its owner's concurrency contract (supervisor.h).
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/event_db.h"
#include "db/replacement_log.h"
#include "db/super_safe_db.h"
#include "supervisor/cross_evaluator.h"
#include "supervisor/supervisor.h"
#include "supervisor/validity.h"

namespace supersafe::supervisor::internal {

inline Status Conflicting(std::string m) { return {Code::kConflictingData, std::move(m)}; }
inline Status Future(std::string m) { return {Code::kFutureData, std::move(m)}; }

}  // namespace supersafe::supervisor::internal

namespace supersafe::supervisor {

struct ChainState {
  ChainConfig config;
  ChainSource* source = nullptr;
  std::unique_ptr<db::EventDB> events;
  std::unique_ptr<db::ReplacementLog> replacements;
  uint64_t cross_unsafe = 0;
  std::optional<BlockID> reported;  // local-safe reported for the L1 block after the tip ...
  Hash reported_from;               // ... whose hash this was when the report came
  // Hashes of indexed blocks by number, as the event-log DB gave them while its latest block was
  // `memo_latest` (Impl::IndexedHash): the same latest block means the same blocks below it, as
  // every appended block links to its parent. Heads are resolved many times between writes.
  mutable std::optional<BlockID> memo_latest;
  mutable std::array<std::pair<uint64_t, Hash>, 8> memo{};  // (number + 1, hash); 0: empty slot
  mutable size_t memo_next = 0;
};

struct Supervisor::Impl {
  std::filesystem::path datadir;
  DependencySet deps;
  Sources sources;
  Options options;
  std::unique_ptr<db::SuperSafeDB> safe;
  std::vector<ChainState> chains;
  std::optional<BlockRef> finalized_l1;
  bool dead = false;
  // What cross-safe runs learned about the blocks above the heads (cross_evaluator.h): a group
  // judges again only what changed since, not every block its chains hold above their heads.
  CrossMemo cross_safe_memo;
  // Full L1 blocks of groups, as written or read: the groups keep a hash prefix, and a head read
  // must not ask L1 for the rest each time. Checked against the group's prefix on every use.
  std::map<uint64_t, BlockRef> l1_known;
  static constexpr size_t kL1Known = 1024;
  void RememberL1(const BlockRef& b) {
    l1_known[b.number] = b;
    if (l1_known.size() > kL1Known) l1_known.erase(l1_known.begin());
  }
  // The L1 block `number` of a group whose hash begins with `prefix`: remembered, or asked for
  // (and remembered when it matches). The source's answer as it is when it does not match.
  Result<BlockRef> L1Of(uint64_t number, const HashPrefix& prefix) {
    if (auto it = l1_known.find(number); it != l1_known.end() && PrefixOf(it->second.hash) == prefix) return it->second;
    auto l1 = sources.l1->BlockByNumber(number);
    if (l1.ok() && PrefixOf(l1->hash) == prefix) RememberL1(*l1);
    return l1;
  }
  // The same for the group at `number` (nullopt prefix when there is none).
  Result<BlockRef> GroupL1(uint64_t number) {
    auto g = safe->At(number);
    if (!g) return sources.l1->BlockByNumber(number);
    return L1Of(number, g->l1_hash);
  }

  // --- helpers ---
  Status Alive() const {
    if (dead) return IOError("a database write failed, so the supervisor's state can no longer be trusted; reopen the data directory");
    return Status::Ok();
  }
  // A failed database write or sync: the in-memory state can no longer be trusted.
  Status Written(Status s) {
    if (!s.ok() && s.code() == Code::kIOError) dead = true;
    return s;
  }
  Result<size_t> Index(const ChainID& id) const {
    auto i = ChainIndexOf(deps, id);
    if (!i) return Status(Code::kUnknownChain, "chain " + id.Decimal() + " is not in the dependency set");
    return *i;
  }
  // The newest group and the group of the finalized view, cached: every check reads them.
  db::Group tip;
  db::Group finalized;
  const db::Group& Tip() const { return tip; }
  const db::Group& FinalizedGroup() const { return finalized; }
  // Re-reads both after the super-safe-db or L1 finality changed.
  void Refresh() {
    auto last = safe->Last();
    SS_CHECK(last.has_value(), "super-safe-db has no genesis group");
    tip = *last;
    auto f = finalized_l1 ? safe->AtOrBefore(finalized_l1->number) : safe->At(deps.genesis_l1.number);
    SS_CHECK(f.has_value(), "super-safe-db has no group at or before the finalized L1 block");
    finalized = *f;
  }
  std::vector<const db::EventDB*> EventDBs() const {
    std::vector<const db::EventDB*> out;
    for (const auto& c : chains) out.push_back(c.events.get());
    return out;
  }
  // The full block ID of chain c's block `number` whose hash starts with `prefix`. The
  // super-safe-db keeps 20-byte prefixes; the event-log DB or the replacement log has the rest.
  BlockID Resolve(size_t c, uint64_t number, const HashPrefix& prefix) const {
    auto b = IndexedHash(c, number);
    if (b && PrefixOf(*b) == prefix) return {*b, number};
    if (auto h = chains[c].replacements->InvalidatedHash(number, prefix)) return {*h, number};
    Hash padded;
    std::copy(prefix.bytes.begin(), prefix.bytes.end(), padded.bytes.begin());
    return {padded, number};
  }
  BlockID Resolve(size_t c, uint64_t number) const {
    auto b = IndexedHash(c, number);
    SS_CHECK(b.has_value(), "block #" + std::to_string(number) + " of chain " + chains[c].config.id.Decimal() +
                                " below the indexed tip is missing from its event-log DB");
    return {*b, number};
  }
  // The hash of chain c's indexed block `number` (events->Block(number)), nullopt if not indexed.
  std::optional<Hash> IndexedHash(size_t c, uint64_t number) const {
    const ChainState& st = chains[c];
    const std::optional<BlockRef> latest = st.events->Latest();
    if (latest && number <= latest->number) {
      if (st.memo_latest != latest->ID()) {
        st.memo_latest = latest->ID();
        st.memo.fill({});
      }
      for (const auto& [key, hash] : st.memo)
        if (key == number + 1) return hash;
    }
    auto b = st.events->Block(number);
    if (!b.ok()) return std::nullopt;
    if (latest && number <= latest->number) st.memo[st.memo_next++ % st.memo.size()] = {number + 1, b->hash};
    return b->hash;
  }
  BlockID LocalSafeOf(size_t c, const db::ChainEntry& e) const {
    return Resolve(c, e.local_safe_number, e.local_safe_hash);
  }
  BlockID CrossSafeOf(size_t c, const db::ChainEntry& e) const {
    return Resolve(c, e.cross_safe_number, e.cross_safe_hash);
  }

  Status Initialize();
  Status EnsureL1Canonical();
  Status IndexThrough(size_t c, const BlockRef& head);
  Result<db::Presence> EnsureIndexed(size_t c, const BlockID& block);
  void RecomputeCrossUnsafe(bool from_cross_safe);
  Result<db::Group> BuildGroup(const BlockRef& l1, const std::vector<uint64_t>& base_heads,
                               const std::vector<BlockID>& local_safe, const std::vector<uint64_t>& invalid_from);
  Result<CrossSafeAnswer> AnswerFromGroup(size_t c, const db::Group& g, const BlockID& local_safe);
  // A report `reported` at the tip view of chain c, whose block there is invalid, that is on a chain
  // holding another block at the invalid height: the replacement (revises the tip group), or an
  // answer from the group if the node still holds the invalid block.
  Result<CrossSafeAnswer> AcceptReplacement(size_t c, const db::Group& g, const BlockID& reported);
  Result<SafetyLevel> LevelOf(size_t c, uint64_t number);
  // Chain c's heads, given the L1 number of the view in which its cross-safe head became
  // cross-safe (FirstCrossSafeAtLeast: one key, or every chain's in one batch by AllHeads).
  Heads HeadsAt(size_t c, const std::optional<uint64_t>& cross_safe_since);
  // Every chain's heads, by chain index.
  std::vector<Heads> AllHeads();
  Result<SyncStatus> SyncStatusOf(const std::vector<Heads>& heads);
};

}  // namespace supersafe::supervisor
