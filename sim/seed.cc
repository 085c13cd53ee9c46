#include "sim/seed.h"

#include "core/crypto.h"

namespace supersafe::sim {

Hash SubsystemSalt(uint64_t seed, std::string_view subsystem) {
  Bytes buf(8);
  PutU64BE(buf.data(), seed);
  buf.insert(buf.end(), subsystem.begin(), subsystem.end());
  return Keccak256(buf);
}

SplitMix64 SplitMix64::ForSubsystem(uint64_t seed, std::string_view subsystem) {
  const Hash salt = SubsystemSalt(seed, subsystem);
  uint64_t state = 0;
  for (int i = 0; i < 8; ++i) state = state << 8 | salt.bytes[i];
  return SplitMix64(state);
}

}  // namespace supersafe::sim
