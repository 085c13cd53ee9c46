// The run trace: one JSON object per line per event (step start, node calls with their arguments
// and results, builds, reorgs, crashes, expectation results). Keys keep insertion order and every
// value derives from the scenario and seed, so the same run gives the same bytes on any machine;
// Digest() (SHA-256 of the bytes, as `sha256sum` of the trace file) lets CI compare two runs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"
#include "core/types.h"

namespace supersafe::sim {

using Json = nlohmann::ordered_json;

Json ToJson(const BlockID& id);    // {"number": n, "hash": "0x.."}
Json ToJson(const BlockRef& ref);  // {"number", "hash", "parent", "timestamp"}
Json ToJson(const Status& s);      // "OK" or "FUTURE_DATA: message"
// Appends `v` in decimal, as std::to_string and Json's dump write it.
void AppendDecimal(std::string& out, uint64_t v);

// The fields of a trace line written straight to JSON text, for the events written per block: the
// same bytes as the Json object with these members would dump to, without building it.
class Fields {
 public:
  Fields() { text_.reserve(256); }  // one allocation for a typical line
  Fields& Number(std::string_view key, uint64_t value);
  Fields& Int(std::string_view key, int64_t value);
  Fields& Bool(std::string_view key, bool value);
  Fields& String(std::string_view key, std::string_view value);  // escaped as Json's dump does
  Fields& Raw(std::string_view key, std::string_view json);      // a value already in JSON
  Fields& Block(std::string_view key, const BlockRef& ref);       // as ToJson(ref)
  Fields& Block(std::string_view key, const BlockID& id);         // as ToJson(id)
  const std::string& text() const { return text_; }  // the members, without the braces

 private:
  void Key(std::string_view key);
  std::string text_;
};

class Trace {
 public:
  // Every occurrence of `path` (the run's data directory, which differs between runs) is written
  // as "$DATADIR", so error messages that name files keep the trace deterministic.
  void RedactPath(std::string path) { redact_ = std::move(path); }
  // From now on Add does nothing (runs that keep no record: RunOptions::record). Callers that build
  // costly fields may ask enabled() first.
  void Disable() { enabled_ = false; }
  bool enabled() const { return enabled_; }
  // Events from now on belong to step `step` (0: before the first step).
  void SetStep(size_t step) { step_ = step; }
  // Appends {"step": n, "event": event, ...fields} as one line.
  void Add(const std::string& event, const Json& fields = Json::object());
  void Add(const std::string& event, const Fields& fields);  // `event`: a plain name, written unescaped

  const std::string& bytes() const { return bytes_; }
  // Moves the bytes out (the trace is empty afterwards).
  std::string TakeBytes() { return std::exchange(bytes_, std::string()); }
  Hash Digest() const;

 private:
  // Appends {"step":n,"event": and the event, already quoted.
  void AppendHead(std::string_view quoted_event);
  // Ends the line begun at byte `start`: redacts the data directory in it, appends the newline.
  void EndLine(size_t start);
  size_t step_ = 0;
  bool enabled_ = true;
  std::string redact_;
  std::string bytes_;
};

}  // namespace supersafe::sim
