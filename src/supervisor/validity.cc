#include "supervisor/validity.h"

namespace supersafe::supervisor {

uint64_t ActivationBlock(const ChainConfig& chain) {
  if (chain.interop_time <= chain.genesis.timestamp) return chain.genesis.number;
  uint64_t span = chain.interop_time - chain.genesis.timestamp;
  return chain.genesis.number + (span + chain.block_time - 1) / chain.block_time;
}

std::optional<size_t> ChainIndexOf(const DependencySet& deps, const ChainID& id) {
  for (size_t i = 0; i < deps.chains.size(); ++i)
    if (deps.chains[i].id == id) return i;
  return std::nullopt;
}

std::optional<std::string> StaticViolation(const DependencySet& deps, const ChainConfig& exec_chain,
                                           uint64_t exec_number, uint64_t exec_time, const db::ExecRef& ref) {
  auto src = ChainIndexOf(deps, ref.chain_id);
  if (!src) return "chain " + ref.chain_id.Decimal() + " is not in the dependency set";
  if (ref.timestamp > exec_time)
    return "message timestamp " + std::to_string(ref.timestamp) + " is after the executing block's " +
           std::to_string(exec_time);
  if (exec_time - ref.timestamp > deps.expiry_window)
    return "message expired: executed " + std::to_string(exec_time - ref.timestamp) + " s after it, window " +
           std::to_string(deps.expiry_window) + " s";
  if (exec_number <= ActivationBlock(exec_chain))
    return "executing block #" + std::to_string(exec_number) + " is not after its chain's activation block";
  const ChainConfig& source = deps.chains[*src];
  if (ref.block_number <= ActivationBlock(source))
    return "source block #" + std::to_string(ref.block_number) + " is not after its chain's activation block";
  if ((ref.block_number - source.genesis.number) > (UINT64_MAX - source.genesis.timestamp) / source.block_time)
    return "source block #" + std::to_string(ref.block_number) + " is beyond any representable timestamp";
  if (ref.timestamp != source.TimeOf(ref.block_number))
    return "timestamp " + std::to_string(ref.timestamp) + " is not chain " + source.id.Decimal() + "'s time of block #" +
           std::to_string(ref.block_number) + " (" + std::to_string(source.TimeOf(ref.block_number)) + ")";
  return std::nullopt;
}

const char* AccessSafetyName(AccessSafety level) {
  switch (level) {
    case AccessSafety::kUnsafe: return "unsafe";
    case AccessSafety::kLocalSafe: return "local-safe";
    case AccessSafety::kCrossUnsafe: return "cross-unsafe";
    case AccessSafety::kSafe: return "safe";
    case AccessSafety::kFinalized: return "finalized";
  }
  return "?";
}

Result<AccessSafety> ParseAccessSafety(std::string_view name) {
  for (auto l : {AccessSafety::kUnsafe, AccessSafety::kLocalSafe, AccessSafety::kCrossUnsafe, AccessSafety::kSafe,
                 AccessSafety::kFinalized})
    if (name == AccessSafetyName(l)) return l;
  return InvalidArgument("minSafety: want unsafe, local-safe, cross-unsafe, safe or finalized, got '" +
                         std::string(name) + "'");
}

}  // namespace supersafe::supervisor
