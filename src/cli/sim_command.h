// `supersafe sim FILE... [--seed N] [--datadir DIR] [--trace FILE.jsonl] [--timeline FILE.html]`
#pragma once

#include <CLI/CLI.hpp>

namespace supersafe::cli {

// Registers the `sim` subcommand on `app`; when it runs, its exit code goes to `exit_code`.
void AddSimCommand(CLI::App& app, int& exit_code);

}  // namespace supersafe::cli
