// Helpers shared by the replacement log's tests: deterministic records and raw file access for
// byte surgery.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/crypto.h"
#include "core/types.h"
#include "db/replacement_log.h"

namespace supersafe::db::testing {

// Record k of a test run: even k invalidates block 100 + k/2 (hash and preimage from k), odd k
// records its replacement.
struct TestRecord {
  bool invalidated = true;
  uint64_t number = 0;
  Hash hash;
  Bytes preimage;  // 128 bytes when invalidated
};

inline TestRecord RecordNumber(uint64_t k, uint64_t salt = 0) {
  TestRecord r;
  r.invalidated = k % 2 == 0;
  r.number = 100 + k / 2;
  r.hash = Keccak256(std::string(r.invalidated ? "invalid/" : "replacement/") + std::to_string(k) + "/" +
                     std::to_string(salt));
  if (r.invalidated) {
    const Hash a = Keccak256("state/" + std::to_string(k)), b = Keccak256("storage/" + std::to_string(k));
    r.preimage.assign(32, 0);
    r.preimage.insert(r.preimage.end(), a.bytes.begin(), a.bytes.end());
    r.preimage.insert(r.preimage.end(), b.bytes.begin(), b.bytes.end());
    r.preimage.insert(r.preimage.end(), r.hash.bytes.begin(), r.hash.bytes.end());
  }
  return r;
}

inline Status Record(ReplacementLog& log, const TestRecord& r) {
  return r.invalidated ? log.RecordInvalidated(r.number, r.hash, r.preimage) : log.RecordReplaced(r.number, r.hash);
}

// Whether `log` holds record `r`, as its lookups answer. A replacement is held when it names the
// preimage of the block invalidated at its height (record k - 1).
inline bool Holds(const ReplacementLog& log, const TestRecord& r) {
  if (r.invalidated) return log.InvalidatedPreimage(r.number, r.hash) == r.preimage;
  return log.IsReplacement(r.number, r.hash) && log.PendingPreimage(r.number, r.hash).has_value();
}

inline std::vector<uint8_t> ReadLogBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void WriteLogBytes(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  SS_CHECK(out.good(), "writing " + p.string() + " failed");
}

}  // namespace supersafe::db::testing
