// Scenario parsing: a complete file resolves to the right values, and every kind of mistake is an
// error naming the file, the line and the key.
#include "sim/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/crypto.h"

namespace supersafe::sim {
namespace {

using ::testing::HasSubstr;

const char* kHeader = R"(name: t
seed: 7
chains:
  - {name: A, id: 900}
  - {name: B, id: "0x10000000000000001", block_time: 1, interop_time: 1004}
)";

TEST(ScenarioParse, ResolvesHeaderAndSteps) {
  std::string text = std::string(kHeader) + R"(genesis: {l2_time: 2000, l1_block_time: 6}
expiry_window: 100
games:
  - {l1_head: 6, prestate: 2002, poststate: 2008}
steps:
  - build: {chain: A, logs: [{init: m1}, {init: raw, payload: "0x0102", origin: "0x1111111111111111111111111111111111111111"}]}
  - build: {chain: B, blocks: 2, logs: [{exec: m1}, {exec: {chain: A, block: 1, log: 0, payload: m9}}]}
  - batch: {chain: A, through: 1}
  - mine: 2
  - reorg_l1: {depth: 1, fork: b, keep_batches: true}
  - finalize_l1: {depth: 1}
  - reorg_unsafe: {chain: B, depth: 1}
  - restart: {}
  - crash: {torn_bytes: 37, db: events}
  - call: {method: tryCrossSafe, chain: A, local_safe: 1, derived_from: 1}
  - expect: {result: {status: accept, cross_safe: 1}}
  - call: {method: checkMessage, message: m1}
  - expect: {error: FUTURE_DATA}
  - expect: {chain: B, cross_safe: 0, finalized: 0}
  - expect: {chain: B, block: 1, replaced: false}
  - expect: {message: m1, level: cross-unsafe}
)";
  auto sc = ParseScenario(text, "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  EXPECT_EQ(sc->name, "t");
  EXPECT_EQ(sc->seed, 7u);
  ASSERT_EQ(sc->chains.size(), 2u);
  EXPECT_EQ(sc->chains[0].interop_time, 2000u);  // defaults to l2_time
  EXPECT_EQ(sc->chains[1].id, ChainID(U256(1) << 64 | 1));
  EXPECT_EQ(sc->chains[1].block_time, 1u);
  EXPECT_EQ(sc->genesis.l1_block_time, 6u);
  EXPECT_EQ(sc->expiry_window, 100u);
  ASSERT_EQ(sc->games.size(), 1u);
  ASSERT_EQ(sc->steps.size(), 16u);
  EXPECT_EQ(sc->steps[0].line, 11);
  EXPECT_EQ(sc->steps[0].kind, "build");

  const auto& b0 = std::get<BuildStep>(sc->steps[0].action);
  ASSERT_EQ(b0.logs.size(), 2u);
  EXPECT_EQ(b0.logs[0].log.address, DefaultOrigin());
  ASSERT_EQ(b0.logs[0].log.topics.size(), 1u);
  EXPECT_EQ(b0.logs[0].log.topics[0], Keccak256("m1"));
  EXPECT_EQ(b0.logs[1].log.data, (Bytes{1, 2}));
  EXPECT_TRUE(b0.logs[1].log.topics.empty());

  const auto& b1 = std::get<BuildStep>(sc->steps[1].action);
  EXPECT_EQ(b1.blocks, 2u);
  EXPECT_EQ(b1.logs[0].kind, LogSpec::Kind::kExecNamed);
  const ExecutingMessage& explicit_msg = b1.logs[1].message;
  EXPECT_EQ(explicit_msg.id.chain_id, ChainID(uint64_t{900}));
  EXPECT_EQ(explicit_msg.id.timestamp, 2002u);  // default: the chain's time of that block
  EXPECT_EQ(explicit_msg.payload_hash, PayloadHash(Keccak256("m9").span()));

  EXPECT_EQ(std::get<MineStep>(sc->steps[3].action).count, 2u);
  EXPECT_TRUE(std::get<ReorgL1Step>(sc->steps[4].action).keep_batches);
  EXPECT_EQ(std::get<FinalizeL1Step>(sc->steps[5].action).depth, 1u);
  EXPECT_EQ(std::get<CrashStep>(sc->steps[8].action).db, CrashDb::kEvents);
  const auto& r = std::get<ResultExpect>(std::get<ExpectStep>(sc->steps[10].action).what);
  EXPECT_EQ(r.status, "accept");
  EXPECT_EQ(r.cross_safe, 1u);
  EXPECT_EQ(std::get<ErrorExpect>(std::get<ExpectStep>(sc->steps[12].action).what).code, Code::kFutureData);
  const auto& m = std::get<MessageExpect>(std::get<ExpectStep>(sc->steps[15].action).what);
  EXPECT_EQ(m.level, SafetyLevel::kCrossUnsafe);
  EXPECT_EQ(sc->steps[3].label, "mine: 2");
}

TEST(ScenarioParse, UnnamedPayloadLogsMayRepeatOverBlocks) {
  auto sc = ParseScenario(std::string(kHeader) + R"(steps:
  - build: {chain: A, blocks: 3, logs: [{payload: "0x0102"}, {payload: "0x03", origin: "0x1111111111111111111111111111111111111111"}]}
)",
                          "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  const auto& b = std::get<BuildStep>(sc->steps[0].action);
  EXPECT_EQ(b.blocks, 3u);
  ASSERT_EQ(b.logs.size(), 2u);
  EXPECT_EQ(b.logs[0].kind, LogSpec::Kind::kInit);
  EXPECT_TRUE(b.logs[0].name.empty());
  EXPECT_EQ(b.logs[0].log.address, DefaultOrigin());
  EXPECT_EQ(b.logs[0].log.data, (Bytes{1, 2}));
  EXPECT_TRUE(b.logs[0].log.topics.empty());
  EXPECT_EQ(b.logs[1].log.address.Hex(), "0x1111111111111111111111111111111111111111");
}

TEST(ScenarioParse, EveryNthBlock) {
  auto sc = ParseScenario(std::string(kHeader) + R"(steps:
  - build: {chain: A, logs: [{init: m1}]}
  - build: {chain: B, blocks: 6, logs: [{payload: "0x01"}, {exec: m1, every: 3}, {payload: "0x02", every: 2}]}
)",
                          "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  const auto& b = std::get<BuildStep>(sc->steps[1].action);
  ASSERT_EQ(b.logs.size(), 3u);
  EXPECT_EQ(b.logs[0].every, 1u);
  EXPECT_EQ(b.logs[1].every, 3u);
  EXPECT_TRUE(b.logs[1].InBlock(3));
  EXPECT_FALSE(b.logs[1].InBlock(4));
  EXPECT_EQ(b.logs[2].every, 2u);
}

struct BadCase {
  const char* what;
  std::string steps;     // appended after the header
  std::string location;  // "t.yaml:LINE: KEY"
};

class ScenarioErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ScenarioErrors, NameFileLineAndKey) {
  auto sc = ParseScenario(std::string(kHeader) + GetParam().steps, "t.yaml");
  ASSERT_FALSE(sc.ok()) << GetParam().what;
  EXPECT_THAT(sc.status().message(), HasSubstr(GetParam().location)) << GetParam().what;
}

INSTANTIATE_TEST_SUITE_P(
    All, ScenarioErrors,
    ::testing::Values(
        BadCase{"unknown top-level key", "colour: red\nsteps: []\n", "t.yaml:6: colour: unknown key"},
        BadCase{"unknown step key", "steps:\n  - mine: 1\n  - build: {chain: A, blok: 2}\n",
                "t.yaml:8: build.blok: unknown key"},
        BadCase{"unknown step", "steps:\n  - dance: {}\n", "t.yaml:7: steps[0]: unknown step 'dance'"},
        BadCase{"bad type", "steps:\n  - build: {chain: A, blocks: many}\n", "t.yaml:7: build.blocks: want a non-negative"},
        BadCase{"bad bool", "steps:\n  - build: {chain: A, force: maybe}\n", "t.yaml:7: build.force: want true or false"},
        BadCase{"unknown chain", "steps:\n  - batch: {chain: C}\n", "t.yaml:7: batch.chain: no chain named 'C'"},
        BadCase{"duplicate message",
                "steps:\n  - build: {chain: A, logs: [{init: m1}]}\n  - build: {chain: B, logs: [{init: m1}]}\n",
                "t.yaml:8: build.logs[0].init: duplicate message name 'm1'"},
        BadCase{"message not emitted yet",
                "steps:\n  - build: {chain: A, logs: [{exec: m2}]}\n  - build: {chain: B, logs: [{init: m2}]}\n",
                "t.yaml:7: build.logs[0].exec: no message named 'm2'"},
        BadCase{"expect unknown message", "steps:\n  - expect: {message: zz, level: safe}\n",
                "t.yaml:7: expect.message: no message named 'zz'"},
        BadCase{"named init over several blocks", "steps:\n  - build: {chain: A, blocks: 2, logs: [{init: m}]}\n",
                "t.yaml:7: build.logs[0].init: a named init log needs a single block"},
        BadCase{"unnamed log with a stray key", "steps:\n  - build: {chain: A, logs: [{payload: 0x01, name: x}]}\n",
                "t.yaml:7: build.logs[0].name: unknown key"},
        BadCase{"every 0", "steps:\n  - build: {chain: A, blocks: 2, logs: [{payload: 0x01, every: 0}]}\n",
                "t.yaml:7: build.logs[0].every: must be at least 1"},
        BadCase{"every on a named init", "steps:\n  - build: {chain: A, logs: [{init: m, every: 2}]}\n",
                "t.yaml:7: build.logs[0].every: unknown key"},
        BadCase{"manual step with auto nodes", "steps:\n  - derive: {chain: A}\n", "t.yaml:7: derive: only with"},
        BadCase{"result without call", "steps:\n  - expect: {result: ok}\n", "t.yaml:7: expect: an expectation about a call"},
        BadCase{"unknown error code",
                "steps:\n  - call: {method: tryFinalize, chain: A, finalized_l1: 0}\n  - expect: {error: OOPS}\n",
                "t.yaml:8: expect.error: unknown error code 'OOPS'"},
        BadCase{"result key of another method",
                "steps:\n  - call: {method: tryFinalize, chain: A, finalized_l1: 0}\n  - expect: {result: {status: accept}}\n",
                "t.yaml:8: expect.result.status: unknown key"},
        BadCase{"unknown call method", "steps:\n  - call: {method: nope, chain: A}\n", "t.yaml:7: call.method: unknown method"},
        BadCase{"missing required key", "steps:\n  - reorg_l1: {depth: 1}\n", "t.yaml:7: reorg_l1.fork: required"},
        BadCase{"finalize both", "steps:\n  - finalize_l1: {number: 1, depth: 1}\n", "t.yaml:7: finalize_l1: give exactly one"},
        BadCase{"crash db", "steps:\n  - crash: {torn_bytes: 3, db: disk}\n", "t.yaml:7: crash.db: want safe or events"},
        BadCase{"several chains, one unknown", "steps:\n  - expect: {chains: {A: {cross_safe: 1}, Z: {unsafe: 1}}}\n",
                "t.yaml:7: expect.chains: no chain named 'Z'"},
        BadCase{"several chains, a chain twice", "steps:\n  - expect: {chains: {A: {cross_safe: 1}, A: {unsafe: 1}}}\n",
                "t.yaml:7: expect.chains.A: chain given twice"},
        BadCase{"several chains, a stray key", "steps:\n  - expect: {chains: {A: {block: 1}}}\n",
                "t.yaml:7: expect.chains.A.block: unknown key"},
        BadCase{"several chains, no head", "steps:\n  - expect: {chains: {A: {}}}\n",
                "t.yaml:7: expect.chains.A: name at least one head"},
        BadCase{"source neither number nor error", "steps:\n  - expect: {chain: A, block: 1, source: soon}\n",
                "t.yaml:7: expect.source: want an L1 block number or an error name"},
        BadCase{"pending of the wrong length", "steps:\n  - expect: {chain: A, block: 1, pending: 0x0102}\n",
                "t.yaml:7: expect.pending: want original, none or the 128-byte"},
        BadCase{"super root without timestamp", "steps:\n  - expect: {super_root: {source: 1}}\n",
                "t.yaml:7: expect.super_root.timestamp: required"},
        BadCase{"super root error with a root",
                "steps:\n  - expect: {super_root: {timestamp: 1000, source: FUTURE_DATA, root: "
                "\"0x0000000000000000000000000000000000000000000000000000000000000000\"}}\n",
                "t.yaml:7: expect.super_root: an error answer has no root"},
        BadCase{"super root, heads mixed in", "steps:\n  - expect: {super_root: {timestamp: 1000}, chain: A}\n",
                "t.yaml:7: expect.chain: unknown key"},
        BadCase{"rewind without block", "steps:\n  - rewind: {chain: A}\n", "t.yaml:7: rewind.block: required"},
        BadCase{"rewind answer is ok only", "steps:\n  - rewind: {chain: A, block: 0}\n  - expect: {result: {block: 0}}\n",
                "t.yaml:8: expect.result: rewind returns nothing"},
        BadCase{"reset of an unknown chain", "steps:\n  - reset: {chain: Q}\n", "t.yaml:7: reset.chain: no chain named 'Q'"},
        BadCase{"bad origin", "steps:\n  - build: {chain: A, logs: [{init: m, origin: 0x12}]}\n",
                "t.yaml:7: build.logs[0].origin:"},
        BadCase{"expect heads without heads", "steps:\n  - expect: {chain: A}\n", "t.yaml:7: expect: name at least one head"},
        BadCase{"duplicate key", "steps:\n  - build: {chain: A, chain: B}\n", "t.yaml:7: build.chain: key given twice"},
        BadCase{"steps missing", "", "t.yaml:1: steps: required"}));

TEST(ScenarioParse, ChainErrors) {
  auto dup = ParseScenario("name: t\nchains:\n  - {name: A, id: 1}\n  - {name: A, id: 2}\nsteps: []\n", "c.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.status().message(), HasSubstr("c.yaml:4: chains[1].name: duplicate chain name 'A'"));
  auto big = ParseScenario(
      "name: t\nchains:\n  - {name: A, id: "
      "\"0x10000000000000000000000000000000000000000000000000000000000000000\"}\nsteps: []\n",
      "c.yaml");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.status().message(), HasSubstr("c.yaml:3: chains[0].id: chain ID"));
  auto same_id = ParseScenario("name: t\nchains:\n  - {name: A, id: 10}\n  - {name: B, id: \"0xa\"}\nsteps: []\n", "c.yaml");
  ASSERT_FALSE(same_id.ok());
  EXPECT_THAT(same_id.status().message(), HasSubstr("c.yaml:4: chains[1].id: chain ID 10 used twice"));
}

TEST(ScenarioParse, YamlSyntaxErrorNamesLine) {
  auto sc = ParseScenario("name: t\nchains: [\n", "s.yaml");
  ASSERT_FALSE(sc.ok());
  EXPECT_THAT(sc.status().message(), HasSubstr("s.yaml:"));
}

TEST(ScenarioParse, MissingFileIsIOError) {
  auto sc = ParseScenarioFile("does-not-exist.yaml");
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.status().code(), Code::kIOError);
  EXPECT_EQ(sc.status().message(), "does-not-exist.yaml: no such file");
}

TEST(ScenarioParse, ADirectoryIsNotAScenarioFile) {
  auto sc = ParseScenarioFile(::testing::TempDir());
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.status().code(), Code::kIOError);
  EXPECT_THAT(sc.status().message(), HasSubstr(": is a directory, not a scenario file"));
}

// No byte of a message may act on a terminal: every control character shows as \xNN.
bool PrintableOnly(const std::string& text) {
  for (unsigned char b : text)
    if (b < 0x20 || b == 0x7f) return false;
  return text.find("\xc2\x9b") == std::string::npos;
}

TEST(ScenarioParse, BinaryBytesAreRefusedWithoutEchoingThem) {
  const std::string elf("\x7f" "ELF\x02\x01\x01\x00\x00\x00\x1b[31m", 16);
  auto sc = ParseScenario(elf, "bin.yaml");
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.status().message(), "bin.yaml:1: not a text file: byte 0x7f at column 1 (a scenario is YAML in UTF-8)");
  auto nul = ParseScenario(std::string("name: t\nchains: x\x00y\n", 19), "n.yaml");
  ASSERT_FALSE(nul.ok());
  EXPECT_THAT(nul.status().message(), HasSubstr("n.yaml:2: not a text file: byte 0x00 at column 10"));
  auto latin1 = ParseScenario("name: caf\xe9\n", "l.yaml");  // Latin-1, not UTF-8
  ASSERT_FALSE(latin1.ok());
  EXPECT_THAT(latin1.status().message(), HasSubstr("l.yaml:1: not a text file: byte 0xe9 at column 10"));
  auto utf8 = ParseScenario("name: caf\xc3\xa9\nchains:\n  - {name: A, id: 1}\nsteps: []\n", "u.yaml");
  EXPECT_TRUE(utf8.ok()) << utf8.status().ToString();
}

TEST(ScenarioParse, QuotedControlCharactersAreShownEscaped) {
  // YAML escapes can put any character into a scalar, and errors quote scalars.
  auto sc = ParseScenario("name: t\nchains:\n  - {name: A, id: 1}\nsteps:\n  - build: {chain: \"\\e[31m\\x9bB\"}\n",
                          "e.yaml");
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.status().message(), "e.yaml:5: build.chain: no chain named '\\x1b[31m\\xc2\\x9bB'");
  EXPECT_TRUE(PrintableOnly(sc.status().message()));
  EXPECT_EQ(Printable("caf\xc3\xa9 \xff\x01"), "caf\xc3\xa9 \\xff\\x01");
}

TEST(ScenarioParse, ATabInTheIndentationIsNamed) {
  auto sc = ParseScenario("name: t\nchains:\n\t- {name: A, id: 1}\nsteps: []\n", "tab.yaml");
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.status().message(), "tab.yaml:3: (yaml): a tab in the indentation; YAML indents with spaces only");
  // A tab inside a block scalar's text is text, not indentation.
  auto ok = ParseScenario("name: t\ndescription: |\n  a\n  \tb\nchains:\n  - {name: A, id: 1}\nsteps: []\n", "t.yaml");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(ScenarioParse, DeeplyNestedBracketsAreRefused) {
  const std::string deep = "name: t\nchains: " + std::string(100000, '[') + std::string(100000, ']') + "\nsteps: []\n";
  auto sc = ParseScenario(deep, "deep.yaml");
  ASSERT_FALSE(sc.ok());
  EXPECT_THAT(sc.status().message(), HasSubstr("deep.yaml:2: (yaml): collections nested too deeply"));
}

TEST(ScenarioParse, CountsBeyondWhatARunCanDoAreRefusedNamingTheLimit) {
  const std::string head = "name: t\nchains:\n  - {name: A, id: 1}\nsteps:\n";
  struct Case {
    std::string steps, want;
  };
  for (const Case& c : std::vector<Case>{
           {"  - mine: 1000000000\n",
            "t.yaml:5: mine: more than a run can do: 1000000000 L1 blocks here and 0 before; the limit is 100000 L1 "
            "blocks a run"},
           {"  - mine: 60000\n  - reorg_l1: {depth: 50000, fork: b}\n",
            "t.yaml:6: reorg_l1.depth: more than a run can do: 50000 L1 blocks here and 60000 before"},
           {"  - build: {chain: A, blocks: 18446744073709551615}\n",
            "t.yaml:5: build.blocks: more than a run can do: 18446744073709551615 L2 blocks here and 0 before; the "
            "limit is 1000000 L2 blocks a run"},
           {"  - build: {chain: A, blocks: 900000}\n  - reorg_unsafe: {chain: A, depth: 100001}\n",
            "t.yaml:6: reorg_unsafe.depth: more than a run can do: 100001 L2 blocks here and 900000 before"},
           {"  - build: {chain: A, blocks: 100000, logs: [" + [] {
              std::string logs;
              for (int i = 0; i < 41; ++i) logs += std::string(i ? ", " : "") + "{payload: 0x01}";
              return logs;
            }() + "]}\n",
            "t.yaml:5: build.blocks: more than a run can do: 4100000 logs here and 0 before; the limit is 4000000 logs a run"},
       }) {
    auto sc = ParseScenario(head + c.steps, "t.yaml");
    ASSERT_FALSE(sc.ok()) << c.steps;
    EXPECT_THAT(sc.status().message(), HasSubstr(c.want));
  }
  // At the limits, and `every` counting only the blocks that hold the log.
  auto ok = ParseScenario(head + "  - mine: 100000\n  - build: {chain: A, blocks: 1000000, logs: [{payload: 0x01}, "
                                 "{payload: 0x01}, {payload: 0x01}, {payload: 0x01, every: 4}, {payload: 0x01, every: 4}, "
                                 "{payload: 0x01, every: 4}]}\n",
                          "t.yaml");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(ScenarioParse, TimestampsPast64BitsAreRefused) {
  auto l2 = ParseScenario("name: t\ngenesis: {l2_time: 18446744073709551610}\nchains:\n  - {name: A, id: 1, block_time: 4}\n"
                          "steps:\n  - build: {chain: A}\n  - build: {chain: A}\n",
                          "t.yaml");
  ASSERT_FALSE(l2.ok());
  EXPECT_THAT(l2.status().message(),
              HasSubstr("t.yaml:7: build.blocks: block 2 of chain A would have a timestamp past 2^64-1"));
  auto l1 = ParseScenario("name: t\ngenesis: {l1_time: 18446744073709551610}\nchains:\n  - {name: A, id: 1}\nsteps:\n  - mine: 1\n",
                          "t.yaml");
  ASSERT_FALSE(l1.ok());
  EXPECT_THAT(l1.status().message(), HasSubstr("t.yaml:6: mine: L1 block 1 would have a timestamp past 2^64-1"));
}

TEST(ScenarioParse, TheNameCannotLeaveItsDirectory) {
  for (const char* name : {"\"../x\"", "a/b", "\"..\"", "\"\\ta\""}) {
    auto sc = ParseScenario(std::string("name: ") + name + "\nchains:\n  - {name: A, id: 1}\nsteps: []\n", "n.yaml");
    ASSERT_FALSE(sc.ok()) << name;
    EXPECT_THAT(sc.status().message(), HasSubstr("n.yaml:1: name: it names files")) << name;
  }
}

// The chain settings of the simulated op-node and op-geth (docs/scenario-format.md, "Header").
TEST(ScenarioParse, ChainSettingsOfNodeAndBuilder) {
  auto parse = [](const std::string& keys) {
    return ParseScenario("name: t\nchains:\n  - {name: A, id: 1" + keys + "}\nsteps: []\n", "k.yaml");
  };
  auto defaults = parse("");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->chains[0].after_replacement, ChainSpec::AfterReplacement::kRederive);
  EXPECT_EQ(defaults->chains[0].exec_timeout, 86400u);  // op-geth's tx pool: one day
  auto timeout = parse(", exec_timeout: 0");
  ASSERT_TRUE(timeout.ok()) << timeout.status().ToString();
  EXPECT_EQ(timeout->chains[0].exec_timeout, 0u);
  auto drop = parse(", after_replacement: drop");
  ASSERT_TRUE(drop.ok()) << drop.status().ToString();
  EXPECT_EQ(drop->chains[0].after_replacement, ChainSpec::AfterReplacement::kDrop);
  auto bad = parse(", after_replacement: keep");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("k.yaml:3: chains[0].after_replacement: want rederive or drop, got 'keep'"));
  EXPECT_FALSE(defaults->chains[0].seq_window.has_value());
  auto window = parse(", seq_window: 3600");
  ASSERT_TRUE(window.ok()) << window.status().ToString();
  EXPECT_EQ(window->chains[0].seq_window, 3600u);
  auto no_window = parse(", seq_window: 0");
  ASSERT_FALSE(no_window.ok());
  EXPECT_THAT(no_window.status().message(), HasSubstr("k.yaml:3: chains[0].seq_window: must be at least 1 L1 block"));
  // Forced empty blocks count against the run's L2 blocks: 100,000 L1 blocks of 12 s are 1.2M
  // seconds of L1 time, which a chain of 1 s blocks catches up with 1.2M forced blocks.
  auto forced = ParseScenario("name: t\nchains:\n  - {name: A, id: 1, block_time: 1, seq_window: 10}\nsteps:\n"
                              "  - mine: 100000\n",
                              "k.yaml");
  ASSERT_FALSE(forced.ok());
  EXPECT_THAT(forced.status().message(),
              HasSubstr("k.yaml:3: chains[0].seq_window: more than a run can do: "));
  EXPECT_THAT(forced.status().message(), HasSubstr("forced empty blocks"));
  EXPECT_TRUE(ParseScenario("name: t\nchains:\n  - {name: A, id: 1, seq_window: 10}\nsteps:\n  - mine: 100000\n", "k.yaml").ok());

  auto logs = ParseScenario("name: t\nchains:\n  - {name: A, id: 1}\nsteps:\n  - expect: {chain: A, block: 1, logs: 2}\n"
                            "  - expect: {chain: A, block: 1, logs: 0, replaced: false}\n",
                            "k.yaml");
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();
  const auto& only_logs = std::get<BlockExpect>(std::get<ExpectStep>(logs->steps[0].action).what);
  EXPECT_EQ(only_logs.logs, 2u);
  EXPECT_FALSE(only_logs.replaced.has_value());  // `logs` alone does not check `replaced`
  const auto& both = std::get<BlockExpect>(std::get<ExpectStep>(logs->steps[1].action).what);
  EXPECT_EQ(both.logs, 0u);
  EXPECT_EQ(both.replaced, false);
}

TEST(ScenarioParse, BatchDivergent) {
  auto sc = ParseScenario("name: t\nchains:\n  - {name: A, id: 1}\nsteps:\n"
                          "  - batch_divergent: {chain: A, block: 2, logs: [{init: m}], force: true}\n"
                          "  - build: {chain: A, logs: [{exec: m}]}\n",
                          "d.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  const auto& d = std::get<BatchDivergentStep>(sc->steps[0].action);
  EXPECT_EQ(d.block, 2u);
  ASSERT_EQ(d.logs.size(), 1u);
  EXPECT_EQ(d.logs[0].name, "m");
  EXPECT_TRUE(d.force);
  auto zero = ParseScenario("name: t\nchains:\n  - {name: A, id: 1}\nsteps:\n  - batch_divergent: {chain: A, block: 0}\n",
                            "d.yaml");
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("d.yaml:5: batch_divergent.block: must be at least 1"));
  auto missing = ParseScenario("name: t\nchains:\n  - {name: A, id: 1}\nsteps:\n  - batch_divergent: {chain: A}\n",
                               "d.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("d.yaml:5: batch_divergent.block: required"));
}

}  // namespace
}  // namespace supersafe::sim
