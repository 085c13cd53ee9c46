// Incremental verification (db/verifier.h), for each of the three files: after appends, Continue
// reports exactly what the whole-file verifier reports (nothing on sound files, the same findings
// on damage in the new bytes); it reads only what follows the verified part, so damage to bytes
// verified before, outside the context it compares, is left to Full(); a file that shrank or
// changed in its context (a rewind) is verified whole again and says so (rewritten()).
#include "db/verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/crypto.h"
#include "db/event_db.h"
#include "db/event_db_format.h"
#include "db/mem_env.h"
#include "db/replacement_log.h"
#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "tests/db/replacement_log_test_util.h"
#include "tests/event_db/event_db_test_util.h"

namespace supersafe::db {
namespace {

using ::testing::IsEmpty;
using ::testing::Not;

std::string Show(const std::vector<Finding>& findings) {
  std::string s;
  for (const Finding& f : findings) s += f.file.string() + "@" + std::to_string(f.offset) + ": " + f.what + "\n";
  return s;
}

// Flips one byte of a file in `env`.
void Flip(MemEnv& env, const std::filesystem::path& file, uint64_t offset) {
  auto opened = env.Open(file, Env::OpenMode::kReadWrite);
  ASSERT_TRUE(opened.ok());
  uint8_t b = 0;
  ASSERT_TRUE(opened->file->ReadAt(offset, 1, &b).ok());
  b ^= 0x5a;
  ASSERT_TRUE(opened->file->WriteAt(offset, ByteSpan(&b, 1)).ok());
}

Group MakeGroup(uint64_t l1, uint64_t revision = 0) {
  Group g;
  g.l1_number = l1;
  g.l1_hash = PrefixOf(Keccak256("l1/" + std::to_string(l1) + "/" + std::to_string(revision)));
  g.l1_timestamp = 12 * l1 + 1;
  for (uint32_t c = 0; c < 2; ++c)
    g.entries.push_back({c, 6 * l1 + 3, PrefixOf(Keccak256("local/" + std::to_string(l1))), 6 * l1,
                         PrefixOf(Keccak256("cross/" + std::to_string(l1 + revision))), 0});
  return g;
}

class SuperSafeVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir("/d").ok());
    auto db = SuperSafeDB::Open("/d", chains_, OpenOptions{&env_});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }
  std::vector<Finding> Whole() { return VerifySuperSafeDB(&env_, file_, DependencySetDigest(chains_)); }

  MemEnv env_;
  const std::vector<ChainID> chains_ = {ChainID(uint64_t{900}), ChainID(uint64_t{901})};
  const std::filesystem::path file_ = "/d/supersafe.db";
  std::unique_ptr<SuperSafeDB> db_;
  SuperSafeVerifier verifier_{DependencySetDigest(chains_)};
};

TEST_F(SuperSafeVerifierTest, AppendsAreVerifiedFromWhereTheLastPassEnded) {
  EXPECT_THAT(verifier_.Continue(&env_, file_), IsEmpty());
  EXPECT_EQ(verifier_.verified(), 90u);  // the header
  for (uint64_t l1 = 1; l1 <= 20; ++l1) {
    ASSERT_EQ(db_->Append(MakeGroup(l1)), Status::Ok());
    if (l1 % 4 == 0) {
      ASSERT_EQ(db_->Append(MakeGroup(l1, 1)), Status::Ok());  // a revision
    }
    EXPECT_THAT(verifier_.Continue(&env_, file_), IsEmpty()) << l1;
    EXPECT_FALSE(verifier_.rewritten());
    EXPECT_EQ(verifier_.verified(), 90 + db_->entry_count() * 90);
  }
  // Damage to an early group (outside the context the verifier compares) after it was verified:
  // Continue does not read it again; Full does, and reports what the whole-file verifier does.
  Flip(env_, file_, 90 + 40);
  ASSERT_EQ(db_->Append(MakeGroup(21)), Status::Ok());
  EXPECT_THAT(verifier_.Continue(&env_, file_), IsEmpty());
  ASSERT_THAT(Whole(), Not(IsEmpty()));
  EXPECT_EQ(Show(verifier_.Full(&env_, file_)), Show(Whole()));
  EXPECT_EQ(verifier_.verified(), 0u);
}

TEST_F(SuperSafeVerifierTest, DamageInTheNewBytesIsReportedAsTheWholeFileVerifierReportsIt) {
  for (uint64_t l1 = 1; l1 <= 5; ++l1) ASSERT_EQ(db_->Append(MakeGroup(l1)), Status::Ok());
  EXPECT_THAT(verifier_.Continue(&env_, file_), IsEmpty());
  const uint64_t end = verifier_.verified();
  ASSERT_EQ(db_->Append(MakeGroup(6)), Status::Ok());
  ASSERT_EQ(db_->Append(MakeGroup(7)), Status::Ok());
  Flip(env_, file_, end + 40);
  const std::vector<Finding> whole = Whole();
  ASSERT_THAT(whole, Not(IsEmpty()));
  EXPECT_EQ(Show(verifier_.Continue(&env_, file_)), Show(whole));
  Flip(env_, file_, end + 40);  // repaired: verified whole again (nothing sound to go on from), then incrementally
  EXPECT_THAT(verifier_.Continue(&env_, file_), IsEmpty());
  EXPECT_EQ(verifier_.verified(), 90 + db_->entry_count() * 90);
  ASSERT_EQ(db_->Append(MakeGroup(8)), Status::Ok());
  EXPECT_THAT(verifier_.Continue(&env_, file_), IsEmpty());
  EXPECT_FALSE(verifier_.rewritten());
}

TEST_F(SuperSafeVerifierTest, ATruncationIsVerifiedWhole) {
  for (uint64_t l1 = 1; l1 <= 6; ++l1) ASSERT_EQ(db_->Append(MakeGroup(l1)), Status::Ok());
  EXPECT_THAT(verifier_.Continue(&env_, file_), IsEmpty());
  ASSERT_EQ(db_->TruncateFrom(5), Status::Ok());
  EXPECT_THAT(verifier_.Continue(&env_, file_), IsEmpty());
  EXPECT_TRUE(verifier_.rewritten());
  // Cut and grown past where it was, with other bytes where the old context was.
  ASSERT_EQ(db_->TruncateFrom(3), Status::Ok());
  for (uint64_t l1 = 3; l1 <= 8; ++l1) ASSERT_EQ(db_->Append(MakeGroup(l1, 7)), Status::Ok());
  EXPECT_THAT(verifier_.Continue(&env_, file_), IsEmpty());
  EXPECT_TRUE(verifier_.rewritten());
  // The cross-safe rule across the boundary of two passes: the next group drops a chain.
  Group bad = MakeGroup(9);
  bad.entries.pop_back();
  ASSERT_EQ(db_->Append(bad).code(), Code::kInvalidArgument);  // Append refuses it; written behind its back:
  ASSERT_TRUE(env_.CreateDir("/e").ok());
  {
    auto other = SuperSafeDB::Open("/e", chains_, OpenOptions{&env_});
    ASSERT_TRUE(other.ok());
    ASSERT_EQ((*other)->Append(bad), Status::Ok());  // the first group of a file: no rule to break
  }
  Result<Bytes> group = ReadWholeFile(&env_, "/e/supersafe.db");
  ASSERT_TRUE(group.ok());
  group->erase(group->begin(), group->begin() + 90);  // the header
  group->resize(3 * 90);                               // the zero tail
  Result<SuperSafeDump> dump = DumpSuperSafeDB(&env_, file_);
  ASSERT_TRUE(dump.ok());
  auto opened = env_.Open(file_, Env::OpenMode::kReadWrite);
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(opened->file->WriteAt(dump->content_end, ByteSpan(group->data(), group->size())).ok());
  const std::vector<Finding> whole = Whole();
  ASSERT_THAT(Show(whole), ::testing::HasSubstr("is missing"));
  EXPECT_EQ(Show(verifier_.Continue(&env_, file_)), Show(whole));
}

TEST(EventDBVerifier, AppendsRewindsAndDamageAsTheWholeFileVerifier) {
  MemEnv env;
  const std::filesystem::path file = "/events.db";
  auto opened = EventDB::Open(file, ChainID(uint64_t{900}), OpenOptions{&env});
  ASSERT_TRUE(opened.ok());
  EventDB& db = **opened;
  EventDBVerifier verifier;
  auto append = [&](uint64_t from, uint64_t to, const std::string& fork) {
    for (uint64_t n = from; n < to; ++n) {
      BlockRecord b = testing::ChainBlock(n, 4, true, fork);
      b.ref.parent_hash = n == 0 ? Hash{} : db.Latest()->hash;
      ASSERT_EQ(db.Append(b), Status::Ok());
    }
  };
  EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
  EXPECT_EQ(verifier.verified(), event_format::kFileHeaderSize);
  append(0, 5, "a");
  EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
  EXPECT_FALSE(verifier.rewritten());
  const uint64_t five = verifier.verified();
  // A rewind, then the same height again on another fork: verified whole.
  ASSERT_EQ(db.RewindTo(2), Status::Ok());
  append(3, 6, "b");
  EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
  EXPECT_TRUE(verifier.rewritten());
  EXPECT_GT(verifier.verified(), five);
  append(6, 8, "b");
  EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
  EXPECT_FALSE(verifier.rewritten());
  // Damage in the new bytes: the whole file's findings.
  const uint64_t end = verifier.verified();
  append(8, 10, "b");
  Flip(env, file, end + event_format::kCheckpointSize + 10);
  const std::vector<Finding> whole = VerifyEventDB(&env, file);
  ASSERT_THAT(whole, Not(IsEmpty()));
  EXPECT_EQ(Show(verifier.Continue(&env, file)), Show(whole));
  // Old damage behind an unchanged context is Full()'s to find.
  Flip(env, file, end + event_format::kCheckpointSize + 10);
  EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
  Flip(env, file, event_format::kFileHeaderSize + event_format::kCheckpointSize + 10);  // block 0
  append(10, 11, "b");
  EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
  EXPECT_EQ(Show(verifier.Full(&env, file)), Show(VerifyEventDB(&env, file)));
  EXPECT_THAT(VerifyEventDB(&env, file), Not(IsEmpty()));
}

TEST(ReplacementLogVerifier, AppendsAndDamageAsTheWholeFileVerifier) {
  MemEnv env;
  const std::filesystem::path file = "/replacements.db";
  auto opened = ReplacementLog::Open(file, OpenOptions{&env});
  ASSERT_TRUE(opened.ok());
  ReplacementLog& log = **opened;
  ReplacementLogVerifier verifier;
  EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
  for (uint64_t k = 0; k < 6; ++k) {
    ASSERT_EQ(testing::Record(log, testing::RecordNumber(k)), Status::Ok());
    EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
    EXPECT_EQ(verifier.verified(), (k + 1) * ReplacementLog::kRecordSize);
  }
  Flip(env, file, 10);  // the first record, outside the context (the last record)
  ASSERT_EQ(testing::Record(log, testing::RecordNumber(6)), Status::Ok());
  EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
  EXPECT_EQ(Show(verifier.Full(&env, file)), Show(VerifyReplacementLog(&env, file)));
  EXPECT_THAT(VerifyReplacementLog(&env, file), Not(IsEmpty()));
  Flip(env, file, 10);
  EXPECT_THAT(verifier.Continue(&env, file), IsEmpty());
  ASSERT_EQ(testing::Record(log, testing::RecordNumber(7)), Status::Ok());
  Flip(env, file, 7 * ReplacementLog::kRecordSize + 50);  // the new record
  EXPECT_EQ(Show(verifier.Continue(&env, file)), Show(VerifyReplacementLog(&env, file)));
  EXPECT_THAT(VerifyReplacementLog(&env, file), Not(IsEmpty()));
}

}  // namespace
}  // namespace supersafe::db
