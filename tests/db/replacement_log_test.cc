// Byte surgery on replacements.db, as on the other two database files: the tail cut at every byte
// of the last record loses only that record (moved to replacements.db.broken); any byte of a synced
// record flipped is refused, naming the file and the record's offset, and changes nothing; Verify
// reports the same offsets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "db/replacement_log.h"
#include "tests/db/replacement_log_test_util.h"
#include "tests/temp_dir.h"

namespace supersafe::db {
namespace {

using ::supersafe::db::testing::Holds;
using ::supersafe::db::testing::ReadLogBytes;
using ::supersafe::db::testing::Record;
using ::supersafe::db::testing::RecordNumber;
using ::supersafe::db::testing::TestRecord;
using ::supersafe::db::testing::WriteLogBytes;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
constexpr size_t kRecord = ReplacementLog::kRecordSize;
constexpr uint64_t kRecords = 4;  // two invalidated blocks, each replaced

class Dir : public ::supersafe::testing::TempDir {
 public:
  Dir() : ::supersafe::testing::TempDir("replacements-test") {}
  std::filesystem::path log() const { return path() / "replacements.db"; }
  std::filesystem::path broken() const { return path() / "replacements.db.broken"; }
};

std::unique_ptr<ReplacementLog> OpenOk(const Dir& dir) {
  auto log = ReplacementLog::Open(dir.log());
  SS_CHECK(log.ok(), log.status().ToString());
  return std::move(log).value();
}

// The file the log writes for records 0..kRecords-1.
const std::vector<uint8_t>& Reference() {
  static const std::vector<uint8_t>* bytes = [] {
    Dir dir;
    auto log = OpenOk(dir);
    for (uint64_t k = 0; k < kRecords; ++k) SS_CHECK(Record(*log, RecordNumber(k)).ok(), "record");
    return new std::vector<uint8_t>(ReadLogBytes(dir.log()));
  }();
  return *bytes;
}

std::optional<uint64_t> NamedOffset(const Status& s) {
  std::smatch m;
  static const std::regex kOffset("corruption at offset ([0-9]+)");
  if (!std::regex_search(s.message(), m, kOffset)) return std::nullopt;
  return std::stoull(m[1]);
}

TEST(ReplacementLogSurgery, TheReferenceIsWholeRecords) {
  EXPECT_EQ(Reference().size(), kRecords * kRecord);
  Dir dir;
  WriteLogBytes(dir.log(), Reference());
  EXPECT_THAT(VerifyReplacementLog(Env::Posix(), dir.log()), IsEmpty());
  auto log = OpenOk(dir);
  for (uint64_t k = 0; k < kRecords; ++k) EXPECT_TRUE(Holds(*log, RecordNumber(k))) << k;
}

// A crash in the last record's write left its first `kept` bytes: Verify calls it a torn tail,
// Open moves exactly those bytes to replacements.db.broken and keeps every record before it, and
// the log then takes that record again.
TEST(ReplacementLogSurgery, CuttingTheLastRecordAtEveryByteLosesOnlyThatRecord) {
  const std::vector<uint8_t>& ref = Reference();
  const size_t last = (kRecords - 1) * kRecord;
  for (size_t kept = 1; kept < kRecord; ++kept) {
    SCOPED_TRACE(std::to_string(kept) + " bytes of the last record");
    Dir dir;
    const std::vector<uint8_t> file(ref.begin(), ref.begin() + static_cast<ptrdiff_t>(last + kept));
    WriteLogBytes(dir.log(), file);
    EXPECT_THAT(VerifyReplacementLog(Env::Posix(), dir.log()),
                ElementsAre(AllOf(Field(&Finding::offset, last),
                                  Field(&Finding::what, HasSubstr("torn tail of " + std::to_string(kept) + " bytes")))));
    auto log = OpenOk(dir);
    for (uint64_t k = 0; k + 1 < kRecords; ++k) EXPECT_TRUE(Holds(*log, RecordNumber(k))) << k;
    EXPECT_FALSE(Holds(*log, RecordNumber(kRecords - 1)));
    EXPECT_EQ(ReadLogBytes(dir.log()), std::vector<uint8_t>(ref.begin(), ref.begin() + static_cast<ptrdiff_t>(last)));
    EXPECT_EQ(ReadLogBytes(dir.broken()), std::vector<uint8_t>(file.begin() + static_cast<ptrdiff_t>(last), file.end()));
    EXPECT_THAT(VerifyReplacementLog(Env::Posix(), dir.log()), IsEmpty());
    ASSERT_EQ(Record(*log, RecordNumber(kRecords - 1)), Status::Ok());
    log.reset();
    EXPECT_EQ(ReadLogBytes(dir.log()), ref);
    EXPECT_TRUE(Holds(*OpenOk(dir), RecordNumber(kRecords - 1)));
  }
}

// Every byte of every record, flipped in its low bit, its high bit and (type bytes) to the other
// record type: Open refuses with kCorruption naming the file and the record, and changes nothing.
TEST(ReplacementLogSurgery, FlippingAnyByteOfASyncedRecordIsRefusedAndNamed) {
  const std::vector<uint8_t>& ref = Reference();
  for (size_t offset = 0; offset < ref.size(); ++offset) {
    std::vector<uint8_t> masks = {0x01, 0x80};
    if (offset % kRecord == 0) masks.push_back(0x03);  // invalidated <-> replaced
    for (uint8_t mask : masks) {
      SCOPED_TRACE("byte " + std::to_string(offset) + " xor " + std::to_string(mask));
      Dir dir;
      std::vector<uint8_t> damaged = ref;
      damaged[offset] ^= mask;
      WriteLogBytes(dir.log(), damaged);
      const uint64_t record = offset / kRecord * kRecord;
      auto log = ReplacementLog::Open(dir.log());
      ASSERT_FALSE(log.ok());
      EXPECT_EQ(log.status().code(), Code::kCorruption);
      EXPECT_THAT(log.status().message(), HasSubstr(dir.log().string()));
      EXPECT_EQ(NamedOffset(log.status()), record) << log.status().ToString();
      EXPECT_EQ(ReadLogBytes(dir.log()), damaged);
      EXPECT_FALSE(std::filesystem::exists(dir.broken()));
      EXPECT_THAT(VerifyReplacementLog(Env::Posix(), dir.log()), ElementsAre(Field(&Finding::offset, record)));
    }
  }
}

// Damage in a synced record is refused even when a torn tail follows it: the tail is not moved.
TEST(ReplacementLogSurgery, DamageBeforeATornTailIsRefusedAndNothingMoves) {
  const std::vector<uint8_t>& ref = Reference();
  Dir dir;
  std::vector<uint8_t> damaged(ref.begin(), ref.end() - 50);
  damaged[kRecord + 60] ^= 0x10;
  WriteLogBytes(dir.log(), damaged);
  auto log = ReplacementLog::Open(dir.log());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(NamedOffset(log.status()), kRecord);
  EXPECT_EQ(ReadLogBytes(dir.log()), damaged);
  EXPECT_FALSE(std::filesystem::exists(dir.broken()));
  EXPECT_THAT(VerifyReplacementLog(Env::Posix(), dir.log()),
              ElementsAre(Field(&Finding::offset, kRecord), Field(&Finding::offset, (kRecords - 1) * kRecord)));
}

}  // namespace
}  // namespace supersafe::db
