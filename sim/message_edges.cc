#include "sim/message_edges.h"

#include <algorithm>

namespace supersafe::sim {

MessageEdgeRecorder::MessageEdgeRecorder(const World& world) : world_(&world) {
  for (size_t c = 0; c < world.chain_count(); ++c) seen_.push_back({world.chain(c).unsafe().at(0).ref.hash});
}

void MessageEdgeRecorder::AfterStep(size_t column, Timeline& timeline) {
  for (size_t c = 0; c < world_->chain_count(); ++c) {
    const L2Chain& chain = world_->chain(c);
    const std::vector<L2Block>& blocks = chain.unsafe();
    std::vector<Hash>& seen = seen_[c];
    // The highest height where the chain still holds the block seen there last time.
    size_t common = std::min(seen.size(), blocks.size()) - 1;
    while (common > 0 && blocks[common].ref.hash != seen[common]) --common;
    seen.resize(blocks.size());
    for (size_t n = common + 1; n < blocks.size(); ++n) {
      const L2Block& block = blocks[n];
      seen[n] = block.ref.hash;
      for (size_t i = 0; i < block.logs.size(); ++i) {
        auto decoded = DecodeExecutingMessage(block.logs[i]);
        if (!decoded.ok() || !decoded->has_value()) continue;
        if (timeline.edges.size() >= kMaxEdges) {
          ++timeline.edges_left_out;
          continue;
        }
        const ExecutingMessage& msg = **decoded;
        MessageEdge e;
        e.column = column;
        e.exec_chain = c;
        e.exec_block = n;
        e.source_block = msg.id.block_number;
        std::string source = "chain " + msg.id.chain_id.Decimal();
        for (size_t s = 0; s < world_->chain_count(); ++s)
          if (world_->chain(s).id() == msg.id.chain_id) e.source_chain = s, source = world_->chain(s).name();
        e.text = chain.name() + "#" + std::to_string(n) + " log " + std::to_string(i) + " executes " + source + "#" +
                 std::to_string(msg.id.block_number) + " log " + std::to_string(msg.id.log_index);
        for (const auto& [name, named] : world_->messages())
          if (named == msg) e.text += " (" + name + ")";
        timeline.edges.push_back(std::move(e));
        edge_blocks_.push_back(block.ref.hash);
      }
    }
  }
}

void MessageEdgeRecorder::SetFates(Timeline& timeline, const std::vector<uint64_t>& cross_safe) const {
  for (size_t k = 0; k < timeline.edges.size() && k < edge_blocks_.size(); ++k) {
    MessageEdge& e = timeline.edges[k];
    const std::vector<L2Block>& blocks = world_->chain(e.exec_chain).unsafe();
    const Hash& hash = edge_blocks_[k];
    if (e.exec_block < blocks.size() && blocks[e.exec_block].ref.hash == hash) {
      e.fate = e.exec_chain < cross_safe.size() && e.exec_block <= cross_safe[e.exec_chain] ? EdgeFate::kCrossSafe
                                                                                              : EdgeFate::kPending;
      continue;
    }
    const auto& replacements = world_->derivation(e.exec_chain).replacements();
    const bool replaced = std::any_of(replacements.begin(), replacements.end(),
                                      [&](const Replacement& r) { return r.original.hash == hash; });
    e.fate = replaced ? EdgeFate::kInvalid : EdgeFate::kDropped;
  }
}

}  // namespace supersafe::sim
