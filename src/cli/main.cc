// supersafe command line: one subcommand per file (sim_command.cc, ...).
#include <CLI/CLI.hpp>

#include "cli/db_command.h"
#include "cli/export_command.h"
#include "cli/fuzz_command.h"
#include "cli/serve_command.h"
#include "cli/sim_command.h"

int main(int argc, char** argv) {
  CLI::App app{"supersafe: OP Stack interop supervisor core, simulator and fault-proof replay"};
  app.require_subcommand(1);
  int exit_code = 0;
  supersafe::cli::AddSimCommand(app, exit_code);
  supersafe::cli::AddDbCommand(app, exit_code);
  supersafe::cli::AddFuzzCommand(app, exit_code);
  supersafe::cli::AddExportCommand(app, exit_code);
  supersafe::cli::AddServeCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message (or the help); a usage error exits 2 in every subcommand, as a
    // bad fuzz profile or export option does.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
