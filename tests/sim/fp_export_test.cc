// sim::ExportFixtures on small scenarios: the fixture's shape and key order, the supervisor's
// answers it holds (pending against canonical across a replacement, the L1-head bound), every claim
// re-derived from the fixture's own super roots by decoding its preimage, determinism, and the
// errors for bad games and options.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/crypto.h"
#include "core/fp.h"
#include "sim/fp_export.h"
#include "sim/sources.h"

namespace supersafe::sim {
namespace {

using OJson = nlohmann::ordered_json;

constexpr char kReplacement[] = R"(name: replacement
seed: 7
chains:
  - {name: A, id: 900}
  - {name: B, id: 901}
games:
  - {l1_head: 2, prestate: 1001, poststate: 1003}
steps:
  - build: {chain: A, logs: [{init: m1}]}
  - build: {chain: B, force: true, logs: [{exec: {chain: A, block: 1, log: 0, payload: m9}}]}
  - batch: {chain: A}
  - batch: {chain: B}
  - mine: 1
  - expect: {chain: B, block: 1, replaced: true}
  - build: {chain: A}
  - build: {chain: B}
  - batch: {chain: A}
  - batch: {chain: B}
  - mine: 1
)";

// A#1 executes B#1's message; A's batch lands in L1 1, B's in L1 2.
constexpr char kWaiting[] = R"(name: waiting
chains:
  - {name: A, id: 900}
  - {name: B, id: 901}
games:
  - {l1_head: 1, prestate: 1001, poststate: 1002}
  - {l1_head: 2, prestate: 1001, poststate: 1002}
steps:
  - build: {chain: B, logs: [{init: m1}]}
  - build: {chain: A, logs: [{exec: m1}]}
  - batch: {chain: A}
  - mine: 1
  - batch: {chain: B}
  - mine: 1
)";

Scenario Parse(const std::string& yaml) {
  auto sc = ParseScenario(yaml, "t.yaml");
  SS_CHECK(sc.ok(), sc.status().ToString());
  return *sc;
}

std::vector<GameFixture> Export(const std::string& yaml, uint64_t steps) {
  Scenario sc = Parse(yaml);
  auto r = ExportFixtures(sc, {sc.seed, steps});
  SS_CHECK(r.ok(), r.status().ToString());
  return *r;
}

Bytes Hex(const OJson& j) { return ParseHexBytes(j.get<std::string>()).value(); }
Hash HashOf(const OJson& j) { return Hash::Parse(j.get<std::string>()).value(); }
uint64_t HexU64(const OJson& j) { return ParseU64(j.get<std::string>()).value(); }

const OJson& RootAt(const OJson& doc, uint64_t t) {
  for (const OJson& r : doc["superRoots"])
    if (HexU64(r["timestamp"]) == t) return r;
  SS_CHECK(false, "no super root entry for " + std::to_string(t));
  return doc;
}

// Whether the claim at (t, step) is InvalidState, by the rules of docs/fp-fixtures.md read against the fixture.
bool ShouldBeInvalid(const OJson& doc, uint64_t t, uint64_t step) {
  const uint64_t l1_head = doc["game"]["l1Head"]["number"];
  auto above = [&](const OJson& r) { return r.contains("notFound") || r["crossSafeDerivedFrom"]["number"] > l1_head; };
  if (above(RootAt(doc, t))) return true;
  if (step == 0) return false;
  const OJson& next = RootAt(doc, t + 1);
  if (next.contains("notFound")) return true;
  if (!above(next)) return false;
  for (size_t i = 0; i < std::min<size_t>(step, next["chains"].size()); ++i) {
    const std::string id = next["chains"][i]["chainID"];
    const OJson& cfg = doc["rollupConfigs"][id];
    const uint64_t target = cfg["genesisNumber"].get<uint64_t>() + (t + 1 - cfg["genesisTime"].get<uint64_t>()) / cfg["blockTime"].get<uint64_t>();
    if (doc["allSafeDerivedAt"][id]["number"].get<uint64_t>() < target) return true;
  }
  return false;
}

// Every claim from the fixture's own data: its position, its hash, whether it is InvalidState, and
// its preimage decoded into parts that must equal the super roots the fixture holds. Returns how
// many claims are InvalidState.
size_t CheckClaims(const OJson& doc, uint64_t steps) {
  const uint64_t pre = doc["game"]["prestateTimestamp"], post = doc["game"]["poststateTimestamp"];
  const OJson& claims = doc["claims"];
  EXPECT_EQ(claims.size(), (post - pre) * steps + 1);
  size_t invalid = 0;
  for (size_t i = 0; i < claims.size(); ++i) {
    const OJson& c = claims[i];
    EXPECT_EQ(c["traceIndex"].get<uint64_t>(), i);
    const uint64_t t = c["timestamp"], step = c["step"];
    EXPECT_EQ(t, (i + 1) / steps < post - pre ? pre + (i + 1) / steps : post) << i;
    EXPECT_EQ(step, t == post ? 0 : (i + 1) % steps) << i;
    const Bytes preimage = Hex(c["preimage"]);
    EXPECT_EQ(HashOf(c["claim"]), Keccak256(preimage)) << i;
    const bool is_invalid = HashOf(c["claim"]) == InvalidState();
    EXPECT_EQ(is_invalid, ShouldBeInvalid(doc, t, step)) << i;
    if (is_invalid) {
      ++invalid;
      continue;
    }
    const OJson& at = RootAt(doc, t);
    if (step == 0) {
      EXPECT_EQ(Keccak256(preimage), HashOf(at["superRoot"])) << i;
      continue;
    }
    auto st = DecodeTransitionState(preimage);
    EXPECT_TRUE(st.ok()) << i;
    if (!st.ok()) continue;
    EXPECT_EQ(st->step, step);
    EXPECT_EQ(Keccak256(st->super_root), HashOf(at["superRoot"])) << i;
    const OJson& next = RootAt(doc, t + 1)["chains"];
    EXPECT_EQ(st->pending_progress.size(), std::min<size_t>(step, next.size())) << i;
    for (size_t k = 0; k < st->pending_progress.size(); ++k) {
      const Bytes pending = Hex(next[k]["pending"]);
      EXPECT_EQ(st->pending_progress[k].block_hash, Hash::FromSpan(ByteSpan(pending).subspan(96))) << i;
      EXPECT_EQ(st->pending_progress[k].output_root, Keccak256(pending)) << i;
    }
  }
  return invalid;
}

TEST(FpExport, FixtureShapeAndTheReplacementsPendingOutput) {
  auto fixtures = Export(kReplacement, 4);
  ASSERT_EQ(fixtures.size(), 1u);
  EXPECT_EQ(fixtures[0].file_name, "game-2-1001-1003.json");
  const OJson doc = OJson::parse(fixtures[0].json);
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"scenario", "seed", "stepsPerTimestamp", "game", "rollupConfigs",
                                            "superRoots", "allSafeDerivedAt", "claims"}));
  EXPECT_EQ(doc["scenario"], "replacement");
  EXPECT_EQ(doc["seed"], 7);
  EXPECT_EQ(doc["stepsPerTimestamp"], 4);
  EXPECT_EQ(doc["game"]["l1Head"]["number"], 2);
  EXPECT_EQ(doc["rollupConfigs"].dump(),
            R"({"900":{"genesisTime":1000,"genesisNumber":0,"blockTime":2},"901":{"genesisTime":1000,"genesisNumber":0,"blockTime":2}})");
  EXPECT_EQ(doc["allSafeDerivedAt"]["900"]["number"], 2);
  EXPECT_EQ(doc["allSafeDerivedAt"]["901"]["number"], 2);
  ASSERT_EQ(doc["superRoots"].size(), 4u);  // 1001 ..= 1004
  EXPECT_EQ(doc["superRoots"][0]["timestamp"], "0x3e9");
  EXPECT_EQ(doc["superRoots"][3]["timestamp"], "0x3ec");
  for (const OJson& r : doc["superRoots"]) {
    EXPECT_EQ(r["version"], "0x01");
    // The super root is keccak of SuperV1 over the canonical outputs.
    SuperV1 super{HexU64(r["timestamp"]), {}};
    for (const OJson& c : r["chains"])
      super.chains.push_back({ChainID::Parse(c["chainID"].get<std::string>()).value(), HashOf(c["canonical"])});
    EXPECT_EQ(SuperRoot(super), HashOf(r["superRoot"]));
  }
  // B#1 (t=1002) was replaced: at 1002 and 1003 its pending output is the invalid block's, whose
  // preimage follows the simulator's rule, and it differs from the canonical one. A's is canonical.
  for (uint64_t t : {1002, 1003}) {
    const OJson& chains = RootAt(doc, t)["chains"];
    EXPECT_EQ(Keccak256(Hex(chains[0]["pending"])), HashOf(chains[0]["canonical"]));
    const Bytes pending = Hex(chains[1]["pending"]);
    EXPECT_NE(Keccak256(pending), HashOf(chains[1]["canonical"]));
    EXPECT_EQ(pending, SimOutputPreimage(ChainID(901), Hash::FromSpan(ByteSpan(pending).subspan(96))));
  }
  EXPECT_EQ(RootAt(doc, 1002)["chains"][1]["pending"], RootAt(doc, 1003)["chains"][1]["pending"]);
  EXPECT_EQ(RootAt(doc, 1002)["crossSafeDerivedFrom"]["number"], 1);  // the replacement counts from L1 1
  EXPECT_EQ(CheckClaims(doc, 4), 0u);
}

TEST(FpExport, TheL1HeadBoundsWhatIsValid) {
  auto fixtures = Export(kWaiting, 3);
  ASSERT_EQ(fixtures.size(), 2u);
  const OJson early = OJson::parse(fixtures[0].json), late = OJson::parse(fixtures[1].json);
  // At L1 1, A#1 is local-safe (waiting for B#1), B#1 is not derived.
  EXPECT_EQ(early["allSafeDerivedAt"]["900"]["number"], 1);
  EXPECT_EQ(early["allSafeDerivedAt"]["901"]["number"], 0);
  EXPECT_EQ(RootAt(early, 1002)["crossSafeDerivedFrom"]["number"], 2);
  // (1001, 1) derives A: valid; (1001, 2) needs B: invalid; so are the poststate claim and its extension.
  const OJson& c = early["claims"];
  ASSERT_EQ(c.size(), 4u);
  EXPECT_NE(HashOf(c[0]["claim"]), InvalidState());
  EXPECT_EQ(c[0]["step"], 1);
  EXPECT_EQ(c[1]["step"], 2);
  EXPECT_EQ(HashOf(c[1]["claim"]), InvalidState());
  EXPECT_EQ(Hex(c[1]["preimage"]), Bytes({'i', 'n', 'v', 'a', 'l', 'i', 'd'}));
  EXPECT_EQ(c[2]["timestamp"], 1002);
  EXPECT_EQ(HashOf(c[2]["claim"]), InvalidState());
  EXPECT_EQ(c[3]["claim"], c[2]["claim"]);  // the trace extension repeats the poststate claim
  EXPECT_EQ(CheckClaims(early, 3), 3u);
  EXPECT_EQ(CheckClaims(late, 3), 0u);
  EXPECT_EQ(early["superRoots"], late["superRoots"]);  // the same answers, read against two L1 heads
}

// The checked-in fixtures (the `export cli` test compares them with a fresh export byte for byte).
TEST(FpExport, CheckedInFixturesFollowTheClaimRules) {
  const char* root = std::getenv("SUPERSAFE_SOURCE_ROOT");
  if (root == nullptr) GTEST_SKIP() << "SUPERSAFE_SOURCE_ROOT is not set";
  size_t files = 0, invalid = 0;
  for (const auto& dir : std::filesystem::directory_iterator(std::filesystem::path(root) / "fixtures"))
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
      std::ifstream in(f.path());
      const OJson doc = OJson::parse(in);
      SCOPED_TRACE(f.path().string());
      EXPECT_EQ(doc["scenario"], dir.path().filename().string());
      invalid += CheckClaims(doc, doc["stepsPerTimestamp"]);
      ++files;
    }
  EXPECT_GE(files, 3u);
  EXPECT_GT(invalid, 0u);  // the InvalidState rules are exercised, not only valid claims
}

TEST(FpExport, SameInputSameBytes) {
  auto a = Export(kReplacement, 4), b = Export(kReplacement, 4);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a[0].json, b[0].json);
  Scenario sc = Parse(kReplacement);
  auto other_seed = ExportFixtures(sc, {sc.seed + 1, 4});
  ASSERT_TRUE(other_seed.ok());
  EXPECT_NE(other_seed->at(0).json, a[0].json);
}

Status ExportError(const std::string& yaml, uint64_t steps) {
  Scenario sc = Parse(yaml);
  return ExportFixtures(sc, {sc.seed, steps}).status();
}

std::string WithGames(const std::string& games) {
  std::string y = kWaiting;
  const size_t from = y.find("games:"), to = y.find("steps:");
  return y.substr(0, from) + games + y.substr(to);
}

TEST(FpExport, ErrorsNameTheGameOrOption) {
  const std::pair<Status, std::string> cases[] = {
      {ExportError(WithGames(""), 128), "no games"},
      {ExportError(kWaiting, 0), "--steps-per-timestamp 0: want at least the chain count + 1 = 3"},
      {ExportError(kWaiting, 2), "--steps-per-timestamp 2"},
      {ExportError(WithGames("games:\n  - {l1_head: 1, prestate: 998, poststate: 1002}\n"), 128),
       "games[0]: prestate 998 is before the L2 genesis time 1000"},
      {ExportError(WithGames("games:\n  - {l1_head: 1, prestate: 1000, poststate: 1002}\n"
                             "  - {l1_head: 1, prestate: 1000, poststate: 1002}\n"), 128),
       "games[1]: the same game is listed twice"},
      {ExportError(WithGames("games:\n  - {l1_head: 1, prestate: 1000, poststate: 100000000}\n"), 128),
       "games[0]: (poststate - prestate) * 128 claims exceed"},
      {ExportError(WithGames("games:\n  - {l1_head: 1, prestate: 18446744073709551614, poststate: 18446744073709551615}\n"), 128),
       "games[0]: poststate 18446744073709551615 leaves no timestamp after it"},
      {ExportError(WithGames("games:\n  - {l1_head: 1, prestate: 1000, poststate: 1002}\n"
                             "  - {l1_head: 3, prestate: 1000, poststate: 1002}\n"), 128),
       "games[1]: l1_head 3 is beyond the L1 head #2"},
      {ExportError(std::string(kWaiting) + "  - expect: {chain: A, cross_safe: 5}\n", 128), "waiting (seed 0) failed: step 7"},
  };
  for (const auto& [s, what] : cases) {
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << what;
    EXPECT_NE(s.message().find(what), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace supersafe::sim
