// super-safe-db benchmarks; figures and the command in bench/README.md ("super-safe-db").
//
// Writes: the same groups (8 chain entries of 90 bytes; our file adds a 90-byte seal) made durable
// the same way (one fdatasync, or the library's own sync, per commit) by four contenders: a raw
// write+fdatasync loop, SuperSafeDB, SQLite (WAL, synchronous=FULL, one transaction per commit)
// and LMDB (synced commits, one transaction per commit).
//   Follow/*: one group per commit (following the L1 tip).
//   CatchUp/*: 1,000 groups per commit (catching up a backlog; AppendBatch for us).
// `*_vs_<contender>_interleaved` alternate one SuperSafeDB commit and one of the other contender in
// one loop, so that both meet the same disk (the steadiest ratios on a shared machine).
// Reads: two 10-million-entry supersafe.db files built once in a temp dir (warm page cache), one
// shaped as the supervisor writes it (Lookup10M_regular/*) and one irregular (Lookup10M/*): At,
// AtOrBefore and FirstCrossSafeAtLeast with random keys, their batched forms (Multi*/16 and
// Multi*/256: keys per call), Open, VerifySuperSafeDB.
//
// Temp files go to $SUPERSAFE_BENCH_DIR, else /var/tmp (disk, not tmpfs), and are removed.
// SUPERSAFE_BENCH_ENTRIES=N builds the lookup files with N entries instead of 10 million (the
// scaling curves); SUPERSAFE_BENCH_SMOKE=1 shrinks every size so that the whole binary runs in
// seconds (the bench-smoke test suite). Timed regions: Follow/CatchUp, one commit per iteration
// (encode, write, sync); the lookups, one call per iteration (random keys precomputed); Open, one
// SuperSafeDB::Open; Verify, one whole-file verification. Building the files is not timed: its
// rate is the build_Mentries_per_s counter of the lookup rows.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <lmdb.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/check.h"
#include "db/super_safe_db.h"
#include "db/super_safe_format.h"

namespace supersafe::db {
namespace {

namespace layout = super_safe_format;
constexpr size_t kEntry = layout::kEntrySize;
constexpr uint32_t kChains = 8;

// The dependency set the files are written for: chains 901..908.
const std::vector<ChainID>& ChainIds() {
  static const std::vector<ChainID> ids = [] {
    std::vector<ChainID> v;
    for (uint32_t c = 0; c < kChains; ++c) v.emplace_back(uint64_t{901} + c);
    return v;
  }();
  return ids;
}
constexpr size_t kBacklog = 1000;  // groups per commit when catching up

bool Smoke() {
  const char* env = std::getenv("SUPERSAFE_BENCH_SMOKE");
  return env != nullptr && std::string(env) == "1";
}

std::filesystem::path BenchRoot() {
  const char* env = std::getenv("SUPERSAFE_BENCH_DIR");
  return env != nullptr ? std::filesystem::path(env) : std::filesystem::path("/var/tmp");
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (BenchRoot() / "ssdb-bench-XXXXXX").string();
    SS_CHECK(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp in " + BenchRoot().string() + " failed");
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

HashPrefix Prefix(uint64_t a, uint64_t b) {
  HashPrefix h;
  PutU64BE(h.data(), a);
  PutU64BE(h.data() + 8, b);
  return h;
}

// Group n of a steady run: L1 block n, 8 chains six L2 blocks further per L1 block.
Group MakeGroup(uint64_t n) {
  Group g;
  g.l1_number = n;
  g.l1_hash = Prefix(n, 1);
  g.l1_timestamp = 1'700'000'000 + 12 * n;
  for (uint32_t c = 0; c < kChains; ++c) {
    const uint64_t cross = 6 * n + c;
    g.entries.push_back({c, cross + 3, Prefix(cross + 3, 2), cross, Prefix(cross, 3), 0});
  }
  return g;
}

// The 90-byte chain entries of a group, as every contender stores them.
std::vector<uint8_t> ChainEntryBytes(const Group& g) {
  std::vector<uint8_t> out(g.entries.size() * kEntry, 0);
  for (size_t k = 0; k < g.entries.size(); ++k) {
    uint8_t* e = out.data() + k * kEntry;
    const ChainEntry& c = g.entries[k];
    e[layout::kType] = layout::kTypeChain;
    PutU64BE(e + layout::kL1Number, g.l1_number);
    std::memcpy(e + layout::kL1Hash, g.l1_hash.data(), 20);
    PutU32BE(e + layout::kChainIndex, c.chain_index);
    PutU64BE(e + layout::kLocalSafeNumber, c.local_safe_number);
    std::memcpy(e + layout::kLocalSafeHash, c.local_safe_hash.data(), 20);
    PutU64BE(e + layout::kCrossSafeNumber, c.cross_safe_number);
    std::memcpy(e + layout::kCrossSafeHash, c.cross_safe_hash.data(), 20);
  }
  return out;
}

// The groups of `commits` commits of `per_commit` groups each, prepared before the timing starts:
// as structs (SuperSafeDB), as 90-byte chain entries (SQLite, LMDB), and as our file's bytes, seals
// included (the raw loop writes exactly what SuperSafeDB writes).
struct Workload {
  size_t per_commit;
  std::vector<Group> groups;
  std::vector<std::vector<uint8_t>> entries;
  std::vector<uint8_t> file_bytes;

  Workload(size_t commits, size_t per_commit_) : per_commit(per_commit_) {
    for (size_t k = 0; k < commits * per_commit; ++k) {
      groups.push_back(MakeGroup(k + 1));
      entries.push_back(ChainEntryBytes(groups.back()));
    }
    TempDir dir;
    auto db = SuperSafeDB::Open(dir.path(), ChainIds());
    SS_CHECK(db.ok() && (*db)->AppendBatch(groups).ok(), "building the raw bytes");
    file_bytes.resize((*db)->entry_count() * kEntry);  // the groups, without the header and the preallocated zeros
    FILE* f = std::fopen((dir.path() / SuperSafeDB::kFileName).c_str(), "rb");
    SS_CHECK(f != nullptr && std::fseek(f, layout::kHeaderSize, SEEK_SET) == 0 &&
                 std::fread(file_bytes.data(), 1, file_bytes.size(), f) == file_bytes.size(),
             "read back");
    std::fclose(f);
  }
  std::span<const Group> Groups(size_t commit) const {
    return std::span<const Group>(groups).subspan(commit * per_commit, per_commit);
  }
  // Every group has the same size, so commit c's bytes are one slice of the file.
  std::span<const uint8_t> FileBytes(size_t commit) const {
    const size_t per = file_bytes.size() / (groups.size() / per_commit);
    return std::span<const uint8_t>(file_bytes).subspan(commit * per, per);
  }
};

// ---------------------------------------------------------------------------------------------
// Contenders. Commit(w, c) makes commit c of workload w durable.

struct Raw {
  static constexpr const char* kName = "raw";
  int fd;
  explicit Raw(const std::filesystem::path& dir) {
    fd = ::open((dir / "raw.bin").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    SS_CHECK(fd >= 0, "open raw.bin");
  }
  ~Raw() { ::close(fd); }
  void Commit(const Workload& w, size_t c) {
    const auto bytes = w.FileBytes(c);
    SS_CHECK(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()), "write");
    SS_CHECK(::fdatasync(fd) == 0, "fdatasync");
  }
};

struct Ours {
  std::unique_ptr<SuperSafeDB> db;
  explicit Ours(const std::filesystem::path& dir) {
    auto opened = SuperSafeDB::Open(dir, ChainIds());
    SS_CHECK(opened.ok(), opened.status().ToString());
    db = std::move(opened).value();
  }
  void Commit(const Workload& w, size_t c) {
    const auto groups = w.Groups(c);
    SS_CHECK((groups.size() == 1 ? db->Append(groups[0]) : db->AppendBatch(groups)).ok(), "append");
  }
};

struct Sqlite {
  static constexpr const char* kName = "sqlite";
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  void Exec(const char* sql) {
    char* err = nullptr;
    SS_CHECK(sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK, err ? err : sql);
  }
  explicit Sqlite(const std::filesystem::path& dir) {
    SS_CHECK(sqlite3_open((dir / "bench.sqlite").c_str(), &db) == SQLITE_OK, "sqlite3_open");
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
    Exec("CREATE TABLE entries(l1 INTEGER NOT NULL, chain INTEGER NOT NULL, entry BLOB NOT NULL, "
         "PRIMARY KEY(l1, chain)) WITHOUT ROWID");
    SS_CHECK(sqlite3_prepare_v2(db, "INSERT INTO entries VALUES(?, ?, ?)", -1, &insert, nullptr) == SQLITE_OK,
             "prepare");
  }
  ~Sqlite() {
    sqlite3_finalize(insert);
    sqlite3_close(db);
  }
  void Commit(const Workload& w, size_t c) {
    Exec("BEGIN");
    for (size_t g = c * w.per_commit; g < (c + 1) * w.per_commit; ++g) {
      for (size_t k = 0; k < w.groups[g].entries.size(); ++k) {
        sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(w.groups[g].l1_number));
        sqlite3_bind_int64(insert, 2, w.groups[g].entries[k].chain_index);
        sqlite3_bind_blob(insert, 3, w.entries[g].data() + k * kEntry, kEntry, SQLITE_STATIC);
        SS_CHECK(sqlite3_step(insert) == SQLITE_DONE, sqlite3_errmsg(db));
        sqlite3_reset(insert);
      }
    }
    Exec("COMMIT");
  }
};

struct Lmdb {
  static constexpr const char* kName = "lmdb";
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  explicit Lmdb(const std::filesystem::path& dir) {
    SS_CHECK(mdb_env_create(&env) == 0, "mdb_env_create");
    SS_CHECK(mdb_env_set_mapsize(env, size_t{16} << 30) == 0, "mdb_env_set_mapsize");
    SS_CHECK(mdb_env_open(env, dir.c_str(), 0, 0644) == 0, "mdb_env_open");  // synced commits
    MDB_txn* txn;
    SS_CHECK(mdb_txn_begin(env, nullptr, 0, &txn) == 0, "mdb_txn_begin");
    SS_CHECK(mdb_dbi_open(txn, nullptr, 0, &dbi) == 0, "mdb_dbi_open");
    SS_CHECK(mdb_txn_commit(txn) == 0, "mdb_txn_commit");
  }
  ~Lmdb() { mdb_env_close(env); }
  void Commit(const Workload& w, size_t c) {
    MDB_txn* txn;
    SS_CHECK(mdb_txn_begin(env, nullptr, 0, &txn) == 0, "mdb_txn_begin");
    for (size_t g = c * w.per_commit; g < (c + 1) * w.per_commit; ++g) {
      for (size_t k = 0; k < w.groups[g].entries.size(); ++k) {
        uint8_t key_bytes[12];
        PutU64BE(key_bytes, w.groups[g].l1_number);
        PutU32BE(key_bytes + 8, w.groups[g].entries[k].chain_index);
        MDB_val key{sizeof key_bytes, key_bytes};
        MDB_val value{kEntry, const_cast<uint8_t*>(w.entries[g].data() + k * kEntry)};
        // Keys ascend: MDB_APPEND is LMDB's fastest path for them.
        SS_CHECK(mdb_put(txn, dbi, &key, &value, MDB_APPEND) == 0, "mdb_put");
      }
    }
    SS_CHECK(mdb_txn_commit(txn) == 0, "mdb_txn_commit");
  }
};

// Fixed commit counts: the same work for every contender, and a bounded run time. The disk is
// shared and its fdatasync latency drifts, so each contender runs in kRepetitions short rounds
// (interleaved at random with --benchmark_enable_random_interleaving) and the median counts.
const size_t kFollowCommits = Smoke() ? 5 : 300;
const size_t kCatchUpCommits = Smoke() ? 1 : 8;
const int kRepetitions = Smoke() ? 1 : 10;

const Workload& FollowWorkload() {
  static const Workload* w = new Workload(kFollowCommits, 1);
  return *w;
}
const Workload& CatchUpWorkload() {
  static const Workload* w = new Workload(kCatchUpCommits, kBacklog);
  return *w;
}

template <typename Contender>
void Commits(benchmark::State& state) {
  const Workload& w = state.range(0) == 1 ? FollowWorkload() : CatchUpWorkload();
  TempDir dir;
  Contender contender(dir.path());
  size_t c = 0;
  for (auto _ : state) contender.Commit(w, c++);
  const auto groups = static_cast<int64_t>(state.iterations() * w.per_commit);
  state.SetItemsProcessed(groups);  // groups per second
  state.SetBytesProcessed(groups * static_cast<int64_t>((kChains + 1) * kEntry));
}

#define SSDB_COMMITS(contender, name)                                                                  \
  BENCHMARK(Commits<contender>)                                                                        \
      ->Name("Follow/" name)                                                                           \
      ->Arg(1)                                                                                         \
      ->Iterations(kFollowCommits)                                                                     \
      ->Repetitions(kRepetitions)                                                                      \
      ->ReportAggregatesOnly(true)                                                                     \
      ->UseRealTime();                                                                                 \
  BENCHMARK(Commits<contender>)                                                                        \
      ->Name("CatchUp/" name)                                                                          \
      ->Arg(kBacklog)                                                                                  \
      ->Iterations(kCatchUpCommits)                                                                    \
      ->Repetitions(kRepetitions)                                                                      \
      ->ReportAggregatesOnly(true)                                                                     \
      ->UseRealTime()
SSDB_COMMITS(Raw, "raw_write_fdatasync");
SSDB_COMMITS(Ours, "SuperSafeDB");
SSDB_COMMITS(Sqlite, "SQLite_WAL_FULL");
SSDB_COMMITS(Lmdb, "LMDB_synced");

// SuperSafeDB against another contender, commit by commit in one loop (alternating which goes
// first), so that both meet the same disk: `ours_vs_<other>` is the other's time / our time, our
// throughput as a multiple of theirs (against the raw loop: the share of the raw throughput we reach).
template <typename Other>
void Versus(benchmark::State& state) {
  const char* other_name = Other::kName;
  const auto per_commit = static_cast<size_t>(state.range(0));
  static const Workload* follow = new Workload(2000, 1);
  static const Workload* catch_up = new Workload(40, kBacklog);
  const Workload& w = per_commit == 1 ? *follow : *catch_up;
  TempDir dir;
  Other other(dir.path());
  Ours ours(dir.path());
  double other_ns = 0, ours_ns = 0;
  size_t c = 0;
  for (auto _ : state) {
    for (int turn = 0; turn < 2; ++turn) {
      const bool other_turn = (turn == 0) == (c % 2 == 0);
      const auto t0 = std::chrono::steady_clock::now();
      if (other_turn) {
        other.Commit(w, c);
      } else {
        ours.Commit(w, c);
      }
      const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      (other_turn ? other_ns : ours_ns) += ns;
    }
    ++c;
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters[std::string(other_name) + "_us"] = other_ns / n / 1000;
  state.counters["ours_us"] = ours_ns / n / 1000;
  state.counters[std::string("ours_vs_") + other_name] = other_ns / ours_ns;
}
#define SSDB_VERSUS(contender, name)                                                                      \
  BENCHMARK(Versus<contender>)                                                                            \
      ->Name("Follow/SuperSafeDB_vs_" name "_interleaved")                                                \
      ->Arg(1)                                                                                             \
      ->Iterations(Smoke() ? 4 : 2000)                                                                     \
      ->UseRealTime();                                                                                     \
  BENCHMARK(Versus<contender>)                                                                            \
      ->Name("CatchUp/SuperSafeDB_vs_" name "_interleaved")                                               \
      ->Arg(kBacklog)                                                                                      \
      ->Iterations(Smoke() ? 2 : 40)                                                                       \
      ->UseRealTime()
SSDB_VERSUS(Raw, "raw");
SSDB_VERSUS(Lmdb, "LMDB");
SSDB_VERSUS(Sqlite, "SQLite");

// ---------------------------------------------------------------------------------------------
// Reads on 10 million entries.

uint64_t LookupEntries() {
  const char* env = std::getenv("SUPERSAFE_BENCH_ENTRIES");
  if (env != nullptr) return std::strtoull(env, nullptr, 10);
  return Smoke() ? 20'000 : 10'000'000;
}
const uint64_t kLookupEntries = LookupEntries();
constexpr uint64_t kFirstL1 = 20'000'000;

// Two files, each built on first use and removed by main() after the run:
// - kRegular, what the supervisor writes: a group for every L1 number from the first to the tip,
//   consecutively, every group the same size (8 chains + seal), a revision (a second group for
//   the same L1 number, after a replaced block) in one L1 number in a thousand. ~1.11 M L1 numbers.
// - kIrregular, the harder case: one L1 number in eight skipped and one in fifty revised, so
//   lookups meet gaps and revisions everywhere. ~1.09 M L1 numbers.
enum class Shape { kRegular, kIrregular };

struct BigDB {
  TempDir dir;
  std::unique_ptr<SuperSafeDB> db;
  uint64_t last_l1 = 0;
  uint64_t min_cross = 0, max_cross = 0;
  double build_s = 0;  // appending every group (AppendBatch of 10,000 groups), fdatasync included

  explicit BigDB(Shape shape) {
    const auto start = std::chrono::steady_clock::now();
    auto opened = SuperSafeDB::Open(dir.path(), ChainIds());
    SS_CHECK(opened.ok(), opened.status().ToString());
    db = std::move(opened).value();
    std::mt19937_64 rng(42);
    const uint64_t revise_one_in = shape == Shape::kRegular ? 1000 : 50;
    std::vector<Group> batch;
    uint64_t entries = 0, l1 = kFirstL1;
    while (entries < kLookupEntries) {
      Group g = MakeGroup(l1);
      batch.push_back(g);
      entries += g.entries.size() + 1;
      if (rng() % revise_one_in == 0) {
        g.l1_hash = Prefix(l1, 2);
        batch.push_back(g);
        entries += g.entries.size() + 1;
      }
      l1 += shape == Shape::kIrregular && rng() % 8 == 0 ? 2 : 1;
      if (batch.size() >= 10'000 || entries >= kLookupEntries) {
        SS_CHECK(db->AppendBatch(batch).ok(), "AppendBatch");
        batch.clear();
      }
    }
    SS_CHECK(db->entry_count() == entries, "entry count");
    build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    last_l1 = db->Last()->l1_number;
    min_cross = db->At(kFirstL1)->entries.front().cross_safe_number;
    max_cross = db->Last()->entries.back().cross_safe_number;
  }
};

BigDB* bigs[2] = {nullptr, nullptr};
BigDB& Big(Shape shape) {
  BigDB*& b = bigs[static_cast<int>(shape)];
  if (b == nullptr) b = new BigDB(shape);
  return *b;
}

std::vector<uint64_t> RandomKeys(uint64_t lo, uint64_t hi) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> keys(1 << 20);
  for (uint64_t& k : keys) k = lo + rng() % (hi - lo + 1);
  return keys;
}

template <Shape kShape>
void BM_At(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto keys = RandomKeys(kFirstL1, b.last_l1);
  size_t i = 0, found = 0;
  for (auto _ : state) {
    auto g = b.db->At(keys[i++ & (keys.size() - 1)]);
    found += g.has_value();
    benchmark::DoNotOptimize(g);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(found) / static_cast<double>(state.iterations());
  state.counters["entries"] = static_cast<double>(b.db->entry_count());
  state.counters["build_Mentries_per_s"] = static_cast<double>(b.db->entry_count()) / b.build_s / 1e6;
}

// The same through the overload that decodes into the caller's Group (no allocation per lookup).
template <Shape kShape>
void BM_AtInto(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto keys = RandomKeys(kFirstL1, b.last_l1);
  size_t i = 0, found = 0;
  Group g;
  for (auto _ : state) {
    found += b.db->At(keys[i++ & (keys.size() - 1)], &g);
    benchmark::DoNotOptimize(g);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(found) / static_cast<double>(state.iterations());
}

// The same on the newest 10,000 L1 blocks (about 8 MB): the working set of a supervisor that
// follows the tip, and what a lookup costs once memory latency is out of the way.
template <Shape kShape>
void BM_AtRecent(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto keys = RandomKeys(b.last_l1 - 10'000, b.last_l1);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(b.db->At(keys[i++ & (keys.size() - 1)]));
  state.SetItemsProcessed(state.iterations());
}

// The floor under any lookup here: one random read of the mapped file that depends on the one
// before (a cache and TLB miss each), with no search at all.
template <Shape kShape>
void BM_DependentRandomRead(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto file = b.dir.path() / SuperSafeDB::kFileName;
  const size_t size = layout::kHeaderSize + b.db->entry_count() * kEntry;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  SS_CHECK(fd >= 0, "open");
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  SS_CHECK(p != MAP_FAILED, "mmap");
  const auto* bytes = static_cast<const uint8_t*>(p);
  const auto offsets = RandomKeys(0, size - 1);
  size_t i = 0;
  uint8_t last = 0;
  for (auto _ : state) {
    last = bytes[(offsets[i++ & (offsets.size() - 1)] + (last & 1)) % size];
    benchmark::DoNotOptimize(last);
  }
  ::munmap(p, size);
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
}

template <Shape kShape>
void BM_AtOrBefore(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto keys = RandomKeys(kFirstL1, b.last_l1);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(b.db->AtOrBefore(keys[i++ & (keys.size() - 1)]));
  state.SetItemsProcessed(state.iterations());
}

template <Shape kShape>
void BM_AtOrBeforeInto(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto keys = RandomKeys(kFirstL1, b.last_l1);
  size_t i = 0;
  Group g;
  for (auto _ : state) {
    benchmark::DoNotOptimize(b.db->AtOrBefore(keys[i++ & (keys.size() - 1)], &g));
    benchmark::DoNotOptimize(g);
  }
  state.SetItemsProcessed(state.iterations());
}

template <Shape kShape>
void BM_FirstCrossSafeAtLeast(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto numbers = RandomKeys(b.min_cross, b.max_cross);
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & (numbers.size() - 1);
    benchmark::DoNotOptimize(b.db->FirstCrossSafeAtLeast(static_cast<uint32_t>(k % kChains), numbers[k]));
  }
  state.SetItemsProcessed(state.iterations());
}

template <Shape kShape>
void BM_FirstLocalSafeAtLeast(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto numbers = RandomKeys(b.min_cross, b.max_cross);
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & (numbers.size() - 1);
    benchmark::DoNotOptimize(b.db->FirstLocalSafeAtLeast(static_cast<uint32_t>(k % kChains), numbers[k]));
  }
  state.SetItemsProcessed(state.iterations());
}

// Batched lookups: state.range(0) random keys per call (the same keys as the single-key rows, in
// the same order), items_per_second counting keys. The outputs are allocated once, as a caller
// serving batches would keep them.
template <Shape kShape, bool kExact>
void BM_MultiAt(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto keys = RandomKeys(kFirstL1, b.last_l1);
  const auto batch = static_cast<size_t>(state.range(0));
  std::vector<Group> out(batch);
  std::unique_ptr<bool[]> found(new bool[batch]);
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    const std::span<const uint64_t> some(keys.data() + (i & (keys.size() - 1)), batch);
    hits += kExact ? b.db->MultiAt(some, out, std::span<bool>(found.get(), batch))
                   : b.db->MultiAtOrBefore(some, out, std::span<bool>(found.get(), batch));
    benchmark::DoNotOptimize(out.data());
    i += batch;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations() * batch);
}

// One chain's entry (chain i % 8) instead of the whole group.
template <Shape kShape, bool kExact>
void BM_MultiChainAt(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto l1 = RandomKeys(kFirstL1, b.last_l1);
  std::vector<SuperSafeDB::ChainL1Key> keys(l1.size());
  for (size_t k = 0; k < keys.size(); ++k) keys[k] = {static_cast<uint32_t>(k % kChains), l1[k]};
  const auto batch = static_cast<size_t>(state.range(0));
  std::vector<SuperSafeDB::ChainView> out(batch);
  std::unique_ptr<bool[]> found(new bool[batch]);
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    const std::span<const SuperSafeDB::ChainL1Key> some(keys.data() + (i & (keys.size() - 1)), batch);
    hits += kExact ? b.db->MultiChainAt(some, out, std::span<bool>(found.get(), batch))
                   : b.db->MultiChainAtOrBefore(some, out, std::span<bool>(found.get(), batch));
    benchmark::DoNotOptimize(out.data());
    i += batch;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations() * batch);
}

template <Shape kShape, bool kCross>
void BM_MultiFirstAtLeast(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto numbers = RandomKeys(b.min_cross, b.max_cross);
  std::vector<SuperSafeDB::ChainL2Key> keys(numbers.size());
  for (size_t k = 0; k < keys.size(); ++k) keys[k] = {static_cast<uint32_t>(k % kChains), numbers[k]};
  const auto batch = static_cast<size_t>(state.range(0));
  std::vector<std::optional<uint64_t>> out(batch);
  size_t i = 0;
  for (auto _ : state) {
    const std::span<const SuperSafeDB::ChainL2Key> some(keys.data() + (i & (keys.size() - 1)), batch);
    if (kCross) {
      b.db->MultiFirstCrossSafeAtLeast(some, out);
    } else {
      b.db->MultiFirstLocalSafeAtLeast(some, out);
    }
    benchmark::DoNotOptimize(out.data());
    i += batch;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

template <Shape kShape>
void BM_Open(benchmark::State& state) {
  BigDB& b = Big(kShape);
  for (auto _ : state) {
    auto db = SuperSafeDB::Open(b.dir.path(), ChainIds());
    SS_CHECK(db.ok(), db.status().ToString());
    benchmark::DoNotOptimize(db);
  }
}

template <Shape kShape>
void BM_Verify(benchmark::State& state) {
  BigDB& b = Big(kShape);
  const auto file = b.dir.path() / SuperSafeDB::kFileName;
  for (auto _ : state) SS_CHECK(VerifySuperSafeDB(::supersafe::db::Env::Posix(), file).empty(), "findings on a healthy file");
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(b.db->entry_count() * kEntry));
}


// Lookup10M_regular/*: the file the supervisor writes; Lookup10M/*: the irregular file.
#define SSDB_LOOKUPS(prefix, shape)                                                                          \
  BENCHMARK(BM_DependentRandomRead<shape>)->Name(prefix "/dependent_random_read_floor");               \
  BENCHMARK(BM_At<shape>)->Name(prefix "/At");                                                          \
  BENCHMARK(BM_AtInto<shape>)->Name(prefix "/At_into_caller_group");                                    \
  BENCHMARK(BM_AtRecent<shape>)->Name(prefix "/At_newest_10k_L1_blocks");                               \
  BENCHMARK(BM_AtOrBefore<shape>)->Name(prefix "/AtOrBefore");                                          \
  BENCHMARK(BM_AtOrBeforeInto<shape>)->Name(prefix "/AtOrBefore_into_caller_group");                    \
  BENCHMARK(BM_FirstCrossSafeAtLeast<shape>)->Name(prefix "/FirstCrossSafeAtLeast");                    \
  BENCHMARK(BM_FirstLocalSafeAtLeast<shape>)->Name(prefix "/FirstLocalSafeAtLeast");                    \
  BENCHMARK(BM_MultiAt<shape, true>)->Name(prefix "/MultiAt")->Arg(16)->Arg(256);                      \
  BENCHMARK(BM_MultiAt<shape, false>)->Name(prefix "/MultiAtOrBefore")->Arg(16)->Arg(256);             \
  BENCHMARK(BM_MultiChainAt<shape, true>)->Name(prefix "/MultiChainAt")->Arg(16)->Arg(256);            \
  BENCHMARK(BM_MultiChainAt<shape, false>)->Name(prefix "/MultiChainAtOrBefore")->Arg(16)->Arg(256);   \
  BENCHMARK(BM_MultiFirstAtLeast<shape, true>)->Name(prefix "/MultiFirstCrossSafeAtLeast")->Arg(16)->Arg(256); \
  BENCHMARK(BM_MultiFirstAtLeast<shape, false>)->Name(prefix "/MultiFirstLocalSafeAtLeast")->Arg(16)->Arg(256); \
  BENCHMARK(BM_Open<shape>)->Name(prefix "/Open")->Unit(benchmark::kMillisecond);                       \
  BENCHMARK(BM_Verify<shape>)->Name(prefix "/Verify")->Unit(benchmark::kMillisecond)->Iterations(Smoke() ? 1 : 5)
SSDB_LOOKUPS("Lookup10M_regular", Shape::kRegular);
SSDB_LOOKUPS("Lookup10M", Shape::kIrregular);

}  // namespace
}  // namespace supersafe::db

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto* b : supersafe::db::bigs) delete b;  // removes the 10-million-entry files
  return 0;
}
