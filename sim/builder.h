// The op-geth block builder of a sequencer: assembles one block from log specs, checking every
// executing message with the supervisor's CheckMessage first. A message answered `conflicts` or
// `unknown` (or an error) is left out, unless `force` (a faulty sequencer). A message from an
// earlier log of the block being built counts as known when its log hash and timestamp match.
// Named init logs are registered in the world with the identifier they get.
#pragma once

#include <vector>

#include "sim/scenario.h"
#include "sim/supervisor_host.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace supersafe::sim {

// Builds one block on `chain`'s unsafe head; every check and left-out message goes to the trace.
const L2Block& BuildBlock(World& world, SupervisorHost& host, Trace& trace, size_t chain,
                          const std::vector<LogSpec>& logs, bool force);

// The executing message a kExecNamed / kExecExplicit spec stands for, as of now.
ExecutingMessage ResolveMessage(const World& world, const LogSpec& spec);

}  // namespace supersafe::sim
