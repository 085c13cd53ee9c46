// The parameter decoders of rpc/codec.h on any JSON value: each decodes or fails with a clear
// error. What decodes re-encodes to a value that decodes to the same thing.
#include "fuzz/fuzz_util.h"
#include "rpc/codec.h"

namespace {

using namespace supersafe;
using rpc::Json;

template <typename T>
void RoundTrip(const Json& j, Result<T> (*decode)(const Json&, const std::string&), const char* what) {
  auto v = decode(j, "p");
  if (!v.ok()) {
    fuzz::ExpectClearError(v.status(), what);
    return;
  }
  auto again = decode(rpc::Encode(*v), "p");
  if (!again.ok() || !(*again == *v)) fuzz::Fail(std::string(what) + ": the encoding of a decoded value decodes otherwise");
}

template <typename T>
void Decodes(const Json& j, Result<T> (*decode)(const Json&, const std::string&), const char* what) {
  auto v = decode(j, "p");
  if (!v.ok()) fuzz::ExpectClearError(v.status(), what);
}

void All(const Json& j) {
  RoundTrip(j, rpc::DecodeChainID, "DecodeChainID");
  RoundTrip(j, rpc::DecodeHash, "DecodeHash");
  RoundTrip(j, rpc::DecodeBlockID, "DecodeBlockID");
  RoundTrip(j, rpc::DecodeBlockRef, "DecodeBlockRef");
  RoundTrip(j, rpc::DecodeIdentifier, "DecodeIdentifier");
  Decodes(j, rpc::DecodeHexU64, "DecodeHexU64");
  Decodes(j, rpc::DecodeNumber, "DecodeNumber");
  Decodes(j, rpc::DecodeAddress, "DecodeAddress");
  Decodes(j, rpc::DecodeBool, "DecodeBool");
  Decodes(j, rpc::DecodeSafetyLevel, "DecodeSafetyLevel");
  Decodes(j, rpc::DecodeAccessSafety, "DecodeAccessSafety");
  Decodes(j, rpc::DecodeExecutingDescriptor, "DecodeExecutingDescriptor");
  Decodes(j, rpc::DecodeHashList, "DecodeHashList");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Json j = Json::parse(std::string_view(reinterpret_cast<const char*>(data), size), nullptr, false);
  if (j.is_discarded()) return 0;
  All(j);
  // Params come as an array or an object: decode each member too.
  if (j.is_array() || j.is_object())
    for (const Json& m : j) All(m);
  return 0;
}
