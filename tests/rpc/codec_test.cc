// The JSON codecs: every type round-trips, and every class of bad input is an INVALID_ARGUMENT
// whose message starts with the field's path.
#include <gtest/gtest.h>

#include "rpc/codec.h"

namespace supersafe::rpc {
namespace {

const std::string kHash = "0x" + std::string(64, 'a');
const std::string kAddr = "0x" + std::string(40, 'b');

Json J(const std::string& text) { return Json::parse(text); }

template <typename T>
void ExpectBad(const Result<T>& r, const std::string& field_prefix) {
  ASSERT_FALSE(r.ok()) << "accepted bad input for " << field_prefix;
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind(field_prefix, 0), 0u) << r.status().message();
}

TEST(Codec, HexU64AcceptsCanonicalHexOnly) {
  EXPECT_EQ(*DecodeHexU64("0x0", "f"), 0u);
  EXPECT_EQ(*DecodeHexU64("0x1f", "f"), 31u);
  EXPECT_EQ(*DecodeHexU64("0xFFFFFFFFFFFFFFFF", "f"), UINT64_MAX);
  for (const char* bad : {"", "0x", "1f", "0x01", "0x10000000000000000", "0xg", "-0x1", "0x 1"})
    ExpectBad(DecodeHexU64(bad, "params[1]"), "params[1]: ");
  ExpectBad(DecodeHexU64(J("31"), "params[1]"), "params[1]: want a string");
  ExpectBad(DecodeHexU64(J("null"), "params[1]"), "params[1]: want a string");
}

TEST(Codec, NumberAcceptsJsonIntegersAndHex) {
  EXPECT_EQ(*DecodeNumber(J("7"), "n"), 7u);
  EXPECT_EQ(*DecodeNumber(J("18446744073709551615"), "n"), UINT64_MAX);
  EXPECT_EQ(*DecodeNumber("0x7", "n"), 7u);
  ExpectBad(DecodeNumber(J("18446744073709551616"), "x.number"), "x.number: ");
  ExpectBad(DecodeNumber(J("-1"), "x.number"), "x.number: want a non-negative integer, got a negative number");
  ExpectBad(DecodeNumber(J("1.5"), "x.number"), "x.number: ");
  ExpectBad(DecodeNumber(J("true"), "x.number"), "x.number: ");
  ExpectBad(DecodeNumber("12", "x.number"), "x.number: want 0x-prefixed hex");
}

TEST(Codec, HashesAndAddressesNeedTheirExactLength) {
  EXPECT_EQ(DecodeHash(kHash, "h")->Hex(), kHash);
  EXPECT_EQ(DecodeHash("0x" + std::string(64, 'A'), "h")->Hex(), kHash.substr(0, 2) + std::string(64, 'a'));
  ExpectBad(DecodeHash("0x" + std::string(62, 'a'), "params[1]"), "params[1]: want 32 bytes, got 31");
  ExpectBad(DecodeHash("0x" + std::string(66, 'a'), "params[1]"), "params[1]: want 32 bytes, got 33");
  ExpectBad(DecodeHash("0x" + std::string(63, 'a'), "params[1]"), "params[1]");
  ExpectBad(DecodeHash(std::string(64, 'a'), "params[1]"), "params[1]: want 0x-prefixed hex");
  ExpectBad(DecodeHash("0x" + std::string(63, 'a') + "z", "params[1]"), "params[1]");
  ExpectBad(DecodeHash(J("[]"), "params[1]"), "params[1]: want a string, got array");
  EXPECT_EQ(DecodeAddress(kAddr, "a")->Hex(), kAddr);
  ExpectBad(DecodeAddress(kHash, "x.origin"), "x.origin: want 20 bytes, got 32");
}

TEST(Codec, ChainIDsAreDecimalOrHexStringsBelow2To256) {
  EXPECT_EQ(DecodeChainID("900", "c")->Decimal(), "900");
  EXPECT_EQ(DecodeChainID("0x384", "c")->Decimal(), "900");
  const std::string max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
  EXPECT_EQ(DecodeChainID(max, "c")->Decimal(), max);
  ExpectBad(DecodeChainID(max.substr(0, max.size() - 1) + "6", "params[0]"), "params[0]: chain ID: ");
  ExpectBad(DecodeChainID("0x1" + std::string(64, '0'), "params[0]"), "params[0]: chain ID: ");
  for (const char* bad : {"", "-1", " 1", "1a", "0x"}) ExpectBad(DecodeChainID(bad, "params[0]"), "params[0]: ");
  ExpectBad(DecodeChainID(J("900"), "params[0]"), "params[0]: want a string, got number");
}

TEST(Codec, BlockIDAndBlockRefRoundTripAndNameTheMissingField) {
  BlockRef ref{Hash::Parse(kHash).value(), 12, Hash::Parse("0x" + std::string(64, 'c')).value(), 1024};
  Json encoded = Encode(ref);
  EXPECT_TRUE(encoded["number"].is_number_unsigned());
  EXPECT_TRUE(encoded["timestamp"].is_number_unsigned());
  EXPECT_EQ(*DecodeBlockRef(encoded, "r"), ref);
  EXPECT_EQ(*DecodeBlockID(Encode(ref.ID()), "b"), ref.ID());
  Json hex_number = Encode(ref.ID());
  hex_number["number"] = "0xc";
  EXPECT_EQ(*DecodeBlockID(hex_number, "b"), ref.ID());

  Json no_number = Encode(ref.ID());
  no_number.erase("number");
  ExpectBad(DecodeBlockID(no_number, "params[1]"), "params[1].number: missing");
  Json no_parent = encoded;
  no_parent.erase("parentHash");
  ExpectBad(DecodeBlockRef(no_parent, "params[1]"), "params[1].parentHash: missing");
  Json short_hash = encoded;
  short_hash["hash"] = "0x12";
  ExpectBad(DecodeBlockRef(short_hash, "params[1]"), "params[1].hash: want 32 bytes");
  ExpectBad(DecodeBlockID(J("[1,2]"), "params[2]"), "params[2]: want an object, got array");
  Json extra = Encode(ref.ID());
  extra["unknownField"] = 1;
  EXPECT_TRUE(DecodeBlockID(extra, "b").ok());
}

TEST(Codec, IdentifierUsesHexU64FieldsAndA32BitLogIndex) {
  Identifier id{Address::Parse(kAddr).value(), 5, 3, 1010, ChainID(uint64_t{901})};
  Json encoded = Encode(id);
  EXPECT_EQ(encoded["blockNumber"], "0x5");
  EXPECT_EQ(encoded["logIndex"], "0x3");
  EXPECT_EQ(encoded["timestamp"], "0x3f2");
  EXPECT_EQ(encoded["chainID"], "901");
  EXPECT_EQ(*DecodeIdentifier(encoded, "i"), id);

  Json wide = encoded;
  wide["logIndex"] = "0x100000000";
  ExpectBad(DecodeIdentifier(wide, "params[0]"), "params[0].logIndex: exceeds 2^32-1");
  Json number = encoded;
  number["blockNumber"] = 5;
  ExpectBad(DecodeIdentifier(number, "params[0]"), "params[0].blockNumber: want a string");
  for (const char* field : {"origin", "blockNumber", "logIndex", "timestamp", "chainID"}) {
    Json missing = encoded;
    missing.erase(field);
    ExpectBad(DecodeIdentifier(missing, "params[0]"), std::string("params[0].") + field + ": missing");
  }
}

TEST(Codec, ExecutingDescriptorHasOptionalTimeoutAndChainID) {
  auto d = DecodeExecutingDescriptor(J(R"({"timestamp":"0x10"})"), "d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->timestamp, 16u);
  EXPECT_EQ(d->timeout, 0u);
  EXPECT_FALSE(d->chain_id.has_value());
  d = DecodeExecutingDescriptor(J(R"({"timestamp":"0x10","timeout":"0x2","chainID":"900"})"), "d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->timeout, 2u);
  EXPECT_EQ(d->chain_id->Decimal(), "900");
  ExpectBad(DecodeExecutingDescriptor(J(R"({"timeout":"0x2"})"), "params[2]"), "params[2].timestamp: missing");
  ExpectBad(DecodeExecutingDescriptor(J(R"({"timestamp":"0xffffffffffffffff","timeout":"0x1"})"), "params[2]"),
            "params[2].timeout: ");
  ExpectBad(DecodeExecutingDescriptor(J(R"({"timestamp":"0x1","chainID":7})"), "params[2]"), "params[2].chainID: ");
  // op-geth writes its uint256 chain ID as a decimal string, "0" when it has none: that is no chain.
  for (const char* zero : {R"("0")", R"("0x0")"}) {
    d = DecodeExecutingDescriptor(J(std::string(R"({"timestamp":"0x10","timeout":"0x0","chainID":)") + zero + "}"), "d");
    ASSERT_TRUE(d.ok()) << zero;
    EXPECT_FALSE(d->chain_id.has_value()) << zero;
  }
}

TEST(Codec, SafetyLevelsBoolsAndHashLists) {
  EXPECT_EQ(*DecodeSafetyLevel("cross-unsafe", "s"), SafetyLevel::kCrossUnsafe);
  ExpectBad(DecodeSafetyLevel("cross_unsafe", "params[1]"), "params[1]: unknown safety level");
  // checkAccessList's minSafety takes every name op-supervisor's SafetyLevel parses, local-safe too.
  using supervisor::AccessSafety;
  const std::pair<const char*, AccessSafety> names[] = {{"unsafe", AccessSafety::kUnsafe},
                                                        {"local-safe", AccessSafety::kLocalSafe},
                                                        {"cross-unsafe", AccessSafety::kCrossUnsafe},
                                                        {"safe", AccessSafety::kSafe},
                                                        {"finalized", AccessSafety::kFinalized}};
  for (const auto& [name, level] : names) {
    EXPECT_EQ(*DecodeAccessSafety(name, "s"), level) << name;
    EXPECT_STREQ(supervisor::AccessSafetyName(level), name);
  }
  for (const char* bad : {"invalid", "unknown", "conflicts", "Unsafe", "local_safe", ""})
    ExpectBad(DecodeAccessSafety(bad, "params[1]"), "params[1]: unexpected min-safety level");
  EXPECT_TRUE(*DecodeBool(J("true"), "b"));
  ExpectBad(DecodeBool(J("1"), "params[0]"), "params[0]: want a boolean");
  EXPECT_EQ(DecodeHashList(J("[\"" + kHash + "\"]"), "l")->size(), 1u);
  ExpectBad(DecodeHashList(J("[\"" + kHash + "\", \"0x1\"]"), "params[0]"), "params[0][1]: ");
  ExpectBad(DecodeHashList(J("{}"), "params[0]"), "params[0]: want an array");
}

TEST(Codec, EncodesTheOpSupervisorShapes) {
  EXPECT_EQ(HexU64(0), "0x0");
  EXPECT_EQ(HexU64(UINT64_MAX), "0xffffffffffffffff");
  supervisor::SuperRootResponse r;
  r.timestamp = 1000;
  r.chains.push_back({ChainID(uint64_t{900}), Hash(), Bytes(128, 0)});
  Json j = Encode(r);
  EXPECT_EQ(j["timestamp"], "0x3e8");
  EXPECT_EQ(j["version"], "0x01");
  EXPECT_EQ(j["chains"][0]["chainID"], "900");
  EXPECT_EQ(j["chains"][0]["pending"].get<std::string>().size(), 2u + 256u);
  // op-supervisor keeps the JSON name `safe` for each chain's cross-safe head in syncStatus.
  supervisor::SyncStatus st;
  st.chains[ChainID(uint64_t{900})].cross_safe = BlockID{Hash(), 7};
  Json sj = Encode(st);
  EXPECT_EQ(sj["chains"]["900"]["safe"]["number"], 7);
  EXPECT_FALSE(sj["chains"]["900"].contains("crossSafe"));
  for (const char* field : {"localUnsafe", "localSafe", "crossUnsafe", "finalized"})
    EXPECT_TRUE(sj["chains"]["900"].contains(field)) << field;
  supervisor::CrossSafeAnswer a;
  a.status = supervisor::CrossSafeStatus::kInvalid;
  EXPECT_EQ(Encode(a)["status"], "invalid");
  supervisor::DependencySet deps;
  deps.chains.push_back({ChainID(uint64_t{900}), {}, 2, 0});
  EXPECT_EQ(EncodeDependencySet(deps).dump(), R"({"dependencies":{"900":{}},"overrideMessageExpiryWindow":604800})");
}

}  // namespace
}  // namespace supersafe::rpc
