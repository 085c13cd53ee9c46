// Kill test for the replacement log, as for the other two database files: a forked child records
// invalidated blocks and their replacements and reports each acknowledged record over a pipe; the
// parent SIGKILLs it at a moment drawn from a seeded PRNG, reopens the log and checks that every
// acknowledged record is there and nothing later is, except the one record whose write was under way
// (durable, maybe not yet reported), and that recovery moved at most a partial record to
// replacements.db.broken. Some rounds also arm a simulated torn write.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "db/replacement_log.h"
#include "tests/crash_disk.h"
#include "tests/db/replacement_log_test_util.h"
#include "tests/temp_dir.h"

namespace supersafe::db {
namespace {

using ::supersafe::db::testing::Holds;
using ::supersafe::db::testing::Record;
using ::supersafe::db::testing::RecordNumber;
constexpr uint64_t kSeed = 0x5afe'db'0003;
constexpr int kRounds = 100;
constexpr uint32_t kMaxRecords = 400;  // per child; a child that gets there waits to be killed
constexpr size_t kRecord = ReplacementLog::kRecordSize;

// The child: records `first`, `first + 1`, ... and writes each acknowledged index to `ack_fd`. With a
// torn write armed for record `tear->first`, that write fails and the child waits to be killed.
[[noreturn]] void RunChild(const std::filesystem::path& file, uint64_t first,
                           std::optional<std::pair<uint32_t, size_t>> tear, int ack_fd) {
  ::supersafe::testing::CrashDisk crash;
  auto log = ReplacementLog::Open(file, crash.options());
  if (!log.ok()) _exit(2);
  for (uint32_t k = 0; k < kMaxRecords; ++k) {
    if (tear && tear->first == k) crash.Arm(tear->second);
    Status s = Record(**log, RecordNumber(first + k));
    if (!s.ok()) {
      if (tear && tear->first == k) break;
      _exit(3);
    }
    if (::write(ack_fd, &k, sizeof k) != sizeof k) _exit(4);
  }
  for (;;) ::pause();
}

std::vector<uint32_t> ReadAcks(int fd) {
  std::vector<uint32_t> acks;
  uint32_t k;
  for (;;) {
    ssize_t r = ::read(fd, &k, sizeof k);
    if (r == 0) return acks;
    if (r < 0 && errno == EINTR) continue;
    SS_CHECK(r == sizeof k, "short read from the ack pipe");
    acks.push_back(k);
  }
}

TEST(ReplacementLogKill, AcknowledgedRecordsSurviveSigkill) {
  std::mt19937_64 rng(kSeed);
  std::printf("kill test seed %#llx, %d rounds\n", static_cast<unsigned long long>(kSeed), kRounds);
  ::supersafe::testing::TempDir dir("replacements-kill");
  const std::filesystem::path file = dir.path() / "replacements.db";
  const std::filesystem::path broken = dir.path() / "replacements.db.broken";
  uint64_t stored = 0;  // records 0..stored-1 are in the log
  uint64_t broken_bytes = 0;
  int rounds_with_extra_record = 0, rounds_with_torn_tail = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::optional<std::pair<uint32_t, size_t>> tear;
    if (rng() % 4 == 0) tear = {{static_cast<uint32_t>(rng() % 40), 1 + rng() % (kRecord - 1)}};
    // A third of the kills land within the first millisecond (opening, the first records).
    const auto delay = std::chrono::microseconds(rng() % 3 == 0 ? rng() % 1000 : 1000 + rng() % 30000);

    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunChild(file, stored, tear, fds[1]);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(delay);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "child status " << wstatus;
    const std::vector<uint32_t> acks = ReadAcks(fds[0]);
    ::close(fds[0]);
    for (uint32_t k = 0; k < acks.size(); ++k) ASSERT_EQ(acks[k], k);
    const uint64_t acked = acks.size();

    auto log = ReplacementLog::Open(file);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    const uint64_t size = std::filesystem::file_size(file);
    ASSERT_EQ(size % kRecord, 0u);
    const uint64_t now = size / kRecord;
    // Everything acknowledged, and at most the record whose write was under way.
    ASSERT_GE(now, stored + acked);
    ASSERT_LE(now, stored + acked + 1);
    if (now == stored + acked + 1) {
      ASSERT_LT(acked, kMaxRecords);
      ASSERT_FALSE(tear && tear->first == acked) << "a torn write cannot leave a whole record";
      ++rounds_with_extra_record;
    }
    stored = now;
    for (uint64_t k = 0; k < stored; ++k) ASSERT_TRUE(Holds(**log, RecordNumber(k))) << "record " << k;
    for (uint64_t k = stored; k < stored + 4; ++k) ASSERT_FALSE(Holds(**log, RecordNumber(k))) << "record " << k;
    const uint64_t broken_now = std::filesystem::exists(broken) ? std::filesystem::file_size(broken) : 0;
    ASSERT_LT(broken_now - broken_bytes, kRecord) << "more than a partial record moved to the .broken file";
    if (tear && tear->first == acked) {
      EXPECT_LE(broken_now - broken_bytes, tear->second);
    }
    rounds_with_torn_tail += broken_now > broken_bytes;
    broken_bytes = broken_now;
    log->reset();
    EXPECT_TRUE(VerifyReplacementLog(Env::Posix(), file).empty());
  }
  std::printf("%llu records stored; %d rounds found a durable unreported record, %d a torn tail\n",
              static_cast<unsigned long long>(stored), rounds_with_extra_record, rounds_with_torn_tail);
}

}  // namespace
}  // namespace supersafe::db
