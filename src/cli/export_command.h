// `supersafe export FILE --out DIR [--steps-per-timestamp N] [--seed N]`: runs the scenario and
// writes one fault-proof fixture per game to DIR/<scenario name>/game-<l1head>-<pre>-<post>.json
// (sim/fp_export.h, docs/fp-fixtures.md).
#pragma once

#include <CLI/CLI.hpp>

namespace supersafe::cli {

// Registers the `export` subcommand on `app`; its exit code goes to `exit_code`: 0 when every
// fixture was written, 1 for a bad scenario, option or game or a failed run, 2 when DIR cannot be
// written. The message names what was wrong.
void AddExportCommand(CLI::App& app, int& exit_code);

}  // namespace supersafe::cli
