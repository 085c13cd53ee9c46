// The step table (sim/steps.h): every step kind, in every form, written back and read again is the
// same step; so is every file of the library; and the fuzzer's files are already in written form.
#include "sim/steps.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "sim/fuzz.h"

namespace supersafe::sim {
namespace {

// Header and steps of `b` are those of `a` (lines and labels aside).
void ExpectSameScenario(const Scenario& a, const Scenario& b, const std::string& what) {
  EXPECT_EQ(a.name, b.name) << what;
  EXPECT_EQ(a.description, b.description) << what;
  EXPECT_EQ(a.seed, b.seed) << what;
  EXPECT_EQ(a.chains, b.chains) << what;
  EXPECT_EQ(a.genesis, b.genesis) << what;
  EXPECT_EQ(a.expiry_window, b.expiry_window) << what;
  EXPECT_EQ(a.nodes, b.nodes) << what;
  EXPECT_EQ(a.games, b.games) << what;
  ASSERT_EQ(a.steps.size(), b.steps.size()) << what;
  for (size_t i = 0; i < a.steps.size(); ++i) {
    EXPECT_EQ(a.steps[i].kind, b.steps[i].kind) << what << " step " << i + 1;
    EXPECT_TRUE(a.steps[i].action == b.steps[i].action)
        << what << " step " << i + 1 << ": " << a.steps[i].label << " came back as " << b.steps[i].label;
  }
}

// Parses `text`, writes it back, parses that: the same scenario. Returns the first parse.
Scenario RoundTrip(const std::string& text, const std::string& file) {
  auto first = ParseScenario(text, file);
  EXPECT_TRUE(first.ok()) << first.status().ToString();
  if (!first.ok()) return {};
  const std::string written = RenderScenarioText(*first);
  auto second = ParseScenario(written, file + " (written)");
  EXPECT_TRUE(second.ok()) << second.status().ToString() << "\n" << written;
  if (!second.ok()) return {};
  ExpectSameScenario(*first, *second, file);
  // Written once more, the text is the same: writing is a fixed point.
  EXPECT_EQ(RenderScenarioText(*second), written) << file;
  return *first;
}

// Every kind, every form of `call`, `expect` and log specs, values off their defaults.
constexpr const char* kEveryKind = R"(name: "every kind: of step"
description: "two lines,\nwith \"quotes\""
seed: 11
genesis: {l2_time: 2000, l1_time: 5, l1_block_time: 6}
nodes: manual
expiry_window: 100
chains:
  - {name: A, id: 900, after_replacement: rederive}
  - {name: "B b", id: "0x10000000000000001", block_time: 1, interop_time: 2004, policy: cross-unsafe, mempool: true, after_replacement: drop, exec_timeout: 7, seq_window: 3}
games:
  - {l1_head: 6, prestate: 2002, poststate: 2008}
steps:
  - build: {chain: A, logs: [{init: m1}, {init: m2, payload: "0x0102", origin: "0x1111111111111111111111111111111111111111"}, {init: m3, payload: n3}, {init: m4, origin: "0x2222222222222222222222222222222222222222"}]}
  - build: {chain: "B b", blocks: 4, force: true, logs: [{exec: m1, every: 2}, {payload: "0x03"}, {payload: word, origin: "0x1111111111111111111111111111111111111111", every: 3}, {exec: {chain: A, block: 1, log: 0, payload: m9}}, {exec: {chain_id: 77, block: 2, log: 1, timestamp: 3, payload: "0x", origin: "0x3333333333333333333333333333333333333333"}}]}
  - batch: {chain: A}
  - batch: {chain: A, through: 1}
  - drop_batches: {chain: A}
  - batch_divergent: {chain: A, block: 1}
  - batch_divergent: {chain: "B b", block: 2, logs: [{init: m6}, {exec: m1}, {payload: "0x04"}], force: true}
  - mine: 3
  - derive: {chain: A}
  - derive: {chain: A, to_l1: 2}
  - sync: {chain: "B b"}
  - reorg_l1: {depth: 1, fork: b}
  - reorg_l1: {depth: 2, fork: "c d", keep_batches: true}
  - finalize_l1: {number: 1}
  - finalize_l1: {depth: 1}
  - reorg_unsafe: {chain: A, depth: 1, logs: [{init: m5}], force: true}
  - reorg_unsafe: {chain: A, depth: 2}
  - restart: {}
  - crash: {torn_bytes: 37}
  - crash: {torn_bytes: 1, db: events}
  - fault: {kind: crash, at: 3}
  - fault: {kind: fsync_error}
  - fault: {kind: read_error, at: 2}
  - fault: {kind: no_space, at: 1000000}
  - fault: {kind: bit_flip}
  - fault: {kind: bit_flip, db: replacements, chain: "B b"}
  - pool: {chain: "B b"}
  - expect: {chain: "B b", pool: 2}
  - call: {method: tryCrossSafe, chain: A, derived_from: 1}
  - call: {method: tryCrossSafe, chain: A, local_safe: 1, derived_from: 1}
  - expect: {result: {status: invalid, cross_safe: 1, local_safe: 2}}
  - expect: {result: {}}
  - call: {method: tryFinalize, chain: A, finalized_l1: 1}
  - expect: {result: {block: 1}}
  - call: {method: updateLocalUnsafe, chain: A}
  - call: {method: updateLocalUnsafe, chain: A, unsafe: 0}
  - expect: {result: ok}
  - call: {method: getCrossUnsafe, chain: A, max_number: 4}
  - call: {method: checkMessage, message: m1}
  - expect: {result: {level: conflicts}}
  - call: {method: checkMessage, identifier: {chain: "B b", block: 1, log: 2, timestamp: 9, payload: m1}}
  - expect: {error: OUT_OF_ORDER}
  - expect: {chain: A, unsafe: 5, cross_unsafe: 4, local_safe: 3, cross_safe: 2, finalized: 0}
  - expect: {chain: A, finalized: 1}
  - expect: {chain: A, block: 1}
  - expect: {chain: A, block: 2, replaced: false}
  - expect: {chain: A, block: 2, logs: 3}
  - expect: {chain: A, block: 2, replaced: true, logs: 0, source: 1}
  - expect: {message: m2, level: cross-unsafe}
  - rewind: {chain: A, block: 1}
  - expect: {result: ok}
  - rewind: {chain: "B b", block: 0}
  - expect: {error: CONFLICTING_DATA}
  - reset: {chain: A}
  - reset: {chain: "B b", to_l1: 2}
  - expect: {chains: {A: {cross_safe: 1, local_safe_source: 2}, "B b": {cross_safe_source: 0}}}
  - expect: {chain: A, unsafe: 1, cross_safe_source: 3}
  - expect: {chain: A, block: 1, source: 2}
  - expect: {chain: A, block: 1, source: FUTURE_DATA, pending: none}
  - expect: {chain: A, block: 1, replaced: false, pending: original}
  - expect: {chain: A, block: 1, pending: 0x0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000}
  - expect: {super_root: {timestamp: 2004}}
  - expect: {super_root: {timestamp: 2004, source: FUTURE_DATA}}
  - expect: {super_root: {timestamp: 2004, source: 1, root: "0x1111111111111111111111111111111111111111111111111111111111111111", pending: {A: none, "B b": original}}}
)";

TEST(StepTable, EveryKindWrittenAndReadBackIsTheSameStep) {
  const Scenario sc = RoundTrip(kEveryKind, "every-kind.yaml");
  std::set<std::string> seen;
  for (const Step& s : sc.steps) seen.insert(s.kind);
  for (const StepKind& k : StepKinds())
    EXPECT_TRUE(seen.count(std::string(k.name))) << "no line of kEveryKind has step kind '" << k.name << "'";
}

TEST(StepTable, EveryKindIsOneEntryWithAParserAndAWriter) {
  std::set<std::string_view> names;
  for (const StepKind& k : StepKinds()) {
    EXPECT_TRUE(names.insert(k.name).second) << k.name;
    EXPECT_TRUE(k.parse && k.holds && k.render) << k.name;
    EXPECT_EQ(FindStepKind(k.name), &k);
  }
  EXPECT_EQ(FindStepKind("dance"), nullptr);
}

TEST(StepTable, EveryLibraryScenarioWrittenAndReadBackIsTheSame) {
  const char* root = std::getenv("SUPERSAFE_SOURCE_ROOT");
  ASSERT_NE(root, nullptr);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(root) / "scenarios")) {
    if (entry.path().extension() != ".yaml") continue;
    auto sc = ParseScenarioFile(entry.path());
    ASSERT_TRUE(sc.ok()) << sc.status().ToString();
    RoundTrip(RenderScenarioText(*sc), entry.path().filename().string());
    ++files;
  }
  EXPECT_GT(files, 50u);
}

// The fuzzer writes through the table: its files are already what writing a parsed file gives.
TEST(StepTable, FuzzFilesAreInWrittenForm) {
  FuzzProfile p;
  p.min_chains = 1;
  p.max_chains = 4;
  p.manual_percent = 50;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    const std::string text = RenderScenario(GenerateCase(seed, p));
    auto sc = ParseScenario(text, "fuzz.yaml");
    ASSERT_TRUE(sc.ok()) << sc.status().ToString();
    EXPECT_EQ(RenderScenarioText(*sc), text) << "seed " << seed;
  }
}

TEST(StepTable, ScalarsAreQuotedOnlyWhenTheyMustBe) {
  EXPECT_EQ(YamlScalar("A"), "A");
  EXPECT_EQ(YamlScalar("0x0102"), "0x0102");
  EXPECT_EQ(YamlScalar("m-1.x"), "m-1.x");
  for (const char* s : {"", "null", "~", "true", "no", "a b", "a: b", "-a", "#c", "x\ny", "q\"\\", "\x01", "é"}) {
    const std::string text =
        std::string("name: n\ndescription: ") + YamlScalar(s) + "\nchains: [{name: A, id: 1}]\nsteps: []\n";
    auto sc = ParseScenario(text, "q.yaml");
    ASSERT_TRUE(sc.ok()) << "'" << s << "' as " << YamlScalar(s) << ": " << sc.status().ToString();
    EXPECT_EQ(sc->description, s);
  }
}

}  // namespace
}  // namespace supersafe::sim
