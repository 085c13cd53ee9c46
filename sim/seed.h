// Per-subsystem salts derived from the scenario seed (docs/simulator-checks.md, "The
// simulated world"): every hash the simulated world makes mixes in the salt of its subsystem, so one
// seed reproduces a whole run and two subsystems never share a stream.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/types.h"

namespace supersafe::sim {

// keccak256(uint64_be(seed) ‖ subsystem): the subsystem's salt, e.g. SubsystemSalt(7, "l1").
Hash SubsystemSalt(uint64_t seed, std::string_view subsystem);

// SplitMix64: a fixed, documented generator, so a seed means the same draws everywhere (no
// library distributions).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  // Seeded from the first 8 bytes of SubsystemSalt(seed, subsystem).
  static SplitMix64 ForSubsystem(uint64_t seed, std::string_view subsystem);
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // In [0, n); 0 when n is 0.
  uint32_t Below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(Next() % n); }
  uint64_t Below64(uint64_t n) { return n == 0 ? 0 : Next() % n; }

 private:
  uint64_t state_;
};

}  // namespace supersafe::sim
