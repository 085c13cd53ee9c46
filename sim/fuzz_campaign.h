// `supersafe fuzz`: campaigns of generated scenarios (sim/fuzz.h) over a band of seeds, on every
// core, with a JSON summary that `supersafe fuzz merge` combines across machines (docs/fuzz.md).
//
// A seed's outcome depends on the seed and the profile only: the printed lines, the shrunk files
// and the summary are the same for every --jobs and, merged, for every --shard split.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/runner.h"

namespace supersafe::sim {

struct FuzzCommand {
  std::optional<std::string> profile;  // a YAML profile (ParseFuzzProfile); default FuzzProfile{}
  uint64_t seeds = 100;                // seeds seed_start .. seed_start + seeds - 1 ...
  uint64_t seed_start = 1;
  uint32_t shard = 1;                  // ... those whose offset from seed_start is shard-1 modulo shards
  uint32_t shards = 1;
  uint32_t jobs = 0;                   // worker threads; 0: one per core
  DiskKind disk = DiskKind::kMemory;
  std::string out = "fuzz-failures";   // shrunk failing scenarios go here (created when needed)
  std::optional<std::string> json;     // the campaign summary goes here
  bool require_coverage = false;       // fail (exit 1) if a counter the profile aims at stayed 0
  size_t max_shrink_runs = 400;
  bool progress = false;               // a progress line on stderr (a terminal)
};

// Runs every seed of the command's share; a case that breaks an invariant is shrunk and written to
// `out` as fuzz-<seed>.yaml with its replay command. Prints the configuration first, a line per
// failure (in seed order), the coverage counters and a summary. Returns the process exit code: 0
// when no case failed (discarded cases, FailureKind::kStep, do not count) and, with
// require_coverage, every aimed-at counter moved; 1 otherwise; 2 on a bad profile, option or
// output path.
int RunFuzzCommand(const FuzzCommand& cmd, std::ostream& out, std::ostream& err);

// `supersafe fuzz --print SEED [--profile FILE]`: the scenario file the seed generates.
int PrintFuzzCase(uint64_t seed, const std::optional<std::string>& profile, std::ostream& out, std::ostream& err);

// `supersafe fuzz merge FILE.json...`: one summary of several campaigns' summaries (JSON on `out`).
// Exit code 0 when no campaign failed a case, 1 when one did, 2 on a file that is not a summary.
int MergeFuzzSummaries(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);

}  // namespace supersafe::sim
