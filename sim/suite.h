// `supersafe sim FILE...`: parses and runs scenario files, prints the configuration first, one
// line per scenario (PASS/FAIL, name, steps, digest) and, on failure, the step that failed and the
// exact command that replays it.
//
// The databases live on the memory disk by default (--disk memory). With --disk posix they are real
// files: with one scenario, --datadir DIR holds them; with several, DIR/<scenario name>. Either must
// be absent or empty; --datadir implies --disk posix; with --disk posix and no --datadir a
// temporary directory is used and removed.
// --trace FILE gets every scenario's trace, one after another. --timeline FILE.html gets the
// timeline of a single scenario; with several, FILE-<scenario name>.html each. An output path that
// cannot be written (a missing or unwritable directory, a directory in its place) is refused before
// anything runs (exit 2).
//
// A file that cannot be run (missing, a directory, not text, not a valid scenario) gets one line,
// "FAIL FILE:LINE: what is wrong", and the other files still run (exit 1).
//
// With `check_only` (`sim --check`), every file is parsed and validated and nothing runs: one line per
// file, "OK FILE: name, N chains, M steps" or the FAIL line above; exit 0 only if every file is valid.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/runner.h"

namespace supersafe::sim {

struct SimCommand {
  std::vector<std::string> files;
  std::optional<uint64_t> seed;      // overrides every file's seed
  std::optional<std::string> datadir;  // implies DiskKind::kPosix
  DiskKind disk = DiskKind::kMemory;
  std::optional<std::string> trace;
  std::optional<std::string> timeline;
  bool progress = false;             // step progress on stderr (a terminal)
  bool check_only = false;           // parse and validate only
};

// Returns the process exit code: 0 only if every scenario passed.
int RunSimCommand(const SimCommand& cmd, std::ostream& out, std::ostream& err);

}  // namespace supersafe::sim
