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

void EncodeInto(Bytes& out, const Item& item) {
  if (!item.is_list) {
    if (item.bytes.size() == 1 && item.bytes[0] < 0x80) {
      out.push_back(item.bytes[0]);
      return;
    }
    PutHeader(out, 0x80, 0xb7, item.bytes.size());
    out.insert(out.end(), item.bytes.begin(), item.bytes.end());
    return;
  }
  Bytes payload;
  for (const Item& child : item.items) EncodeInto(payload, child);
  PutHeader(out, 0xc0, 0xf7, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
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
