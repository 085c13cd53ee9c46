// Interop messages (docs/protocol-rules.md, "Words"): logs, payload and log hashes, and the CrossL2Inbox
// ExecutingMessage event with its abi-encoded Identifier.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "core/types.h"

namespace supersafe {

// 0x4200000000000000000000000000000000000022
const Address& CrossL2InboxAddress();
// keccak256("ExecutingMessage(bytes32,(address,uint256,uint256,uint256,uint256))")
const Hash& ExecutingMessageTopic();

struct Log {
  Address address;
  std::vector<Hash> topics;
  Bytes data;
  bool operator==(const Log&) const = default;
};

// payload = topics[0..n) ‖ data
Bytes LogPayload(const Log& log);
Hash PayloadHash(ByteSpan payload);
inline Hash PayloadHashOf(const Log& log) { return PayloadHash(LogPayload(log)); }
// keccak256(origin ‖ payloadHash)
Hash LogHash(const Address& origin, const Hash& payload_hash);
inline Hash LogHashOf(const Log& log) { return LogHash(log.address, PayloadHashOf(log)); }
// out[i] = LogHashOf(*logs[i]), hashing many logs at once with Keccak256Many (core/crypto.h).
void LogHashesOf(std::span<const Log* const> logs, std::span<Hash> out);

// What an executing message claims: the identifier of the initiating log and its payload hash.
struct ExecutingMessage {
  Identifier id;
  Hash payload_hash;
  // The log hash the referenced initiating log must have.
  Hash ExpectedLogHash() const { return LogHash(id.origin, payload_hash); }
  bool operator==(const ExecutingMessage&) const = default;
};

// abi.encode(Identifier): five 32-byte words.
Bytes EncodeIdentifier(const Identifier& id);
// The log CrossL2Inbox emits for `msg`.
Log MakeExecutingMessageLog(const ExecutingMessage& msg);

// Decodes an ExecutingMessage log. nullopt when the log is not one (other emitter or other
// topic0). An error when it is emitted by CrossL2Inbox with the event topic but malformed
// (topic count, data length, padding, a field overflowing its width).
Result<std::optional<ExecutingMessage>> DecodeExecutingMessage(const Log& log);

}  // namespace supersafe
