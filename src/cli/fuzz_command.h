// `supersafe fuzz [--profile FILE] [--seeds N] [--seed-start S] [--shard I/N] [--jobs N] [--disk memory|posix]
//   [--json FILE] [--require-coverage] [--out DIR]`, `fuzz --print SEED`, `fuzz merge FILE.json...`
#pragma once

#include <CLI/CLI.hpp>

namespace supersafe::cli {

// Registers the `fuzz` subcommand on `app`; when it runs, its exit code goes to `exit_code`.
void AddFuzzCommand(CLI::App& app, int& exit_code);

}  // namespace supersafe::cli
