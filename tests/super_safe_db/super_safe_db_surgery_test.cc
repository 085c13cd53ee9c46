// Byte surgery on supersafe.db, in the style of LevelDB's log tests: cut the tail at every length,
// flip every byte, break CRCs, reorder keys, delete a seal. Every case runs twice: on a file that
// ends with its content (as files written before preallocation do) and on one followed by a zero
// tail (as preallocation leaves it; there a cut leaves zeros where the missing bytes were). Every case must end in a clean recovery
// that loses only the unsealed tail, or in a refusal to open that names an offset inside the
// damaged group; VerifySuperSafeDB must report the same offset. Damage before the last group may
// also leave Open unaware (it reads only the end of the file) but never changes the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "db/super_safe_db.h"
#include "db/super_safe_format.h"
#include "tests/super_safe_db/test_util.h"

namespace supersafe::db {
namespace {

using ::supersafe::db::testing::ContentBytes;
using ::supersafe::db::testing::MakeGroup;
using ::supersafe::db::testing::ReadBytes;
using ::supersafe::db::testing::TempDir;
using ::supersafe::db::testing::WriteBytes;
using ::supersafe::db::testing::TestChains;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
namespace layout = super_safe_format;
constexpr size_t kEntry = layout::kEntrySize;

// Five groups of 2..4 chains, one of them a revision.
struct Reference {
  std::vector<Group> groups;
  std::vector<std::pair<size_t, size_t>> ranges;  // byte range of each group, seal last
  std::vector<uint8_t> bytes;

  Reference() {
    groups = {MakeGroup(5, 2), MakeGroup(6, 3), MakeGroup(6, 3, 1), MakeGroup(8, 3), MakeGroup(9, 4)};
    TempDir dir;
    auto db = SuperSafeDB::Open(dir.path(), TestChains());
    SS_CHECK(db.ok(), db.status().ToString());
    size_t offset = layout::kHeaderSize;  // the groups follow the header
    for (const Group& g : groups) {
      SS_CHECK((*db)->Append(g).ok(), "append failed");
      const size_t end = offset + (g.entries.size() + 1) * kEntry;
      ranges.emplace_back(offset, end);
      offset = end;
    }
    bytes = ContentBytes(dir.db());
    SS_CHECK(bytes.size() == offset, "unexpected file size");
  }

  size_t GroupAt(size_t offset) const {
    for (size_t g = 0; g < ranges.size(); ++g)
      if (offset < ranges[g].second) return g;
    return ranges.size();
  }
};

const Reference& Ref() {
  static const Reference* ref = new Reference();
  return *ref;
}

// The zero bytes after the content in this run of the tests (the test parameter).
size_t g_zero_tail = 0;

class SuperSafeDBSurgery : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override { g_zero_tail = GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(ZeroTail, SuperSafeDBSurgery, ::testing::Values(size_t{0}, size_t{5000}),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return info.param == 0 ? std::string("none") : std::to_string(info.param) + "_bytes";
                         });

// Writes `content` and the zero tail; returns the file's bytes.
std::vector<uint8_t> WriteDb(const TempDir& dir, const std::vector<uint8_t>& content) {
  std::vector<uint8_t> file = content;
  file.resize(content.size() + g_zero_tail, 0);
  WriteBytes(dir.db(), file);
  return file;
}

std::optional<uint64_t> NamedOffset(const Status& s) {
  std::smatch m;
  static const std::regex kOffset("corruption at offset ([0-9]+)");
  if (!std::regex_search(s.message(), m, kOffset)) return std::nullopt;
  return std::stoull(m[1]);
}

// The database holds exactly the groups that end at or before `boundary`.
void ExpectHoldsGroupsUpTo(const SuperSafeDB& db, size_t boundary) {
  const Reference& ref = Ref();
  std::map<uint64_t, Group> newest;
  for (size_t g = 0; g < ref.groups.size() && ref.ranges[g].second <= boundary; ++g)
    newest[ref.groups[g].l1_number] = ref.groups[g];
  EXPECT_EQ(db.entry_count(), (boundary - layout::kHeaderSize) / kEntry);
  for (const Group& g : ref.groups) {
    auto it = newest.find(g.l1_number);
    if (it == newest.end()) {
      EXPECT_FALSE(db.At(g.l1_number)) << g.l1_number;
    } else {
      EXPECT_EQ(db.At(g.l1_number), it->second);
    }
  }
  if (newest.empty()) {
    EXPECT_FALSE(db.Last());
  } else {
    EXPECT_EQ(db.Last(), newest.rbegin()->second);
  }
}

// The tail cut at every length from one byte to past the last two groups and an entry: the groups
// that were whole survive, the rest goes to supersafe.db.broken, and Verify reported it as torn.
// With a zero tail the cut bytes read as zeros: a seal missing only its reserved zeros is whole,
// and the torn bytes end at the last nonzero one.
TEST_P(SuperSafeDBSurgery, CuttingTheTailAtEveryLengthLosesOnlyTheUnsealedRest) {
  const Reference& ref = Ref();
  const size_t last_two = ref.bytes.size() - ref.ranges[3].first;
  for (size_t cut = 1; cut <= last_two + kEntry; ++cut) {
    SCOPED_TRACE("cut " + std::to_string(cut));
    TempDir dir;
    const size_t size = ref.bytes.size() - cut;
    const std::vector<uint8_t> damaged(ref.bytes.begin(), ref.bytes.begin() + static_cast<ptrdiff_t>(size));
    const std::vector<uint8_t> file = WriteDb(dir, damaged);
    size_t boundary = layout::kHeaderSize, torn_end = size;
    for (size_t g = 0; g < ref.groups.size(); ++g) {
      const size_t whole = g_zero_tail == 0 ? ref.ranges[g].second : ref.ranges[g].second - kEntry + layout::kSealReserved;
      if (whole <= size) boundary = ref.ranges[g].second;
    }
    if (g_zero_tail > 0) {
      while (torn_end > boundary && damaged[torn_end - 1] == 0) --torn_end;
      torn_end = std::max(torn_end, boundary);
    }

    auto findings = VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db());
    if (boundary >= torn_end) {
      EXPECT_THAT(findings, ::testing::IsEmpty());
    } else {
      ASSERT_EQ(findings.size(), 1u);
      EXPECT_EQ(findings[0].offset, boundary);
      EXPECT_THAT(findings[0].what, HasSubstr("torn write"));
    }

    auto db = SuperSafeDB::Open(dir.path(), TestChains());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    const size_t torn = boundary >= torn_end ? 0 : torn_end - boundary;
    EXPECT_EQ((*db)->recovery().torn_bytes, torn);
    ExpectHoldsGroupsUpTo(**db, boundary);
    const std::vector<uint8_t> kept(ref.bytes.begin(), ref.bytes.begin() + static_cast<ptrdiff_t>(boundary));
    if (torn > 0) {
      EXPECT_EQ(ReadBytes(dir.db()), kept);  // cut at the last seal, zero tail and all
      EXPECT_EQ(ReadBytes(dir.broken()), std::vector<uint8_t>(damaged.begin() + static_cast<ptrdiff_t>(boundary),
                                                              damaged.begin() + static_cast<ptrdiff_t>(torn_end)));
    } else {
      EXPECT_EQ(ReadBytes(dir.db()), file);
      EXPECT_EQ(ContentBytes(dir.db()), kept);
      EXPECT_FALSE(std::filesystem::exists(dir.broken()));
    }
    EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), ::testing::IsEmpty());
  }
}

// Opens `damaged`, whose damage lies in group `group`, and checks the outcome (see the top).
void ExpectCaught(const std::vector<uint8_t>& damaged, size_t group) {
  const Reference& ref = Ref();
  // Not a structured binding: clang 14 cannot capture one in the lambda below.
  const size_t start = ref.ranges[group].first, end = ref.ranges[group].second;
  TempDir dir;
  const std::vector<uint8_t> file = WriteDb(dir, damaged);

  auto findings = VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db());
  EXPECT_TRUE(std::any_of(findings.begin(), findings.end(),
                          [&](const Finding& f) { return f.offset >= start && f.offset < end; }))
      << "no finding in [" << start << ", " << end << ")";
  for (const Finding& f : findings) EXPECT_EQ(f.file, dir.db());

  auto db = SuperSafeDB::Open(dir.path(), TestChains());
  if (db.ok()) {
    EXPECT_LT(group, ref.groups.size() - 1) << "Open must catch any damage to the last group";
    EXPECT_EQ((*db)->recovery().torn_bytes, 0u);
  } else {
    EXPECT_EQ(db.status().code(), Code::kCorruption) << db.status().ToString();
    EXPECT_THAT(db.status().message(), HasSubstr(dir.db().string()));
    auto offset = NamedOffset(db.status());
    ASSERT_TRUE(offset) << db.status().ToString();
    EXPECT_GE(*offset, start) << db.status().ToString();
    EXPECT_LT(*offset, end) << db.status().ToString();
    EXPECT_THAT(findings, Contains(Field(&Finding::offset, *offset))) << db.status().ToString();
  }
  EXPECT_EQ(ReadBytes(dir.db()), file);
  EXPECT_FALSE(std::filesystem::exists(dir.broken()));
}

// Every byte of every entry and seal, flipped in its low bit and its high bit; type bytes also
// turned from chain entry to seal and back.
TEST_P(SuperSafeDBSurgery, FlippingAnyByteIsCaughtAndNamed) {
  const Reference& ref = Ref();
  for (size_t offset = layout::kHeaderSize; offset < ref.bytes.size(); ++offset) {
    std::vector<uint8_t> masks = {0x01, 0x80};
    if (offset % kEntry == layout::kType) masks.push_back(0x03);
    for (uint8_t mask : masks) {
      SCOPED_TRACE("byte " + std::to_string(offset) + " (field byte " + std::to_string(offset % kEntry) +
                   ") xor " + std::to_string(mask));
      std::vector<uint8_t> damaged = ref.bytes;
      damaged[offset] ^= mask;
      ExpectCaught(damaged, ref.GroupAt(offset));
    }
  }
}

TEST_P(SuperSafeDBSurgery, ABrokenSealCrcIsCorruption) {
  const Reference& ref = Ref();
  for (size_t group : {size_t{1}, ref.groups.size() - 1}) {
    SCOPED_TRACE("group " + std::to_string(group));
    const size_t seal = ref.ranges[group].second - kEntry;
    std::vector<uint8_t> damaged = ref.bytes;
    PutU32BE(damaged.data() + seal + layout::kSealCrc, GetU32BE(damaged.data() + seal + layout::kSealCrc) + 1);
    ExpectCaught(damaged, group);
    TempDir dir;
    WriteDb(dir, damaged);
    EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()),
                Contains(AllOf(Field(&Finding::offset, seal), Field(&Finding::what, HasSubstr("CRC mismatch")))));
  }
  TempDir dir;
  std::vector<uint8_t> damaged = ref.bytes;
  damaged[ref.bytes.size() - kEntry + layout::kSealCrc] ^= 0x10;
  WriteDb(dir, damaged);
  auto db = SuperSafeDB::Open(dir.path(), TestChains());
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(),
              HasSubstr("corruption at offset " + std::to_string(ref.bytes.size() - kEntry) + ": CRC mismatch"));
}

// A torn write never leaves a whole seal behind, so a last seal whose type byte says "chain entry"
// is damage to acknowledged data, not a torn tail to discard.
TEST_P(SuperSafeDBSurgery, ASealWithADamagedTypeByteIsNotATornWrite) {
  const Reference& ref = Ref();
  std::vector<uint8_t> damaged = ref.bytes;
  const size_t seal = ref.bytes.size() - kEntry;
  damaged[seal] = layout::kTypeChain;
  TempDir dir;
  const std::vector<uint8_t> file = WriteDb(dir, damaged);
  auto db = SuperSafeDB::Open(dir.path(), TestChains());
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(), HasSubstr("corruption at offset " + std::to_string(seal) +
                                               ": seal with a damaged type byte"));
  EXPECT_EQ(ReadBytes(dir.db()), file);
}

std::vector<uint8_t> Swapped(size_t first, size_t second) {
  const Reference& ref = Ref();
  std::vector<uint8_t> out(ref.bytes.begin(), ref.bytes.begin() + static_cast<ptrdiff_t>(ref.ranges[first].first));
  for (size_t g : {second, first})
    out.insert(out.end(), ref.bytes.begin() + static_cast<ptrdiff_t>(ref.ranges[g].first),
               ref.bytes.begin() + static_cast<ptrdiff_t>(ref.ranges[g].second));
  out.insert(out.end(), ref.bytes.begin() + static_cast<ptrdiff_t>(ref.ranges[second].second), ref.bytes.end());
  return out;
}

TEST_P(SuperSafeDBSurgery, GroupsOutOfKeyOrderAreCorruption) {
  const Reference& ref = Ref();
  // Groups 2 (L1 6) and 3 (L1 8) swapped in the middle: each is sound, the order is not.
  {
    std::vector<uint8_t> damaged = Swapped(2, 3);
    const size_t seal_of_8 = ref.ranges[2].first + (ref.ranges[3].second - ref.ranges[3].first) - kEntry;
    TempDir dir;
    WriteDb(dir, damaged);
    EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()),
                Contains(AllOf(Field(&Finding::offset, seal_of_8), Field(&Finding::what, HasSubstr("out-of-order key")))));
  }
  // The last two swapped: Open sees it.
  {
    std::vector<uint8_t> damaged = Swapped(3, 4);
    const size_t seal_of_9 = ref.ranges[3].first + (ref.ranges[4].second - ref.ranges[4].first) - kEntry;
    TempDir dir;
    const std::vector<uint8_t> file = WriteDb(dir, damaged);
    auto db = SuperSafeDB::Open(dir.path(), TestChains());
    ASSERT_FALSE(db.ok());
    EXPECT_THAT(db.status().message(),
                HasSubstr("corruption at offset " + std::to_string(seal_of_9) + ": out-of-order key: L1 number 9"));
    EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), Contains(Field(&Finding::offset, seal_of_9)));
    EXPECT_EQ(ReadBytes(dir.db()), file);
  }
}

TEST_P(SuperSafeDBSurgery, ChainEntriesOutOfOrderInAGroupAreCorruption) {
  const Reference& ref = Ref();
  for (size_t group : {size_t{3}, size_t{4}}) {
    SCOPED_TRACE("group " + std::to_string(group));
    std::vector<uint8_t> damaged = ref.bytes;
    uint8_t* first = damaged.data() + ref.ranges[group].first;
    std::swap_ranges(first, first + kEntry, first + kEntry);
    ExpectCaught(damaged, group);
  }
}

// Without group 3's seal, group 4 does not start after a seal.
TEST_P(SuperSafeDBSurgery, AMissingSealIsCorruption) {
  const Reference& ref = Ref();
  std::vector<uint8_t> damaged = ref.bytes;
  const size_t seal = ref.ranges[3].second - kEntry;
  damaged.erase(damaged.begin() + static_cast<ptrdiff_t>(seal), damaged.begin() + static_cast<ptrdiff_t>(seal + kEntry));
  TempDir dir;
  const std::vector<uint8_t> file = WriteDb(dir, damaged);
  auto db = SuperSafeDB::Open(dir.path(), TestChains());
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(), HasSubstr("corruption at offset " + std::to_string(seal - kEntry) +
                                               ": the entry before the group"));
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()), Contains(Field(&Finding::offset, seal - kEntry)));
}

// Unsealed entries that cannot be one torn group are damage, not a torn write.
TEST_P(SuperSafeDBSurgery, AnUnsealedTailThatIsNoTornGroupIsCorruption) {
  const Reference& ref = Ref();
  std::vector<uint8_t> damaged = ref.bytes;
  // The last group's chain entries twice, for L1 blocks 10 and 11, without seals.
  const auto [start, end] = ref.ranges.back();
  for (uint64_t l1 : {10, 11}) {
    const size_t at = damaged.size();
    damaged.insert(damaged.end(), ref.bytes.begin() + static_cast<ptrdiff_t>(start),
                   ref.bytes.begin() + static_cast<ptrdiff_t>(end - kEntry));
    for (size_t e = at; e < damaged.size(); e += kEntry) PutU64BE(damaged.data() + e + layout::kL1Number, l1);
  }
  const size_t first_of_11 = ref.bytes.size() + (end - kEntry - start);
  TempDir dir;
  const std::vector<uint8_t> file = WriteDb(dir, damaged);
  auto db = SuperSafeDB::Open(dir.path(), TestChains());
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(), HasSubstr("corruption at offset " + std::to_string(first_of_11)));
  EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db()),
              Contains(AllOf(Field(&Finding::offset, first_of_11), Field(&Finding::what, HasSubstr("different L1 blocks")))));
  EXPECT_EQ(ReadBytes(dir.db()), file);
}

// Every bit of the header flipped, in a file with groups after it: Open refuses naming the header's
// byte (the digest with kInvalidArgument, the rest with kCorruption) and changes nothing; Verify,
// told the digest, reports the same offset.
TEST_P(SuperSafeDBSurgery, FlippingAnyBitOfTheHeaderIsRefusedAndNamed) {
  const Reference& ref = Ref();
  for (size_t offset = 0; offset < layout::kHeaderSize; ++offset) {
    for (int bit = 0; bit < 8; ++bit) {
      SCOPED_TRACE("header byte " + std::to_string(offset) + " bit " + std::to_string(bit));
      std::vector<uint8_t> damaged = ref.bytes;
      damaged[offset] ^= static_cast<uint8_t>(1u << bit);
      TempDir dir;
      const std::vector<uint8_t> file = WriteDb(dir, damaged);
      auto db = SuperSafeDB::Open(dir.path(), TestChains());
      ASSERT_FALSE(db.ok());
      const bool digest = offset >= layout::kHeaderDigest && offset < layout::kHeaderReserved;
      EXPECT_EQ(db.status().code(), digest ? Code::kInvalidArgument : Code::kCorruption) << db.status().ToString();
      EXPECT_THAT(db.status().message(), HasSubstr(dir.db().string()));
      const size_t named = offset < layout::kHeaderMagic     ? 0
                           : offset < layout::kHeaderVersion ? layout::kHeaderMagic
                           : offset < layout::kHeaderDigest  ? layout::kHeaderVersion
                           : digest                          ? layout::kHeaderDigest
                                                             : offset;
      EXPECT_THAT(db.status().message(), HasSubstr("at offset " + std::to_string(named) + ": "));
      EXPECT_EQ(ReadBytes(dir.db()), file);
      EXPECT_FALSE(std::filesystem::exists(dir.broken()));
      EXPECT_THAT(VerifySuperSafeDB(::supersafe::db::Env::Posix(), dir.db(), DependencySetDigest(TestChains())),
                  Contains(Field(&Finding::offset, named)));
    }
  }
}

}  // namespace
}  // namespace supersafe::db
