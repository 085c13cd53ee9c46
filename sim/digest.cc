#include "sim/digest.h"

#include <cryptopp/sha.h>

#include <algorithm>


namespace supersafe::sim {

Hash Sha256(ByteSpan data) {
  Hash out;
  CryptoPP::SHA256().CalculateDigest(out.data(), data.data(), data.size());
  return out;
}

Hash Sha256OfContent(db::Env* env, const std::filesystem::path& file) {
  auto opened = env->Open(file, db::Env::OpenMode::kReadOnly);
  if (!opened.ok()) return Hash{};
  const Result<uint64_t> size = opened->file->Size();
  const Result<uint64_t> data_end = opened->file->DataEnd();
  if (!size.ok() || !data_end.ok()) return Hash{};
  Bytes bytes(std::min(*size, *data_end));
  if (!bytes.empty() && !opened->file->ReadAt(0, bytes.size(), bytes.data()).ok()) return Hash{};
  size_t end = bytes.size();
  while (end > 0 && bytes[end - 1] == 0) --end;
  return Sha256(ByteSpan(bytes.data(), end));
}

}  // namespace supersafe::sim
