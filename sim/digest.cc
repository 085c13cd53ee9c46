#include "sim/digest.h"

#include <cryptopp/sha.h>


namespace supersafe::sim {

Hash Sha256(ByteSpan data) {
  Hash out;
  CryptoPP::SHA256().CalculateDigest(out.data(), data.data(), data.size());
  return out;
}

Hash Sha256OfContent(db::Env* env, const std::filesystem::path& file) {
  Result<Bytes> bytes = db::ReadWholeFile(env, file);
  if (!bytes.ok()) return Hash{};
  size_t end = bytes->size();
  while (end > 0 && (*bytes)[end - 1] == 0) --end;
  return Sha256(ByteSpan(bytes->data(), end));
}

}  // namespace supersafe::sim
