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
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
