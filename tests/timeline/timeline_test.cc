#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "sim/timeline.h"

namespace supersafe::sim {
namespace {

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// A chain's heads moving up together, each level a little behind the one above.
ChainHeads Heads(uint64_t unsafe) {
  auto behind = [&](uint64_t by) { return unsafe > by ? unsafe - by : 0; };
  return {unsafe, behind(1), behind(2), behind(3), behind(5)};
}

Timeline Sample(size_t chains, size_t steps) {
  Timeline t;
  t.scenario = "sample";
  t.description = "three chains, one of each mark";
  t.seed = 42;
  for (size_t c = 0; c < chains; ++c) t.chains.push_back("chain" + std::to_string(c));
  for (size_t i = 0; i < steps; ++i) {
    TimelineStep s;
    s.index = i + 1;
    s.label = "build {chain: chain" + std::to_string(i % chains) + ", blocks: 1}";
    s.l1_head = i / 3;
    s.l1_fork = i < steps / 2 ? "main" : "b";
    s.l1_finalized = i / 6;
    for (size_t c = 0; c < chains; ++c) s.heads.push_back(Heads(i + c));
    t.steps.push_back(s);
  }
  return t;
}

const MarkKind kKinds[] = {MarkKind::kL1Reorg, MarkKind::kUnsafeReorg, MarkKind::kReplacement, MarkKind::kRestart,
                           MarkKind::kCrash,   MarkKind::kFailure,     MarkKind::kNote};

TEST(Timeline, SameTimelineSameBytes) {
  Timeline t = Sample(3, 20);
  t.steps[5].marks.push_back({MarkKind::kL1Reorg, "", "L1 reorg depth 2 -> fork b"});
  std::string first = RenderTimelineHtml(t);
  Timeline copy = t;
  EXPECT_EQ(first, RenderTimelineHtml(t));
  EXPECT_EQ(first, RenderTimelineHtml(copy));
}

TEST(Timeline, IsOneSelfContainedDocument) {
  std::string html = RenderTimelineHtml(Sample(2, 10));
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  EXPECT_EQ(Count(html, "<svg xmlns"), 1u);
  EXPECT_EQ(Count(html, "<script"), 0u);
  EXPECT_EQ(Count(html, "href="), 0u);
  EXPECT_EQ(Count(html, "src="), 0u);
  EXPECT_EQ(Count(html, "url("), 0u);
  EXPECT_EQ(Count(html, "http"), Count(html, "http://www.w3.org/2000/svg"));
}

TEST(Timeline, EscapesEveryText) {
  const std::string evil = "<script>alert(\"x\")&</script>";
  Timeline t = Sample(2, 4);
  t.scenario = evil;
  t.description = evil;
  t.chains[0] = evil;
  t.steps[1].label = evil;
  t.steps[1].l1_fork = evil;
  t.steps[2].marks.push_back({MarkKind::kNote, evil, evil});
  t.passed = false;
  t.failure = evil;
  std::string html = RenderTimelineHtml(t);
  EXPECT_EQ(Count(html, "<script"), 0u);
  EXPECT_EQ(Count(html, "\"x\""), 0u);
  EXPECT_GT(Count(html, "&lt;script&gt;alert(&quot;x&quot;)&amp;&lt;/script&gt;"), 5u);
}

TEST(Timeline, ShowsEveryChainAndEveryMarkKind) {
  Timeline t = Sample(3, 12);
  for (size_t k = 0; k < std::size(kKinds); ++k) {
    std::string chain = k % 2 == 0 ? "" : t.chains[k % 3];
    t.steps[k + 2].marks.push_back({kKinds[k], chain, "mark-text-" + std::to_string(k)});
  }
  std::string html = RenderTimelineHtml(t);
  for (const std::string& chain : t.chains) {
    EXPECT_EQ(Count(html, "<th colspan=\"5\" class=\"chain\">" + chain + "</th>"), 1u) << chain;
    EXPECT_EQ(Count(html, "class=\"lane\">" + chain + "</text>"), 1u) << chain;
  }
  for (size_t k = 0; k < std::size(kKinds); ++k) {
    // In the icon's tooltip, the column's tooltip and the table.
    EXPECT_GE(Count(html, "mark-text-" + std::to_string(k)), 3u) << k;
  }
  EXPECT_EQ(Count(html, "<g class=\"mark\">"), 2 * std::size(kKinds));  // legend + one icon each
  EXPECT_EQ(Count(html, "class=\"head\""), 3u * 5u);                        // five step-lines per chain
}

TEST(Timeline, MarksSharingACellShareOneIcon) {
  Timeline t = Sample(2, 6);
  t.steps[3].marks.push_back({MarkKind::kNote, "chain1", "first"});
  t.steps[3].marks.push_back({MarkKind::kFailure, "chain1", "second"});
  std::string html = RenderTimelineHtml(t);
  EXPECT_EQ(Count(html, "<g class=\"mark\">"), 7u + 1u);
  EXPECT_EQ(Count(html, "note (chain1): first\nfailure (chain1): second"), 2u);  // icon and column tooltips
}

TEST(Timeline, MarkOnUnknownChainGoesToEvents) {
  Timeline t = Sample(2, 4);
  t.steps[1].marks.push_back({MarkKind::kRestart, "nosuchchain", "restarted"});
  std::string html = RenderTimelineHtml(t);
  EXPECT_EQ(Count(html, "restart (nosuchchain): restarted"), 3u);
}

TEST(Timeline, FailedTimelineShowsFailure) {
  Timeline t = Sample(2, 5);
  t.passed = false;
  t.failure = "step 5 (expect {chain: chain1, cross_safe: 9}): cross_safe expected 9, saw 2";
  t.steps[4].marks.push_back({MarkKind::kFailure, "chain1", "cross_safe expected 9, saw 2"});
  std::string html = RenderTimelineHtml(t);
  EXPECT_EQ(Count(html, ">FAIL<"), 1u);
  EXPECT_EQ(Count(html, ">PASS<"), 0u);
  EXPECT_EQ(Count(html, "step 5 (expect {chain: chain1, cross_safe: 9}): cross_safe expected 9, saw 2"), 1u);
  EXPECT_EQ(Count(html, "<tr class=\"failed\">"), 1u);
}

TEST(Timeline, PassedTimelineHasNoFailureBox) {
  std::string html = RenderTimelineHtml(Sample(1, 3));
  EXPECT_EQ(Count(html, ">PASS<"), 1u);
  EXPECT_EQ(Count(html, "class=\"failure\""), 0u);
}

TEST(Timeline, EmptyTimelinesRender) {
  std::string no_steps = RenderTimelineHtml(Sample(3, 0));
  EXPECT_TRUE(no_steps.ends_with("</html>\n"));
  EXPECT_EQ(Count(no_steps, ">no steps</text>"), 1u);
  std::string nothing = RenderTimelineHtml(Timeline{});
  EXPECT_TRUE(nothing.ends_with("</html>\n"));
}

TEST(Timeline, ToleratesMissingHeadsAndHugeNumbers) {
  Timeline t = Sample(3, 6);
  t.steps[2].heads.resize(1);  // chains 1 and 2 have no heads at step 3: their lines break there
  t.steps[4].heads[2] = {std::numeric_limits<uint64_t>::max(), 0, 0, 0, 0};
  t.steps[4].l1_head = std::numeric_limits<uint64_t>::max();
  std::string html = RenderTimelineHtml(t);
  EXPECT_GE(Count(html, "18446744073709551615"), 4u);  // tooltip and table, both for the L2 and the L1 head
  EXPECT_EQ(Count(html, "nan"), 0u);
  EXPECT_EQ(Count(html, "inf"), 0u);
}

TEST(Timeline, AbbreviatedTextStaysValidUtf8) {
  Timeline t = Sample(1, 3);
  t.steps[0].label = "expect {message: \u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
                     "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9}";
  t.chains[0] = "\u30c1\u30a7\u30fc\u30f3\u30c1\u30a7\u30fc\u30f3\u30c1\u30a7\u30fc\u30f3\u30c1\u30a7";
  std::string html = RenderTimelineHtml(t);
  EXPECT_TRUE(ValidUtf8(html));
  EXPECT_GE(Count(html, "\u2026"), 2u);  // the rotated label and the chain name were cut
}

TEST(Timeline, EightChainsThreeHundredStepsStaysSmall) {
  Timeline t = Sample(8, 300);
  for (size_t i = 0; i < t.steps.size(); i += 17) {
    t.steps[i].marks.push_back({kKinds[i % std::size(kKinds)], i % 2 ? "chain3" : "", "mark at " + std::to_string(i)});
  }
  std::string html = RenderTimelineHtml(t);
  EXPECT_LT(html.size(), 2u * 1024 * 1024);
  EXPECT_EQ(Count(html, "<rect class=\"col\""), 300u);
}

// Every step's L1 head and finalized number is written in the L1 lane, however many steps: across
// wide columns, upright in thin ones (columns never get too thin for that; the picture scrolls).
TEST(Timeline, EveryL1NumberIsWrittenAtAnyNumberOfSteps) {
  for (size_t steps : {12, 60, 300}) {
    Timeline t = Sample(2, steps);
    for (size_t i = 0; i < steps; ++i) {
      t.steps[i].l1_head = 100000 + i;
      t.steps[i].l1_finalized = 90000 + i;
    }
    const std::string html = RenderTimelineHtml(t);
    for (size_t i = 0; i < steps; ++i) {
      // In the lane (upright or across), the column's tooltip and the table.
      EXPECT_GE(Count(html, std::to_string(100000 + i) + "</text>"), 1u) << steps << " steps, head of " << i;
      EXPECT_GE(Count(html, std::to_string(90000 + i) + "</text>"), 1u) << steps << " steps, finalized of " << i;
    }
    EXPECT_EQ(Count(html, "class=\"l1 up\"") + Count(html, "class=\"l1 changed up\""), steps > 37 ? steps : 0u) << steps;
  }
}

Timeline WithEdges() {
  Timeline t = Sample(3, 8);
  t.edges.push_back({2, 1, 3, 0, 2, EdgeFate::kCrossSafe, "chain1#3 log 0 executes chain0#2 log 0 (m1)"});
  t.edges.push_back({4, 2, 4, 2, 4, EdgeFate::kPending, "chain2#4 log 1 executes chain2#4 log 0"});
  t.edges.push_back({5, 0, 5, 1, 999, EdgeFate::kInvalid, "chain0#5 log 0 executes chain1#999 log 0"});
  t.edges.push_back({6, 1, 6, std::nullopt, 1, EdgeFate::kDropped, "chain1#6 log 0 executes chain 77#1 log 0"});
  return t;
}

TEST(Timeline, ExecutingMessagesAreEdgesWithTheirFate) {
  Timeline t = WithEdges();
  const std::string html = RenderTimelineHtml(t);
  EXPECT_EQ(Count(html, "<g class=\"edge\">"), 4u);
  for (const MessageEdge& e : t.edges) EXPECT_GE(Count(html, e.text), 2u) << e.text;  // tooltip and table
  EXPECT_EQ(Count(html, "<h2>Executing messages</h2>"), 1u);
  EXPECT_EQ(Count(html, "marker-end=\"url(#arrow"), 4u);
  EXPECT_EQ(Count(html, "stroke=\"#d40000\""), 2u + 1u);  // the invalid edge and its source dot; the legend
  EXPECT_EQ(Count(html, "fill=\"#fff\"/>"), 1u);                   // block 999 is beyond chain1's plot
  EXPECT_EQ(Count(html, "l6 6m0 -6l-6 6"), 1u);                    // chain 77 is outside the set: a cross
  EXPECT_EQ(Count(html, "message, invalid: its block was replaced"), 1u);
  t.edges_left_out = 7;
  EXPECT_EQ(Count(RenderTimelineHtml(t), "7 more executing messages"), 1u);
  EXPECT_EQ(Count(RenderTimelineHtml(Sample(3, 8)), "class=\"edge\""), 0u);  // none: no legend, no table
  EXPECT_EQ(Count(RenderTimelineHtml(Sample(3, 8)), "Executing messages"), 0u);
}

}  // namespace
}  // namespace supersafe::sim
