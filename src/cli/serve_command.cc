#include "cli/serve_command.h"

#include <signal.h>

#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>

#include "daemon/daemon.h"

namespace supersafe::cli {

namespace {

struct ServeArgs {
  std::string datadir, dependency_set, rollup_config_set, admin_jwt_secret, l1_rpc;
  std::vector<std::string> l2_rpc;
  std::string addr = "127.0.0.1";
  int port = 8545;
  int poll_interval_ms = 2000;
  int upstream_timeout_ms = 10000;
};

void Log(const std::string& line) {
  static std::mutex mu;
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);  // the poll thread and the main thread both log
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::lock_guard<std::mutex> g(mu);
  std::cerr << stamp << " supersafe serve: " << line << std::endl;
}

int Serve(const ServeArgs& args) {
  daemon::DaemonConfig config;
  config.datadir = args.datadir;
  config.dependency_set = args.dependency_set;
  config.rollup_config_set = args.rollup_config_set;
  if (!args.admin_jwt_secret.empty()) config.admin_jwt_secret = args.admin_jwt_secret;
  config.l1_rpc = args.l1_rpc;
  for (const std::string& spec : args.l2_rpc) {
    size_t eq = spec.find('=');
    auto id = ChainID::Parse(eq == std::string::npos ? "" : spec.substr(0, eq));
    if (eq == std::string::npos || !id.ok()) {
      Log("--l2-rpc '" + spec + "': want CHAINID=URL");
      return 1;
    }
    if (!config.l2_rpc.emplace(*id, spec.substr(eq + 1)).second) {
      Log("--l2-rpc: chain " + id->Decimal() + " given twice");
      return 1;
    }
  }
  config.server.addr = args.addr;
  config.server.port = args.port;
  config.poll_interval = std::chrono::milliseconds(args.poll_interval_ms);
  config.upstream_timeout = std::chrono::milliseconds(args.upstream_timeout_ms);

  // Every thread inherits the blocked signals; this one takes them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto d = daemon::Daemon::Start(config, Log);
  if (!d.ok()) {
    Log("cannot start: " + d.status().ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  Log(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
  (*d)->Stop();
  Log("stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "run the JSON-RPC daemon over a data directory");
  cmd->add_option("--datadir", args->datadir, "data directory (supersafe.db, chains/<id>/events.db)")->required();
  cmd->add_option("--l1-rpc", args->l1_rpc, "L1 node, http://host:port")->required();
  cmd->add_option("--l2-rpc", args->l2_rpc, "L2 node of a chain, CHAINID=URL (once per chain)")->required();
  cmd->add_option("--dependency-set", args->dependency_set, "op-supervisor dependency-set JSON")->required();
  cmd->add_option("--rollup-config-set", args->rollup_config_set, "per-chain genesis and block times JSON")->required();
  cmd->add_option("--rpc.addr", args->addr, "listen address")->capture_default_str();
  cmd->add_option("--rpc.port", args->port, "listen port (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--admin-jwt-secret", args->admin_jwt_secret, "hex secret for admin_* calls (HS256 JWT); without it admin calls are refused");
  cmd->add_option("--poll-interval-ms", args->poll_interval_ms, "upstream poll period; 0 turns polling off")
      ->capture_default_str()->check(CLI::Range(0, 3600000));
  cmd->add_option("--upstream-timeout-ms", args->upstream_timeout_ms, "timeout of each upstream request")
      ->capture_default_str()->check(CLI::Range(1, 600000));
  cmd->callback([args, &exit_code] { exit_code = Serve(*args); });
}

}  // namespace supersafe::cli
