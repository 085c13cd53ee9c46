// daemon::ParseDependencySet on arbitrary text: chains ascending and unique, or a clear error.
#include "daemon/config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace supersafe;
  auto d = daemon::ParseDependencySet(fuzz::Text(data, size), "dependency-set.json");
  if (!d.ok()) {
    fuzz::ExpectClearError(d.status(), "ParseDependencySet");
    return 0;
  }
  for (size_t i = 1; i < d->chains.size(); ++i)
    if (!(d->chains[i - 1] < d->chains[i])) fuzz::Fail("ParseDependencySet: chains not strictly ascending");
  return 0;
}
