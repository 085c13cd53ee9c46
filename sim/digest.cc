#include "sim/digest.h"

#include <cryptopp/sha.h>

#include <cstdio>

namespace supersafe::sim {

Hash Sha256(ByteSpan data) {
  Hash out;
  CryptoPP::SHA256().CalculateDigest(out.data(), data.data(), data.size());
  return out;
}

Hash Sha256OfFile(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return Hash{};
  CryptoPP::SHA256 sha;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) sha.Update(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Hash{};
  Hash out;
  sha.Final(out.data());
  return out;
}

}  // namespace supersafe::sim
