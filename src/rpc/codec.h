// JSON codecs for the types of the daemon's JSON-RPC surface (docs/rpc.md).
//
// Decoders are strict: a missing field, a value of the wrong JSON type, hex of the wrong length or
// without "0x", a leading zero in a HexU64, or a value too large for its field is kInvalidArgument
// with a message that starts with the field's path ("params[1].number: ..."). Unknown object
// fields are ignored, as op-supervisor's decoder ignores them. Nothing here aborts on any input.
//
// Encoders write the op-supervisor wire shapes: BlockID/BlockRef numbers and timestamps as JSON
// numbers, HexU64 fields as "0x" hex, chain IDs as decimal strings, hashes as lowercase hex.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "supervisor/supervisor.h"

namespace supersafe::rpc {

using Json = nlohmann::json;

// --- decoders; `field` names the value in errors ---
// A chain ID: a decimal string or a 0x-hex string, below 2^256.
Result<ChainID> DecodeChainID(const Json& j, const std::string& field);
// "0x" followed by 1 to 16 hex digits without leading zeros (op-supervisor's hexutil.Uint64).
Result<uint64_t> DecodeHexU64(const Json& j, const std::string& field);
// A JSON unsigned integer below 2^64, or a HexU64 string (BlockID.number, BlockRef.timestamp).
Result<uint64_t> DecodeNumber(const Json& j, const std::string& field);
Result<Hash> DecodeHash(const Json& j, const std::string& field);
Result<Address> DecodeAddress(const Json& j, const std::string& field);
Result<bool> DecodeBool(const Json& j, const std::string& field);
// "finalized", "safe", "cross-unsafe", "unsafe", "unknown" or "conflicts".
Result<SafetyLevel> DecodeSafetyLevel(const Json& j, const std::string& field);
// checkAccessList's minSafety: every name op-supervisor's SafetyLevel accepts there: "unsafe",
// "local-safe", "cross-unsafe", "safe", "finalized".
Result<supervisor::AccessSafety> DecodeAccessSafety(const Json& j, const std::string& field);
Result<BlockID> DecodeBlockID(const Json& j, const std::string& field);
Result<BlockRef> DecodeBlockRef(const Json& j, const std::string& field);
// {origin, blockNumber, logIndex (below 2^32), timestamp, chainID}
Result<Identifier> DecodeIdentifier(const Json& j, const std::string& field);
// {timestamp, timeout?, chainID?}; a chainID of zero ("0", "0x0") counts as absent, as op-supervisor
// treats the zero chain ID that op-geth's encoder writes when it has none.
Result<supervisor::ExecutingDescriptor> DecodeExecutingDescriptor(const Json& j, const std::string& field);
// An array of hashes.
Result<std::vector<Hash>> DecodeHashList(const Json& j, const std::string& field);

// --- encoders ---
Json Encode(const ChainID& id);
Json Encode(const Hash& h);
Json Encode(const BlockID& b);
Json Encode(const BlockRef& b);
Json Encode(const Identifier& id);
Json Encode(const supervisor::CrossSafeAnswer& a);
Json Encode(const supervisor::DerivedPair& p);
Json Encode(const supervisor::SuperRootResponse& r);
Json Encode(const supervisor::SyncStatus& s);
Json Encode(const std::map<ChainID, BlockID>& heads);
// op-supervisor's dependency-set JSON: {"dependencies": {"<id>": {}}, "overrideMessageExpiryWindow": N}.
Json EncodeDependencySet(const supervisor::DependencySet& deps);

// The compact text every request and answer is written as. Strings from a request are valid UTF-8
// (the parser checks), but a message may cut one short: invalid UTF-8 is replaced, never thrown on.
std::string Dump(const Json& j);

}  // namespace supersafe::rpc
