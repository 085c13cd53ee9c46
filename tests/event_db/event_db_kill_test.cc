// SIGKILL test: a forked child appends blocks and reports each acknowledged one over a pipe; the
// parent kills it at a random moment (100 times, seeded PRNG), reopens, and checks that every
// acknowledged block is there and nothing else, except one more complete block that was durable
// before its acknowledgement got out, and a torn tail that recovery discards.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "db/event_db.h"
#include "tests/event_db/event_db_test_util.h"

namespace supersafe::db {
namespace {

using testing::ChainBlock;
using testing::TempDir;

constexpr uint64_t kSeed = 0x5eed0001;
constexpr int kKills = 100;
const ChainID kChain = testing::BigChainID();

// Block n of the test chain; sizes vary up to ~90 KB so that some kills land inside a write.
BlockRecord KillBlock(uint64_t n) { return ChainBlock(n, static_cast<uint32_t>((n * 7919 + 13) % 1500), true, "kill"); }

// The child: appends the next blocks forever, writing each acknowledged number to `ack_fd`.
[[noreturn]] void RunWriter(const std::filesystem::path& file, int ack_fd) {
  auto db = EventDB::Open(file, kChain);
  if (!db.ok()) {
    std::fprintf(stderr, "writer: %s\n", db.status().ToString().c_str());
    _exit(2);
  }
  auto latest = (*db)->Latest();
  for (uint64_t n = latest ? latest->number + 1 : 0;; ++n) {
    const BlockRecord block = KillBlock(n);
    if (Status s = (*db)->Append(block); !s.ok()) {
      std::fprintf(stderr, "writer: %s\n", s.ToString().c_str());
      _exit(3);
    }
    if (::write(ack_fd, &n, sizeof n) != sizeof n) _exit(4);
  }
}

TEST(EventDBKill, AcknowledgedBlocksSurviveSigkill) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  std::mt19937_64 rng(kSeed);
  std::printf("seed %#llx, %d kills\n", static_cast<unsigned long long>(kSeed), kKills);
  std::optional<uint64_t> tip;  // the latest block found after the previous kill
  int rounds_with_torn_tail = 0, rounds_with_unacknowledged_block = 0;

  for (int kill = 0; kill < kKills; ++kill) {
    SCOPED_TRACE("kill " + std::to_string(kill));
    int ack[2];
    ASSERT_EQ(::pipe(ack), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(ack[0]);
      RunWriter(file, ack[1]);
    }
    ::close(ack[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 40'000)(rng)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "writer exited with status " << wstatus;

    std::optional<uint64_t> acknowledged = tip;  // blocks found after a previous kill count as acknowledged
    uint64_t n = 0;
    while (::read(ack[0], &n, sizeof n) == sizeof n) {
      ASSERT_EQ(n, acknowledged ? *acknowledged + 1 : 0) << "acknowledgements out of order";
      acknowledged = n;
    }
    ::close(ack[0]);

    auto db = EventDB::Open(file, kChain);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    const auto latest = (*db)->Latest();
    if (acknowledged) {
      ASSERT_TRUE(latest.has_value());
      ASSERT_GE(latest->number, *acknowledged) << "an acknowledged block is missing";
      ASSERT_LE(latest->number, *acknowledged + 1) << "more than one unacknowledged block";
    } else {
      ASSERT_LE(latest ? latest->number : 0, 0u) << "more than one unacknowledged block";
    }
    if (latest && (!acknowledged || latest->number > *acknowledged)) ++rounds_with_unacknowledged_block;
    if ((*db)->recovery().torn_bytes > 0) ++rounds_with_torn_tail;
    for (uint64_t b = tip ? *tip + 1 : 0; latest && b <= latest->number; ++b) {
      const BlockRecord expected = KillBlock(b);
      ASSERT_EQ(*(*db)->Block(b), expected.ref) << "block " << b;
      ASSERT_EQ(*(*db)->Logs(b), expected.logs) << "block " << b;
    }
    if (latest) tip = latest->number;
  }
  EXPECT_TRUE(VerifyEventDB(::supersafe::db::Env::Posix(), file).empty());
  std::printf("%llu blocks; %d kills left a torn tail, %d an unacknowledged complete block\n",
              static_cast<unsigned long long>(tip ? *tip + 1 : 0), rounds_with_torn_tail,
              rounds_with_unacknowledged_block);
}

}  // namespace
}  // namespace supersafe::db
