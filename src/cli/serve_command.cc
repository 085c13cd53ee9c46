#include "cli/serve_command.h"

#include <signal.h>

#include <atomic>
#include <cctype>
#include <iostream>
#include <memory>
#include <mutex>

#include "daemon/daemon.h"
#include "daemon/log.h"

namespace supersafe::cli {

namespace {

// op-service's prefix: every flag is also read from OP_SUPERVISOR_<NAME>, so an op-supervisor
// deployment's environment configures `supersafe serve` unchanged.
constexpr const char* kEnvPrefix = "OP_SUPERVISOR_";

constexpr const char* kIoThreadsHelp = "threads serving the RPC connections (0: one per core)";

struct ServeArgs {
  std::string datadir, dependency_set, rollup_config_set, rollup_config_paths, admin_jwt_secret, l1_rpc;
  std::string l1_rpc_jwt_secret;
  std::vector<std::string> l2_rpc, l2_rpc_jwt_secret, l2_consensus_nodes, l2_consensus_jwt_secret;
  std::string addr = "127.0.0.1";
  int port = 8545;
  int io_threads = 0;
  bool enable_admin = false;
  bool metrics_enabled = false;
  std::string metrics_addr = "127.0.0.1";
  int metrics_port = 7300;
  std::string log_level = "info";
  std::string log_format = "text";
  int poll_interval_ms = 2000;
  int upstream_timeout_ms = 10000;
};

// "--rpc.enable-admin" -> "OP_SUPERVISOR_RPC_ENABLE_ADMIN", as op-service derives its names.
std::string EnvNameOf(const std::string& flag) {
  std::string out = kEnvPrefix;
  for (char c : flag.substr(flag.find_first_not_of('-')))
    out += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

class Logger {
 public:
  Logger(daemon::LogLevel min, daemon::LogFormat format) : min_(min), format_(format) {}
  void operator()(daemon::LogLevel level, const std::string& message) {
    if (level < min_) return;
    const std::string line = daemon::FormatLogLine(format_, level, std::chrono::system_clock::now(), message);
    std::lock_guard<std::mutex> g(mu_);  // the poll thread and the main thread both log
    std::cerr << line << std::endl;
  }

 private:
  const daemon::LogLevel min_;
  const daemon::LogFormat format_;
  std::mutex mu_;
};

int Serve(const ServeArgs& args) {
  auto format = daemon::ParseLogFormat(args.log_format);
  auto level = daemon::ParseLogLevel(args.log_level);
  if (!format.ok() || !level.ok()) {
    std::cerr << "supersafe serve: " << (format.ok() ? level.status() : format.status()).message() << std::endl;
    return 1;
  }
  auto logger = std::make_shared<Logger>(*level, *format);
  auto log = [logger](daemon::LogLevel l, const std::string& m) { (*logger)(l, m); };

  daemon::DaemonConfig config;
  config.datadir = args.datadir;
  config.dependency_set = args.dependency_set;
  config.rollup_config_set = args.rollup_config_set;
  config.rollup_config_paths = args.rollup_config_paths;
  if (!args.admin_jwt_secret.empty()) config.admin_jwt_secret = args.admin_jwt_secret;
  config.enable_admin = args.enable_admin;
  config.l1_rpc = args.l1_rpc;
  for (const std::string& spec : args.l2_rpc) {
    size_t eq = spec.find('=');
    auto id = ChainID::Parse(eq == std::string::npos ? "" : spec.substr(0, eq));
    if (eq == std::string::npos || !id.ok()) {
      log(daemon::LogLevel::kCrit, "--l2-rpc '" + spec + "': want CHAINID=URL");
      return 1;
    }
    if (!config.l2_rpc.emplace(*id, spec.substr(eq + 1)).second) {
      log(daemon::LogLevel::kCrit, "--l2-rpc: chain " + id->Decimal() + " given twice");
      return 1;
    }
  }
  if (!args.l1_rpc_jwt_secret.empty()) config.l1_rpc_jwt_secret = args.l1_rpc_jwt_secret;
  // Empty entries are dropped, as op-supervisor filters its string-slice flags.
  for (const std::string& url : args.l2_consensus_nodes)
    if (!url.empty()) config.l2_consensus_nodes.push_back(url);
  for (const std::string& file : args.l2_consensus_jwt_secret)
    if (!file.empty()) config.l2_consensus_jwt_secrets.push_back(file);
  for (const std::string& spec : args.l2_rpc_jwt_secret) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      if (config.l2_rpc_jwt_secret) {
        log(daemon::LogLevel::kCrit, "--l2-rpc.jwt-secret: one FILE for every chain, given twice");
        return 1;
      }
      config.l2_rpc_jwt_secret = spec;
      continue;
    }
    auto id = ChainID::Parse(spec.substr(0, eq));
    if (!id.ok() || !config.l2_rpc_chain_jwt_secret.emplace(*id, spec.substr(eq + 1)).second) {
      log(daemon::LogLevel::kCrit, "--l2-rpc.jwt-secret '" + spec + "': want FILE or CHAINID=FILE, once per chain");
      return 1;
    }
  }
  config.server.addr = args.addr;
  config.server.port = args.port;
  config.server.io_threads = static_cast<size_t>(args.io_threads);
  config.metrics.enabled = args.metrics_enabled;
  config.metrics.addr = args.metrics_addr;
  config.metrics.port = args.metrics_port;
  config.poll_interval = std::chrono::milliseconds(args.poll_interval_ms);
  config.upstream_timeout = std::chrono::milliseconds(args.upstream_timeout_ms);

  // Every thread inherits the blocked signals; this one takes them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto d = daemon::Daemon::Start(config, log);
  if (!d.ok()) {
    log(daemon::LogLevel::kCrit, "cannot start: " + d.status().ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  log(daemon::LogLevel::kInfo, std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
  (*d)->Stop();
  log(daemon::LogLevel::kInfo, "stopped");
  return 0;
}

// The load benchmark's yardstick (scripts/bench-load): the daemon's HTTP server with its options,
// answering every POST with one fixed JSON-RPC answer, no core behind it.
int ServeConstant(const std::string& addr, int port, int io_threads) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  daemon::ServerOptions options;
  options.addr = addr;
  options.port = port;
  options.io_threads = static_cast<size_t>(io_threads);
  auto server = daemon::Server::StartConstant(options, R"({"jsonrpc":"2.0","id":1,"result":null})");
  if (!server.ok()) {
    std::cerr << "cannot start: " << server.status().ToString() << "\n";
    return 1;
  }
  std::cerr << "serving a constant answer on " << addr << ":" << (*server)->port() << "\n";
  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Stop();
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  {
    auto addr = std::make_shared<std::string>("127.0.0.1");
    auto port = std::make_shared<int>(8545);
    auto io_threads = std::make_shared<int>(0);
    CLI::App* constant = app.add_subcommand(
        "serve-constant", "the load benchmark's yardstick: serve's HTTP server answering every POST with a fixed result");
    constant->add_option("--rpc.addr", *addr, "listen address")->capture_default_str();
    constant->add_option("--rpc.port", *port, "listen port")->capture_default_str()->check(CLI::Range(0, 65535));
    constant->add_option("--rpc.io-threads", *io_threads, kIoThreadsHelp)->capture_default_str()->check(CLI::Range(0, 256));
    constant->callback([addr, port, io_threads, &exit_code] { exit_code = ServeConstant(*addr, *port, *io_threads); });
  }
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "run the JSON-RPC daemon over a data directory (op-supervisor's flags and "
                                              "OP_SUPERVISOR_* environment variables)");
  std::vector<CLI::Option*> options = {
      cmd->add_option("--datadir", args->datadir, "data directory (supersafe.db, chains/<id>/events.db)")->required(),
      cmd->add_option("--l1-rpc", args->l1_rpc, "L1 node: http(s)://host:port[/path] or ws(s)://... (new heads by subscription)")
          ->required(),
      cmd->add_option("--l2-rpc", args->l2_rpc, "L2 node of a chain, CHAINID=URL (once per chain; comma-separated in the "
                                                "environment); not needed for a chain with a managed op-node")
          ->delimiter(','),
      cmd->add_option("--l2-consensus.nodes", args->l2_consensus_nodes,
                      "op-nodes to manage over their interop RPC, ws(s):// or http(s):// (comma-separated)")
          ->delimiter(','),
      cmd->add_option("--l2-consensus.jwt-secret", args->l2_consensus_jwt_secret,
                      "hex JWT secret files of the managed op-nodes: one for all, or one per node in order")
          ->delimiter(','),
      cmd->add_option("--l1-rpc.jwt-secret", args->l1_rpc_jwt_secret,
                      "hex secret for an L1 node that wants an Engine-API-style JWT"),
      cmd->add_option("--l2-rpc.jwt-secret", args->l2_rpc_jwt_secret,
                      "hex secret for L2 nodes that want a JWT: FILE (every chain) or CHAINID=FILE")
          ->delimiter(','),
      cmd->add_option("--dependency-set", args->dependency_set, "op-supervisor dependency-set JSON")->required(),
      cmd->add_option("--rollup-config-set", args->rollup_config_set,
                      "per-chain genesis and block times JSON (or --rollup-config-paths)"),
      cmd->add_option("--rollup-config-paths", args->rollup_config_paths,
                      "glob of op-node rollup.json files, e.g. '/configs/rollup-*.json' (or --rollup-config-set)"),
      cmd->add_option("--rpc.addr", args->addr, "listen address")->capture_default_str(),
      cmd->add_option("--rpc.port", args->port, "listen port (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535)),
      cmd->add_option("--rpc.io-threads", args->io_threads, kIoThreadsHelp)->capture_default_str()->check(CLI::Range(0, 256)),
      cmd->add_flag("--rpc.enable-admin", args->enable_admin, "serve the admin methods (they need --admin-jwt-secret)"),
      cmd->add_option("--admin-jwt-secret", args->admin_jwt_secret,
                      "hex secret for admin_* calls (HS256 JWT); without it admin calls are refused"),
      cmd->add_flag("--metrics.enabled", args->metrics_enabled, "serve Prometheus metrics on a separate address"),
      cmd->add_option("--metrics.addr", args->metrics_addr, "metrics listen address")->capture_default_str(),
      cmd->add_option("--metrics.port", args->metrics_port, "metrics listen port (0: any free port)")
          ->capture_default_str()
          ->check(CLI::Range(0, 65535)),
      cmd->add_option("--log.level", args->log_level, "trace, debug, info, warn, error or crit")->capture_default_str(),
      cmd->add_option("--log.format", args->log_format, "text, terminal, logfmt or json")->capture_default_str(),
      cmd->add_option("--poll-interval-ms", args->poll_interval_ms, "upstream poll period; 0 turns polling off")
          ->capture_default_str()
          ->check(CLI::Range(0, 3600000)),
      cmd->add_option("--upstream-timeout-ms", args->upstream_timeout_ms, "timeout of each upstream request")
          ->capture_default_str()
          ->check(CLI::Range(1, 600000)),
  };
  for (CLI::Option* opt : options) opt->envname(EnvNameOf(opt->get_lnames().front()));
  cmd->callback([args, &exit_code] { exit_code = Serve(*args); });
}

}  // namespace supersafe::cli
