// Helpers shared by the event-log DB tests: temporary directories, deterministic blocks, raw file
// access for byte surgery.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "core/crypto.h"
#include "db/event_db.h"
#include "db/event_db_format.h"
#include "tests/temp_dir.h"

namespace supersafe::db::testing {

using TempDir = ::supersafe::testing::TempDir;

inline Hash HashOf(const std::string& label, uint64_t n) { return Keccak256(label + "/" + std::to_string(n)); }

// 2^200 + 7: a chain ID that does not fit 64 bits.
inline ChainID BigChainID() { return ChainID((U256(1) << 200) + 7); }

// Block `number` of a deterministic chain: its hash depends on `number` and `fork`, its parent is
// block number-1 of the same fork. Every third log (when `with_exec`) is an executing message.
inline BlockRecord ChainBlock(uint64_t number, uint32_t log_count, bool with_exec = true, const std::string& fork = "a") {
  BlockRecord b;
  b.ref = BlockRef{.hash = HashOf("block-" + fork, number),
                   .number = number,
                   .parent_hash = HashOf("block-" + fork, number - 1),
                   .timestamp = 1000 + 2 * number};
  for (uint32_t i = 0; i < log_count; ++i) {
    LogRecord log{.log_hash = HashOf("log-" + fork + "-" + std::to_string(number), i), .exec = std::nullopt};
    if (with_exec && i % 3 == 1)
      log.exec = ExecRef{.chain_id = i % 2 == 1 ? BigChainID() : ChainID(uint64_t{10}),
                         .block_number = number / 2,
                         .log_index = i + 5,
                         .timestamp = 1000 + number,
                         .log_hash = HashOf("exec-" + fork + "-" + std::to_string(number), i)};
    b.logs.push_back(log);
  }
  return b;
}

inline Bytes ReadFileBytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Overwrites the file with `bytes`. Rewrites in place and then cuts, because truncating to zero
// first makes ext4 flush on close (its replace-by-truncate heuristic), which makes loops slow.
inline void WriteFileBytes(const std::filesystem::path& p, const Bytes& bytes) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  SS_CHECK(fd >= 0, "open " + p.string());
  SS_CHECK(::pwrite(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()), "write " + p.string());
  SS_CHECK(::ftruncate(fd, static_cast<off_t>(bytes.size())) == 0, "truncate " + p.string());
  ::close(fd);
}

// The file's content without the preallocated zero tail: up to its last nonzero byte, rounded up
// to a whole entry, at most the file size.
inline Bytes ContentBytes(const std::filesystem::path& p) {
  Bytes bytes = ReadFileBytes(p);
  size_t end = bytes.size();
  while (end > 0 && bytes[end - 1] == 0) --end;
  constexpr size_t kEntry = event_format::kEntrySize;
  bytes.resize(std::min(bytes.size(), (end + kEntry - 1) / kEntry * kEntry));
  return bytes;
}

// One past the last nonzero byte of bytes[from, to), or `from`: where a torn write that wrote
// bytes[from, to) into preallocated space ends.
inline size_t TrimmedEnd(const Bytes& bytes, size_t from, size_t to) {
  while (to > from && bytes[to - 1] == 0) --to;
  return to;
}

// Opens (or creates) the DB of chain `chain` at `file`; stops the test binary if that fails.
inline std::unique_ptr<EventDB> OpenOrDie(const std::filesystem::path& file, const OpenOptions& options = {},
                                          const ChainID& chain = BigChainID()) {
  auto db = EventDB::Open(file, chain, options);
  SS_CHECK(db.ok(), db.status().ToString());
  return std::move(db).value();
}

// Where recovery moves a torn tail: <file>.broken.
inline std::filesystem::path BrokenPath(const std::filesystem::path& file) {
  std::filesystem::path p = file;
  p += ".broken";
  return p;
}

// The bytes block `b` takes in the file.
inline uint64_t EncodedSize(const BlockRecord& b) {
  const auto execs = std::count_if(b.logs.begin(), b.logs.end(), [](const LogRecord& l) { return l.exec.has_value(); });
  return event_format::BlockSize(b.logs.size(), static_cast<uint64_t>(execs));
}

// The bytes `blocks` encode to (in a file of their own, chain `chain`), without the file header.
inline Bytes EncodedBytes(const std::vector<BlockRecord>& blocks, const ChainID& chain) {
  TempDir dir;
  const auto file = dir.path() / "encoded.db";
  {
    auto db = EventDB::Open(file, chain);
    SS_CHECK(db.ok() && (*db)->AppendBatch(blocks).ok(), "encoding blocks");
  }
  size_t end = event_format::kFileHeaderSize;
  for (const BlockRecord& b : blocks) end += EncodedSize(b);
  const Bytes bytes = ReadFileBytes(file);
  SS_CHECK(bytes.size() >= end, "encoded file too short");
  return Bytes(bytes.begin() + event_format::kFileHeaderSize, bytes.begin() + static_cast<ptrdiff_t>(end));
}

}  // namespace supersafe::db::testing
