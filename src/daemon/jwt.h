// Engine-API-style admin authentication: HS256 JWTs signed with a 32-byte secret.
//
// The secret file holds 64 hex digits (an optional "0x" and surrounding whitespace allowed), as the
// Engine API's jwt.hex does. A token is accepted when its header names alg HS256, its signature
// matches, and its `iat` claim (seconds) is within `kMaxIatSkew` of `now`; other claims are ignored.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace supersafe::daemon {

using JwtSecret = std::array<uint8_t, 32>;
constexpr std::chrono::seconds kMaxIatSkew{60};

// kInvalidArgument naming the file for a missing, unreadable or malformed secret.
Result<JwtSecret> ReadJwtSecret(const std::filesystem::path& file);
Result<JwtSecret> ParseJwtSecret(std::string_view text);

// OK, or kInvalidArgument saying why the token is refused.
Status VerifyJwt(std::string_view token, const JwtSecret& secret, std::chrono::system_clock::time_point now);

// A token with header {"alg":"HS256","typ":"JWT"} and payload {"iat": iat}; for clients and tests.
std::string MakeJwt(const JwtSecret& secret, int64_t iat);

}  // namespace supersafe::daemon
