#include "sim/scenario.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "core/crypto.h"
#include "sim/scenario_reader.h"
#include "sim/steps.h"

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
    case CallMethod::kRewind: return "rewind";
  }
  return "?";
}

std::optional<size_t> Scenario::ChainIndex(const std::string& chain_name) const {
  for (size_t i = 0; i < chains.size(); ++i)
    if (chains[i].name == chain_name) return i;
  return std::nullopt;
}

std::optional<size_t> Scenario::ChainIndex(const ChainID& id) const {
  for (size_t i = 0; i < chains.size(); ++i)
    if (chains[i].id == id) return i;
  return std::nullopt;
}

uint64_t Scenario::DefaultTimestamp(const ChainID& id, uint64_t number) const {
  const auto chain = ChainIndex(id);
  return genesis.l2_time + number * (chain ? chains[*chain].block_time : ChainSpec().block_time);
}

namespace {

// The header of a file; the steps go through the step table (sim/steps.h).
class Parser {
 public:
  Parser(std::string file, bool labels) : r_(std::move(file)), labels_(labels) {}
  Scenario Parse(const YAML::Node& root);
  // The same with the steps given apart (ParseScenarioText): `root` has an empty `steps`, and step
  // i (from 0) is `steps[i]`, on line `first_line + i` of the file.
  Scenario Parse(const YAML::Node& root, const std::vector<YAML::Node>& steps, size_t first_line);

 private:
  // Every top-level key but the steps, into scenario_; returns the `steps` sequence.
  YAML::Node ParseHead(const YAML::Node& root);
  void ParseChains(const YAML::Node& n);
  void ParseGenesis(const YAML::Node& n);
  void ParseGames(const YAML::Node& n);
  Step ParseStep(const YAML::Node& n, size_t index);

  ScenarioReader r_;
  Scenario& scenario_ = r_.scenario();
  bool labels_;  // Step::label wanted
};

Scenario Parser::Parse(const YAML::Node& root) {
  const YAML::Node steps = ParseHead(root);
  for (size_t i = 0; i < steps.size(); ++i) scenario_.steps.push_back(ParseStep(steps[i], i + 1));
  r_.CountForcedBlocks(root["chains"]);
  return std::move(scenario_);
}

Scenario Parser::Parse(const YAML::Node& root, const std::vector<YAML::Node>& steps, size_t first_line) {
  (void)ParseHead(root);
  for (size_t i = 0; i < steps.size(); ++i) {
    scenario_.steps.push_back(ParseStep(steps[i], i + 1));
    scenario_.steps.back().line = first_line + i;
  }
  r_.CountForcedBlocks(root["chains"]);
  return std::move(scenario_);
}

YAML::Node Parser::ParseHead(const YAML::Node& root) {
  if (!root.IsMap()) r_.Fail(root, "(top)", "want a map with name, chains and steps");
  r_.CheckMap(root, "",
              {"name", "description", "seed", "chains", "genesis", "expiry_window", "nodes", "games", "steps"});
  scenario_.name = r_.Str(r_.Need(root, "", "name"), "name");
  if (scenario_.name.empty()) r_.Fail(root["name"], "name", "must not be empty");
  const bool control = std::any_of(scenario_.name.begin(), scenario_.name.end(),
                                   [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
  if (control || scenario_.name == "." || scenario_.name == ".." || scenario_.name.find_first_of("/\\") != std::string::npos)
    r_.Fail(root["name"], "name", "it names files (DIR/<name>, FILE-<name>.html): no '/', '\\', control characters, '.' or '..'");
  if (root["description"]) scenario_.description = r_.Str(root["description"], "description");
  if (root["seed"]) scenario_.seed = r_.U64(root["seed"], "seed");
  if (root["genesis"]) ParseGenesis(root["genesis"]);
  ParseChains(r_.Need(root, "", "chains"));
  if (root["expiry_window"]) scenario_.expiry_window = r_.U64(root["expiry_window"], "expiry_window");
  if (root["nodes"]) {
    std::string mode = r_.Str(root["nodes"], "nodes");
    if (mode == "auto") scenario_.nodes = NodesMode::kAuto;
    else if (mode == "manual") scenario_.nodes = NodesMode::kManual;
    else r_.Fail(root["nodes"], "nodes", "want auto or manual, got '" + mode + "'");
  }
  if (root["games"]) ParseGames(root["games"]);
  YAML::Node steps = r_.Need(root, "", "steps");
  if (!steps.IsSequence()) r_.Fail(steps, "steps", "want a list of steps");
  return steps;
}

void Parser::ParseGenesis(const YAML::Node& n) {
  r_.CheckMap(n, "genesis", {"l2_time", "l1_time", "l1_block_time"});
  if (n["l2_time"]) scenario_.genesis.l2_time = r_.U64(n["l2_time"], "genesis.l2_time");
  if (n["l1_time"]) scenario_.genesis.l1_time = r_.U64(n["l1_time"], "genesis.l1_time");
  if (n["l1_block_time"]) {
    scenario_.genesis.l1_block_time = r_.U64(n["l1_block_time"], "genesis.l1_block_time");
    if (scenario_.genesis.l1_block_time == 0) r_.Fail(n["l1_block_time"], "genesis.l1_block_time", "must be positive");
  }
}

void Parser::ParseChains(const YAML::Node& n) {
  if (!n.IsSequence() || n.size() == 0) r_.Fail(n, "chains", "want a non-empty list of chains");
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node& c = n[i];
    std::string path = "chains[" + std::to_string(i) + "]";
    r_.CheckMap(c, path, {"name", "id", "block_time", "interop_time", "policy", "mempool", "after_replacement",
                          "exec_timeout", "seq_window"});
    ChainSpec spec;
    spec.name = r_.Str(r_.Need(c, path, "name"), path + ".name");
    if (spec.name.empty()) r_.Fail(c["name"], path + ".name", "must not be empty");
    if (scenario_.ChainIndex(spec.name)) r_.Fail(c["name"], path + ".name", "duplicate chain name '" + spec.name + "'");
    auto id = ChainID::Parse(r_.Str(r_.Need(c, path, "id"), path + ".id"));
    if (!id.ok()) r_.Fail(c["id"], path + ".id", id.status().message());
    spec.id = *id;
    for (const auto& other : scenario_.chains)
      if (other.id == spec.id) r_.Fail(c["id"], path + ".id", "chain ID " + spec.id.Decimal() + " used twice");
    if (c["block_time"]) {
      spec.block_time = r_.U64(c["block_time"], path + ".block_time");
      if (spec.block_time == 0) r_.Fail(c["block_time"], path + ".block_time", "must be positive");
    }
    spec.interop_time = c["interop_time"] ? r_.U64(c["interop_time"], path + ".interop_time") : scenario_.genesis.l2_time;
    if (c["policy"]) {
      const std::string policy = r_.Str(c["policy"], path + ".policy");
      auto level = ParseSafetyLevel(policy);
      if (!level.ok() || *level < SafetyLevel::kUnsafe)
        r_.Fail(c["policy"], path + ".policy", "want unsafe, cross-unsafe, safe or finalized, got '" + policy + "'");
      spec.policy = *level;
    }
    if (c["mempool"]) spec.mempool = r_.Bool(c["mempool"], path + ".mempool");
    if (c["exec_timeout"]) spec.exec_timeout = r_.U64(c["exec_timeout"], path + ".exec_timeout");
    if (c["seq_window"]) {
      spec.seq_window = r_.U64(c["seq_window"], path + ".seq_window");
      if (*spec.seq_window == 0) r_.Fail(c["seq_window"], path + ".seq_window", "must be at least 1 L1 block");
    }
    if (c["after_replacement"]) {
      const std::string rest = r_.Str(c["after_replacement"], path + ".after_replacement");
      if (rest != "rederive" && rest != "drop")
        r_.Fail(c["after_replacement"], path + ".after_replacement", "want rederive or drop, got '" + rest + "'");
      spec.after_replacement =
          rest == "drop" ? ChainSpec::AfterReplacement::kDrop : ChainSpec::AfterReplacement::kRederive;
    }
    scenario_.chains.push_back(std::move(spec));
  }
}

void Parser::ParseGames(const YAML::Node& n) {
  if (!n.IsSequence()) r_.Fail(n, "games", "want a list");
  for (size_t i = 0; i < n.size(); ++i) {
    std::string path = "games[" + std::to_string(i) + "]";
    r_.CheckMap(n[i], path, {"l1_head", "prestate", "poststate"});
    GameSpec g;
    g.l1_head = r_.U64(r_.Need(n[i], path, "l1_head"), path + ".l1_head");
    g.prestate = r_.U64(r_.Need(n[i], path, "prestate"), path + ".prestate");
    g.poststate = r_.U64(r_.Need(n[i], path, "poststate"), path + ".poststate");
    if (g.poststate <= g.prestate) r_.Fail(n[i], path + ".poststate", "must be after prestate");
    scenario_.games.push_back(g);
  }
}

Step Parser::ParseStep(const YAML::Node& n, size_t index) {
  std::string where = "steps[" + std::to_string(index - 1) + "]";
  if (!n.IsMap() || n.size() != 1) r_.Fail(n, where, "want a map with exactly one step, e.g. {mine: 1}");
  const std::string kind = r_.Str(n.begin()->first, where);
  Step step;
  step.index = index;
  step.line = n.Mark().line + 1;
  step.kind = kind;
  if (labels_) {
    YAML::Emitter e;
    e << YAML::Flow << n;
    std::string s = e.c_str();
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
    step.label = s;
  }
  const StepKind* k = FindStepKind(kind);
  if (k == nullptr) r_.Fail(n.begin()->first, where, "unknown step '" + kind + "' (" + StepKindNames() + ")");
  if (k->manual_only && scenario_.nodes != NodesMode::kManual)
    r_.Fail(n.begin()->first, kind,
            "only with `nodes: manual` (with auto nodes the runner derives and syncs after every step)");
  step.action = k->parse(r_, n.begin()->second, kind);
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

Result<Scenario> ParseScenario(const std::string& text, const std::string& file, bool labels) {
  if (auto why = NotText(text, file)) return InvalidArgument(Printable(*why));
  try {
    YAML::Node root = YAML::Load(text);
    return Parser(file, labels).Parse(root);
  } catch (const ScenarioError& e) {
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

std::string ScenarioText::Text() const {
  std::string text = head;
  for (const std::string& step : steps) text += "\n  - " + step;
  text += steps.empty() ? " []\n" : "\n";
  return text;
}

Result<Scenario> ParseScenarioText(const ScenarioText& text, const std::string& file) {
  constexpr size_t kMaxKept = 65'536;
  thread_local std::unordered_map<std::string, YAML::Node> kept;  // step text -> its YAML
  try {
    if (NotText(text.head, file)) throw ScenarioError{};
    const YAML::Node root = YAML::Load(text.head + " []\n");
    std::vector<YAML::Node> steps;
    steps.reserve(text.steps.size());
    for (const std::string& step : text.steps) {
      auto it = kept.find(step);
      if (it == kept.end()) {
        if (step.find('\n') != std::string::npos || NotText(step, file)) throw ScenarioError{};
        if (kept.size() >= kMaxKept) kept.clear();
        it = kept.emplace(step, YAML::Load(step)).first;
      }
      steps.push_back(it->second);
    }
    const size_t first_line = static_cast<size_t>(std::count(text.head.begin(), text.head.end(), '\n')) + 2;
    return Parser(file, /*labels=*/false).Parse(root, steps, first_line);
  } catch (const ScenarioError&) {
  } catch (const YAML::Exception&) {
  }
  return ParseScenario(text.Text(), file, /*labels=*/false);  // its error, with the file's line
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
