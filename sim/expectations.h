// The `expect` steps (docs/scenario-format.md, "Expectations"): each is checked against the
// supervisor's answers and the simulated world as the step left them. Source queries, super roots
// and pending outputs are asked through the read surface the daemon serves
// (supervisor_crossDerivedToSource, supervisor_localSafe / crossSafe, superRootAtTimestamp), and
// what they answer is compared with the world: an L1 number must name the canonical L1 block, a
// super root must commit to the chains' canonical blocks, a pending output to the block replaced.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/status.h"
#include "db/env.h"
#include "sim/scenario.h"
#include "supervisor/supervisor.h"

namespace supersafe::sim {

class SupervisorHost;
class World;

// The answer of the latest `call` (or `rewind`) step.
struct CallOutcome {
  CallMethod method = CallMethod::kTryCrossSafe;
  Status status;
  std::optional<supervisor::CrossSafeAnswer> cross_safe;  // tryCrossSafe
  std::optional<BlockID> block;                           // tryFinalize, getCrossUnsafe
  std::optional<SafetyLevel> level;                       // checkMessage
};

struct ExpectationContext {
  SupervisorHost& host;
  const World& world;
  db::Env* files;                       // the data directory's files, read outside the supervisor
  std::filesystem::path datadir;
  const std::optional<CallOutcome>& last_call;
};

// OK if the expectation holds; else kInternal with every mismatch found, each as "WHAT:
// expected X, saw Y", joined by "; ".
Status CheckExpectation(const Expectation& expectation, const ExpectationContext& ctx);

}  // namespace supersafe::sim
