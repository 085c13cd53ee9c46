// The event-log DB's bytes: the file header and blocks, encoded, decoded and checked; access-list
// checksums (docs/event-db-format.md, "Entries").
#include "db/event_db_internal.h"

#include <cstdio>

#include "core/crypto.h"

namespace supersafe::db::event_db_internal {

std::string HexByte(uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

const char* EntryKind(uint8_t type) {
  switch (type) {
    case kTypeCheckpoint: return "checkpoint";
    case kTypeBlockHash: return "block hash";
    case kTypeParentHash: return "parent hash";
    case kTypeLog: return "log";
    case kTypeExecChain: return "exec chain";
    case kTypeExecPosition: return "exec position";
    case kTypeExecHash: return "exec hash";
    case kTypeChecksum: return "checksum";
    default: return nullptr;
  }
}

namespace {

// Checks the type byte of an entry; `expected` is one of the kType* constants.
std::optional<std::string> TypeMismatch(uint8_t type, uint8_t expected) {
  if (type == expected) return std::nullopt;
  const char* kind = EntryKind(type);
  if (kind == nullptr) return "unknown entry type " + HexByte(type) + " where a " + EntryKind(expected) + " entry belongs";
  return std::string("a ") + kind + " entry where a " + EntryKind(expected) + " entry belongs";
}

}  // namespace

Status CorruptionAt(const std::filesystem::path& file, uint64_t offset, const std::string& what) {
  return Corruption(file.string() + ": corruption at offset " + std::to_string(offset) + ": " + what);
}

Bytes EncodeFileHeader(const ChainID& chain_id) {
  Bytes h(kFileHeaderSize, 0);
  std::copy(std::begin(kMagic), std::end(kMagic), h.begin() + kHeaderMagic);
  PutU32BE(h.data() + kHeaderVersion, kFormatVersion);
  PutU32BE(h.data() + kHeaderEntrySize, kEntrySize);
  const Hash id = chain_id.ToBytes32();
  std::copy(id.bytes.begin(), id.bytes.end(), h.begin() + kHeaderChainID);
  PutU32BE(h.data() + kHeaderCrc, Crc32cOf(h.data(), kHeaderCrc));
  return h;
}

std::optional<Problem> CheckFileHeader(const uint8_t* h) {
  if (!std::equal(std::begin(kMagic), std::end(kMagic), h + kHeaderMagic))
    return Problem{kHeaderMagic, "bad magic: not an event-log DB"};
  if (uint32_t v = GetU32BE(h + kHeaderVersion); v != kFormatVersion)
    return Problem{kHeaderVersion, "unsupported format version " + std::to_string(v)};
  if (Crc32cOf(h, kHeaderCrc) != GetU32BE(h + kHeaderCrc)) return Problem{kHeaderCrc, "file header CRC mismatch"};
  if (uint32_t size = GetU32BE(h + kHeaderEntrySize); size != kEntrySize)
    return Problem{kHeaderEntrySize, "entry size " + std::to_string(size) + ", expected " + std::to_string(kEntrySize)};
  if (!AllZero(h + kHeaderReserved, kHeaderCrc - kHeaderReserved))
    return Problem{kHeaderReserved, "nonzero reserved bytes in the file header"};
  return std::nullopt;
}

void ComputeChecksums(std::span<const BlockRecord> blocks, const ChainID& chain_id, std::vector<Hash>& out,
                      Bytes& scratch, std::vector<ByteSpan>& spans) {
  size_t total = 0;
  for (const BlockRecord& b : blocks) total += b.logs.size();
  out.resize(total);
  scratch.resize(64 * total);
  spans.resize(total);
  // Round 1: idLogHash = keccak256(logHash ‖ idPacked), idPacked = 12 zero bytes ‖ u64 number ‖
  // u64 timestamp ‖ u32 log index.
  uint8_t* p = scratch.data();
  size_t k = 0;
  for (const BlockRecord& b : blocks) {
    for (size_t i = 0; i < b.logs.size(); ++i, ++k, p += 64) {
      std::copy(b.logs[i].log_hash.bytes.begin(), b.logs[i].log_hash.bytes.end(), p);
      std::fill(p + 32, p + 44, uint8_t{0});
      PutU64BE(p + 44, b.ref.number);
      PutU64BE(p + 52, b.ref.timestamp);
      PutU32BE(p + 60, static_cast<uint32_t>(i));
      spans[k] = ByteSpan(p, 64);
    }
  }
  Keccak256Many(spans, out);
  // Round 2: bare = keccak256(idLogHash ‖ uint256(chainID)); checksum = 0x03 ‖ bare[1..32).
  const Hash chain = chain_id.ToBytes32();
  p = scratch.data();
  for (size_t j = 0; j < total; ++j, p += 64) {
    std::copy(out[j].bytes.begin(), out[j].bytes.end(), p);
    std::copy(chain.bytes.begin(), chain.bytes.end(), p + 32);
  }
  Keccak256Many(spans, out);
  for (Hash& h : out) h.bytes[0] = kChecksumPrefix;
}

std::optional<Problem> CheckCheckpoint(const uint8_t* c) {
  for (uint8_t i = 0; i < kCheckpointEntries; ++i) {
    if (auto m = TypeMismatch(c[i * kEntrySize], static_cast<uint8_t>(kTypeCheckpoint + i)))
      return Problem{i * kEntrySize, *m};
  }
  if (!AllZero(c + 1, kCheckpointCrc - 1)) return Problem{0, "nonzero reserved bytes in a checkpoint"};
  if (Crc32cOf(c + kCheckpointNumber, kCheckpointSize - kCheckpointNumber) != GetU32BE(c + kCheckpointCrc))
    return Problem{0, "checkpoint CRC mismatch"};
  if (!AllZero(c + kCheckpointReserved, kEntrySize - kCheckpointReserved) ||
      !AllZero(c + kEntrySize + 1, kEntryHash - 1) || !AllZero(c + 2 * kEntrySize + 1, kEntryHash - 1))
    return Problem{0, "nonzero reserved bytes in a checkpoint"};
  if (GetU32BE(c + kCheckpointExecCount) > GetU32BE(c + kCheckpointLogCount))
    return Problem{0, "more executing messages than logs"};
  return std::nullopt;
}

Checkpoint DecodeCheckpoint(const uint8_t* c) {
  Checkpoint cp;
  cp.ref.number = GetU64BE(c + kCheckpointNumber);
  cp.ref.timestamp = GetU64BE(c + kCheckpointTimestamp);
  cp.ref.hash = HashAt(c + kEntrySize + kEntryHash);
  cp.ref.parent_hash = HashAt(c + 2 * kEntrySize + kEntryHash);
  cp.log_count = GetU32BE(c + kCheckpointLogCount);
  cp.exec_count = GetU32BE(c + kCheckpointExecCount);
  cp.body_crc = GetU32BE(c + kCheckpointBodyCrc);
  return cp;
}

void CheckBody(const uint8_t* block, const Checkpoint& cp, std::vector<Problem>& problems) {
  const size_t before = problems.size();
  const uint8_t* body = block + kCheckpointSize;
  if (Crc32cOf(body, cp.size() - kCheckpointSize) != cp.body_crc) problems.push_back({0, "block body CRC mismatch"});
  auto entry_offset = [](uint64_t i) { return kCheckpointSize + i * kEntrySize; };
  uint32_t executing = 0;
  // A sound log entry starts with type, flags (0 or executing), two zero bytes and its index.
  constexpr uint64_t kExecutingBit = uint64_t{kLogFlagExecuting} << 48;
  for (uint32_t i = 0; i < cp.log_count; ++i) {
    const uint8_t* e = body + uint64_t{i} * kEntrySize;
    const uint64_t head = GetU64BE(e);
    if ((head & ~kExecutingBit) == (uint64_t{kTypeLog} << 56 | i)) {
      executing += (head & kExecutingBit) != 0 ? 1 : 0;
      continue;
    }
    if (auto m = TypeMismatch(e[0], kTypeLog)) {
      problems.push_back({entry_offset(i), *m});
      continue;
    }
    if ((e[kLogFlags] & ~kLogFlagExecuting) != 0 || !AllZero(e + kLogFlags + 1, kEntryIndex - kLogFlags - 1))
      problems.push_back({entry_offset(i), "nonzero reserved bits in a log entry"});
    if (GetU32BE(e + kEntryIndex) != i)
      problems.push_back({entry_offset(i), "log entry " + std::to_string(i) + " holds index " +
                                               std::to_string(GetU32BE(e + kEntryIndex))});
    executing += IsExecutingLog(e) ? 1 : 0;
  }
  if (executing != cp.exec_count)
    problems.push_back({0, "checkpoint counts " + std::to_string(cp.exec_count) + " executing messages, " +
                               std::to_string(executing) + " logs are flagged"});
  // A sound checksum entry starts with type, three zero bytes, its log index, then 0x03.
  for (uint32_t i = 0; i < cp.log_count; ++i) {
    const uint64_t k = uint64_t{cp.log_count} + i;
    const uint8_t* e = body + k * kEntrySize;
    if (GetU64BE(e) == (uint64_t{kTypeChecksum} << 56 | i) && e[kEntryHash] == kChecksumPrefix) continue;
    if (auto m = TypeMismatch(e[0], kTypeChecksum)) {
      problems.push_back({entry_offset(k), *m});
      continue;
    }
    if (!AllZero(e + 1, kEntryIndex - 1)) problems.push_back({entry_offset(k), "nonzero reserved bytes in a checksum entry"});
    if (GetU32BE(e + kEntryIndex) != i)
      problems.push_back({entry_offset(k), "checksum entry " + std::to_string(i) + " holds index " +
                                               std::to_string(GetU32BE(e + kEntryIndex))});
    if (e[kEntryHash] != kChecksumPrefix)
      problems.push_back({entry_offset(k), "checksum entry " + std::to_string(i) + " starts with " +
                                               HexByte(e[kEntryHash]) + ", not " + HexByte(kChecksumPrefix)});
  }
  uint32_t log = 0;  // the executing log the next link belongs to
  for (uint32_t j = 0; j < cp.exec_count; ++j, ++log) {
    while (log < cp.log_count && !IsExecutingLog(body + uint64_t{log} * kEntrySize)) ++log;
    const uint64_t first = 2 * uint64_t{cp.log_count} + uint64_t{j} * kExecLinkEntries;
    for (uint8_t k = 0; k < kExecLinkEntries; ++k) {
      const uint8_t* x = body + (first + k) * kEntrySize;
      const uint64_t at = entry_offset(first + k);
      const uint8_t type = static_cast<uint8_t>(kTypeExecChain + k);
      if (auto m = TypeMismatch(x[0], type)) {
        problems.push_back({at, *m});
        continue;
      }
      if (!AllZero(x + 1, kEntryIndex - 1) ||
          (type == kTypeExecPosition && !AllZero(x + kExecPositionReserved, kEntrySize - kExecPositionReserved)))
        problems.push_back({at, std::string("nonzero reserved bytes in an ") + EntryKind(type) + " entry"});
      if (type != kTypeExecPosition && GetU32BE(x + kEntryIndex) != log)
        problems.push_back({at, std::string("an ") + EntryKind(type) + " entry names log " +
                                    std::to_string(GetU32BE(x + kEntryIndex)) + ", not the executing log " +
                                    std::to_string(log)});
    }
  }
  std::stable_sort(problems.begin() + static_cast<ptrdiff_t>(before), problems.end(),
                   [](const Problem& a, const Problem& b) { return a.offset < b.offset; });
}

void EncodeBlock(const BlockRecord& b, const Hash* checksums, Bytes& out) {
  const auto exec_count = static_cast<uint32_t>(
      std::count_if(b.logs.begin(), b.logs.end(), [](const LogRecord& l) { return l.exec.has_value(); }));
  const auto log_count = static_cast<uint32_t>(b.logs.size());
  const size_t start = out.size();
  out.resize(start + BlockSize(log_count, exec_count));
  uint8_t* c = out.data() + start;
  c[0] = kTypeCheckpoint;
  PutU64BE(c + kCheckpointNumber, b.ref.number);
  PutU64BE(c + kCheckpointTimestamp, b.ref.timestamp);
  PutU32BE(c + kCheckpointLogCount, log_count);
  PutU32BE(c + kCheckpointExecCount, exec_count);
  c[kEntrySize] = kTypeBlockHash;
  std::copy(b.ref.hash.bytes.begin(), b.ref.hash.bytes.end(), c + kEntrySize + kEntryHash);
  c[2 * kEntrySize] = kTypeParentHash;
  std::copy(b.ref.parent_hash.bytes.begin(), b.ref.parent_hash.bytes.end(), c + 2 * kEntrySize + kEntryHash);

  uint8_t* body = c + kCheckpointSize;
  uint8_t* e = body;
  for (uint32_t i = 0; i < log_count; ++i, e += kEntrySize) {
    const LogRecord& log = b.logs[i];
    e[0] = kTypeLog;
    e[kLogFlags] = log.exec ? kLogFlagExecuting : 0;
    PutU32BE(e + kEntryIndex, i);
    std::copy(log.log_hash.bytes.begin(), log.log_hash.bytes.end(), e + kEntryHash);
  }
  for (uint32_t i = 0; i < log_count; ++i, e += kEntrySize) {
    e[0] = kTypeChecksum;
    PutU32BE(e + kEntryIndex, i);
    std::copy(checksums[i].bytes.begin(), checksums[i].bytes.end(), e + kEntryHash);
  }
  for (uint32_t i = 0; i < log_count; ++i) {
    if (!b.logs[i].exec) continue;
    const ExecRef& x = *b.logs[i].exec;
    e[0] = kTypeExecChain;
    PutU32BE(e + kEntryIndex, i);
    const Hash chain = x.chain_id.ToBytes32();
    std::copy(chain.bytes.begin(), chain.bytes.end(), e + kEntryHash);
    e += kEntrySize;
    e[0] = kTypeExecPosition;
    PutU32BE(e + kEntryIndex, x.log_index);
    PutU64BE(e + kExecPositionNumber, x.block_number);
    PutU64BE(e + kExecPositionTimestamp, x.timestamp);
    e += kEntrySize;
    e[0] = kTypeExecHash;
    PutU32BE(e + kEntryIndex, i);
    std::copy(x.log_hash.bytes.begin(), x.log_hash.bytes.end(), e + kEntryHash);
    e += kEntrySize;
  }
  SS_CHECK(e == out.data() + out.size(), "event DB block encoding overran its size");
  PutU32BE(c + kCheckpointBodyCrc, Crc32cOf(body, static_cast<size_t>(e - body)));
  PutU32BE(c + kCheckpointCrc, Crc32cOf(c + kCheckpointNumber, kCheckpointSize - kCheckpointNumber));

  // What is written must read back as sound.
  SS_CHECK(!CheckCheckpoint(c), "encoded event DB checkpoint is unsound");
  std::vector<Problem> problems;
  CheckBody(c, DecodeCheckpoint(c), problems);
  SS_CHECK(problems.empty(), "encoded event DB block is unsound: " + problems.front().what);
}

std::vector<LogRecord> DecodeLogs(const uint8_t* block, const Checkpoint& cp) {
  const uint8_t* body = block + kCheckpointSize;
  std::vector<LogRecord> logs(cp.log_count);
  const uint8_t* link = body + 2 * uint64_t{cp.log_count} * kEntrySize;
  for (uint32_t i = 0; i < cp.log_count; ++i) {
    const uint8_t* e = body + uint64_t{i} * kEntrySize;
    logs[i].log_hash = HashAt(e + kEntryHash);
    if (!IsExecutingLog(e)) continue;
    const uint8_t* position = link + kEntrySize;
    logs[i].exec = ExecRef{.chain_id = ChainID::FromBytes32(HashAt(link + kEntryHash)),
                           .block_number = GetU64BE(position + kExecPositionNumber),
                           .log_index = GetU32BE(position + kEntryIndex),
                           .timestamp = GetU64BE(position + kExecPositionTimestamp),
                           .log_hash = HashAt(link + 2 * kEntrySize + kEntryHash)};
    link += kExecLinkEntries * kEntrySize;
  }
  return logs;
}

}  // namespace supersafe::db::event_db_internal
