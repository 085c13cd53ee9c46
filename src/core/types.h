// Value types shared by every layer: fixed-size byte strings (hashes, addresses), uint256 chain IDs,
// block identifiers, message identifiers and safety levels. All parsing is strict and returns a
// Result naming what was wrong; nothing here aborts on bad input.
#pragma once

#include <array>
#include <boost/multiprecision/cpp_int.hpp>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace supersafe {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;
using U256 = boost::multiprecision::uint256_t;

// "0x"-prefixed lowercase hex of the bytes.
std::string ToHex(ByteSpan bytes);
// "0x"-prefixed lowercase hex of a number without leading zeros ("0x0" for zero): the JSON-RPC
// quantity encoding (HexU64 in docs/rpc.md).
std::string HexU64(uint64_t v);
// Parses "0x"-prefixed hex (either case) of any even length. `what` names the field in errors.
Result<Bytes> ParseHexBytes(std::string_view text, std::string_view what = "hex");

// N raw bytes; ordered lexicographically.
template <size_t N>
struct FixedBytes {
  std::array<uint8_t, N> bytes{};

  static constexpr size_t kSize = N;
  uint8_t* data() { return bytes.data(); }
  const uint8_t* data() const { return bytes.data(); }
  static constexpr size_t size() { return N; }
  ByteSpan span() const { return ByteSpan(bytes.data(), N); }
  bool IsZero() const {
    for (uint8_t b : bytes)
      if (b != 0) return false;
    return true;
  }
  std::string Hex() const { return ToHex(span()); }

  // Exactly 2*N hex digits after "0x".
  static Result<FixedBytes> Parse(std::string_view text, std::string_view what = "hex") {
    auto raw = ParseHexBytes(text, what);
    if (!raw.ok()) return raw.status();
    if (raw->size() != N)
      return InvalidArgument(std::string(what) + ": want " + std::to_string(N) + " bytes, got " +
                             std::to_string(raw->size()));
    FixedBytes out;
    std::copy(raw->begin(), raw->end(), out.bytes.begin());
    return out;
  }
  static FixedBytes FromSpan(ByteSpan s) {
    SS_CHECK(s.size() == N, "FixedBytes::FromSpan size mismatch");
    FixedBytes out;
    std::copy(s.begin(), s.end(), out.bytes.begin());
    return out;
  }

  auto operator<=>(const FixedBytes&) const = default;
  bool operator==(const FixedBytes&) const = default;
};

using Hash = FixedBytes<32>;
using Address = FixedBytes<20>;
using HashPrefix = FixedBytes<20>;  // first 20 bytes of a hash, as the super-safe-db stores it

inline HashPrefix PrefixOf(const Hash& h) {
  HashPrefix p;
  std::copy(h.bytes.begin(), h.bytes.begin() + 20, p.bytes.begin());
  return p;
}

// A uint256 chain ID. Never narrowed to 64 bits.
class ChainID {
 public:
  ChainID() = default;
  explicit ChainID(U256 v) : v_(std::move(v)) {}
  explicit ChainID(uint64_t v) : v_(v) {}

  // Decimal ("900") or 0x-hex ("0x384"). Rejects empty strings, signs, whitespace, leading "0x"
  // with no digits, and values of 2^256 or more.
  static Result<ChainID> Parse(std::string_view text);

  const U256& value() const { return v_; }
  std::string Decimal() const;
  // 32-byte big-endian encoding.
  Hash ToBytes32() const;
  static ChainID FromBytes32(const Hash& h);
  bool FitsU64() const { return v_ <= U256(UINT64_MAX); }
  uint64_t Low64() const { return static_cast<uint64_t>(v_ & U256(UINT64_MAX)); }

  auto operator<=>(const ChainID& o) const {
    if (v_ < o.v_) return std::strong_ordering::less;
    if (v_ > o.v_) return std::strong_ordering::greater;
    return std::strong_ordering::equal;
  }
  bool operator==(const ChainID& o) const { return v_ == o.v_; }

 private:
  U256 v_{0};
};

// Parses a non-negative integer that fits 64 bits, decimal or 0x-hex.
Result<uint64_t> ParseU64(std::string_view text, std::string_view what = "number");

struct BlockID {
  Hash hash;
  uint64_t number = 0;
  bool operator==(const BlockID&) const = default;
  std::string ToString() const;  // "#12 0xabcd…"
};

// A block as the event-log DB seals it: its hash, number and timestamp.
struct BlockSeal {
  Hash hash;
  uint64_t number = 0;
  uint64_t timestamp = 0;
  BlockID ID() const { return {hash, number}; }
  bool operator==(const BlockSeal&) const = default;
};

struct BlockRef {
  Hash hash;
  uint64_t number = 0;
  Hash parent_hash;
  uint64_t timestamp = 0;
  BlockID ID() const { return {hash, number}; }
  BlockSeal Seal() const { return {hash, number, timestamp}; }
  bool operator==(const BlockRef&) const = default;
};

// The Identifier of an initiating message, as an executing message names it.
struct Identifier {
  Address origin;
  uint64_t block_number = 0;
  uint32_t log_index = 0;
  uint64_t timestamp = 0;
  ChainID chain_id;
  bool operator==(const Identifier&) const = default;
};

// Ordered weakest to strongest; Unknown and Conflicts are answers, not levels.
enum class SafetyLevel : uint8_t {
  kConflicts = 0,
  kUnknown,
  kUnsafe,
  kCrossUnsafe,
  kSafe,
  kFinalized,
};
const char* SafetyLevelName(SafetyLevel level);  // "cross-unsafe", ...
Result<SafetyLevel> ParseSafetyLevel(std::string_view text);

// Big-endian helpers for fixed layouts.
inline void PutU64BE(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) { p[i] = static_cast<uint8_t>(v); v >>= 8; }
}
inline void PutU32BE(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i) { p[i] = static_cast<uint8_t>(v); v >>= 8; }
}
inline uint64_t GetU64BE(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
inline uint32_t GetU32BE(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace supersafe
