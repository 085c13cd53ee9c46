#include "sim/seed.h"

#include "core/crypto.h"

namespace supersafe::sim {

Hash SubsystemSalt(uint64_t seed, std::string_view subsystem) {
  Bytes buf(8);
  PutU64BE(buf.data(), seed);
  buf.insert(buf.end(), subsystem.begin(), subsystem.end());
  return Keccak256(buf);
}

}  // namespace supersafe::sim
