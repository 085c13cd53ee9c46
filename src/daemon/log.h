// The daemon's log lines in op-service's formats, so that an operator's log pipeline for
// op-supervisor reads them unchanged (--log.level, --log.format; docs/rpc.md "Logging").
//
//   logfmt, text  t=2006-01-02T15:04:05-0700 lvl=info msg="serving JSON-RPC on ..."
//   json          {"t":"2006-01-02T15:04:05.000Z","lvl":"info","msg":"serving JSON-RPC on ..."}
//   terminal      INFO [01-02|15:04:05.000] serving JSON-RPC on ...
//
// `text` is `logfmt` (op-service's text format without colour). Times are UTC.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace supersafe::daemon {

enum class LogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kCrit };
enum class LogFormat : uint8_t { kText, kTerminal, kLogfmt, kJson };

// op-service's names, any case: trace (trce), debug (dbug), info, warn, error (eror), crit.
// kInvalidArgument naming the value otherwise.
Result<LogLevel> ParseLogLevel(std::string_view name);
// text, terminal, logfmt or json; kInvalidArgument naming the value otherwise.
Result<LogFormat> ParseLogFormat(std::string_view name);
const char* LogLevelName(LogLevel level);  // "info", ...

// One line, without the trailing newline.
std::string FormatLogLine(LogFormat format, LogLevel level, std::chrono::system_clock::time_point when,
                          std::string_view message);

// The version the daemon reports (health_status, /healthz, op_supervisor_default_info).
const char* Version();

// Receives one message per event with its level: startup and recovery (info), upstream trouble
// (warn); it must be thread-safe.
using LogFn = std::function<void(LogLevel, const std::string&)>;

}  // namespace supersafe::daemon
