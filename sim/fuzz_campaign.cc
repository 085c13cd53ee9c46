#include "sim/fuzz_campaign.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "sim/fuzz.h"
#include "sim/temp_dir.h"

namespace supersafe::sim {

namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

Result<FuzzProfile> LoadProfile(const std::optional<std::string>& file) {
  if (!file) return FuzzProfile{};
  std::ifstream f(*file, std::ios::binary);
  std::stringstream text;
  text << f.rdbuf();
  if (!f) return IOError(*file + ": cannot read");
  return ParseFuzzProfile(text.str(), *file);
}

// What one seed came to, with its shrunk file when it failed.
struct SeedOutcome {
  uint64_t seed = 0;
  bool done = false;
  bool failed = false;
  bool discarded = false;
  std::string failure;          // the first run's failure
  std::string report;           // the lines printed for a failure
  std::string shrunk_file;      // where the shrunk scenario went
  std::string shrunk_scenario;  // its text (written by the main thread, in seed order)
  std::map<std::string, uint64_t> coverage;
};

SeedOutcome RunSeed(uint64_t seed, const FuzzProfile& profile, const FuzzCommand& cmd) {
  SeedOutcome o;
  o.seed = seed;
  const FuzzCase c = GenerateCase(seed, profile);
  const RunResult r = RunCase(c, cmd.disk);
  o.coverage = r.coverage;
  o.discarded = r.failure_kind == FailureKind::kStep;
  o.failed = !r.passed && !o.discarded;
  o.failure = r.failure;
  if (!o.failed) return o;
  const std::string signature = FailureSignature(r);
  size_t runs = 0;
  const FuzzCase small = ShrinkCase(
      c, [&](const FuzzCase& cand) { return FailureSignature(RunCase(cand, cmd.disk)) == signature; },
      cmd.max_shrink_runs, &runs);
  const RunResult again = RunCase(small, cmd.disk);
  o.shrunk_file = (fs::path(cmd.out) / ("fuzz-" + std::to_string(seed) + ".yaml")).string();
  std::ostringstream file;
  file << "# Found by supersafe fuzz (seed " << seed << "), shrunk from " << c.steps.size() << " to "
       << small.steps.size() << " step intents in " << runs << " runs.\n# Fails with: " << again.failure << "\n"
       << RenderScenario(small);
  o.shrunk_scenario = file.str();
  std::ostringstream report;
  report << "FAIL seed " << seed << ": " << r.failure << "\n"
         << "  shrunk to " << small.steps.size() << " steps in " << runs << " runs: " << o.shrunk_file << " ("
         << o.shrunk_scenario.size() << " bytes)\n"
         << "  fails with: " << again.failure << "\n"
         << "  replay: supersafe sim " << o.shrunk_file << "\n";
  o.report = report.str();
  return o;
}

ordered_json CoverageJson(const std::map<std::string, uint64_t>& coverage) {
  ordered_json j = ordered_json::object();
  for (const auto& [name, count] : coverage) j[name] = count;
  return j;
}

// The counters `aimed` names that stayed at 0.
std::vector<std::string> NeverProduced(const std::vector<std::string>& aimed, const std::map<std::string, uint64_t>& coverage) {
  std::vector<std::string> out;
  for (const std::string& name : aimed)
    if (auto it = coverage.find(name); it == coverage.end() || it->second == 0) out.push_back(name);
  return out;
}

std::string Join(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

int RunFuzzCommand(const FuzzCommand& cmd, std::ostream& out, std::ostream& err) {
  Result<FuzzProfile> loaded = LoadProfile(cmd.profile);
  if (!loaded.ok()) {
    err << "supersafe fuzz: " << loaded.status().message() << "\n";
    return 2;
  }
  const FuzzProfile profile = *loaded;
  if (cmd.shards == 0 || cmd.shard == 0 || cmd.shard > cmd.shards) {
    err << "supersafe fuzz: --shard I/N wants 1 <= I <= N\n";
    return 2;
  }
  // On real files every case runs in a temporary directory: without one, no case could run.
  if (cmd.disk == DiskKind::kPosix) {
    if (auto base = TempBase(); !base.ok()) {
      err << "supersafe fuzz: " << base.status().message() << "\n";
      return 2;
    }
  }
  std::vector<uint64_t> seeds;
  for (uint64_t offset = cmd.shard - 1; offset < cmd.seeds; offset += cmd.shards) seeds.push_back(cmd.seed_start + offset);
  const uint32_t jobs = std::max<uint32_t>(
      1, std::min<uint64_t>(cmd.jobs != 0 ? cmd.jobs : std::max(1u, std::thread::hardware_concurrency()),
                            std::max<size_t>(1, seeds.size())));
  out << "supersafe fuzz: seeds " << cmd.seed_start << ".." << cmd.seed_start + cmd.seeds - 1 << " (shard " << cmd.shard
      << "/" << cmd.shards << "); profile " << cmd.profile.value_or("default") << ": chains " << profile.min_chains << "-"
      << profile.max_chains << ", " << profile.steps << " steps, " << profile.manual_percent << "% manual nodes; disk "
      << (cmd.disk == DiskKind::kMemory ? "memory" : "posix") << "; " << jobs << " jobs; failures to " << cmd.out
      << std::endl;

  std::vector<SeedOutcome> outcomes(seeds.size());
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < seeds.size();) {
      SeedOutcome o = RunSeed(seeds[i], profile, cmd);
      o.done = true;
      std::lock_guard lock(mu);
      outcomes[i] = std::move(o);
      cv.notify_one();
    }
  };
  std::vector<std::thread> workers;
  for (uint32_t j = 0; j < jobs; ++j) workers.emplace_back(work);

  // Results are reported in seed order as they complete, whatever the number of jobs.
  size_t reported = 0, failed = 0, discarded = 0;
  int io_error = 0;
  std::map<std::string, uint64_t> coverage;
  while (reported < seeds.size()) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return outcomes[reported].done; });
    }
    // Done: no worker touches this outcome again.
    SeedOutcome& o = outcomes[reported];
    for (const auto& [name, count] : o.coverage) coverage[name] += count;
    discarded += o.discarded;
    if (o.failed) {
      ++failed;
      std::error_code ec;
      fs::create_directories(cmd.out, ec);
      std::ofstream f(o.shrunk_file, std::ios::binary | std::ios::trunc);
      f << o.shrunk_scenario;
      f.close();
      if (ec || !f) {
        err << "supersafe fuzz: cannot write " << o.shrunk_file << "\n";
        io_error = 2;
      }
      if (cmd.progress) err << "\r\033[K" << std::flush;
      out << o.report << std::flush;
    }
    ++reported;
    if (cmd.progress)
      err << "\r  fuzz: " << reported << "/" << seeds.size() << " seeds, " << failed << " failed, " << discarded
          << " discarded" << std::flush;
  }
  for (std::thread& t : workers) t.join();
  if (cmd.progress) err << "\r\033[K" << std::flush;

  out << "coverage:";
  for (const auto& [name, count] : coverage) out << " " << name << " " << count;
  out << "\n";
  const std::vector<std::string> missing = NeverProduced(CoverageAimedAt(profile), coverage);
  if (!missing.empty()) out << "never produced (the profile aims at them): " << Join(missing) << "\n";
  // The discarded seeds by name, so that each can be looked at (`fuzz --print SEED`): all of them
  // up to kListed, with the reason of the first few.
  constexpr size_t kListed = 100, kExplained = 3;
  std::vector<const SeedOutcome*> discards;
  for (const SeedOutcome& o : outcomes)
    if (o.discarded) discards.push_back(&o);
  if (!discards.empty()) {
    out << "discarded seeds (a step the world could not do; supersafe fuzz --print SEED writes one):";
    for (size_t i = 0; i < discards.size() && i < kListed; ++i) out << " " << discards[i]->seed;
    if (discards.size() > kListed) out << " and " << discards.size() - kListed << " more (--json lists every one)";
    out << "\n";
    for (size_t i = 0; i < discards.size() && i < kExplained; ++i)
      out << "  seed " << discards[i]->seed << ": " << discards[i]->failure << "\n";
  }
  const size_t ran = seeds.size();
  out << "fuzz: " << ran << " seeds, " << ran - failed - discarded << " passed, " << failed << " failed, " << discarded
      << " discarded (a step the world could not do)\n";

  if (cmd.json) {
    ordered_json j;
    j["campaigns"] = ordered_json::array({{{"seed_start", cmd.seed_start},
                                           {"seeds", cmd.seeds},
                                           {"shard", std::to_string(cmd.shard) + "/" + std::to_string(cmd.shards)},
                                           {"profile", cmd.profile.value_or("default")}}});
    j["ran"] = ran;
    j["passed"] = ran - failed - discarded;
    j["failed"] = ordered_json::array();
    j["discarded"] = ordered_json::array();
    for (const SeedOutcome& o : outcomes) {
      if (o.failed) j["failed"].push_back({{"seed", o.seed}, {"file", o.shrunk_file}, {"failure", o.failure}});
      if (o.discarded) j["discarded"].push_back(o.seed);
    }
    j["coverage"] = CoverageJson(coverage);
    j["never_produced"] = missing;
    std::ofstream f(*cmd.json, std::ios::binary | std::ios::trunc);
    f << j.dump(2) << "\n";
    f.close();
    if (!f) {
      err << "supersafe fuzz: cannot write " << *cmd.json << "\n";
      return 2;
    }
  }
  if (io_error != 0) return io_error;
  return failed == 0 && (!cmd.require_coverage || missing.empty()) ? 0 : 1;
}

int PrintFuzzCase(uint64_t seed, const std::optional<std::string>& profile, std::ostream& out, std::ostream& err) {
  Result<FuzzProfile> loaded = LoadProfile(profile);
  if (!loaded.ok()) {
    err << "supersafe fuzz: " << loaded.status().message() << "\n";
    return 2;
  }
  out << RenderScenario(GenerateCase(seed, *loaded));
  return 0;
}

int MergeFuzzSummaries(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  ordered_json merged;
  merged["campaigns"] = ordered_json::array();
  uint64_t ran = 0, passed = 0;
  std::vector<ordered_json> failed;
  std::vector<uint64_t> discarded;
  std::map<std::string, uint64_t> coverage;
  std::set<std::string> never;
  bool first = true;
  for (const std::string& file : files) {
    std::ifstream f(file, std::ios::binary);
    ordered_json j;
    try {
      if (!f) throw std::runtime_error("cannot read");
      j = ordered_json::parse(f);
      for (const auto& c : j.at("campaigns")) merged["campaigns"].push_back(c);
      ran += j.at("ran").get<uint64_t>();
      passed += j.at("passed").get<uint64_t>();
      for (const auto& x : j.at("failed")) failed.push_back(x);
      for (const auto& x : j.at("discarded")) discarded.push_back(x.get<uint64_t>());
      std::set<std::string> missing_here;
      for (const auto& [name, count] : j.at("coverage").items()) coverage[name] += count.get<uint64_t>();
      for (const auto& x : j.at("never_produced")) missing_here.insert(x.get<std::string>());
      // Produced by the merge: what no campaign produced.
      if (first) never = missing_here;
      else std::erase_if(never, [&](const std::string& n) { return missing_here.count(n) == 0; });
      first = false;
    } catch (const std::exception& e) {
      err << "supersafe fuzz merge: " << file << ": not a fuzz summary (" << e.what() << ")\n";
      return 2;
    }
  }
  std::sort(failed.begin(), failed.end(),
            [](const ordered_json& a, const ordered_json& b) { return a.at("seed").get<uint64_t>() < b.at("seed").get<uint64_t>(); });
  std::sort(discarded.begin(), discarded.end());
  merged["ran"] = ran;
  merged["passed"] = passed;
  merged["failed"] = failed;
  merged["discarded"] = discarded;
  merged["coverage"] = CoverageJson(coverage);
  merged["never_produced"] = std::vector<std::string>(never.begin(), never.end());
  out << merged.dump(2) << "\n";
  return failed.empty() ? 0 : 1;
}

}  // namespace supersafe::sim
