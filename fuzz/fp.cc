// The fault-proof decoders on arbitrary bytes (core/fp.h): DecodeSuperV1 and DecodeTransitionState.
// What they accept must encode back to exactly the input; anything else is a clear error.
#include <algorithm>

#include "core/fp.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace supersafe;
  const ByteSpan in(data, size);
  auto same = [&](const Bytes& b) { return b.size() == size && std::equal(b.begin(), b.end(), data); };
  auto super = DecodeSuperV1(in, 8);
  if (!super.ok()) fuzz::ExpectClearError(super.status(), "DecodeSuperV1");
  else if (!same(EncodeSuperV1(*super))) fuzz::Fail("DecodeSuperV1 accepted input that does not encode back to itself");
  auto state = DecodeTransitionState(in);
  if (!state.ok()) fuzz::ExpectClearError(state.status(), "DecodeTransitionState");
  else if (!same(EncodeTransitionState(*state)))
    fuzz::Fail("DecodeTransitionState accepted input that does not encode back to itself");
  return 0;
}
