// Reading one scenario file (inside sim/ only): the typed readers of YAML values that the header
// parser (sim/scenario.cc) and the step kinds (sim/steps.cc) share, and what the file has declared
// so far (chains, message names, the latest call, the work of the steps for the run limits).
//
// A reader method that finds a mistake throws ScenarioError with "FILE:LINE: KEY: what"; only
// ParseScenario catches it, and turns it into a Status.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace supersafe::sim {

struct ScenarioError {
  std::string message;
};

class ScenarioReader {
 public:
  explicit ScenarioReader(std::string file) : file_(std::move(file)) { scenario_.file = file_; }

  Scenario& scenario() { return scenario_; }
  const Scenario& scenario() const { return scenario_; }

  [[noreturn]] void Fail(const YAML::Node& at, const std::string& key, const std::string& what) const;
  // A map whose keys are all in `allowed`, none twice.
  void CheckMap(const YAML::Node& node, const std::string& path, std::initializer_list<const char*> allowed) const;
  void CheckMap(const YAML::Node& node, const std::string& path, const std::vector<std::string>& allowed) const;
  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::string Str(const YAML::Node& n, const std::string& path) const;
  uint64_t U64(const YAML::Node& n, const std::string& path) const;
  bool Bool(const YAML::Node& n, const std::string& path) const;
  std::optional<uint64_t> OptU64(const YAML::Node& map, const std::string& path, const char* key) const;
  YAML::Node Need(const YAML::Node& map, const std::string& path, const char* key) const;
  // A chain name of the file; its index.
  size_t Chain(const YAML::Node& n, const std::string& path) const;
  Address Origin(const YAML::Node& n, const std::string& path) const;
  // `payload:` of a log or identifier: 0x-hex bytes, or a NAME meaning keccak256(NAME); the NAME
  // goes to `name`.
  Bytes Payload(const YAML::Node& n, const std::string& path, std::optional<std::string>* name = nullptr) const;
  // Any level name CheckMessage answers (also unknown and conflicts).
  SafetyLevel Level(const YAML::Node& n, const std::string& path) const;

  // Log specs; named init logs are registered as messages of the file.
  std::vector<LogSpec> Logs(const YAML::Node& n, const std::string& path, bool allow_named_init);
  LogSpec Log(const YAML::Node& n, const std::string& path, bool allow_named_init);
  // An explicit identifier `{chain | chain_id, block, log, timestamp, payload, origin}`.
  LogSpec Identifier(const YAML::Node& n, const std::string& path) const;
  // A message name emitted earlier in the file.
  std::string ExistingMessage(const YAML::Node& n, const std::string& path) const;

  // The method of the latest `call` (or other step whose answer an `expect: {result}` reads).
  const std::optional<CallMethod>& last_call() const { return last_call_; }
  void set_last_call(CallMethod m) { last_call_ = m; }

  // The run limits (scenario.h): adds a step's work, failing at `at` past a limit. `mined`: the L1
  // head moves up by `blocks` (a mine; a reorg re-mines heights that exist).
  void CountL1(const YAML::Node& at, const std::string& key, uint64_t blocks, bool mined);
  // A build (`grows`: the chain's head moves up) or unsafe reorg of `blocks` blocks holding `logs`.
  void CountL2(const YAML::Node& at, const std::string& key, size_t chain, uint64_t blocks,
               const std::vector<LogSpec>& logs, bool grows);
  // After the last step: the forced empty blocks a chain with a sequencing window may derive (at
  // most one per L1 block, and as many as its time takes to catch up with L1's) count as L2 blocks;
  // `chains` is the file's `chains:` list, for the error's line.
  void CountForcedBlocks(const YAML::Node& chains);

 private:
  void Count(const YAML::Node& at, const std::string& key, uint64_t& total, uint64_t amount, uint64_t limit,
             const char* what) const;

  std::string file_;
  Scenario scenario_;
  uint64_t l1_blocks_ = 0, l2_blocks_ = 0, logs_ = 0;  // the work of the steps so far
  std::vector<uint64_t> heights_;                       // per chain: blocks built so far
  std::set<std::string> messages_;                      // init names emitted so far
  std::optional<CallMethod> last_call_;
};

}  // namespace supersafe::sim
