#include "sim/trace.h"

#include <algorithm>

#include "sim/digest.h"

namespace supersafe::sim {

void AppendDecimal(std::string& out, uint64_t v) {
  char buf[20];
  char* end = buf + sizeof buf;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, end);
}

Json ToJson(const BlockID& id) { return Json{{"number", id.number}, {"hash", id.hash.Hex()}}; }

Json ToJson(const BlockRef& ref) {
  return Json{{"number", ref.number}, {"hash", ref.hash.Hex()}, {"parent", ref.parent_hash.Hex()},
              {"timestamp", ref.timestamp}};
}

Json ToJson(const Status& s) { return s.ToString(); }

void Trace::Add(const std::string& event, const Json& fields) {
  if (!enabled_) return;
  // The line is {"step": n, "event": event, ...fields}: written as the head and the fields'
  // own dump spliced after it, which is the same bytes as dumping one merged object when no field
  // is named "step" or "event" (none is), without copying the fields.
  const size_t start = bytes_.size();
  if (fields.is_object() && !fields.contains("step") && !fields.contains("event")) {
    AppendHead(Json(event).dump(-1, ' ', false, Json::error_handler_t::replace));
    const std::string rest = fields.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (rest.size() > 2) bytes_.append(",").append(std::string_view(rest).substr(1));
    else bytes_ += '}';
  } else {
    Json line{{"step", step_}, {"event", event}};
    for (const auto& [k, v] : fields.items()) line[k] = v;
    bytes_ += line.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  EndLine(start);
}

void Trace::Add(const std::string& event, const Fields& fields) {
  if (!enabled_) return;
  const size_t start = bytes_.size();
  AppendHead("");
  bytes_ += '"';
  bytes_ += event;  // a plain name
  bytes_ += '"';
  if (!fields.text().empty()) {
    bytes_ += ',';
    bytes_ += fields.text();
  }
  bytes_ += '}';
  EndLine(start);
}

void Trace::AppendHead(std::string_view quoted_event) {
  // Room for a typical run's lines from the start, so that growing does not copy the bytes at
  // every doubling; pages are touched only as lines are written.
  constexpr size_t kInitialCapacity = size_t{16} << 20;
  if (bytes_.capacity() < kInitialCapacity) bytes_.reserve(kInitialCapacity);
  bytes_ += "{\"step\":";
  AppendDecimal(bytes_, step_);
  bytes_ += ",\"event\":";
  bytes_ += quoted_event;
}

void Trace::EndLine(size_t start) {
  if (!redact_.empty()) {
    static const std::string kMarker = "$DATADIR";
    for (size_t pos = bytes_.find(redact_, start); pos != std::string::npos;
         pos = bytes_.find(redact_, pos + kMarker.size()))
      bytes_.replace(pos, redact_.size(), kMarker);
  }
  bytes_ += '\n';
}

void Fields::Key(std::string_view key) {
  if (!text_.empty()) text_ += ',';
  text_ += '"';
  text_ += key;  // keys are plain ASCII names
  text_ += "\":";
}

Fields& Fields::Number(std::string_view key, uint64_t value) {
  Key(key);
  AppendDecimal(text_, value);
  return *this;
}

Fields& Fields::Int(std::string_view key, int64_t value) {
  Key(key);
  if (value < 0) {
    text_ += '-';
    AppendDecimal(text_, 0 - static_cast<uint64_t>(value));
  } else {
    AppendDecimal(text_, static_cast<uint64_t>(value));
  }
  return *this;
}

Fields& Fields::Bool(std::string_view key, bool value) {
  Key(key);
  text_ += value ? "true" : "false";
  return *this;
}

Fields& Fields::String(std::string_view key, std::string_view value) {
  Key(key);
  // Printable ASCII without '"' or '\\' dumps as itself in quotes; anything else as Json does it.
  const bool plain = std::all_of(value.begin(), value.end(), [](char ch) {
    return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
  });
  if (plain) {
    text_ += '"';
    text_ += value;
    text_ += '"';
  } else {
    text_ += Json(value).dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return *this;
}

Fields& Fields::Raw(std::string_view key, std::string_view json) {
  Key(key);
  text_ += json;
  return *this;
}

namespace {
// `"0x…"`, as Hash::Hex() in a JSON string.
void AppendHexString(std::string& out, const Hash& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + 4 + 2 * h.bytes.size());
  char* p = out.data() + at;
  *p++ = '"';
  *p++ = '0';
  *p++ = 'x';
  for (uint8_t b : h.bytes) {
    *p++ = kDigits[b >> 4];
    *p++ = kDigits[b & 15];
  }
  *p = '"';
}
}  // namespace

Fields& Fields::Block(std::string_view key, const BlockRef& ref) {
  Block(key, ref.ID());
  text_.pop_back();  // the '}' of {number, hash}
  text_ += ",\"parent\":";
  AppendHexString(text_, ref.parent_hash);
  text_ += ",\"timestamp\":";
  AppendDecimal(text_, ref.timestamp);
  text_ += '}';
  return *this;
}

Fields& Fields::Block(std::string_view key, const BlockID& id) {
  Key(key);
  text_ += "{\"number\":";
  AppendDecimal(text_, id.number);
  text_ += ",\"hash\":";
  AppendHexString(text_, id.hash);
  text_ += '}';
  return *this;
}

Hash Trace::Digest() const {
  return Sha256(ByteSpan(reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()));
}

}  // namespace supersafe::sim
