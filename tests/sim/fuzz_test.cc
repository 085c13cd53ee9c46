// Generated scenarios (sim/fuzz.h): determinism, validity by construction, the property itself over
// a band of seeds, the shrinker, and profile parsing.
#include "sim/fuzz.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "sim/scenario.h"

namespace supersafe::sim {
namespace {

size_t Count(const FuzzCase& c, FuzzKind kind) {
  return std::count_if(c.steps.begin(), c.steps.end(), [&](const FuzzStep& s) { return s.kind == kind; });
}

TEST(Fuzz, OneSeedGivesOneCase) {
  const FuzzProfile p;
  EXPECT_EQ(GenerateCase(7, p), GenerateCase(7, p));
  EXPECT_EQ(RenderScenario(GenerateCase(7, p)), RenderScenario(GenerateCase(7, p)));
  EXPECT_NE(RenderScenario(GenerateCase(7, p)), RenderScenario(GenerateCase(8, p)));
}

TEST(Fuzz, EveryRenderedCaseParsesAndCoversTheStepKinds) {
  FuzzProfile p;
  p.min_chains = 1;
  p.max_chains = 4;
  p.manual_percent = 50;
  std::set<std::string> kinds;
  size_t manual = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    const FuzzCase c = GenerateCase(seed, p);
    ASSERT_GE(c.chains, 1u);
    ASSERT_LE(c.chains, 4u);
    manual += c.manual;
    auto sc = ParseScenario(RenderScenario(c), "fuzz.yaml");
    ASSERT_TRUE(sc.ok()) << "seed " << seed << ": " << sc.status().ToString() << "\n" << RenderScenario(c);
    EXPECT_EQ(sc->seed, seed);
    EXPECT_EQ(sc->chains.size(), c.chains);
    for (const Step& s : sc->steps) kinds.insert(s.kind);
  }
  size_t varied = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) varied += GenerateCase(seed, p).variant != 0;
  EXPECT_GT(varied, 80u);
  EXPECT_LT(varied, 160u);
  EXPECT_GT(manual, 100u);
  EXPECT_LT(manual, 200u);
  for (const char* kind : {"build", "batch", "mine", "reorg_l1", "finalize_l1", "reorg_unsafe", "restart", "crash", "call",
                           "derive", "sync", "pool", "drop_batches", "batch_divergent"})
    EXPECT_TRUE(kinds.count(kind)) << kind;
}

// The chain settings the variants draw: both after_replacement settings, the builder's timeout and
// a sequencing window all occur, and the default profile draws batch_divergent steps, which the
// renderer places above what the chain's batches posted so that the runs can do them.
TEST(Fuzz, CasesDrawTheNodeAndBuilderSettingsAndDivergentBatches) {
  const FuzzProfile p;
  size_t drop = 0, rederive = 0, timeout = 0, window = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    auto sc = ParseScenario(RenderScenario(GenerateCase(seed, p)), "fuzz.yaml");
    ASSERT_TRUE(sc.ok()) << sc.status().ToString();
    for (const ChainSpec& c : sc->chains) {
      (c.after_replacement == ChainSpec::AfterReplacement::kDrop ? drop : rederive) += 1;
      timeout += c.exec_timeout != ChainSpec().exec_timeout;
      window += c.seq_window.has_value();
    }
  }
  EXPECT_GT(drop, 20u);
  EXPECT_GT(rederive, 200u);
  EXPECT_GT(timeout, 20u);
  EXPECT_GT(window, 10u);

  FuzzProfile only;
  only.manual_percent = 0;
  only.variant_percent = 0;
  only.weights.assign(only.weights.size(), 0);
  only.weights[static_cast<size_t>(FuzzKind::kBuild)] = 6;
  only.weights[static_cast<size_t>(FuzzKind::kBatch)] = 2;
  only.weights[static_cast<size_t>(FuzzKind::kMine)] = 3;
  only.weights[static_cast<size_t>(FuzzKind::kBatchDivergent)] = 3;
  uint64_t divergent = 0;
  size_t discarded = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const FuzzCase c = GenerateCase(seed, only);
    const RunResult r = RunCase(c);
    discarded += r.failure_kind == FailureKind::kStep;
    EXPECT_TRUE(r.passed || r.failure_kind == FailureKind::kStep)
        << "seed " << seed << ": " << r.failure << "\n" << RenderScenario(c);
    divergent += r.coverage.count("divergent_batches") ? r.coverage.at("divergent_batches") : 0;
  }
  EXPECT_GT(divergent, 30u);
  EXPECT_LE(discarded, 3u);
}

// RunCase parses the case's file in two parts, keeping each step's YAML across cases
// (ParseScenarioText): the same scenario as the file parsed whole, so the same run, step lines
// included (the trace names them).
TEST(Fuzz, ParsingTheTwoPartsGivesTheScenarioOfTheWholeFile) {
  FuzzProfile p;
  p.max_chains = 4;
  p.manual_percent = 50;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    const FuzzCase c = GenerateCase(seed, p);
    const ScenarioText text = RenderScenarioParts(c);
    ASSERT_EQ(text.Text(), RenderScenario(c));
    auto parts = ParseScenarioText(text, "fuzz.yaml");
    auto whole = ParseScenario(text.Text(), "fuzz.yaml", /*labels=*/false);
    ASSERT_TRUE(parts.ok() && whole.ok()) << "seed " << seed;
    ASSERT_EQ(parts->steps.size(), whole->steps.size()) << "seed " << seed;
    for (size_t i = 0; i < whole->steps.size(); ++i) {
      EXPECT_EQ(parts->steps[i].line, whole->steps[i].line) << "seed " << seed << " step " << i + 1;
      EXPECT_EQ(parts->steps[i].kind, whole->steps[i].kind) << "seed " << seed << " step " << i + 1;
    }
    RunOptions options;
    options.seed = seed;
    EXPECT_EQ(RunScenario(*parts, options).digest, RunScenario(*whole, options).digest) << "seed " << seed;
  }
  // A step that does not parse gets the error of the whole file, naming its line.
  ScenarioText bad = RenderScenarioParts(GenerateCase(1, p));
  bad.steps.insert(bad.steps.begin() + 1, "mine: {count: x}");
  auto parts = ParseScenarioText(bad, "fuzz.yaml");
  auto whole = ParseScenario(bad.Text(), "fuzz.yaml");
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.status().ToString(), whole.status().ToString());
}

// The property CI runs: generated worlds with reorgs, flip-flops, replacements, node calls and
// crashes keep every invariant. `supersafe fuzz` runs more seeds; this band stays in CI's budget.
TEST(Fuzz, GeneratedScenariosKeepEveryInvariant) {
  const FuzzProfile p;
  size_t discarded = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    const FuzzCase c = GenerateCase(seed, p);
    const RunResult r = RunCase(c);
    if (r.failure_kind == FailureKind::kStep) {
      ++discarded;
      continue;
    }
    EXPECT_TRUE(r.passed) << "seed " << seed << ": " << r.failure << "\n" << RenderScenario(c);
  }
  EXPECT_LE(discarded, 8u);
}

// Failures compare by kind and check, not by step or numbers.
TEST(Fuzz, FailureSignatureKeepsKindAndCheck) {
  RunResult a, b;
  a.failure = "step 4 (line 9, mine): reference model (view L1 3): B local_safe: expected 2, supervisor says 4";
  b.failure = "step 17 (line 30, batch): reference model (view L1 12): B local_safe: expected 7, supervisor says 9";
  a.failure_kind = b.failure_kind = FailureKind::kInvariant;
  EXPECT_EQ(FailureSignature(a), "invariant: reference model (view L ): B local_safe: expected , supervisor says ");
  EXPECT_EQ(FailureSignature(a), FailureSignature(b));
  b.failure_kind = FailureKind::kStep;
  EXPECT_NE(FailureSignature(a), FailureSignature(b));
}

TEST(Fuzz, ShrinkingFindsTheSmallestCaseThatStillFails) {
  FuzzProfile p;
  p.steps = 60;
  // Synthetic failure: a restart after an L1 reorg, and at least two builds of chain 0 or more.
  auto fails = [](const FuzzCase& c) {
    bool reorg = false, restart_after = false;
    size_t builds = 0;
    for (const FuzzStep& s : c.steps) {
      if (s.kind == FuzzKind::kReorgL1) reorg = true;
      if (s.kind == FuzzKind::kRestart && reorg) restart_after = true;
      if (s.kind == FuzzKind::kBuild && s.chain % c.chains == 0) ++builds;
    }
    return restart_after && builds >= 2;
  };
  uint64_t seed = 1;
  while (!fails(GenerateCase(seed, p))) ++seed;
  const FuzzCase big = GenerateCase(seed, p);
  size_t runs = 0;
  const FuzzCase small = ShrinkCase(big, fails, 1000, &runs);
  EXPECT_TRUE(fails(small));
  EXPECT_EQ(small.steps.size(), 4u);
  EXPECT_EQ(Count(small, FuzzKind::kReorgL1), 1u);
  EXPECT_EQ(Count(small, FuzzKind::kRestart), 1u);
  EXPECT_EQ(Count(small, FuzzKind::kBuild), 2u);
  EXPECT_EQ(small.chains, 1u);
  EXPECT_FALSE(small.manual);
  EXPECT_EQ(small.variant, 0u);
  for (const FuzzStep& s : small.steps) EXPECT_EQ(s.a + s.b + s.c + s.chain, 0u);
  EXPECT_LE(runs, 1000u);
  // The budget is honoured.
  size_t capped = 0;
  ShrinkCase(big, fails, 5, &capped);
  EXPECT_EQ(capped, 5u);
}

TEST(Fuzz, ProfilesParseAndBadOnesNameTheKey) {
  auto p = ParseFuzzProfile("chains: [1, 4]\nsteps: 12\nmanual_percent: 0\nweights: {restart: 50, build: 1}\n", "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->min_chains, 1u);
  EXPECT_EQ(p->max_chains, 4u);
  EXPECT_EQ(p->steps, 12u);
  EXPECT_EQ(p->manual_percent, 0u);
  EXPECT_EQ(p->weights[static_cast<size_t>(FuzzKind::kRestart)], 50u);
  EXPECT_EQ(p->weights[static_cast<size_t>(FuzzKind::kBuild)], 1u);
  EXPECT_EQ(p->weights[static_cast<size_t>(FuzzKind::kMine)], FuzzProfile{}.weights[2]);
  for (const FuzzCase& c : {GenerateCase(1, *p), GenerateCase(2, *p)}) EXPECT_FALSE(c.manual);

  struct Bad {
    const char* text;
    const char* names;
  } bad[] = {{"chains: [3, 2]\n", "p.yaml:1: chains"},       {"chains: 2\n", "chains: want [min, max]"},
             {"steps: -1\n", "steps"},                         {"manual_percent: 101\n", "manual_percent"},
             {"weights: {rebuild: 3}\n", "weights.rebuild"}, {"colour: red\n", "colour: unknown key"},
             {"- 1\n", "a fuzz profile is a map"},             {"steps: [1\n", "p.yaml"}};
  for (const Bad& b : bad) {
    auto r = ParseFuzzProfile(b.text, "p.yaml");
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_NE(r.status().message().find(b.names), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace supersafe::sim
