// RLP (Ethereum's Recursive Length Prefix), only what the fault-proof encodings need: byte strings,
// lists of items, and unsigned integers as minimal big-endian byte strings.
//
// Encoding is canonical by construction. Decoding accepts only canonical input, as go-ethereum's
// decoder does: it rejects truncated input, bytes after the item, a single byte below 0x80 written
// as a one-byte string, the long form for a payload under 56 bytes, a length with leading zero
// bytes or one that runs past the input, and nesting deeper than kMaxDepth. Every rejection is a
// kInvalidArgument naming the offset; nothing aborts on bad input.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "core/types.h"

namespace supersafe::rlp {

inline constexpr size_t kMaxDepth = 64;

struct Item;

// The children of a list item. Destroying it takes constant stack whatever the nesting, so a
// hostile or accidental deep item cannot overflow the stack when it goes out of scope. (Copying and
// comparing items still recurse once per level: keep those to items within kMaxDepth.)
// The members that copy, move or destroy items are defined below Item: std::vector<Item> needs Item
// complete there, and clang checks an inline member's body where it is written.
struct ItemList : std::vector<Item> {
  using std::vector<Item>::vector;
  ItemList() = default;
  ItemList(std::vector<Item>&& v);  // NOLINT: implicit on purpose
  ItemList(const ItemList&);
  ItemList(ItemList&&) noexcept;
  ItemList& operator=(const ItemList&);
  ItemList& operator=(ItemList&&) noexcept;
  ~ItemList();
};

struct Item {
  bool is_list = false;
  Bytes bytes;     // a byte string (is_list == false)
  ItemList items;  // a list (is_list == true)

  static Item String(ByteSpan b) { return Item{false, Bytes(b.begin(), b.end()), {}}; }
  static Item List(std::vector<Item> items) { return Item{true, {}, std::move(items)}; }
  // Big-endian without leading zero bytes; 0 is the empty string.
  static Item Uint(uint64_t v);
  bool operator==(const Item&) const = default;
};

inline ItemList::ItemList(std::vector<Item>&& v) : std::vector<Item>(std::move(v)) {}
inline ItemList::ItemList(const ItemList&) = default;
inline ItemList::ItemList(ItemList&&) noexcept = default;
inline ItemList& ItemList::operator=(const ItemList&) = default;
inline ItemList& ItemList::operator=(ItemList&&) noexcept = default;

// Constant stack and linear time whatever the nesting depth.
Bytes Encode(const Item& item);
// Exactly one item that fills `data`.
Result<Item> Decode(ByteSpan data);
// A uint64 from a string item of at most 8 bytes without a leading zero byte; `what` names the
// field in errors.
Result<uint64_t> DecodeUint(const Item& item, std::string_view what);

}  // namespace supersafe::rlp
