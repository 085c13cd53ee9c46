#include "sim/suite.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

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

// Why `path` (exact: that file; else: files next to it) cannot be written, if it cannot: checked
// before a run, so that a run is not lost for want of a place to put what it wrote.
std::optional<std::string> NotWritable(const fs::path& path, bool exact) {
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "directory " + dir.string() + " does not exist";
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return "directory " + dir.string() + " is not writable";
  if (!exact) return std::nullopt;
  if (fs::is_directory(path, ec)) return "it is a directory";
  if (fs::exists(path, ec) && ::access(path.c_str(), W_OK) != 0) return "the file is not writable";
  return std::nullopt;
}

// The parsed file, or nothing after its one FAIL line.
std::optional<Scenario> ParseOrReport(const std::string& file, std::ostream& out) {
  auto parsed = ParseScenarioFile(file);
  if (parsed.ok()) return std::move(parsed).value();
  out << "FAIL " << parsed.status().message() << "\n";
  return std::nullopt;
}

int CheckFiles(const SimCommand& cmd, std::ostream& out) {
  int failed = 0;
  for (const std::string& file : cmd.files) {
    auto parsed = ParseOrReport(file, out);
    if (!parsed) {
      ++failed;
      continue;
    }
    out << "OK " << Printable(file) << ": " << Printable(parsed->name) << ", " << parsed->chains.size() << " chain(s), "
        << parsed->steps.size() << " step(s)\n";
  }
  if (cmd.files.size() > 1) out << (failed == 0 ? "all valid" : std::to_string(failed) + " invalid") << "\n";
  return failed == 0 ? 0 : 1;
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
  if (cmd.check_only) return CheckFiles(cmd, out);
  const bool several = cmd.files.size() > 1;
  if (cmd.timeline) {
    if (auto why = NotWritable(*cmd.timeline, !several)) {
      err << "supersafe sim: --timeline " << Printable(*cmd.timeline) << ": cannot write: " << Printable(*why) << "\n";
      return 2;
    }
  }
  if (cmd.trace) {
    Status s = WriteFile(*cmd.trace, "", false);
    if (!s.ok()) {
      err << "supersafe sim: --trace " << Printable(*cmd.trace) << ": cannot write\n";
      return 2;
    }
  }
  out << "supersafe sim: " << cmd.files.size() << " scenario file(s); seed "
      << (cmd.seed ? std::to_string(*cmd.seed) : std::string("from each file")) << "; datadir "
      << (cmd.datadir ? *cmd.datadir : cmd.disk == DiskKind::kPosix ? std::string("temporary") : std::string("in memory"))
      << "; trace " << cmd.trace.value_or("-")
      << "; timeline " << cmd.timeline.value_or("-") << "\n";
  int failed = 0;
  for (const std::string& file : cmd.files) {
    auto parsed = ParseOrReport(file, out);
    if (!parsed) {
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
        out << "FAIL " << Printable(sc.name) << ": " << Printable(s.message()) << "\n";
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
    out << "scenario " << Printable(sc.name) << " (" << Printable(file) << "): seed " << opts.seed << ", chains "
        << Printable(chains) << ", nodes "
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
    out << (r.passed ? "PASS " : "FAIL ") << Printable(sc.name) << "  steps " << r.steps_run << "/" << sc.steps.size()
        << "  digest " << r.digest.Hex() << "\n";
    if (!r.passed) {
      ++failed;
      out << "  " << Printable(r.failure) << "\n";
      out << "  replay: supersafe sim " << Printable(file) << " --seed " << opts.seed << "\n";
    }
  }
  if (several) out << (failed == 0 ? "all passed" : std::to_string(failed) + " failed") << "\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace supersafe::sim
