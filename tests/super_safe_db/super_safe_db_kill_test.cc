// Kill test: a forked child appends groups (revisions of the tip among them) and reports each
// acknowledged one over a pipe; the parent SIGKILLs it at a moment drawn from a seeded PRNG,
// reopens the database and checks that every acknowledged group is there and nothing else, except
// the one group whose Append was under way (durable, maybe not yet reported), plus a torn tail
// that recovery moved to supersafe.db.broken. Some rounds also arm a simulated torn write.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "tests/super_safe_db/test_util.h"
#include "tests/crash_disk.h"

namespace supersafe::db {
namespace {

using ::supersafe::db::testing::EncodeGroupBytes;
using ::supersafe::db::testing::PrefixFrom;
using ::supersafe::db::testing::TempDir;
using ::supersafe::db::testing::TestChains;
constexpr size_t kEntry = super_safe_format::kEntrySize;
constexpr uint64_t kSeed = 0x5afe'db'0001;
constexpr int kRounds = 100;
constexpr uint32_t kMaxAppends = 400;  // per child; a child that gets there waits to be killed

size_t Bytes(const Group& g) { return (g.entries.size() + 1) * kEntry; }

// The next group after `tip`: usually the next L1 block, sometimes a revision of the tip.
Group NextGroup(const std::optional<Group>& tip, std::mt19937_64& rng) {
  const bool revise = tip && rng() % 5 == 0;
  Group g = tip ? *tip : Group{};
  if (!tip) {
    g.entries.resize(3);
    for (uint32_t c = 0; c < 3; ++c) g.entries[c].chain_index = c;
  }
  if (!revise && tip) g.l1_number += 1 + rng() % 2;
  const uint64_t salt = rng();
  g.l1_hash = PrefixFrom(g.l1_number, salt);
  g.l1_timestamp = g.l1_number * 12;
  for (ChainEntry& e : g.entries) {
    if (!revise) e.cross_safe_number += rng() % 7;
    e.local_safe_number = e.cross_safe_number + rng() % 5;
    e.cross_safe_hash = PrefixFrom(e.cross_safe_number, salt);
    e.local_safe_hash = PrefixFrom(e.local_safe_number, salt + 1);
  }
  return g;
}

// The groups a child appends in one round: from the state `tip`, drawn from `seed`. The parent
// draws the same ones to check what the child left behind.
class Plan {
 public:
  Plan(std::optional<Group> tip, uint64_t seed) : tip_(std::move(tip)), rng_(seed) {}
  const Group& operator[](size_t k) {
    while (groups_.size() <= k) {
      groups_.push_back(NextGroup(tip_, rng_));
      tip_ = groups_.back();
    }
    return groups_[k];
  }

 private:
  std::optional<Group> tip_;
  std::mt19937_64 rng_;
  std::vector<Group> groups_;
};

// The child: appends the plan in order and writes each acknowledged index to `ack_fd`. With a
// torn write armed for group `tear->first`, that Append fails and the child waits to be killed.
[[noreturn]] void RunChild(const std::filesystem::path& dir, Plan plan, std::optional<std::pair<uint32_t, size_t>> tear,
                           int ack_fd) {
  ::supersafe::testing::CrashDisk crash;
  auto db = SuperSafeDB::Open(dir, TestChains(), crash.options());
  if (!db.ok()) _exit(2);
  for (uint32_t k = 0; k < kMaxAppends; ++k) {
    if (tear && tear->first == k) crash.Arm(tear->second);
    Status s = (*db)->Append(plan[k]);
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

// What the database must hold: every group appended and not lost, as lookups see them.
struct Stored {
  std::map<uint64_t, Group> newest;
  std::optional<Group> last;
  uint64_t entries = 0;

  void Add(const Group& g) {
    newest[g.l1_number] = g;
    last = g;
    entries += g.entries.size() + 1;
  }
  void ExpectIn(const SuperSafeDB& db) const {
    ASSERT_EQ(db.entry_count(), entries);
    for (const auto& [l1, g] : newest) ASSERT_EQ(db.At(l1), g) << "L1 block " << l1;
    ASSERT_EQ(db.Last(), last);
  }
};

TEST(SuperSafeDBKill, AcknowledgedGroupsSurviveSigkill) {
  std::mt19937_64 rng(kSeed);
  std::printf("kill test seed %#llx, %d rounds\n", static_cast<unsigned long long>(kSeed), kRounds);
  TempDir dir;
  Stored stored;
  uint64_t broken_bytes = 0;
  int rounds_with_extra_group = 0, rounds_with_torn_tail = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const uint64_t plan_seed = rng();
    Plan plan(stored.last, plan_seed);
    std::optional<std::pair<uint32_t, size_t>> tear;
    if (rng() % 4 == 0) {
      const auto index = static_cast<uint32_t>(rng() % 40);
      tear = {{index, 1 + rng() % (Bytes(plan[index]) - 1)}};
    }
    // A third of the kills land within the first millisecond (opening, the first appends).
    const auto delay = std::chrono::microseconds(rng() % 3 == 0 ? rng() % 1000 : 1000 + rng() % 30000);

    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunChild(dir.path(), Plan(stored.last, plan_seed), tear, fds[1]);
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
    const uint32_t acked = static_cast<uint32_t>(acks.size());

    auto db = SuperSafeDB::Open(dir.path(), TestChains());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    const uint64_t torn = (*db)->recovery().torn_bytes;
    broken_bytes += torn;
    rounds_with_torn_tail += torn > 0;
    for (uint32_t k = 0; k < acked; ++k) stored.Add(plan[k]);
    // The group being appended when the kill came is whole (durable, not yet reported) or not there.
    const bool extra = (*db)->entry_count() != stored.entries;
    if (extra) {
      ASSERT_LT(acked, kMaxAppends);
      // A torn Append leaves a whole group only if the bytes it did not write are zero anyway
      // (the seal's reserved bytes; the preallocated file reads zero there).
      if (tear && tear->first == acked) {
        const std::vector<uint8_t> bytes = EncodeGroupBytes(plan[acked]);
        ASSERT_TRUE(std::all_of(bytes.begin() + static_cast<ptrdiff_t>(tear->second), bytes.end(),
                                [](uint8_t b) { return b == 0; }))
            << "a torn Append cannot leave a whole group";
      }
      stored.Add(plan[acked]);
      ++rounds_with_extra_group;
    }
    ASSERT_NO_FATAL_FAILURE(stored.ExpectIn(**db));
    if (acked < kMaxAppends) {
      EXPECT_LT(torn, Bytes(plan[acked]));
    } else {
      EXPECT_EQ(torn, 0u);
    }
    if (tear && tear->first == acked) {
      EXPECT_LE(torn, tear->second);
    }
    db->reset();
    EXPECT_TRUE(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()).empty());
  }
  EXPECT_EQ(std::filesystem::exists(dir.broken()) ? std::filesystem::file_size(dir.broken()) : 0, broken_bytes);
  std::printf("%zu L1 blocks stored; %d rounds found a durable unreported group, %d a torn tail\n",
              stored.newest.size(), rounds_with_extra_group, rounds_with_torn_tail);
}

}  // namespace
}  // namespace supersafe::db
