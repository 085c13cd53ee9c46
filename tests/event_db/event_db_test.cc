// Unit tests of the event-log DB and byte surgery in LevelDB's style: every tail truncation, every
// torn append, a flipped bit anywhere, broken CRCs, re-sealed semantic damage, reordered blocks.
// Each case ends in a clean recovery that loses only the unacknowledged tail, or in a refusal that
// names the file and offset, and VerifyEventDB agrees.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "core/access_list.h"
#include "core/crypto.h"
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
using testing::TrimmedEnd;
using testing::TempDir;
using testing::WriteFileBytes;
using ::testing::HasSubstr;

const ChainID kChain = BigChainID();

// ---- API ------------------------------------------------------------------------------------

TEST(EventDB, NewFileHoldsOnlyTheHeader) {
  TempDir dir;
  const auto file = dir.path() / "chains" / kChain.Decimal() / "events.db";
  auto db = OpenOrDie(file);
  EXPECT_EQ(db->chain_id(), kChain);
  EXPECT_FALSE(db->First().has_value());
  EXPECT_FALSE(db->Latest().has_value());
  EXPECT_EQ(ContentBytes(file).size(), kFileHeaderSize);
  EXPECT_EQ(std::filesystem::file_size(file), kPreallocChunk);
  EXPECT_EQ(db->Block(0).status().code(), Code::kNotFound);
  EXPECT_EQ(db->Contains(0, 0, Hash{}), Presence::kUnknown);
  db.reset();
  EXPECT_TRUE(VerifyEventDB(::supersafe::db::Env::Posix(), file).empty());
  EXPECT_FALSE(OpenOrDie(file)->Latest().has_value());
}

TEST(EventDB, RefusesAnotherChainsFile) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  OpenOrDie(file).reset();
  auto other = EventDB::Open(file, ChainID(BigChainID().value() + 1));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(other.status().message(), HasSubstr(BigChainID().Decimal()));
}

TEST(EventDB, AppendsAndReadsBack) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  std::vector<BlockRecord> blocks = {ChainBlock(7, 0), ChainBlock(8, 6), ChainBlock(9, 1)};
  {
    auto db = OpenOrDie(file);
    for (const auto& b : blocks) ASSERT_TRUE(db->Append(b).ok());
  }
  auto db = OpenOrDie(file);  // reads what the disk holds
  EXPECT_EQ(db->First(), blocks.front().ref);
  EXPECT_EQ(db->Latest(), blocks.back().ref);
  for (const auto& b : blocks) {
    EXPECT_EQ(*db->Block(b.ref.number), b.ref);
    EXPECT_EQ(*db->Logs(b.ref.number), b.logs);
    EXPECT_EQ(*db->LogCount(b.ref.number), b.logs.size());
  }
  const BlockRecord& b8 = blocks[1];
  ASSERT_TRUE(b8.logs[1].exec.has_value());
  EXPECT_EQ(b8.logs[1].exec->chain_id, BigChainID());  // above 2^64, round-trips whole

  BlockRef seen;
  EXPECT_EQ(db->Contains(8, 4, b8.logs[4].log_hash, &seen), Presence::kFound);
  EXPECT_EQ(seen, b8.ref);
  EXPECT_EQ(db->Contains(8, 4, b8.logs[3].log_hash), Presence::kConflicts);  // wrong hash
  EXPECT_EQ(db->Contains(8, 6, b8.logs[0].log_hash), Presence::kConflicts);  // no such log index
  EXPECT_EQ(db->Contains(7, 0, b8.logs[0].log_hash, &seen), Presence::kConflicts);  // block without logs
  EXPECT_EQ(seen, blocks[0].ref);
  EXPECT_EQ(db->Contains(10, 0, b8.logs[0].log_hash), Presence::kUnknown);  // above the tip
  EXPECT_EQ(db->Contains(6, 0, b8.logs[0].log_hash), Presence::kUnknown);   // below the first block
  EXPECT_EQ(db->Block(10).status().code(), Code::kNotFound);
  EXPECT_EQ(db->Logs(6).status().code(), Code::kNotFound);
  EXPECT_EQ(db->LogCount(6).status().code(), Code::kNotFound);
}

TEST(EventDB, ContainsChecksumFindsTheAccessListChecksumOfALog) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  BlockRecord late = ChainBlock(9, 2);
  late.ref.timestamp = uint64_t{1} << 40;  // above 2^32-1: the index refers to the checkpoint for it
  std::vector<BlockRecord> blocks = {ChainBlock(7, 0), ChainBlock(8, 6), late};
  auto sum = [](const BlockRecord& b, uint32_t i, uint64_t timestamp) {
    return AccessChecksum(b.logs[i].log_hash, kChain, b.ref.number, timestamp, i);
  };
  {
    auto db = OpenOrDie(file);
    ASSERT_TRUE(db->AppendBatch(blocks).ok());
  }
  auto db = OpenOrDie(file);  // the checksums as the disk holds them
  const BlockRecord& b8 = blocks[1];
  const uint64_t t8 = b8.ref.timestamp;
  for (uint32_t i = 0; i < b8.logs.size(); ++i) EXPECT_EQ(db->ContainsChecksum(8, i, t8, sum(b8, i, t8)), Presence::kFound) << i;
  BlockRef seen;
  EXPECT_EQ(db->ContainsChecksum(8, 4, t8, sum(b8, 4, t8), &seen), Presence::kFound);
  EXPECT_EQ(seen, b8.ref);
  EXPECT_EQ(db->ContainsChecksum(8, 4, t8, sum(b8, 3, t8)), Presence::kConflicts);      // another log's checksum
  EXPECT_EQ(db->ContainsChecksum(8, 6, t8, sum(b8, 0, t8)), Presence::kConflicts);      // no such log index
  EXPECT_EQ(db->ContainsChecksum(7, 0, 1014, sum(b8, 0, t8), &seen), Presence::kConflicts);  // no logs
  EXPECT_EQ(seen, blocks[0].ref);
  EXPECT_EQ(db->ContainsChecksum(10, 0, t8, sum(b8, 0, t8)), Presence::kUnknown);  // above the tip
  EXPECT_EQ(db->ContainsChecksum(6, 0, t8, sum(b8, 0, t8)), Presence::kUnknown);   // below the first block
  Hash other_chain = AccessChecksum(b8.logs[2].log_hash, ChainID(uint64_t{10}), 8, t8, 2);
  EXPECT_EQ(db->ContainsChecksum(8, 2, t8, other_chain), Presence::kConflicts);
  Hash flipped = sum(b8, 2, t8);
  flipped.bytes[31] ^= 1;
  EXPECT_EQ(db->ContainsChecksum(8, 2, t8, flipped), Presence::kConflicts);

  // Another timestamp than the block's: the checksum as of that timestamp, computed on the spot.
  EXPECT_EQ(db->ContainsChecksum(8, 2, t8 + 1, sum(b8, 2, t8 + 1)), Presence::kFound);
  EXPECT_EQ(db->ContainsChecksum(8, 2, t8 + 1, sum(b8, 2, t8)), Presence::kConflicts);
  EXPECT_EQ(db->ContainsChecksum(8, 2, t8, sum(b8, 2, t8 + 1)), Presence::kConflicts);

  // A timestamp that does not fit the index.
  const uint64_t t9 = late.ref.timestamp;
  EXPECT_EQ(db->ContainsChecksum(9, 1, t9, sum(late, 1, t9)), Presence::kFound);
  EXPECT_EQ(db->ContainsChecksum(9, 1, t9 & UINT32_MAX, sum(late, 1, t9)), Presence::kConflicts);
  EXPECT_EQ(db->ContainsChecksum(9, 1, t9 & UINT32_MAX, sum(late, 1, t9 & UINT32_MAX)), Presence::kFound);
  EXPECT_EQ(db->ContainsChecksum(9, 1, UINT32_MAX, sum(late, 1, UINT32_MAX)), Presence::kFound);
}

TEST(EventDB, EveryStoredChecksumIsCoresAccessChecksum) {
  // Checksums are computed for a whole batch at once, across block boundaries and for single
  // appends alike.
  TempDir dir;
  auto db = OpenOrDie(dir.path() / "events.db");
  std::vector<BlockRecord> blocks;
  uint64_t n = 40;
  for (uint32_t logs : {0u, 1u, 7u, 8u, 9u, 17u, 3u, 64u, 5u}) blocks.push_back(ChainBlock(n++, logs));
  ASSERT_TRUE(db->AppendBatch(blocks).ok());
  for (uint32_t logs : {1u, 9u, 2u}) {
    blocks.push_back(ChainBlock(n++, logs));
    ASSERT_TRUE(db->Append(blocks.back()).ok());
  }
  size_t checked = 0;
  for (const BlockRecord& b : blocks) {
    for (uint32_t i = 0; i < b.logs.size(); ++i, ++checked) {
      const Hash want = AccessChecksum(b.logs[i].log_hash, kChain, b.ref.number, b.ref.timestamp, i);
      ASSERT_EQ(db->ContainsChecksum(b.ref.number, i, b.ref.timestamp, want), Presence::kFound)
          << "block " << b.ref.number << " log " << i;
    }
  }
  EXPECT_EQ(checked, 126u);
}

TEST(EventDB, ALargeBatchWritesTheBytesOfSingleAppends) {
  // A batch big enough for Keccak256Many to split its checksums over two threads writes the same
  // file as block-by-block appends, whose small batches are hashed inline.
  TempDir dir;
  std::vector<BlockRecord> blocks;
  size_t logs = 0;
  for (uint64_t n = 20; n < 60; ++n) {
    blocks.push_back(ChainBlock(n, static_cast<uint32_t>(n % 7 == 0 ? 0 : 60 + n % 50)));
    logs += blocks.back().logs.size();
  }
  ASSERT_GE(logs, 4 * kKeccak256ManySplitMin);
  ASSERT_LT(blocks[1].logs.size(), kKeccak256ManySplitMin);
  {
    auto batch = OpenOrDie(dir.path() / "batch.db");
    ASSERT_TRUE(batch->AppendBatch(blocks).ok());
    auto single = OpenOrDie(dir.path() / "single.db");
    for (const BlockRecord& b : blocks) ASSERT_TRUE(single->Append(b).ok());
  }
  const Bytes batch_bytes = ContentBytes(dir.path() / "batch.db");
  EXPECT_EQ(batch_bytes.size(), ContentBytes(dir.path() / "single.db").size());
  EXPECT_TRUE(batch_bytes == ContentBytes(dir.path() / "single.db"));
  auto db = OpenOrDie(dir.path() / "batch.db");
  for (const BlockRecord& b : blocks) {
    for (uint32_t i = 0; i < b.logs.size(); ++i) {
      const Hash want = AccessChecksum(b.logs[i].log_hash, kChain, b.ref.number, b.ref.timestamp, i);
      ASSERT_EQ(db->ContainsChecksum(b.ref.number, i, b.ref.timestamp, want), Presence::kFound)
          << "block " << b.ref.number << " log " << i;
    }
  }
}

TEST(EventDB, ChecksumEntriesFollowTheLogs) {
  // The documented layout: per log, in log order after the log entries, 0x08, three zero bytes,
  // the log index, then AccessChecksum(logHash, chainID, number, timestamp, index).
  TempDir dir;
  const auto file = dir.path() / "events.db";
  const BlockRecord b = ChainBlock(5, 4);
  ASSERT_TRUE(OpenOrDie(file)->Append(b).ok());
  const Bytes bytes = ContentBytes(file);
  ASSERT_EQ(bytes.size(), kFileHeaderSize + EncodedSize(b));
  ASSERT_EQ(EncodedSize(b), (3 + 4 + 4 + 3 * 1) * kEntrySize);  // log 1 executes
  for (uint32_t i = 0; i < b.logs.size(); ++i) {
    const uint8_t* e = bytes.data() + kFileHeaderSize + ChecksumEntryAt(b.logs.size(), i) * kEntrySize;
    EXPECT_EQ(e[0], kTypeChecksum);
    EXPECT_EQ(GetU32BE(e), uint32_t{kTypeChecksum} << 24);
    EXPECT_EQ(GetU32BE(e + kEntryIndex), i);
    const Hash want = AccessChecksum(b.logs[i].log_hash, kChain, b.ref.number, b.ref.timestamp, i);
    EXPECT_EQ(Hash::FromSpan(ByteSpan(e + kEntryHash, Hash::kSize)), want);
    EXPECT_EQ(e[kEntryHash], 0x03);
  }
  EXPECT_TRUE(VerifyEventDB(::supersafe::db::Env::Posix(), file).empty());
}

TEST(EventDB, AMappedWindowAnswersAsTheWholeMapping) {
  // With a window of a few pages, most blocks lie before it (read with pread), the newest in it;
  // appends move it on, a rewind moves it back, and every answer stays the same.
  TempDir dir;
  const auto file = dir.path() / "events.db";
  auto db = OpenOrDie(file);
  EXPECT_EQ(db->mapped_window(), 0u);
  db->SetMappedWindow(5000);  // rounded up to whole pages
  EXPECT_EQ(db->mapped_window() % 4096, 0u);
  EXPECT_GE(db->mapped_window(), 5000u);
  std::vector<BlockRecord> blocks;
  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    for (const BlockRecord& b : blocks) {
      if (b.ref.number > db->Latest()->number) break;
      const uint64_t n = b.ref.number;
      ASSERT_EQ(*db->Block(n), b.ref);
      ASSERT_EQ(*db->Logs(n), b.logs);
      for (uint32_t i = 0; i <= b.logs.size(); ++i) {
        const bool has = i < b.logs.size();
        const Hash log_hash = has ? b.logs[i].log_hash : Hash{};
        const Hash sum = AccessChecksum(log_hash, kChain, n, b.ref.timestamp, i);
        BlockRef seen;
        ASSERT_EQ(db->Contains(n, i, log_hash, &seen), has ? Presence::kFound : Presence::kConflicts) << n << "/" << i;
        ASSERT_EQ(seen, b.ref);
        ASSERT_EQ(db->ContainsChecksum(n, i, b.ref.timestamp, sum), has ? Presence::kFound : Presence::kConflicts);
        ASSERT_EQ(db->ContainsChecksum(n, i, b.ref.timestamp + 3, AccessChecksum(log_hash, kChain, n, b.ref.timestamp + 3, i)),
                  has ? Presence::kFound : Presence::kConflicts);
      }
    }
  };
  for (uint64_t n = 1; n <= 120; ++n) {
    blocks.push_back(ChainBlock(n, static_cast<uint32_t>(n % 7)));
    ASSERT_TRUE(db->Append(blocks.back()).ok());
    if (n % 40 == 0) check("appending");
  }
  ASSERT_GT(ContentBytes(file).size(), 4 * db->mapped_window());
  ASSERT_TRUE(db->RewindTo(30).ok());
  check("after a rewind below the window");
  for (uint64_t n = 31; n <= 120; ++n) ASSERT_TRUE(db->Append(blocks[n - 1]).ok());
  check("appended again");
  db->SetMappedWindow(0);
  check("whole file mapped again");
  db->SetMappedWindow(4096);
  db.reset();
  db = OpenOrDie(file);
  db->SetMappedWindow(4096);
  check("reopened");
  ASSERT_TRUE(db->Clear().ok());
  blocks = {ChainBlock(500, 3)};
  ASSERT_TRUE(db->Append(blocks[0]).ok());
  check("cleared");
}

TEST(EventDB, RejectedAppendWritesNothing) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  auto db = OpenOrDie(file);
  ASSERT_TRUE(db->Append(ChainBlock(100, 2)).ok());  // an empty DB takes any first number
  const Bytes before = ReadFileBytes(file);

  EXPECT_EQ(db->Append(ChainBlock(102, 2)).code(), Code::kConflictingData);  // gap
  EXPECT_EQ(db->Append(ChainBlock(100, 2)).code(), Code::kConflictingData);  // repeat
  EXPECT_EQ(db->Append(ChainBlock(101, 2, true, "fork")).code(), Code::kConflictingData);  // other parent
  const std::vector<BlockRecord> batch = {ChainBlock(101, 1), ChainBlock(102, 1), ChainBlock(104, 1)};
  EXPECT_EQ(db->AppendBatch(batch).code(), Code::kConflictingData);  // the third is checked before writing
  EXPECT_EQ(ReadFileBytes(file), before);
  EXPECT_EQ(db->Latest()->number, 100u);
  EXPECT_TRUE(db->AppendBatch(std::span(batch).first(2)).ok());
  EXPECT_EQ(db->Latest(), batch[1].ref);
  EXPECT_TRUE(db->AppendBatch({}).ok());
}

TEST(EventDB, NothingFollowsTheLastBlockNumber) {
  TempDir dir;
  auto db = OpenOrDie(dir.path() / "events.db");
  const BlockRecord last = ChainBlock(UINT64_MAX, 2);
  ASSERT_TRUE(db->Append(last).ok());
  BlockRecord wrapped = ChainBlock(0, 1);
  wrapped.ref.parent_hash = last.ref.hash;
  EXPECT_EQ(db->Append(wrapped).code(), Code::kConflictingData);
  EXPECT_EQ(db->Contains(UINT64_MAX, 1, last.logs[1].log_hash), Presence::kFound);
}

TEST(EventDB, RewindTruncatesToABlockDurably) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  auto db = OpenOrDie(file);
  std::vector<BlockRecord> blocks;
  for (uint64_t n = 20; n < 30; ++n) blocks.push_back(ChainBlock(n, static_cast<uint32_t>(n % 4)));
  ASSERT_TRUE(db->AppendBatch(blocks).ok());

  EXPECT_EQ(db->RewindTo(19).code(), Code::kInvalidArgument);
  EXPECT_TRUE(db->RewindTo(35).ok());  // nothing above it
  EXPECT_EQ(db->Latest(), blocks.back().ref);
  ASSERT_TRUE(db->RewindTo(24).ok());
  EXPECT_EQ(db->Latest(), blocks[4].ref);
  EXPECT_EQ(db->Contains(25, 0, blocks[5].logs[0].log_hash), Presence::kUnknown);
  uint64_t expected_size = kFileHeaderSize;
  for (int i = 0; i <= 4; ++i) expected_size += EncodedSize(blocks[i]);
  EXPECT_EQ(std::filesystem::file_size(file), expected_size);

  // The chain goes on from the rewound block, on another fork.
  BlockRecord fork = ChainBlock(25, 3, true, "fork");
  fork.ref.parent_hash = blocks[4].ref.hash;
  ASSERT_TRUE(db->Append(fork).ok());
  db.reset();
  db = OpenOrDie(file);
  EXPECT_EQ(db->Latest(), fork.ref);
  EXPECT_EQ(*db->Logs(25), fork.logs);
  EXPECT_EQ(db->First(), blocks[0].ref);
  ASSERT_TRUE(db->RewindTo(20).ok());
  EXPECT_EQ(db->Latest(), blocks[0].ref);
}

TEST(EventDB, ClearEmptiesDurably) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  auto db = OpenOrDie(file);
  ASSERT_TRUE(db->Append(ChainBlock(5, 3)).ok());
  ASSERT_TRUE(db->Clear().ok());
  EXPECT_FALSE(db->Latest().has_value());
  EXPECT_FALSE(db->First().has_value());
  EXPECT_EQ(db->Contains(5, 0, Hash{}), Presence::kUnknown);
  EXPECT_TRUE(db->RewindTo(3).ok());  // nothing to remove
  ASSERT_TRUE(db->Append(ChainBlock(900, 1)).ok());  // any number again
  db.reset();
  db = OpenOrDie(file);
  EXPECT_EQ(db->First()->number, 900u);
  EXPECT_EQ(db->Latest()->number, 900u);
}

TEST(EventDB, SimulatedCrashStopsWritesUntilReopen) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  ::supersafe::testing::CrashDisk crash;
  auto db = OpenOrDie(file, crash.options());
  ASSERT_TRUE(db->Append(ChainBlock(1, 4)).ok());
  crash.Arm(50);
  EXPECT_EQ(db->Append(ChainBlock(2, 4)).code(), Code::kIOError);
  EXPECT_EQ(db->Append(ChainBlock(2, 4)).code(), Code::kIOError);
  EXPECT_EQ(db->RewindTo(1).code(), Code::kIOError);
  EXPECT_EQ(db->Clear().code(), Code::kIOError);
  EXPECT_EQ(db->Latest(), ChainBlock(1, 4).ref);  // reads still answer from the durable blocks
  EXPECT_EQ(*db->Logs(1), ChainBlock(1, 4).logs);
  db.reset();

  db = OpenOrDie(file, crash.options());
  // The write went into preallocated space: the torn bytes end at the last nonzero one.
  const Bytes block2 = EncodedBytes({ChainBlock(2, 4)}, kChain);
  const size_t torn = TrimmedEnd(block2, 0, 50);
  EXPECT_EQ(db->recovery().torn_bytes, torn);
  EXPECT_EQ(ReadFileBytes(BrokenPath(file)), Bytes(block2.begin(), block2.begin() + static_cast<ptrdiff_t>(torn)));
  EXPECT_EQ(db->Latest(), ChainBlock(1, 4).ref);
  ASSERT_TRUE(db->Append(ChainBlock(2, 4)).ok());
  EXPECT_EQ(*db->Logs(2), ChainBlock(2, 4).logs);
}

TEST(EventDB, TornBatchKeepsItsCompleteBlocks) {
  // A batch is one write: a crash leaves a prefix of it, whose complete blocks are sound and stay.
  TempDir dir;
  const auto file = dir.path() / "events.db";
  ::supersafe::testing::CrashDisk crash;
  auto db = OpenOrDie(file, crash.options());
  const std::vector<BlockRecord> batch = {ChainBlock(1, 2), ChainBlock(2, 3), ChainBlock(3, 1)};
  crash.Arm(EncodedSize(batch[0]) + 7);
  EXPECT_EQ(db->AppendBatch(batch).code(), Code::kIOError);
  db.reset();
  db = OpenOrDie(file);
  const Bytes encoded = EncodedBytes(batch, kChain);
  EXPECT_EQ(db->recovery().torn_bytes, TrimmedEnd(encoded, EncodedSize(batch[0]), EncodedSize(batch[0]) + 7) -
                                           EncodedSize(batch[0]));
  EXPECT_EQ(db->Latest(), batch[0].ref);
}

TEST(EventDB, TornHeaderOfEveryLengthStartsOver) {
  TempDir dir;
  const auto file = dir.path() / "events.db";
  OpenOrDie(file).reset();
  const Bytes header = ContentBytes(file);
  ASSERT_EQ(header.size(), kFileHeaderSize);
  for (bool zero_tail : {false, true}) {
    for (size_t len = 1; len < kFileHeaderSize; ++len) {
      SCOPED_TRACE((zero_tail ? "zero tail, length " : "length ") + std::to_string(len));
      std::filesystem::remove(BrokenPath(file));
      Bytes torn(header.begin(), header.begin() + static_cast<ptrdiff_t>(len));
      // In preallocated space the header's missing bytes read as zeros; the torn bytes end at the last nonzero one.
      const size_t kept = zero_tail ? TrimmedEnd(header, 0, len) : len;
      if (zero_tail) torn.resize(kPreallocChunk, 0);
      WriteFileBytes(file, torn);
      const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), file);
      ASSERT_EQ(findings.size(), 1u);
      EXPECT_EQ(findings[0].what, "torn file header: " + std::to_string(kept) + " bytes");
      auto db = OpenOrDie(file);
      EXPECT_EQ(db->recovery().torn_bytes, kept);
      EXPECT_FALSE(db->Latest().has_value());
      EXPECT_EQ(ContentBytes(file), header);
      EXPECT_EQ(ReadFileBytes(BrokenPath(file)), Bytes(header.begin(), header.begin() + static_cast<ptrdiff_t>(kept)));
    }
  }
}

// ---- Byte surgery ---------------------------------------------------------------------------

// Recomputes the checkpoint CRC of the block at `offset` after an edit.
void ResealCheckpoint(Bytes& file, uint64_t offset) {
  uint8_t* c = file.data() + offset;
  PutU32BE(c + kCheckpointCrc, Crc32c(ByteSpan(c + kCheckpointNumber, kCheckpointSize - kCheckpointNumber)));
}

// Recomputes both CRCs of the block at `offset` after an edit, so that deeper checks are reached.
void Reseal(Bytes& file, uint64_t offset) {
  uint8_t* c = file.data() + offset;
  const uint64_t size = BlockSize(GetU32BE(c + kCheckpointLogCount), GetU32BE(c + kCheckpointExecCount));
  PutU32BE(c + kCheckpointBodyCrc, Crc32c(ByteSpan(c + kCheckpointSize, size - kCheckpointSize)));
  ResealCheckpoint(file, offset);
}

// "<file>: corruption at offset <N>: <what>" -> N and what.
std::pair<uint64_t, std::string> ParseRefusal(const std::string& message) {
  const auto at = message.find("corruption at offset ");
  SS_CHECK(at != std::string::npos, "no offset in: " + message);
  size_t digits_end = 0;
  const uint64_t offset = std::stoull(message.substr(at + 21), &digits_end);
  return {offset, message.substr(at + 21 + digits_end + 2)};
}

// Each surgery runs on the content alone (as written before preallocation) and with a zero tail
// after it (the test parameter: how many zero bytes), where the rules for torn writes in
// preallocated space apply.
class EventDBSurgery : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    zero_tail_ = GetParam();
    file_ = dir_.path() / "events.db";
    blocks_ = {ChainBlock(10, 0), ChainBlock(11, 3), ChainBlock(12, 5), ChainBlock(13, 2), ChainBlock(14, 4)};
    auto db = OpenOrDie(file_);
    uint64_t offset = kFileHeaderSize;
    for (const auto& b : blocks_) {
      SS_CHECK(db->Append(b).ok(), "append");
      offsets_.push_back(offset);
      offset += EncodedSize(b);
    }
    db.reset();
    pristine_ = ContentBytes(file_);
    SS_CHECK(pristine_.size() == offset, "file size differs from the documented layout");
  }

  // Writes `content` and the zero tail; returns the file's bytes.
  Bytes Write(const Bytes& content) const {
    Bytes bytes = content;
    bytes.resize(content.size() + zero_tail_, 0);
    WriteFileBytes(file_, bytes);
    return bytes;
  }

  uint64_t BlockStartOf(uint64_t offset) const {
    return *std::prev(std::upper_bound(offsets_.begin(), offsets_.end(), offset));
  }

  // Writes `bytes`, expects Open to refuse with kCorruption naming the file and an offset, the
  // file to stay as it was, and VerifyEventDB's first finding to name the same offset. Returns
  // the offset and the message.
  std::pair<uint64_t, std::string> ExpectRefusal(const Bytes& content) {
    const Bytes bytes = Write(content);
    auto db = EventDB::Open(file_, kChain);
    if (db.ok()) {
      ADD_FAILURE() << "damaged file opened";
      return {0, ""};
    }
    const std::string message = db.status().message();
    EXPECT_EQ(db.status().code(), Code::kCorruption) << message;
    EXPECT_THAT(message, HasSubstr(file_.string()));
    const auto [offset, what] = ParseRefusal(message);
    EXPECT_EQ(ReadFileBytes(file_), bytes) << "a refused open changed the file";
    EXPECT_FALSE(std::filesystem::exists(BrokenPath(file_)));
    const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), file_);
    EXPECT_FALSE(findings.empty());
    if (!findings.empty()) {
      EXPECT_EQ(findings.front().offset, offset) << message << " / verify: " << findings.front().what;
      EXPECT_THAT(findings.front().what, ::testing::StartsWith(what));
    }
    EXPECT_EQ(ReadFileBytes(file_), bytes) << "verify changed the file";
    return {offset, message};
  }

  // Opens the (recoverable) file and expects blocks_[0..keep) and nothing else. Recovering a torn
  // tail cuts the file at the last sound block, zero tail and all.
  void ExpectRecoveredTo(size_t keep, uint64_t torn_bytes) {
    auto db = OpenOrDie(file_);
    EXPECT_EQ(db->recovery().torn_bytes, torn_bytes);
    EXPECT_EQ(db->Latest(), blocks_[keep - 1].ref);
    for (size_t i = 0; i < keep; ++i) EXPECT_EQ(*db->Logs(blocks_[i].ref.number), blocks_[i].logs);
    EXPECT_TRUE(VerifyEventDB(::supersafe::db::Env::Posix(), file_).empty());
    const uint64_t end = keep < offsets_.size() ? offsets_[keep] : pristine_.size();
    const Bytes content(pristine_.begin(), pristine_.begin() + static_cast<ptrdiff_t>(end));
    EXPECT_EQ(ContentBytes(file_), content);
    if (torn_bytes > 0) {
      EXPECT_EQ(ReadFileBytes(file_), content);
    }
  }

  // The bytes of `content` a torn write leaves behind: in a zero tail, up to its last nonzero byte.
  size_t TornEnd(const Bytes& content, size_t from) const {
    return zero_tail_ > 0 ? TrimmedEnd(content, from, content.size()) : content.size();
  }

  size_t zero_tail_ = 0;
  TempDir dir_;
  std::filesystem::path file_;
  std::vector<BlockRecord> blocks_;
  std::vector<uint64_t> offsets_;  // where each block starts
  Bytes pristine_;
};

INSTANTIATE_TEST_SUITE_P(ZeroTail, EventDBSurgery, ::testing::Values(size_t{0}, size_t{5000}),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return info.param == 0 ? std::string("none") : std::to_string(info.param) + "_bytes";
                         });

// With a zero tail the cut bytes read as zeros: when they were zeros, the last block is whole.
TEST_P(EventDBSurgery, TailTruncatedByEveryLengthUpToABlock) {
  const uint64_t last = offsets_.back();
  const uint64_t last_size = pristine_.size() - last;
  for (uint64_t cut = 1; cut <= last_size; ++cut) {
    SCOPED_TRACE("cut " + std::to_string(cut));
    std::filesystem::remove(BrokenPath(file_));
    const Bytes cut_file(pristine_.begin(), pristine_.end() - static_cast<ptrdiff_t>(cut));
    Write(cut_file);
    const bool whole = zero_tail_ > 0 && TrimmedEnd(pristine_, cut_file.size(), pristine_.size()) == cut_file.size();
    const uint64_t torn = whole || cut == last_size ? 0 : TornEnd(cut_file, last) - last;
    const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), file_);
    if (torn == 0) {
      EXPECT_TRUE(findings.empty());
    } else {
      ASSERT_EQ(findings.size(), 1u);
      EXPECT_EQ(findings[0].offset, last);
      EXPECT_THAT(findings[0].what, HasSubstr("torn tail: " + std::to_string(torn) + " bytes"));
    }
    ExpectRecoveredTo(whole ? blocks_.size() : blocks_.size() - 1, torn);
    if (torn > 0) {
      EXPECT_EQ(ReadFileBytes(BrokenPath(file_)),
                Bytes(cut_file.begin() + static_cast<ptrdiff_t>(last), cut_file.begin() + static_cast<ptrdiff_t>(last + torn)));
    }
  }
}

// Appends always go into preallocated space (a file without a zero tail gets one with its first
// append), so the bytes a crash did not write read as zeros.
TEST_P(EventDBSurgery, TornAppendOfEveryLength) {
  const BlockRecord next = ChainBlock(15, 3);
  const Bytes encoded = EncodedBytes({next}, kChain);
  const uint64_t size = EncodedSize(next);
  ASSERT_EQ(encoded.size(), size);
  for (uint64_t torn = 1; torn < size; ++torn) {
    SCOPED_TRACE("torn " + std::to_string(torn));
    Write(pristine_);
    std::filesystem::remove(BrokenPath(file_));
    ::supersafe::testing::CrashDisk crash;
    crash.Arm(torn);
    auto db = OpenOrDie(file_, crash.options());
    ASSERT_EQ(db->Append(next).code(), Code::kIOError);
    db.reset();
    const bool whole = TrimmedEnd(encoded, torn, size) == torn;  // what was not written is zero anyway
    const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), file_);
    if (whole) {
      EXPECT_TRUE(findings.empty());
      auto reopened = OpenOrDie(file_);
      EXPECT_EQ(reopened->Latest(), next.ref);
      EXPECT_EQ(*reopened->Logs(15), next.logs);
      continue;
    }
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].offset, pristine_.size());
    const size_t kept = TrimmedEnd(encoded, 0, torn);
    ExpectRecoveredTo(blocks_.size(), kept);
    EXPECT_EQ(ReadFileBytes(BrokenPath(file_)), Bytes(encoded.begin(), encoded.begin() + static_cast<ptrdiff_t>(kept)));
  }
}

TEST_P(EventDBSurgery, FlippedBitAnywhereIsRefusedAtItsBlock) {
  for (uint64_t at = 0; at < pristine_.size(); ++at) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      SCOPED_TRACE("offset " + std::to_string(at) + " mask " + std::to_string(mask));
      Bytes damaged = pristine_;
      damaged[at] ^= mask;
      if (zero_tail_ > 0 && at >= offsets_.back() + kCheckpointSize && damaged.back() == 0) {
        // The last block now ends in zero bytes: with a zero tail that reads as a torn write
        // (rule 2, the documented ambiguity), and the block goes to events.db.broken.
        Write(damaged);
        std::filesystem::remove(BrokenPath(file_));
        ExpectRecoveredTo(blocks_.size() - 1, TrimmedEnd(damaged, 0, damaged.size()) - offsets_.back());
        continue;
      }
      const uint64_t named = ExpectRefusal(damaged).first;
      if (at < kFileHeaderSize) {
        EXPECT_LT(named, kFileHeaderSize);
      } else {
        const uint64_t entry = at - (at - kFileHeaderSize) % kEntrySize;
        EXPECT_TRUE(named == BlockStartOf(at) || named == entry) << named;
      }
    }
  }
}

TEST_P(EventDBSurgery, BrokenCrcsAreCorruptionEvenInTheLastBlock) {
  for (size_t i : {size_t{2}, blocks_.size() - 1}) {
    for (size_t field : {kCheckpointCrc, kCheckpointBodyCrc}) {
      Bytes damaged = pristine_;
      uint8_t* crc = damaged.data() + offsets_[i] + field;
      PutU32BE(crc, GetU32BE(crc) + 1);
      if (field == kCheckpointBodyCrc) ResealCheckpoint(damaged, offsets_[i]);  // only the body CRC is wrong
      auto [named, message] = ExpectRefusal(damaged);
      EXPECT_EQ(named, offsets_[i]);
      EXPECT_THAT(message, HasSubstr(field == kCheckpointCrc ? "checkpoint CRC mismatch" : "body CRC mismatch"));
    }
  }
}

TEST_P(EventDBSurgery, ResealedNonConsecutiveNumberIsRefused) {
  Bytes damaged = pristine_;
  PutU64BE(damaged.data() + offsets_[2] + kCheckpointNumber, 13);
  Reseal(damaged, offsets_[2]);
  auto [named, message] = ExpectRefusal(damaged);
  EXPECT_EQ(named, offsets_[2]);
  EXPECT_THAT(message, HasSubstr("block 13 follows block 11"));
}

TEST_P(EventDBSurgery, ResealedParentHashMismatchIsRefused) {
  Bytes damaged = pristine_;
  damaged[offsets_[3] + 2 * kEntrySize + kEntryHash + 5] ^= 0x10;
  Reseal(damaged, offsets_[3]);
  auto [named, message] = ExpectRefusal(damaged);
  EXPECT_EQ(named, offsets_[3]);
  EXPECT_THAT(message, HasSubstr("parent hash"));
}

TEST_P(EventDBSurgery, ResealedUnknownEntryTypesAreRefusedAtTheEntry) {
  // A log entry, a checksum entry, each entry of an executing-message link, and each checkpoint
  // entry. Block 12: 5 logs (entries 3..8), their checksums (8..13), executing messages at logs 1
  // and 4 with links at entries 13..16 and 16..19.
  const uint64_t b = offsets_[2];
  for (uint64_t entry : {b + 6 * kEntrySize, b + 10 * kEntrySize, b + 13 * kEntrySize, b + 14 * kEntrySize,
                         b + 18 * kEntrySize, b, b + kEntrySize, b + 2 * kEntrySize}) {
    SCOPED_TRACE("entry " + std::to_string(entry));
    Bytes damaged = pristine_;
    damaged[entry] = 0x7f;
    Reseal(damaged, b);
    auto [named, message] = ExpectRefusal(damaged);
    EXPECT_EQ(named, entry);
    EXPECT_THAT(message, HasSubstr("unknown entry type 0x7f"));
  }
}

TEST_P(EventDBSurgery, ResealedMisplacedEntriesAreRefused) {
  const uint64_t b = offsets_[2];
  Bytes swapped_logs = pristine_;  // logs 0 and 1 exchanged: indices and flags out of place
  std::swap_ranges(swapped_logs.begin() + static_cast<ptrdiff_t>(b + kCheckpointSize),
                   swapped_logs.begin() + static_cast<ptrdiff_t>(b + kCheckpointSize + kEntrySize),
                   swapped_logs.begin() + static_cast<ptrdiff_t>(b + kCheckpointSize + kEntrySize));
  Reseal(swapped_logs, b);
  EXPECT_EQ(ExpectRefusal(swapped_logs).first, b + kCheckpointSize);

  Bytes unflagged = pristine_;  // the executing log loses its flag, its link stays
  unflagged[b + kCheckpointSize + 4 * kEntrySize + kLogFlags] = 0;
  Reseal(unflagged, b);
  auto [named, message] = ExpectRefusal(unflagged);
  EXPECT_EQ(named, b);
  EXPECT_THAT(message, HasSubstr("executing messages"));
}

TEST_P(EventDBSurgery, ResealedDamagedChecksumEntriesAreRefusedAtTheEntry) {
  const uint64_t b = offsets_[2];  // block 12: 5 logs, checksum entries at 8..13
  const uint64_t checksum2 = b + ChecksumEntryAt(5, 2) * kEntrySize;
  ASSERT_EQ(checksum2, b + 10 * kEntrySize);
  struct Case {
    uint64_t at;
    uint8_t value;
    const char* what;
  };
  for (const Case& c : {Case{checksum2 + 2, 0x01, "nonzero reserved bytes in a checksum entry"},
                        Case{checksum2 + kEntryIndex + 3, 0x03, "checksum entry 2 holds index 3"},
                        Case{checksum2 + kEntryHash, 0x04, "checksum entry 2 starts with 0x04, not 0x03"},
                        Case{checksum2, kTypeLog, "a log entry where a checksum entry belongs"}}) {
    SCOPED_TRACE(c.what);
    Bytes damaged = pristine_;
    damaged[c.at] = c.value;
    Reseal(damaged, b);
    auto [named, message] = ExpectRefusal(damaged);
    EXPECT_EQ(named, checksum2);
    EXPECT_THAT(message, HasSubstr(c.what));
  }
  // Two checksum entries exchanged: each names the other's log.
  Bytes swapped = pristine_;
  std::swap_ranges(swapped.begin() + static_cast<ptrdiff_t>(checksum2),
                   swapped.begin() + static_cast<ptrdiff_t>(checksum2 + kEntrySize),
                   swapped.begin() + static_cast<ptrdiff_t>(checksum2 + kEntrySize));
  Reseal(swapped, b);
  EXPECT_EQ(ExpectRefusal(swapped).first, checksum2);
}

TEST_P(EventDBSurgery, ReorderedBlocksAreRefused) {
  auto reorder = [&](size_t i) {  // swaps blocks i and i+1
    Bytes out(pristine_.begin(), pristine_.begin() + static_cast<ptrdiff_t>(offsets_[i]));
    const uint64_t end = i + 2 < offsets_.size() ? offsets_[i + 2] : pristine_.size();
    out.insert(out.end(), pristine_.begin() + static_cast<ptrdiff_t>(offsets_[i + 1]),
               pristine_.begin() + static_cast<ptrdiff_t>(end));
    out.insert(out.end(), pristine_.begin() + static_cast<ptrdiff_t>(offsets_[i]),
               pristine_.begin() + static_cast<ptrdiff_t>(offsets_[i + 1]));
    out.insert(out.end(), pristine_.begin() + static_cast<ptrdiff_t>(end), pristine_.end());
    return out;
  };
  for (size_t i : {size_t{1}, blocks_.size() - 2}) {
    SCOPED_TRACE("swap at block " + std::to_string(i));
    auto [named, message] = ExpectRefusal(reorder(i));
    EXPECT_EQ(named, offsets_[i]);
    EXPECT_THAT(message, HasSubstr("follows block"));
  }
  Bytes replayed = pristine_;  // the last block once more
  replayed.insert(replayed.end(), pristine_.begin() + static_cast<ptrdiff_t>(offsets_.back()), pristine_.end());
  EXPECT_EQ(ExpectRefusal(replayed).first, pristine_.size());
}

TEST_P(EventDBSurgery, AVersion1FileIsRefused) {
  // Format version 1 had no checksum entries; its blocks cannot be read as version 2.
  Bytes old = pristine_;
  PutU32BE(old.data() + kHeaderVersion, 1);
  PutU32BE(old.data() + kHeaderCrc, Crc32c(ByteSpan(old.data(), kHeaderCrc)));
  auto [named, message] = ExpectRefusal(old);
  EXPECT_EQ(named, kHeaderVersion);
  EXPECT_THAT(message, HasSubstr("unsupported format version 1"));
}

TEST_P(EventDBSurgery, DamagedHeaderIsRefused) {
  for (size_t field : {kHeaderMagic, kHeaderVersion, kHeaderEntrySize, kHeaderChainID, kHeaderReserved, kHeaderCrc}) {
    Bytes damaged = pristine_;
    damaged[field + 3] ^= 0x04;
    EXPECT_EQ(ExpectRefusal(damaged).first, field == kHeaderMagic || field == kHeaderVersion ? field : kHeaderCrc);
  }
}

TEST_P(EventDBSurgery, VerifyReportsEveryFindingAndChangesNothing) {
  Bytes damaged = pristine_;
  damaged[offsets_[1] + 3 * kEntrySize + 9] ^= 0x01;  // block 11: a log hash
  damaged[offsets_[2] + kCheckpointNumber] ^= 0x01;    // block 12: its checkpoint
  damaged.resize(damaged.size() - 1);                  // block 14: torn
  const Bytes written = Write(damaged);
  const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), file_);
  ASSERT_EQ(findings.size(), 3u);
  EXPECT_EQ(findings[0].offset, offsets_[1]);
  EXPECT_THAT(findings[0].what, HasSubstr("body CRC mismatch"));
  EXPECT_EQ(findings[1].offset, offsets_[2]);
  EXPECT_THAT(findings[1].what, HasSubstr("checkpoint CRC mismatch; the next sound checkpoint is at offset " +
                                          std::to_string(offsets_[3])));
  EXPECT_EQ(findings[2].offset, offsets_[4]);
  EXPECT_THAT(findings[2].what, HasSubstr("torn tail"));
  for (const auto& f : findings) EXPECT_EQ(f.file, file_);
  EXPECT_EQ(ReadFileBytes(file_), written);
  EXPECT_EQ(ExpectRefusal(damaged).first, offsets_[1]);
}

TEST(EventDBVerify, ReportsAMissingFile) {
  TempDir dir;
  const auto findings = VerifyEventDB(::supersafe::db::Env::Posix(), dir.path() / "absent.db");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_THAT(findings[0].what, HasSubstr("cannot open"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "absent.db"));
}

}  // namespace
}  // namespace supersafe::db
