// The header entry of supersafe.db (docs/db-format.md, "The header"): written and durable when the
// file is created; a file whose magic, version or dependency-set digest differs is refused, naming
// the file, the offset and what differs, and left as it was; a header cut short by a crash in a file
// that holds nothing else is moved to supersafe.db.broken and written anew.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/crypto.h"
#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "tests/crash_disk.h"
#include "tests/super_safe_db/test_util.h"

namespace supersafe::db {
namespace {

using ::supersafe::db::testing::ContentBytes;
using ::supersafe::db::testing::HeaderBytes;
using ::supersafe::db::testing::MakeGroup;
using ::supersafe::db::testing::OpenOk;
using ::supersafe::db::testing::ReadBytes;
using ::supersafe::db::testing::TempDir;
using ::supersafe::db::testing::TestChains;
using ::supersafe::db::testing::WriteBytes;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
namespace layout = super_safe_format;

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A file with a header and two groups, as Open and Append wrote it (without its zero tail).
std::vector<uint8_t> FileWithGroups() {
  TempDir dir;
  auto db = OpenOk(dir);
  SS_CHECK(db->Append(MakeGroup(1)).ok() && db->Append(MakeGroup(2)).ok(), "append");
  return ContentBytes(dir.db());
}

TEST(SuperSafeDBHeader, ANewFileStartsWithItsHeader) {
  EXPECT_EQ(DependencySetDigest(TestChains()).Hex(),
            Hash::FromSpan(ByteSpan(HeaderBytes(TestChains()).data() + 12, 32)).Hex());
  TempDir dir;
  const uint64_t syncs = DirectorySyncCount();
  auto db = OpenOk(dir);
  EXPECT_GT(DirectorySyncCount(), syncs);  // the new file's directory entry is durable
  EXPECT_TRUE(db->empty());
  EXPECT_EQ(db->entry_count(), 0u);
  EXPECT_EQ(ContentBytes(dir.db()), HeaderBytes(TestChains()));
  ASSERT_EQ(db->Append(MakeGroup(1)), Status::Ok());
  const std::vector<uint8_t> bytes = ContentBytes(dir.db());
  ASSERT_EQ(bytes.size(), 90u + 4 * 90);
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 90), HeaderBytes(TestChains()));
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin() + 90, bytes.end()), testing::EncodeGroupBytes(MakeGroup(1)));

  Result<SuperSafeDump> dump = DumpSuperSafeDB(Env::Posix(), dir.db());
  ASSERT_TRUE(dump.ok()) << dump.status().ToString();
  ASSERT_EQ(dump->entries.size(), 5u);
  EXPECT_EQ(dump->entries[0].kind, DumpedEntry::Kind::kHeader);
  EXPECT_EQ(dump->entries[0].magic, "SUPERSAFE");
  EXPECT_EQ(dump->entries[0].version, 1);
  EXPECT_EQ(dump->entries[0].digest, DependencySetDigest(TestChains()));
  EXPECT_EQ(dump->entries[1].kind, DumpedEntry::Kind::kChain);
  EXPECT_EQ(dump->entries[1].offset, 90u);
}

TEST(SuperSafeDBHeader, AHeaderOnlyFileOpensEmpty) {
  for (size_t zero_tail : {size_t{0}, size_t{4096}}) {
    SCOPED_TRACE("zero tail " + std::to_string(zero_tail));
    TempDir dir;
    std::vector<uint8_t> file = HeaderBytes(TestChains());
    file.resize(file.size() + zero_tail, 0);
    WriteBytes(dir.db(), file);
    EXPECT_THAT(VerifySuperSafeDB(Env::Posix(), dir.db(), DependencySetDigest(TestChains())), IsEmpty());
    auto db = OpenOk(dir);
    EXPECT_TRUE(db->empty());
    EXPECT_EQ(db->recovery().torn_bytes, 0u);
    EXPECT_EQ(ReadBytes(dir.db()), file);
    EXPECT_FALSE(std::filesystem::exists(dir.broken()));
    ASSERT_EQ(db->Append(MakeGroup(7)), Status::Ok());
    db.reset();
    EXPECT_EQ(OpenOk(dir)->Last(), MakeGroup(7));
  }
}

// Opens `file` (with and without groups after its header) and expects a refusal of `code` naming
// the file, `offset` and `what`, with the file unchanged; Verify, told the digest, reports it too.
void ExpectRefused(const std::vector<uint8_t>& header, Code code, size_t offset, const std::string& what) {
  const std::vector<uint8_t> with_groups = FileWithGroups();
  const std::vector<uint8_t> groups(with_groups.begin() + 90, with_groups.end());
  for (const std::vector<uint8_t>& file : {header, Concat(header, groups)}) {
    SCOPED_TRACE(file.size() == 90 ? "header only" : "with groups");
    TempDir dir;
    WriteBytes(dir.db(), file);
    auto db = SuperSafeDB::Open(dir.path(), TestChains());
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), code) << db.status().ToString();
    EXPECT_THAT(db.status().message(),
                AllOf(HasSubstr(dir.db().string()), HasSubstr("offset " + std::to_string(offset) + ": "), HasSubstr(what)));
    EXPECT_EQ(ReadBytes(dir.db()), file);
    EXPECT_FALSE(std::filesystem::exists(dir.broken()));
    EXPECT_THAT(VerifySuperSafeDB(Env::Posix(), dir.db(), DependencySetDigest(TestChains())),
                Contains(AllOf(Field(&Finding::offset, offset), Field(&Finding::what, HasSubstr(what)))));
  }
}

TEST(SuperSafeDBHeader, AWrongMagicIsRefused) {
  std::vector<uint8_t> h = HeaderBytes(TestChains());
  h[5] = 'X';
  ExpectRefused(h, Code::kCorruption, 1, "header magic: expected \"SUPERSAFE\", found \"SUPEXSAFE\"");
}

TEST(SuperSafeDBHeader, AnotherVersionIsRefused) {
  std::vector<uint8_t> h = HeaderBytes(TestChains());
  h[11] = 2;
  ExpectRefused(h, Code::kCorruption, 10, "header format version: expected 1, found 2");
}

TEST(SuperSafeDBHeader, AnotherDependencySetIsRefusedNamingBothDigests) {
  const std::vector<ChainID> other = {ChainID(uint64_t{10}), ChainID(uint64_t{8453})};
  const std::vector<uint8_t> h = HeaderBytes(other);
  ASSERT_NE(h[43], 0) << "a digest ending in a zero byte would read as a torn header-only file";
  ExpectRefused(h, Code::kInvalidArgument, 12,
                "dependency-set digest: expected " + DependencySetDigest(TestChains()).Hex() + ", found " +
                    DependencySetDigest(other).Hex());
}

TEST(SuperSafeDBHeader, TheSameChainsInAnotherOrderAreAnotherDependencySet) {
  const std::vector<ChainID>& chains = TestChains();
  const std::vector<ChainID> reordered = {chains[1], chains[0], chains[2]};
  ASSERT_NE(DependencySetDigest(reordered), DependencySetDigest(chains));
  TempDir dir;
  {
    auto db = OpenOk(dir);
    ASSERT_EQ(db->Append(MakeGroup(1)), Status::Ok());
  }
  const std::vector<uint8_t> before = ReadBytes(dir.db());
  auto db = SuperSafeDB::Open(dir.path(), reordered);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(db.status().message(), HasSubstr("another dependency set"));
  EXPECT_EQ(ReadBytes(dir.db()), before);
}

TEST(SuperSafeDBHeader, AFileWithoutAHeaderIsRefused) {
  const std::vector<uint8_t> file = FileWithGroups();
  const std::vector<uint8_t> groups_only(file.begin() + 90, file.end());  // as files were written before the header
  TempDir dir;
  WriteBytes(dir.db(), groups_only);
  auto db = SuperSafeDB::Open(dir.path(), TestChains());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kCorruption);
  EXPECT_THAT(db.status().message(), HasSubstr("corruption at offset 0: the first entry is not a header: type 0x01"));
  EXPECT_EQ(ReadBytes(dir.db()), groups_only);
}

// A crash while the header was written leaves fewer than 90 bytes, or (in preallocated space) the
// header's first bytes and zeros: the file holds nothing else, so nothing acknowledged is lost.
TEST(SuperSafeDBHeader, ATornHeaderIsMovedAsideAndWrittenAnew) {
  const std::vector<uint8_t> header = HeaderBytes(TestChains());
  for (size_t zero_tail : {size_t{0}, size_t{4096}}) {
    for (size_t cut = 1; cut < (zero_tail == 0 ? 90u : 44u); ++cut) {
      SCOPED_TRACE("zero tail " + std::to_string(zero_tail) + ", " + std::to_string(cut) + " header bytes");
      if (zero_tail > 0 && header[cut - 1] == 0) continue;  // the same as a shorter cut
      TempDir dir;
      std::vector<uint8_t> file(header.begin(), header.begin() + static_cast<ptrdiff_t>(cut));
      const std::vector<uint8_t> torn = file;
      file.resize(cut + zero_tail, 0);
      WriteBytes(dir.db(), file);
      // (Without the digest, a header cut inside its digest cannot be told from a whole one.)
      EXPECT_THAT(VerifySuperSafeDB(Env::Posix(), dir.db(), DependencySetDigest(TestChains())),
                  ElementsAre(AllOf(Field(&Finding::offset, 0u), Field(&Finding::what, HasSubstr("torn header")))));
      auto db = OpenOk(dir);
      EXPECT_TRUE(db->empty());
      EXPECT_EQ(db->recovery().torn_bytes, cut);
      EXPECT_EQ(ReadBytes(dir.broken()), torn);
      EXPECT_EQ(ContentBytes(dir.db()), header);
      EXPECT_THAT(VerifySuperSafeDB(Env::Posix(), dir.db(), DependencySetDigest(TestChains())), IsEmpty());
      ASSERT_EQ(db->Append(MakeGroup(3)), Status::Ok());
    }
  }
}

// A header of which nothing reached the disk: an empty file, or a preallocated file of zeros.
TEST(SuperSafeDBHeader, AFileOfZerosGetsItsHeader) {
  TempDir dir;
  WriteBytes(dir.db(), std::vector<uint8_t>(8192, 0));
  auto db = OpenOk(dir);
  EXPECT_TRUE(db->empty());
  EXPECT_EQ(db->recovery().torn_bytes, 0u);
  EXPECT_EQ(ContentBytes(dir.db()), HeaderBytes(TestChains()));
}

// Damage to the header of a file with groups is never taken for a torn header.
TEST(SuperSafeDBHeader, ACutHeaderBeforeGroupsIsRefused) {
  std::vector<uint8_t> file = FileWithGroups();
  std::fill(file.begin() + 20, file.begin() + 90, 0);  // the digest's end zeroed, the groups intact
  TempDir dir;
  WriteBytes(dir.db(), file);
  auto db = SuperSafeDB::Open(dir.path(), TestChains());
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(), HasSubstr("offset 12: dependency-set digest"));
  EXPECT_EQ(ReadBytes(dir.db()), file);
}

// A crash in the header's own write, through the simulated disk: the next process recovers.
TEST(SuperSafeDBHeader, ACrashWritingTheHeaderRecovers) {
  for (size_t torn : {size_t{1}, size_t{9}, size_t{30}}) {
    SCOPED_TRACE("torn after " + std::to_string(torn) + " bytes");
    TempDir dir;
    ::supersafe::testing::CrashDisk crash;
    crash.Arm(torn);
    auto failed = SuperSafeDB::Open(dir.path(), TestChains(), crash.options());
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), Code::kIOError);
    auto db = OpenOk(dir, crash.options());
    EXPECT_TRUE(db->empty());
    EXPECT_EQ(ContentBytes(dir.db()), HeaderBytes(TestChains()));
    ASSERT_EQ(db->Append(MakeGroup(1)), Status::Ok());
  }
}

}  // namespace
}  // namespace supersafe::db
