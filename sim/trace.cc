#include "sim/trace.h"

#include "core/crypto.h"

namespace supersafe::sim {

Json ToJson(const BlockID& id) { return Json{{"number", id.number}, {"hash", id.hash.Hex()}}; }

Json ToJson(const BlockRef& ref) {
  return Json{{"number", ref.number}, {"hash", ref.hash.Hex()}, {"parent", ref.parent_hash.Hex()},
              {"timestamp", ref.timestamp}};
}

Json ToJson(const Status& s) { return s.ToString(); }

void Trace::Add(const std::string& event, const Json& fields) {
  Json line{{"step", step_}, {"event", event}};
  for (const auto& [k, v] : fields.items()) line[k] = v;
  std::string text = line.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (!redact_.empty()) {
    static const std::string kMarker = "$DATADIR";
    for (size_t pos = text.find(redact_); pos != std::string::npos; pos = text.find(redact_, pos + kMarker.size()))
      text.replace(pos, redact_.size(), kMarker);
  }
  bytes_ += text;
  bytes_ += '\n';
}

Hash Trace::Digest() const {
  return Keccak256(ByteSpan(reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()));
}

}  // namespace supersafe::sim
