#include "sim/scenario_reader.h"

#include <algorithm>

#include "core/crypto.h"

namespace supersafe::sim {

void ScenarioReader::Fail(const YAML::Node& at, const std::string& key, const std::string& what) const {
  int line = at.Mark().line >= 0 ? at.Mark().line + 1 : 0;
  throw ScenarioError{file_ + ":" + std::to_string(line) + ": " + key + ": " + what};
}

void ScenarioReader::CheckMap(const YAML::Node& node, const std::string& path,
                              std::initializer_list<const char*> allowed) const {
  CheckMap(node, path, std::vector<std::string>(allowed.begin(), allowed.end()));
}

void ScenarioReader::CheckMap(const YAML::Node& node, const std::string& path,
                              const std::vector<std::string>& allowed) const {
  if (!node.IsMap()) Fail(node, path, "want a map");
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) Fail(kv.first, path, "keys must be plain words");
    const std::string key = kv.first.Scalar();
    bool known = false;
    for (const std::string& a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      Fail(kv.first, Join(path, key), "unknown key (allowed: " + list + ")");
    }
    if (!seen.insert(key).second) Fail(kv.first, Join(path, key), "key given twice");
  }
}

std::string ScenarioReader::Str(const YAML::Node& n, const std::string& path) const {
  if (!n.IsScalar()) Fail(n, path, "want a scalar");
  return n.Scalar();
}

uint64_t ScenarioReader::U64(const YAML::Node& n, const std::string& path) const {
  auto v = ParseU64(Str(n, path), "number");
  if (!v.ok()) Fail(n, path, "want a non-negative 64-bit integer, got '" + n.Scalar() + "'");
  return *v;
}

bool ScenarioReader::Bool(const YAML::Node& n, const std::string& path) const {
  std::string s = Str(n, path);
  if (s == "true") return true;
  if (s == "false") return false;
  Fail(n, path, "want true or false, got '" + s + "'");
}

std::optional<uint64_t> ScenarioReader::OptU64(const YAML::Node& map, const std::string& path, const char* key) const {
  if (!map[key]) return std::nullopt;
  return U64(map[key], Join(path, key));
}

YAML::Node ScenarioReader::Need(const YAML::Node& map, const std::string& path, const char* key) const {
  YAML::Node n = map[key];
  if (!n) Fail(map, Join(path, key), "required");
  return n;
}

size_t ScenarioReader::Chain(const YAML::Node& n, const std::string& path) const {
  std::string name = Str(n, path);
  auto idx = scenario_.ChainIndex(name);
  if (!idx) Fail(n, path, "no chain named '" + name + "'");
  return *idx;
}

Address ScenarioReader::Origin(const YAML::Node& n, const std::string& path) const {
  auto a = Address::Parse(Str(n, path), "origin");
  if (!a.ok()) Fail(n, path, a.status().message());
  return *a;
}

Bytes ScenarioReader::Payload(const YAML::Node& n, const std::string& path, std::optional<std::string>* name) const {
  std::string s = Str(n, path);
  if (s.rfind("0x", 0) == 0) {
    auto b = ParseHexBytes(s, "payload");
    if (!b.ok()) Fail(n, path, b.status().message());
    return *b;
  }
  if (name != nullptr) *name = s;
  Hash h = Keccak256(s);
  return Bytes(h.bytes.begin(), h.bytes.end());
}

SafetyLevel ScenarioReader::Level(const YAML::Node& n, const std::string& path) const {
  auto l = ParseSafetyLevel(Str(n, path));
  if (!l.ok()) Fail(n, path, "want finalized, safe, cross-unsafe, unsafe, unknown or conflicts");
  return *l;
}

std::string ScenarioReader::ExistingMessage(const YAML::Node& n, const std::string& path) const {
  std::string name = Str(n, path);
  if (!messages_.count(name)) Fail(n, path, "no message named '" + name + "' is emitted before this point");
  return name;
}

LogSpec ScenarioReader::Identifier(const YAML::Node& n, const std::string& path) const {
  CheckMap(n, path, {"chain", "chain_id", "block", "log", "timestamp", "payload", "origin"});
  if (n["chain"] && n["chain_id"]) Fail(n, path + ".chain_id", "give chain or chain_id, not both");
  ChainID id;
  if (n["chain_id"]) {
    auto parsed = ChainID::Parse(Str(n["chain_id"], path + ".chain_id"));
    if (!parsed.ok()) Fail(n["chain_id"], path + ".chain_id", parsed.status().message());
    id = *parsed;
  } else {
    id = scenario_.chains[Chain(Need(n, path, "chain"), path + ".chain")].id;
  }
  const uint64_t block = U64(Need(n, path, "block"), path + ".block");
  const uint64_t log = U64(Need(n, path, "log"), path + ".log");
  if (log > UINT32_MAX) Fail(n["log"], path + ".log", "exceeds 32 bits");
  const uint64_t timestamp =
      n["timestamp"] ? U64(n["timestamp"], path + ".timestamp") : scenario_.DefaultTimestamp(id, block);
  std::optional<std::string> payload_name;
  Bytes payload = Payload(Need(n, path, "payload"), path + ".payload", &payload_name);
  const Address origin = n["origin"] ? Origin(n["origin"], path + ".origin") : DefaultOrigin();
  return LogSpec::ExecExplicit(id, block, static_cast<uint32_t>(log), timestamp, std::move(payload),
                               std::move(payload_name), origin);
}

LogSpec ScenarioReader::Log(const YAML::Node& n, const std::string& path, bool allow_named_init) {
  if (n.IsMap() && n["init"]) {
    CheckMap(n, path, {"init", "payload", "origin"});
    const std::string name = Str(n["init"], path + ".init");
    if (name.empty()) Fail(n["init"], path + ".init", "must not be empty");
    if (!allow_named_init) Fail(n["init"], path + ".init", "a named init log needs a single block (blocks: 1 / depth: 1)");
    if (messages_.count(name)) Fail(n["init"], path + ".init", "duplicate message name '" + name + "'");
    LogSpec spec = LogSpec::Init(name);
    if (n["origin"]) spec.log.address = Origin(n["origin"], path + ".origin");
    if (n["payload"]) {
      spec.payload = Payload(n["payload"], path + ".payload", &spec.payload_name);
      spec.log.topics.clear();
      spec.log.data = spec.payload;
    }
    messages_.insert(name);
    return spec;
  }
  // `every: N` (logs that may repeat over the blocks of one step): only in every N-th block.
  auto every = [&](LogSpec& spec) {
    if (!n["every"]) return;
    spec.every = U64(n["every"], path + ".every");
    if (spec.every == 0) Fail(n["every"], path + ".every", "must be at least 1");
  };
  if (n.IsMap() && n["exec"]) {
    CheckMap(n, path, {"exec", "every"});
    const YAML::Node& e = n["exec"];
    LogSpec spec = e.IsScalar() ? LogSpec::ExecNamed(ExistingMessage(e, path + ".exec")) : Identifier(e, path + ".exec");
    every(spec);
    return spec;
  }
  if (n.IsMap() && n["payload"]) {
    // An unnamed initiating log: nothing can execute it by name (an explicit identifier can), so it
    // may be repeated over several blocks.
    CheckMap(n, path, {"payload", "origin", "every"});
    std::optional<std::string> payload_name;
    Bytes payload = Payload(n["payload"], path + ".payload", &payload_name);
    LogSpec spec = LogSpec::Unnamed(std::move(payload), std::move(payload_name),
                                    n["origin"] ? Origin(n["origin"], path + ".origin") : DefaultOrigin());
    every(spec);
    return spec;
  }
  Fail(n, path, "want {init: NAME}, {payload: 0x..} or {exec: NAME | {chain, block, log, timestamp, payload, origin}}");
}

std::vector<LogSpec> ScenarioReader::Logs(const YAML::Node& n, const std::string& path, bool allow_named_init) {
  if (!n.IsSequence()) Fail(n, path, "want a list of log specs");
  std::vector<LogSpec> out;
  for (size_t i = 0; i < n.size(); ++i) out.push_back(Log(n[i], path + "[" + std::to_string(i) + "]", allow_named_init));
  return out;
}

void ScenarioReader::Count(const YAML::Node& at, const std::string& key, uint64_t& total, uint64_t amount,
                           uint64_t limit, const char* what) const {
  if (amount > limit || total > limit - amount)
    Fail(at, key,
         "more than a run can do: " + std::to_string(amount) + " " + what + " here and " + std::to_string(total) +
             " before; the limit is " + std::to_string(limit) + " " + what + " a run");
  total += amount;
}

void ScenarioReader::CountL1(const YAML::Node& at, const std::string& key, uint64_t blocks, bool mined) {
  Count(at, key, l1_blocks_, blocks, kMaxL1BlocksPerRun, "L1 blocks");
  if (!mined) return;
  const GenesisSpec& g = scenario_.genesis;
  if (l1_blocks_ > (UINT64_MAX - g.l1_time) / g.l1_block_time)
    Fail(at, key, "L1 block " + std::to_string(l1_blocks_) +
                      " would have a timestamp past 2^64-1 (genesis.l1_time + number * l1_block_time)");
}

void ScenarioReader::CountL2(const YAML::Node& at, const std::string& key, size_t chain, uint64_t blocks,
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

void ScenarioReader::CountForcedBlocks(const YAML::Node& chains) {
  using U128 = unsigned __int128;
  const GenesisSpec& g = scenario_.genesis;
  const U128 l1_end = static_cast<U128>(g.l1_time) + static_cast<U128>(l1_blocks_) * g.l1_block_time;
  for (size_t i = 0; i < scenario_.chains.size(); ++i) {
    if (!scenario_.chains[i].seq_window) continue;
    const U128 catch_up = l1_end > g.l2_time ? (l1_end - g.l2_time) / scenario_.chains[i].block_time + 1 : 0;
    const uint64_t forced = static_cast<uint64_t>(std::min<U128>(catch_up + l1_blocks_, UINT64_MAX));
    if (forced > kMaxL2BlocksPerRun || l2_blocks_ > kMaxL2BlocksPerRun - forced)
      Fail(chains[i]["seq_window"], "chains[" + std::to_string(i) + "].seq_window",
           "more than a run can do: up to " + std::to_string(forced) +
               " forced empty blocks (one per L1 block, and as many as the chain's time takes to catch up with "
               "L1's) and " + std::to_string(l2_blocks_) + " L2 blocks before; the limit is " +
               std::to_string(kMaxL2BlocksPerRun) + " L2 blocks a run");
    l2_blocks_ += forced;
  }
}

}  // namespace supersafe::sim
