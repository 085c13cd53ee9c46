// Status and Result: errors as values across module boundaries (after Abseil's Status/StatusOr).
//
// A Status is either OK or a Code with a human-readable message that names what was wrong.
// Domain codes carry the OP Stack JSON-RPC error numbers (see RpcErrorCode); the generic codes
// map onto standard JSON-RPC codes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/check.h"

namespace supersafe {

enum class Code : uint8_t {
  kOk = 0,
  // Generic.
  kInvalidArgument,  // bad input: -32602
  kNotFound,         // a lookup found nothing
  kIOError,          // the file system said no
  kCorruption,       // stored data is damaged
  kInternal,         // a broken invariant that was caught without aborting
  // OP Stack supervisor domain errors (docs/protocol-rules.md, "Error names"; docs/rpc.md).
  kUninitializedChainDatabase,  // -320400
  kSkippedData,                 // -320500
  kUnknownChain,                // -320501
  kConflictingData,             // -320600
  kIneffectiveData,             // -320601
  kOutOfOrder,                  // -320900
  kAwaitingReplacementBlock,    // -320901
  kOutOfScope,                  // -321100
  kFutureData,                  // -321401
  kMissedData,                  // -321500
  kDataCorruption,              // -321501
  // Generic, after the domain codes: a prefetched source has no answer fetched for what the core
  // asked (supervisor/prefetch.h); its caller fetches it and runs the call again. -32000.
  kNotFetched,
};

// Canonical upper-case name ("FUTURE_DATA", "INVALID_ARGUMENT", ...).
const char* CodeName(Code code);
// Parses a CodeName back; nullopt if unknown.
std::optional<Code> CodeFromName(const std::string& name);
// The JSON-RPC error number for a code (OP Stack numbers for domain codes).
int RpcErrorCode(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "FUTURE_DATA: group for L1 block 7 is not written yet"
  std::string ToString() const;

  // Returns a copy with `context + ": "` prefixed to the message.
  Status WithContext(const std::string& context) const;

  bool operator==(const Status& o) const = default;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
inline Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    SS_CHECK(!std::get<Status>(v_).ok(), "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  const T& value() const& {
    SS_CHECK(ok(), "Result::value() on error: " + std::get<Status>(v_).ToString());
    return std::get<T>(v_);
  }
  T& value() & {
    SS_CHECK(ok(), "Result::value() on error: " + std::get<Status>(v_).ToString());
    return std::get<T>(v_);
  }
  T&& value() && {
    SS_CHECK(ok(), "Result::value() on error: " + std::get<Status>(v_).ToString());
    return std::get<T>(std::move(v_));
  }
  // The value, or `fallback` on error.
  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace supersafe

// Propagates a non-OK Status from an expression returning Status.
#define SS_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::supersafe::Status ss_status_ = (expr);     \
    if (!ss_status_.ok()) return ss_status_;     \
  } while (0)

#define SS_CONCAT_INNER(a, b) a##b
#define SS_CONCAT(a, b) SS_CONCAT_INNER(a, b)
// `SS_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the error.
#define SS_ASSIGN_OR_RETURN(lhs, expr) SS_ASSIGN_OR_RETURN_IMPL(SS_CONCAT(ss_result_, __LINE__), lhs, expr)
#define SS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
