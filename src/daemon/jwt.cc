#include "daemon/jwt.h"

#include <cryptopp/hmac.h>
#include <cryptopp/sha.h>

#include <nlohmann/json.hpp>

#include "core/types.h"
#include "daemon/config.h"

namespace supersafe::daemon {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Url(std::string_view in) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buf >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buf << (6 - bits)) & 0x3f]);
  return out;
}

// Unpadded base64url, strictly (no padding, no other characters, no stray low bits).
Result<std::string> FromBase64Url(std::string_view in, const char* what) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::char_traits<char>::find(kAlphabet, 64, c);
    if (p == nullptr) return InvalidArgument(std::string(what) + ": not base64url");
    buf = (buf << 6) | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  if (bits >= 6 || (buf & ((1u << bits) - 1)) != 0) return InvalidArgument(std::string(what) + ": not base64url");
  return out;
}

std::string Sign(const JwtSecret& secret, std::string_view signing_input) {
  CryptoPP::HMAC<CryptoPP::SHA256> mac(secret.data(), secret.size());
  std::string digest(CryptoPP::HMAC<CryptoPP::SHA256>::DIGESTSIZE, '\0');
  mac.CalculateDigest(reinterpret_cast<CryptoPP::byte*>(digest.data()),
                      reinterpret_cast<const CryptoPP::byte*>(signing_input.data()), signing_input.size());
  return digest;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Result<JwtSecret> ParseJwtSecret(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  std::string hex(text);
  if (hex.rfind("0x", 0) != 0 && hex.rfind("0X", 0) != 0) hex = "0x" + hex;
  auto bytes = FixedBytes<32>::Parse(hex, "JWT secret");
  if (!bytes.ok()) return InvalidArgument(bytes.status().message() + " (want 64 hex digits)");
  return bytes->bytes;
}

Result<JwtSecret> ReadJwtSecret(const std::filesystem::path& file) {
  SS_ASSIGN_OR_RETURN(std::string text, ReadTextFile(file, "admin JWT secret"));
  auto secret = ParseJwtSecret(text);
  if (!secret.ok()) return secret.status().WithContext("admin JWT secret " + file.string());
  return secret;
}

Status VerifyJwt(std::string_view token, const JwtSecret& secret, std::chrono::system_clock::time_point now) {
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return InvalidArgument("token: want three dot-separated parts");
  SS_ASSIGN_OR_RETURN(std::string header, FromBase64Url(token.substr(0, dot1), "token header"));
  SS_ASSIGN_OR_RETURN(std::string payload, FromBase64Url(token.substr(dot1 + 1, dot2 - dot1 - 1), "token payload"));
  SS_ASSIGN_OR_RETURN(std::string signature, FromBase64Url(token.substr(dot2 + 1), "token signature"));
  auto h = nlohmann::json::parse(header, nullptr, false);
  if (!h.is_object() || !h.contains("alg") || h["alg"] != "HS256")
    return InvalidArgument("token header: alg must be HS256");
  if (!ConstantTimeEqual(signature, Sign(secret, token.substr(0, dot2))))
    return InvalidArgument("token: signature does not match the secret");
  auto p = nlohmann::json::parse(payload, nullptr, false);
  if (!p.is_object() || !p.contains("iat") || !p["iat"].is_number_integer())
    return InvalidArgument("token payload: iat must be an integer");
  if (p["iat"].is_number_unsigned() && p["iat"].get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    return InvalidArgument("token payload: iat exceeds 2^63-1");
  const int64_t iat = p["iat"].get<int64_t>();
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const int64_t skew = kMaxIatSkew.count();
  if (iat < t - skew || iat > t + skew)
    return InvalidArgument("token: iat " + std::to_string(iat) + " is more than " + std::to_string(skew) +
                           " s from now (" + std::to_string(t) + ")");
  return Status::Ok();
}

std::string MakeJwt(const JwtSecret& secret, int64_t iat) {
  std::string input = Base64Url(R"({"alg":"HS256","typ":"JWT"})") + "." +
                      Base64Url(nlohmann::json{{"iat", iat}}.dump());
  return input + "." + Base64Url(Sign(secret, input));
}

}  // namespace supersafe::daemon
