// The runner's incremental database check (sim/db_check.h): after appends it reports what the
// verifiers report on the whole files, damage in newly written bytes included; a rewind makes it
// verify the whole file again; damage to bytes it verified before, with the file otherwise as it
// was, is left to Full() (the end of a run).
#include "sim/db_check.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "db/event_db.h"
#include "db/event_db_format.h"
#include "db/super_safe_db.h"
#include "core/crypto.h"
#include "tests/event_db/event_db_test_util.h"

namespace supersafe::sim {
namespace {

namespace fs = std::filesystem;
using db::testing::ChainBlock;
using db::testing::TempDir;

const ChainID kChain(uint64_t{900});

// A group of one chain for L1 block `l1` (`revision` changes its hashes).
db::Group MakeGroup(uint64_t l1, uint64_t revision = 0) {
  auto prefix = [](uint64_t a, uint64_t b) { return PrefixOf(Keccak256(std::to_string(a) + "/" + std::to_string(b))); };
  db::Group g;
  g.l1_number = l1;
  g.l1_hash = prefix(l1, revision);
  g.l1_timestamp = 12 * l1;
  g.entries.push_back({0, 6 * l1 + 3, prefix(6 * l1 + 3, 1), 6 * l1, prefix(6 * l1, 2 + revision), 0});
  return g;
}

std::string Show(const std::vector<db::Finding>& findings) {
  std::string s;
  for (const auto& f : findings)
    s += f.file.filename().string() + "@" + std::to_string(f.offset) + ": " + f.what + "\n";
  return s;
}

// Flips one byte of `file` at `offset`, in place.
void FlipByte(const fs::path& file, uint64_t offset) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  uint8_t b = 0;
  ASSERT_EQ(::pread(fd, &b, 1, static_cast<off_t>(offset)), 1);
  b ^= 0x5a;
  ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(offset)), 1);
  ::close(fd);
}

// The size of an event-log DB's content: the file without its preallocated zero tail.
uint64_t EventsContentSize(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t end = bytes.size();
  while (end > 0 && bytes[end - 1] == 0) --end;
  constexpr uint64_t kEntry = db::event_format::kEntrySize;
  return std::min<uint64_t>(bytes.size(), (end + kEntry - 1) / kEntry * kEntry);
}

class DatabaseCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    events_file_ = dir_.path() / "chains" / kChain.Decimal() / "events.db";
    auto events = db::EventDB::Open(events_file_, kChain, db::OpenOptions{&disk_});
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    events_ = std::move(events).value();
    auto safe = db::SuperSafeDB::Open(dir_.path(), std::vector<ChainID>{kChain}, db::OpenOptions{&disk_});
    ASSERT_TRUE(safe.ok()) << safe.status().ToString();
    safe_ = std::move(safe).value();
    AppendBlocks(0, 5);
    ASSERT_EQ(safe_->Append(MakeGroup(1)), Status::Ok());
  }
  void AppendBlocks(uint64_t from, uint64_t to, const std::string& fork = "a") {
    for (uint64_t n = from; n < to; ++n) {
      db::BlockRecord b = ChainBlock(n, 4, true, fork);
      b.ref.parent_hash = n == 0 ? Hash{} : events_->Latest()->hash;  // on whatever the DB holds
      ASSERT_EQ(events_->Append(b), Status::Ok()) << n;
    }
  }
  // What the verifiers say about the whole files, in the check's order.
  std::vector<db::Finding> Whole() const {
    auto findings = db::VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir_.path() / db::SuperSafeDB::kFileName);
    auto more = db::VerifyEventDB(::supersafe::db::Env::Posix(), events_file_);
    findings.insert(findings.end(), more.begin(), more.end());
    return findings;
  }

  TempDir dir_;
  FaultDisk disk_{db::Env::Posix(), 0};  // the databases write through it, so the check sees what they wrote
  fs::path events_file_;
  std::unique_ptr<db::EventDB> events_;
  std::unique_ptr<db::SuperSafeDB> safe_;
  DatabaseCheck check_{disk_, dir_.path(), {kChain}};
};

TEST_F(DatabaseCheckTest, AppendsAreCheckedAndSound) {
  EXPECT_EQ(Show(check_.Step()), "");
  EXPECT_EQ(Show(check_.Step()), "");  // nothing written since
  EXPECT_FALSE(check_.safe_db_written());
  EXPECT_FALSE(check_.events_written(0));
  AppendBlocks(5, 9);
  ASSERT_EQ(safe_->Append(MakeGroup(2)), Status::Ok());
  ASSERT_EQ(safe_->Append(MakeGroup(2)), Status::Ok());  // a revision of the tip
  ASSERT_EQ(safe_->Append(MakeGroup(3)), Status::Ok());
  EXPECT_EQ(Show(check_.Step()), "");
  EXPECT_TRUE(check_.safe_db_written());
  EXPECT_TRUE(check_.events_written(0));
  EXPECT_FALSE(check_.rewritten());
  EXPECT_EQ(Show(check_.Full()), "");
}

TEST_F(DatabaseCheckTest, DamageInNewBytesIsReportedAsTheVerifierReportsIt) {
  EXPECT_EQ(Show(check_.Step()), "");
  const uint64_t end = EventsContentSize(events_file_);
  ASSERT_LT(end, fs::file_size(events_file_));  // a zero tail, which the check leaves to the verifier
  AppendBlocks(5, 8);
  FlipByte(events_file_, end + db::event_format::kCheckpointSize + 10);  // inside block 5's first log entry
  const std::vector<db::Finding> whole = Whole();
  ASSERT_FALSE(whole.empty());
  EXPECT_EQ(Show(check_.Step()), Show(whole));
}

TEST_F(DatabaseCheckTest, SuperSafeDamageInNewBytesIsReportedAsTheVerifierReportsIt) {
  EXPECT_EQ(Show(check_.Step()), "");
  const uint64_t end = *db::SuperSafeContentSize(::supersafe::db::Env::Posix(), dir_.path() / db::SuperSafeDB::kFileName);
  ASSERT_EQ(safe_->Append(MakeGroup(2)), Status::Ok());
  FlipByte(dir_.path() / db::SuperSafeDB::kFileName, end + 40);
  const std::vector<db::Finding> whole = Whole();
  ASSERT_FALSE(whole.empty());
  EXPECT_EQ(Show(check_.Step()), Show(whole));
}

TEST_F(DatabaseCheckTest, ARewindIsVerifiedWhole) {
  EXPECT_EQ(Show(check_.Step()), "");
  ASSERT_EQ(events_->RewindTo(2), Status::Ok());
  AppendBlocks(3, 6, "b");
  EXPECT_EQ(Show(check_.Step()), "");
  EXPECT_TRUE(check_.rewritten());
  AppendBlocks(6, 7, "b");
  EXPECT_EQ(Show(check_.Step()), "");
  EXPECT_FALSE(check_.rewritten());
}

TEST_F(DatabaseCheckTest, OldDamageBehindUnchangedContextIsLeftToFull) {
  EXPECT_EQ(Show(check_.Step()), "");
  FlipByte(events_file_, db::event_format::kFileHeaderSize + db::event_format::kCheckpointSize + 10);  // block 0
  EXPECT_EQ(Show(check_.Step()), "");
  const std::vector<db::Finding> whole = Whole();
  ASSERT_FALSE(whole.empty());
  EXPECT_EQ(Show(check_.Full()), Show(whole));
}

}  // namespace
}  // namespace supersafe::sim
