// sim::ParseScenario on arbitrary text: a scenario or a clear error, never a crash.
#include "fuzz/fuzz_util.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto s = supersafe::sim::ParseScenario(supersafe::fuzz::Text(data, size), "fuzz.yaml");
  if (!s.ok()) supersafe::fuzz::ExpectClearError(s.status(), "ParseScenario");
  return 0;
}
