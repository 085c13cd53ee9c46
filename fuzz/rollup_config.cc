// The rollup-config loaders on arbitrary text (both shapes: the set file and one op-node
// rollup.json): a config or a clear error, never a crash.
#include "daemon/config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace supersafe;
  const std::string text = fuzz::Text(data, size);
  auto set = daemon::ParseRollupConfigSet(text, "rollup-config-set.json");
  if (!set.ok()) fuzz::ExpectClearError(set.status(), "ParseRollupConfigSet");
  auto one = daemon::ParseOpNodeRollupConfig(text, "rollup.json");
  if (!one.ok()) fuzz::ExpectClearError(one.status(), "ParseOpNodeRollupConfig");
  return 0;
}
