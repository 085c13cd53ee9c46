// Pins what "resident memory for the DB" means (docs/decisions.md, "An event-log DB's resident
// memory"): the DB's own memory, RssAnon, grows with its blocks (the 16-byte index entry each), not
// with its logs; the file's pages that lookups touch are page cache mapped read-only (RssFile, or
// RssShmem on tmpfs), and SetMappedWindow bounds those too.
#include <gtest/gtest.h>
#include <malloc.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/event_db/event_db_test_util.h"

// AddressSanitizer keeps freed memory in quarantine and maps shadow memory for every allocation:
// RssAnon then counts the sanitizer's memory, not the database's, and these figures mean nothing.
#if defined(__SANITIZE_ADDRESS__)
#define SS_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SS_UNDER_ASAN 1
#endif
#endif
#ifdef SS_UNDER_ASAN
#define SKIP_UNDER_ASAN() \
  GTEST_SKIP() << "resident memory under AddressSanitizer counts its quarantine and shadow memory, not the DB's"
#else
#define SKIP_UNDER_ASAN() (void)0
#endif

namespace supersafe::db::testing {
namespace {

// kB figures of /proc/self/status.
struct Resident {
  int64_t anon_kb = 0;
  int64_t file_kb = 0;  // RssFile + RssShmem: mapped page cache, whether the file is on disk or tmpfs
};

Resident ReadResident() {
  ::malloc_trim(0);
  std::ifstream status("/proc/self/status");
  Resident r;
  for (std::string line; std::getline(status, line);) {
    auto value = [&](const char* key) { return line.rfind(key, 0) == 0 ? std::stoll(line.substr(std::string(key).size())) : -1; };
    if (int64_t v = value("RssAnon:"); v >= 0) r.anon_kb = v;
    if (int64_t v = value("RssFile:"); v >= 0) r.file_kb += v;
    if (int64_t v = value("RssShmem:"); v >= 0) r.file_kb += v;
  }
  return r;
}

constexpr uint64_t kBlocks = 1000;
constexpr uint32_t kLogs = 200;  // 200,000 logs, a file of about 16 MB

// Builds the DB, closes it, and returns its path.
std::filesystem::path BuildDB(const TempDir& dir) {
  const auto path = dir.path() / "events.db";
  auto db = OpenOrDie(path);
  for (uint64_t first = 1; first <= kBlocks; first += 100) {
    std::vector<BlockRecord> batch;
    for (uint64_t n = first; n < first + 100; ++n) batch.push_back(ChainBlock(n, kLogs, /*with_exec=*/false));
    EXPECT_TRUE(db->AppendBatch(batch).ok());
  }
  return path;
}

// Every log of every block, looked up once; the number that were not kFound.
uint64_t LookUpEveryLog(const EventDB& db) {
  uint64_t missing = 0;
  for (uint64_t n = 1; n <= kBlocks; ++n)
    for (uint32_t i = 0; i < kLogs; ++i)
      missing += db.Contains(n, i, HashOf("log-a-" + std::to_string(n), i)) == Presence::kFound ? 0 : 1;
  return missing;
}

TEST(EventDBMemory, OwnMemoryDoesNotGrowWithLogsAndTheMappedPagesAreTheFile) {
  SKIP_UNDER_ASAN();
  TempDir dir;
  const auto path = BuildDB(dir);
  const uint64_t file_kb = std::filesystem::file_size(path) / 1024;
  ASSERT_GT(file_kb, 12u * 1024);

  const Resident before = ReadResident();
  auto db = OpenOrDie(path);
  ASSERT_EQ(LookUpEveryLog(*db), 0u);
  const Resident after = ReadResident();

  // The index: 16 bytes a block, 16 KB here; a copy of the logs would be 6 MB of hashes alone.
  EXPECT_LT(after.anon_kb - before.anon_kb, 2 * 1024) << "RssAnon grew with the logs";
  // The lookups read the file through the mapping: its pages are now mapped page cache.
  EXPECT_GT(after.file_kb - before.file_kb, static_cast<int64_t>(file_kb) / 2);
}

TEST(EventDBMemory, AMappedWindowBoundsTheMappedPagesWhateverTheLookups) {
  SKIP_UNDER_ASAN();
  TempDir dir;
  const auto path = BuildDB(dir);
  const Resident before = ReadResident();
  auto db = OpenOrDie(path);
  db->SetMappedWindow(1 << 20);
  ASSERT_EQ(LookUpEveryLog(*db), 0u);
  const Resident after = ReadResident();
  EXPECT_LT(after.anon_kb - before.anon_kb, 2 * 1024);
  // At most the mapping (1.5 times the window), plus a folio's slack at each end.
  EXPECT_LT(after.file_kb - before.file_kb, 6 * 1024);
}

}  // namespace
}  // namespace supersafe::db::testing
