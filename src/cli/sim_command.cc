#include "cli/sim_command.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/options.h"
#include "sim/suite.h"

namespace supersafe::cli {

void AddSimCommand(CLI::App& app, int& exit_code) {
  auto cmd = std::make_shared<sim::SimCommand>();
  auto seed = std::make_shared<uint64_t>(0);
  auto datadir = std::make_shared<std::string>();
  auto trace = std::make_shared<std::string>();
  auto timeline = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("sim", "run scenario files in the deterministic simulator");
  // A missing or unreadable file is reported by the run, one line per file, and the others still run.
  sub->add_option("FILE", cmd->files, "scenario files (YAML)")->required();
  CLI::Option* check_opt = sub->add_flag("--check", cmd->check_only, "parse and validate the files only; run nothing");
  CLI::Option* seed_opt = sub->add_option("--seed", *seed, "seed for every scenario (default: each file's own)")
                                ->check(Unsigned());
  auto disk = std::make_shared<std::string>("memory");
  sub->add_option("--disk", *disk, "where the databases live: memory (default) or posix (real files)")
      ->check(CLI::IsMember({"memory", "posix"}));
  CLI::Option* datadir_opt = sub->add_option(
      "--datadir", *datadir, "keep the databases in DIR (absent or empty; implies --disk posix); default: none kept");
  CLI::Option* trace_opt = sub->add_option("--trace", *trace, "write the JSONL trace of every event to FILE");
  CLI::Option* timeline_opt = sub->add_option("--timeline", *timeline, "write an HTML timeline to FILE");
  check_opt->excludes(seed_opt)->excludes(datadir_opt)->excludes(trace_opt)->excludes(timeline_opt);
  sub->final_callback([=, &exit_code] {
    if (seed_opt->count() > 0) cmd->seed = *seed;
    if (datadir_opt->count() > 0) cmd->datadir = *datadir;
    cmd->disk = *disk == "posix" ? sim::DiskKind::kPosix : sim::DiskKind::kMemory;
    if (trace_opt->count() > 0) cmd->trace = *trace;
    if (timeline_opt->count() > 0) cmd->timeline = *timeline;
    cmd->progress = isatty(STDERR_FILENO) != 0;
    exit_code = sim::RunSimCommand(*cmd, std::cout, std::cerr);
  });
}

}  // namespace supersafe::cli
