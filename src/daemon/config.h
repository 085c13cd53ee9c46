// The daemon's configuration files (rpc.md, "Upstream sources of the daemon"):
//
//   --dependency-set FILE     {"dependencies": {"<chainID>": {...}}, "overrideMessageExpiryWindow": N}
//   --rollup-config-set FILE  {"<chainID>": {"genesis": {"l1": BlockID, "l2": BlockID, "l2_time": u64},
//                                            "block_time": u64, "interop_time": u64}}
//   --rollup-config-paths GLOB  op-node rollup.json files as they are: the same fields at the top
//                               level of each file, the chain ID in "l2_chain_id"
//
// Chain IDs are decimal or 0x-hex strings. Every error is kInvalidArgument naming the file and the
// JSON path of the bad value. Fields not listed are ignored (op-supervisor's files carry more).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "supervisor/supervisor.h"

namespace supersafe::daemon {

struct DependencyFile {
  std::vector<ChainID> chains;  // ascending: the chain index is the position in this order
  uint64_t expiry_window = 604800;  // overrideMessageExpiryWindow when present and nonzero
};

struct RollupConfig {
  BlockID genesis_l1;
  BlockID genesis_l2;
  uint64_t genesis_time = 0;  // l2_time
  uint64_t block_time = 0;
  uint64_t interop_time = 0;  // absent: interop from genesis
};

Result<DependencyFile> ParseDependencySet(const std::string& text, const std::string& file);
Result<std::map<ChainID, RollupConfig>> ParseRollupConfigSet(const std::string& text, const std::string& file);
// One op-node rollup.json: its l2_chain_id (a JSON integer below 2^64, or a decimal or 0x-hex
// string) and its rollup config.
Result<std::pair<ChainID, RollupConfig>> ParseOpNodeRollupConfig(const std::string& text, const std::string& file);
// Every file matching the glob `pattern` (POSIX glob: *, ?, [...]), parsed as an op-node
// rollup.json. kInvalidArgument when nothing matches, a file does not parse, or two files name
// the same chain.
Result<std::map<ChainID, RollupConfig>> LoadRollupConfigPaths(const std::string& pattern);
// The whole file; kInvalidArgument naming it when it cannot be read.
Result<std::string> ReadTextFile(const std::filesystem::path& file, const std::string& what);

// The core's dependency set: one ChainConfig per chain of `deps`, from its rollup config (every
// chain needs one; a rollup config for a chain outside the set is an error too). `genesis_l1` is
// the L1 block of the genesis group: the newest of the chains' genesis.l1 blocks.
Result<supervisor::DependencySet> BuildDependencySet(const DependencyFile& deps,
                                                     const std::map<ChainID, RollupConfig>& rollups,
                                                     const BlockRef& genesis_l1);

}  // namespace supersafe::daemon
