#include "sim/suite.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "sim/temp_dir.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/timeline.h"

namespace supersafe::sim {

namespace {
namespace fs = std::filesystem;

// Creates `dir` (and parents) and checks it is empty.
Status PrepareDatadir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IOError(dir.string() + ": cannot create: " + ec.message());
  if (!fs::is_empty(dir, ec) || ec) return InvalidArgument(dir.string() + ": --datadir must be absent or empty");
  return Status::Ok();
}

fs::path PerScenario(const fs::path& file, const std::string& name) {
  fs::path out = file;
  out.replace_filename(file.stem().string() + "-" + name + file.extension().string());
  return out;
}

Status WriteFile(const fs::path& path, const std::string& bytes, bool append) {
  std::ofstream f(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  f << bytes;
  f.close();
  if (!f) return IOError(path.string() + ": cannot write");
  return Status::Ok();
}
}  // namespace

int RunSimCommand(const SimCommand& cmd, std::ostream& out, std::ostream& err) {
  out << "supersafe sim: " << cmd.files.size() << " scenario file(s); seed "
      << (cmd.seed ? std::to_string(*cmd.seed) : std::string("from each file")) << "; datadir "
      << (cmd.datadir ? *cmd.datadir : cmd.disk == DiskKind::kPosix ? std::string("temporary") : std::string("in memory"))
      << "; trace " << cmd.trace.value_or("-")
      << "; timeline " << cmd.timeline.value_or("-") << "\n";
  if (cmd.trace) {
    Status s = WriteFile(*cmd.trace, "", false);
    if (!s.ok()) {
      err << s.ToString() << "\n";
      return 2;
    }
  }
  const bool several = cmd.files.size() > 1;
  int failed = 0;
  for (const std::string& file : cmd.files) {
    auto parsed = ParseScenarioFile(file);
    if (!parsed.ok()) {
      out << "FAIL " << file << ": " << parsed.status().message() << "\n";
      ++failed;
      continue;
    }
    const Scenario& sc = *parsed;
    RunOptions opts;
    opts.seed = cmd.seed.value_or(sc.seed);
    opts.progress = cmd.progress;
    std::optional<fs::path> temp;
    opts.disk = cmd.datadir ? DiskKind::kPosix : cmd.disk;
    if (cmd.datadir) {
      opts.datadir = several ? fs::path(*cmd.datadir) / sc.name : fs::path(*cmd.datadir);
      Status s = PrepareDatadir(opts.datadir);
      if (!s.ok()) {
        out << "FAIL " << sc.name << ": " << s.message() << "\n";
        ++failed;
        continue;
      }
    } else if (opts.disk == DiskKind::kPosix) {
      auto t = MakeTempDir("supersafe-sim");
      if (!t.ok()) {
        err << t.status().ToString() << "\n";
        return 2;
      }
      temp = *t;
      opts.datadir = *t;
    }
    std::string chains;
    for (const auto& c : sc.chains) chains += (chains.empty() ? "" : " ") + c.name + "(" + c.id.Decimal() + ")";
    out << "scenario " << sc.name << " (" << file << "): seed " << opts.seed << ", chains " << chains << ", nodes "
        << (sc.nodes == NodesMode::kAuto ? "auto" : "manual") << ", " << sc.steps.size() << " steps\n";
    RunResult r = RunScenario(sc, opts);
    if (temp) {
      std::error_code ec;
      fs::remove_all(*temp, ec);
    }
    Status io;
    if (cmd.trace) io = WriteFile(*cmd.trace, r.trace, true);
    if (io.ok() && cmd.timeline) {
      fs::path path = several ? PerScenario(*cmd.timeline, sc.name) : fs::path(*cmd.timeline);
      io = WriteFile(path, RenderTimelineHtml(r.timeline), false);
    }
    if (!io.ok()) {
      err << io.ToString() << "\n";
      return 2;
    }
    out << (r.passed ? "PASS " : "FAIL ") << sc.name << "  steps " << r.steps_run << "/" << sc.steps.size()
        << "  digest " << r.digest.Hex() << "\n";
    if (!r.passed) {
      ++failed;
      out << "  " << r.failure << "\n";
      out << "  replay: supersafe sim " << file << " --seed " << opts.seed << "\n";
    }
  }
  if (several) out << (failed == 0 ? "all passed" : std::to_string(failed) + " failed") << "\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace supersafe::sim
