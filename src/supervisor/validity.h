// The identifier-only validity rules of executing messages (rules 1, 3, 4, 5, 6 of
// docs/protocol-rules.md): they depend only on the identifier and the executing block, so they are
// checked first and a failure makes the block invalid at once.
#pragma once

#include <optional>
#include <string>

#include "db/event_db.h"
#include "supervisor/supervisor.h"

namespace supersafe::supervisor {

// The chain's activation block: its first block with timestamp >= interop_time. It executes
// nothing and its logs are never valid initiating messages.
uint64_t ActivationBlock(const ChainConfig& chain);

// Index of `id` in the dependency set, if present.
std::optional<size_t> ChainIndexOf(const DependencySet& deps, const ChainID& id);

// Why `ref`, executed in block `exec_number` (timestamp `exec_time`) of `exec_chain`, breaks a
// rule that needs no lookup; nullopt when it breaks none.
std::optional<std::string> StaticViolation(const DependencySet& deps, const ChainConfig& exec_chain,
                                           uint64_t exec_number, uint64_t exec_time, const db::ExecRef& ref);

}  // namespace supersafe::supervisor
