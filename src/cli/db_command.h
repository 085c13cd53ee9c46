// `supersafe db verify DIR` and `supersafe db dump DIR [--json]`.
#pragma once

#include <CLI/CLI.hpp>

namespace supersafe::cli {

// Registers the `db` subcommand (verify, dump) on `app`; its exit code goes to `exit_code`:
// verify exits 1 when it finds anything, dump exits 1 when a file cannot be read.
void AddDbCommand(CLI::App& app, int& exit_code);

}  // namespace supersafe::cli
