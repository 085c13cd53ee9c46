// Preallocation: the file is [content][zero tail]. Open finds the content end, recovers torn
// writes that left zero bytes inside preallocated space, refuses other damage, and opens files
// written without a zero tail as before. Rules: docs/db-format.md, "Preallocation and the zero tail".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "tests/super_safe_db/test_util.h"

namespace supersafe::db {
namespace {

using ::supersafe::db::testing::ContentBytes;
using ::supersafe::db::testing::HeaderBytes;
using ::supersafe::db::testing::EncodeGroupBytes;
using ::supersafe::db::testing::MakeGroup;
using ::supersafe::db::testing::OpenOk;
using ::supersafe::db::testing::ReadBytes;
using ::supersafe::db::testing::TempDir;
using ::supersafe::db::testing::TestChains;
using ::supersafe::db::testing::WriteBytes;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
namespace layout = super_safe_format;
constexpr size_t kEntry = layout::kEntrySize;

// The file's content: the header, then the groups (or the groups alone, to follow other bytes).
std::vector<uint8_t> Encode(const std::vector<Group>& groups, bool header = true) {
  std::vector<uint8_t> out = header ? HeaderBytes() : std::vector<uint8_t>();
  for (const Group& g : groups) {
    const auto b = EncodeGroupBytes(g);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

bool AllZero(const std::vector<uint8_t>& bytes, size_t from) {
  return std::all_of(bytes.begin() + static_cast<ptrdiff_t>(from), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::vector<Group> Groups(uint64_t first, uint64_t last) {
  std::vector<Group> out;
  for (uint64_t l1 = first; l1 <= last; ++l1) out.push_back(MakeGroup(l1));
  return out;
}

TEST(SuperSafeDBPrealloc, AppendsFillAPreallocatedChunkAndReopenFindsTheEnd) {
  TempDir dir;
  auto db = OpenOk(dir);
  for (const Group& g : Groups(1, 10)) ASSERT_EQ(db->Append(g), Status::Ok());
  auto file = ReadBytes(dir.db());
  EXPECT_EQ(file.size(), layout::kPreallocChunk);
  const std::vector<uint8_t> content = Encode(Groups(1, 10));
  EXPECT_TRUE(std::equal(content.begin(), content.end(), file.begin()));
  EXPECT_TRUE(AllZero(file, content.size()));

  db.reset();  // a clean close, then reopen: the zero tail stays, the content ends where it did
  db = OpenOk(dir);
  EXPECT_EQ(db->recovery().torn_bytes, 0u);
  EXPECT_EQ(db->entry_count(), 40u);
  EXPECT_EQ(db->Last(), MakeGroup(10));
  EXPECT_EQ(ReadBytes(dir.db()), file);
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), IsEmpty());
  ASSERT_EQ(db->Append(MakeGroup(11)), Status::Ok());
  db.reset();
  db = OpenOk(dir);
  EXPECT_EQ(db->Last(), MakeGroup(11));
  EXPECT_EQ(ContentBytes(dir.db()), Encode(Groups(1, 11)));
}

// A write that reaches past the chunk grows the file by whole chunks and keeps a zero tail.
TEST(SuperSafeDBPrealloc, ABatchPastTheChunkGrowsTheFileByWholeChunks) {
  TempDir dir;
  auto db = OpenOk(dir);
  const std::vector<Group> groups = Groups(1, 20'000);  // 7.2 MB: more than a chunk, in 1 MiB writes
  ASSERT_EQ(db->AppendBatch(groups), Status::Ok());
  const uint64_t size = std::filesystem::file_size(dir.db());
  EXPECT_EQ(size % layout::kPreallocChunk, 0u);
  EXPECT_GT(size, groups.size() * 4 * kEntry);
  db.reset();
  db = OpenOk(dir);
  EXPECT_EQ(db->entry_count(), groups.size() * 4);
  EXPECT_EQ(db->At(12'345), MakeGroup(12'345));
  EXPECT_EQ(ContentBytes(dir.db()), Encode(groups));
}

TEST(SuperSafeDBPrealloc, AGroupLargerThanOneWriteIsRejected) {
  TempDir dir;
  auto db = OpenOk(dir);
  const auto max_chains = static_cast<uint32_t>(layout::kMaxWrite / kEntry - 1);
  Status s = db->Append(MakeGroup(1, max_chains + 1));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("too many chain entries"));
  EXPECT_EQ(db->Append(MakeGroup(1, max_chains)), Status::Ok());
}

// Rollback cuts the file at the new end, zero tail and all: nothing stale stays to be read later.
TEST(SuperSafeDBPrealloc, TruncateThenReopenLeavesNoStaleBytes) {
  TempDir dir;
  auto db = OpenOk(dir);
  for (const Group& g : Groups(1, 10)) ASSERT_EQ(db->Append(g), Status::Ok());
  ASSERT_EQ(db->TruncateFrom(5), Status::Ok());
  EXPECT_EQ(ReadBytes(dir.db()), Encode(Groups(1, 4)));
  db.reset();
  db = OpenOk(dir);
  EXPECT_EQ(db->Last(), MakeGroup(4));
  EXPECT_FALSE(db->At(7));
  const Group revised = MakeGroup(5, 3, 9);
  ASSERT_EQ(db->Append(revised), Status::Ok());
  db.reset();
  db = OpenOk(dir);
  EXPECT_EQ(db->Last(), revised);
  EXPECT_FALSE(db->At(6));
  std::vector<Group> expected = Groups(1, 4);
  expected.push_back(revised);
  EXPECT_EQ(ContentBytes(dir.db()), Encode(expected));
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), IsEmpty());
}

// A file written before preallocation (no zero tail) opens unchanged; appends then preallocate.
TEST(SuperSafeDBPrealloc, AFileWithoutAZeroTailOpensUnchanged) {
  TempDir dir;
  const std::vector<uint8_t> old = Encode(Groups(1, 6));
  WriteBytes(dir.db(), old);
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), IsEmpty());
  auto db = OpenOk(dir);
  EXPECT_EQ(db->entry_count(), 24u);
  EXPECT_EQ(db->Last(), MakeGroup(6));
  EXPECT_EQ(ReadBytes(dir.db()), old);
  ASSERT_EQ(db->Append(MakeGroup(7)), Status::Ok());
  EXPECT_EQ(ContentBytes(dir.db()), Encode(Groups(1, 7)));
  EXPECT_EQ(std::filesystem::file_size(dir.db()), layout::kPreallocChunk);
}

// The last write was a batch of groups 4..6 whose pages reached the disk out of order: one page
// never did, leaving zeros inside the batch. Everything from the group the zeros hit is torn.
TEST(SuperSafeDBPrealloc, ATornGroupWithAnAllZeroEntryIsRecovered) {
  const std::vector<uint8_t> sound = Encode(Groups(1, 3));
  const std::vector<uint8_t> batch = Encode(Groups(4, 6), false);
  struct Case {
    const char* what;
    size_t zero_from, zero_to;  // in the batch
    size_t torn_from;           // in the batch: where the kept content ends
  };
  const size_t group = 4 * kEntry;
  const std::vector<Case> cases = {
      {"a chain entry of the last group", 2 * group + kEntry, 2 * group + 2 * kEntry, 2 * group},
      {"the last group's chain entries", 2 * group, 2 * group + 3 * kEntry, 2 * group},
      {"the middle group's seal and more", group + 3 * kEntry, 2 * group + kEntry, group},
      {"from inside the first group's seal", 3 * kEntry + 20, group + 2 * kEntry, 0},
      {"the first group's reserved bytes on", 3 * kEntry + 45, group + 2 * kEntry, group},
      {"the first entry of the batch", 0, kEntry, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    TempDir dir;
    std::vector<uint8_t> file = sound;
    file.insert(file.end(), batch.begin(), batch.end());
    std::fill(file.begin() + static_cast<ptrdiff_t>(sound.size() + c.zero_from),
              file.begin() + static_cast<ptrdiff_t>(sound.size() + c.zero_to), 0);
    file.resize(file.size() + 3000, 0);
    WriteBytes(dir.db(), file);
    const size_t keep = sound.size() + c.torn_from;
    size_t end = file.size();  // the torn bytes end at the last nonzero one (the seal's timestamp)
    while (file[end - 1] == 0) --end;

    auto findings = VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db());
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].offset, keep);
    EXPECT_THAT(findings[0].what, HasSubstr("torn write"));

    auto db = OpenOk(dir);
    EXPECT_EQ(db->recovery().torn_bytes, end - keep);
    EXPECT_EQ(ReadBytes(dir.db()), std::vector<uint8_t>(file.begin(), file.begin() + static_cast<ptrdiff_t>(keep)));
    EXPECT_EQ(ReadBytes(dir.broken()),
              std::vector<uint8_t>(file.begin() + static_cast<ptrdiff_t>(keep),
                                   file.begin() + static_cast<ptrdiff_t>(end)));
    EXPECT_EQ(db->entry_count(), (keep - layout::kHeaderSize) / kEntry);
    EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), IsEmpty());
  }
}

// Without zeros that a torn write explains, a CRC mismatch in the last group stays corruption,
// zero tail or not.
TEST(SuperSafeDBPrealloc, AFlippedByteInTheLastGroupWithoutAZeroEntryIsRefused) {
  const std::vector<uint8_t> content = Encode(Groups(1, 5));
  const size_t last_seal = content.size() - kEntry;
  for (size_t offset : {last_seal - 2 * kEntry + layout::kLocalSafeNumber + 7, last_seal + layout::kSealTimestamp + 7}) {
    SCOPED_TRACE("byte " + std::to_string(offset));
    TempDir dir;
    std::vector<uint8_t> file = content;
    file[offset] ^= 0x01;
    file.resize(file.size() + 3000, 0);
    WriteBytes(dir.db(), file);
    auto db = SuperSafeDB::Open(dir.path(), TestChains());
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), Code::kCorruption);
    EXPECT_THAT(db.status().message(),
                HasSubstr(dir.db().string() + ": corruption at offset " + std::to_string(last_seal) + ": CRC mismatch"));
    EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), Contains(AllOf(Field(&Finding::offset, last_seal),
                                                            Field(&Finding::what, HasSubstr("CRC mismatch")))));
    EXPECT_EQ(ReadBytes(dir.db()), file);
    EXPECT_FALSE(std::filesystem::exists(dir.broken()));
  }
}

// An all-zero entry further back than one write can reach is not a torn write but damage: Verify
// reports it, and Open (which checks every group) refuses the file, naming it, and changes nothing.
TEST(SuperSafeDBPrealloc, AZeroEntryBeforeTheLastWriteIsNoTornWrite) {
  TempDir dir;
  std::vector<uint8_t> file = Encode(Groups(1, 3000));  // 1.08 MB
  const size_t zeroed = layout::kHeaderSize + 4 * kEntry;
  std::fill(file.begin() + zeroed, file.begin() + zeroed + kEntry, 0);
  file.resize(file.size() + 3000, 0);
  WriteBytes(dir.db(), file);
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), Contains(AllOf(Field(&Finding::offset, zeroed),
                                                          Field(&Finding::what, HasSubstr("unknown entry type 0x00")))));
  auto db = SuperSafeDB::Open(dir.path(), TestChains());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kCorruption);
  EXPECT_THAT(db.status().message(), HasSubstr(dir.db().string() + ": corruption at offset "));
  EXPECT_EQ(ReadBytes(dir.db()), file);
}

// The zero tail is bounded by what preallocation can leave; Open does not scan further back.
TEST(SuperSafeDBPrealloc, MoreZeroBytesThanPreallocationLeavesIsCorruption) {
  const std::vector<uint8_t> content = Encode(Groups(1, 3));
  {
    TempDir dir;
    std::vector<uint8_t> file = content;
    file.resize(content.size() + layout::kMaxZeroTail, 0);
    WriteBytes(dir.db(), file);
    auto db = OpenOk(dir);
    EXPECT_EQ(db->Last(), MakeGroup(3));
  }
  TempDir dir;
  std::vector<uint8_t> file = content;
  file.resize(content.size() + layout::kMaxZeroTail + 1, 0);
  WriteBytes(dir.db(), file);
  auto db = SuperSafeDB::Open(dir.path(), TestChains());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kCorruption);
  EXPECT_THAT(db.status().message(), HasSubstr("corruption at offset " + std::to_string(content.size()) +
                                               ": the file ends in " + std::to_string(layout::kMaxZeroTail + 1) +
                                               " zero bytes, more than preallocation leaves"));
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), Contains(Field(&Finding::offset, content.size())));
  EXPECT_EQ(ReadBytes(dir.db()), file);
}

}  // namespace
}  // namespace supersafe::db
