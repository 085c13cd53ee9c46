// What the libFuzzer targets share (docs/fuzz.md, "libFuzzer targets"). Each target defines
// LLVMFuzzerTestOneInput; it is linked with libFuzzer's main in the fuzzer build and with
// replay_main.cc (which feeds it files) everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/status.h"

namespace supersafe::fuzz {

inline std::string Text(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// A broken contract: says which and aborts, which both libFuzzer and the replay runner report as a crash.
[[noreturn]] inline void Fail(std::string_view what) {
  std::fprintf(stderr, "fuzz contract broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

// A refusal must be a clear error: not OK, with a message.
inline void ExpectClearError(const Status& s, std::string_view where) {
  if (s.ok()) Fail(std::string(where) + ": refused with an OK status");
  if (s.message().empty()) Fail(std::string(where) + ": refused without a message");
}

}  // namespace supersafe::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
