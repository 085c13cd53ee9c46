// The timeline: a self-contained HTML picture of every chain's safety heads against L1 blocks,
// step by step, with reorgs, replacements and failures marked, and executing messages drawn as
// edges between blocks. Built by the scenario runner,
// rendered by RenderTimelineHtml; readable without a server (inline SVG, no scripts fetched).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace supersafe::sim {

struct ChainHeads {
  uint64_t unsafe = 0;
  uint64_t cross_unsafe = 0;
  uint64_t local_safe = 0;
  uint64_t cross_safe = 0;
  uint64_t finalized = 0;
};

enum class MarkKind { kL1Reorg, kUnsafeReorg, kReplacement, kRestart, kCrash, kFailure, kNote };

struct Mark {
  MarkKind kind = MarkKind::kNote;
  std::string chain;  // empty when it concerns no single chain
  std::string text;   // e.g. "L1 reorg depth 2 -> fork b", "B#3 replaced by deposit-only block"
};

// The world after one step of the scenario.
struct TimelineStep {
  size_t index = 0;            // 1-based step number in the file
  std::string label;           // the step as written, e.g. "reorg_l1 {depth: 2, fork: b}"
  uint64_t l1_head = 0;        // L1 head number after the step
  std::string l1_fork;         // fork label of the L1 head
  uint64_t l1_finalized = 0;
  std::vector<ChainHeads> heads;  // one per chain, chain-index order
  std::vector<Mark> marks;
};

// What became of an executing message's block by the end of the run.
enum class EdgeFate { kCrossSafe, kPending, kInvalid, kDropped };

// An executing message, drawn as an edge from the block holding the log it names to the block
// that executes it, in the column of the step that built the executing block.
struct MessageEdge {
  size_t column = 0;                   // index into Timeline::steps
  size_t exec_chain = 0;
  uint64_t exec_block = 0;
  std::optional<size_t> source_chain;  // nullopt: a chain outside the dependency set
  uint64_t source_block = 0;
  EdgeFate fate = EdgeFate::kPending;
  std::string text;                    // "B#2 log 0 executes A#1 log 0 (m1)"
};

struct Timeline {
  std::string scenario;
  std::string description;
  uint64_t seed = 0;
  std::vector<std::string> chains;  // chain names, chain-index order
  std::vector<TimelineStep> steps;
  std::vector<MessageEdge> edges;  // in the order the blocks were built
  size_t edges_left_out = 0;       // executing messages past the ones a picture keeps
  bool passed = true;
  std::string failure;  // the first failed expectation or invariant, if any
};

// A complete HTML document (UTF-8), deterministic: the same timeline gives the same bytes.
std::string RenderTimelineHtml(const Timeline& timeline);

}  // namespace supersafe::sim
