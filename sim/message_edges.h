// The executing messages of the blocks each step adds to the chains, as edges of the timeline
// (sim/timeline.h): which block executes which, and at the end of the run what became of the
// executing block (cross-safe, still waiting, replaced as invalid, or gone from its chain).
#pragma once

#include <cstddef>
#include <vector>

#include "sim/timeline.h"
#include "sim/world.h"

namespace supersafe::sim {

class MessageEdgeRecorder {
 public:
  // A picture keeps at most this many edges; the others are only counted.
  static constexpr size_t kMaxEdges = 2000;

  explicit MessageEdgeRecorder(const World& world);

  // After the step drawn in timeline column `column`: an edge for every executing message of each
  // block the chains hold now and did not hold at the previous call (at the same height).
  void AfterStep(size_t column, Timeline& timeline);
  // At the end of the run: each edge's fate, `cross_safe` being each chain's cross-safe head.
  void SetFates(Timeline& timeline, const std::vector<uint64_t>& cross_safe) const;

 private:
  const World* world_;
  std::vector<std::vector<Hash>> seen_;  // per chain: its block hashes by height, as last seen
  std::vector<Hash> edge_blocks_;        // per edge kept: the executing block's hash
};

}  // namespace supersafe::sim
