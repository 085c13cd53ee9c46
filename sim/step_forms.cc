#include "sim/step_forms.h"

#include <algorithm>

#include "core/crypto.h"
#include "sim/scenario_reader.h"
#include "sim/steps.h"

namespace supersafe::sim {

FlowMap& FlowMap::Word(std::string_view key, std::string_view text) { return Raw(key, YamlScalar(text)); }

std::string FlowMap::Text() const {
  std::string out = "{";
  for (size_t i = 0; i < items_.size(); ++i) out += (i ? ", " : "") + items_[i];
  return out + "}";
}

// --- log specs --------------------------------------------------------------------------------------

LogSpec LogSpec::Init(const std::string& name) {
  LogSpec s;
  s.kind = Kind::kInit;
  s.name = name;
  s.log.address = DefaultOrigin();
  s.log.topics.push_back(Keccak256(name));
  return s;
}

namespace {
Bytes NamedPayload(const std::string& name) {
  const Hash h = Keccak256(name);
  return Bytes(h.bytes.begin(), h.bytes.end());
}
}  // namespace

LogSpec LogSpec::Unnamed(Bytes payload, std::optional<std::string> payload_name, const Address& origin) {
  LogSpec s;
  s.kind = Kind::kInit;
  s.payload = payload_name ? NamedPayload(*payload_name) : std::move(payload);
  s.payload_name = std::move(payload_name);
  s.log.address = origin;
  s.log.data = s.payload;
  return s;
}

LogSpec LogSpec::ExecNamed(const std::string& name) {
  LogSpec s;
  s.kind = Kind::kExecNamed;
  s.name = name;
  return s;
}

LogSpec LogSpec::ExecExplicit(const ChainID& chain_id, uint64_t block, uint32_t log, uint64_t timestamp, Bytes payload,
                              std::optional<std::string> payload_name, const Address& origin) {
  LogSpec s;
  s.kind = Kind::kExecExplicit;
  s.payload = payload_name ? NamedPayload(*payload_name) : std::move(payload);
  s.payload_name = std::move(payload_name);
  s.message.id.origin = origin;
  s.message.id.block_number = block;
  s.message.id.log_index = log;
  s.message.id.timestamp = timestamp;
  s.message.id.chain_id = chain_id;
  s.message.payload_hash = PayloadHash(s.payload);
  return s;
}

namespace {

std::string PayloadText(const LogSpec& spec) {
  return spec.payload_name ? YamlScalar(*spec.payload_name) : ToHex(spec.payload);
}

std::string RenderIdentifier(const LogSpec& spec, const Scenario& sc) {
  const Identifier& id = spec.message.id;
  FlowMap m;
  if (auto chain = sc.ChainIndex(id.chain_id)) m.Word("chain", sc.chains[*chain].name);
  else m.Raw("chain_id", id.chain_id.Decimal());
  m.Num("block", id.block_number).Num("log", id.log_index);
  if (id.timestamp != sc.DefaultTimestamp(id.chain_id, id.block_number)) m.Num("timestamp", id.timestamp);
  m.Raw("payload", PayloadText(spec));
  if (id.origin != DefaultOrigin()) m.Raw("origin", id.origin.Hex());
  return m.Text();
}

std::string RenderLog(const LogSpec& spec, const Scenario& sc) {
  FlowMap m;
  switch (spec.kind) {
    case LogSpec::Kind::kInit:
      if (!spec.name.empty()) {
        m.Word("init", spec.name);
        if (spec.log.topics.empty()) m.Raw("payload", PayloadText(spec));
      } else {
        m.Raw("payload", PayloadText(spec));
      }
      if (spec.log.address != DefaultOrigin()) m.Raw("origin", spec.log.address.Hex());
      break;
    case LogSpec::Kind::kExecNamed: m.Word("exec", spec.name); break;
    case LogSpec::Kind::kExecExplicit: m.Raw("exec", RenderIdentifier(spec, sc)); break;
  }
  if (spec.every != 1) m.Num("every", spec.every);
  return m.Text();
}

}  // namespace

std::string RenderLogs(const std::vector<LogSpec>& logs, const Scenario& sc) {
  std::string out = "[";
  for (size_t i = 0; i < logs.size(); ++i) out += (i ? ", " : "") + RenderLog(logs[i], sc);
  return out + "]";
}

// --- call -------------------------------------------------------------------------------------------

std::vector<std::string_view> CallKeys() {
  return {"method", "chain", "local_safe", "derived_from", "finalized_l1", "unsafe", "max_number", "message",
          "identifier"};
}

CallStep ParseCall(ScenarioReader& r, const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) r.Fail(n, path, "want a map with a method");
  std::string method = r.Str(r.Need(n, path, "method"), path + ".method");
  CallStep call;
  if (method == "tryCrossSafe") {
    r.CheckMap(n, path, {"method", "chain", "local_safe", "derived_from"});
    call.method = CallMethod::kTryCrossSafe;
    call.local_safe = r.OptU64(n, path, "local_safe");
    call.derived_from = r.U64(r.Need(n, path, "derived_from"), path + ".derived_from");
  } else if (method == "tryFinalize") {
    r.CheckMap(n, path, {"method", "chain", "finalized_l1"});
    call.method = CallMethod::kTryFinalize;
    call.finalized_l1 = r.U64(r.Need(n, path, "finalized_l1"), path + ".finalized_l1");
  } else if (method == "updateLocalUnsafe") {
    r.CheckMap(n, path, {"method", "chain", "unsafe"});
    call.method = CallMethod::kUpdateLocalUnsafe;
    call.unsafe = r.OptU64(n, path, "unsafe");
  } else if (method == "getCrossUnsafe") {
    r.CheckMap(n, path, {"method", "chain", "max_number"});
    call.method = CallMethod::kGetCrossUnsafe;
    call.max_number = r.U64(r.Need(n, path, "max_number"), path + ".max_number");
  } else if (method == "checkMessage") {
    r.CheckMap(n, path, {"method", "message", "identifier"});
    call.method = CallMethod::kCheckMessage;
    if (n["message"] && n["identifier"]) r.Fail(n, path + ".identifier", "give message or identifier, not both");
    if (n["message"]) call.message = LogSpec::ExecNamed(r.ExistingMessage(n["message"], path + ".message"));
    else call.message = r.Identifier(r.Need(n, path, "identifier"), path + ".identifier");
  } else {
    r.Fail(n["method"], path + ".method",
           "unknown method '" + method + "' (tryCrossSafe, tryFinalize, updateLocalUnsafe, checkMessage, getCrossUnsafe)");
  }
  if (call.method != CallMethod::kCheckMessage) call.chain = r.Chain(r.Need(n, path, "chain"), path + ".chain");
  r.set_last_call(call.method);
  return call;
}

std::string RenderCall(const CallStep& call, const Scenario& sc) {
  FlowMap m;
  m.Raw("method", CallMethodName(call.method));
  if (call.method != CallMethod::kCheckMessage) m.Word("chain", sc.chains.at(call.chain).name);
  switch (call.method) {
    case CallMethod::kTryCrossSafe:
      if (call.local_safe) m.Num("local_safe", *call.local_safe);
      m.Num("derived_from", call.derived_from);
      break;
    case CallMethod::kTryFinalize: m.Num("finalized_l1", call.finalized_l1); break;
    case CallMethod::kUpdateLocalUnsafe:
      if (call.unsafe) m.Num("unsafe", *call.unsafe);
      break;
    case CallMethod::kGetCrossUnsafe: m.Num("max_number", call.max_number); break;
    case CallMethod::kRewind: break;  // a step of its own, never a `call`
    case CallMethod::kCheckMessage:
      if (call.message->kind == LogSpec::Kind::kExecNamed) m.Word("message", call.message->name);
      else m.Raw("identifier", RenderIdentifier(*call.message, sc));
      break;
  }
  return m.Text();
}

// --- expect -----------------------------------------------------------------------------------------

namespace {

const char* const kHeadKeys[] = {"unsafe",     "cross_unsafe",      "local_safe",       "cross_safe",
                                 "finalized",  "local_safe_source", "cross_safe_source"};
// The fields of HeadsExpect, in kHeadKeys order.
std::optional<uint64_t> HeadsExpect::*const kHeadFields[] = {
    &HeadsExpect::unsafe,    &HeadsExpect::cross_unsafe,      &HeadsExpect::local_safe,       &HeadsExpect::cross_safe,
    &HeadsExpect::finalized, &HeadsExpect::local_safe_source, &HeadsExpect::cross_safe_source};

std::vector<std::string> HeadKeysWith(std::initializer_list<const char*> more) {
  std::vector<std::string> keys(more.begin(), more.end());
  keys.insert(keys.end(), std::begin(kHeadKeys), std::end(kHeadKeys));
  return keys;
}

// The head keys of `n` (checked against `allowed` by the caller) into e.
HeadsExpect ReadHeads(ScenarioReader& r, const YAML::Node& n, const std::string& path, size_t chain) {
  HeadsExpect e;
  e.chain = chain;
  bool any = false;
  for (size_t i = 0; i < std::size(kHeadKeys); ++i) {
    e.*kHeadFields[i] = r.OptU64(n, path, kHeadKeys[i]);
    any = any || (e.*kHeadFields[i]).has_value();
  }
  if (!any) {
    std::string list;
    for (const char* k : kHeadKeys) list += (list.empty() ? "" : ", ") + std::string(k);
    r.Fail(n, path, "name at least one head: " + list);
  }
  return e;
}

void WriteHeads(const HeadsExpect& e, FlowMap& m) {
  for (size_t i = 0; i < std::size(kHeadKeys); ++i)
    if (e.*kHeadFields[i]) m.Num(kHeadKeys[i], *(e.*kHeadFields[i]));
}

// `source: N` (an L1 block number) or `source: ERROR_NAME`.
SourceWant ReadSource(ScenarioReader& r, const YAML::Node& n, const std::string& path) {
  const std::string s = r.Str(n, path);
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') return r.U64(n, path);
  auto code = CodeFromName(s);
  if (!code || *code == Code::kOk)
    r.Fail(n, path, "want an L1 block number or an error name such as FUTURE_DATA, got '" + s + "'");
  return *code;
}

std::string WriteSource(const SourceWant& w) {
  return std::holds_alternative<uint64_t>(w) ? std::to_string(std::get<uint64_t>(w)) : CodeName(std::get<Code>(w));
}

// `pending: original | none | 0x<128 bytes>`.
PendingWant ReadPending(ScenarioReader& r, const YAML::Node& n, const std::string& path) {
  const std::string s = r.Str(n, path);
  PendingWant w;
  if (s == "original") return w;
  if (s == "none") {
    w.kind = PendingWant::Kind::kNone;
    return w;
  }
  auto bytes = ParseHexBytes(s, "pending");
  if (s.rfind("0x", 0) != 0 || !bytes.ok() || bytes->size() != 128)
    r.Fail(n, path, "want original, none or the 128-byte OutputV0 preimage as 0x-hex, got '" + s + "'");
  w.kind = PendingWant::Kind::kBytes;
  w.bytes = *bytes;
  return w;
}

std::string WritePending(const PendingWant& w) {
  switch (w.kind) {
    case PendingWant::Kind::kOriginal: return "original";
    case PendingWant::Kind::kNone: return "none";
    case PendingWant::Kind::kBytes: break;
  }
  return ToHex(w.bytes);
}

ChainsExpect ReadChains(ScenarioReader& r, const YAML::Node& n, const std::string& path) {
  if (!n.IsMap() || n.size() == 0) r.Fail(n, path, "want a map of chain names to heads, e.g. {A: {cross_safe: 3}}");
  ChainsExpect e;
  std::vector<std::string> names;
  for (const auto& kv : n) {
    const size_t chain = r.Chain(kv.first, path);
    const std::string name = r.scenario().chains[chain].name;
    if (std::find(names.begin(), names.end(), name) != names.end()) r.Fail(kv.first, path + "." + name, "chain given twice");
    names.push_back(name);
    r.CheckMap(kv.second, path + "." + name, HeadKeysWith({}));
    e.chains.push_back(ReadHeads(r, kv.second, path + "." + name, chain));
  }
  return e;
}

SuperRootExpect ReadSuperRoot(ScenarioReader& r, const YAML::Node& n, const std::string& path) {
  r.CheckMap(n, path, {"timestamp", "source", "root", "pending"});
  SuperRootExpect e;
  e.timestamp = r.U64(r.Need(n, path, "timestamp"), path + ".timestamp");
  if (n["source"]) e.source = ReadSource(r, n["source"], path + ".source");
  if (n["root"]) {
    auto root = Hash::Parse(r.Str(n["root"], path + ".root"), "root");
    if (!root.ok()) r.Fail(n["root"], path + ".root", root.status().message());
    e.root = *root;
  }
  if (n["pending"]) {
    const YAML::Node& p = n["pending"];
    if (!p.IsMap()) r.Fail(p, path + ".pending", "want a map of chain names to original, none or 0x-hex");
    for (const auto& kv : p) {
      const size_t chain = r.Chain(kv.first, path + ".pending");
      for (const auto& [c, w] : e.pending)
        if (c == chain) r.Fail(kv.first, path + ".pending." + kv.first.Scalar(), "chain given twice");
      e.pending.emplace_back(chain, ReadPending(r, kv.second, path + ".pending." + kv.first.Scalar()));
    }
  }
  if (e.source && std::holds_alternative<Code>(*e.source) && (e.root || !e.pending.empty()))
    r.Fail(n, path, "an error answer has no root or pending outputs");
  return e;
}

}  // namespace

std::vector<std::string_view> ExpectKeys() {
  return {"chain",     "unsafe", "cross_unsafe", "local_safe", "cross_safe", "finalized",  "local_safe_source",
          "cross_safe_source", "chains", "block", "replaced", "source", "pending", "logs", "message", "level",
          "result", "error", "pool", "super_root"};
}

ExpectStep ParseExpect(ScenarioReader& r, const YAML::Node& n, const std::string& path) {
  std::vector<std::string> all;
  for (std::string_view k : ExpectKeys()) all.emplace_back(k);
  r.CheckMap(n, path, all);
  auto only = [&](std::initializer_list<const char*> keys) { r.CheckMap(n, path, keys); };
  if (n["result"] || n["error"]) {
    if (!r.last_call()) r.Fail(n, path, "an expectation about a call result needs a `call` or `rewind` step before it");
  }
  if (n["result"]) {
    only({"result"});
    const YAML::Node& res = n["result"];
    std::string rp = path + ".result";
    ResultExpect e;
    if (res.IsScalar()) {
      if (res.Scalar() != "ok") r.Fail(res, rp, "want ok or a map");
      e.ok_only = true;
      return {e};
    }
    switch (*r.last_call()) {
      case CallMethod::kTryCrossSafe: r.CheckMap(res, rp, {"status", "cross_safe", "local_safe"}); break;
      case CallMethod::kTryFinalize:
      case CallMethod::kGetCrossUnsafe: r.CheckMap(res, rp, {"block"}); break;
      case CallMethod::kCheckMessage: r.CheckMap(res, rp, {"level"}); break;
      case CallMethod::kUpdateLocalUnsafe:
      case CallMethod::kRewind:
        r.Fail(res, rp, std::string(CallMethodName(*r.last_call())) + " returns nothing: use `result: ok`");
    }
    if (res["status"]) {
      std::string s = r.Str(res["status"], rp + ".status");
      if (s != "accept" && s != "unknown" && s != "invalid")
        r.Fail(res["status"], rp + ".status", "want accept, unknown or invalid");
      e.status = s;
    }
    e.cross_safe = r.OptU64(res, rp, "cross_safe");
    e.local_safe = r.OptU64(res, rp, "local_safe");
    e.block = r.OptU64(res, rp, "block");
    if (res["level"]) e.level = r.Level(res["level"], rp + ".level");
    return {e};
  }
  if (n["error"]) {
    only({"error"});
    std::string name = r.Str(n["error"], path + ".error");
    auto code = CodeFromName(name);
    if (!code || *code == Code::kOk) r.Fail(n["error"], path + ".error", "unknown error code '" + name + "'");
    return {ErrorExpect{*code}};
  }
  if (n["message"]) {
    only({"message", "level"});
    MessageExpect e;
    e.message = r.ExistingMessage(n["message"], path + ".message");
    e.level = r.Level(r.Need(n, path, "level"), path + ".level");
    return {e};
  }
  if (n["chains"]) {
    only({"chains"});
    return {ReadChains(r, n["chains"], path + ".chains")};
  }
  if (n["super_root"]) {
    only({"super_root"});
    return {ReadSuperRoot(r, n["super_root"], path + ".super_root")};
  }
  const Scenario& sc = r.scenario();
  size_t chain = r.Chain(r.Need(n, path, "chain"), path + ".chain");
  if (n["pool"]) {
    only({"chain", "pool"});
    if (!sc.chains[chain].mempool)
      r.Fail(n["chain"], path + ".chain", "chain '" + sc.chains[chain].name + "' has no tx pool (set mempool: true)");
    return {PoolExpect{chain, r.U64(n["pool"], path + ".pool")}};
  }
  if (n["block"] || n["replaced"] || n["source"] || n["pending"] || n["logs"]) {
    only({"chain", "block", "replaced", "source", "pending", "logs"});
    BlockExpect e;
    e.chain = chain;
    e.block = r.U64(r.Need(n, path, "block"), path + ".block");
    if (n["replaced"]) e.replaced = r.Bool(n["replaced"], path + ".replaced");
    if (n["source"]) e.source = ReadSource(r, n["source"], path + ".source");
    if (n["pending"]) e.pending = ReadPending(r, n["pending"], path + ".pending");
    e.logs = r.OptU64(n, path, "logs");
    if (!e.replaced && !e.source && !e.pending && !e.logs) e.replaced = true;  // `{chain: B, block: 1}` alone
    return {e};
  }
  r.CheckMap(n, path, HeadKeysWith({"chain"}));
  return {ReadHeads(r, n, path, chain)};
}

std::string RenderExpect(const ExpectStep& step, const Scenario& sc) {
  FlowMap m;
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, HeadsExpect>) {
          m.Word("chain", sc.chains.at(e.chain).name);
          WriteHeads(e, m);
        } else if constexpr (std::is_same_v<T, ChainsExpect>) {
          FlowMap chains;
          for (const HeadsExpect& h : e.chains) {
            FlowMap heads;
            WriteHeads(h, heads);
            chains.Raw(YamlScalar(sc.chains.at(h.chain).name), heads.Text());
          }
          m.Raw("chains", chains.Text());
        } else if constexpr (std::is_same_v<T, BlockExpect>) {
          m.Word("chain", sc.chains.at(e.chain).name).Num("block", e.block);
          if (e.replaced) m.Bool("replaced", *e.replaced);
          if (e.source) m.Raw("source", WriteSource(*e.source));
          if (e.pending) m.Raw("pending", WritePending(*e.pending));
          if (e.logs) m.Num("logs", *e.logs);
        } else if constexpr (std::is_same_v<T, SuperRootExpect>) {
          FlowMap s;
          s.Num("timestamp", e.timestamp);
          if (e.source) s.Raw("source", WriteSource(*e.source));
          if (e.root) s.Raw("root", e.root->Hex());
          if (!e.pending.empty()) {
            FlowMap p;
            for (const auto& [chain, w] : e.pending) p.Raw(YamlScalar(sc.chains.at(chain).name), WritePending(w));
            s.Raw("pending", p.Text());
          }
          m.Raw("super_root", s.Text());
        } else if constexpr (std::is_same_v<T, MessageExpect>) {
          m.Word("message", e.message).Raw("level", SafetyLevelName(e.level));
        } else if constexpr (std::is_same_v<T, ResultExpect>) {
          if (e.ok_only) {
            m.Raw("result", "ok");
            return;
          }
          FlowMap res;
          if (e.status) res.Raw("status", *e.status);
          if (e.cross_safe) res.Num("cross_safe", *e.cross_safe);
          if (e.local_safe) res.Num("local_safe", *e.local_safe);
          if (e.block) res.Num("block", *e.block);
          if (e.level) res.Raw("level", SafetyLevelName(*e.level));
          m.Raw("result", res.Text());
        } else if constexpr (std::is_same_v<T, ErrorExpect>) {
          m.Raw("error", CodeName(e.code));
        } else if constexpr (std::is_same_v<T, PoolExpect>) {
          m.Word("chain", sc.chains.at(e.chain).name).Num("pool", e.pending);
        }
      },
      step.what);
  return m.Text();
}

}  // namespace supersafe::sim
