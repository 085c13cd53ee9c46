// ParseAccessList on arbitrary entries (the input cut into 32-byte entries, a partial last one
// dropped): the entries of whole messages or a clear error. What it accepts encodes
// (EncodeAccessEntry) to entries that parse to the same messages. Not to the same bytes: an
// extension entry whose chain-ID bits are all zero is accepted, though encoders write one only for
// a chain ID beyond 64 bits (found by this target; the spec says when to write it, not to refuse it).
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
  auto reparsed = ParseAccessList(again);
  if (!reparsed.ok() || *reparsed != *parsed)
    fuzz::Fail("ParseAccessList: the encoding of what it accepted parses otherwise");
  return 0;
}
