#include "rpc/dispatcher.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace supersafe::rpc {

namespace {

using supervisor::Supervisor;

Status ParamsError(const std::string& m) { return InvalidArgument(m); }

std::string P(size_t i) { return "params[" + std::to_string(i) + "]"; }

// Positional params: absent or null reads as none; by-name params are not supported.
Result<const Json*> ParamsOf(const Json& request, size_t arity) {
  static const Json kEmpty = Json::array();
  auto it = request.find("params");
  const Json* params = (it == request.end() || it->is_null()) ? &kEmpty : &*it;
  if (params->is_object()) return ParamsError("params: by-name params are not supported; pass an array");
  if (!params->is_array()) return ParamsError(std::string("params: want an array, got ") + params->type_name());
  if (params->size() != arity)
    return ParamsError("params: want " + std::to_string(arity) + (arity == 1 ? " param" : " params") + ", got " +
                       std::to_string(params->size()));
  return params;
}

// op-service's supervisor client turns an error whose message contains "not found" into
// ethereum.NotFound, which op-challenger takes as "no super root at this timestamp yet".
template <typename T>
Result<T> NotFoundIfFuture(Result<T> r) {
  if (r.ok() || r.status().code() != Code::kFutureData) return r;
  return Status(Code::kFutureData, r.status().message() + ": not found");
}

}  // namespace

Json ErrorResponse(const Json& id, int code, const std::string& message) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

// ---------------------------------------------------------------------------------------------
// The method table: one entry per method, holding everything the dispatcher needs to know about
// it. An entry is made by Def(name, flags, handler, decoders...): the call must carry exactly one
// positional param per decoder; each is decoded in order (the first failure is the -32602 answer,
// naming params[i]) and the handler gets the decoded values; it reaches the core through the gate
// (Locked, Checked, or the snapshot). Adding a method is adding one entry.

namespace {

enum Flags : unsigned {
  kOpen = 0,
  kAdmin = 1,     // needs a valid admin token (CallContext::admin)
  kFailsafe = 4,  // refused with kFailsafeMessage while failsafe is on, before params are read
  kNoWait = 8,    // never waits on upstream I/O or the exclusive lock (snapshot, shared lock, no core)
  kBatched = 16,  // a batch answers a run of these calls with one core call (Dispatcher::AnswerRun)
};

template <typename T>
using Decoder = Result<T> (*)(const Json&, const std::string&);

}  // namespace

// Answers computed at once for a run of calls of one method in a batch (Dispatcher::Run): a
// call's handler takes its answer from here, else asks the core alone. Linear lookups: a run is at
// most max_batch calls.
struct Dispatcher::BatchAnswers {
  std::vector<std::pair<uint64_t, Result<supervisor::SuperRootResponse>>> super_roots;
  std::vector<std::pair<BlockID, Result<std::map<ChainID, BlockID>>>> safe_derived_at;

  template <typename K, typename V>
  static const V* Find(const std::vector<std::pair<K, V>>& answers, const K& key) {
    for (const auto& [k, v] : answers)
      if (k == key) return &v;
    return nullptr;
  }
};

// What a handler may use.
struct Dispatcher::Env {
  supervisor::CoreGate& gate;
  Dispatcher& dispatcher;
  const BatchAnswers* batch = nullptr;  // answers of the run this call belongs to, if any
};

struct Dispatcher::Method {
  std::string name;
  unsigned flags = 0;
  size_t arity = 0;
  std::function<Result<Json>(Env&, const Json& params)> invoke;
  HeadRead head = HeadRead::kNone;  // a head read: Dispatcher::AnswerHead answers it from HeadAnswers
};

namespace {

using Env = Dispatcher::Env;
using Method = Dispatcher::Method;
using BatchAnswers = Dispatcher::BatchAnswers;

template <typename... T, typename F, size_t... I>
Result<Json> DecodeAndCall(Env& env, const Json& params, const F& handler, const std::tuple<Decoder<T>...>& decoders,
                           std::index_sequence<I...>) {
  [[maybe_unused]] std::tuple<std::optional<T>...> values;
  Status failed;
  [[maybe_unused]] auto decode_one = [&](auto index) {
    constexpr size_t i = decltype(index)::value;
    if (!failed.ok()) return;
    auto r = std::get<i>(decoders)(params[i], P(i));
    if (!r.ok()) failed = r.status();
    else std::get<i>(values).emplace(std::move(r).value());
  };
  (decode_one(std::integral_constant<size_t, I>{}), ...);
  if (!failed.ok()) return failed;
  return handler(env, std::move(*std::get<I>(values))...);
}

template <typename... T, typename F>
Method Def(std::string name, unsigned flags, F handler, Decoder<T>... decoders) {
  Method m;
  m.name = std::move(name);
  m.flags = flags;
  m.arity = sizeof...(T);
  m.invoke = [handler, decoders = std::make_tuple(decoders...)](Env& env, const Json& params) -> Result<Json> {
    return DecodeAndCall<T...>(env, params, handler, decoders, std::index_sequence_for<T...>{});
  };
  return m;
}

Result<Json> Null(const Status& s) {
  if (!s.ok()) return s;
  return Json(nullptr);
}

template <typename T>
Result<Json> Encoded(const Result<T>& r) {
  if (!r.ok()) return r.status();
  return Encode(*r);
}

using supervisor::FetchPlan;
using supervisor::PlanIndex;
using supervisor::PlanL1;
using supervisor::ReadSnapshot;

// f(core) under the gate's exclusive lock, with what `plan` names fetched first (and whatever else
// the call turns out to need); `write` publishes a snapshot after it.
template <typename F>
auto Locked(Env& e, const FetchPlan& plan, bool write, F f) -> decltype(f(std::declval<Supervisor&>())) {
  std::optional<decltype(f(std::declval<Supervisor&>()))> out;
  e.gate.Run(plan, [&](Supervisor& core) { out.emplace(f(core)); }, write);
  return std::move(*out);
}

// f(core) under the shared lock: database reads only.
template <typename F>
auto Checked(Env& e, F f) -> decltype(f(std::declval<Supervisor&>())) {
  std::optional<decltype(f(std::declval<Supervisor&>()))> out;
  e.gate.Check([&](Supervisor& core) { out.emplace(f(core)); });
  return std::move(*out);
}

// A head read's table entry: answered from the latest snapshot, without a lock; a per-chain read
// takes the chain ID as its one param.
template <HeadRead R>
Method HeadDef(std::string name) {
  Method m = PerChain(R) ? Def(std::move(name), kNoWait,
                               [](Env& e, ChainID chain) { return AnswerFrom(*e.gate.snapshot(), R, chain); }, DecodeChainID)
                         : Def(std::move(name), kNoWait, [](Env& e) { return AnswerFrom(*e.gate.snapshot(), R, ChainID()); });
  m.head = R;
  return m;
}

const std::vector<Method>& Table() {
  static const std::vector<Method> kTable = {
      // --- the design's methods (op-node and op-geth facing) ---
      Def("supervisor_checkMessage", kNoWait,
          [](Env& e, Identifier id, Hash payload) -> Result<Json> {
            SS_ASSIGN_OR_RETURN(SafetyLevel level, Checked(e, [&](Supervisor& c) { return c.CheckMessage(id, payload); }));
            return Json(SafetyLevelName(level));
          },
          DecodeIdentifier, DecodeHash),
      Def("supervisor_getCrossUnsafe", kOpen,
          [](Env& e, ChainID chain, uint64_t max) {
            return Encoded(Locked(e, PlanIndex(*e.gate.snapshot(), chain, max), true,
                                  [&](Supervisor& c) { return c.GetCrossUnsafe(chain, max); }));
          },
          DecodeChainID, DecodeHexU64),
      Def("supervisor_tryCrossSafe", kOpen,
          [](Env& e, ChainID chain, BlockID local_safe, BlockID derived_from) {
            auto snap = e.gate.snapshot();
            FetchPlan plan = PlanIndex(*snap, chain, local_safe.number);
            plan.l1 = PlanL1(*snap, derived_from.number).l1;
            return Encoded(Locked(e, plan, true, [&](Supervisor& c) { return c.TryCrossSafe(chain, local_safe, derived_from); }));
          },
          DecodeChainID, DecodeBlockID, DecodeBlockID),
      Def("supervisor_tryFinalize", kOpen,
          [](Env& e, ChainID chain, BlockID l1) {
            return Encoded(Locked(e, PlanL1(*e.gate.snapshot(), l1.number), true,
                                  [&](Supervisor& c) { return c.TryFinalize(chain, l1); }));
          },
          DecodeChainID, DecodeBlockID),
      Def("supervisor_updateLocalUnsafe", kOpen,
          [](Env& e, ChainID chain, BlockRef unsafe) {
            return Null(Locked(e, PlanIndex(*e.gate.snapshot(), chain, unsafe.number), true,
                               [&](Supervisor& c) { return c.UpdateLocalUnsafe(chain, unsafe); }));
          },
          DecodeChainID, DecodeBlockRef),
      // --- the read surface, compatible with op-supervisor ---
      Def("supervisor_checkAccessList", kFailsafe | kNoWait,
          [](Env& e, std::vector<Hash> entries, supervisor::AccessSafety min_safety,
             supervisor::ExecutingDescriptor desc) -> Result<Json> {
            Status s = Checked(e, [&](Supervisor& c) { return c.CheckAccessList(entries, min_safety, desc); });
            if (s.code() == Code::kInvalidArgument) return ParamsError(P(0) + ": " + s.message());
            return Null(s);
          },
          DecodeHashList, DecodeAccessSafety, DecodeExecutingDescriptor),
      Def("supervisor_crossDerivedToSource", kOpen,
          [](Env& e, ChainID chain, BlockID derived) {
            return Encoded(Locked(e, {}, false, [&](Supervisor& c) { return c.CrossDerivedToSource(chain, derived); }));
          },
          DecodeChainID, DecodeBlockID),
      // op-service's client still calls the deprecated name.
      Def("supervisor_crossDerivedFrom", kOpen,
          [](Env& e, ChainID chain, BlockID derived) {
            return Encoded(Locked(e, {}, false, [&](Supervisor& c) { return c.CrossDerivedToSource(chain, derived); }));
          },
          DecodeChainID, DecodeBlockID),
      // The head reads: the latest snapshot, no lock.
      HeadDef<HeadRead::kLocalUnsafe>("supervisor_localUnsafe"),
      HeadDef<HeadRead::kLocalSafe>("supervisor_localSafe"),
      HeadDef<HeadRead::kCrossSafe>("supervisor_crossSafe"),
      HeadDef<HeadRead::kFinalized>("supervisor_finalized"),
      HeadDef<HeadRead::kFinalizedL1>("supervisor_finalizedL1"),
      Def("supervisor_superRootAtTimestamp", kBatched,
          [](Env& e, uint64_t timestamp) {
            if (e.batch)
              if (const auto* r = BatchAnswers::Find(e.batch->super_roots, timestamp)) return Encoded(NotFoundIfFuture(*r));
            return Encoded(NotFoundIfFuture(Locked(e, {}, false, [&](Supervisor& c) { return c.SuperRootAtTimestamp(timestamp); })));
          },
          DecodeHexU64),
      HeadDef<HeadRead::kSyncStatus>("supervisor_syncStatus"),
      Def("supervisor_allSafeDerivedAt", kBatched,
          [](Env& e, BlockID derived_from) {
            if (e.batch)
              if (const auto* r = BatchAnswers::Find(e.batch->safe_derived_at, derived_from)) return Encoded(*r);
            return Encoded(Locked(e, PlanL1(*e.gate.snapshot(), derived_from.number), true,
                                  [&](Supervisor& c) { return c.AllSafeDerivedAt(derived_from); }));
          },
          DecodeBlockID),
      // Fixed when the core opened: no lock needed.
      Def("supervisor_dependencySetV1", kNoWait,
          [](Env& e) -> Result<Json> { return EncodeDependencySet(e.gate.core().dependency_set()); }),
      // --- admin ---
      Def("admin_setFailsafeEnabled", kAdmin | kNoWait,
          [](Env& e, bool on) -> Result<Json> {
            e.dispatcher.set_failsafe(on);
            return Json(nullptr);
          },
          DecodeBool),
      // op-geth's miner polls it every second over a plain connection: reading is open.
      Def("admin_getFailsafeEnabled", kNoWait, [](Env& e) -> Result<Json> { return Json(e.dispatcher.failsafe()); }),
      Def("admin_rewind", kAdmin,
          [](Env& e, ChainID chain, BlockID block) {
            return Null(Locked(e, {}, true, [&](Supervisor& c) { return c.RewindUnsafe(chain, block); }));
          },
          DecodeChainID, DecodeBlockID),
      // --- op-service's health API ---
      Def("health_status", kNoWait, [](Env& e) -> Result<Json> { return Json(e.dispatcher.version()); }),
  };
  return kTable;
}

const Method* Find(std::string_view name) {
  static const std::map<std::string_view, const Method*> kByName = [] {
    std::map<std::string_view, const Method*> out;
    for (const Method& m : Table()) {
      SS_CHECK(out.emplace(m.name, &m).second, "method " + m.name + " is listed twice");
    }
    return out;
  }();
  auto it = kByName.find(name);
  return it == kByName.end() ? nullptr : it->second;
}

// The table entry a call names, or nullptr (not an object, no method string, an unknown name).
const Method* MethodOf(const Json& call) {
  if (!call.is_object()) return nullptr;
  auto method = call.find("method");
  if (method == call.end() || !method->is_string()) return nullptr;
  return Find(method->get_ref<const std::string&>());
}

}  // namespace

const std::vector<std::string>& Dispatcher::Methods() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (const Method& m : Table()) out.push_back(m.name);
    return out;
  }();
  return kNames;
}

const std::vector<std::string>& Dispatcher::Labels() {
  static const std::vector<std::string> kLabels = [] {
    std::vector<std::string> out = Methods();
    out.push_back("unknown");
    out.push_back("invalid");
    return out;
  }();
  return kLabels;
}

Dispatcher::Dispatcher(supervisor::CoreGate& gate, Options options) : gate_(gate), options_(options) {}

std::optional<std::string> Dispatcher::Handle(std::string_view body, const CallContext& ctx) {
  if (std::optional<std::string> answer = TryHeadRead(body)) return answer;
  return Run(Parse(body), ctx);
}

Json Dispatcher::Parse(std::string_view body) { return Json::parse(body, nullptr, /*allow_exceptions=*/false); }

bool Dispatcher::NeverWaits(const Json& request) const {
  auto never_waits = [](const Json& call) {
    const Method* m = MethodOf(call);
    return m == nullptr || (m->flags & kNoWait) != 0;
  };
  if (!request.is_array()) return never_waits(request);
  if (request.size() > options_.max_batch) return true;  // refused whole: no call runs
  return std::all_of(request.begin(), request.end(), never_waits);
}

std::optional<std::string> Dispatcher::Run(const Json& request, const CallContext& ctx) {
  if (request.is_discarded()) return Dump(ErrorResponse(nullptr, kParseError, "parse error: the body is not valid JSON"));
  if (!request.is_array()) {
    bool notification = false;
    std::string response = Call(request, ctx, &notification);
    if (notification) return std::nullopt;
    return response;
  }
  if (request.empty()) return Dump(ErrorResponse(nullptr, kInvalidRequest, "invalid request: empty batch"));
  if (request.size() > options_.max_batch)
    return Dump(ErrorResponse(nullptr, kInvalidRequest,
                              "invalid request: batch of " + std::to_string(request.size()) + " calls exceeds " +
                                  std::to_string(options_.max_batch)));
  std::string responses = "[";
  for (size_t i = 0; i < request.size();) {
    const size_t run = std::max<size_t>(1, RunOfBatchable(request, i));
    const std::optional<BatchAnswers> answers = run > 1 ? AnswerRun(request, i, run) : std::nullopt;
    for (size_t k = i; k < i + run; ++k) {
      bool notification = false;
      std::string response = Call(request[k], ctx, &notification, answers ? &*answers : nullptr);
      if (notification) continue;
      if (responses.size() > 1) responses += ',';
      responses += response;
    }
    i += run;
  }
  if (responses.size() == 1) return std::nullopt;
  return responses + "]";
}

namespace {

// The entry of a call that a batch answers in runs, or nullptr.
const Method* BatchableMethod(const Json& call) {
  const Method* m = MethodOf(call);
  return m != nullptr && (m->flags & kBatched) != 0 ? m : nullptr;
}

}  // namespace

size_t Dispatcher::RunOfBatchable(const Json& batch, size_t from) {
  const Method* method = BatchableMethod(batch[from]);
  if (method == nullptr) return 0;
  size_t end = from + 1;
  while (end < batch.size() && BatchableMethod(batch[end]) == method) ++end;
  return end - from;
}

namespace {

// The one param of each call of batch[from, from + count) that decodes; the others are left out.
template <typename T>
std::vector<T> DecodedParams(const Json& batch, size_t from, size_t count, Decoder<T> decode) {
  std::vector<T> out;
  for (size_t k = from; k < from + count; ++k) {
    auto params = ParamsOf(batch[k], 1);
    if (!params.ok()) continue;
    auto v = decode((**params)[0], P(0));
    if (v.ok()) out.push_back(std::move(v).value());
  }
  return out;
}

}  // namespace

// The run's calls whose params decode, answered by one core call: the others get their params
// error from their own call. The calls still run one by one (metrics, notifications, errors).
std::optional<Dispatcher::BatchAnswers> Dispatcher::AnswerRun(const Json& batch, size_t from, size_t count) {
  Env env{gate_, *this};
  BatchAnswers answers;
  if (BatchableMethod(batch[from])->name == "supervisor_superRootAtTimestamp") {
    const std::vector<uint64_t> timestamps = DecodedParams<uint64_t>(batch, from, count, DecodeHexU64);
    if (timestamps.empty()) return std::nullopt;
    auto roots = Locked(env, {}, false, [&](Supervisor& c) { return c.SuperRootsAtTimestamps(timestamps); });
    for (size_t k = 0; k < timestamps.size(); ++k) answers.super_roots.emplace_back(timestamps[k], std::move(roots[k]));
  } else {
    const std::vector<BlockID> views = DecodedParams<BlockID>(batch, from, count, DecodeBlockID);
    if (views.empty()) return std::nullopt;
    FetchPlan plan = PlanL1(*gate_.snapshot(), views.front().number);
    for (size_t k = 1; k < views.size(); ++k) plan.l1.push_back(views[k].number);
    auto heads = Locked(env, plan, true, [&](Supervisor& c) { return c.AllSafeDerivedAtMany(views); });
    for (size_t k = 0; k < views.size(); ++k) answers.safe_derived_at.emplace_back(views[k], std::move(heads[k]));
  }
  return answers;
}

std::string Dispatcher::Call(const Json& request, const CallContext& ctx, bool* notification,
                             const BatchAnswers* batch) {
  const auto start = std::chrono::steady_clock::now();
  std::string_view label = "invalid";
  size_t label_index = Methods().size() + 1;
  auto record = [&](int code) {
    if (observer_) observer_(CallRecord{label, code, std::chrono::steady_clock::now() - start, label_index});
  };
  auto finish = [&](const Json& error_response) {
    record(error_response["error"]["code"].get<int>());
    return Dump(error_response);
  };
  if (!request.is_object()) return finish(ErrorResponse(nullptr, kInvalidRequest, "invalid request: not an object"));
  Json id = nullptr;
  auto id_it = request.find("id");
  if (id_it != request.end()) {
    if (!id_it->is_null() && !id_it->is_string() && !id_it->is_number())
      return finish(ErrorResponse(nullptr, kInvalidRequest, "invalid request: id must be a string, number or null"));
    id = *id_it;
  }
  auto version = request.find("jsonrpc");
  if (version == request.end() || *version != "2.0")
    return finish(ErrorResponse(id, kInvalidRequest, "invalid request: jsonrpc must be \"2.0\""));
  auto method_it = request.find("method");
  if (method_it == request.end() || !method_it->is_string())
    return finish(ErrorResponse(id, kInvalidRequest, "invalid request: method must be a string"));
  *notification = id_it == request.end();
  const std::string& name = method_it->get_ref<const std::string&>();
  const Method* method = Find(name);
  if (method == nullptr) {
    label = "unknown";
    label_index = Methods().size();
    return finish(ErrorResponse(id, kMethodNotFound, "method not found: " + name.substr(0, 64)));
  }
  label = method->name;
  label_index = static_cast<size_t>(method - Table().data());

  if ((method->flags & kAdmin) && !ctx.admin)
    return finish(ErrorResponse(id, kUnauthorized, "unauthorized: " + ctx.admin_denied_why));
  if ((method->flags & kFailsafe) && failsafe()) return finish(ErrorResponse(id, kInvalidParams, kFailsafeMessage));

  if (method->head != HeadRead::kNone && options_.fast_head_reads) {
    if (std::optional<Answered> a = AnswerHead(*method, request, id)) {
      record(a->code);
      return std::move(a->body);
    }
  }
  Result<Json> result = Invoke(*method, request, batch);
  if (result.ok()) {
    record(0);
    // The bytes Dump(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", ...}}) gives (keys in order),
    // without building the envelope.
    return "{\"id\":" + Dump(id) + ",\"jsonrpc\":\"2.0\",\"result\":" + Dump(*result) + "}";
  }
  auto [code, message] = RpcError(result.status());
  return finish(ErrorResponse(id, code, message));
}

std::shared_ptr<const HeadAnswers> Dispatcher::HeadAnswersOf(std::shared_ptr<const supervisor::ReadSnapshot> snap) {
  {
    std::lock_guard<std::mutex> g(heads_mu_);
    if (heads_ && heads_->source() == snap.get()) return heads_;
  }
  // Encoded outside the lock; threads that meet a new snapshot at once may each encode it.
  auto built = std::make_shared<const HeadAnswers>(std::move(snap));
  head_encodings_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> g(heads_mu_);
  heads_ = built;
  return built;
}

std::optional<Dispatcher::Answered> Dispatcher::AnswerHead(const Method& method, const Json& request, const Json& id) {
  auto params = ParamsOf(request, method.arity);
  if (!params.ok()) return std::nullopt;
  ChainID chain;
  if (PerChain(method.head)) {
    auto decoded = DecodeChainID((**params)[0], P(0));
    if (!decoded.ok()) return std::nullopt;
    chain = *decoded;
  }
  return AnswerHeadRead(method, Dump(id), chain);
}

std::optional<Dispatcher::Answered> Dispatcher::AnswerHeadRead(const Method& method, std::string_view id_bytes,
                                                               const ChainID& chain) {
  const std::shared_ptr<const HeadAnswers> answers = HeadAnswersOf(gate_.snapshot());
  const HeadAnswers::Answer* a = answers->Find(method.head, chain);
  if (a == nullptr) return std::nullopt;  // a chain outside the snapshot: the error names it
  // The bytes of Dump(ErrorResponse(id, ...)) or of the result envelope: nlohmann writes an
  // object's keys in order, so "error" < "id" < "jsonrpc" < "result".
  Answered out{a->code, {}};
  out.body.reserve(a->bytes.size() + id_bytes.size() + 40);
  if (a->code == 0) {
    out.body.append("{\"id\":").append(id_bytes).append(",\"jsonrpc\":\"2.0\",\"result\":").append(a->bytes).append("}");
  } else {
    out.body.append("{\"error\":").append(a->bytes).append(",\"id\":").append(id_bytes).append(",\"jsonrpc\":\"2.0\"}");
  }
  return out;
}

namespace {

// A reader of the plain single-call shape (Dispatcher::TryHeadRead): any byte outside it fails.
class PlainCall {
 public:
  explicit PlainCall(std::string_view body) : s_(body) {}
  std::string_view id, method, chain;  // id as JSON text; method and chain without quotes
  bool has_chain = false;

  bool Read() {
    bool seen_version = false, seen_id = false, seen_method = false, seen_params = false;
    Space();
    if (!Eat('{')) return false;
    do {
      Space();
      std::string_view key;
      if (!String(&key)) return false;
      Space();
      if (!Eat(':')) return false;
      Space();
      if (key == "jsonrpc") {
        std::string_view v;
        if (seen_version || !String(&v) || v != "2.0") return false;
        seen_version = true;
      } else if (key == "id") {
        if (seen_id || !Id()) return false;
        seen_id = true;
      } else if (key == "method") {
        if (seen_method || !String(&method)) return false;
        seen_method = true;
      } else if (key == "params") {
        if (seen_params || !Params()) return false;
        seen_params = true;
      } else {
        return false;
      }
      Space();
    } while (Eat(','));
    if (!Eat('}')) return false;
    Space();
    return i_ == s_.size() && seen_version && seen_id && seen_method && seen_params;
  }

 private:
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool Eat(char c) {
    if (i_ >= s_.size() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  // A string of printable ASCII without escapes: its JSON text is itself in quotes, as parsed and
  // as nlohmann dumps it.
  bool String(std::string_view* out) {
    if (!Eat('"')) return false;
    const size_t from = i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c < 0x20 || c > 0x7e || c == '\\') return false;
      ++i_;
    }
    if (i_ >= s_.size()) return false;
    *out = s_.substr(from, i_ - from);
    ++i_;
    return true;
  }
  // null, a string as above, or an integer without leading zeros of at most 18 digits (an int64
  // for nlohmann, dumped as the same digits); not -0, which nlohmann dumps as 0.
  bool Id() {
    const size_t from = i_;
    if (s_.substr(i_, 4) == "null") {
      i_ += 4;
    } else if (i_ < s_.size() && s_[i_] == '"') {
      std::string_view v;
      if (!String(&v)) return false;
    } else {
      const bool negative = Eat('-');
      const size_t digits = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      const size_t n = i_ - digits;
      if (n == 0 || n > 18 || (n > 1 && s_[digits] == '0') || (negative && s_[digits] == '0')) return false;
      if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
    }
    id = s_.substr(from, i_ - from);
    return true;
  }
  bool Params() {
    if (!Eat('[')) return false;
    Space();
    if (Eat(']')) return true;
    if (!String(&chain)) return false;
    has_chain = true;
    Space();
    return Eat(']');
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<std::string> Dispatcher::TryHeadRead(std::string_view body) {
  if (!options_.fast_head_reads) return std::nullopt;
  const auto start = std::chrono::steady_clock::now();
  PlainCall call(body);
  if (!call.Read()) return std::nullopt;
  const Method* method = Find(call.method);
  if (method == nullptr || method->head == HeadRead::kNone || call.has_chain != PerChain(method->head))
    return std::nullopt;
  ChainID chain;
  if (call.has_chain) {
    auto parsed = ChainID::Parse(call.chain);  // what DecodeChainID reads from the string
    if (!parsed.ok()) return std::nullopt;
    chain = *parsed;
  }
  std::optional<Answered> a = AnswerHeadRead(*method, call.id, chain);
  if (!a) return std::nullopt;
  if (observer_)
    observer_(CallRecord{method->name, a->code, std::chrono::steady_clock::now() - start,
                         static_cast<size_t>(method - Table().data())});
  return std::move(a->body);
}

Result<Json> Dispatcher::Invoke(const Method& method, const Json& request, const BatchAnswers* batch) {
  SS_ASSIGN_OR_RETURN(const Json* params, ParamsOf(request, method.arity));
  Env env{gate_, *this, batch};
  return method.invoke(env, *params);
}

}  // namespace supersafe::rpc
