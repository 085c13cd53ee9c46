// RapidCheck model test: random sequences of appends (random log counts, executing links with chain
// IDs above 2^64), batches, conflicting appends, rewinds, clears, reopens, torn crashes and lookups
// run against the event-log DB and against a vector of blocks; every answer must agree. The
// command sequences shrink: a planted model bug is reduced to a few commands.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <ostream>

#include "core/access_list.h"
#include "db/event_db.h"
#include "db/event_db_format.h"
#include "tests/event_db/event_db_test_util.h"
#include "tests/crash_disk.h"

namespace supersafe {
// How RapidCheck prints a generated chain ID in a counterexample.
inline void showValue(const ChainID& id, std::ostream& os) { os << id.Decimal(); }
}  // namespace supersafe

namespace supersafe::db {
namespace {

struct Model {
  std::vector<BlockRecord> blocks;  // what the DB must hold, in order
  bool planted_rewind_bug = false;  // the shrink test's deliberate model fault: rewinds are forgotten
  ChainID chain_id;                 // the DB's

  std::optional<BlockRef> Latest() const { return blocks.empty() ? std::nullopt : std::optional(blocks.back().ref); }
  const BlockRecord* Find(uint64_t number) const {
    if (blocks.empty() || number < blocks.front().ref.number || number > blocks.back().ref.number) return nullptr;
    return &blocks[number - blocks.front().ref.number];
  }
};

struct Sut {
  explicit Sut(ChainID chain) : chain_id(std::move(chain)), file(dir.path() / "events.db") { Reopen(); }
  void Reopen() {
    db.reset();
    auto opened = EventDB::Open(file, chain_id, crash.options());
    RC_ASSERT(opened.ok());
    db = std::move(opened).value();
    db->SetMappedWindow(window);
  }

  testing::TempDir dir;
  ChainID chain_id;
  uint64_t window = 0;  // the mapped window (0: the whole file), kept across reopens
  std::filesystem::path file;
  ::supersafe::testing::CrashDisk crash;
  std::unique_ptr<EventDB> db;
};

using Command = rc::state::Command<Model, Sut>;
using testing::EncodedSize;

Hash HashFrom(uint64_t id) { return testing::HashOf("model", id); }

std::string Show(const BlockRecord& b) {
  size_t execs = std::count_if(b.logs.begin(), b.logs.end(), [](const LogRecord& l) { return l.exec.has_value(); });
  return "#" + std::to_string(b.ref.number) + "(" + std::to_string(b.logs.size()) + " logs, " +
         std::to_string(execs) + " exec)";
}

rc::Gen<ChainID> GenBigChainID() {
  return rc::gen::map(rc::gen::pair(rc::gen::inRange<uint64_t>(1, UINT64_MAX), rc::gen::arbitrary<uint64_t>()),
                      [](const std::pair<uint64_t, uint64_t>& p) { return ChainID((U256(p.first) << 64) + p.second); });
}

rc::Gen<LogRecord> GenLog() {
  return rc::gen::exec([] {
    LogRecord log{.log_hash = HashFrom(*rc::gen::inRange<uint64_t>(0, 1000)), .exec = std::nullopt};
    if (*rc::gen::inRange(0, 4) == 0)
      log.exec = ExecRef{.chain_id = *GenBigChainID(),
                         .block_number = *rc::gen::arbitrary<uint64_t>(),
                         .log_index = *rc::gen::arbitrary<uint32_t>(),
                         .timestamp = *rc::gen::arbitrary<uint64_t>(),
                         .log_hash = HashFrom(*rc::gen::inRange<uint64_t>(0, 1000))};
    return log;
  });
}

// 1..3 blocks that follow the model's latest block (or start anywhere when it is empty).
std::vector<BlockRecord> GenBlocks(const Model& m) {
  const int count = *rc::gen::inRange(1, 4);
  std::optional<BlockRef> prev = m.Latest();
  std::vector<BlockRecord> blocks;
  for (int i = 0; i < count; ++i) {
    BlockRecord b;
    b.ref.number = prev ? prev->number + 1 : *rc::gen::inRange<uint64_t>(0, 1'000'000);
    b.ref.parent_hash = prev ? prev->hash : HashFrom(*rc::gen::arbitrary<uint32_t>());
    b.ref.hash = HashFrom(*rc::gen::arbitrary<uint32_t>());
    b.ref.timestamp = *rc::gen::arbitrary<uint64_t>();
    b.logs = *rc::gen::container<std::vector<LogRecord>>(static_cast<size_t>(*rc::gen::inRange(0, 7)), GenLog());
    prev = b.ref;
    blocks.push_back(std::move(b));
  }
  return blocks;
}

bool Follows(const std::vector<BlockRecord>& blocks, const Model& m) {
  const auto latest = m.Latest();
  return !latest || (blocks.front().ref.number == latest->number + 1 && blocks.front().ref.parent_hash == latest->hash);
}

void ExpectSameTip(const Model& m, const Sut& sut) {
  RC_ASSERT(sut.db->Latest() == m.Latest());
  RC_ASSERT(sut.db->First() == (m.blocks.empty() ? std::nullopt : std::optional(m.blocks.front().ref)));
}

struct AppendBlocks : Command {
  std::vector<BlockRecord> blocks;
  explicit AppendBlocks(const Model& m) : blocks(GenBlocks(m)) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(Follows(blocks, m)); }
  void apply(Model& m) const override { m.blocks.insert(m.blocks.end(), blocks.begin(), blocks.end()); }
  void run(const Model& m, Sut& sut) const override {
    const Status s = blocks.size() == 1 ? sut.db->Append(blocks[0]) : sut.db->AppendBatch(blocks);
    RC_ASSERT(s.ok());
    RC_ASSERT(sut.db->Latest() == std::optional(blocks.back().ref));
  }
  void show(std::ostream& os) const override {
    os << "Append";
    for (const auto& b : blocks) os << " " << Show(b);
  }
};

struct AppendConflicting : Command {
  enum Kind { kGap, kRepeat, kOtherParent } kind;
  BlockRecord block;
  explicit AppendConflicting(const Model& m) : kind(static_cast<Kind>(*rc::gen::inRange(0, 3))) {
    RC_PRE(!m.blocks.empty());
    block = GenBlocks(m).front();
  }
  void checkPreconditions(const Model& m) const override {
    RC_PRE(!m.blocks.empty() && m.Latest()->number < UINT64_MAX);
  }
  void run(const Model& m, Sut& sut) const override {
    // Aimed at the model's tip when generated; re-aim it at the tip the model has now.
    BlockRecord b = block;
    b.ref.number = m.Latest()->number + (kind == kGap ? 2 : kind == kRepeat ? 0 : 1);
    b.ref.parent_hash = m.Latest()->hash;
    if (kind == kOtherParent) b.ref.parent_hash.bytes[0] ^= 1;
    const Bytes before = testing::ReadFileBytes(sut.file);
    RC_ASSERT(sut.db->Append(b).code() == Code::kConflictingData);
    RC_ASSERT(testing::ReadFileBytes(sut.file) == before);
    ExpectSameTip(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "AppendConflicting " << (kind == kGap ? "gap" : kind == kRepeat ? "repeat" : "other-parent");
  }
};

struct RewindTo : Command {
  uint64_t number;
  explicit RewindTo(const Model& m) {
    const uint64_t lo = m.blocks.empty() ? 0 : m.blocks.front().ref.number;
    const uint64_t hi = m.blocks.empty() ? 10 : m.blocks.back().ref.number;
    number = *rc::gen::inRange<uint64_t>(lo == 0 ? 0 : lo - 1, hi + 2);
  }
  void apply(Model& m) const override {
    if (m.planted_rewind_bug) return;
    if (!m.blocks.empty() && number >= m.blocks.front().ref.number)
      while (m.blocks.back().ref.number > number) m.blocks.pop_back();
  }
  void run(const Model& m, Sut& sut) const override {
    const Status s = sut.db->RewindTo(number);
    if (!m.blocks.empty() && number < m.blocks.front().ref.number) {
      RC_ASSERT(s.code() == Code::kInvalidArgument);
    } else {
      RC_ASSERT(s.ok());
    }
  }
  void show(std::ostream& os) const override { os << "RewindTo " << number; }
};

struct Clear : Command {
  void apply(Model& m) const override { m.blocks.clear(); }
  void run(const Model&, Sut& sut) const override {
    RC_ASSERT(sut.db->Clear().ok());
    RC_ASSERT(!sut.db->Latest().has_value());
  }
  void show(std::ostream& os) const override { os << "Clear"; }
};

struct Reopen : Command {
  void run(const Model& m, Sut& sut) const override {
    sut.db.reset();
    RC_ASSERT(VerifyEventDB(::supersafe::db::Env::Posix(), sut.file).empty());
    sut.Reopen();
    RC_ASSERT(sut.db->recovery().torn_bytes == 0u);
    ExpectSameTip(m, sut);
  }
  void show(std::ostream& os) const override { os << "Reopen"; }
};

// A crash tears the write of 1..3 blocks after `torn` bytes; the DB refuses writes until it is
// reopened, and recovery keeps exactly the blocks that were complete. The write goes into
// preallocated space, where the bytes it did not write read as zeros: a block whose unwritten
// bytes are zeros anyway is complete, and the torn bytes end at the last nonzero one.
struct CrashAppend : Command {
  std::vector<BlockRecord> blocks;
  uint64_t torn;
  explicit CrashAppend(const Model& m) : blocks(GenBlocks(m)) {
    uint64_t total = 0;
    for (const auto& b : blocks) total += EncodedSize(b);
    torn = *rc::gen::inRange<uint64_t>(1, total);
  }
  // The bytes the batch encodes to, from a file of its own (chain `chain`).
  Bytes Encoded(const ChainID& chain) const { return testing::EncodedBytes(blocks, chain); }
  // What is on disk after the crash: the first `torn` bytes, then zeros.
  Bytes OnDisk(const Bytes& encoded) const {
    Bytes out(encoded.begin(), encoded.begin() + static_cast<ptrdiff_t>(torn));
    out.resize(encoded.size(), 0);
    return out;
  }
  size_t CompleteBlocks(const Bytes& encoded) const {
    const Bytes disk = OnDisk(encoded);
    size_t n = 0;
    for (uint64_t end = 0; n < blocks.size();) {
      const uint64_t start = end;
      end += EncodedSize(blocks[n]);
      if (!std::equal(encoded.begin() + static_cast<ptrdiff_t>(start), encoded.begin() + static_cast<ptrdiff_t>(end),
                      disk.begin() + static_cast<ptrdiff_t>(start)))
        break;
      ++n;
    }
    return n;
  }
  size_t CompleteBlocks() const {  // without the encoding: the blocks the torn bytes cover whole
    size_t n = 0;
    for (uint64_t end = 0; n < blocks.size() && (end += EncodedSize(blocks[n])) <= torn;) ++n;
    return n;
  }
  void checkPreconditions(const Model& m) const override { RC_PRE(Follows(blocks, m)); }
  void apply(Model& m) const override {
    m.blocks.insert(m.blocks.end(), blocks.begin(), blocks.begin() + CompleteBlocks(Encoded(m.chain_id)));
  }
  void run(const Model& m, Sut& sut) const override {
    sut.crash.Arm(torn);
    RC_ASSERT(sut.db->AppendBatch(blocks).code() == Code::kIOError);
    RC_ASSERT(sut.db->Append(blocks[0]).code() == Code::kIOError);  // no more writes
    RC_ASSERT(sut.db->RewindTo(0).code() == Code::kIOError);
    sut.Reopen();
    const Bytes encoded = Encoded(sut.chain_id);
    const size_t complete = CompleteBlocks(encoded);
    RC_ASSERT(complete >= CompleteBlocks());
    uint64_t complete_bytes = 0;
    for (size_t i = 0; i < complete; ++i) complete_bytes += EncodedSize(blocks[i]);
    const uint64_t torn_end = complete == blocks.size() ? complete_bytes : testing::TrimmedEnd(encoded, complete_bytes, torn);
    RC_ASSERT(sut.db->recovery().torn_bytes == torn_end - complete_bytes);
    Model after = m;
    apply(after);
    ExpectSameTip(after, sut);
  }
  void show(std::ostream& os) const override {
    os << "CrashAppend torn after " << torn << " bytes of";
    for (const auto& b : blocks) os << " " << Show(b);
  }
};

// Contains with the right or a wrong hash, at a log index in or past the block, for a block in,
// below or above the DB; ContainsChecksum likewise, as of the block's timestamp or another one;
// Block, Logs and LogCount of the same number.
struct Lookup : Command {
  uint64_t number;
  uint32_t log_index;
  bool right_hash;
  Hash wrong_hash;
  bool own_timestamp;
  uint64_t other_timestamp;
  explicit Lookup(const Model& m)
      : number(*rc::gen::inRange<uint64_t>(m.blocks.empty() ? 0 : std::max<uint64_t>(m.blocks.front().ref.number, 2) - 2,
                                           m.blocks.empty() ? 10 : m.blocks.back().ref.number + 3)),
        log_index(*rc::gen::inRange<uint32_t>(0, 9)),
        right_hash(*rc::gen::arbitrary<bool>()),
        wrong_hash(HashFrom(*rc::gen::inRange<uint64_t>(0, 1000))),
        own_timestamp(*rc::gen::inRange(0, 4) != 0),
        other_timestamp(*rc::gen::arbitrary<uint64_t>()) {}
  void run(const Model& m, Sut& sut) const override {
    const BlockRecord* b = m.Find(number);
    const Hash hash = right_hash && b != nullptr && log_index < b->logs.size() ? b->logs[log_index].log_hash : wrong_hash;
    Presence expected = Presence::kUnknown;
    if (b != nullptr)
      expected = log_index < b->logs.size() && b->logs[log_index].log_hash == hash ? Presence::kFound : Presence::kConflicts;
    BlockRef seen;
    RC_ASSERT(sut.db->Contains(number, log_index, hash, &seen) == expected);

    const uint64_t timestamp = own_timestamp && b != nullptr ? b->ref.timestamp : other_timestamp;
    const bool has_log = b != nullptr && log_index < b->logs.size();
    const Hash checksum = right_hash && has_log
                              ? AccessChecksum(b->logs[log_index].log_hash, sut.chain_id, number, timestamp, log_index)
                              : wrong_hash;
    Presence expected_checksum = Presence::kUnknown;
    if (b != nullptr) expected_checksum = right_hash && has_log ? Presence::kFound : Presence::kConflicts;
    BlockRef seen_too;
    RC_ASSERT(sut.db->ContainsChecksum(number, log_index, timestamp, checksum, &seen_too) == expected_checksum);
    if (b != nullptr) RC_ASSERT(seen_too == b->ref);
    if (b == nullptr) {
      RC_ASSERT(sut.db->Block(number).status().code() == Code::kNotFound);
      RC_ASSERT(sut.db->Logs(number).status().code() == Code::kNotFound);
      RC_ASSERT(sut.db->LogCount(number).status().code() == Code::kNotFound);
      return;
    }
    RC_ASSERT(seen == b->ref);
    RC_ASSERT(*sut.db->Block(number) == b->ref);
    RC_ASSERT(*sut.db->Logs(number) == b->logs);
    RC_ASSERT(*sut.db->LogCount(number) == b->logs.size());
  }
  void show(std::ostream& os) const override {
    os << "Lookup #" << number << " log " << log_index << (right_hash ? " right hash" : " some hash")
       << (own_timestamp ? "" : ", checksum as of " + std::to_string(other_timestamp));
  }
};

// Maps the whole file, or only a window of a page or two: older blocks are then read with pread.
struct SetWindow : Command {
  uint64_t window;
  explicit SetWindow(const Model&) : window(*rc::gen::element<uint64_t>(0, 1, 4096, 8192, 20000)) {}
  void run(const Model&, Sut& sut) const override {
    sut.window = window;
    sut.db->SetMappedWindow(window);
  }
  void show(std::ostream& os) const override { os << "SetWindow " << window; }
};

void CheckAgainstModel(bool planted_rewind_bug) {
  const ChainID chain = *GenBigChainID();
  Sut sut(chain);
  rc::state::check(Model{.blocks = {}, .planted_rewind_bug = planted_rewind_bug, .chain_id = chain}, sut,
                   rc::state::gen::execOneOfWithArgs<AppendBlocks, AppendBlocks, AppendConflicting, RewindTo, Clear,
                                                     Reopen, CrashAppend, Lookup, Lookup, SetWindow>());
}

RC_GTEST_PROP(EventDBModel, AgreesWithAVectorOfBlocks, ()) { CheckAgainstModel(false); }

// Counts accepted shrinks; keeps the planted failure out of RapidCheck's reproduce report.
struct ShrinkCounter : rc::detail::TestListener {
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool accepted) override { shrinks += accepted ? 1 : 0; }
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
  int shrinks = 0;
};

TEST(EventDBModel, ShrinksAPlantedBugToAFewCommands) {
  rc::detail::TestParams params;
  params.seed = 0x5eed0002;
  rc::detail::TestMetadata metadata;
  metadata.id = "planted rewind bug";
  ShrinkCounter listener;
  const auto result = rc::detail::checkTestable([] { CheckAgainstModel(true); }, metadata, params, listener);
  ASSERT_TRUE(result.is<rc::detail::FailureResult>()) << "the planted bug went unnoticed";
  const auto& failure = result.get<rc::detail::FailureResult>();
  size_t commands = 0;
  std::string shown;
  for (const auto& [type, value] : failure.counterExample) {
    if (type.find("Command") == std::string::npos) continue;
    shown = value;
    commands = static_cast<size_t>(std::count(value.begin(), value.end(), '\n'));
  }
  std::printf("%d shrinks to a counterexample of %zu commands:\n%s", listener.shrinks, commands, shown.c_str());
  EXPECT_GT(listener.shrinks, 0);
  // The least that shows the bug: blocks to rewind, the rewind, and a command that looks.
  EXPECT_GE(commands, 2u);
  EXPECT_LE(commands, 4u);
}

}  // namespace
}  // namespace supersafe::db
