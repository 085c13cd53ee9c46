// RLP: the canonical examples of the Ethereum yellow paper and wiki, the 55/56-byte boundaries of
// strings and lists, decode(encode(x)) == x for generated items, and strict decoding.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "core/rlp.h"

namespace supersafe {
namespace {

using rlp::Item;

Item Str(const std::string& s) { return Item::String(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size())); }
Bytes B(std::initializer_list<uint8_t> b) { return Bytes(b); }
Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
Bytes Raw(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(Rlp, CanonicalExamples) {
  EXPECT_EQ(rlp::Encode(Str("")), B({0x80}));
  EXPECT_EQ(rlp::Encode(Str("dog")), Cat(B({0x83}), Raw("dog")));
  EXPECT_EQ(rlp::Encode(Item::List({Str("cat"), Str("dog")})), Cat(Cat(B({0xc8, 0x83}), Raw("cat")), Cat(B({0x83}), Raw("dog"))));
  EXPECT_EQ(rlp::Encode(Item::List({})), B({0xc0}));
  EXPECT_EQ(rlp::Encode(Item::String(B({0x00}))), B({0x00}));
  EXPECT_EQ(rlp::Encode(Item::String(B({0x0f}))), B({0x0f}));
  EXPECT_EQ(rlp::Encode(Item::String(B({0x7f}))), B({0x7f}));
  EXPECT_EQ(rlp::Encode(Item::String(B({0x80}))), B({0x81, 0x80}));
  EXPECT_EQ(rlp::Encode(Item::Uint(0)), B({0x80}));
  EXPECT_EQ(rlp::Encode(Item::Uint(15)), B({0x0f}));
  EXPECT_EQ(rlp::Encode(Item::Uint(127)), B({0x7f}));
  EXPECT_EQ(rlp::Encode(Item::Uint(128)), B({0x81, 0x80}));
  EXPECT_EQ(rlp::Encode(Item::Uint(1024)), B({0x82, 0x04, 0x00}));
  EXPECT_EQ(rlp::Encode(Item::Uint(UINT64_MAX)), B({0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  // The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ].
  Item three = Item::List({Item::List({}), Item::List({Item::List({})}),
                           Item::List({Item::List({}), Item::List({Item::List({})})})});
  EXPECT_EQ(rlp::Encode(three), B({0xc7, 0xc0, 0xc1, 0xc0, 0xc3, 0xc0, 0xc1, 0xc0}));
  const std::string lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";  // 56 bytes
  ASSERT_EQ(lorem.size(), 56u);
  EXPECT_EQ(rlp::Encode(Str(lorem)), Cat(B({0xb8, 0x38}), Raw(lorem)));
}

TEST(Rlp, StringAndListLengthBoundaries) {
  for (size_t n : {55u, 56u, 255u, 256u, 1024u, 70000u}) {
    Bytes payload(n, 0xaa);
    Bytes enc = rlp::Encode(Item::String(payload));
    Bytes header = n <= 55   ? B({static_cast<uint8_t>(0x80 + n)})
                   : n < 256 ? B({0xb8, static_cast<uint8_t>(n)})
                   : n < 65536 ? B({0xb9, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)})
                               : B({0xba, static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
    EXPECT_EQ(enc, Cat(header, payload)) << n;
    EXPECT_EQ(rlp::Decode(enc).value(), Item::String(payload)) << n;
  }
  // Lists of one-byte items (each encodes to itself): the payload length is the item count.
  for (size_t n : {55u, 56u, 300u}) {
    std::vector<Item> items(n, Item::String(B({0x01})));
    Bytes enc = rlp::Encode(Item::List(items));
    Bytes header = n <= 55  ? B({static_cast<uint8_t>(0xc0 + n)})
                   : n < 256 ? B({0xf8, static_cast<uint8_t>(n)})
                             : B({0xf9, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
    EXPECT_EQ(enc, Cat(header, Bytes(n, 0x01))) << n;
    EXPECT_EQ(rlp::Decode(enc).value(), Item::List(items)) << n;
  }
}

TEST(Rlp, NestedAndLongLists) {
  // [["cat", "dog"], [""], 1024] and a list of 20 four-letter strings (payload 100: long form).
  Item nested = Item::List({Item::List({Str("cat"), Str("dog")}), Item::List({Str("")}), Item::Uint(1024)});
  Bytes want = Cat(Cat(B({0xce, 0xc8, 0x83}), Raw("cat")), Cat(B({0x83}), Raw("dog")));
  want = Cat(want, B({0xc1, 0x80, 0x82, 0x04, 0x00}));
  EXPECT_EQ(rlp::Encode(nested), want);
  EXPECT_EQ(rlp::Decode(want).value(), nested);
  std::vector<Item> words(20, Str("abcd"));
  Bytes enc = rlp::Encode(Item::List(words));
  ASSERT_EQ(enc.size(), 102u);
  EXPECT_EQ(enc[0], 0xf8);
  EXPECT_EQ(enc[1], 100);
  EXPECT_EQ(rlp::Decode(enc).value(), Item::List(words));
}

Status DecodeError(const Bytes& b) { return rlp::Decode(b).status(); }

TEST(Rlp, DecodeRejectsNonCanonicalAndMalformedInput) {
  const std::pair<Bytes, std::string> cases[] = {
      {B({}), "input ends"},
      {B({0x81, 0x05}), "single byte below 0x80"},
      {Cat(B({0xb8, 0x05}), Raw("hello")), "long form"},
      {Cat(B({0xf8, 0x01}), B({0x01})), "long form"},
      {Cat(B({0xb9, 0x00, 0x40}), Bytes(64, 1)), "leading zero"},
      {Cat(B({0x83}), Raw("do")), "runs past the input"},
      {B({0xb9, 0x01}), "runs past the input"},
      {B({0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "runs past the input"},
      {Cat(Cat(B({0x83}), Raw("dog")), B({0x00})), "1 bytes after the item"},
      {Cat(B({0xc2, 0x83}), Raw("dog")), "runs past the input"},
      {B({0xc1, 0x81}), "runs past the input"},
  };
  for (const auto& [bytes, what] : cases) {
    Status s = DecodeError(bytes);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << ToHex(bytes);
    EXPECT_NE(s.message().find(what), std::string::npos) << ToHex(bytes) << ": " << s.message();
  }
}

TEST(Rlp, DecodeBoundsNesting) {
  auto nest = [](size_t depth) {
    Item it = Item::List({});
    for (size_t i = 0; i < depth; ++i) {
      std::vector<Item> one;
      one.push_back(std::move(it));
      it = Item::List(std::move(one));
    }
    return it;
  };
  EXPECT_TRUE(rlp::Decode(rlp::Encode(nest(rlp::kMaxDepth))).ok());
  Status s = DecodeError(rlp::Encode(nest(rlp::kMaxDepth + 1)));
  EXPECT_NE(s.message().find("nesting deeper"), std::string::npos) << s.message();
  EXPECT_FALSE(rlp::Decode(rlp::Encode(nest(5000))).ok());
}

// A deep item (built by code, or nested past any decoder's bound) is encoded and destroyed in
// constant stack: 200,000 levels overflow an 8 MB stack when either recurses once per level.
TEST(Rlp, EncodeAndDestroyADeepItemWithoutRecursion) {
  constexpr size_t kDepth = 200000;
  Bytes enc;
  {
    Item it = Item::List({});
    for (size_t i = 0; i < kDepth; ++i) {
      std::vector<Item> one;
      one.push_back(std::move(it));
      it = Item::List(std::move(one));
    }
    enc = rlp::Encode(it);
  }  // `it` destroyed here
  // From the innermost list out: payload sizes 0..55 take a 1-byte header, then 2, 3 and 4 bytes.
  size_t expect = 0;
  for (size_t i = 0; i <= kDepth; ++i) {
    size_t header = 1;
    if (expect > 55)
      for (size_t v = expect; v != 0; v >>= 8) ++header;
    expect += header;
  }
  ASSERT_EQ(enc.size(), expect);
  EXPECT_EQ(enc[0], 0xf7 + 3);  // a payload of 3 bytes' length
  EXPECT_EQ(enc.back(), 0xc0);  // the innermost, empty list
  Status s = DecodeError(enc);
  EXPECT_NE(s.message().find("nesting deeper"), std::string::npos) << s.message();
}

TEST(Rlp, EncodeMixedItemMatchesKnownBytes) {
  // ["cat", ["", 0x0400], "dog"] with a nested list after a string and a string after it.
  const Item it = Item::List({Item::String(B({'c', 'a', 't'})),
                              Item::List({Item::String({}), Item::Uint(1024)}), Item::String(B({'d', 'o', 'g'}))});
  EXPECT_EQ(ToHex(rlp::Encode(it)), ToHex(B({0xcd, 0x83, 'c', 'a', 't', 0xc4, 0x80, 0x82, 0x04, 0x00, 0x83, 'd', 'o', 'g'})));
}

TEST(Rlp, DecodeUint) {
  EXPECT_EQ(rlp::DecodeUint(rlp::Decode(B({0x80})).value(), "n").value(), 0u);
  EXPECT_EQ(rlp::DecodeUint(rlp::Decode(B({0x82, 0x04, 0x00})).value(), "n").value(), 1024u);
  EXPECT_EQ(rlp::DecodeUint(Item::Uint(UINT64_MAX), "n").value(), UINT64_MAX);
  EXPECT_NE(rlp::DecodeUint(Item::String(B({0x00, 0x01})), "n").status().message().find("leading zero"), std::string::npos);
  EXPECT_NE(rlp::DecodeUint(Item::String(Bytes(9, 1)), "n").status().message().find("exceeds 64 bits"), std::string::npos);
  EXPECT_NE(rlp::DecodeUint(Item::List({}), "n").status().message().find("got a list"), std::string::npos);
}

rc::Gen<Item> GenItem(int depth) {
  auto strings = rc::gen::map(rc::gen::container<Bytes>(rc::gen::arbitrary<uint8_t>()), [](const Bytes& b) {
    return Item::String(b);
  });
  if (depth == 0) return strings;
  auto lists = rc::gen::map(rc::gen::resize(8, rc::gen::container<std::vector<Item>>(GenItem(depth - 1))),
                            [](std::vector<Item> items) { return Item::List(std::move(items)); });
  return rc::gen::oneOf(strings, lists);
}

RC_GTEST_PROP(Rlp, DecodeOfEncodeIsIdentity, ()) {
  const Item item = *GenItem(3);
  const Bytes enc = rlp::Encode(item);
  auto back = rlp::Decode(enc);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == item);
}

RC_GTEST_PROP(Rlp, UintRoundTrip, (uint64_t v)) {
  auto back = rlp::Decode(rlp::Encode(Item::Uint(v)));
  RC_ASSERT(back.ok());
  RC_ASSERT(rlp::DecodeUint(*back, "v").value() == v);
}

RC_GTEST_PROP(Rlp, DecodeNeverCrashesOnArbitraryBytes, (const Bytes& bytes)) {
  auto r = rlp::Decode(bytes);
  if (r.ok()) RC_ASSERT(rlp::Encode(*r) == bytes);  // whatever decodes is canonical
}

}  // namespace
}  // namespace supersafe
