#include "cli/export_command.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/options.h"
#include "sim/fp_export.h"
#include "sim/scenario.h"

namespace supersafe::cli {

namespace {

namespace fs = std::filesystem;

struct ExportArgs {
  std::string file;
  std::string out;
  uint64_t steps = kDefaultStepsPerTimestamp;
  std::optional<uint64_t> seed;
};

// The scenario name becomes a directory name: letters, digits, '.', '_', '-', not starting with '.'.
Status CheckDirName(const std::string& name) {
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      return InvalidArgument("scenario name '" + name + "' is not a plain directory name (letters, digits, . _ -)");
  if (name.front() == '.') return InvalidArgument("scenario name '" + name + "' starts with '.'");
  return Status::Ok();
}

Status WriteFixture(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.string() + ".tmp";
  std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
  f << bytes;
  f.close();
  if (!f) return IOError(tmp.string() + ": cannot write");
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return IOError(path.string() + ": cannot write: " + ec.message());
  return Status::Ok();
}

int RunExport(const ExportArgs& args) {
  auto fail = [](const Status& s) {
    std::cerr << "supersafe export: " << s.ToString() << "\n";
    return s.code() == Code::kIOError ? 2 : 1;
  };
  auto sc = sim::ParseScenarioFile(args.file);
  if (!sc.ok()) return fail(sc.status());
  if (Status s = CheckDirName(sc->name); !s.ok()) return fail(s);
  sim::ExportOptions opt;
  opt.seed = args.seed.value_or(sc->seed);
  opt.steps_per_timestamp = args.steps;
  std::cout << "supersafe export: " << sc->name << " (" << args.file << "): seed " << opt.seed << ", "
            << sc->games.size() << " game(s), " << opt.steps_per_timestamp << " steps per timestamp\n";
  auto fixtures = sim::ExportFixtures(*sc, opt);
  if (!fixtures.ok()) return fail(fixtures.status());
  const fs::path dir = fs::path(args.out) / sc->name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(IOError(dir.string() + ": cannot create: " + ec.message()));
  for (const sim::GameFixture& f : *fixtures) {
    if (Status s = WriteFixture(dir / f.file_name, f.json); !s.ok()) return fail(s);
    std::cout << "wrote " << (dir / f.file_name).string() << "\n";
  }
  return 0;
}

}  // namespace

void AddExportCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ExportArgs>();
  auto seed = std::make_shared<uint64_t>(0);
  CLI::App* sub = app.add_subcommand("export", "run a scenario and write fault-proof fixtures for its games");
  sub->add_option("FILE", args->file, "scenario file (YAML) with `games:`")->required()->check(CLI::ExistingFile);
  sub->add_option("--out", args->out, "write DIR/<scenario name>/game-<l1head>-<pre>-<post>.json")->required();
  sub->add_option("--steps-per-timestamp", args->steps, "steps per super timestamp (default 128)")
      ->check(Unsigned());
  CLI::Option* seed_opt = sub->add_option("--seed", *seed, "seed (default: the file's own)")->check(Unsigned());
  sub->final_callback([=, &exit_code] {
    if (seed_opt->count() > 0) args->seed = *seed;
    exit_code = RunExport(*args);
  });
}

}  // namespace supersafe::cli
