#include <gtest/gtest.h>

#include "core/crypto.h"
#include "core/messages.h"
#include "core/status.h"
#include "core/types.h"

namespace supersafe {
namespace {

TEST(Keccak, KnownVectors) {
  EXPECT_EQ(Keccak256("").Hex(), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  EXPECT_EQ(Keccak256("abc").Hex(), "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  // docs/fp-fixtures.md: InvalidState = keccak256("invalid").
  EXPECT_EQ(Keccak256("invalid").Hex(), "0xffd7db0f9d5cdeb49c4c9eba649d4dc6d852d64671e65488e57f58584992ac68");
}

TEST(Hex, HexU64IsAQuantityWithoutLeadingZeros) {
  EXPECT_EQ(HexU64(0), "0x0");
  EXPECT_EQ(HexU64(1002), "0x3ea");
  EXPECT_EQ(HexU64(0x100), "0x100");
  EXPECT_EQ(HexU64(UINT64_MAX), "0xffffffffffffffff");
}

TEST(Crc32c, CheckValue) {
  std::string s = "123456789";
  EXPECT_EQ(Crc32c(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size())), 0xE3069283u);
}

TEST(ChainID, ParsesDecimalAndHex) {
  EXPECT_EQ(ChainID::Parse("900")->Decimal(), "900");
  EXPECT_EQ(ChainID::Parse("0x384")->Decimal(), "900");
  EXPECT_EQ(ChainID::Parse("0x10000000000000001")->Decimal(), "18446744073709551617");
  auto max = ChainID::Parse("0x" + std::string(64, 'f'));
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->Decimal(), "115792089237316195423570985008687907853269984665640564039457584007913129639935");
  EXPECT_FALSE(max->FitsU64());
}

TEST(ChainID, RejectsBadInput) {
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x", "0xg", "12a",
                          "115792089237316195423570985008687907853269984665640564039457584007913129639936"}) {
    auto r = ChainID::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    }
  }
  EXPECT_FALSE(ChainID::Parse("0x1" + std::string(64, '0')).ok());
}

TEST(ChainID, Bytes32RoundTrip) {
  auto id = ChainID::Parse("0x10000000000000001").value();
  Hash b = id.ToBytes32();
  EXPECT_EQ(b.bytes[23], 1);
  EXPECT_EQ(b.bytes[31], 1);
  EXPECT_EQ(ChainID::FromBytes32(b), id);
  EXPECT_EQ(id.Low64(), 1u);
}

TEST(Hex, StrictFixedLength) {
  EXPECT_TRUE(Hash::Parse("0x" + std::string(64, 'a')).ok());
  EXPECT_FALSE(Hash::Parse("0x" + std::string(62, 'a')).ok());
  EXPECT_FALSE(Hash::Parse(std::string(64, 'a')).ok());
  EXPECT_FALSE(Address::Parse("0x" + std::string(39, 'a')).ok());
  auto r = Hash::Parse("0x12", "payloadHash");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("payloadHash"), std::string::npos);
}

TEST(ParseU64, Bounds) {
  EXPECT_EQ(ParseU64("0xffffffffffffffff").value(), UINT64_MAX);
  EXPECT_EQ(ParseU64("18446744073709551615").value(), UINT64_MAX);
  EXPECT_FALSE(ParseU64("18446744073709551616").ok());
  EXPECT_FALSE(ParseU64("0x10000000000000000").ok());
  EXPECT_FALSE(ParseU64("-3").ok());
}

TEST(Messages, LogHashIsKeccakOfOriginAndPayloadHash) {
  Log log;
  log.address = Address::Parse("0x4242424242424242424242424242424242424242").value();
  log.topics = {Keccak256("m1")};
  Hash payload_hash = PayloadHashOf(log);
  EXPECT_EQ(payload_hash, Keccak256(Keccak256("m1").span()));
  Bytes buf(log.address.bytes.begin(), log.address.bytes.end());
  buf.insert(buf.end(), payload_hash.bytes.begin(), payload_hash.bytes.end());
  EXPECT_EQ(LogHashOf(log), Keccak256(buf));
}

TEST(Messages, ExecutingMessageRoundTripWithWideChainID) {
  ExecutingMessage msg;
  msg.id.origin = Address::Parse("0x4242424242424242424242424242424242424242").value();
  msg.id.block_number = 7;
  msg.id.log_index = 3;
  msg.id.timestamp = 1014;
  msg.id.chain_id = ChainID::Parse("0x10000000000000001").value();
  msg.payload_hash = Keccak256("hello");
  Log log = MakeExecutingMessageLog(msg);
  EXPECT_EQ(log.address, CrossL2InboxAddress());
  EXPECT_EQ(log.data.size(), 160u);
  auto back = DecodeExecutingMessage(log);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ(**back, msg);
}

TEST(Messages, DecodeRejectsMalformedAndIgnoresOthers) {
  ExecutingMessage msg;
  msg.id.chain_id = ChainID(900);
  Log log = MakeExecutingMessageLog(msg);
  Log other = log;
  other.address.bytes[19] = 0x23;
  EXPECT_FALSE(DecodeExecutingMessage(other)->has_value());
  Log short_data = log;
  short_data.data.pop_back();
  EXPECT_FALSE(DecodeExecutingMessage(short_data).ok());
  Log wide_index = log;
  wide_index.data[64 + 27] = 1;  // logIndex word above 32 bits
  EXPECT_FALSE(DecodeExecutingMessage(wide_index).ok());
  Log three_topics = log;
  three_topics.topics.push_back(Hash{});
  EXPECT_FALSE(DecodeExecutingMessage(three_topics).ok());
}

TEST(BlockRef, SealAndIDKeepTheirFields) {
  BlockRef ref{Keccak256("b"), 7, Keccak256("parent"), 1014};
  EXPECT_EQ(ref.Seal(), (BlockSeal{Keccak256("b"), 7, 1014}));
  EXPECT_EQ(ref.Seal().ID(), ref.ID());
  EXPECT_EQ(ref.ID().ToString(), "#7 " + Keccak256("b").Hex().substr(0, 10));
}

TEST(Status, CodesMatchOpStack) {
  EXPECT_EQ(RpcErrorCode(Code::kFutureData), -321401);
  EXPECT_EQ(RpcErrorCode(Code::kConflictingData), -320600);
  EXPECT_EQ(RpcErrorCode(Code::kUnknownChain), -320501);
  EXPECT_EQ(RpcErrorCode(Code::kOutOfOrder), -320900);
  EXPECT_EQ(RpcErrorCode(Code::kAwaitingReplacementBlock), -320901);
  EXPECT_EQ(CodeFromName("FUTURE_DATA"), Code::kFutureData);
  Result<int> r = Status(Code::kFutureData, "later");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().ToString(), "FUTURE_DATA: later");
}

}  // namespace
}  // namespace supersafe
