// supersafe command line: sim, fuzz, export, serve, db verify / db dump.
#include <CLI/CLI.hpp>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"supersafe: OP Stack interop supervisor core, simulator and fault-proof replay"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
