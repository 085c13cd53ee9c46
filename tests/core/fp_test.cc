// Fault-proof encodings and the super trace: InvalidState, the TransitionState byte layout (spelled
// out by hand), its strict decoder, and the claim rules of docs/fp-fixtures.md ("Claims"), each
// claim checked by decoding its preimage and comparing its parts with the inputs.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/crypto.h"
#include "core/fp.h"
#include "core/fp_trace.h"
#include "core/rlp.h"

namespace supersafe {
namespace {

Hash H(const std::string& s) { return Keccak256(s); }
Bytes Cat(Bytes a, ByteSpan b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(FaultProof, InvalidStateIsKeccakOfInvalid) {
  EXPECT_EQ(InvalidState().Hex(), "0xffd7db0f9d5cdeb49c4c9eba649d4dc6d852d64671e65488e57f58584992ac68");
  EXPECT_EQ(Keccak256(kInvalidStatePreimage), InvalidState());
}

TEST(FaultProof, TransitionStateLayoutByHand) {
  SuperV1 super{1002, {{ChainID(900), H("out900")}}};
  const Bytes super_bytes = EncodeSuperV1(super);
  ASSERT_EQ(super_bytes.size(), 73u);
  TransitionState st{super_bytes, {{H("block"), H("output")}}, 1};
  // 0xff ‖ list(146) [ string(73), list(68) [ list(66) [ string(32), string(32) ] ], 0x01 ]
  Bytes want{0xff, 0xf8, 146, 0xb8, 73};
  want = Cat(want, super_bytes);
  want = Cat(want, Bytes{0xf8, 68, 0xf8, 66, 0xa0});
  want = Cat(want, H("block").span());
  want.push_back(0xa0);
  want = Cat(want, H("output").span());
  want.push_back(0x01);
  EXPECT_EQ(EncodeTransitionState(st), want);
  EXPECT_EQ(DecodeTransitionState(want).value(), st);
  // Step 0 is the empty string and step 128 takes a length byte; no pending progress is an empty list.
  TransitionState empty{super_bytes, {}, 0};
  Bytes enc = EncodeTransitionState(empty);
  EXPECT_EQ(Bytes(enc.end() - 2, enc.end()), (Bytes{0xc0, 0x80}));
  TransitionState at128{super_bytes, {}, 128};
  enc = EncodeTransitionState(at128);
  EXPECT_EQ(Bytes(enc.end() - 3, enc.end()), (Bytes{0xc0, 0x81, 0x80}));
  EXPECT_EQ(DecodeTransitionState(enc).value(), at128);
}

TEST(FaultProof, DecodeTransitionStateRejectsBadInput) {
  const Bytes super_bytes = EncodeSuperV1({1000, {{ChainID(1), H("o")}}});
  auto body = [&](std::vector<rlp::Item> items) {
    return Cat(Bytes{0xff}, rlp::Encode(rlp::Item::List(std::move(items))));
  };
  const rlp::Item sr = rlp::Item::String(super_bytes);
  const rlp::Item hash = rlp::Item::String(H("x").span());
  const rlp::Item short_hash = rlp::Item::String(ByteSpan(H("x").span()).subspan(0, 31));
  const std::pair<Bytes, std::string> cases[] = {
      {Bytes{}, "empty"},
      {Cat(Bytes{0x01}, super_bytes), "version byte 1"},
      {Bytes{0xff}, "input ends"},
      {Bytes{0xff, 0x81, 0x05}, "single byte"},
      {body({sr, rlp::Item::List({})}), "list of 3"},
      {body({rlp::Item::List({}), rlp::Item::List({}), rlp::Item::Uint(1)}), "superRoot is a list"},
      {body({sr, rlp::Item::String(Bytes{1}), rlp::Item::Uint(1)}), "pendingProgress is bytes"},
      {body({sr, rlp::Item::List({rlp::Item::List({hash})}), rlp::Item::Uint(1)}), "pendingProgress[0]"},
      {body({sr, rlp::Item::List({rlp::Item::List({hash, short_hash})}), rlp::Item::Uint(1)}), "32-byte"},
      {body({sr, rlp::Item::List({}), rlp::Item::String(Bytes{0, 1})}), "leading zero"},
      {body({sr, rlp::Item::List({}), rlp::Item::String(Bytes(9, 1))}), "exceeds 64 bits"},
      {Cat(body({sr, rlp::Item::List({}), rlp::Item::Uint(1)}), Bytes{0}), "after the item"},
  };
  for (const auto& [bytes, what] : cases) {
    Status s = DecodeTransitionState(bytes).status();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << what;
    EXPECT_NE(s.message().find(what), std::string::npos) << what << ": " << s.message();
  }
}

RC_GTEST_PROP(FaultProof, TransitionStateRoundTrip, (const Bytes& super_root, uint64_t step, uint8_t blocks)) {
  TransitionState st{super_root, {}, step};
  for (uint8_t i = 0; i < blocks % 8; ++i) st.pending_progress.push_back({H("b" + std::to_string(i)), H("o" + std::to_string(i))});
  auto back = DecodeTransitionState(EncodeTransitionState(st));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == st);
}

// ---------------------------------------------------------------------------------------------
// The claim rules.

TEST(SuperTrace, PointAtBoundaries) {
  const uint64_t S = 128, pre = 1000, post = 1003;
  auto at = [&](uint64_t idx) { return PointAt(idx, pre, post, S).value(); };
  EXPECT_EQ(at(0), (TracePoint{1000, 1}));            // traceIdx = pos + 1
  EXPECT_EQ(at(S - 2), (TracePoint{1000, S - 1}));    // consolidation step of the first timestamp
  EXPECT_EQ(at(S - 1), (TracePoint{1001, 0}));        // the next super root
  EXPECT_EQ(at(S), (TracePoint{1001, 1}));
  EXPECT_EQ(at(3 * S - 2), (TracePoint{1002, S - 1}));
  EXPECT_EQ(at(3 * S - 1), (TracePoint{1003, 0}));    // the poststate
  EXPECT_EQ(at(3 * S), (TracePoint{1003, 0}));        // trace extension
  EXPECT_EQ(at(UINT64_MAX - 1), (TracePoint{1003, 0}));
  EXPECT_FALSE(PointAt(UINT64_MAX, pre, post, S).ok());
  EXPECT_FALSE(PointAt(0, pre, post, 0).ok());
  EXPECT_FALSE(PointAt(0, post, post, S).ok());
  // A poststate near 2^64 does not overflow.
  EXPECT_EQ(PointAt(UINT64_MAX - 1, UINT64_MAX - 2, UINT64_MAX, S).value(), (TracePoint{UINT64_MAX, 0}));
}

RC_GTEST_PROP(SuperTrace, PointAtInvertsTheIndex, (uint64_t idx, uint16_t span, uint16_t steps)) {
  const uint64_t S = steps % 2048 + 2, pre = 1000, post = pre + span % 64 + 1;
  const TracePoint p = PointAt(idx, pre, post, S).value();
  if (idx != UINT64_MAX && (idx + 1) / S < post - pre) {
    RC_ASSERT(p.timestamp < post);
    RC_ASSERT((p.timestamp - pre) * S + p.step == idx + 1);
  } else {
    RC_ASSERT(p == (TracePoint{post, 0}));
  }
}

TEST(SuperTrace, TargetBlockNumber) {
  RollupTiming t{1000, 5, 2};
  EXPECT_EQ(TargetBlockNumber(t, 1000).value(), 5u);
  EXPECT_EQ(TargetBlockNumber(t, 1001).value(), 5u);
  EXPECT_EQ(TargetBlockNumber(t, 1002).value(), 6u);
  EXPECT_FALSE(TargetBlockNumber(t, 999).ok());
  EXPECT_FALSE(TargetBlockNumber({1000, 0, 0}, 1000).ok());
  // A block number past 2^64-1 is an error, not a wrapped-around small one.
  EXPECT_EQ(TargetBlockNumber({0, UINT64_MAX - 1, 1}, 1).value(), UINT64_MAX);
  EXPECT_FALSE(TargetBlockNumber({0, UINT64_MAX - 1, 1}, 2).ok());
  EXPECT_FALSE(TargetBlockNumber({0, 2, 1}, UINT64_MAX).ok());
}

// Two chains (900, 901), block time 2 from 1000; the answer at each timestamp has the block of
// that timestamp's output. At 1002 chain 901's pending output differs from its canonical one.
class SuperTraceTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kS = 8;
  static Bytes Preimage(const std::string& block) { return OutputV0Preimage(H("state" + block), H("mp" + block), H(block)); }
  static SuperRootAnswer Answer(uint64_t t, uint64_t derived_from, const std::string& pending901) {
    SuperRootAnswer a;
    a.cross_safe_derived_from = derived_from;
    a.super.timestamp = t;
    const uint64_t n = (t - 1000) / 2;
    for (uint64_t id : {900, 901}) {
      const std::string block = std::to_string(id) + "#" + std::to_string(n);
      a.super.chains.push_back({ChainID(id), OutputRoot(Preimage(block)).value()});
      a.pending.push_back(id == 901 && !pending901.empty() ? Preimage(pending901) : Preimage(block));
    }
    return a;
  }
  SuperTraceInputs Inputs() const {
    SuperTraceInputs in;
    in.prestate_timestamp = 1000;
    in.poststate_timestamp = 1003;
    in.steps_per_timestamp = kS;
    in.l1_head_number = 5;
    for (uint64_t t = 1000; t <= 1004; ++t) in.roots[t] = Answer(t, t - 998, t == 1002 ? "invalid 901#1" : "");
    in.rollup[ChainID(900)] = {1000, 0, 2};
    in.rollup[ChainID(901)] = {1000, 0, 2};
    in.safe_at_l1_head = {{ChainID(900), 2}, {ChainID(901), 2}};
    return in;
  }
  // The trace index of (t, step): traceIdx = index + 1 = (t - prestate) * S + step.
  static uint64_t Index(uint64_t t, uint64_t step) { return (t - 1000) * kS + step - 1; }
  static void ExpectInvalid(const Claim& c) {
    EXPECT_EQ(c.preimage, Bytes(kInvalidStatePreimage.begin(), kInvalidStatePreimage.end()));
    EXPECT_EQ(c.claim, InvalidState());
  }
  // Decodes a TransitionState claim and checks it against the answers at T and T+1.
  static void ExpectTransition(const SuperTraceInputs& in, const Claim& c, size_t chains) {
    ASSERT_EQ(c.claim, Keccak256(c.preimage));
    auto st = DecodeTransitionState(c.preimage);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_EQ(st->step, c.point.step);
    auto prev = DecodeSuperV1(st->super_root, kS - 1);
    ASSERT_TRUE(prev.ok());
    EXPECT_EQ(*prev, in.roots.at(c.point.timestamp)->super);
    const SuperRootAnswer& next = *in.roots.at(c.point.timestamp + 1);
    ASSERT_EQ(st->pending_progress.size(), chains);
    for (size_t i = 0; i < chains; ++i) {
      EXPECT_EQ(st->pending_progress[i].block_hash, Hash::FromSpan(ByteSpan(next.pending[i]).subspan(96)));
      EXPECT_EQ(st->pending_progress[i].output_root, Keccak256(next.pending[i]));
    }
  }
};

TEST_F(SuperTraceTest, StepZeroIsTheSuperRoot) {
  const SuperTraceInputs in = Inputs();
  for (uint64_t t = 1001; t <= 1003; ++t) {
    Claim c = ClaimAt(in, Index(t, 0)).value();
    EXPECT_EQ(c.point, (TracePoint{t, 0}));
    EXPECT_EQ(c.preimage, EncodeSuperV1(in.roots.at(t)->super));
    EXPECT_EQ(c.claim, SuperRoot(in.roots.at(t)->super));
  }
}

TEST_F(SuperTraceTest, StepsDeriveOneChainEachThenPadThenConsolidate) {
  const SuperTraceInputs in = Inputs();
  for (uint64_t step = 1; step < kS; ++step) {
    Claim c = ClaimAt(in, Index(1001, step)).value();
    EXPECT_EQ(c.point, (TracePoint{1001, step}));
    ExpectTransition(in, c, std::min<uint64_t>(step, 2));
  }
  // The pending output of 901 at 1002 is the pre-replacement block's, not the canonical one.
  auto st = DecodeTransitionState(ClaimAt(in, Index(1001, 2)).value().preimage).value();
  EXPECT_EQ(st.pending_progress[1].block_hash, H("invalid 901#1"));
  EXPECT_NE(st.pending_progress[1].output_root, in.roots.at(1002)->super.chains[1].output_root);
  // Padding steps differ only in the step number, so their claims differ.
  EXPECT_NE(ClaimAt(in, Index(1001, 3)).value().claim, ClaimAt(in, Index(1001, 4)).value().claim);
}

TEST_F(SuperTraceTest, PoststateClaimRepeatsBeyondTheEnd) {
  const SuperTraceInputs in = Inputs();
  const Claim at_post = ClaimAt(in, Index(1003, 0)).value();
  EXPECT_EQ(at_post.point, (TracePoint{1003, 0}));
  EXPECT_EQ(at_post.claim, SuperRoot(in.roots.at(1003)->super));
  for (uint64_t idx : {3 * kS, 3 * kS + 1, uint64_t{1} << 40}) EXPECT_EQ(ClaimAt(in, idx).value().claim, at_post.claim);
}

TEST_F(SuperTraceTest, MissingOrUnsafeRootIsInvalidState) {
  SuperTraceInputs in = Inputs();
  in.roots[1001] = std::nullopt;  // no super root at 1001: every claim of 1001 is invalid
  for (uint64_t step = 0; step < kS; ++step) ExpectInvalid(ClaimAt(in, Index(1001, step)).value());
  in = Inputs();
  in.roots[1001]->cross_safe_derived_from = in.l1_head_number + 1;  // cross-safe only after the L1 head
  ExpectInvalid(ClaimAt(in, Index(1001, 1)).value());
  ExpectInvalid(ClaimAt(in, Index(1001, 0)).value());
  ExpectTransition(in, ClaimAt(in, Index(1000, 1)).value(), 1);  // 1000 -> 1001: T+1 has 900 and 901 safe at the L1 head
  in = Inputs();
  in.roots[1002] = std::nullopt;  // T+1 missing: steps of 1001 invalid, step 0 of 1001 still valid
  EXPECT_EQ(ClaimAt(in, Index(1001, 0)).value().claim, SuperRoot(in.roots.at(1001)->super));
  ExpectInvalid(ClaimAt(in, Index(1001, 1)).value());
  ExpectInvalid(ClaimAt(in, Index(1001, kS - 1)).value());
}

TEST_F(SuperTraceTest, NextRootAboveTheL1HeadChecksEachChainsLocalSafeHead) {
  SuperTraceInputs in = Inputs();
  in.roots[1002]->cross_safe_derived_from = in.l1_head_number + 1;
  in.safe_at_l1_head = {{ChainID(900), 1}, {ChainID(901), 0}};  // 900 has its block of 1002 (#1), 901 not
  ExpectTransition(in, ClaimAt(in, Index(1001, 1)).value(), 1);
  for (uint64_t step = 2; step < kS; ++step) ExpectInvalid(ClaimAt(in, Index(1001, step)).value());
  ExpectInvalid(ClaimAt(in, Index(1002, 0)).value());  // the super root at 1002 is above the L1 head
  in.safe_at_l1_head = {{ChainID(900), 1}, {ChainID(901), 1}};  // both local-safe: transitions stay valid
  for (uint64_t step = 1; step < kS; ++step) ExpectTransition(in, ClaimAt(in, Index(1001, step)).value(), std::min<uint64_t>(step, 2));
  in.safe_at_l1_head.erase(ChainID(901));
  EXPECT_NE(ClaimAt(in, Index(1001, 2)).status().message().find("no safe head"), std::string::npos);
}

TEST_F(SuperTraceTest, BadInputsAreErrors) {
  SuperTraceInputs in = Inputs();
  in.roots.erase(1002);
  EXPECT_NE(ClaimAt(in, Index(1001, 1)).status().message().find("no super root answer gathered for timestamp 1002"),
            std::string::npos);
  in = Inputs();
  in.roots[1002]->pending[0].resize(127);
  EXPECT_NE(ClaimAt(in, Index(1001, 1)).status().message().find("want 128 bytes"), std::string::npos);
  in = Inputs();
  in.roots[1002]->pending.pop_back();
  EXPECT_NE(ClaimAt(in, Index(1001, 1)).status().message().find("pending outputs for"), std::string::npos);
  in = Inputs();
  in.steps_per_timestamp = 2;  // two chains need at least 3 steps
  EXPECT_NE(ClaimAt(in, 0).status().message().find("exceed"), std::string::npos);
}

}  // namespace
}  // namespace supersafe
