// The step kinds of scenario files, one table: per kind its name, the keys it takes, how it is read
// from YAML and how it is written back. The parser (sim/scenario.cc) reads every step through it
// and the fuzzer (sim/fuzz.cc) writes every generated scenario through it, so both sides of the
// format stay together: a new step kind is one entry here (and what it does, in the runner).
//
// Writing is the inverse of reading: for every step the parser can produce, reading the written
// text back gives an equal StepAction (tests/sim/steps_test.cc checks every kind and every file of
// the library). The text is the shortest form: keys left at their defaults are not written.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.h"

namespace YAML {
class Node;
}

namespace supersafe::sim {

class ScenarioReader;

struct StepKind {
  std::string_view name;
  // The keys of its map, for the docs and errors; empty for a bare value (`mine: 3`). `call` and
  // `expect` list the keys of all their forms.
  std::vector<std::string_view> keys;
  bool manual_only = false;  // only with `nodes: manual`
  // Reads the step's body (the value under its name) at `path` ("build"); throws ScenarioError.
  std::function<StepAction(ScenarioReader&, const YAML::Node& body, const std::string& path)> parse;
  std::function<bool(const StepAction&)> holds;
  // The body in YAML flow style, for a StepAction this kind holds; `scenario` gives the chain names.
  std::function<std::string(const StepAction&, const Scenario&)> render;
};

// Every kind, in the order the docs list them.
std::span<const StepKind> StepKinds();
// The kind named `name`, or null.
const StepKind* FindStepKind(std::string_view name);
// "build, batch, ..." (for error messages).
std::string StepKindNames();

// One step as a line of a `steps:` list: "build: {chain: A, blocks: 2}".
std::string RenderStep(const StepAction& action, const Scenario& scenario);
// A whole scenario file: the header, then every step. ParseScenario of it gives the same header
// and steps (not the same lines or labels).
std::string RenderScenarioText(const Scenario& scenario);
// A string as a YAML scalar: plain when that reads back as the same string, else double-quoted.
std::string YamlScalar(std::string_view text);

}  // namespace supersafe::sim
