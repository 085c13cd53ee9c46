#include "daemon/log.h"

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

#ifndef SUPERSAFE_VERSION
#define SUPERSAFE_VERSION "unknown"
#endif

namespace supersafe::daemon {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// strftime of `when` in UTC, plus ".mmm" after the seconds when `millis`.
std::string Utc(std::chrono::system_clock::time_point when, const char* format, bool millis) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  ::gmtime_r(&secs, &utc);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &utc);
  std::string out = buf;
  if (millis) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000;
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms < 0 ? ms + 1000 : ms));
    out += frac;
  }
  return out;
}

// A logfmt value: bare when it needs no quoting (as Go's slog text handler decides), else quoted
// with Go-style escapes.
std::string LogfmtValue(std::string_view v) {
  bool quote = v.empty();
  for (unsigned char c : v)
    if (c <= ' ' || c == '=' || c == '"' || c == 0x7f) quote = true;
  if (!quote) return std::string(v);
  std::string out = "\"";
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < ' ' || c == 0x7f) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\x%02x", c);
          out += esc;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  const std::string n = Lower(name);
  if (n == "trace" || n == "trce") return LogLevel::kTrace;
  if (n == "debug" || n == "dbug") return LogLevel::kDebug;
  if (n == "info") return LogLevel::kInfo;
  if (n == "warn") return LogLevel::kWarn;
  if (n == "error" || n == "eror") return LogLevel::kError;
  if (n == "crit") return LogLevel::kCrit;
  return InvalidArgument("--log.level '" + std::string(name) + "': want trace, debug, info, warn, error or crit");
}

Result<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "terminal") return LogFormat::kTerminal;
  if (name == "logfmt") return LogFormat::kLogfmt;
  if (name == "json") return LogFormat::kJson;
  return InvalidArgument("--log.format '" + std::string(name) + "': want text, terminal, logfmt or json");
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kCrit: return "crit";
  }
  return "unknown";
}

std::string FormatLogLine(LogFormat format, LogLevel level, std::chrono::system_clock::time_point when,
                          std::string_view message) {
  switch (format) {
    case LogFormat::kJson: {
      nlohmann::json line = {{"t", Utc(when, "%Y-%m-%dT%H:%M:%S", true) + "Z"},
                             {"lvl", LogLevelName(level)},
                             {"msg", std::string(message)}};
      return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    case LogFormat::kTerminal: {
      static const char* kAligned[] = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "CRIT "};
      return std::string(kAligned[static_cast<int>(level)]) + "[" + Utc(when, "%m-%d|%H:%M:%S", true) + "] " +
             std::string(message);
    }
    case LogFormat::kText:
    case LogFormat::kLogfmt:
      break;
  }
  return "t=" + Utc(when, "%Y-%m-%dT%H:%M:%S+0000", false) + " lvl=" + LogLevelName(level) +
         " msg=" + LogfmtValue(message);
}

const char* Version() { return SUPERSAFE_VERSION; }

}  // namespace supersafe::daemon
