#include "cli/fuzz_command.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/options.h"
#include "sim/fuzz_campaign.h"

namespace supersafe::cli {

void AddFuzzCommand(CLI::App& app, int& exit_code) {
  auto cmd = std::make_shared<sim::FuzzCommand>();
  auto profile = std::make_shared<std::string>();
  auto shard = std::make_shared<std::string>("1/1");
  auto disk = std::make_shared<std::string>("memory");
  auto json = std::make_shared<std::string>();
  auto print = std::make_shared<uint64_t>(0);
  auto merge_files = std::make_shared<std::vector<std::string>>();
  CLI::App* sub = app.add_subcommand(
      "fuzz",
      "run generated scenarios (reorgs, flip-flops, replacements, node calls, crashes, storage faults); shrink every "
      "failure");
  CLI::Option* profile_opt =
      sub->add_option("--profile", *profile, "YAML profile: chains, steps, manual_percent, weights")->check(CLI::ExistingFile);
  sub->add_option("--seeds", cmd->seeds, "how many seeds (default 100)")->check(Unsigned());
  sub->add_option("--seed-start", cmd->seed_start, "first seed (default 1)")->check(Unsigned());
  sub->add_option("--shard", *shard, "I/N: run only the I-th of N shares of the seeds (1-based; default 1/1)");
  sub->add_option("--jobs", cmd->jobs, "worker threads (default: one per core); results do not depend on it")
      ->check(Unsigned());
  sub->add_option("--disk", *disk, "where each case's databases live: memory (default) or posix (temporary files)")
      ->check(CLI::IsMember({"memory", "posix"}));
  CLI::Option* json_opt = sub->add_option("--json", *json, "write the campaign summary (JSON) to FILE");
  sub->add_flag("--require-coverage", cmd->require_coverage,
                "exit 1 if an event the profile weights (a fault, a reorg, ...) never happened");
  CLI::Option* print_opt =
      sub->add_option("--print", *print, "write the scenario file SEED generates to stdout, run nothing")->check(Unsigned());
  sub->add_option("--out", cmd->out, "directory for shrunk failing scenarios (default fuzz-failures)");
  CLI::App* merge = sub->add_subcommand("merge", "combine campaign summaries (--json files) into one, on stdout");
  merge->add_option("FILE", *merge_files, "summaries")->required()->check(CLI::ExistingFile);
  merge->callback([=, &exit_code] { exit_code = sim::MergeFuzzSummaries(*merge_files, std::cout, std::cerr); });
  sub->final_callback([=, &exit_code] {
    if (sub->got_subcommand(merge)) return;
    if (profile_opt->count() > 0) cmd->profile = *profile;
    if (print_opt->count() > 0) {
      exit_code = sim::PrintFuzzCase(*print, cmd->profile, std::cout, std::cerr);
      return;
    }
    const size_t slash = shard->find('/');
    try {
      if (slash == std::string::npos) throw std::invalid_argument("no slash");
      size_t used = 0;
      cmd->shard = static_cast<uint32_t>(std::stoul(shard->substr(0, slash), &used));
      if (used != slash) throw std::invalid_argument("trailing characters");
      cmd->shards = static_cast<uint32_t>(std::stoul(shard->substr(slash + 1), &used));
      if (used != shard->size() - slash - 1) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      std::cerr << "supersafe fuzz: --shard " << *shard << ": want I/N, e.g. 2/4\n";
      exit_code = 2;
      return;
    }
    cmd->disk = *disk == "posix" ? sim::DiskKind::kPosix : sim::DiskKind::kMemory;
    if (json_opt->count() > 0) cmd->json = *json;
    cmd->progress = isatty(STDERR_FILENO) != 0;
    exit_code = sim::RunFuzzCommand(*cmd, std::cout, std::cerr);
  });
}

}  // namespace supersafe::cli
