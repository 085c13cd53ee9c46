// Invariant checks that stay on in every build type (after TigerBeetle's assertions).
// A failed check prints the condition, the message and the source location, then aborts:
// a broken invariant means the process state can no longer be trusted.
#pragma once

#include <string>

namespace supersafe {
[[noreturn]] void CheckFailed(const char* condition, const std::string& message, const char* file,
                              int line);

// Called with the report of a failed check on this thread instead of printing and aborting; it
// must not return (the simulator throws, so that one broken run is reported as a failure rather
// than ending the whole process). Returns the previous handler. Production code never sets one.
using CheckFailureHandler = void (*)(const std::string& report);
CheckFailureHandler SetCheckFailureHandler(CheckFailureHandler handler);
}  // namespace supersafe

#define SS_CHECK(cond, msg)                                                  \
  do {                                                                       \
    if (!(cond)) [[unlikely]]                                                \
      ::supersafe::CheckFailed(#cond, (msg), __FILE__, __LINE__);            \
  } while (0)
