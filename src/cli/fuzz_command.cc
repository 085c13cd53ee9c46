#include "cli/fuzz_command.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/options.h"
#include "sim/fuzz.h"

namespace supersafe::cli {

void AddFuzzCommand(CLI::App& app, int& exit_code) {
  auto cmd = std::make_shared<sim::FuzzCommand>();
  auto profile = std::make_shared<std::string>();
  auto shard = std::make_shared<std::string>("1/1");
  CLI::App* sub = app.add_subcommand(
      "fuzz", "run generated scenarios (reorgs, flip-flops, replacements, node calls, crashes); shrink every failure");
  CLI::Option* profile_opt =
      sub->add_option("--profile", *profile, "YAML profile: chains, steps, manual_percent, weights")->check(CLI::ExistingFile);
  sub->add_option("--seeds", cmd->seeds, "how many seeds (default 100)")->check(Unsigned());
  sub->add_option("--seed-start", cmd->seed_start, "first seed (default 1)")->check(Unsigned());
  sub->add_option("--shard", *shard, "I/N: run only the I-th of N shares of the seeds (1-based; default 1/1)");
  sub->add_option("--out", cmd->out, "directory for shrunk failing scenarios (default fuzz-failures)");
  sub->final_callback([=, &exit_code] {
    if (profile_opt->count() > 0) cmd->profile = *profile;
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
    cmd->progress = isatty(STDERR_FILENO) != 0;
    exit_code = sim::RunFuzzCommand(*cmd, std::cout, std::cerr);
  });
}

}  // namespace supersafe::cli
