#include "rpc/head_answers.h"

namespace supersafe::rpc {

namespace {

using supervisor::ReadSnapshot;

HeadAnswers::Answer Encoded(const Result<Json>& r) {
  if (r.ok()) return {0, Dump(*r)};
  auto [code, message] = RpcError(r.status());
  return {code, Dump(Json{{"code", code}, {"message", message}})};
}

}  // namespace

std::pair<int, std::string> RpcError(const Status& s) {
  return {RpcErrorCode(s.code()), s.code() == Code::kInvalidArgument ? s.message() : s.ToString()};
}

Result<Json> AnswerFrom(const ReadSnapshot& snap, HeadRead read, const ChainID& chain) {
  if (!snap.alive.ok()) return snap.alive;
  if (read == HeadRead::kFinalizedL1) {
    // op-service's supervisor client maps "not found" in a message to ethereum.NotFound.
    if (!snap.finalized_l1) return Status(Code::kFutureData, "no finalized L1 block forwarded yet: not found");
    return Encode(*snap.finalized_l1);
  }
  if (read == HeadRead::kSyncStatus) {
    if (!snap.sync_error.ok()) return snap.sync_error;
    return Encode(snap.sync);
  }
  auto it = snap.heads.find(chain);
  if (it == snap.heads.end()) return Status(Code::kUnknownChain, "chain " + chain.Decimal() + " is not in the dependency set");
  const supervisor::Heads& h = it->second;
  switch (read) {
    case HeadRead::kLocalUnsafe: return Encode(h.unsafe);
    case HeadRead::kLocalSafe: return Encode(supervisor::DerivedPair{h.local_safe_source, h.local_safe});
    case HeadRead::kCrossSafe: return Encode(supervisor::DerivedPair{h.cross_safe_source, h.cross_safe});
    case HeadRead::kFinalized: return Encode(h.finalized);
    default: return InvalidArgument("not a head read");
  }
}

HeadAnswers::HeadAnswers(std::shared_ptr<const ReadSnapshot> snap) : snap_(std::move(snap)) {
  const ReadSnapshot& s = *snap_;
  if (!s.alive.ok()) {
    dead_ = Encoded(s.alive);
    return;
  }
  for (const auto& [chain, heads] : s.heads) {
    auto& answers = per_chain_[chain];
    for (size_t i = 0; i < kPerChain; ++i)
      answers[i] = Encoded(AnswerFrom(s, static_cast<HeadRead>(static_cast<size_t>(HeadRead::kLocalUnsafe) + i), chain));
  }
  finalized_l1_ = Encoded(AnswerFrom(s, HeadRead::kFinalizedL1, ChainID()));
  sync_status_ = Encoded(AnswerFrom(s, HeadRead::kSyncStatus, ChainID()));
}

const HeadAnswers::Answer* HeadAnswers::Find(HeadRead read, const ChainID& chain) const {
  if (dead_) return &*dead_;
  if (read == HeadRead::kFinalizedL1) return &finalized_l1_;
  if (read == HeadRead::kSyncStatus) return &sync_status_;
  auto it = per_chain_.find(chain);
  if (it == per_chain_.end()) return nullptr;
  return &it->second[static_cast<size_t>(read) - static_cast<size_t>(HeadRead::kLocalUnsafe)];
}

}  // namespace supersafe::rpc
