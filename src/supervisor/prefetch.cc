#include "supervisor/prefetch.h"

#include <algorithm>

namespace supersafe::supervisor {

namespace {

Status NotFetched(const std::string& what) { return {Code::kNotFetched, what + " was not fetched for this call"}; }

// Blocks fetched ahead of a chain's first missing block while it is indexed forward, and below a
// missing block while the core walks back to a common ancestor.
constexpr uint64_t kAhead = 256;
constexpr uint64_t kBehind = 16;
// Logs fetched at once for the blocks of a chain fetched after a missing one.
constexpr size_t kLogsAhead = 1024;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Plans

// What indexing `chain` up to block `target` reads from its node, as the latest snapshot knows
// the indexed tip: the block at the tip (the common-ancestor check) and the blocks and logs after
// it, at most Supervisor::kMaxBlocksIndexedPerCall.
FetchPlan PlanIndex(const ReadSnapshot& snap, const ChainID& chain, uint64_t target) {
  FetchPlan plan;
  auto it = snap.local_unsafe.find(chain);
  if (it == snap.local_unsafe.end()) return plan;
  const uint64_t latest = it->second.number;
  if (target <= latest) {
    plan.blocks.push_back({chain, target, target, UINT64_MAX});
    return plan;
  }
  const uint64_t to = target - latest > Supervisor::kMaxBlocksIndexedPerCall ? latest + Supervisor::kMaxBlocksIndexedPerCall : target;
  plan.blocks.push_back({chain, latest, to, latest});
  return plan;
}

// The L1 block of the newest group (every write checks it is still canonical) and `also`.
FetchPlan PlanL1(const ReadSnapshot& snap, std::optional<uint64_t> also) {
  FetchPlan plan;
  if (snap.sync_error.ok()) plan.l1.push_back(snap.sync.min_synced_l1.number);
  if (also && (plan.l1.empty() || *also != plan.l1[0])) plan.l1.push_back(*also);
  return plan;
}

// ---------------------------------------------------------------------------------------------
// FetchSet

void FetchSet::FetchL1(L1Source& src, uint64_t n) {
  if (!l1_.count(n)) l1_.emplace(n, src.BlockByNumber(n));
}

bool FetchSet::FetchBlock(ChainSource& src, const ChainID& chain, uint64_t n) {
  auto& blocks = chains_[chain].blocks;
  auto it = blocks.find(n);
  if (it == blocks.end()) it = blocks.emplace(n, src.BlockByNumber(n)).first;
  return it->second.ok();
}

void FetchSet::FetchLogs(ChainSource& src, const ChainID& chain, const BlockID& block) {
  auto& logs = chains_[chain].logs;
  const std::pair<uint64_t, Hash> key{block.number, block.hash};
  if (!logs.count(key)) logs.emplace(key, src.Logs(block));
}

void FetchSet::Fetch(const FetchPlan& plan, const Sources& upstream) {
  for (uint64_t n : plan.l1) FetchL1(*upstream.l1, n);
  for (const FetchPlan::Blocks& b : plan.blocks) {
    auto src = upstream.chains.find(b.chain);
    if (src == upstream.chains.end()) continue;  // an unknown chain: the core answers it
    for (uint64_t n = b.from; n <= b.to; ++n) {
      if (!FetchBlock(*src->second, b.chain, n)) break;
      if (n > b.logs_above) FetchLogs(*src->second, b.chain, chains_[b.chain].blocks.at(n)->ID());
      if (n == UINT64_MAX) break;
    }
  }
}

size_t FetchSet::FetchMisses(const Sources& upstream) {
  std::vector<Miss> misses;
  misses.swap(misses_);
  for (const Miss& m : misses) {
    if (m.kind == Kind::kL1) {
      // EnsureL1Canonical walks back group by group.
      const uint64_t n = m.block.number;
      for (uint64_t k = n; k + kBehind > n; --k) {
        FetchL1(*upstream.l1, k);
        if (k == 0) break;
      }
      continue;
    }
    auto it = upstream.chains.find(m.chain);
    if (it == upstream.chains.end()) continue;
    ChainSource& src = *it->second;
    ChainData& data = chains_[m.chain];
    const uint64_t n = m.block.number;
    switch (m.kind) {
      case Kind::kBlock: {
        const bool forward = n > 0 && data.blocks.count(n - 1);
        const bool backward = data.blocks.count(n + 1) > 0;
        if (forward) {
          for (uint64_t k = n; k < n + kAhead && FetchBlock(src, m.chain, k); ++k) FetchLogs(src, m.chain, data.blocks.at(k)->ID());
        } else if (backward) {
          for (uint64_t k = n; k + kBehind > n; --k) {
            FetchBlock(src, m.chain, k);
            if (k == 0) break;
          }
        } else {
          FetchBlock(src, m.chain, n);
        }
        break;
      }
      case Kind::kLogs: {
        FetchLogs(src, m.chain, m.block);
        // The core indexes forward: the logs of the blocks after this one come next.
        size_t more = 0;
        for (auto b = data.blocks.upper_bound(n); b != data.blocks.end() && more < kLogsAhead; ++b, ++more)
          if (b->second.ok()) FetchLogs(src, m.chain, b->second->ID());
        break;
      }
      case Kind::kPreimage: {
        const std::pair<uint64_t, Hash> key{n, m.block.hash};
        if (!data.preimages.count(key)) data.preimages.emplace(key, src.OutputPreimage(m.block));
        break;
      }
      case Kind::kL1: break;
    }
  }
  return misses.size();
}

Result<BlockRef> FetchSet::L1(uint64_t number) {
  if (auto it = l1_.find(number); it != l1_.end()) return it->second;
  misses_.push_back({Kind::kL1, ChainID(), BlockID{Hash(), number}});
  return NotFetched("L1 block #" + std::to_string(number));
}

Result<BlockRef> FetchSet::Block(const ChainID& chain, uint64_t number) {
  auto& blocks = chains_[chain].blocks;
  if (auto it = blocks.find(number); it != blocks.end()) return it->second;
  misses_.push_back({Kind::kBlock, chain, BlockID{Hash(), number}});
  return NotFetched("block #" + std::to_string(number) + " of chain " + chain.Decimal());
}

Result<std::vector<Log>> FetchSet::Logs(const ChainID& chain, const BlockID& block) {
  auto& logs = chains_[chain].logs;
  if (auto it = logs.find({block.number, block.hash}); it != logs.end()) return it->second;
  misses_.push_back({Kind::kLogs, chain, block});
  return NotFetched("the logs of block " + block.ToString() + " of chain " + chain.Decimal());
}

Result<Bytes> FetchSet::Preimage(const ChainID& chain, const BlockID& block) {
  auto& preimages = chains_[chain].preimages;
  if (auto it = preimages.find({block.number, block.hash}); it != preimages.end()) return it->second;
  misses_.push_back({Kind::kPreimage, chain, block});
  return NotFetched("the output of block " + block.ToString() + " of chain " + chain.Decimal());
}

// ---------------------------------------------------------------------------------------------
// PrefetchedSources

struct PrefetchedSources::L1 : L1Source {
  FetchSet** set;
  explicit L1(FetchSet** s) : set(s) {}
  Result<BlockRef> BlockByNumber(uint64_t number) override {
    if (!*set) return NotFetched("L1 block #" + std::to_string(number));
    return (*set)->L1(number);
  }
};

struct PrefetchedSources::Chain : ChainSource {
  FetchSet** set;
  ChainID id;
  Chain(FetchSet** s, ChainID c) : set(s), id(c) {}
  Result<BlockRef> BlockByNumber(uint64_t number) override {
    if (!*set) return NotFetched("block #" + std::to_string(number));
    return (*set)->Block(id, number);
  }
  Result<std::vector<Log>> Logs(const BlockID& block) override {
    if (!*set) return NotFetched("the logs of block " + block.ToString());
    return (*set)->Logs(id, block);
  }
  Result<Bytes> OutputPreimage(const BlockID& block) override {
    if (!*set) return NotFetched("the output of block " + block.ToString());
    return (*set)->Preimage(id, block);
  }
};

PrefetchedSources::PrefetchedSources(const std::vector<ChainID>& chains) : l1_(std::make_unique<L1>(&set_)) {
  for (const ChainID& c : chains) chains_[c] = std::make_unique<Chain>(&set_, c);
}

PrefetchedSources::~PrefetchedSources() = default;

Sources PrefetchedSources::sources() {
  Sources s;
  s.l1 = l1_.get();
  for (auto& [id, c] : chains_) s.chains[id] = c.get();
  return s;
}

void PrefetchedSources::Install(FetchSet* set) { set_ = set; }

// ---------------------------------------------------------------------------------------------
// CoreGate

CoreGate::CoreGate(Supervisor& core) : core_(core) { Publish(); }

CoreGate::CoreGate(Supervisor& core, PrefetchedSources& prefetched, Sources upstream)
    : core_(core), prefetched_(&prefetched), upstream_(std::move(upstream)) {
  Publish();
}

void CoreGate::Install(FetchSet* set) {
  if (prefetched_) prefetched_->Install(set);
}

void CoreGate::Run(const FetchPlan& plan, const std::function<void(Supervisor&)>& call, bool write) {
  FetchSet set;
  if (prefetched_) set.Fetch(plan, upstream_);
  for (int round = 1;; ++round) {
    {
      std::unique_lock<std::shared_mutex> lock(mu_);
      Install(&set);
      call(core_);
      Install(nullptr);
      exclusive_runs_.fetch_add(1, std::memory_order_relaxed);
      if (!set.missed() || round >= kMaxRounds) {
        // The snapshot's L1 blocks come from the core's memory in the usual case; when one is
        // missing, this write's snapshot is published once it is fetched (below).
        if (!write || PublishLocked(&set, false)) return;
        break;
      }
    }
    set.FetchMisses(upstream_);
  }
  Publish();
}

std::shared_ptr<const ReadSnapshot> CoreGate::snapshot() {
  if (!prefetched_) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto snap = std::make_shared<ReadSnapshot>(core_.Snapshot());
    snap->version = ++version_;
    return snap;
  }
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

void CoreGate::Check(const std::function<void(Supervisor&)>& call) {
  std::shared_lock<std::shared_mutex> lock(mu_);
  call(core_);
}

void CoreGate::Publish() {
  FetchSet set;
  for (int round = 1;; ++round) {
    {
      std::unique_lock<std::shared_mutex> lock(mu_);
      if (PublishLocked(&set, round >= kMaxRounds)) return;
    }
    set.FetchMisses(upstream_);
  }
}

bool CoreGate::PublishLocked(FetchSet* set, bool anyway) {
  Install(set);
  auto snap = std::make_shared<ReadSnapshot>(core_.Snapshot());
  Install(nullptr);
  if (set->missed() && !anyway) return false;
  snap->version = ++version_;
  std::shared_ptr<const ReadSnapshot> old = std::move(snap);
  {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    snapshot_.swap(old);
  }
  return true;
}

}  // namespace supersafe::supervisor
