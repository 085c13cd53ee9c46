// ParseAccessList on arbitrary entries (the input cut into 32-byte entries, a partial last one
// dropped): the entries of whole messages or a clear error. What it accepts encodes back
// (EncodeAccessEntry) to exactly the entries given.
#include <vector>

#include "core/access_list.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace supersafe;
  std::vector<Hash> entries(size / 32);
  for (size_t i = 0; i < entries.size(); ++i) std::copy(data + 32 * i, data + 32 * (i + 1), entries[i].data());
  auto parsed = ParseAccessList(entries);
  if (!parsed.ok()) {
    fuzz::ExpectClearError(parsed.status(), "ParseAccessList");
    return 0;
  }
  std::vector<Hash> again;
  for (const AccessEntry& e : *parsed) {
    auto enc = EncodeAccessEntry(e);
    again.insert(again.end(), enc.begin(), enc.end());
  }
  if (again != entries) fuzz::Fail("ParseAccessList accepted entries that do not encode back to themselves");
  return 0;
}
