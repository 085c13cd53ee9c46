// The head reads' answers (supervisor_localUnsafe, localSafe, crossSafe, finalized, finalizedL1,
// syncStatus), all taken from one ReadSnapshot, and HeadAnswers: those answers encoded once per
// snapshot, so that a head read costs a lookup and a splice of its bytes into the envelope instead
// of building and dumping a Json.
//
// AnswerFrom is the definition of each answer; HeadAnswers holds, byte for byte, the dump of what
// AnswerFrom gives for every chain of the snapshot (the result, or the error object
// {"code":..,"message":..} the dispatcher writes for its Status), and for the two reads that name
// no chain. A chain outside the snapshot has no entry: its caller answers from AnswerFrom.
//
// Thread-safety: a HeadAnswers is immutable once constructed; share it as shared_ptr<const>.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/status.h"
#include "rpc/codec.h"
#include "supervisor/supervisor.h"

namespace supersafe::rpc {

enum class HeadRead : uint8_t { kNone, kLocalUnsafe, kLocalSafe, kCrossSafe, kFinalized, kFinalizedL1, kSyncStatus };

// Whether the read takes a chain ID (params [chainID]) or no params.
constexpr bool PerChain(HeadRead read) { return read != HeadRead::kFinalizedL1 && read != HeadRead::kSyncStatus; }

// The read's answer from `snap`; `chain` only for a PerChain read. Errors: the core's liveness
// error, kUnknownChain for a chain outside the snapshot, kFutureData ("...: not found") for a
// finalizedL1 not forwarded yet, the snapshot's sync error.
Result<Json> AnswerFrom(const supervisor::ReadSnapshot& snap, HeadRead read, const ChainID& chain);

// The JSON-RPC error code and message the dispatcher answers for a failed call: params errors
// (kInvalidArgument) are their message alone, domain errors lead with their code's name.
std::pair<int, std::string> RpcError(const Status& s);

class HeadAnswers {
 public:
  struct Answer {
    int code = 0;       // 0: `bytes` is the result; else the JSON-RPC error code
    std::string bytes;  // the result's JSON, or the error object's
  };
  // Encodes every answer of `snap` (not null).
  explicit HeadAnswers(std::shared_ptr<const supervisor::ReadSnapshot> snap);

  // The snapshot encoded: the caller compares it with the gate's latest.
  const supervisor::ReadSnapshot* source() const { return snap_.get(); }
  // The answer to `read` (not kNone) for `chain` (ignored when !PerChain(read)); nullptr for a
  // chain outside the snapshot.
  const Answer* Find(HeadRead read, const ChainID& chain) const;

 private:
  static constexpr size_t kPerChain = 4;  // kLocalUnsafe .. kFinalized
  std::shared_ptr<const supervisor::ReadSnapshot> snap_;  // held so that source() is never reused
  std::optional<Answer> dead_;                            // the core's liveness error answers every read
  std::map<ChainID, std::array<Answer, kPerChain>> per_chain_;
  Answer finalized_l1_;
  Answer sync_status_;
};

}  // namespace supersafe::rpc
