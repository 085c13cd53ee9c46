#include "sim/scenario.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/crypto.h"

namespace supersafe::sim {

const Address& DefaultOrigin() {
  static const Address kOrigin = Address::Parse("0x4242424242424242424242424242424242424242").value();
  return kOrigin;
}

namespace {
// The length of the UTF-8 sequence `text` starts with (1 to 4), or 0 if it is not one (overlong
// forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(std::string_view text) {
  const auto b0 = static_cast<unsigned char>(text[0]);
  size_t n = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xe ? 3 : (b0 >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || text.size() < n) return 0;
  uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1f) : n == 3 ? (b0 & 0x0f) : (b0 & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[k]);
    if ((b >> 6) != 0x2) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}
}  // namespace

const char* CallMethodName(CallMethod m) {
  switch (m) {
    case CallMethod::kTryCrossSafe: return "tryCrossSafe";
    case CallMethod::kTryFinalize: return "tryFinalize";
    case CallMethod::kUpdateLocalUnsafe: return "updateLocalUnsafe";
    case CallMethod::kCheckMessage: return "checkMessage";
    case CallMethod::kGetCrossUnsafe: return "getCrossUnsafe";
  }
  return "?";
}

std::optional<size_t> Scenario::ChainIndex(const std::string& chain_name) const {
  for (size_t i = 0; i < chains.size(); ++i)
    if (chains[i].name == chain_name) return i;
  return std::nullopt;
}

namespace {

// Thrown inside this file only; ParseScenario turns it into a Status.
struct ParseError {
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  Scenario Parse(const YAML::Node& root);

 private:
  [[noreturn]] void Fail(const YAML::Node& at, const std::string& key, const std::string& what) const {
    int line = at.Mark().line >= 0 ? at.Mark().line + 1 : 0;
    throw ParseError{file_ + ":" + std::to_string(line) + ": " + key + ": " + what};
  }

  // A map whose keys are all in `allowed`, none twice.
  void CheckMap(const YAML::Node& node, const std::string& path, std::initializer_list<const char*> allowed) const {
    if (!node.IsMap()) Fail(node, path, "want a map");
    std::set<std::string> seen;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) Fail(kv.first, path, "keys must be plain words");
      const std::string key = kv.first.Scalar();
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        Fail(kv.first, Join(path, key), "unknown key (allowed: " + list + ")");
      }
      if (!seen.insert(key).second) Fail(kv.first, Join(path, key), "key given twice");
    }
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::string Str(const YAML::Node& n, const std::string& path) const {
    if (!n.IsScalar()) Fail(n, path, "want a scalar");
    return n.Scalar();
  }
  uint64_t U64(const YAML::Node& n, const std::string& path) const {
    auto v = ParseU64(Str(n, path), "number");
    if (!v.ok()) Fail(n, path, "want a non-negative 64-bit integer, got '" + n.Scalar() + "'");
    return *v;
  }
  bool Bool(const YAML::Node& n, const std::string& path) const {
    std::string s = Str(n, path);
    if (s == "true") return true;
    if (s == "false") return false;
    Fail(n, path, "want true or false, got '" + s + "'");
  }
  std::optional<uint64_t> OptU64(const YAML::Node& map, const std::string& path, const char* key) const {
    if (!map[key]) return std::nullopt;
    return U64(map[key], Join(path, key));
  }
  YAML::Node Need(const YAML::Node& map, const std::string& path, const char* key) const {
    YAML::Node n = map[key];
    if (!n) Fail(map, Join(path, key), "required");
    return n;
  }
  size_t Chain(const YAML::Node& n, const std::string& path) const {
    std::string name = Str(n, path);
    auto idx = scenario_.ChainIndex(name);
    if (!idx) Fail(n, path, "no chain named '" + name + "'");
    return *idx;
  }
  Address Origin(const YAML::Node& n, const std::string& path) const {
    auto a = Address::Parse(Str(n, path), "origin");
    if (!a.ok()) Fail(n, path, a.status().message());
    return *a;
  }
  // `payload:` of a log or identifier: 0x-hex bytes, or a NAME meaning keccak256(NAME).
  Bytes Payload(const YAML::Node& n, const std::string& path) const {
    std::string s = Str(n, path);
    if (s.rfind("0x", 0) == 0) {
      auto b = ParseHexBytes(s, "payload");
      if (!b.ok()) Fail(n, path, b.status().message());
      return *b;
    }
    Hash h = Keccak256(s);
    return Bytes(h.bytes.begin(), h.bytes.end());
  }
  SafetyLevel Level(const YAML::Node& n, const std::string& path) const {
    auto l = ParseSafetyLevel(Str(n, path));
    if (!l.ok()) Fail(n, path, "want finalized, safe, cross-unsafe, unsafe, unknown or conflicts");
    return *l;
  }

  void ParseChains(const YAML::Node& n);
  void ParseGenesis(const YAML::Node& n);
  void ParseGames(const YAML::Node& n);
  Step ParseStep(const YAML::Node& n, size_t index);
  std::vector<LogSpec> ParseLogs(const YAML::Node& n, const std::string& path, bool allow_named_init);
  LogSpec ParseLog(const YAML::Node& n, const std::string& path, bool allow_named_init);
  ExecutingMessage ParseIdentifier(const YAML::Node& n, const std::string& path) const;
  std::string ExistingMessage(const YAML::Node& n, const std::string& path) const;
  CallStep ParseCall(const YAML::Node& n, const std::string& path);
  ExpectStep ParseExpect(const YAML::Node& n, const std::string& path) const;
  void CheckStepAllowed(const YAML::Node& n, const std::string& kind) const;

  // Adds a step's `amount` of work to `total`, which may not pass `limit` ("L1 blocks", ...).
  void Count(const YAML::Node& at, const std::string& key, uint64_t& total, uint64_t amount, uint64_t limit,
             const char* what) const {
    if (amount > limit || total > limit - amount)
      Fail(at, key,
           "more than a run can do: " + std::to_string(amount) + " " + what + " here and " + std::to_string(total) +
               " before; the limit is " + std::to_string(limit) + " " + what + " a run");
    total += amount;
  }
  // Counts a build or unsafe reorg of `blocks` blocks holding `logs` on `chain`; `grows` if the
  // chain's head moves up by `blocks` (a build).
  void CountL2(const YAML::Node& at, const std::string& key, size_t chain, uint64_t blocks,
               const std::vector<LogSpec>& logs, bool grows) {
    Count(at, key, l2_blocks_, blocks, kMaxL2BlocksPerRun, "L2 blocks");
    uint64_t n = 0;
    for (const LogSpec& l : logs) n += blocks / l.every;
    Count(at, key, logs_, n, kMaxLogsPerRun, "logs");
    if (!grows) return;
    if (heights_.size() <= chain) heights_.resize(scenario_.chains.size(), 0);
    heights_[chain] += blocks;
    const ChainSpec& c = scenario_.chains[chain];
    if (heights_[chain] > (UINT64_MAX - scenario_.genesis.l2_time) / c.block_time)
      Fail(at, key, "block " + std::to_string(heights_[chain]) + " of chain " + c.name +
                        " would have a timestamp past 2^64-1 (genesis.l2_time + number * block_time)");
  }

  // A chain with a sequencing window may derive forced empty blocks: at most one per L1 block, and
  // as many as its time takes to catch up with L1's. They count as L2 blocks of the run.
  void CountForcedBlocks(const YAML::Node& chains) {
    using U128 = unsigned __int128;
    const GenesisSpec& g = scenario_.genesis;
    const U128 l1_end = static_cast<U128>(g.l1_time) + static_cast<U128>(l1_blocks_) * g.l1_block_time;
    for (size_t i = 0; i < scenario_.chains.size(); ++i) {
      if (!scenario_.chains[i].seq_window) continue;
      const U128 catch_up = l1_end > g.l2_time ? (l1_end - g.l2_time) / scenario_.chains[i].block_time + 1 : 0;
      const uint64_t forced = static_cast<uint64_t>(std::min<U128>(catch_up + l1_blocks_, UINT64_MAX));
      if (forced > kMaxL2BlocksPerRun || l2_blocks_ > kMaxL2BlocksPerRun - forced)
        Fail(chains[i]["seq_window"], "chains[" + std::to_string(i) + "].seq_window",
             "more than a run can do: up to " + std::to_string(forced) + " forced empty blocks (one per L1 block, and "
             "as many as the chain's time takes to catch up with L1's) and " + std::to_string(l2_blocks_) +
             " L2 blocks before; the limit is " + std::to_string(kMaxL2BlocksPerRun) + " L2 blocks a run");
      l2_blocks_ += forced;
    }
  }

  std::string file_;
  Scenario scenario_;
  uint64_t l1_blocks_ = 0, l2_blocks_ = 0, logs_ = 0;  // the work of the steps so far (Count)
  std::vector<uint64_t> heights_;                       // per chain: blocks built so far
  std::set<std::string> messages_;            // init names emitted so far, in file order
  std::optional<CallMethod> last_call_;       // method of the latest `call` step so far
};

Scenario Parser::Parse(const YAML::Node& root) {
  scenario_.file = file_;
  if (!root.IsMap()) Fail(root, "(top)", "want a map with name, chains and steps");
  CheckMap(root, "",
           {"name", "description", "seed", "chains", "genesis", "expiry_window", "nodes", "games", "steps"});
  scenario_.name = Str(Need(root, "", "name"), "name");
  if (scenario_.name.empty()) Fail(root["name"], "name", "must not be empty");
  const bool control = std::any_of(scenario_.name.begin(), scenario_.name.end(),
                                   [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
  if (control || scenario_.name == "." || scenario_.name == ".." || scenario_.name.find_first_of("/\\") != std::string::npos)
    Fail(root["name"], "name", "it names files (DIR/<name>, FILE-<name>.html): no '/', '\\', control characters, '.' or '..'");
  if (root["description"]) scenario_.description = Str(root["description"], "description");
  if (root["seed"]) scenario_.seed = U64(root["seed"], "seed");
  if (root["genesis"]) ParseGenesis(root["genesis"]);
  ParseChains(Need(root, "", "chains"));
  if (root["expiry_window"]) scenario_.expiry_window = U64(root["expiry_window"], "expiry_window");
  if (root["nodes"]) {
    std::string mode = Str(root["nodes"], "nodes");
    if (mode == "auto") scenario_.nodes = NodesMode::kAuto;
    else if (mode == "manual") scenario_.nodes = NodesMode::kManual;
    else Fail(root["nodes"], "nodes", "want auto or manual, got '" + mode + "'");
  }
  if (root["games"]) ParseGames(root["games"]);
  YAML::Node steps = Need(root, "", "steps");
  if (!steps.IsSequence()) Fail(steps, "steps", "want a list of steps");
  for (size_t i = 0; i < steps.size(); ++i) scenario_.steps.push_back(ParseStep(steps[i], i + 1));
  CountForcedBlocks(Need(root, "", "chains"));
  return std::move(scenario_);
}

void Parser::ParseGenesis(const YAML::Node& n) {
  CheckMap(n, "genesis", {"l2_time", "l1_time", "l1_block_time"});
  if (n["l2_time"]) scenario_.genesis.l2_time = U64(n["l2_time"], "genesis.l2_time");
  if (n["l1_time"]) scenario_.genesis.l1_time = U64(n["l1_time"], "genesis.l1_time");
  if (n["l1_block_time"]) {
    scenario_.genesis.l1_block_time = U64(n["l1_block_time"], "genesis.l1_block_time");
    if (scenario_.genesis.l1_block_time == 0) Fail(n["l1_block_time"], "genesis.l1_block_time", "must be positive");
  }
}

void Parser::ParseChains(const YAML::Node& n) {
  if (!n.IsSequence() || n.size() == 0) Fail(n, "chains", "want a non-empty list of chains");
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node& c = n[i];
    std::string path = "chains[" + std::to_string(i) + "]";
    CheckMap(c, path, {"name", "id", "block_time", "interop_time", "policy", "mempool", "after_replacement",
                       "exec_timeout", "seq_window"});
    ChainSpec spec;
    spec.name = Str(Need(c, path, "name"), path + ".name");
    if (spec.name.empty()) Fail(c["name"], path + ".name", "must not be empty");
    if (scenario_.ChainIndex(spec.name)) Fail(c["name"], path + ".name", "duplicate chain name '" + spec.name + "'");
    auto id = ChainID::Parse(Str(Need(c, path, "id"), path + ".id"));
    if (!id.ok()) Fail(c["id"], path + ".id", id.status().message());
    spec.id = *id;
    for (const auto& other : scenario_.chains)
      if (other.id == spec.id) Fail(c["id"], path + ".id", "chain ID " + spec.id.Decimal() + " used twice");
    if (c["block_time"]) {
      spec.block_time = U64(c["block_time"], path + ".block_time");
      if (spec.block_time == 0) Fail(c["block_time"], path + ".block_time", "must be positive");
    }
    spec.interop_time = c["interop_time"] ? U64(c["interop_time"], path + ".interop_time") : scenario_.genesis.l2_time;
    if (c["policy"]) {
      const std::string policy = Str(c["policy"], path + ".policy");
      auto level = ParseSafetyLevel(policy);
      if (!level.ok() || *level < SafetyLevel::kUnsafe)
        Fail(c["policy"], path + ".policy", "want unsafe, cross-unsafe, safe or finalized, got '" + policy + "'");
      spec.policy = *level;
    }
    if (c["mempool"]) spec.mempool = Bool(c["mempool"], path + ".mempool");
    if (c["exec_timeout"]) spec.exec_timeout = U64(c["exec_timeout"], path + ".exec_timeout");
    if (c["seq_window"]) {
      spec.seq_window = U64(c["seq_window"], path + ".seq_window");
      if (*spec.seq_window == 0) Fail(c["seq_window"], path + ".seq_window", "must be at least 1 L1 block");
    }
    if (c["after_replacement"]) {
      const std::string rest = Str(c["after_replacement"], path + ".after_replacement");
      if (rest != "rederive" && rest != "drop")
        Fail(c["after_replacement"], path + ".after_replacement", "want rederive or drop, got '" + rest + "'");
      spec.after_replacement = rest == "drop" ? ChainSpec::AfterReplacement::kDrop : ChainSpec::AfterReplacement::kRederive;
    }
    scenario_.chains.push_back(std::move(spec));
  }
}

void Parser::ParseGames(const YAML::Node& n) {
  if (!n.IsSequence()) Fail(n, "games", "want a list");
  for (size_t i = 0; i < n.size(); ++i) {
    std::string path = "games[" + std::to_string(i) + "]";
    CheckMap(n[i], path, {"l1_head", "prestate", "poststate"});
    GameSpec g;
    g.l1_head = U64(Need(n[i], path, "l1_head"), path + ".l1_head");
    g.prestate = U64(Need(n[i], path, "prestate"), path + ".prestate");
    g.poststate = U64(Need(n[i], path, "poststate"), path + ".poststate");
    if (g.poststate <= g.prestate) Fail(n[i], path + ".poststate", "must be after prestate");
    scenario_.games.push_back(g);
  }
}

std::string Parser::ExistingMessage(const YAML::Node& n, const std::string& path) const {
  std::string name = Str(n, path);
  if (!messages_.count(name)) Fail(n, path, "no message named '" + name + "' is emitted before this point");
  return name;
}

ExecutingMessage Parser::ParseIdentifier(const YAML::Node& n, const std::string& path) const {
  CheckMap(n, path, {"chain", "chain_id", "block", "log", "timestamp", "payload", "origin"});
  if (n["chain"] && n["chain_id"]) Fail(n, path + ".chain_id", "give chain or chain_id, not both");
  ExecutingMessage msg;
  uint64_t block_time = 2;
  if (n["chain_id"]) {
    auto id = ChainID::Parse(Str(n["chain_id"], path + ".chain_id"));
    if (!id.ok()) Fail(n["chain_id"], path + ".chain_id", id.status().message());
    msg.id.chain_id = *id;
    for (const auto& c : scenario_.chains)
      if (c.id == *id) block_time = c.block_time;
  } else {
    size_t chain = Chain(Need(n, path, "chain"), path + ".chain");
    msg.id.chain_id = scenario_.chains[chain].id;
    block_time = scenario_.chains[chain].block_time;
  }
  msg.id.block_number = U64(Need(n, path, "block"), path + ".block");
  uint64_t log = U64(Need(n, path, "log"), path + ".log");
  if (log > UINT32_MAX) Fail(n["log"], path + ".log", "exceeds 32 bits");
  msg.id.log_index = static_cast<uint32_t>(log);
  msg.id.timestamp = n["timestamp"] ? U64(n["timestamp"], path + ".timestamp")
                                    : scenario_.genesis.l2_time + msg.id.block_number * block_time;
  msg.payload_hash = PayloadHash(Payload(Need(n, path, "payload"), path + ".payload"));
  msg.id.origin = n["origin"] ? Origin(n["origin"], path + ".origin") : DefaultOrigin();
  return msg;
}

LogSpec Parser::ParseLog(const YAML::Node& n, const std::string& path, bool allow_named_init) {
  LogSpec spec;
  if (n.IsMap() && n["init"]) {
    CheckMap(n, path, {"init", "payload", "origin"});
    spec.kind = LogSpec::Kind::kInit;
    spec.name = Str(n["init"], path + ".init");
    if (spec.name.empty()) Fail(n["init"], path + ".init", "must not be empty");
    if (!allow_named_init)
      Fail(n["init"], path + ".init", "a named init log needs a single block (blocks: 1 / depth: 1)");
    if (messages_.count(spec.name)) Fail(n["init"], path + ".init", "duplicate message name '" + spec.name + "'");
    spec.log.address = n["origin"] ? Origin(n["origin"], path + ".origin") : DefaultOrigin();
    if (n["payload"]) {
      spec.log.data = Payload(n["payload"], path + ".payload");
    } else {
      spec.log.topics.push_back(Keccak256(spec.name));
    }
    messages_.insert(spec.name);
    return spec;
  }
  // `every: N` (logs that may repeat over the blocks of one step): only in every N-th block.
  auto every = [&] {
    if (!n["every"]) return;
    spec.every = U64(n["every"], path + ".every");
    if (spec.every == 0) Fail(n["every"], path + ".every", "must be at least 1");
  };
  if (n.IsMap() && n["exec"]) {
    CheckMap(n, path, {"exec", "every"});
    const YAML::Node& e = n["exec"];
    if (e.IsScalar()) {
      spec.kind = LogSpec::Kind::kExecNamed;
      spec.name = ExistingMessage(e, path + ".exec");
    } else {
      spec.kind = LogSpec::Kind::kExecExplicit;
      spec.message = ParseIdentifier(e, path + ".exec");
    }
    every();
    return spec;
  }
  if (n.IsMap() && n["payload"]) {
    // An unnamed initiating log: nothing can execute it by name (an explicit identifier can), so it
    // may be repeated over several blocks.
    CheckMap(n, path, {"payload", "origin", "every"});
    spec.kind = LogSpec::Kind::kInit;
    spec.log.address = n["origin"] ? Origin(n["origin"], path + ".origin") : DefaultOrigin();
    spec.log.data = Payload(n["payload"], path + ".payload");
    every();
    return spec;
  }
  Fail(n, path, "want {init: NAME}, {payload: 0x..} or {exec: NAME | {chain, block, log, timestamp, payload, origin}}");
}

std::vector<LogSpec> Parser::ParseLogs(const YAML::Node& n, const std::string& path, bool allow_named_init) {
  if (!n.IsSequence()) Fail(n, path, "want a list of log specs");
  std::vector<LogSpec> out;
  for (size_t i = 0; i < n.size(); ++i)
    out.push_back(ParseLog(n[i], path + "[" + std::to_string(i) + "]", allow_named_init));
  return out;
}

CallStep Parser::ParseCall(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) Fail(n, path, "want a map with a method");
  std::string method = Str(Need(n, path, "method"), path + ".method");
  CallStep call;
  if (method == "tryCrossSafe") {
    CheckMap(n, path, {"method", "chain", "local_safe", "derived_from"});
    call.method = CallMethod::kTryCrossSafe;
    call.local_safe = OptU64(n, path, "local_safe");
    call.derived_from = U64(Need(n, path, "derived_from"), path + ".derived_from");
  } else if (method == "tryFinalize") {
    CheckMap(n, path, {"method", "chain", "finalized_l1"});
    call.method = CallMethod::kTryFinalize;
    call.finalized_l1 = U64(Need(n, path, "finalized_l1"), path + ".finalized_l1");
  } else if (method == "updateLocalUnsafe") {
    CheckMap(n, path, {"method", "chain", "unsafe"});
    call.method = CallMethod::kUpdateLocalUnsafe;
    call.unsafe = OptU64(n, path, "unsafe");
  } else if (method == "getCrossUnsafe") {
    CheckMap(n, path, {"method", "chain", "max_number"});
    call.method = CallMethod::kGetCrossUnsafe;
    call.max_number = U64(Need(n, path, "max_number"), path + ".max_number");
  } else if (method == "checkMessage") {
    CheckMap(n, path, {"method", "message", "identifier"});
    call.method = CallMethod::kCheckMessage;
    LogSpec spec;
    if (n["message"] && n["identifier"]) Fail(n, path + ".identifier", "give message or identifier, not both");
    if (n["message"]) {
      spec.kind = LogSpec::Kind::kExecNamed;
      spec.name = ExistingMessage(n["message"], path + ".message");
    } else {
      spec.kind = LogSpec::Kind::kExecExplicit;
      spec.message = ParseIdentifier(Need(n, path, "identifier"), path + ".identifier");
    }
    call.message = std::move(spec);
  } else {
    Fail(n["method"], path + ".method",
         "unknown method '" + method +
             "' (tryCrossSafe, tryFinalize, updateLocalUnsafe, checkMessage, getCrossUnsafe)");
  }
  if (call.method != CallMethod::kCheckMessage) call.chain = Chain(Need(n, path, "chain"), path + ".chain");
  last_call_ = call.method;
  return call;
}

ExpectStep Parser::ParseExpect(const YAML::Node& n, const std::string& path) const {
  CheckMap(n, path,
           {"chain", "unsafe", "cross_unsafe", "local_safe", "cross_safe", "finalized", "block", "replaced", "logs",
            "message", "level", "result", "error", "pool"});
  auto only = [&](std::initializer_list<const char*> keys) { CheckMap(n, path, keys); };
  if (n["result"] || n["error"]) {
    if (!last_call_) Fail(n, path, "an expectation about a call result needs a `call` step before it");
  }
  if (n["result"]) {
    only({"result"});
    const YAML::Node& r = n["result"];
    std::string rp = path + ".result";
    ResultExpect e;
    if (r.IsScalar()) {
      if (r.Scalar() != "ok") Fail(r, rp, "want ok or a map");
      e.ok_only = true;
      return {e};
    }
    switch (*last_call_) {
      case CallMethod::kTryCrossSafe: CheckMap(r, rp, {"status", "cross_safe", "local_safe"}); break;
      case CallMethod::kTryFinalize:
      case CallMethod::kGetCrossUnsafe: CheckMap(r, rp, {"block"}); break;
      case CallMethod::kCheckMessage: CheckMap(r, rp, {"level"}); break;
      case CallMethod::kUpdateLocalUnsafe: Fail(r, rp, "updateLocalUnsafe returns nothing: use `result: ok`");
    }
    if (r["status"]) {
      std::string s = Str(r["status"], rp + ".status");
      if (s != "accept" && s != "unknown" && s != "invalid") Fail(r["status"], rp + ".status", "want accept, unknown or invalid");
      e.status = s;
    }
    e.cross_safe = OptU64(r, rp, "cross_safe");
    e.local_safe = OptU64(r, rp, "local_safe");
    e.block = OptU64(r, rp, "block");
    if (r["level"]) e.level = Level(r["level"], rp + ".level");
    return {e};
  }
  if (n["error"]) {
    only({"error"});
    std::string name = Str(n["error"], path + ".error");
    auto code = CodeFromName(name);
    if (!code || *code == Code::kOk) Fail(n["error"], path + ".error", "unknown error code '" + name + "'");
    return {ErrorExpect{*code}};
  }
  if (n["message"]) {
    only({"message", "level"});
    MessageExpect e;
    e.message = ExistingMessage(n["message"], path + ".message");
    e.level = Level(Need(n, path, "level"), path + ".level");
    return {e};
  }
  size_t chain = Chain(Need(n, path, "chain"), path + ".chain");
  if (n["pool"]) {
    only({"chain", "pool"});
    if (!scenario_.chains[chain].mempool)
      Fail(n["chain"], path + ".chain", "chain '" + scenario_.chains[chain].name + "' has no tx pool (set mempool: true)");
    return {PoolExpect{chain, U64(n["pool"], path + ".pool")}};
  }
  if (n["block"] || n["replaced"] || n["logs"]) {
    only({"chain", "block", "replaced", "logs"});
    ReplacedExpect e;
    e.chain = chain;
    e.block = U64(Need(n, path, "block"), path + ".block");
    if (n["replaced"]) e.replaced = Bool(n["replaced"], path + ".replaced");
    e.logs = OptU64(n, path, "logs");
    e.check_replaced = n["replaced"] || !e.logs;
    return {e};
  }
  only({"chain", "unsafe", "cross_unsafe", "local_safe", "cross_safe", "finalized"});
  HeadsExpect e;
  e.chain = chain;
  e.unsafe = OptU64(n, path, "unsafe");
  e.cross_unsafe = OptU64(n, path, "cross_unsafe");
  e.local_safe = OptU64(n, path, "local_safe");
  e.cross_safe = OptU64(n, path, "cross_safe");
  e.finalized = OptU64(n, path, "finalized");
  if (!e.unsafe && !e.cross_unsafe && !e.local_safe && !e.cross_safe && !e.finalized)
    Fail(n, path, "name at least one head: unsafe, cross_unsafe, local_safe, cross_safe, finalized");
  return {e};
}

void Parser::CheckStepAllowed(const YAML::Node& n, const std::string& kind) const {
  bool manual_only = kind == "derive" || kind == "sync";
  if (manual_only && scenario_.nodes != NodesMode::kManual)
    Fail(n, kind, "only with `nodes: manual` (with auto nodes the runner derives and syncs after every step)");
}

Step Parser::ParseStep(const YAML::Node& n, size_t index) {
  std::string where = "steps[" + std::to_string(index - 1) + "]";
  if (!n.IsMap() || n.size() != 1) Fail(n, where, "want a map with exactly one step, e.g. {mine: 1}");
  const std::string kind = Str(n.begin()->first, where);
  const YAML::Node body = n.begin()->second;
  const std::string path = kind;
  Step step;
  step.index = index;
  step.line = n.Mark().line + 1;
  step.kind = kind;
  {
    YAML::Emitter e;
    e << YAML::Flow << n;
    std::string s = e.c_str();
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
    step.label = s;
  }
  CheckStepAllowed(n.begin()->first, kind);
  if (kind == "build") {
    CheckMap(body, path, {"chain", "blocks", "logs", "force"});
    BuildStep s;
    s.chain = Chain(Need(body, path, "chain"), path + ".chain");
    if (body["blocks"]) s.blocks = U64(body["blocks"], path + ".blocks");
    if (s.blocks == 0) Fail(body["blocks"], path + ".blocks", "must be at least 1");
    if (body["logs"]) s.logs = ParseLogs(body["logs"], path + ".logs", s.blocks == 1);
    if (body["force"]) s.force = Bool(body["force"], path + ".force");
    CountL2(body["blocks"] ? body["blocks"] : body, path + ".blocks", s.chain, s.blocks, s.logs, true);
    step.action = std::move(s);
  } else if (kind == "batch") {
    CheckMap(body, path, {"chain", "through"});
    BatchStep s;
    s.chain = Chain(Need(body, path, "chain"), path + ".chain");
    s.through = OptU64(body, path, "through");
    step.action = s;
  } else if (kind == "drop_batches") {
    CheckMap(body, path, {"chain"});
    step.action = DropBatchesStep{Chain(Need(body, path, "chain"), path + ".chain")};
  } else if (kind == "batch_divergent") {
    CheckMap(body, path, {"chain", "block", "logs", "force"});
    BatchDivergentStep s;
    s.chain = Chain(Need(body, path, "chain"), path + ".chain");
    s.block = U64(Need(body, path, "block"), path + ".block");
    if (s.block == 0) Fail(body["block"], path + ".block", "must be at least 1 (block 0 is genesis)");
    if (body["logs"]) s.logs = ParseLogs(body["logs"], path + ".logs", true);
    if (body["force"]) s.force = Bool(body["force"], path + ".force");
    CountL2(body["block"], path + ".block", s.chain, 1, s.logs, false);
    step.action = std::move(s);
  } else if (kind == "mine") {
    MineStep s;
    s.count = U64(body, path);
    if (s.count == 0) Fail(body, path, "must be at least 1");
    Count(body, path, l1_blocks_, s.count, kMaxL1BlocksPerRun, "L1 blocks");
    if (l1_blocks_ > (UINT64_MAX - scenario_.genesis.l1_time) / scenario_.genesis.l1_block_time)
      Fail(body, path, "L1 block " + std::to_string(l1_blocks_) +
                           " would have a timestamp past 2^64-1 (genesis.l1_time + number * l1_block_time)");
    step.action = s;
  } else if (kind == "derive") {
    CheckMap(body, path, {"chain", "to_l1"});
    DeriveStep s;
    s.chain = Chain(Need(body, path, "chain"), path + ".chain");
    s.to_l1 = OptU64(body, path, "to_l1");
    step.action = s;
  } else if (kind == "sync") {
    CheckMap(body, path, {"chain"});
    step.action = SyncStep{Chain(Need(body, path, "chain"), path + ".chain")};
  } else if (kind == "reorg_l1") {
    CheckMap(body, path, {"depth", "fork", "keep_batches"});
    ReorgL1Step s;
    s.depth = U64(Need(body, path, "depth"), path + ".depth");
    if (s.depth == 0) Fail(body["depth"], path + ".depth", "must be at least 1");
    Count(body["depth"], path + ".depth", l1_blocks_, s.depth, kMaxL1BlocksPerRun, "L1 blocks");
    s.fork = Str(Need(body, path, "fork"), path + ".fork");
    if (s.fork.empty()) Fail(body["fork"], path + ".fork", "must not be empty");
    if (body["keep_batches"]) s.keep_batches = Bool(body["keep_batches"], path + ".keep_batches");
    step.action = s;
  } else if (kind == "finalize_l1") {
    CheckMap(body, path, {"number", "depth"});
    FinalizeL1Step s;
    s.number = OptU64(body, path, "number");
    s.depth = OptU64(body, path, "depth");
    if (s.number.has_value() == s.depth.has_value()) Fail(body, path, "give exactly one of number and depth");
    step.action = s;
  } else if (kind == "reorg_unsafe") {
    CheckMap(body, path, {"chain", "depth", "logs", "force"});
    ReorgUnsafeStep s;
    s.chain = Chain(Need(body, path, "chain"), path + ".chain");
    s.depth = U64(Need(body, path, "depth"), path + ".depth");
    if (s.depth == 0) Fail(body["depth"], path + ".depth", "must be at least 1");
    if (body["logs"]) s.logs = ParseLogs(body["logs"], path + ".logs", s.depth == 1);
    if (body["force"]) s.force = Bool(body["force"], path + ".force");
    CountL2(body["depth"], path + ".depth", s.chain, s.depth, s.logs, false);
    step.action = std::move(s);
  } else if (kind == "restart") {
    if (!body.IsNull()) CheckMap(body, path, {});
    step.action = RestartStep{};
  } else if (kind == "crash") {
    CheckMap(body, path, {"torn_bytes", "db"});
    CrashStep s;
    s.torn_bytes = U64(Need(body, path, "torn_bytes"), path + ".torn_bytes");
    if (body["db"]) {
      std::string db = Str(body["db"], path + ".db");
      if (db == "safe") s.db = CrashDb::kSafe;
      else if (db == "events") s.db = CrashDb::kEvents;
      else Fail(body["db"], path + ".db", "want safe or events, got '" + db + "'");
    }
    step.action = s;
  } else if (kind == "fault") {
    CheckMap(body, path, {"kind", "at", "db", "chain"});
    FaultStep s;
    const std::string fault = Str(Need(body, path, "kind"), path + ".kind");
    const FaultKind kinds[] = {FaultKind::kCrash, FaultKind::kFsyncError, FaultKind::kReadError, FaultKind::kNoSpace,
                               FaultKind::kBitFlip};
    bool known = false;
    for (FaultKind k : kinds)
      if (fault == FaultKindName(k)) s.kind = k, known = true;
    if (!known) Fail(body["kind"], path + ".kind", "want crash, fsync_error, read_error, no_space or bit_flip, got '" + fault + "'");
    if (s.kind == FaultKind::kBitFlip) {
      if (body["at"]) Fail(body["at"], path + ".at", "bit_flip takes db (and chain), not at");
      const std::string db = body["db"] ? Str(body["db"], path + ".db") : "safe";
      if (db == "safe") s.db = DbFile::kSafe;
      else if (db == "events") s.db = DbFile::kEvents;
      else if (db == "replacements") s.db = DbFile::kReplacements;
      else Fail(body["db"], path + ".db", "want safe, events or replacements, got '" + db + "'");
      if (s.db == DbFile::kSafe && body["chain"]) Fail(body["chain"], path + ".chain", "db: safe has no chain");
      if (s.db != DbFile::kSafe) s.chain = Chain(Need(body, path, "chain"), path + ".chain");
    } else {
      if (body["db"]) Fail(body["db"], path + ".db", "only bit_flip takes db");
      if (body["chain"]) Fail(body["chain"], path + ".chain", "only bit_flip takes chain");
      if (body["at"]) s.at = U64(body["at"], path + ".at");
      if (s.at == 0 || s.at > 1000000) Fail(body["at"], path + ".at", "must be 1 to 1000000");
    }
    step.action = s;
  } else if (kind == "pool") {
    CheckMap(body, path, {"chain"});
    PoolStep s{Chain(Need(body, path, "chain"), path + ".chain")};
    if (!scenario_.chains[s.chain].mempool)
      Fail(body["chain"], path + ".chain", "chain '" + scenario_.chains[s.chain].name + "' has no tx pool (set mempool: true)");
    step.action = s;
  } else if (kind == "call") {
    step.action = ParseCall(body, path);
  } else if (kind == "expect") {
    step.action = ParseExpect(body, path);
  } else {
    Fail(n.begin()->first, where,
         "unknown step '" + kind +
             "' (build, batch, batch_divergent, drop_batches, mine, derive, sync, reorg_l1, finalize_l1, reorg_unsafe, "
             "restart, crash, fault, pool, call, expect)");
  }
  return step;
}

}  // namespace

std::string Printable(std::string_view text) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  auto escape = [&](unsigned char b) { out += std::string("\\x") + kHex[b >> 4] + kHex[b & 15]; };
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7f) escape(b);
      else out += static_cast<char>(b);
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(text.substr(i));
    // C1 controls (U+0080..U+009F) act on terminals as their 8-bit forms do.
    if (n == 0 || (n == 2 && b == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0)) {
      for (size_t k = 0; k < std::max<size_t>(n, 1); ++k) escape(static_cast<unsigned char>(text[i + k]));
      i += std::max<size_t>(n, 1);
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

namespace {

// Where `text` stops being a text file a scenario can be: the first NUL or other control byte
// (tab, line feed and carriage return excepted), or a byte sequence that is not UTF-8.
std::optional<std::string> NotText(std::string_view text, const std::string& file) {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    size_t n = 1;
    bool bad = false;
    if (b == '\n') {
      ++line;
      line_start = i + 1;
    } else if (b < 0x80) {
      bad = (b < 0x20 && b != '\t' && b != '\r') || b == 0x7f;
    } else {
      n = Utf8SequenceLength(text.substr(i));
      bad = n == 0;
    }
    if (bad) {
      static const char* const kHex = "0123456789abcdef";
      return file + ":" + std::to_string(line) + ": not a text file: byte 0x" + kHex[b >> 4] + kHex[b & 15] +
             " at column " + std::to_string(i - line_start + 1) + " (a scenario is YAML in UTF-8)";
    }
    i += n;
  }
  return std::nullopt;
}

// The line (1-based) of the first line at or before `line` whose indentation holds a tab, preferring
// `line` itself; 0 if none. YAML indents with spaces only.
int TabIndentedLine(std::string_view text, int line) {
  int found = 0;
  int n = 1;
  for (size_t start = 0; start <= text.size() && n <= line; ++n) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(start, end - start);
    const size_t indent_end = l.find_first_not_of(" \t");
    const std::string_view indent = l.substr(0, indent_end == std::string_view::npos ? l.size() : indent_end);
    if (indent.find('\t') != std::string_view::npos && (found == 0 || n == line)) found = n;
    start = end + 1;
  }
  return found;
}

}  // namespace

Result<Scenario> ParseScenario(const std::string& text, const std::string& file) {
  if (auto why = NotText(text, file)) return InvalidArgument(Printable(*why));
  try {
    YAML::Node root = YAML::Load(text);
    return Parser(file).Parse(root);
  } catch (const ParseError& e) {
    return InvalidArgument(Printable(e.message));
  } catch (const YAML::DeepRecursion& e) {
    return InvalidArgument(Printable(file + ":" + std::to_string(e.mark.line + 1) +
                                     ": (yaml): collections nested too deeply (the reader stops at depth " +
                                     std::to_string(e.depth()) + ")"));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line + 1;
    if (int tab = TabIndentedLine(text, line))
      return InvalidArgument(Printable(file + ":" + std::to_string(tab) +
                                       ": (yaml): a tab in the indentation; YAML indents with spaces only"));
    return InvalidArgument(Printable(file + ":" + std::to_string(line) + ": (yaml): " + e.msg));
  }
}

Result<Scenario> ParseScenarioFile(const std::filesystem::path& path) {
  const std::string file = Printable(path.string());
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) return IOError(file + ": no such file");
  if (ec) return IOError(file + ": cannot read: " + ec.message());
  if (std::filesystem::is_directory(status)) return IOError(file + ": is a directory, not a scenario file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError(file + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IOError(file + ": cannot read");
  return ParseScenario(text.str(), path.string());
}

const char* FaultKindName(FaultKind k) {
  switch (k) {
    case FaultKind::kCrash: return "crash";
    case FaultKind::kFsyncError: return "fsync_error";
    case FaultKind::kReadError: return "read_error";
    case FaultKind::kNoSpace: return "no_space";
    case FaultKind::kBitFlip: return "bit_flip";
  }
  return "?";
}

const char* DbFileName(DbFile f) {
  switch (f) {
    case DbFile::kSafe: return "safe";
    case DbFile::kEvents: return "events";
    case DbFile::kReplacements: return "replacements";
  }
  return "?";
}

}  // namespace supersafe::sim
