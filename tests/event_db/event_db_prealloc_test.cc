// Preallocation of events.db: the file is [content][zero tail]. Open finds the content end,
// recovers writes torn inside preallocated space, refuses other damage, and opens files written
// without a zero tail as before. Rules: docs/event-db-format.md, "Preallocation and the zero tail".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "db/event_db.h"
#include "db/event_db_format.h"
#include "tests/event_db/event_db_test_util.h"
#include "tests/crash_disk.h"

namespace supersafe::db {
namespace {

using namespace event_format;
using testing::BigChainID;
using testing::BrokenPath;
using testing::ChainBlock;
using testing::ContentBytes;
using testing::EncodedBytes;
using testing::EncodedSize;
using testing::OpenOrDie;
using testing::ReadFileBytes;
using testing::TempDir;
using testing::TrimmedEnd;
using testing::WriteFileBytes;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const ChainID kChain = BigChainID();

std::vector<BlockRecord> Blocks(uint64_t first, uint64_t last, uint32_t logs = 5) {
  std::vector<BlockRecord> out;
  for (uint64_t n = first; n <= last; ++n) out.push_back(ChainBlock(n, logs));
  return out;
}

// The file header and `blocks`, as a file without a zero tail holds them.
Bytes Content(const std::vector<BlockRecord>& blocks) {
  TempDir dir;
  OpenOrDie(dir.path() / "h.db").reset();
  Bytes out = ContentBytes(dir.path() / "h.db");
  const Bytes body = EncodedBytes(blocks, kChain);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(EventDBPrealloc, AppendsFillAPreallocatedChunkAndReopenFindsTheEnd) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  auto db = OpenOrDie(file);
  for (const BlockRecord& b : Blocks(1, 10)) ASSERT_TRUE(db->Append(b).ok());
  const Bytes bytes = ReadFileBytes(file);
  EXPECT_EQ(bytes.size(), kPreallocChunk);
  const Bytes content = Content(Blocks(1, 10));
  ASSERT_TRUE(std::equal(content.begin(), content.end(), bytes.begin()));
  EXPECT_TRUE(std::all_of(bytes.begin() + static_cast<ptrdiff_t>(content.size()), bytes.end(),
                          [](uint8_t b) { return b == 0; }));
  db.reset();
  db = OpenOrDie(file);  // a clean close, then reopen: the zero tail stays, the content ends where it did
  EXPECT_EQ(db->recovery().torn_bytes, 0u);
  EXPECT_EQ(db->Latest(), ChainBlock(10, 5).ref);
  EXPECT_EQ(ReadFileBytes(file), bytes);
  EXPECT_THAT(VerifyEventDB(::supersafe::db::Env::Posix(), file), IsEmpty());
  ASSERT_TRUE(db->Append(ChainBlock(11, 5)).ok());
  db.reset();
  EXPECT_EQ(ContentBytes(file), Content(Blocks(1, 11)));
  EXPECT_EQ(OpenOrDie(file)->Latest(), ChainBlock(11, 5).ref);
}

// A batch past the chunk grows the file by whole chunks, in writes of at most kMaxWrite bytes: a
// crash tears only the first of them, and a block larger than one write is written in pieces.
TEST(EventDBPrealloc, WritesHoldAtMostOneMebibyteAndTheFileGrowsByWholeChunks) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  std::vector<BlockRecord> blocks = Blocks(1, 600, 100);  // 4.9 MB
  BlockRecord big = ChainBlock(601, 15'000, false);       // 1.2 MB: more than one write
  blocks.push_back(big);
  ASSERT_GT(EncodedSize(big), kMaxWrite);
  {
    auto db = OpenOrDie(file);
    ASSERT_TRUE(db->AppendBatch(blocks).ok());
  }
  EXPECT_EQ(std::filesystem::file_size(file) % kPreallocChunk, 0u);
  EXPECT_GT(std::filesystem::file_size(file), ContentBytes(file).size());
  EXPECT_EQ(ContentBytes(file), Content(blocks));
  EXPECT_EQ(*OpenOrDie(file)->Logs(601), big.logs);

  // The same batch, crashing with "everything but one byte": only the first write (whole blocks,
  // at most kMaxWrite bytes) is torn, and its complete blocks stay.
  std::filesystem::remove(file);
  OpenOrDie(file).reset();
  ::supersafe::testing::CrashDisk crash;
  crash.Arm(SIZE_MAX);
  {
    auto db = OpenOrDie(file, crash.options());
    ASSERT_EQ(db->AppendBatch(blocks).code(), Code::kIOError);
  }
  auto db = OpenOrDie(file);
  ASSERT_TRUE(db->Latest().has_value());
  const uint64_t kept = db->Latest()->number;
  EXPECT_EQ(kept, (kMaxWrite / EncodedSize(blocks[0])) - 1);  // the last block of the first write is torn
  EXPECT_LT(db->recovery().torn_bytes, EncodedSize(blocks[0]));
  EXPECT_EQ(ReadFileBytes(file), Content(Blocks(1, kept, 100)));
  // The big block alone: its first write is a piece of kMaxWrite bytes, torn.
  ASSERT_TRUE(db->AppendBatch(std::span(blocks).subspan(kept, 600 - kept)).ok());
  db.reset();
  crash.Arm(SIZE_MAX);
  db = OpenOrDie(file, crash.options());
  ASSERT_EQ(db->Append(big).code(), Code::kIOError);
  db.reset();
  db = OpenOrDie(file);
  EXPECT_EQ(db->Latest(), blocks[599].ref);
  EXPECT_GT(db->recovery().torn_bytes, kMaxWrite - 100);
  EXPECT_LT(db->recovery().torn_bytes, kMaxWrite);
}

// Rewind and Clear cut the file at the new end, zero tail and all: nothing stale stays.
TEST(EventDBPrealloc, RewindAndClearLeaveNoStaleBytes) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  auto db = OpenOrDie(file);
  ASSERT_TRUE(db->AppendBatch(Blocks(1, 10)).ok());
  ASSERT_TRUE(db->RewindTo(4).ok());
  EXPECT_EQ(ReadFileBytes(file), Content(Blocks(1, 4)));
  BlockRecord fork = ChainBlock(5, 2, true, "fork");
  fork.ref.parent_hash = ChainBlock(4, 5).ref.hash;
  ASSERT_TRUE(db->Append(fork).ok());
  db.reset();
  db = OpenOrDie(file);
  EXPECT_EQ(db->Latest(), fork.ref);
  EXPECT_EQ(db->Block(6).status().code(), Code::kNotFound);
  std::vector<BlockRecord> expected = Blocks(1, 4);
  expected.push_back(fork);
  EXPECT_EQ(ContentBytes(file), Content(expected));
  EXPECT_THAT(VerifyEventDB(::supersafe::db::Env::Posix(), file), IsEmpty());
  ASSERT_TRUE(db->Clear().ok());
  EXPECT_EQ(ReadFileBytes(file), Content({}));
}

// A file written before preallocation (no zero tail) opens unchanged; appends then preallocate.
TEST(EventDBPrealloc, AFileWithoutAZeroTailOpensUnchanged) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  const Bytes old = Content(Blocks(1, 6));
  WriteFileBytes(file, old);
  EXPECT_THAT(VerifyEventDB(::supersafe::db::Env::Posix(), file), IsEmpty());
  auto db = OpenOrDie(file);
  EXPECT_EQ(db->Latest(), ChainBlock(6, 5).ref);
  EXPECT_EQ(ReadFileBytes(file), old);
  ASSERT_TRUE(db->Append(ChainBlock(7, 5)).ok());
  EXPECT_EQ(ContentBytes(file), Content(Blocks(1, 7)));
  EXPECT_EQ(std::filesystem::file_size(file), kPreallocChunk);
}

// The last write, blocks 4..6, reached the disk with pages out of order: zeros inside it. From
// the block the zeros hit to the content end is a torn write.
TEST(EventDBPrealloc, ATornWriteWithAnAllZeroEntryIsRecovered) {
  const Bytes sound = Content(Blocks(1, 3));
  const Bytes batch = EncodedBytes(Blocks(4, 6), kChain);
  const size_t block = EncodedSize(ChainBlock(4, 5));
  struct Case {
    const char* what;
    size_t zero_from, zero_to;  // in the batch
    size_t torn_from;           // in the batch
  };
  const std::vector<Case> cases = {
      {"a log entry of the last block", 2 * block + 4 * kEntrySize, 2 * block + 5 * kEntrySize, 2 * block},
      {"the last block's checkpoint", 2 * block, 2 * block + kCheckpointSize, 2 * block},
      {"the middle block's end and the last block's start", 2 * block - 100, 2 * block + 60, block},
      {"a page in the first block", 100, 100 + 4096 % block, 0},
      {"the first entry of the batch", 0, kEntrySize, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    TempDir dir;
    const auto file = dir.path() / "events.db";
    Bytes bytes = sound;
    bytes.insert(bytes.end(), batch.begin(), batch.end());
    std::fill(bytes.begin() + static_cast<ptrdiff_t>(sound.size() + c.zero_from),
              bytes.begin() + static_cast<ptrdiff_t>(sound.size() + c.zero_to), 0);
    bytes.resize(bytes.size() + 3000, 0);
    WriteFileBytes(file, bytes);
    const size_t keep = sound.size() + c.torn_from;
    const size_t end = TrimmedEnd(bytes, keep, bytes.size());

    const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), file);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].offset, keep);
    EXPECT_THAT(findings[0].what, HasSubstr("torn tail: " + std::to_string(end - keep) + " bytes"));
    auto db = OpenOrDie(file);
    EXPECT_EQ(db->recovery().torn_bytes, end - keep);
    EXPECT_EQ(ReadFileBytes(file), Bytes(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(keep)));
    EXPECT_EQ(ReadFileBytes(BrokenPath(file)),
              Bytes(bytes.begin() + static_cast<ptrdiff_t>(keep), bytes.begin() + static_cast<ptrdiff_t>(end)));
    EXPECT_EQ(db->Latest()->number, 3 + c.torn_from / block);
    EXPECT_THAT(VerifyEventDB(::supersafe::db::Env::Posix(), file), IsEmpty());
  }
}

// Without zeros that a torn write explains, a CRC mismatch in the last block stays corruption.
TEST(EventDBPrealloc, OtherDamageNearTheZeroTailIsRefused) {
  const std::vector<BlockRecord> blocks = Blocks(1, 5);
  const Bytes content = Content(blocks);
  ASSERT_NE(content.back(), 0);
  const uint64_t last = content.size() - EncodedSize(blocks.back());
  struct Case {
    const char* what;
    uint64_t at;  // the byte flipped
    uint64_t named;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"a flipped log hash byte", last + kCheckpointSize + 20, last, "block body CRC mismatch"},
      {"a flipped checkpoint byte", last + kCheckpointNumber + 7, last, "checkpoint CRC mismatch"},
      {"a flipped byte of the block before", last - 5, last - EncodedSize(blocks[3]), "block body CRC mismatch"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    TempDir dir;
    const auto file = dir.path() / "events.db";
    Bytes bytes = content;
    bytes[c.at] ^= 0x5a;
    bytes.resize(bytes.size() + 3000, 0);
    WriteFileBytes(file, bytes);
    auto db = EventDB::Open(file, kChain);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), Code::kCorruption);
    EXPECT_THAT(db.status().message(), HasSubstr(file.string() + ": corruption at offset " + std::to_string(c.named) +
                                                 ": " + c.message));
    const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), file);
    ASSERT_FALSE(findings.empty());
    EXPECT_EQ(findings[0].offset, c.named);
    EXPECT_FALSE(std::filesystem::exists(BrokenPath(file)));
    EXPECT_EQ(ReadFileBytes(file), bytes);
  }
}

// Zeros further back than the last write's 1 MiB are damage to acknowledged data, not a torn write.
TEST(EventDBPrealloc, AZeroEntryBeforeTheLastWriteIsCorruption) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  Bytes bytes = Content(Blocks(1, 300, 100));  // 2.4 MB
  const uint64_t at = kFileHeaderSize + EncodedSize(ChainBlock(1, 100)) + 5 * kEntrySize;
  std::fill(bytes.begin() + static_cast<ptrdiff_t>(at), bytes.begin() + static_cast<ptrdiff_t>(at + kEntrySize), 0);
  bytes.resize(bytes.size() + 3000, 0);
  WriteFileBytes(file, bytes);
  auto db = EventDB::Open(file, kChain);
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(),
              HasSubstr("corruption at offset " + std::to_string(at - 5 * kEntrySize) + ": block body CRC mismatch"));
  const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), file);
  ASSERT_FALSE(findings.empty());
  EXPECT_EQ(findings[0].offset, at - 5 * kEntrySize);
  EXPECT_EQ(ReadFileBytes(file), bytes);
}

// The zero tail is bounded by what preallocation can leave; Open does not scan further back.
TEST(EventDBPrealloc, MoreZeroBytesThanPreallocationLeavesIsCorruption) {
  const Bytes content = Content(Blocks(1, 3));
  TempDir dir;
  const auto file = dir.path() / "events.db";
  Bytes bytes = content;
  bytes.resize(content.size() + kMaxZeroTail, 0);
  WriteFileBytes(file, bytes);
  EXPECT_EQ(OpenOrDie(file)->Latest(), ChainBlock(3, 5).ref);
  bytes.resize(content.size() + kMaxZeroTail + 1, 0);
  WriteFileBytes(file, bytes);
  auto db = EventDB::Open(file, kChain);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kCorruption);
  EXPECT_THAT(db.status().message(), HasSubstr("corruption at offset " + std::to_string(content.size()) +
                                               ": the file ends in " + std::to_string(kMaxZeroTail + 1) +
                                               " zero bytes, more than preallocation leaves"));
  const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), file);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].offset, content.size());
  EXPECT_EQ(ReadFileBytes(file), bytes);
}

}  // namespace
}  // namespace supersafe::db
