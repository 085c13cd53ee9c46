#include "core/types.h"

#include <algorithm>

namespace supersafe {

namespace {
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool HasHexPrefix(std::string_view t) { return t.size() >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'); }
}  // namespace

std::string ToHex(ByteSpan bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 + bytes.size() * 2);
  out += "0x";
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string HexU64(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v & 15]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

Result<Bytes> ParseHexBytes(std::string_view text, std::string_view what) {
  if (!HasHexPrefix(text)) return InvalidArgument(std::string(what) + ": missing 0x prefix");
  text.remove_prefix(2);
  if (text.size() % 2 != 0) return InvalidArgument(std::string(what) + ": odd number of hex digits");
  Bytes out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexDigit(text[2 * i]), lo = HexDigit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument(std::string(what) + ": invalid hex digit");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

Result<ChainID> ChainID::Parse(std::string_view text) {
  if (text.empty()) return InvalidArgument("chain ID: empty");
  U256 v = 0;
  const U256 kMax = ~U256(0);
  if (HasHexPrefix(text)) {
    std::string_view digits = text.substr(2);
    if (digits.empty()) return InvalidArgument("chain ID: no hex digits after 0x");
    for (char c : digits) {
      int d = HexDigit(c);
      if (d < 0) return InvalidArgument("chain ID: invalid hex digit in '" + std::string(text) + "'");
      if (v > (kMax >> 4)) return InvalidArgument("chain ID: '" + std::string(text) + "' exceeds 2^256-1");
      v = (v << 4) | d;
    }
    return ChainID(v);
  }
  for (char c : text) {
    if (c < '0' || c > '9') return InvalidArgument("chain ID: invalid decimal digit in '" + std::string(text) + "'");
    unsigned d = static_cast<unsigned>(c - '0');
    if (v > (kMax - d) / 10) return InvalidArgument("chain ID: '" + std::string(text) + "' exceeds 2^256-1");
    v = v * 10 + d;
  }
  return ChainID(v);
}

std::string ChainID::Decimal() const { return v_.str(); }

Hash ChainID::ToBytes32() const {
  Hash h;
  U256 v = v_;
  for (int i = 31; i >= 0; --i) {
    h.bytes[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return h;
}

ChainID ChainID::FromBytes32(const Hash& h) {
  // Four 64-bit limbs rather than 32 byte steps: this runs once per access-list message.
  U256 v = GetU64BE(h.data());
  for (int limb = 1; limb < 4; ++limb) v = (v << 64) | GetU64BE(h.data() + 8 * limb);
  return ChainID(v);
}

Result<uint64_t> ParseU64(std::string_view text, std::string_view what) {
  if (text.empty()) return InvalidArgument(std::string(what) + ": empty");
  uint64_t v = 0;
  if (HasHexPrefix(text)) {
    std::string_view digits = text.substr(2);
    if (digits.empty()) return InvalidArgument(std::string(what) + ": no hex digits after 0x");
    for (char c : digits) {
      int d = HexDigit(c);
      if (d < 0) return InvalidArgument(std::string(what) + ": invalid hex digit");
      if (v > (UINT64_MAX >> 4)) return InvalidArgument(std::string(what) + ": exceeds 64 bits");
      v = (v << 4) | static_cast<uint64_t>(d);
    }
    return v;
  }
  for (char c : text) {
    if (c < '0' || c > '9') return InvalidArgument(std::string(what) + ": invalid decimal digit");
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return InvalidArgument(std::string(what) + ": exceeds 64 bits");
    v = v * 10 + d;
  }
  return v;
}

std::string BlockID::ToString() const { return "#" + std::to_string(number) + " " + hash.Hex().substr(0, 10); }

const char* SafetyLevelName(SafetyLevel level) {
  switch (level) {
    case SafetyLevel::kConflicts: return "conflicts";
    case SafetyLevel::kUnknown: return "unknown";
    case SafetyLevel::kUnsafe: return "unsafe";
    case SafetyLevel::kCrossUnsafe: return "cross-unsafe";
    case SafetyLevel::kSafe: return "safe";
    case SafetyLevel::kFinalized: return "finalized";
  }
  return "?";
}

Result<SafetyLevel> ParseSafetyLevel(std::string_view text) {
  for (auto l : {SafetyLevel::kConflicts, SafetyLevel::kUnknown, SafetyLevel::kUnsafe, SafetyLevel::kCrossUnsafe,
                 SafetyLevel::kSafe, SafetyLevel::kFinalized})
    if (text == SafetyLevelName(l)) return l;
  return InvalidArgument("safety level: unknown value '" + std::string(text) + "'");
}

}  // namespace supersafe
