#include "core/rlp.h"

namespace supersafe::rlp {

namespace {

// Short form for a payload of at most 55 bytes: `short_base + length`; long form: `long_base +
// length-of-length` followed by the length, big-endian, without leading zeros.
void PutHeader(Bytes& out, uint8_t short_base, uint8_t long_base, size_t length) {
  if (length <= 55) {
    out.push_back(static_cast<uint8_t>(short_base + length));
    return;
  }
  uint8_t be[8];
  int n = 0;
  for (size_t v = length; v != 0; v >>= 8) be[n++] = static_cast<uint8_t>(v);
  out.push_back(static_cast<uint8_t>(long_base + n));
  while (n > 0) out.push_back(be[--n]);
}

size_t HeaderSize(size_t length) {
  size_t n = 1;
  if (length > 55)
    for (size_t v = length; v != 0; v >>= 8) ++n;
  return n;
}

size_t StringSize(const Item& s) {
  if (s.bytes.size() == 1 && s.bytes[0] < 0x80) return 1;
  return HeaderSize(s.bytes.size()) + s.bytes.size();
}

void PutString(Bytes& out, const Item& s) {
  if (s.bytes.size() == 1 && s.bytes[0] < 0x80) {
    out.push_back(s.bytes[0]);
    return;
  }
  PutHeader(out, 0x80, 0xb7, s.bytes.size());
  out.insert(out.end(), s.bytes.begin(), s.bytes.end());
}

// Visits every list of the tree rooted at the list `root` depth-first with an explicit stack (no
// recursion): enter(list) before its children, string(s) for each string child, leave(list) after.
template <typename Enter, typename String, typename Leave>
void Walk(const Item& root, Enter enter, String string, Leave leave) {
  struct Frame {
    const Item* list;
    size_t next;
  };
  std::vector<Frame> stack;
  enter(root);
  stack.push_back({&root, 0});
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.list->items.size()) {
      const Item* done = top.list;
      stack.pop_back();
      leave(*done);
      continue;
    }
    const Item& child = top.list->items[top.next++];
    if (child.is_list) {
      enter(child);
      stack.push_back({&child, 0});
    } else {
      string(child);
    }
  }
}

// Two passes: the payload size of every list (numbered in the order the walk enters them), then
// the bytes, each list's header written before its children.
void EncodeInto(Bytes& out, const Item& item) {
  if (!item.is_list) return PutString(out, item);
  std::vector<size_t> payload;  // by entry number
  std::vector<size_t> open;     // entry numbers of the lists being walked
  Walk(
      item,
      [&](const Item&) {
        open.push_back(payload.size());
        payload.push_back(0);
      },
      [&](const Item& s) { payload[open.back()] += StringSize(s); },
      [&](const Item&) {
        const size_t size = payload[open.back()];
        open.pop_back();
        if (!open.empty()) payload[open.back()] += HeaderSize(size) + size;
      });
  out.reserve(out.size() + HeaderSize(payload[0]) + payload[0]);
  size_t entered = 0;
  Walk(
      item, [&](const Item&) { PutHeader(out, 0xc0, 0xf7, payload[entered++]); },
      [&](const Item& s) { PutString(out, s); }, [](const Item&) {});
}

Status Bad(size_t offset, const std::string& what) {
  return InvalidArgument("RLP: at offset " + std::to_string(offset) + ": " + what);
}

// Decodes the item at data[pos..end) and advances pos past it.
Result<Item> DecodeAt(ByteSpan data, size_t& pos, size_t end, size_t depth) {
  if (depth > kMaxDepth) return Bad(pos, "nesting deeper than " + std::to_string(kMaxDepth));
  if (pos >= end) return Bad(pos, "input ends where an item should start");
  const size_t start = pos;
  const uint8_t b = data[pos++];
  if (b < 0x80) return Item::String(data.subspan(start, 1));
  const bool is_list = b >= 0xc0;
  const uint8_t base = is_list ? 0xc0 : 0x80;
  size_t length = 0;
  if (b - base <= 55) {
    length = b - base;
  } else {
    const size_t len_of_len = b - base - 55;
    if (len_of_len > end - pos) return Bad(start, "length runs past the input");
    if (data[pos] == 0) return Bad(start, "length has a leading zero byte");
    if (len_of_len > sizeof(size_t)) return Bad(start, "length does not fit in memory");
    for (size_t i = 0; i < len_of_len; ++i) length = (length << 8) | data[pos++];
    if (length <= 55) return Bad(start, "long form for a payload of " + std::to_string(length) + " bytes");
  }
  if (length > end - pos) return Bad(start, "payload of " + std::to_string(length) + " bytes runs past the input");
  const size_t payload_end = pos + length;
  if (!is_list) {
    if (length == 1 && data[pos] < 0x80) return Bad(start, "single byte below 0x80 written as a string");
    Item out = Item::String(data.subspan(pos, length));
    pos = payload_end;
    return out;
  }
  Item out = Item::List({});
  while (pos < payload_end) {
    SS_ASSIGN_OR_RETURN(Item child, DecodeAt(data, pos, payload_end, depth + 1));
    out.items.push_back(std::move(child));
  }
  return out;
}

}  // namespace

ItemList::~ItemList() {
  // Moves every descendant list into `pending` before it dies, so each Item destroyed here has no
  // children left and no destructor recurses more than one level.
  std::vector<ItemList> pending;
  for (Item& child : *this)
    if (!child.items.empty()) pending.push_back(std::move(child.items));
  while (!pending.empty()) {
    ItemList list = std::move(pending.back());
    pending.pop_back();
    for (Item& child : list)
      if (!child.items.empty()) pending.push_back(std::move(child.items));
  }
}

Item Item::Uint(uint64_t v) {
  Bytes be;
  for (; v != 0; v >>= 8) be.insert(be.begin(), static_cast<uint8_t>(v));
  return String(be);
}

Bytes Encode(const Item& item) {
  Bytes out;
  EncodeInto(out, item);
  return out;
}

Result<Item> Decode(ByteSpan data) {
  size_t pos = 0;
  SS_ASSIGN_OR_RETURN(Item item, DecodeAt(data, pos, data.size(), 0));
  if (pos != data.size()) return Bad(pos, std::to_string(data.size() - pos) + " bytes after the item");
  return item;
}

Result<uint64_t> DecodeUint(const Item& item, std::string_view what) {
  const std::string name(what);
  if (item.is_list) return InvalidArgument(name + ": want an integer, got a list");
  if (item.bytes.size() > 8) return InvalidArgument(name + ": integer of " + std::to_string(item.bytes.size()) + " bytes exceeds 64 bits");
  if (!item.bytes.empty() && item.bytes[0] == 0) return InvalidArgument(name + ": integer has a leading zero byte");
  uint64_t v = 0;
  for (uint8_t b : item.bytes) v = (v << 8) | b;
  return v;
}

}  // namespace supersafe::rlp
