#include "core/messages.h"

#include <algorithm>

#include "core/check.h"
#include "core/crypto.h"

namespace supersafe {

const Address& CrossL2InboxAddress() {
  static const Address kAddr = Address::Parse("0x4200000000000000000000000000000000000022").value();
  return kAddr;
}

const Hash& ExecutingMessageTopic() {
  static const Hash kTopic = Keccak256("ExecutingMessage(bytes32,(address,uint256,uint256,uint256,uint256))");
  return kTopic;
}

Bytes LogPayload(const Log& log) {
  Bytes out;
  out.reserve(log.topics.size() * 32 + log.data.size());
  for (const Hash& t : log.topics) out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  out.insert(out.end(), log.data.begin(), log.data.end());
  return out;
}

Hash PayloadHash(ByteSpan payload) { return Keccak256(payload); }

Hash LogHash(const Address& origin, const Hash& payload_hash) {
  uint8_t buf[52];
  std::copy(origin.bytes.begin(), origin.bytes.end(), buf);
  std::copy(payload_hash.bytes.begin(), payload_hash.bytes.end(), buf + 20);
  return Keccak256(ByteSpan(buf, sizeof buf));
}

void LogHashesOf(std::span<const Log* const> logs, std::span<Hash> out) {
  SS_CHECK(logs.size() == out.size(), "LogHashesOf: as many outputs as logs");
  // Every payload (topics ‖ data) in one buffer, then every origin ‖ payload hash in another.
  // Scratch reused between calls (one set per thread): indexing calls this for every batch.
  thread_local Bytes payloads, preimages;
  thread_local std::vector<ByteSpan> spans;
  thread_local std::vector<Hash> payload_hashes;
  size_t total = 0;
  for (const Log* log : logs) total += log->topics.size() * 32 + log->data.size();
  payloads.resize(total);
  spans.resize(logs.size());
  uint8_t* at = payloads.data();
  for (size_t i = 0; i < logs.size(); ++i) {
    uint8_t* start = at;
    for (const Hash& t : logs[i]->topics) at = std::copy(t.bytes.begin(), t.bytes.end(), at);
    at = std::copy(logs[i]->data.begin(), logs[i]->data.end(), at);
    spans[i] = ByteSpan(start, static_cast<size_t>(at - start));
  }
  payload_hashes.resize(logs.size());
  Keccak256Many(spans, payload_hashes);
  preimages.resize(logs.size() * 52);
  for (size_t i = 0; i < logs.size(); ++i) {
    uint8_t* p = preimages.data() + i * 52;
    std::copy(logs[i]->address.bytes.begin(), logs[i]->address.bytes.end(), p);
    std::copy(payload_hashes[i].bytes.begin(), payload_hashes[i].bytes.end(), p + 20);
    spans[i] = ByteSpan(p, 52);
  }
  Keccak256Many(spans, out);
}

namespace {
void PutWordU64(uint8_t* w, uint64_t v) {
  std::fill(w, w + 24, 0);
  PutU64BE(w + 24, v);
}
// A 32-byte word holding an unsigned integer of `bits` bits or fewer.
bool WordFits(const uint8_t* w, int bits) {
  int zero_bytes = 32 - bits / 8;
  return std::all_of(w, w + zero_bytes, [](uint8_t b) { return b == 0; });
}
}  // namespace

Bytes EncodeIdentifier(const Identifier& id) {
  Bytes out(160, 0);
  std::copy(id.origin.bytes.begin(), id.origin.bytes.end(), out.begin() + 12);
  PutWordU64(out.data() + 32, id.block_number);
  PutWordU64(out.data() + 64, id.log_index);
  PutWordU64(out.data() + 96, id.timestamp);
  Hash chain = id.chain_id.ToBytes32();
  std::copy(chain.bytes.begin(), chain.bytes.end(), out.begin() + 128);
  return out;
}

Log MakeExecutingMessageLog(const ExecutingMessage& msg) {
  Log log;
  log.address = CrossL2InboxAddress();
  log.topics = {ExecutingMessageTopic(), msg.payload_hash};
  log.data = EncodeIdentifier(msg.id);
  return log;
}

Result<std::optional<ExecutingMessage>> DecodeExecutingMessage(const Log& log) {
  if (log.address != CrossL2InboxAddress()) return std::optional<ExecutingMessage>();
  if (log.topics.empty() || log.topics[0] != ExecutingMessageTopic()) return std::optional<ExecutingMessage>();
  if (log.topics.size() != 2)
    return InvalidArgument("executing message: want 2 topics, got " + std::to_string(log.topics.size()));
  if (log.data.size() != 160)
    return InvalidArgument("executing message: want 160 bytes of data, got " + std::to_string(log.data.size()));
  const uint8_t* d = log.data.data();
  if (!WordFits(d, 160)) return InvalidArgument("executing message: origin word has nonzero padding");
  if (!WordFits(d + 32, 64)) return InvalidArgument("executing message: blockNumber exceeds 64 bits");
  if (!WordFits(d + 64, 32)) return InvalidArgument("executing message: logIndex exceeds 32 bits");
  if (!WordFits(d + 96, 64)) return InvalidArgument("executing message: timestamp exceeds 64 bits");
  ExecutingMessage msg;
  msg.payload_hash = log.topics[1];
  std::copy(d + 12, d + 32, msg.id.origin.bytes.begin());
  msg.id.block_number = GetU64BE(d + 56);
  msg.id.log_index = GetU32BE(d + 92);
  msg.id.timestamp = GetU64BE(d + 120);
  msg.id.chain_id = ChainID::FromBytes32(Hash::FromSpan(ByteSpan(d + 128, 32)));
  return std::optional<ExecutingMessage>(msg);
}

}  // namespace supersafe
