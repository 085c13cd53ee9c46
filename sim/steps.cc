#include "sim/steps.h"

#include <algorithm>

#include "sim/scenario_reader.h"
#include "sim/step_forms.h"

namespace supersafe::sim {

std::string YamlScalar(std::string_view text) {
  static constexpr std::string_view kSpecial[] = {"null", "Null", "NULL", "~", "true", "True", "TRUE", "false",
                                                  "False", "FALSE", "yes", "no", "on", "off"};
  const bool plain_chars = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
  if (plain_chars && text.front() != '-' && text.front() != '.' &&
      std::find(std::begin(kSpecial), std::end(kSpecial), text) == std::end(kSpecial))
    return std::string(text);
  static const char* const kHex = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') out += std::string("\\") + ch;
    else if (ch == '\n') out += "\\n";
    else if (b < 0x20 || b == 0x7f) out += std::string("\\x") + kHex[b >> 4] + kHex[b & 15];
    else out += ch;
  }
  return out + "\"";
}

namespace {

// An entry of the table for the step type T.
template <class T>
StepKind Kind(std::string_view name, std::vector<std::string_view> keys,
              T (*parse)(ScenarioReader&, const YAML::Node&, const std::string&),
              std::string (*render)(const T&, const Scenario&), bool manual_only = false) {
  StepKind k;
  k.name = name;
  k.keys = std::move(keys);
  k.manual_only = manual_only;
  k.parse = [parse](ScenarioReader& r, const YAML::Node& body, const std::string& path) -> StepAction {
    return parse(r, body, path);
  };
  k.holds = [](const StepAction& a) { return std::holds_alternative<T>(a); };
  k.render = [render](const StepAction& a, const Scenario& sc) { return render(std::get<T>(a), sc); };
  return k;
}

const std::string& ChainName(const Scenario& sc, size_t chain) { return sc.chains.at(chain).name; }

// --- build, reorg_unsafe -------------------------------------------------------------------------

BuildStep ParseBuild(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"chain", "blocks", "logs", "force"});
  BuildStep s;
  s.chain = r.Chain(r.Need(body, path, "chain"), path + ".chain");
  if (body["blocks"]) s.blocks = r.U64(body["blocks"], path + ".blocks");
  if (s.blocks == 0) r.Fail(body["blocks"], path + ".blocks", "must be at least 1");
  if (body["logs"]) s.logs = r.Logs(body["logs"], path + ".logs", s.blocks == 1);
  if (body["force"]) s.force = r.Bool(body["force"], path + ".force");
  r.CountL2(body["blocks"] ? body["blocks"] : body, path + ".blocks", s.chain, s.blocks, s.logs, true);
  return s;
}
std::string RenderBuild(const BuildStep& s, const Scenario& sc) {
  FlowMap m;
  m.Word("chain", ChainName(sc, s.chain));
  if (s.blocks != 1) m.Num("blocks", s.blocks);
  if (!s.logs.empty()) m.Raw("logs", RenderLogs(s.logs, sc));
  if (s.force) m.Bool("force", true);
  return m.Text();
}

ReorgUnsafeStep ParseReorgUnsafe(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"chain", "depth", "logs", "force"});
  ReorgUnsafeStep s;
  s.chain = r.Chain(r.Need(body, path, "chain"), path + ".chain");
  s.depth = r.U64(r.Need(body, path, "depth"), path + ".depth");
  if (s.depth == 0) r.Fail(body["depth"], path + ".depth", "must be at least 1");
  if (body["logs"]) s.logs = r.Logs(body["logs"], path + ".logs", s.depth == 1);
  if (body["force"]) s.force = r.Bool(body["force"], path + ".force");
  r.CountL2(body["depth"], path + ".depth", s.chain, s.depth, s.logs, false);
  return s;
}
std::string RenderReorgUnsafe(const ReorgUnsafeStep& s, const Scenario& sc) {
  FlowMap m;
  m.Word("chain", ChainName(sc, s.chain)).Num("depth", s.depth);
  if (!s.logs.empty()) m.Raw("logs", RenderLogs(s.logs, sc));
  if (s.force) m.Bool("force", true);
  return m.Text();
}

BatchDivergentStep ParseBatchDivergent(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"chain", "block", "logs", "force"});
  BatchDivergentStep s;
  s.chain = r.Chain(r.Need(body, path, "chain"), path + ".chain");
  s.block = r.U64(r.Need(body, path, "block"), path + ".block");
  if (s.block == 0) r.Fail(body["block"], path + ".block", "must be at least 1 (block 0 is genesis)");
  if (body["logs"]) s.logs = r.Logs(body["logs"], path + ".logs", true);
  if (body["force"]) s.force = r.Bool(body["force"], path + ".force");
  r.CountL2(body["block"], path + ".block", s.chain, 1, s.logs, false);
  return s;
}
std::string RenderBatchDivergent(const BatchDivergentStep& s, const Scenario& sc) {
  FlowMap m;
  m.Word("chain", ChainName(sc, s.chain)).Num("block", s.block);
  if (!s.logs.empty()) m.Raw("logs", RenderLogs(s.logs, sc));
  if (s.force) m.Bool("force", true);
  return m.Text();
}

// --- steps that name a chain and little else -------------------------------------------------------

BatchStep ParseBatch(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"chain", "through"});
  BatchStep s;
  s.chain = r.Chain(r.Need(body, path, "chain"), path + ".chain");
  s.through = r.OptU64(body, path, "through");
  return s;
}
std::string RenderBatch(const BatchStep& s, const Scenario& sc) {
  FlowMap m;
  m.Word("chain", ChainName(sc, s.chain));
  if (s.through) m.Num("through", *s.through);
  return m.Text();
}

// A step whose body is `{chain: NAME}` only.
template <class T>
T ParseChainOnly(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"chain"});
  return T{r.Chain(r.Need(body, path, "chain"), path + ".chain")};
}
template <class T>
std::string RenderChainOnly(const T& s, const Scenario& sc) {
  return FlowMap().Word("chain", ChainName(sc, s.chain)).Text();
}

PoolStep ParsePool(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  PoolStep s = ParseChainOnly<PoolStep>(r, body, path);
  const ChainSpec& c = r.scenario().chains[s.chain];
  if (!c.mempool) r.Fail(body["chain"], path + ".chain", "chain '" + c.name + "' has no tx pool (set mempool: true)");
  return s;
}

DeriveStep ParseDerive(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"chain", "to_l1"});
  DeriveStep s;
  s.chain = r.Chain(r.Need(body, path, "chain"), path + ".chain");
  s.to_l1 = r.OptU64(body, path, "to_l1");
  return s;
}
std::string RenderDerive(const DeriveStep& s, const Scenario& sc) {
  FlowMap m;
  m.Word("chain", ChainName(sc, s.chain));
  if (s.to_l1) m.Num("to_l1", *s.to_l1);
  return m.Text();
}

// --- L1 -------------------------------------------------------------------------------------------

MineStep ParseMine(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  MineStep s;
  s.count = r.U64(body, path);
  if (s.count == 0) r.Fail(body, path, "must be at least 1");
  r.CountL1(body, path, s.count, true);
  return s;
}
std::string RenderMine(const MineStep& s, const Scenario&) { return std::to_string(s.count); }

ReorgL1Step ParseReorgL1(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"depth", "fork", "keep_batches"});
  ReorgL1Step s;
  s.depth = r.U64(r.Need(body, path, "depth"), path + ".depth");
  if (s.depth == 0) r.Fail(body["depth"], path + ".depth", "must be at least 1");
  r.CountL1(body["depth"], path + ".depth", s.depth, false);
  s.fork = r.Str(r.Need(body, path, "fork"), path + ".fork");
  if (s.fork.empty()) r.Fail(body["fork"], path + ".fork", "must not be empty");
  if (body["keep_batches"]) s.keep_batches = r.Bool(body["keep_batches"], path + ".keep_batches");
  return s;
}
std::string RenderReorgL1(const ReorgL1Step& s, const Scenario&) {
  FlowMap m;
  m.Num("depth", s.depth).Word("fork", s.fork);
  if (s.keep_batches) m.Bool("keep_batches", true);
  return m.Text();
}

FinalizeL1Step ParseFinalizeL1(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"number", "depth"});
  FinalizeL1Step s;
  s.number = r.OptU64(body, path, "number");
  s.depth = r.OptU64(body, path, "depth");
  if (s.number.has_value() == s.depth.has_value()) r.Fail(body, path, "give exactly one of number and depth");
  return s;
}
std::string RenderFinalizeL1(const FinalizeL1Step& s, const Scenario&) {
  return s.number ? FlowMap().Num("number", *s.number).Text() : FlowMap().Num("depth", s.depth.value_or(0)).Text();
}

// --- the supervisor process and its disk ------------------------------------------------------------

RestartStep ParseRestart(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  if (!body.IsNull()) r.CheckMap(body, path, {});
  return {};
}
std::string RenderRestart(const RestartStep&, const Scenario&) { return "{}"; }

CrashStep ParseCrash(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"torn_bytes", "db"});
  CrashStep s;
  s.torn_bytes = r.U64(r.Need(body, path, "torn_bytes"), path + ".torn_bytes");
  if (body["db"]) {
    std::string db = r.Str(body["db"], path + ".db");
    if (db == "safe") s.db = CrashDb::kSafe;
    else if (db == "events") s.db = CrashDb::kEvents;
    else r.Fail(body["db"], path + ".db", "want safe or events, got '" + db + "'");
  }
  return s;
}
std::string RenderCrash(const CrashStep& s, const Scenario&) {
  FlowMap m;
  m.Num("torn_bytes", s.torn_bytes);
  if (s.db == CrashDb::kEvents) m.Raw("db", "events");
  return m.Text();
}

FaultStep ParseFault(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"kind", "at", "db", "chain"});
  FaultStep s;
  const std::string fault = r.Str(r.Need(body, path, "kind"), path + ".kind");
  const FaultKind kinds[] = {FaultKind::kCrash, FaultKind::kFsyncError, FaultKind::kReadError, FaultKind::kNoSpace,
                             FaultKind::kBitFlip};
  bool known = false;
  for (FaultKind k : kinds)
    if (fault == FaultKindName(k)) s.kind = k, known = true;
  if (!known)
    r.Fail(body["kind"], path + ".kind", "want crash, fsync_error, read_error, no_space or bit_flip, got '" + fault + "'");
  if (s.kind == FaultKind::kBitFlip) {
    if (body["at"]) r.Fail(body["at"], path + ".at", "bit_flip takes db (and chain), not at");
    const std::string db = body["db"] ? r.Str(body["db"], path + ".db") : "safe";
    if (db == "safe") s.db = DbFile::kSafe;
    else if (db == "events") s.db = DbFile::kEvents;
    else if (db == "replacements") s.db = DbFile::kReplacements;
    else r.Fail(body["db"], path + ".db", "want safe, events or replacements, got '" + db + "'");
    if (s.db == DbFile::kSafe && body["chain"]) r.Fail(body["chain"], path + ".chain", "db: safe has no chain");
    if (s.db != DbFile::kSafe) s.chain = r.Chain(r.Need(body, path, "chain"), path + ".chain");
  } else {
    if (body["db"]) r.Fail(body["db"], path + ".db", "only bit_flip takes db");
    if (body["chain"]) r.Fail(body["chain"], path + ".chain", "only bit_flip takes chain");
    if (body["at"]) s.at = r.U64(body["at"], path + ".at");
    if (s.at == 0 || s.at > 1000000) r.Fail(body["at"], path + ".at", "must be 1 to 1000000");
  }
  return s;
}
std::string RenderFault(const FaultStep& s, const Scenario& sc) {
  FlowMap m;
  m.Raw("kind", FaultKindName(s.kind));
  if (s.kind != FaultKind::kBitFlip) {
    if (s.at != 1) m.Num("at", s.at);
  } else if (s.db != DbFile::kSafe) {
    m.Raw("db", DbFileName(s.db)).Word("chain", ChainName(sc, s.chain));
  }
  return m.Text();
}

// --- the operator and the node ----------------------------------------------------------------------

RewindStep ParseRewind(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"chain", "block"});
  RewindStep s;
  s.chain = r.Chain(r.Need(body, path, "chain"), path + ".chain");
  s.block = r.U64(r.Need(body, path, "block"), path + ".block");
  r.set_last_call(CallMethod::kRewind);
  return s;
}
std::string RenderRewind(const RewindStep& s, const Scenario& sc) {
  return FlowMap().Word("chain", ChainName(sc, s.chain)).Num("block", s.block).Text();
}

ResetStep ParseReset(ScenarioReader& r, const YAML::Node& body, const std::string& path) {
  r.CheckMap(body, path, {"chain", "to_l1"});
  ResetStep s;
  s.chain = r.Chain(r.Need(body, path, "chain"), path + ".chain");
  s.to_l1 = r.OptU64(body, path, "to_l1");
  return s;
}
std::string RenderReset(const ResetStep& s, const Scenario& sc) {
  FlowMap m;
  m.Word("chain", ChainName(sc, s.chain));
  if (s.to_l1) m.Num("to_l1", *s.to_l1);
  return m.Text();
}

const std::vector<StepKind>& Table() {
  static const std::vector<StepKind> kTable = {
      Kind<BuildStep>("build", {"chain", "blocks", "logs", "force"}, ParseBuild, RenderBuild),
      Kind<BatchStep>("batch", {"chain", "through"}, ParseBatch, RenderBatch),
      Kind<BatchDivergentStep>("batch_divergent", {"chain", "block", "logs", "force"}, ParseBatchDivergent,
                               RenderBatchDivergent),
      Kind<DropBatchesStep>("drop_batches", {"chain"}, ParseChainOnly<DropBatchesStep>, RenderChainOnly<DropBatchesStep>),
      Kind<MineStep>("mine", {}, ParseMine, RenderMine),
      Kind<DeriveStep>("derive", {"chain", "to_l1"}, ParseDerive, RenderDerive, true),
      Kind<SyncStep>("sync", {"chain"}, ParseChainOnly<SyncStep>, RenderChainOnly<SyncStep>, true),
      Kind<ReorgL1Step>("reorg_l1", {"depth", "fork", "keep_batches"}, ParseReorgL1, RenderReorgL1),
      Kind<FinalizeL1Step>("finalize_l1", {"number", "depth"}, ParseFinalizeL1, RenderFinalizeL1),
      Kind<ReorgUnsafeStep>("reorg_unsafe", {"chain", "depth", "logs", "force"}, ParseReorgUnsafe, RenderReorgUnsafe),
      Kind<RestartStep>("restart", {}, ParseRestart, RenderRestart),
      Kind<CrashStep>("crash", {"torn_bytes", "db"}, ParseCrash, RenderCrash),
      Kind<FaultStep>("fault", {"kind", "at", "db", "chain"}, ParseFault, RenderFault),
      Kind<PoolStep>("pool", {"chain"}, ParsePool, RenderChainOnly<PoolStep>),
      Kind<RewindStep>("rewind", {"chain", "block"}, ParseRewind, RenderRewind),
      Kind<ResetStep>("reset", {"chain", "to_l1"}, ParseReset, RenderReset),
      Kind<CallStep>("call", CallKeys(), ParseCall, RenderCall),
      Kind<ExpectStep>("expect", ExpectKeys(), ParseExpect, RenderExpect),
  };
  return kTable;
}

}  // namespace

std::span<const StepKind> StepKinds() { return Table(); }

const StepKind* FindStepKind(std::string_view name) {
  for (const StepKind& k : Table())
    if (k.name == name) return &k;
  return nullptr;
}

std::string StepKindNames() {
  std::string out;
  for (const StepKind& k : Table()) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

std::string RenderStep(const StepAction& action, const Scenario& scenario) {
  for (const StepKind& k : Table())
    if (k.holds(action)) return std::string(k.name) + ": " + k.render(action, scenario);
  return "?";
}

std::string RenderScenarioText(const Scenario& sc) {
  std::string out = "name: " + YamlScalar(sc.name) + "\n";
  if (!sc.description.empty()) out += "description: " + YamlScalar(sc.description) + "\n";
  out += "seed: " + std::to_string(sc.seed) + "\n";
  const GenesisSpec defaults;
  if (!(sc.genesis == defaults)) {
    out += "genesis: " + FlowMap()
                             .Num("l2_time", sc.genesis.l2_time)
                             .Num("l1_time", sc.genesis.l1_time)
                             .Num("l1_block_time", sc.genesis.l1_block_time)
                             .Text() + "\n";
  }
  if (sc.nodes == NodesMode::kManual) out += "nodes: manual\n";
  if (sc.expiry_window != Scenario().expiry_window) out += "expiry_window: " + std::to_string(sc.expiry_window) + "\n";
  out += "chains:\n";
  for (const ChainSpec& c : sc.chains) {
    FlowMap m;
    m.Word("name", c.name).Raw("id", c.id.Decimal());
    if (c.block_time != ChainSpec().block_time) m.Num("block_time", c.block_time);
    if (c.interop_time != sc.genesis.l2_time) m.Num("interop_time", c.interop_time);
    if (c.policy != SafetyLevel::kUnsafe) m.Raw("policy", SafetyLevelName(c.policy));
    if (c.mempool) m.Bool("mempool", true);
    if (c.after_replacement != ChainSpec().after_replacement)
      m.Raw("after_replacement", c.after_replacement == ChainSpec::AfterReplacement::kDrop ? "drop" : "rederive");
    if (c.exec_timeout != ChainSpec().exec_timeout) m.Num("exec_timeout", c.exec_timeout);
    if (c.seq_window) m.Num("seq_window", *c.seq_window);
    out += "  - " + m.Text() + "\n";
  }
  if (!sc.games.empty()) {
    out += "games:\n";
    for (const GameSpec& g : sc.games)
      out += "  - " + FlowMap().Num("l1_head", g.l1_head).Num("prestate", g.prestate).Num("poststate", g.poststate).Text() +
             "\n";
  }
  out += sc.steps.empty() ? "steps: []\n" : "steps:\n";
  for (const Step& s : sc.steps) out += "  - " + RenderStep(s.action, sc) + "\n";
  return out;
}

}  // namespace supersafe::sim
