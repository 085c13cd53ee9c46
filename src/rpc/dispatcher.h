// JSON-RPC 2.0 over the supervisor core, independent of any transport: a request body in, a
// response body out (docs/rpc.md lists the methods and the decisions where the spec is silent).
// Every method is one entry of the table in dispatcher.cc: its name, its params' decoders, whether
// it needs the admin token, and its handler.
//
// Handles single requests, batches (at most `max_batch` calls, else one -32600 error) and
// notifications (no `id`: executed, never answered). Errors: -32700 for a body that is not JSON,
// -32600 for a request that is not a JSON-RPC 2.0 call, -32601 for an unknown method, -32602 for
// params that do not decode (the message names the field), the OP Stack codes for domain errors
// (core/status.h), kUnauthorized for an admin method without a valid token (every admin_* method
// but admin_getFailsafeEnabled, which anyone may read), and op-supervisor's -32602 with
// kFailsafeMessage for checkAccessList in failsafe mode. A superRootAtTimestamp or finalizedL1
// that is not available yet (FUTURE_DATA) says "not found" in its message, which op-service's
// supervisor client maps to ethereum.NotFound. Bad input is rejected before the core is called,
// so it never changes stored data.
//
// Concurrency: every call reaches the core through the owner's CoreGate (supervisor/prefetch.h),
// shared with anything else that drives the core, such as the daemon's poll loop: the head reads
// (localUnsafe, localSafe, crossSafe, finalized, finalizedL1, syncStatus) answer from the gate's
// latest snapshot without a lock; checkAccessList and checkMessage run under its shared lock; every
// other method fetches what it needs from upstream first and runs under the exclusive lock (a
// write then publishes a snapshot). Calls of a batch go one at a time. Handle() itself may be
// called from many threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rpc/codec.h"
#include "rpc/head_answers.h"
#include "supervisor/prefetch.h"
#include "supervisor/supervisor.h"

namespace supersafe::rpc {

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kUnauthorized = -32001;  // admin method without a valid JWT
// checkAccessList while failsafe mode is on: code kInvalidParams with this message, byte for byte
// op-supervisor's ErrFailsafeEnabled.
constexpr const char* kFailsafeMessage = "failsafe is enabled, rejecting all CheckAccessList requests";

// What the transport established about the caller.
struct CallContext {
  bool admin = false;            // a valid admin token came with the request
  std::string admin_denied_why;  // why not, for the error message ("no Authorization header", ...)
};

// One finished call, for metrics: the method name ("unknown" for names outside the surface,
// "invalid" for a call that names none) and 0 or the JSON-RPC error code. `label` is the name's
// index in Dispatcher::Labels() (the dispatcher sets it), kNoLabel for a name found there by name.
struct CallRecord {
  static constexpr size_t kNoLabel = SIZE_MAX;
  std::string_view method;
  int code = 0;
  std::chrono::nanoseconds elapsed{0};
  size_t label = kNoLabel;
};

class Dispatcher {
 public:
  struct Options {
    size_t max_batch = 100;
    std::string version;  // health_status answers it (op-service's health API)
    // Head reads answer from HeadAnswers, encoded once per snapshot, and a body that is one plain
    // head-read call (TryHeadRead) is answered without building a Json of it; false: every call is
    // parsed and encodes its answer (the reference the fast answers are tested against).
    bool fast_head_reads = true;
  };
  // `gate` must outlive the dispatcher.
  Dispatcher(supervisor::CoreGate& gate, Options options);
  explicit Dispatcher(supervisor::CoreGate& gate) : Dispatcher(gate, Options{}) {}

  // The response body for one request body; nullopt when every call was a notification.
  // Handle(body) is TryHeadRead(body), else Run(Parse(body)); a transport that wants NeverWaits
  // tries TryHeadRead, then parses once and runs that.
  std::optional<std::string> Handle(std::string_view body, const CallContext& ctx);
  // The answer when `body` is one head-read call in the plain shape the fast path reads (below);
  // nullopt for any other body, which Handle, or Run(Parse(body)), answers. The plain shape: one
  // object whose members are "jsonrpc":"2.0", "id" (null, an integer of at most 18 digits or a
  // string of printable ASCII without escapes), "method" (a head read) and "params" ([] or one
  // such string), each once, in any order, with JSON whitespace between tokens. For such a body
  // the answer is the bytes Run(Parse(body)) gives, and the call is observed the same way.
  std::optional<std::string> TryHeadRead(std::string_view body);
  // The body as JSON; a discarded value (is_discarded()) when it is not JSON, which Run answers -32700.
  static Json Parse(std::string_view body);
  std::optional<std::string> Run(const Json& request, const CallContext& ctx);
  // Whether running `request` (as Parse returned it) can never wait on an upstream node or on the
  // gate's exclusive lock: every call in it is a head read (snapshot), checkAccessList or
  // checkMessage (shared lock), or needs no core (health_status, dependencySetV1, the failsafe
  // switch), or is refused before any method runs (not JSON, not a call, unknown method, a batch
  // over max_batch). A transport may run such a request on its I/O thread; anything else belongs on
  // threads that may block for as long as upstream fetches take.
  bool NeverWaits(const Json& request) const;

  // Called after every call (under no lock); set before serving.
  void set_observer(std::function<void(const CallRecord&)> observer) { observer_ = std::move(observer); }

  bool failsafe() const { return failsafe_.load(); }
  void set_failsafe(bool on) { failsafe_.store(on); }
  const std::string& version() const { return options_.version; }

  // How many times the head reads' answers were encoded (once per snapshot they are read from,
  // when options.fast_head_reads).
  uint64_t head_encodings() const { return head_encodings_.load(std::memory_order_relaxed); }

  // Every method name of the surface, in table order, for metrics labels.
  static const std::vector<std::string>& Methods();
  // The names a CallRecord carries: Methods(), then "unknown" and "invalid".
  static const std::vector<std::string>& Labels();

  // The method table's types (dispatcher.cc).
  struct Env;
  struct Method;
  struct BatchAnswers;

 private:
  // A batch's consecutive calls of superRootAtTimestamp (resp. allSafeDerivedAt) are answered by
  // one core call, SuperRootsAtTimestamps (resp. AllSafeDerivedAtMany), with the same answers the
  // calls would get one by one; the calls around such a run keep their order with it.
  static size_t RunOfBatchable(const Json& batch, size_t from);  // 0: batch[from] is no such call
  std::optional<BatchAnswers> AnswerRun(const Json& batch, size_t from, size_t count);
  // The serialized answer of one call (empty when *notification).
  std::string Call(const Json& request, const CallContext& ctx, bool* notification,
                   const BatchAnswers* batch = nullptr);
  Result<Json> Invoke(const Method& method, const Json& request, const BatchAnswers* batch);
  // A head read's response from the latest snapshot's HeadAnswers; nullopt when the call is for
  // the general path (params that do not decode, a chain outside the snapshot).
  struct Answered {
    int code = 0;
    std::string body;
  };
  std::optional<Answered> AnswerHead(const Method& method, const Json& request, const Json& id);
  // The same from what the fast path read: the id's JSON text and the params' chain, if any.
  std::optional<Answered> AnswerHeadRead(const Method& method, std::string_view id_bytes, const ChainID& chain);
  // The HeadAnswers of `snap`: the cached one when it encodes `snap`, else built and cached.
  std::shared_ptr<const HeadAnswers> HeadAnswersOf(std::shared_ptr<const supervisor::ReadSnapshot> snap);

  supervisor::CoreGate& gate_;
  Options options_;
  std::atomic<bool> failsafe_{false};
  std::function<void(const CallRecord&)> observer_;
  std::mutex heads_mu_;
  std::shared_ptr<const HeadAnswers> heads_;  // under heads_mu_; immutable itself
  std::atomic<uint64_t> head_encodings_{0};
};

// A JSON-RPC error object; `id` null when the request had none that could be read.
Json ErrorResponse(const Json& id, int code, const std::string& message);

}  // namespace supersafe::rpc
