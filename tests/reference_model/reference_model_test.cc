// Tests of the reference model (sim/reference_model.h, docs/reference-model.md): one small
// hand-built world per case, exact expected heads for every chain.
#include "sim/reference_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/messages.h"
#include "core/types.h"

namespace supersafe::sim {
namespace {

const Address kOrigin = Address::Parse("0x4242424242424242424242424242424242424242").value();

// A plain log whose payload is the 32 bytes keccak256(name), as the scenario format's `init`.
Log InitLog(const std::string& name, const Address& origin = kOrigin) {
  Log log;
  log.address = origin;
  Hash h = Keccak256(name);
  log.data.assign(h.bytes.begin(), h.bytes.end());
  return log;
}

// Builds a world chain by chain. Block n of a chain has timestamp genesis + n * block_time;
// hashes and parent hashes are filled in by Snapshot().
class WorldBuilder {
 public:
  // Adds a chain with blocks 0..head, all empty, local-safe at block 0 only (the genesis group).
  size_t Chain(const std::string& name, ChainID id, uint64_t head, uint64_t genesis = 1000,
               uint64_t block_time = 2, uint64_t interop_time = 0) {
    SnapshotChain c;
    c.name = name;
    c.id = std::move(id);
    c.genesis_time = genesis;
    c.block_time = block_time;
    c.interop_time = interop_time;
    for (uint64_t n = 0; n <= head; ++n) {
      SnapshotBlock b;
      b.number = n;
      b.timestamp = genesis + n * block_time;
      c.blocks.push_back(b);
    }
    c.local_safe_at = {0};
    world_.chains.push_back(std::move(c));
    return world_.chains.size() - 1;
  }
  size_t Chain(const std::string& name, uint64_t id, uint64_t head, uint64_t genesis = 1000,
               uint64_t block_time = 2, uint64_t interop_time = 0) {
    return Chain(name, ChainID(id), head, genesis, block_time, interop_time);
  }

  // Appends a log to block n of chain c; returns its log index.
  uint32_t Add(size_t c, uint64_t n, Log log) {
    auto& logs = world_.chains[c].blocks[n].logs;
    logs.push_back(std::move(log));
    return static_cast<uint32_t>(logs.size() - 1);
  }

  uint64_t Head(size_t c) const { return world_.chains[c].blocks.size() - 1; }
  uint64_t Time(size_t c, uint64_t n) const { return world_.chains[c].blocks[n].timestamp; }

  // The identifier of the log at (c, n, i), with `origin`.
  Identifier Id(size_t c, uint64_t n, uint32_t i, const Address& origin = kOrigin) const {
    Identifier id;
    id.origin = origin;
    id.block_number = n;
    id.log_index = i;
    id.timestamp = world_.chains[c].genesis_time + n * world_.chains[c].block_time;
    id.chain_id = world_.chains[c].id;
    return id;
  }
  // An executing message of `target`, claimed to sit at (c, n, i) (it need not be there yet).
  static Log ExecOf(const Identifier& id, const Log& target) {
    return MakeExecutingMessageLog(ExecutingMessage{id, PayloadHashOf(target)});
  }
  Log ExecAt(size_t c, uint64_t n, uint32_t i, const Log& target) const {
    return ExecOf(Id(c, n, i, target.address), target);
  }
  // An executing message of the log that is now at (c, n, i).
  Log Exec(size_t c, uint64_t n, uint32_t i) const {
    return ExecAt(c, n, i, world_.chains[c].blocks[n].logs.at(i));
  }

  // Cuts chain c back to block `head`, or appends empty blocks up to it.
  void Resize(size_t c, uint64_t head) {
    SnapshotChain& chain = world_.chains[c];
    chain.blocks.resize(std::min<size_t>(chain.blocks.size(), head + 1));
    for (uint64_t n = chain.blocks.size(); n <= head; ++n) {
      SnapshotBlock b;
      b.number = n;
      b.timestamp = chain.genesis_time + n * chain.block_time;
      chain.blocks.push_back(b);
    }
  }

  void LocalSafe(size_t c, std::vector<uint64_t> local_safe_at) {
    world_.chains[c].local_safe_at = std::move(local_safe_at);
  }
  void Replaced(size_t c, uint64_t n) { world_.chains[c].blocks[n].deposit_only_replacement = true; }
  void Finalized(uint64_t l1) { world_.l1_finalized = l1; }
  void Expiry(uint64_t seconds) { world_.expiry_window = seconds; }

  // Hashes commit to the block's contents and parent (as in the simulator), so that the same
  // builder can feed an incremental ReferenceModel across changes.
  WorldSnapshot Snapshot() const {
    WorldSnapshot w = world_;
    for (SnapshotChain& c : w.chains) {
      for (SnapshotBlock& b : c.blocks) {
        if (b.number > 0) b.parent_hash = c.blocks[b.number - 1].hash;
        std::string preimage = c.name + "/" + std::to_string(b.number) +
                               (b.deposit_only_replacement ? "/deposit-only/" : "/") + b.parent_hash.Hex();
        for (const Log& log : b.logs) preimage += "/" + LogHashOf(log).Hex();
        b.hash = Keccak256(preimage);
      }
    }
    return w;
  }

  // The model kept across this builder's snapshots, as the runner keeps one across steps.
  ReferenceModel& incremental() const { return incremental_; }

 private:
  WorldSnapshot world_;
  mutable ReferenceModel incremental_;
};

// "u6 cu6 v2 ls4 cs4 f2 inv[]": every field at once, so a failure shows the whole picture.
std::string Show(const ExpectedHeads& h) {
  std::string s = "u" + std::to_string(h.unsafe) + " cu" + std::to_string(h.cross_unsafe) + " v" +
                  std::to_string(h.view) + " ls" + std::to_string(h.local_safe) + " cs" +
                  std::to_string(h.cross_safe) + " f" + std::to_string(h.finalized) + " inv[";
  for (size_t i = 0; i < h.invalid.size(); ++i) s += (i ? "," : "") + std::to_string(h.invalid[i]);
  return s + "]";
}

std::vector<std::string> Shown(const Expected& e) {
  std::vector<std::string> out;
  for (const ExpectedHeads& h : e.chains) out.push_back(Show(h));
  return out;
}

// The heads from scratch; the builder's incremental model must agree.
std::vector<std::string> HeadsOf(const WorldBuilder& b) {
  const WorldSnapshot snapshot = b.Snapshot();
  std::vector<std::string> out = Shown(ComputeExpected(snapshot));
  EXPECT_EQ(Shown(b.incremental().Compute(snapshot)), out) << "the incremental model differs";
  return out;
}

using Heads = std::vector<std::string>;

TEST(ReferenceModel, NoChainsNoHeads) {
  EXPECT_TRUE(ComputeExpected(WorldSnapshot{}).chains.empty());
}

TEST(ReferenceModel, HappyPathWithoutMessages) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 6);
  size_t b = w.Chain("B", 901, 5);
  w.LocalSafe(a, {0, 2, 4});
  w.LocalSafe(b, {0, 1, 3, 5});  // derived one L1 block further than A: the view is A's
  w.Finalized(1);
  EXPECT_EQ(HeadsOf(w), (Heads{"u6 cu6 v2 ls4 cs4 f2 inv[]", "u5 cu5 v2 ls3 cs3 f1 inv[]"}));
}

TEST(ReferenceModel, ValidMessageIsCrossSafeOnlyWhenSourceIsLocalSafeInTheSameView) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 3);
  size_t b = w.Chain("B", 901, 3);
  w.Add(a, 1, InitLog("m1"));
  w.Add(b, 2, w.Exec(a, 1, 0));

  // View 1: B's block 2 is derived, A's block 1 (its source) is not: B waits at 1.
  w.LocalSafe(a, {0, 0});
  w.LocalSafe(b, {0, 2});
  EXPECT_EQ(HeadsOf(w), (Heads{"u3 cu3 v1 ls0 cs0 f0 inv[]", "u3 cu3 v1 ls2 cs1 f0 inv[]"}));

  // A derives its block 1 at L1 2, but B has not reported L1 2: still view 1.
  w.LocalSafe(a, {0, 0, 1});
  EXPECT_EQ(HeadsOf(w), (Heads{"u3 cu3 v1 ls0 cs0 f0 inv[]", "u3 cu3 v1 ls2 cs1 f0 inv[]"}));

  // View 2: both are local-safe; L1 1 is final, where B's block 2 still waited.
  w.LocalSafe(b, {0, 2, 2});
  w.Finalized(1);
  EXPECT_EQ(HeadsOf(w), (Heads{"u3 cu3 v2 ls1 cs1 f0 inv[]", "u3 cu3 v2 ls2 cs2 f1 inv[]"}));
}

TEST(ReferenceModel, SameChainMessageIsValid) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 3);
  w.Add(a, 1, InitLog("m1"));
  w.Add(a, 3, w.Exec(a, 1, 0));
  w.LocalSafe(a, {0, 3});
  EXPECT_EQ(HeadsOf(w), (Heads{"u3 cu3 v1 ls3 cs3 f0 inv[]"}));
}

TEST(ReferenceModel, WaitsForUnderivedAndUnknownSources) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 3);
  size_t b = w.Chain("B", 901, 10);
  size_t c = w.Chain("C", 902, 4);
  w.Add(a, 2, InitLog("a"));
  w.Add(b, 3, w.Exec(a, 2, 0));
  w.Add(b, 3, InitLog("b"));
  w.Add(c, 4, w.Exec(b, 3, 1));  // waits on B's block 3, which waits on A's block 2
  // B's block 9 executes a log of A's block 9, which A has not even built: unknown at every level.
  w.Add(b, 9, WorldBuilder::ExecOf(w.Id(a, 9, 0), InitLog("future")));
  w.LocalSafe(a, {0, 1});
  w.LocalSafe(b, {0, 3});
  w.LocalSafe(c, {0, 4});
  EXPECT_EQ(HeadsOf(w), (Heads{"u3 cu3 v1 ls1 cs1 f0 inv[]",  //
                           "u10 cu8 v1 ls3 cs2 f0 inv[]",  //
                           "u4 cu4 v1 ls4 cs3 f0 inv[]"}));

  // A derives block 2: the whole chain of waits resolves in one view.
  w.LocalSafe(a, {0, 1, 2});
  w.LocalSafe(b, {0, 3, 3});
  w.LocalSafe(c, {0, 4, 4});
  EXPECT_EQ(HeadsOf(w), (Heads{"u3 cu3 v2 ls2 cs2 f0 inv[]",  //
                           "u10 cu8 v2 ls3 cs3 f0 inv[]",  //
                           "u4 cu4 v2 ls4 cs4 f0 inv[]"}));
}

TEST(ReferenceModel, ExpiryWindowIsInclusive) {
  for (uint64_t exec_block : {6u, 7u}) {
    SCOPED_TRACE("executing block " + std::to_string(exec_block));
    WorldBuilder w;
    w.Expiry(10);
    size_t a = w.Chain("A", 900, 1);
    size_t b = w.Chain("B", 901, 8);
    w.Add(a, 1, InitLog("m1"));             // timestamp 1002
    w.Add(b, exec_block, w.Exec(a, 1, 0));  // 1012 = 1002 + 10 (valid) or 1014 (expired)
    w.LocalSafe(a, {0, 1});
    w.LocalSafe(b, {0, 8});
    if (exec_block == 6)
      EXPECT_EQ(HeadsOf(w), (Heads{"u1 cu1 v1 ls1 cs1 f0 inv[]", "u8 cu8 v1 ls8 cs8 f0 inv[]"}));
    else
      EXPECT_EQ(HeadsOf(w), (Heads{"u1 cu1 v1 ls1 cs1 f0 inv[]", "u8 cu6 v1 ls7 cs6 f0 inv[7]"}));
  }
}

TEST(ReferenceModel, DefaultExpiryWindowIs604800) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 1, /*genesis=*/1000, /*block_time=*/302400);
  size_t b = w.Chain("B", 901, 4, /*genesis=*/1000, /*block_time=*/302400);
  w.Add(a, 1, InitLog("m1"));     // 1000 + 302400
  w.Add(b, 3, w.Exec(a, 1, 0));   // exactly 604800 later: valid
  w.Add(b, 4, w.Exec(a, 1, 0));   // 907200 later: expired
  w.LocalSafe(a, {0, 1});
  w.LocalSafe(b, {0, 4});
  EXPECT_EQ(HeadsOf(w), (Heads{"u1 cu1 v1 ls1 cs1 f0 inv[]", "u4 cu3 v1 ls4 cs3 f0 inv[4]"}));
}

TEST(ReferenceModel, TwoWayExchangeAtOneTimestampIsPromotedTogether) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 2);
  size_t b = w.Chain("B", 901, 2);
  w.Add(a, 1, InitLog("a"));
  w.Add(b, 1, InitLog("b"));
  w.Add(a, 1, w.Exec(b, 1, 0));  // A: [init a, exec b]
  w.Add(b, 1, w.Exec(a, 1, 0));  // B: [init b, exec a]: no log-level cycle

  // Only A's half is local-safe: neither goes up.
  w.LocalSafe(a, {0, 2});
  w.LocalSafe(b, {0, 0});
  EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu2 v1 ls2 cs0 f0 inv[]", "u2 cu2 v1 ls0 cs0 f0 inv[]"}));

  // Both halves local-safe in view 2: both go up together.
  w.LocalSafe(a, {0, 2, 2});
  w.LocalSafe(b, {0, 0, 2});
  w.Finalized(1);
  EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu2 v2 ls2 cs2 f0 inv[]", "u2 cu2 v2 ls2 cs2 f0 inv[]"}));
}

TEST(ReferenceModel, TwoWayExchangeAcrossDifferentBlockTimes) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 3, 1000, 2);  // block 3 at 1006
  size_t b = w.Chain("B", 901, 2, 1000, 3);  // block 2 at 1006
  w.Add(a, 3, InitLog("a"));
  w.Add(b, 2, InitLog("b"));
  w.Add(a, 3, w.Exec(b, 2, 0));
  w.Add(b, 2, w.Exec(a, 3, 0));
  w.LocalSafe(a, {0, 3});
  w.LocalSafe(b, {0, 2});
  EXPECT_EQ(HeadsOf(w), (Heads{"u3 cu3 v1 ls3 cs3 f0 inv[]", "u2 cu2 v1 ls2 cs2 f0 inv[]"}));
}

TEST(ReferenceModel, CycleThroughPlainLogsOfTwoBlocksIsInvalid) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 2);
  size_t b = w.Chain("B", 901, 1);
  // A: [exec B.1, init a]; B: [exec A.1, init b]. Edges: A0->A1->B0->B1->A0.
  w.Add(a, 1, w.ExecAt(b, 1, 1, InitLog("b")));
  w.Add(a, 1, InitLog("a"));
  w.Add(b, 1, w.ExecAt(a, 1, 1, InitLog("a")));
  w.Add(b, 1, InitLog("b"));
  w.LocalSafe(a, {0, 2});
  w.LocalSafe(b, {0, 1});
  EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu0 v1 ls1 cs0 f0 inv[1]", "u1 cu0 v1 ls1 cs0 f0 inv[1]"}));

  // Before B's block is local-safe, A's block waits (the cycle is not known at that level).
  w.LocalSafe(b, {0, 0});
  EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu0 v1 ls2 cs0 f0 inv[]", "u1 cu0 v1 ls0 cs0 f0 inv[]"}));
}

TEST(ReferenceModel, ForwardReferenceInsideOneBlockIsInvalid) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 1);
  size_t b = w.Chain("B", 901, 1);
  w.Add(a, 1, w.ExecAt(a, 1, 1, InitLog("a")));  // A: [exec of log 1, init a]: cycle
  w.Add(a, 1, InitLog("a"));
  w.Add(b, 1, InitLog("b"));                      // B: [init b, exec of log 0]: fine
  w.Add(b, 1, w.Exec(b, 1, 0));
  w.LocalSafe(a, {0, 1});
  w.LocalSafe(b, {0, 1});
  EXPECT_EQ(HeadsOf(w), (Heads{"u1 cu0 v1 ls1 cs0 f0 inv[1]", "u1 cu1 v1 ls1 cs1 f0 inv[]"}));
}

TEST(ReferenceModel, SameTimestampSetGoesUpTogetherOrNotAtAll) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 1);
  size_t b = w.Chain("B", 901, 1);
  size_t c = w.Chain("C", 902, 1);
  size_t d = w.Chain("D", 903, 1);
  // A is referenced by the invalid B, and references nothing: it goes up on its own.
  w.Add(a, 1, InitLog("a"));
  w.Add(b, 1, w.Exec(a, 1, 0));
  w.Add(b, 1, WorldBuilder::ExecOf(w.Id(a, 1, 0), InitLog("not-a")));  // wrong payload
  // C and D exchange at one timestamp; D also carries a bad message: both are invalid.
  w.Add(c, 1, InitLog("c"));
  w.Add(d, 1, InitLog("d"));
  w.Add(c, 1, w.Exec(d, 1, 0));
  w.Add(d, 1, w.Exec(c, 1, 0));
  w.Add(d, 1, WorldBuilder::ExecOf(w.Id(c, 1, 0), InitLog("not-c")));
  for (size_t x : {a, b, c, d}) w.LocalSafe(x, {0, 1});
  EXPECT_EQ(HeadsOf(w), (Heads{"u1 cu1 v1 ls1 cs1 f0 inv[]",  //
                           "u1 cu0 v1 ls1 cs0 f0 inv[1]",  //
                           "u1 cu0 v1 ls1 cs0 f0 inv[1]",  //
                           "u1 cu0 v1 ls1 cs0 f0 inv[1]"}));
}

TEST(ReferenceModel, MessagesThatDoNotMatchTheirLogAreInvalid) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 1);
  size_t b = w.Chain("B", 901, 7);
  const Log m1 = InitLog("m1");
  w.Add(a, 1, m1);
  Identifier id = w.Id(a, 1, 0);
  w.Add(b, 2, WorldBuilder::ExecOf(id, InitLog("m9")));  // wrong payload hash
  Identifier wrong_origin = id;
  wrong_origin.origin.bytes[0] ^= 1;
  w.Add(b, 3, WorldBuilder::ExecOf(wrong_origin, m1));  // log hash = keccak(origin ‖ payloadHash)
  Identifier no_such_log = id;
  no_such_log.log_index = 1;
  w.Add(b, 4, WorldBuilder::ExecOf(no_such_log, m1));
  Identifier wrong_time = id;
  wrong_time.timestamp = w.Time(a, 1) + 1;  // rule 6
  w.Add(b, 5, WorldBuilder::ExecOf(wrong_time, m1));
  w.Add(b, 6, w.Exec(a, 1, 0));  // the right one: not invalid in its own right
  Identifier future = w.Id(a, 1, 0);  // A's block 5 does not exist yet, but 1011 is never its time:
  future.block_number = 5;            // rule 6 makes this invalid at once instead of waiting
  future.timestamp = 1011;
  w.Add(b, 7, WorldBuilder::ExecOf(future, m1));
  w.LocalSafe(a, {0, 1});
  w.LocalSafe(b, {0, 7});
  EXPECT_EQ(HeadsOf(w), (Heads{"u1 cu1 v1 ls1 cs1 f0 inv[]", "u7 cu1 v1 ls2 cs1 f0 inv[2,3,4,5,7]"}));
}

TEST(ReferenceModel, UnknownChainIsInvalid) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 1);
  size_t b = w.Chain("B", 901, 3);
  w.Add(a, 1, InitLog("m1"));
  Identifier id = w.Id(a, 1, 0);
  id.chain_id = ChainID(uint64_t{999});
  w.Add(b, 2, WorldBuilder::ExecOf(id, InitLog("m1")));
  w.LocalSafe(a, {0, 1});
  w.LocalSafe(b, {0, 3});
  EXPECT_EQ(HeadsOf(w), (Heads{"u1 cu1 v1 ls1 cs1 f0 inv[]", "u3 cu1 v1 ls2 cs1 f0 inv[2]"}));
}

TEST(ReferenceModel, ChainIdsAbove64BitsAreNeverNarrowed) {
  const U256 two64 = U256(1) << 64;
  WorldBuilder w;
  size_t a = w.Chain("A", ChainID(two64 + 1), 1);  // low 64 bits: 1
  size_t b = w.Chain("B", ChainID(uint64_t{1}), 3);
  w.Add(a, 1, InitLog("m1"));
  // Valid only if 2^64+1 resolves to A (B's block 1, which has id 1, holds no logs).
  w.Add(b, 2, w.Exec(a, 1, 0));
  Identifier other = w.Id(a, 1, 0);
  other.chain_id = ChainID((two64 << 1) + 1);  // 2^65+1: low 64 bits 1 again, not in the set
  w.Add(b, 3, WorldBuilder::ExecOf(other, InitLog("m1")));
  w.LocalSafe(a, {0, 1});
  w.LocalSafe(b, {0, 3});
  EXPECT_EQ(HeadsOf(w), (Heads{"u1 cu1 v1 ls1 cs1 f0 inv[]", "u3 cu2 v1 ls3 cs2 f0 inv[3]"}));
}

TEST(ReferenceModel, InvalidityCascadesAcrossThreeChains) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 3);
  size_t b = w.Chain("B", 901, 4);
  size_t c = w.Chain("C", 902, 6);
  Identifier unknown = w.Id(a, 1, 0);
  unknown.chain_id = ChainID(uint64_t{12345});
  w.Add(a, 2, WorldBuilder::ExecOf(unknown, InitLog("x")));  // A2 invalid in its own right
  w.Add(a, 2, InitLog("a"));
  w.Add(a, 3, InitLog("a3"));       // a valid log, but in a block built on the invalid A2
  w.Add(b, 3, w.Exec(a, 2, 1));     // B3 references a log of the invalid A2
  w.Add(b, 3, InitLog("b"));
  w.Add(c, 4, w.Exec(b, 3, 1));     // C4 references a log of the (now) invalid B3
  w.Add(c, 5, w.Exec(a, 3, 0));     // C5 references a log of A3, above the invalid A2: not in the view
  w.Add(b, 4, InitLog("b4"));
  w.Add(c, 6, w.Exec(b, 4, 0));     // C6 references a log of B4, above the invalid B3: likewise
  w.LocalSafe(a, {0, 3});
  w.LocalSafe(b, {0, 4});
  w.LocalSafe(c, {0, 6});
  EXPECT_EQ(HeadsOf(w), (Heads{"u3 cu1 v1 ls2 cs1 f0 inv[2]",  //
                           "u4 cu2 v1 ls3 cs2 f0 inv[3]",  //
                           "u6 cu3 v1 ls4 cs3 f0 inv[4]"}));
}

// An identifier names a height, not a block hash: a message whose source lies above its chain's
// first invalid block waits, and is judged against whatever the chain derives at that height
// after the replacement (docs/reference-model.md, decision 7).
TEST(ReferenceModel, AMessageNamingABlockAboveAnInvalidOneWaitsForWhatIsDerivedThere) {
  for (const bool same_log : {true, false}) {
    SCOPED_TRACE(same_log ? "the same log again" : "another log");
    WorldBuilder w;
    size_t a = w.Chain("A", 900, 2);
    size_t c = w.Chain("C", 902, 3);
    Identifier unknown = w.Id(a, 1, 0);
    unknown.chain_id = ChainID(uint64_t{12345});
    w.Add(a, 1, WorldBuilder::ExecOf(unknown, InitLog("x")));  // A1 invalid
    w.Add(a, 2, InitLog("m"));                                  // A2: a plain log, in the same batch
    w.Add(c, 3, w.Exec(a, 2, 0));                               // C3 executes it
    w.LocalSafe(a, {0, 2});
    w.LocalSafe(c, {0, 3});
    EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu0 v1 ls1 cs0 f0 inv[1]", "u3 cu2 v1 ls3 cs2 f0 inv[]"}));

    // A1 is replaced in view 1 and A2 dropped: C3 still waits, on A's height 2.
    w.Resize(a, 1);
    w.Replaced(a, 1);
    w.LocalSafe(a, {0, 1});
    EXPECT_EQ(HeadsOf(w), (Heads{"u1 cu1 v1 ls1 cs1 f0 inv[]", "u3 cu2 v1 ls3 cs2 f0 inv[]"}));

    // A derives a new block 2 in view 2: the same log at the same index, or another one.
    w.Resize(a, 2);
    w.Add(a, 2, InitLog(same_log ? "m" : "n"));
    w.LocalSafe(a, {0, 1, 2});
    w.LocalSafe(c, {0, 3, 3});
    if (same_log) {
      EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu2 v2 ls2 cs2 f0 inv[]", "u3 cu3 v2 ls3 cs3 f0 inv[]"}));
    } else {
      EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu2 v2 ls2 cs2 f0 inv[]", "u3 cu2 v2 ls3 cs2 f0 inv[3]"}));
    }
  }
}

// after_replacement: rederive. A1 is replaced in view 1 and A2, the rest of its batch, is derived
// again on the replacement in the same view: the same logs at the same heights, a new hash. The
// rules do not change with the setting: the blocks derived again are in the view and judged
// afresh. C3 names A2's log: valid in view 1 itself. With an invalid message in A2 too, the block
// derived again is A's first invalid block, and C3, naming it, is invalid.
TEST(ReferenceModel, TheRestOfABatchDerivedAgainOnAReplacementIsJudgedInTheSameView) {
  for (const bool rest_invalid : {false, true}) {
    SCOPED_TRACE(rest_invalid ? "A2 invalid too" : "A2 valid");
    WorldBuilder w;
    size_t a = w.Chain("A", 900, 2);
    size_t c = w.Chain("C", 902, 3);
    Identifier unknown = w.Id(a, 1, 0);
    unknown.chain_id = ChainID(uint64_t{12345});
    w.Add(a, 1, WorldBuilder::ExecOf(unknown, InitLog("x")));  // A1 invalid
    w.Add(a, 2, InitLog("m"));
    if (rest_invalid) w.Add(a, 2, WorldBuilder::ExecOf(unknown, InitLog("y")));
    w.Add(c, 3, w.Exec(a, 2, 0));
    w.LocalSafe(a, {0, 2});
    w.LocalSafe(c, {0, 3});
    EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu0 v1 ls1 cs0 f0 inv[1" + std::string(rest_invalid ? ",2]" : "]"),
                                 "u3 cu2 v1 ls3 cs2 f0 inv[]"}));

    // A1 replaced, A2 derived again on it in view 1 (its hash changes with its parent's).
    w.Replaced(a, 1);
    if (rest_invalid) {
      EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu1 v1 ls2 cs1 f0 inv[2]", "u3 cu2 v1 ls3 cs2 f0 inv[3]"}));
    } else {
      EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu2 v1 ls2 cs2 f0 inv[]", "u3 cu3 v1 ls3 cs3 f0 inv[]"}));
    }
  }
}

// The view is judged timestamp by timestamp: X5 names S4, invalid in its own right, but S3 before
// it is invalid too (it names U2, invalid in its own right), so S4 is not in the view and X5
// waits. U1 waits on W1, which is not local-safe, so U2 is not reached by promotion either.
TEST(ReferenceModel, AnInvalidBlockFoundBelowTheOneAMessageNamesMakesTheMessageWait) {
  WorldBuilder w;
  size_t s = w.Chain("S", 900, 4);
  size_t u = w.Chain("U", 901, 2);
  size_t x = w.Chain("X", 902, 5);
  size_t wc = w.Chain("W", 903, 1);
  Identifier unknown = w.Id(s, 1, 0);
  unknown.chain_id = ChainID(uint64_t{12345});
  w.Add(wc, 1, InitLog("w"));
  w.Add(u, 1, w.Exec(wc, 1, 0));                              // waits: W1 is not local-safe
  w.Add(u, 2, WorldBuilder::ExecOf(unknown, InitLog("z")));   // U2 invalid in its own right
  w.Add(u, 2, InitLog("u2"));
  w.Add(s, 3, w.Exec(u, 2, 1));                               // S3 names U2: invalid
  w.Add(s, 4, WorldBuilder::ExecOf(unknown, InitLog("z")));   // S4 invalid in its own right
  w.Add(s, 4, InitLog("s4"));
  w.Add(x, 5, w.Exec(s, 4, 1));                               // X5 names S4, above S3: waits
  w.LocalSafe(s, {0, 4});
  w.LocalSafe(u, {0, 2});
  w.LocalSafe(x, {0, 5});
  w.LocalSafe(wc, {0, 0});
  EXPECT_EQ(HeadsOf(w), (Heads{"u4 cu2 v1 ls3 cs2 f0 inv[3,4]",  //
                           "u2 cu1 v1 ls2 cs0 f0 inv[2]",    //
                           "u5 cu4 v1 ls5 cs4 f0 inv[]",     //
                           "u1 cu1 v1 ls0 cs0 f0 inv[]"}));
}

TEST(ReferenceModel, ActivationBlockExecutesNothingAndInitiatesNothing) {
  WorldBuilder w;
  // A activates at block 2: the first with timestamp >= 1003 (interop_time between blocks).
  size_t a = w.Chain("A", 900, 3, 1000, 2, /*interop_time=*/1003);
  size_t b = w.Chain("B", 901, 3);
  size_t c = w.Chain("C", 902, 5);
  size_t d = w.Chain("D", 903, 2, 1000, 2, /*interop_time=*/1004);  // activation block 2
  size_t e = w.Chain("E", 904, 3, 1000, 2, /*interop_time=*/1005);  // activation block 3
  size_t f = w.Chain("F", 905, 4, 1000, 2, /*interop_time=*/1005);  // activation block 3
  w.Add(a, 2, InitLog("x"));       // in A's activation block: never a valid initiating message
  w.Add(a, 3, InitLog("y"));       // after it: fine
  w.Add(b, 1, InitLog("b"));
  w.Add(b, 3, w.Exec(a, 2, 0));    // invalid: source is A's activation block
  w.Add(c, 4, w.Exec(a, 3, 0));    // valid
  w.Add(c, 0, InitLog("genesis")); // block 0 is indexed without logs: this log is ignored,
  w.Add(a, 0, w.Exec(c, 0, 0));    // and so is this one (block 0 is never listed invalid)
  w.Add(c, 5, w.Exec(c, 0, 0));    // invalid
  w.Add(d, 1, w.Exec(b, 1, 0));    // invalid: before the activation block
  w.Add(d, 2, w.Exec(b, 1, 0));    // invalid: the activation block executes nothing
  w.Add(e, 3, w.Exec(b, 1, 0));    // invalid: the activation block (rounded up) executes nothing
  w.Add(f, 4, w.Exec(b, 1, 0));    // valid: after the activation block
  for (size_t x : {a, b, c, d, e, f}) w.LocalSafe(x, {0, w.Head(x)});
  EXPECT_EQ(HeadsOf(w), (Heads{"u3 cu3 v1 ls3 cs3 f0 inv[]",      //
                           "u3 cu2 v1 ls3 cs2 f0 inv[3]",     //
                           "u5 cu4 v1 ls5 cs4 f0 inv[5]",     //
                           "u2 cu0 v1 ls1 cs0 f0 inv[1,2]",   //
                           "u3 cu2 v1 ls3 cs2 f0 inv[3]",     //
                           "u4 cu4 v1 ls4 cs4 f0 inv[]"}));
}

TEST(ReferenceModel, FinalizedIsCrossSafeInTheFinalizedView) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 4);
  size_t b = w.Chain("B", 901, 3);
  w.Add(a, 2, InitLog("a"));
  w.Add(b, 2, w.Exec(a, 2, 0));
  w.LocalSafe(a, {0, 1, 1, 3, 4});  // A's block 2 derived at L1 3
  w.LocalSafe(b, {0, 1, 2, 3});     // B's block 2 derived at L1 2: waits in view 2
  w.Finalized(2);
  EXPECT_EQ(HeadsOf(w), (Heads{"u4 cu4 v3 ls3 cs3 f1 inv[]", "u3 cu3 v3 ls3 cs3 f1 inv[]"}));

  // A finalized L1 block past the view: finality is capped at the view.
  w.Finalized(10);
  EXPECT_EQ(HeadsOf(w), (Heads{"u4 cu4 v3 ls3 cs3 f3 inv[]", "u3 cu3 v3 ls3 cs3 f3 inv[]"}));
}

TEST(ReferenceModel, CrossUnsafeStopsAtAFailingBlockWithoutInvalidatingIt) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 4);
  size_t b = w.Chain("B", 901, 5);
  w.Add(b, 2, InitLog("b2"));
  w.Add(b, 3, WorldBuilder::ExecOf(w.Id(b, 2, 0), InitLog("wrong")));  // fails: wrong hash
  w.Add(b, 4, InitLog("b4"));
  w.Add(a, 2, w.Exec(b, 2, 0));  // fine
  w.Add(a, 4, w.Exec(b, 4, 0));  // depends on a block after B's failing one
  w.LocalSafe(a, {0, 3});
  w.LocalSafe(b, {0, 2});
  EXPECT_EQ(HeadsOf(w), (Heads{"u4 cu3 v1 ls3 cs3 f0 inv[]", "u5 cu2 v1 ls2 cs2 f0 inv[]"}));

  // Once B's block 3 is local-safe it is invalid, and local-safe stops there awaiting replacement.
  w.LocalSafe(a, {0, 3, 3});
  w.LocalSafe(b, {0, 2, 5});
  EXPECT_EQ(HeadsOf(w), (Heads{"u4 cu3 v2 ls3 cs3 f0 inv[]", "u5 cu2 v2 ls3 cs2 f0 inv[3]"}));
}

TEST(ReferenceModel, DepositOnlyReplacementIsValidAndHasNoLogs) {
  WorldBuilder w;
  size_t b = w.Chain("B", 901, 4);
  size_t c = w.Chain("C", 902, 4);
  w.Add(b, 3, InitLog("old"));  // a replacement has no logs: this one is ignored
  w.Add(b, 3, w.ExecAt(c, 9, 0, InitLog("nothing")));  // would be invalid if it counted
  w.Replaced(b, 3);
  w.Add(c, 4, w.Exec(b, 3, 0));  // the log of the block that was replaced: gone
  w.LocalSafe(b, {0, 4});
  w.LocalSafe(c, {0, 4});
  EXPECT_EQ(HeadsOf(w), (Heads{"u4 cu4 v1 ls4 cs4 f0 inv[]", "u4 cu3 v1 ls4 cs3 f0 inv[4]"}));
}

TEST(ReferenceModel, MalformedExecutingMessageIsInvalid) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 2);
  Log bad;
  bad.address = CrossL2InboxAddress();
  bad.topics = {ExecutingMessageTopic()};  // the payload hash topic is missing
  bad.data = EncodeIdentifier(w.Id(a, 1, 0));
  w.Add(a, 2, bad);
  Log plain = InitLog("not-an-exec", CrossL2InboxAddress());  // no event topic: a plain log
  w.Add(a, 1, plain);
  w.LocalSafe(a, {0, 2});
  EXPECT_EQ(HeadsOf(w), (Heads{"u2 cu1 v1 ls2 cs1 f0 inv[2]"}));
}

// An evolving world (blocks appended with random messages, chains cut and rebuilt, blocks replaced,
// views added and dropped, finality moving): after every change the incremental model must give
// exactly what a fresh computation gives.
TEST(ReferenceModel, IncrementalEqualsFromScratchOnAnEvolvingWorld) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
    WorldSnapshot w;
    w.expiry_window = 24;
    const uint64_t block_times[] = {2, 2, 1};
    for (uint64_t c = 0; c < 3; ++c) {
      SnapshotChain chain;
      chain.name = std::string(1, static_cast<char>('A' + c));
      chain.id = ChainID(900 + c);
      chain.genesis_time = 1000;
      chain.block_time = block_times[c];
      chain.interop_time = c == 1 ? 1004 : 1000;
      SnapshotBlock genesis;
      genesis.hash = Keccak256(chain.name + "/genesis");
      genesis.timestamp = 1000;
      chain.blocks.push_back(genesis);
      chain.local_safe_at = {0};
      w.chains.push_back(std::move(chain));
    }
    // The initiating log at (c, n, i) always has the same payload, so references survive rebuilds.
    auto init_at = [&](size_t c, uint64_t n, uint32_t i) { return InitLog(w.chains[c].name + std::to_string(n * 16 + i)); };
    uint64_t nonce = 0;
    auto rehash = [&](SnapshotChain& chain, SnapshotBlock& b) {
      b.parent_hash = chain.blocks[b.number - 1].hash;
      b.hash = Keccak256(chain.name + "/" + std::to_string(b.number) + "/" + std::to_string(++nonce));
    };
    auto append = [&](size_t c) {
      SnapshotChain& chain = w.chains[c];
      SnapshotBlock b;
      b.number = chain.blocks.size();
      b.timestamp = chain.genesis_time + b.number * chain.block_time;
      const uint64_t logs = pick(0, 3);
      for (uint32_t i = 0; i < logs; ++i) {
        if (pick(0, 9) < 6) {
          b.logs.push_back(init_at(c, b.number, i));
          continue;
        }
        const size_t s = pick(0, 2);
        const uint64_t t = b.timestamp + (pick(0, 9) == 0 ? 2 : 0) - std::min<uint64_t>(b.timestamp - 1000, 2 * pick(0, 4));
        const uint64_t sb = (t - 1000) / w.chains[s].block_time + (pick(0, 19) == 0 ? 1 : 0);
        const uint32_t si = static_cast<uint32_t>(pick(0, 3));
        Identifier id{kOrigin, sb, si, 1000 + sb * w.chains[s].block_time, w.chains[s].id};
        if (pick(0, 19) == 0) id.timestamp += 1;
        Log target = pick(0, 9) == 0 ? InitLog("wrong") : init_at(s, sb, si);
        b.logs.push_back(WorldBuilder::ExecOf(id, target));
      }
      chain.blocks.push_back(std::move(b));
      rehash(chain, chain.blocks.back());
    };
    auto clamp_views = [&](SnapshotChain& chain) {
      for (uint64_t& v : chain.local_safe_at) v = std::min<uint64_t>(v, chain.blocks.size() - 1);
    };
    ReferenceModel incremental;
    for (int step = 0; step < 400; ++step) {
      const size_t c = pick(0, 2);
      SnapshotChain& chain = w.chains[c];
      const uint64_t op = pick(0, 99);
      if (op < 50) {
        append(c);
      } else if (op < 58 && chain.blocks.size() > 2) {  // reorg: cut and rebuild
        const uint64_t keep = chain.blocks.size() - std::min<uint64_t>(pick(1, 3), chain.blocks.size() - 1);
        chain.blocks.resize(keep);
        clamp_views(chain);
        for (uint64_t k = pick(0, 3); k > 0; --k) append(c);
      } else if (op < 63 && chain.blocks.size() > 2) {  // a deposit-only replacement
        const uint64_t n = pick(1, chain.blocks.size() - 1);
        chain.blocks.resize(n + 1);
        chain.blocks[n].logs.clear();
        chain.blocks[n].deposit_only_replacement = true;
        rehash(chain, chain.blocks[n]);
        for (uint64_t& v : chain.local_safe_at) v = std::min<uint64_t>(v, n - 1);
        chain.local_safe_at.back() = n;
      } else if (op < 88) {  // a new view
        const uint64_t last = chain.local_safe_at.back();
        const uint64_t head = chain.blocks.size() - 1;
        chain.local_safe_at.push_back(pick(0, 9) == 0 ? pick(0, last) : pick(std::min(last, head), head));
      } else if (op < 93 && chain.local_safe_at.size() > 1) {  // an L1 reorg drops views
        chain.local_safe_at.resize(pick(1, chain.local_safe_at.size() - 1));
      } else {
        uint64_t views = UINT64_MAX;
        for (const SnapshotChain& x : w.chains) views = std::min<uint64_t>(views, x.local_safe_at.size() - 1);
        w.l1_finalized = pick(0, views);
      }
      ASSERT_EQ(Shown(incremental.Compute(w)), Shown(ComputeExpected(w))) << "seed " << seed << " step " << step;
    }
  }
}

TEST(ReferenceModelDeathTest, RejectsASnapshotWithLocalSafePastTheUnsafeChain) {
  WorldBuilder w;
  size_t a = w.Chain("A", 900, 2);
  w.LocalSafe(a, {0, 3});
  EXPECT_DEATH(ComputeExpected(w.Snapshot()), "not on the unsafe chain");
}

}  // namespace
}  // namespace supersafe::sim
