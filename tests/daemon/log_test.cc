// The daemon's log lines in op-service's formats and the level and format names it accepts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/log.h"

namespace supersafe::daemon {
namespace {

// 2024-01-02T03:04:05.678Z
const auto kWhen = std::chrono::system_clock::time_point(std::chrono::milliseconds(1704164645678));

TEST(Log, LevelsAndFormatsTakeOpServiceNames) {
  const std::pair<const char*, LogLevel> levels[] = {
      {"trace", LogLevel::kTrace}, {"TRCE", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"dbug", LogLevel::kDebug},
      {"Info", LogLevel::kInfo},   {"warn", LogLevel::kWarn},  {"error", LogLevel::kError}, {"eror", LogLevel::kError},
      {"crit", LogLevel::kCrit}};
  for (const auto& [name, level] : levels) EXPECT_EQ(*ParseLogLevel(name), level) << name;
  EXPECT_NE(ParseLogLevel("verbose").status().message().find("--log.level 'verbose'"), std::string::npos);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("terminal"), LogFormat::kTerminal);
  EXPECT_EQ(*ParseLogFormat("logfmt"), LogFormat::kLogfmt);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_NE(ParseLogFormat("JSON").status().message().find("--log.format 'JSON'"), std::string::npos);
}

TEST(Log, LinesHaveOpServiceShapes) {
  const std::string logfmt = FormatLogLine(LogFormat::kLogfmt, LogLevel::kWarn, kWhen, "poll chain 901: IO_ERROR \"x\"");
  EXPECT_EQ(logfmt, "t=2024-01-02T03:04:05+0000 lvl=warn msg=\"poll chain 901: IO_ERROR \\\"x\\\"\"");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kWarn, kWhen, "poll chain 901: IO_ERROR \"x\""), logfmt);
  EXPECT_EQ(FormatLogLine(LogFormat::kLogfmt, LogLevel::kInfo, kWhen, "stopped"), "t=2024-01-02T03:04:05+0000 lvl=info msg=stopped");
  EXPECT_EQ(FormatLogLine(LogFormat::kLogfmt, LogLevel::kInfo, kWhen, "a\nb"),
            "t=2024-01-02T03:04:05+0000 lvl=info msg=\"a\\nb\"");
  const std::string json = FormatLogLine(LogFormat::kJson, LogLevel::kCrit, kWhen, "cannot start: \xff");
  auto j = nlohmann::json::parse(json);  // valid JSON even for invalid UTF-8 in the message
  EXPECT_EQ(j["t"], "2024-01-02T03:04:05.678Z");
  EXPECT_EQ(j["lvl"], "crit");
  EXPECT_EQ(j["msg"].get<std::string>().rfind("cannot start: ", 0), 0u);
  EXPECT_EQ(FormatLogLine(LogFormat::kTerminal, LogLevel::kInfo, kWhen, "stopped"), "INFO [01-02|03:04:05.678] stopped");
}

}  // namespace
}  // namespace supersafe::daemon
