// `supersafe serve`: the production JSON-RPC daemon (docs/rpc.md).
#pragma once

#include <CLI/CLI.hpp>

namespace supersafe::cli {

// Registers the `serve` subcommand on `app`. It runs until SIGINT or SIGTERM and then exits 0;
// a startup error (unreadable or invalid file, bad URL, unreachable L1, data directory that does
// not open, address in use) is printed to stderr and exits 1.
void AddServeCommand(CLI::App& app, int& exit_code);

}  // namespace supersafe::cli
