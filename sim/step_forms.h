// The step bodies that come in several forms (inside sim/ only): log specs, `call` and `expect`,
// read and written for the step table (sim/steps.h), and the flow-map writer the table uses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.h"

namespace YAML {
class Node;
}

namespace supersafe::sim {

class ScenarioReader;

// Writes `{key: value, ...}` in the order the keys are added.
class FlowMap {
 public:
  FlowMap& Raw(std::string_view key, std::string_view yaml) {  // `yaml` is written as it is
    items_.push_back(std::string(key) + ": " + std::string(yaml));
    return *this;
  }
  FlowMap& Word(std::string_view key, std::string_view text);  // a string scalar, quoted if needed
  FlowMap& Num(std::string_view key, uint64_t v) { return Raw(key, std::to_string(v)); }
  FlowMap& Bool(std::string_view key, bool v) { return Raw(key, v ? "true" : "false"); }
  bool empty() const { return items_.empty(); }
  std::string Text() const;

 private:
  std::vector<std::string> items_;
};

std::string RenderLogs(const std::vector<LogSpec>& logs, const Scenario& scenario);

std::vector<std::string_view> CallKeys();
CallStep ParseCall(ScenarioReader& r, const YAML::Node& body, const std::string& path);
std::string RenderCall(const CallStep& call, const Scenario& scenario);

std::vector<std::string_view> ExpectKeys();
ExpectStep ParseExpect(ScenarioReader& r, const YAML::Node& body, const std::string& path);
std::string RenderExpect(const ExpectStep& expect, const Scenario& scenario);

}  // namespace supersafe::sim
