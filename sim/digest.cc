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
  const uint64_t length = std::min(*size, *data_end);
  if (length == 0) return Sha256(ByteSpan());
  // The bytes as mapped, without a copy; read into memory where the file cannot be mapped.
  Bytes copy;
  const uint8_t* bytes = nullptr;
  auto mapped = opened->file->Map(0, length);
  if (mapped.ok()) {
    bytes = (*mapped)->data();
  } else {
    copy.resize(length);
    if (!opened->file->ReadAt(0, copy.size(), copy.data()).ok()) return Hash{};
    bytes = copy.data();
  }
  size_t end = length;
  while (end > 0 && bytes[end - 1] == 0) --end;
  return Sha256(ByteSpan(bytes, end));
}

}  // namespace supersafe::sim
