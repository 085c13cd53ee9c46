// sim::ParseFuzzProfile on arbitrary text: a profile or a clear error, never a crash.
#include "fuzz/fuzz_util.h"
#include "sim/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = supersafe::sim::ParseFuzzProfile(supersafe::fuzz::Text(data, size), "fuzz-profile.yaml");
  if (!p.ok()) supersafe::fuzz::ExpectClearError(p.status(), "ParseFuzzProfile");
  return 0;
}
