// rlp::Decode on arbitrary bytes: the decoder accepts only canonical RLP, so whatever it accepts
// must encode back to exactly the input; anything else is a clear error, never a crash.
#include "core/rlp.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace supersafe;
  auto item = rlp::Decode(ByteSpan(data, size));
  if (!item.ok()) {
    fuzz::ExpectClearError(item.status(), "rlp::Decode");
    return 0;
  }
  Bytes again = rlp::Encode(*item);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data))
    fuzz::Fail("rlp::Decode accepted input that does not encode back to itself");
  if (!item->is_list) {
    auto u = rlp::DecodeUint(*item, "fuzz");
    if (!u.ok()) fuzz::ExpectClearError(u.status(), "rlp::DecodeUint");
    else if (!(rlp::Item::Uint(*u) == *item)) fuzz::Fail("rlp::DecodeUint accepted a non-minimal integer");
  }
  return 0;
}
