// Per-subsystem salts derived from the scenario seed (architecture.md "Rules that keep it
// deterministic"): every hash the simulated world makes mixes in the salt of its subsystem, so one
// seed reproduces a whole run and two subsystems never share a stream.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/types.h"

namespace supersafe::sim {

// keccak256(uint64_be(seed) ‖ subsystem): the subsystem's salt, e.g. SubsystemSalt(7, "l1").
Hash SubsystemSalt(uint64_t seed, std::string_view subsystem);

}  // namespace supersafe::sim
