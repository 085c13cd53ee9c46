#include "sim/trace.h"

#include <algorithm>

#include "sim/digest.h"

namespace supersafe::sim {

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
  std::string text;
  if (fields.is_object() && !fields.contains("step") && !fields.contains("event")) {
    text = "{\"step\":" + std::to_string(step_) + ",\"event\":" +
           Json(event).dump(-1, ' ', false, Json::error_handler_t::replace);
    std::string rest = fields.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (rest.size() > 2) text += "," + rest.substr(1);
    else text += "}";
  } else {
    Json line{{"step", step_}, {"event", event}};
    for (const auto& [k, v] : fields.items()) line[k] = v;
    text = line.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  Append(std::move(text));
}

void Trace::Add(const std::string& event, const Fields& fields) {
  if (!enabled_) return;
  std::string text = "{\"step\":" + std::to_string(step_) + ",\"event\":\"" + event + "\"";  // a plain name
  if (!fields.text().empty()) text += "," + fields.text();
  text += "}";
  Append(std::move(text));
}

void Trace::Append(std::string text) {
  if (!redact_.empty()) {
    static const std::string kMarker = "$DATADIR";
    for (size_t pos = text.find(redact_); pos != std::string::npos; pos = text.find(redact_, pos + kMarker.size()))
      text.replace(pos, redact_.size(), kMarker);
  }
  bytes_ += text;
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
  text_ += std::to_string(value);
  return *this;
}

Fields& Fields::Int(std::string_view key, int64_t value) {
  Key(key);
  text_ += std::to_string(value);
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
  out += "\"0x";
  for (uint8_t b : h.bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  out += '"';
}
}  // namespace

Fields& Fields::Block(std::string_view key, const BlockRef& ref) {
  Block(key, ref.ID());
  text_.pop_back();  // the '}' of {number, hash}
  text_ += ",\"parent\":";
  AppendHexString(text_, ref.parent_hash);
  text_ += ",\"timestamp\":";
  text_ += std::to_string(ref.timestamp);
  text_ += '}';
  return *this;
}

Fields& Fields::Block(std::string_view key, const BlockID& id) {
  Key(key);
  text_ += "{\"number\":";
  text_ += std::to_string(id.number);
  text_ += ",\"hash\":";
  AppendHexString(text_, id.hash);
  text_ += '}';
  return *this;
}

Hash Trace::Digest() const {
  return Sha256(ByteSpan(reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()));
}

}  // namespace supersafe::sim
