#include "rpc/codec.h"

namespace supersafe::rpc {

namespace {

Status Bad(const std::string& field, const std::string& what) { return InvalidArgument(field + ": " + what); }

const char* TypeName(const Json& j) {
  if (j.is_number_float()) return "a fractional number";
  if (j.is_number_integer() && !j.is_number_unsigned()) return "a negative number";
  return j.type_name();
}

Result<std::string_view> StringOf(const Json& j, const std::string& field) {
  if (!j.is_string()) return Bad(field, std::string("want a string, got ") + TypeName(j));
  return std::string_view(j.get_ref<const std::string&>());
}

// The member `name` of object `j`, or an error naming `field.name`.
Result<const Json*> Member(const Json& j, const std::string& field, const char* name) {
  if (!j.is_object()) return Bad(field, std::string("want an object, got ") + TypeName(j));
  auto it = j.find(name);
  if (it == j.end()) return Bad(field + "." + name, "missing");
  return &*it;
}

template <typename T>
Result<T> FixedFrom(const Json& j, const std::string& field) {
  SS_ASSIGN_OR_RETURN(std::string_view s, StringOf(j, field));
  if (s.size() < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return Bad(field, "want 0x-prefixed hex");
  auto v = T::Parse(s, field);
  if (!v.ok()) return v.status();
  return *v;
}

}  // namespace

Result<ChainID> DecodeChainID(const Json& j, const std::string& field) {
  SS_ASSIGN_OR_RETURN(std::string_view s, StringOf(j, field));
  auto id = ChainID::Parse(s);
  if (!id.ok()) return Bad(field, id.status().message());
  return *id;
}

Result<uint64_t> DecodeHexU64(const Json& j, const std::string& field) {
  SS_ASSIGN_OR_RETURN(std::string_view s, StringOf(j, field));
  if (s.size() < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return Bad(field, "want 0x-prefixed hex");
  std::string_view digits = s.substr(2);
  if (digits.empty()) return Bad(field, "no hex digits after 0x");
  if (digits.size() > 1 && digits[0] == '0') return Bad(field, "hex number with leading zero digits");
  if (digits.size() > 16) return Bad(field, "hex number exceeds 64 bits");
  uint64_t v = 0;
  for (char c : digits) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) return Bad(field, "invalid hex digit in '" + std::string(s) + "'");
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

Result<uint64_t> DecodeNumber(const Json& j, const std::string& field) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_string()) return DecodeHexU64(j, field);
  if (j.is_number_float()) return Bad(field, "want an integer below 2^64, got a fractional or too large number");
  return Bad(field, std::string("want a non-negative integer, got ") + TypeName(j));
}

Result<Hash> DecodeHash(const Json& j, const std::string& field) { return FixedFrom<Hash>(j, field); }
Result<Address> DecodeAddress(const Json& j, const std::string& field) { return FixedFrom<Address>(j, field); }

Result<bool> DecodeBool(const Json& j, const std::string& field) {
  if (!j.is_boolean()) return Bad(field, std::string("want a boolean, got ") + TypeName(j));
  return j.get<bool>();
}

Result<SafetyLevel> DecodeSafetyLevel(const Json& j, const std::string& field) {
  SS_ASSIGN_OR_RETURN(std::string_view s, StringOf(j, field));
  auto level = ParseSafetyLevel(s);
  if (!level.ok()) return Bad(field, "unknown safety level '" + std::string(s) + "'");
  return *level;
}

Result<supervisor::AccessSafety> DecodeAccessSafety(const Json& j, const std::string& field) {
  SS_ASSIGN_OR_RETURN(std::string_view s, StringOf(j, field));
  auto level = supervisor::ParseAccessSafety(s);
  if (!level.ok())
    return Bad(field, "unexpected min-safety level '" + std::string(s) +
                          "' (want unsafe, local-safe, cross-unsafe, safe or finalized)");
  return *level;
}

Result<BlockID> DecodeBlockID(const Json& j, const std::string& field) {
  BlockID b;
  SS_ASSIGN_OR_RETURN(const Json* hash, Member(j, field, "hash"));
  SS_ASSIGN_OR_RETURN(b.hash, DecodeHash(*hash, field + ".hash"));
  SS_ASSIGN_OR_RETURN(const Json* number, Member(j, field, "number"));
  SS_ASSIGN_OR_RETURN(b.number, DecodeNumber(*number, field + ".number"));
  return b;
}

Result<BlockRef> DecodeBlockRef(const Json& j, const std::string& field) {
  SS_ASSIGN_OR_RETURN(BlockID id, DecodeBlockID(j, field));
  BlockRef b;
  b.hash = id.hash;
  b.number = id.number;
  SS_ASSIGN_OR_RETURN(const Json* parent, Member(j, field, "parentHash"));
  SS_ASSIGN_OR_RETURN(b.parent_hash, DecodeHash(*parent, field + ".parentHash"));
  SS_ASSIGN_OR_RETURN(const Json* time, Member(j, field, "timestamp"));
  SS_ASSIGN_OR_RETURN(b.timestamp, DecodeNumber(*time, field + ".timestamp"));
  return b;
}

Result<Identifier> DecodeIdentifier(const Json& j, const std::string& field) {
  Identifier id;
  SS_ASSIGN_OR_RETURN(const Json* origin, Member(j, field, "origin"));
  SS_ASSIGN_OR_RETURN(id.origin, DecodeAddress(*origin, field + ".origin"));
  SS_ASSIGN_OR_RETURN(const Json* number, Member(j, field, "blockNumber"));
  SS_ASSIGN_OR_RETURN(id.block_number, DecodeHexU64(*number, field + ".blockNumber"));
  SS_ASSIGN_OR_RETURN(const Json* index, Member(j, field, "logIndex"));
  SS_ASSIGN_OR_RETURN(uint64_t log_index, DecodeHexU64(*index, field + ".logIndex"));
  if (log_index > UINT32_MAX) return Bad(field + ".logIndex", "exceeds 2^32-1");
  id.log_index = static_cast<uint32_t>(log_index);
  SS_ASSIGN_OR_RETURN(const Json* time, Member(j, field, "timestamp"));
  SS_ASSIGN_OR_RETURN(id.timestamp, DecodeHexU64(*time, field + ".timestamp"));
  SS_ASSIGN_OR_RETURN(const Json* chain, Member(j, field, "chainID"));
  SS_ASSIGN_OR_RETURN(id.chain_id, DecodeChainID(*chain, field + ".chainID"));
  return id;
}

Result<supervisor::ExecutingDescriptor> DecodeExecutingDescriptor(const Json& j, const std::string& field) {
  supervisor::ExecutingDescriptor d;
  SS_ASSIGN_OR_RETURN(const Json* time, Member(j, field, "timestamp"));
  SS_ASSIGN_OR_RETURN(d.timestamp, DecodeHexU64(*time, field + ".timestamp"));
  if (auto it = j.find("timeout"); it != j.end() && !it->is_null()) {
    SS_ASSIGN_OR_RETURN(d.timeout, DecodeHexU64(*it, field + ".timeout"));
    if (d.timeout > UINT64_MAX - d.timestamp) return Bad(field + ".timeout", "timestamp + timeout exceeds 2^64-1");
  }
  if (auto it = j.find("chainID"); it != j.end() && !it->is_null()) {
    SS_ASSIGN_OR_RETURN(ChainID id, DecodeChainID(*it, field + ".chainID"));
    if (id != ChainID()) d.chain_id = id;
  }
  return d;
}

Result<std::vector<Hash>> DecodeHashList(const Json& j, const std::string& field) {
  if (!j.is_array()) return Bad(field, std::string("want an array, got ") + TypeName(j));
  std::vector<Hash> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    SS_ASSIGN_OR_RETURN(Hash h, DecodeHash(j[i], field + "[" + std::to_string(i) + "]"));
    out.push_back(h);
  }
  return out;
}

Json Encode(const ChainID& id) { return id.Decimal(); }
Json Encode(const Hash& h) { return h.Hex(); }
Json Encode(const BlockID& b) { return Json{{"hash", b.hash.Hex()}, {"number", b.number}}; }

Json Encode(const BlockRef& b) {
  return Json{{"hash", b.hash.Hex()}, {"number", b.number}, {"parentHash", b.parent_hash.Hex()}, {"timestamp", b.timestamp}};
}

Json Encode(const Identifier& id) {
  return Json{{"origin", id.origin.Hex()},
              {"blockNumber", HexU64(id.block_number)},
              {"logIndex", HexU64(id.log_index)},
              {"timestamp", HexU64(id.timestamp)},
              {"chainID", id.chain_id.Decimal()}};
}

Json Encode(const supervisor::CrossSafeAnswer& a) {
  return Json{{"status", supervisor::CrossSafeStatusName(a.status)},
              {"crossSafe", Encode(a.cross_safe)},
              {"localSafe", Encode(a.local_safe)}};
}

Json Encode(const supervisor::DerivedPair& p) { return Json{{"source", Encode(p.source)}, {"derived", Encode(p.derived)}}; }

Json Encode(const supervisor::SuperRootResponse& r) {
  Json chains = Json::array();
  for (const auto& c : r.chains)
    chains.push_back(Json{{"chainID", c.chain_id.Decimal()}, {"canonical", c.canonical.Hex()}, {"pending", ToHex(c.pending)}});
  return Json{{"crossSafeDerivedFrom", Encode(r.cross_safe_derived_from)},
              {"timestamp", HexU64(r.timestamp)},
              {"superRoot", r.super_root.Hex()},
              {"version", ToHex(ByteSpan(&r.version, 1))},
              {"chains", std::move(chains)}};
}

Json Encode(const supervisor::SyncStatus& s) {
  Json chains = Json::object();
  for (const auto& [id, c] : s.chains)
    chains[id.Decimal()] = Json{{"localUnsafe", Encode(c.local_unsafe)},
                                {"localSafe", Encode(c.local_safe)},
                                {"crossUnsafe", Encode(c.cross_unsafe)},
                                {"safe", Encode(c.cross_safe)},  // op-supervisor's name for cross-safe
                                {"finalized", Encode(c.finalized)}};
  return Json{{"minSyncedL1", Encode(s.min_synced_l1)},
              {"safeTimestamp", s.safe_timestamp},
              {"finalizedTimestamp", s.finalized_timestamp},
              {"chains", std::move(chains)}};
}

Json Encode(const std::map<ChainID, BlockID>& heads) {
  Json out = Json::object();
  for (const auto& [id, b] : heads) out[id.Decimal()] = Encode(b);
  return out;
}

Json EncodeDependencySet(const supervisor::DependencySet& deps) {
  Json chains = Json::object();
  for (const auto& c : deps.chains) chains[c.id.Decimal()] = Json::object();
  return Json{{"dependencies", std::move(chains)}, {"overrideMessageExpiryWindow", deps.expiry_window}};
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace supersafe::rpc
