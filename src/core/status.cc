#include "core/status.h"

#include <utility>

#include <cstdio>
#include <cstdlib>

namespace supersafe {

namespace {
struct CodeInfo {
  Code code;
  const char* name;
  int rpc;
};
constexpr CodeInfo kCodes[] = {
    {Code::kOk, "OK", 0},
    {Code::kInvalidArgument, "INVALID_ARGUMENT", -32602},
    {Code::kNotFound, "NOT_FOUND", -32000},
    {Code::kIOError, "IO_ERROR", -32000},
    {Code::kCorruption, "CORRUPTION", -321501},
    {Code::kInternal, "INTERNAL", -32603},
    {Code::kUninitializedChainDatabase, "UNINITIALIZED_CHAIN_DATABASE", -320400},
    {Code::kSkippedData, "SKIPPED_DATA", -320500},
    {Code::kUnknownChain, "UNKNOWN_CHAIN", -320501},
    {Code::kConflictingData, "CONFLICTING_DATA", -320600},
    {Code::kIneffectiveData, "INEFFECTIVE_DATA", -320601},
    {Code::kOutOfOrder, "OUT_OF_ORDER", -320900},
    {Code::kAwaitingReplacementBlock, "AWAITING_REPLACEMENT_BLOCK", -320901},
    {Code::kOutOfScope, "OUT_OF_SCOPE", -321100},
    {Code::kFutureData, "FUTURE_DATA", -321401},
    {Code::kMissedData, "MISSED_DATA", -321500},
    {Code::kDataCorruption, "DATA_CORRUPTION", -321501},
    {Code::kNotFetched, "NOT_FETCHED", -32000},
};
}  // namespace

const char* CodeName(Code code) {
  for (const auto& c : kCodes)
    if (c.code == code) return c.name;
  return "UNKNOWN_CODE";
}

std::optional<Code> CodeFromName(const std::string& name) {
  for (const auto& c : kCodes)
    if (name == c.name) return c.code;
  return std::nullopt;
}

int RpcErrorCode(Code code) {
  for (const auto& c : kCodes)
    if (c.code == code) return c.rpc;
  return -32603;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

namespace {
thread_local CheckFailureHandler check_failure_handler = nullptr;
}  // namespace

CheckFailureHandler SetCheckFailureHandler(CheckFailureHandler handler) {
  return std::exchange(check_failure_handler, handler);
}

void CheckFailed(const char* condition, const std::string& message, const char* file, int line) {
  const std::string report =
      "invariant violated at " + std::string(file) + ":" + std::to_string(line) + ": " + condition + ": " + message;
  if (check_failure_handler != nullptr) check_failure_handler(report);
  std::fprintf(stderr, "supersafe: %s\n", report.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace supersafe
