// Event-log DB benchmarks (bench/README.md, "event-log DB"):
//  - FollowTip: one fdatasync per L2 block of 100 logs, against the raw write+fdatasync loop of the
//    same bytes, interleaved in the same process; the ratio is the figure.
//  - CatchUp: one write and one fdatasync per 100 blocks of 100 logs; logs per second.
//  - Contains and ContainsChecksum on a 100-million-log DB (1M blocks x 100 logs), built once per
//    run by a child process in a temporary directory (under /var/tmp, or SUPERSAFE_BENCH_DIR) and
//    removed at exit, with the whole file mapped or a mapped window of the newest 64 MiB (older
//    blocks by pread); the process's resident memory (VmRSS, RssAnon, RssFile) is reported after
//    the lookups.
//  - PreadLookup: the same lookups as single pread calls, to show what the mmap read path buys.
// Timed regions: FollowTip, one Append (and, interleaved, one raw write+fdatasync, timed apart);
// CatchUp, one AppendBatch of 100 blocks (making the blocks is not timed); Contains, one lookup;
// ContainsChecksum, 4096 lookups (their checksums are computed outside the timing); PreadLookup,
// one pread. Building and opening the big DB are not timed by the library: their times are the
// build_Mlogs_per_s and open_s counters.
// SUPERSAFE_BENCH_BIG_BLOCKS=N builds the big DB with N blocks of 100 logs instead of 1 million
// (the scaling curves); SUPERSAFE_BENCH_SMOKE=1 shrinks every size so that the whole binary runs
// in seconds (the bench-smoke test suite).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/access_list.h"
#include "db/event_db.h"
#include "db/event_db_format.h"

namespace supersafe::db {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kLogsPerBlock = 100;
bool Smoke() {
  const char* env = std::getenv("SUPERSAFE_BENCH_SMOKE");
  return env != nullptr && std::string(env) == "1";
}
uint64_t BigBlocks() {
  const char* env = std::getenv("SUPERSAFE_BENCH_BIG_BLOCKS");
  if (env != nullptr) return std::max<uint64_t>(100, std::strtoull(env, nullptr, 10));
  return Smoke() ? 20'000 : 1'000'000;
}
const uint64_t kBigBlocks = BigBlocks();
constexpr uint64_t kBigFirstBlock = 1'000;
const ChainID kChain(uint64_t{10});

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Cheap, distinct stand-ins for real hashes (keccak would dominate the set-up, not the DB).
Hash FakeHash(uint64_t tag, uint64_t a, uint64_t b) {
  uint64_t x = tag * 0x100000001b3ULL ^ (a << 8) ^ b;
  Hash h;
  for (int w = 0; w < 4; ++w) PutU64BE(h.data() + 8 * w, SplitMix(x));
  return h;
}
Hash BlockHash(uint64_t n) { return FakeHash(1, n, 0); }
Hash LogHash(uint64_t n, uint32_t i) { return FakeHash(2, n, i); }

// Rewrites `b` in place as block `n` of the benchmark chain (100 logs).
void MakeBlock(uint64_t n, BlockRecord& b) {
  b.ref = BlockRef{.hash = BlockHash(n), .number = n, .parent_hash = BlockHash(n - 1), .timestamp = 2 * n};
  b.logs.resize(kLogsPerBlock);
  for (uint32_t i = 0; i < kLogsPerBlock; ++i) b.logs[i].log_hash = LogHash(n, i);
}

// The temporary directory of this run, created on first use and removed at exit.
class BenchDir {
 public:
  static const std::filesystem::path& Get() {
    if (path().empty()) {
      const char* env = std::getenv("SUPERSAFE_BENCH_DIR");
      std::string pattern = std::string(env != nullptr ? env : "/var/tmp") + "/supersafe-event-db-bench-XXXXXX";
      SS_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp " + pattern);
      path() = pattern;
    }
    return path();
  }
  static void Remove() {
    if (!path().empty()) std::filesystem::remove_all(path());
  }

 private:
  static std::filesystem::path& path() {
    static std::filesystem::path p;
    return p;
  }
};

std::unique_ptr<EventDB> OpenOrDie(const std::filesystem::path& file) {
  auto db = EventDB::Open(file, kChain);
  SS_CHECK(db.ok(), db.status().ToString());
  return std::move(db).value();
}

// Resident memory from /proc/self/status, in MiB.
struct Rss {
  double vm = 0, anon = 0, file = 0;
  static Rss Now() {
    Rss r;
    std::ifstream status("/proc/self/status");
    std::string key;
    double kb = 0;
    while (status >> key) {
      if (key == "VmRSS:" && status >> kb) r.vm = kb / 1024;
      if (key == "RssAnon:" && status >> kb) r.anon = kb / 1024;
      if (key == "RssFile:" && status >> kb) r.file = kb / 1024;
    }
    return r;
  }
};

void BM_FollowTip(benchmark::State& state) {
  const auto dir = BenchDir::Get() / "follow";
  std::filesystem::remove_all(dir);
  auto db = OpenOrDie(dir / "events.db");
  BlockRecord block;
  uint64_t n = 0;
  MakeBlock(n, block);
  SS_CHECK(db->Append(block).ok(), "append");
  // The raw loop writes the very bytes the DB wrote for a block.
  const uint64_t size = event_format::BlockSize(kLogsPerBlock, 0);
  Bytes bytes(size);
  {
    const int fd = ::open((dir / "events.db").c_str(), O_RDONLY);
    SS_CHECK(::pread(fd, bytes.data(), size, event_format::kFileHeaderSize) == static_cast<ssize_t>(size), "pread");
    ::close(fd);
  }
  const int raw = ::open((dir / "raw.bin").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  SS_CHECK(raw >= 0, "open raw file");

  Clock::duration db_time{}, raw_time{};
  for (auto _ : state) {
    MakeBlock(++n, block);
    const bool raw_first = n % 2 == 0;  // alternate so that neither side always follows the other
    for (int side = 0; side < 2; ++side) {
      const auto start = Clock::now();
      if ((side == 0) == raw_first) {
        SS_CHECK(::write(raw, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()), "raw write");
        SS_CHECK(::fdatasync(raw) == 0, "raw fdatasync");
        raw_time += Clock::now() - start;
      } else {
        SS_CHECK(db->Append(block).ok(), "append");
        db_time += Clock::now() - start;
      }
    }
  }
  ::close(raw);
  const double db_s = std::chrono::duration<double>(db_time).count();
  const double raw_s = std::chrono::duration<double>(raw_time).count();
  const double iterations = static_cast<double>(state.iterations());
  state.counters["blocks_per_s"] = iterations / db_s;
  state.counters["raw_fsyncs_per_s"] = iterations / raw_s;
  state.counters["ratio"] = raw_s / db_s;
  state.counters["logs_per_s"] = iterations * kLogsPerBlock / db_s;
  db.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_FollowTip)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(Smoke() ? 0.01 : 3)->Repetitions(Smoke() ? 1 : 5);

void BM_CatchUp(benchmark::State& state) {
  const auto dir = BenchDir::Get() / "catchup";
  std::filesystem::remove_all(dir);
  auto db = OpenOrDie(dir / "events.db");
  std::vector<BlockRecord> batch(100);
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& b : batch) MakeBlock(n++, b);
    state.ResumeTiming();
    SS_CHECK(db->AppendBatch(batch).ok(), "append batch");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch.size() * kLogsPerBlock));
  state.counters["blocks_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch.size()), benchmark::Counter::kIsRate);
  db.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CatchUp)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(Smoke() ? 0.01 : 5);

// The 100-million-log DB, built by a child process so that the building leaves nothing in this
// process's memory, then opened here (open scans and checks the whole file).
struct BigDB {
  std::filesystem::path file;
  std::unique_ptr<EventDB> db;
  double build_s = 0, open_s = 0;
  Rss before_open, after_open;

  static BigDB& Get() {
    static BigDB big = Build();
    return big;
  }

 private:
  static BigDB Build() {
    BigDB big;
    big.file = BenchDir::Get() / "big" / "events.db";
    std::fprintf(stderr, "building %llu blocks x %u logs in %s ...\n", static_cast<unsigned long long>(kBigBlocks),
                 kLogsPerBlock, big.file.c_str());
    const auto start = Clock::now();
    const pid_t child = ::fork();
    SS_CHECK(child >= 0, "fork");
    if (child == 0) {
      auto db = OpenOrDie(big.file);
      std::vector<BlockRecord> batch;
      for (uint64_t n = kBigFirstBlock; n < kBigFirstBlock + kBigBlocks;) {
        batch.resize(std::min<uint64_t>(1000, kBigFirstBlock + kBigBlocks - n));
        for (auto& b : batch) MakeBlock(n++, b);
        SS_CHECK(db->AppendBatch(batch).ok(), "append batch");
      }
      std::_Exit(0);
    }
    int status = 0;
    SS_CHECK(::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "build failed");
    big.build_s = std::chrono::duration<double>(Clock::now() - start).count();
    big.before_open = Rss::Now();
    const auto open_start = Clock::now();
    big.db = OpenOrDie(big.file);
    big.open_s = std::chrono::duration<double>(Clock::now() - open_start).count();
    big.after_open = Rss::Now();
    SS_CHECK(big.db->Latest()->number == kBigFirstBlock + kBigBlocks - 1, "big DB tip");
    std::fprintf(stderr, "built in %.1f s (%.2f M logs/s), opened in %.2f s\n", big.build_s,
                 kBigBlocks * kLogsPerBlock / big.build_s / 1e6, big.open_s);
    return big;
  }
};

void ReportBig(benchmark::State& state, const BigDB& big) {
  const Rss rss = Rss::Now();
  state.counters["VmRSS_MiB"] = rss.vm;
  state.counters["RssAnon_MiB"] = rss.anon;
  state.counters["RssFile_MiB"] = rss.file;
  // What opening the DB added to this process's own memory (the block index): the part of RssAnon
  // that is the DB's, apart from what earlier benchmarks in this process left on the heap.
  state.counters["open_RssAnon_added_MiB"] = big.after_open.anon - big.before_open.anon;
  state.counters["open_VmRSS_MiB"] = big.after_open.vm;
  state.counters["open_s"] = big.open_s;
  state.counters["build_Mlogs_per_s"] = kBigBlocks * kLogsPerBlock / big.build_s / 1e6;
}

// Contains with the right hash for a random log of a random block among the newest `window`
// blocks (range(0)), with the block reference filled in when range(1) is 1, with a mapped window
// of range(2) MiB (0: the whole file mapped).
void BM_Contains(benchmark::State& state) {
  BigDB& big = BigDB::Get();
  const auto window = static_cast<uint64_t>(state.range(0));
  const bool want_block = state.range(1) == 1;
  big.db->SetMappedWindow(static_cast<uint64_t>(state.range(2)) << 20);
  const uint64_t lowest = kBigFirstBlock + kBigBlocks - window;
  uint64_t x = 42, found = 0;
  BlockRef block;
  for (auto _ : state) {
    const uint64_t r = SplitMix(x);
    const uint64_t n = lowest + r % window;
    const auto i = static_cast<uint32_t>((r >> 40) % kLogsPerBlock);
    found += big.db->Contains(n, i, LogHash(n, i), want_block ? &block : nullptr) == Presence::kFound;
  }
  if (found != static_cast<uint64_t>(state.iterations())) state.SkipWithError("a lookup missed");
  state.SetItemsProcessed(state.iterations());
  ReportBig(state, big);
}
const auto kAll = static_cast<int64_t>(kBigBlocks);
// The "newest blocks" windows, no larger than the DB.
int64_t Newest(int64_t blocks) { return std::min(blocks, kAll); }
BENCHMARK(BM_Contains)->ArgNames({"newest_blocks", "with_block", "window_MiB"})
    ->Args({Newest(10'000), 0, 0})->Args({kAll, 0, 0})->Args({kAll, 1, 0})
    ->Args({Newest(5'000), 0, 64})->Args({Newest(10'000), 0, 64})->Args({kAll, 0, 64});

// ContainsChecksum (checkAccessList's lookup) with the right checksum, as BM_Contains. Each
// iteration is a batch of 4096 fresh random lookups whose checksums are computed first, outside
// the timing (manual time: the lookups' wall time; lookups_per_cpu_s: by the thread's CPU time).
double ThreadCpuSeconds() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_ContainsChecksum(benchmark::State& state) {
  BigDB& big = BigDB::Get();
  const auto window = static_cast<uint64_t>(state.range(0));
  big.db->SetMappedWindow(static_cast<uint64_t>(state.range(1)) << 20);
  const uint64_t lowest = kBigFirstBlock + kBigBlocks - window;
  struct Query {
    uint64_t n;
    uint32_t i;
    Hash checksum;
  };
  std::vector<Query> queries(4096);
  uint64_t x = 43, found = 0;
  double cpu = 0;
  for (auto _ : state) {
    for (Query& q : queries) {
      const uint64_t r = SplitMix(x);
      q.n = lowest + r % window;
      q.i = static_cast<uint32_t>((r >> 40) % kLogsPerBlock);
      q.checksum = AccessChecksum(LogHash(q.n, q.i), kChain, q.n, 2 * q.n, q.i);
    }
    const double cpu_start = ThreadCpuSeconds();
    const auto start = Clock::now();
    for (const Query& q : queries) found += big.db->ContainsChecksum(q.n, q.i, 2 * q.n, q.checksum) == Presence::kFound;
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    cpu += ThreadCpuSeconds() - cpu_start;
  }
  const auto lookups = static_cast<int64_t>(state.iterations() * queries.size());
  if (found != static_cast<uint64_t>(lookups)) state.SkipWithError("a lookup missed");
  state.SetItemsProcessed(lookups);
  state.counters["lookups_per_cpu_s"] = static_cast<double>(lookups) / cpu;
  ReportBig(state, big);
}
BENCHMARK(BM_ContainsChecksum)->ArgNames({"newest_blocks", "window_MiB"})->UseManualTime()
    ->Args({kAll, 0})->Args({kAll, 64})->Args({Newest(10'000), 64});

// The uniform lookups as one pread of the log entry each, without the DB's mapping.
void BM_PreadLookup(benchmark::State& state) {
  BigDB& big = BigDB::Get();
  const int fd = ::open(big.file.c_str(), O_RDONLY | O_CLOEXEC);
  SS_CHECK(fd >= 0, "open");
  const uint64_t block_size = event_format::BlockSize(kLogsPerBlock, 0);
  uint64_t x = 42, found = 0;
  uint8_t entry[event_format::kEntrySize];
  for (auto _ : state) {
    const uint64_t r = SplitMix(x);
    const uint64_t b = r % kBigBlocks;
    const auto i = static_cast<uint32_t>((r >> 40) % kLogsPerBlock);
    const uint64_t offset = event_format::kFileHeaderSize + b * block_size + event_format::kCheckpointSize +
                            uint64_t{i} * event_format::kEntrySize;
    SS_CHECK(::pread(fd, entry, sizeof entry, static_cast<off_t>(offset)) == sizeof entry, "pread");
    const Hash want = LogHash(kBigFirstBlock + b, i);
    found += std::equal(want.bytes.begin(), want.bytes.end(), entry + event_format::kEntryHash);
  }
  ::close(fd);
  if (found != static_cast<uint64_t>(state.iterations())) state.SkipWithError("a lookup missed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PreadLookup);

}  // namespace
}  // namespace supersafe::db

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  supersafe::db::BenchDir::Remove();
  return 0;
}
