#include "rpc/dispatcher.h"

#include <algorithm>

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

// Strings from the request are valid UTF-8 (the parser checks), but a message may cut one short.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

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

const std::vector<std::string>& Dispatcher::Methods() {
  static const std::vector<std::string> kMethods = {
      "supervisor_checkMessage",       "supervisor_getCrossUnsafe",      "supervisor_tryCrossSafe",
      "supervisor_tryFinalize",        "supervisor_updateLocalUnsafe",   "supervisor_checkAccessList",
      "supervisor_crossDerivedToSource", "supervisor_localUnsafe",       "supervisor_localSafe",
      "supervisor_crossSafe",          "supervisor_finalized",           "supervisor_finalizedL1",
      "supervisor_superRootAtTimestamp", "supervisor_syncStatus",        "supervisor_allSafeDerivedAt",
      "supervisor_dependencySetV1",    "admin_setFailsafeEnabled",       "admin_getFailsafeEnabled",
      "admin_rewind",                  "supervisor_crossDerivedFrom",    "health_status"};
  return kMethods;
}

Dispatcher::Dispatcher(Supervisor& core, std::mutex& core_mu, Options options)
    : core_(core), core_mu_(core_mu), options_(options) {}

std::optional<std::string> Dispatcher::Handle(std::string_view body, const CallContext& ctx) {
  Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return Dump(ErrorResponse(nullptr, kParseError, "parse error: the body is not valid JSON"));
  if (!request.is_array()) {
    bool notification = false;
    Json response = Call(request, ctx, &notification);
    if (notification) return std::nullopt;
    return Dump(response);
  }
  if (request.empty()) return Dump(ErrorResponse(nullptr, kInvalidRequest, "invalid request: empty batch"));
  if (request.size() > options_.max_batch)
    return Dump(ErrorResponse(nullptr, kInvalidRequest,
                              "invalid request: batch of " + std::to_string(request.size()) + " calls exceeds " +
                                  std::to_string(options_.max_batch)));
  Json responses = Json::array();
  for (const Json& call : request) {
    bool notification = false;
    Json response = Call(call, ctx, &notification);
    if (!notification) responses.push_back(std::move(response));
  }
  if (responses.empty()) return std::nullopt;
  return Dump(responses);
}

Json Dispatcher::Call(const Json& request, const CallContext& ctx, bool* notification) {
  const auto start = std::chrono::steady_clock::now();
  std::string_view label = "invalid";
  auto finish = [&](Json response) {
    if (observer_) {
      int code = response.contains("error") ? response["error"]["code"].get<int>() : 0;
      observer_(CallRecord{label, code, std::chrono::steady_clock::now() - start});
    }
    return response;
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
  const std::string& method = method_it->get_ref<const std::string&>();
  const auto& known = Methods();
  auto known_it = std::find(known.begin(), known.end(), method);
  if (known_it == known.end()) {
    label = "unknown";
    return finish(ErrorResponse(id, kMethodNotFound, "method not found: " + method.substr(0, 64)));
  }
  label = *known_it;

  // op-geth's miner polls admin_getFailsafeEnabled over a plain connection: reading is open.
  if (method.rfind("admin_", 0) == 0 && method != "admin_getFailsafeEnabled" && !ctx.admin)
    return finish(ErrorResponse(id, kUnauthorized, "unauthorized: " + ctx.admin_denied_why));
  if (method == "supervisor_checkAccessList" && failsafe())
    return finish(ErrorResponse(id, kInvalidParams, kFailsafeMessage));

  Result<Json> result = Invoke(method, request);
  if (result.ok()) return finish(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result).value()}});
  const Status& s = result.status();
  // Params errors name the field first; domain errors lead with their code name.
  const std::string message = s.code() == Code::kInvalidArgument ? s.message() : s.ToString();
  return finish(ErrorResponse(id, RpcErrorCode(s.code()), message));
}

Result<Json> Dispatcher::Invoke(std::string_view method, const Json& request) {
  auto params_of = [&](size_t arity) { return ParamsOf(request, arity); };
  auto lock = [&] { return std::unique_lock<std::mutex>(core_mu_); };
  auto ok_or_null = [](const Status& s) -> Result<Json> {
    if (!s.ok()) return s;
    return Json(nullptr);
  };
  auto encoded = [](const auto& r) -> Result<Json> {
    if (!r.ok()) return r.status();
    return Encode(*r);
  };

  if (method == "supervisor_checkMessage") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(2));
    SS_ASSIGN_OR_RETURN(Identifier id, DecodeIdentifier((*p)[0], P(0)));
    SS_ASSIGN_OR_RETURN(Hash payload, DecodeHash((*p)[1], P(1)));
    auto g = lock();
    SS_ASSIGN_OR_RETURN(SafetyLevel level, core_.CheckMessage(id, payload));
    return Json(SafetyLevelName(level));
  }
  if (method == "supervisor_getCrossUnsafe") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(2));
    SS_ASSIGN_OR_RETURN(ChainID chain, DecodeChainID((*p)[0], P(0)));
    SS_ASSIGN_OR_RETURN(uint64_t max, DecodeHexU64((*p)[1], P(1)));
    auto g = lock();
    return encoded(core_.GetCrossUnsafe(chain, max));
  }
  if (method == "supervisor_tryCrossSafe") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(3));
    SS_ASSIGN_OR_RETURN(ChainID chain, DecodeChainID((*p)[0], P(0)));
    SS_ASSIGN_OR_RETURN(BlockID local_safe, DecodeBlockID((*p)[1], P(1)));
    SS_ASSIGN_OR_RETURN(BlockID derived_from, DecodeBlockID((*p)[2], P(2)));
    auto g = lock();
    return encoded(core_.TryCrossSafe(chain, local_safe, derived_from));
  }
  if (method == "supervisor_tryFinalize") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(2));
    SS_ASSIGN_OR_RETURN(ChainID chain, DecodeChainID((*p)[0], P(0)));
    SS_ASSIGN_OR_RETURN(BlockID l1, DecodeBlockID((*p)[1], P(1)));
    auto g = lock();
    return encoded(core_.TryFinalize(chain, l1));
  }
  if (method == "supervisor_updateLocalUnsafe") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(2));
    SS_ASSIGN_OR_RETURN(ChainID chain, DecodeChainID((*p)[0], P(0)));
    SS_ASSIGN_OR_RETURN(BlockRef unsafe, DecodeBlockRef((*p)[1], P(1)));
    auto g = lock();
    return ok_or_null(core_.UpdateLocalUnsafe(chain, unsafe));
  }
  if (method == "supervisor_checkAccessList") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(3));
    SS_ASSIGN_OR_RETURN(std::vector<Hash> entries, DecodeHashList((*p)[0], P(0)));
    SS_ASSIGN_OR_RETURN(supervisor::AccessSafety min_safety, DecodeAccessSafety((*p)[1], P(1)));
    SS_ASSIGN_OR_RETURN(supervisor::ExecutingDescriptor desc, DecodeExecutingDescriptor((*p)[2], P(2)));
    auto g = lock();
    Status s = core_.CheckAccessList(entries, min_safety, desc);
    if (s.code() == Code::kInvalidArgument) return ParamsError(P(0) + ": " + s.message());
    return ok_or_null(s);
  }
  if (method == "supervisor_crossDerivedToSource" || method == "supervisor_crossDerivedFrom") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(2));
    SS_ASSIGN_OR_RETURN(ChainID chain, DecodeChainID((*p)[0], P(0)));
    SS_ASSIGN_OR_RETURN(BlockID derived, DecodeBlockID((*p)[1], P(1)));
    auto g = lock();
    return encoded(core_.CrossDerivedToSource(chain, derived));
  }
  if (method == "supervisor_localUnsafe" || method == "supervisor_finalized" || method == "supervisor_localSafe" ||
      method == "supervisor_crossSafe") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(1));
    SS_ASSIGN_OR_RETURN(ChainID chain, DecodeChainID((*p)[0], P(0)));
    auto g = lock();
    if (method == "supervisor_localUnsafe") return encoded(core_.LocalUnsafe(chain));
    if (method == "supervisor_finalized") return encoded(core_.Finalized(chain));
    if (method == "supervisor_localSafe") return encoded(core_.LocalSafe(chain));
    return encoded(core_.CrossSafe(chain));
  }
  if (method == "supervisor_finalizedL1") {
    SS_RETURN_IF_ERROR(params_of(0).status());
    auto g = lock();
    return encoded(NotFoundIfFuture(core_.FinalizedL1()));
  }
  if (method == "supervisor_superRootAtTimestamp") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(1));
    SS_ASSIGN_OR_RETURN(uint64_t timestamp, DecodeHexU64((*p)[0], P(0)));
    auto g = lock();
    return encoded(NotFoundIfFuture(core_.SuperRootAtTimestamp(timestamp)));
  }
  if (method == "supervisor_syncStatus") {
    SS_RETURN_IF_ERROR(params_of(0).status());
    auto g = lock();
    return encoded(core_.GetSyncStatus());
  }
  if (method == "supervisor_allSafeDerivedAt") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(1));
    SS_ASSIGN_OR_RETURN(BlockID derived_from, DecodeBlockID((*p)[0], P(0)));
    auto g = lock();
    return encoded(core_.AllSafeDerivedAt(derived_from));
  }
  if (method == "supervisor_dependencySetV1") {
    SS_RETURN_IF_ERROR(params_of(0).status());
    return EncodeDependencySet(core_.dependency_set());  // fixed at open: no lock needed
  }
  if (method == "admin_setFailsafeEnabled") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(1));
    SS_ASSIGN_OR_RETURN(bool on, DecodeBool((*p)[0], P(0)));
    set_failsafe(on);
    return Json(nullptr);
  }
  if (method == "admin_getFailsafeEnabled") {
    SS_RETURN_IF_ERROR(params_of(0).status());
    return Json(failsafe());
  }
  if (method == "health_status") {
    SS_RETURN_IF_ERROR(params_of(0).status());
    return Json(options_.version);
  }
  if (method == "admin_rewind") {
    SS_ASSIGN_OR_RETURN(const Json* p, params_of(2));
    SS_ASSIGN_OR_RETURN(ChainID chain, DecodeChainID((*p)[0], P(0)));
    SS_ASSIGN_OR_RETURN(BlockID block, DecodeBlockID((*p)[1], P(1)));
    auto g = lock();
    return ok_or_null(core_.RewindUnsafe(chain, block));
  }
  return Status(Code::kInternal, "method " + std::string(method) + " is listed but not dispatched");
}

}  // namespace supersafe::rpc
