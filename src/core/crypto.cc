#include "core/crypto.h"

#include <cryptopp/keccak.h>

#include <boost/crc.hpp>

namespace supersafe {

Hash Keccak256(ByteSpan data) {
  CryptoPP::Keccak_256 k;
  k.Update(data.data(), data.size());
  Hash out;
  k.Final(out.data());
  return out;
}

uint32_t Crc32c(ByteSpan data) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> c;
  c.process_bytes(data.data(), data.size());
  return c.checksum();
}

}  // namespace supersafe
