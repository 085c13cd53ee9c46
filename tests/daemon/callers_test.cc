// The real callers of op-supervisor, played against the whole daemon over HTTP: each request is
// the body the Go client sends (method, params as Go's encoding/json writes them, no params member
// for a call without arguments, no Authorization header), and each answer is decoded the way
// that caller decodes it (encoding/json's matching of member names, hexutil's strict quantities,
// the geth RPC client's error message, op-service's "not found" mapping):
//
// - op-geth's tx-pool ingress filter (core/txpool/ingress_filters.go, eth/interop/interop.go):
//   supervisor_checkAccessList(entries, "cross-unsafe", {chainID, timestamp, timeout: 86400});
//   any error rejects the transaction.
// - op-geth's miner (miner/miner.go, every second): admin_getFailsafeEnabled() into a Go bool.
// - op-challenger's super trace provider and sync validator (op-challenger/game/fault/trace/super,
//   through op-service/sources/supervisor_client.go): syncStatus, superRootAtTimestamp (an error
//   containing "not found" is ethereum.NotFound: the invalid transition), allSafeDerivedAt.
// - op-proposer's supervisor proposal source (op-proposer/proposer/source/source_supervisor.go):
//   syncStatus (minSyncedL1, safeTimestamp, finalizedTimestamp), superRootAtTimestamp.
// - op-service's supervisor client otherwise: the deprecated supervisor_crossDerivedFrom,
//   finalizedL1, and op-service's health_status.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

#include "core/access_list.h"
#include "core/fp.h"
#include "rpc/dispatcher.h"
#include "tests/daemon/daemon_fixture.h"

namespace supersafe::testing {
namespace {

using rpc::Json;

// --- decoding as Go's encoding/json does (a member that does not decode is a Go error) ---

struct GoError : std::runtime_error {
  explicit GoError(const std::string& what) : std::runtime_error("Go would not decode this: " + what) {}
};

// The member for a Go field tagged `name`: the exact key, else a key equal ignoring case;
// nullptr when absent (Go leaves the zero value).
const Json* GoField(const Json& obj, const std::string& name) {
  if (!obj.is_object()) throw GoError("want an object for ." + name);
  if (auto it = obj.find(name); it != obj.end()) return &*it;
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  for (const auto& [key, value] : obj.items())
    if (lower(key) == lower(name)) return &value;
  return nullptr;
}

// uint64 from a JSON number; a string, fraction or negative fails, absent or null is zero.
uint64_t GoU64(const Json* j) {
  if (!j || j->is_null()) return 0;
  if (!j->is_number_unsigned()) throw GoError("uint64 from " + j->dump());
  return j->get<uint64_t>();
}

// hexutil.Uint64: "0x", 1 to 16 hex digits, no leading zero.
uint64_t GoHexU64(const Json* j) {
  if (!j || j->is_null()) return 0;
  if (!j->is_string()) throw GoError("hexutil.Uint64 from " + j->dump());
  auto v = rpc::DecodeHexU64(*j, "hexutil.Uint64");
  if (!v.ok()) throw GoError(v.status().message());
  return *v;
}

// hexutil.Bytes: "0x" and an even number of hex digits.
Bytes GoBytes(const Json* j) {
  if (!j || j->is_null()) return {};
  const std::string s = j->is_string() ? j->get<std::string>() : "";
  if (s.size() < 2 || s.rfind("0x", 0) != 0 || s.size() % 2 != 0) throw GoError("hexutil.Bytes from " + j->dump());
  auto b = ParseHexBytes(s, "hexutil.Bytes");
  if (!b.ok()) throw GoError(b.status().message());
  return *b;
}

Hash GoHash(const Json* j) {
  if (!j || j->is_null()) return Hash();
  auto h = rpc::DecodeHash(*j, "common.Hash");
  if (!h.ok()) throw GoError(h.status().message());
  return *h;
}

// eth.ChainID's text form (map keys and chainID members).
ChainID GoChainID(const std::string& text) {
  auto id = ChainID::Parse(text);
  if (!id.ok()) throw GoError("eth.ChainID from '" + text + "'");
  return *id;
}

BlockID GoBlockID(const Json* j) {
  if (!j || j->is_null()) return BlockID{};
  return BlockID{GoHash(GoField(*j, "hash")), GoU64(GoField(*j, "number"))};
}

BlockRef GoBlockRef(const Json* j) {
  if (!j || j->is_null()) return BlockRef{};
  BlockRef r;
  r.hash = GoHash(GoField(*j, "hash"));
  r.number = GoU64(GoField(*j, "number"));
  r.parent_hash = GoHash(GoField(*j, "parentHash"));
  r.timestamp = GoU64(GoField(*j, "timestamp"));
  return r;
}

// eth.SupervisorSyncStatus
struct GoChainSyncStatus {
  BlockRef local_unsafe;
  BlockID local_safe, cross_unsafe, cross_safe, finalized;
};
struct GoSyncStatus {
  BlockRef min_synced_l1;
  uint64_t safe_timestamp = 0, finalized_timestamp = 0;
  std::map<ChainID, GoChainSyncStatus> chains;
};
GoSyncStatus DecodeSyncStatus(const Json& j) {
  GoSyncStatus s;
  s.min_synced_l1 = GoBlockRef(GoField(j, "minSyncedL1"));
  s.safe_timestamp = GoU64(GoField(j, "safeTimestamp"));
  s.finalized_timestamp = GoU64(GoField(j, "finalizedTimestamp"));
  if (const Json* chains = GoField(j, "chains"); chains && !chains->is_null())
    for (const auto& [key, c] : chains->items())
      s.chains[GoChainID(key)] = {GoBlockRef(GoField(c, "localUnsafe")), GoBlockID(GoField(c, "localSafe")),
                                  GoBlockID(GoField(c, "crossUnsafe")), GoBlockID(GoField(c, "safe")),
                                  GoBlockID(GoField(c, "finalized"))};
  return s;
}

// eth.SuperRootResponse, with ToSuper()'s version check.
struct GoChainRootInfo {
  ChainID chain_id;
  Hash canonical;
  Bytes pending;
};
struct GoSuperRootResponse {
  BlockID cross_safe_derived_from;
  uint64_t timestamp = 0;
  Hash super_root;
  uint8_t version = 0;
  std::vector<GoChainRootInfo> chains;
};
GoSuperRootResponse DecodeSuperRoot(const Json& j) {
  GoSuperRootResponse r;
  r.cross_safe_derived_from = GoBlockID(GoField(j, "crossSafeDerivedFrom"));
  r.timestamp = GoHexU64(GoField(j, "timestamp"));
  r.super_root = GoHash(GoField(j, "superRoot"));
  Bytes version = GoBytes(GoField(j, "version"));
  if (version.size() != 1) throw GoError("invalid super root version");
  r.version = version[0];
  const Json* chains = GoField(j, "chains");
  if (!chains || !chains->is_array()) throw GoError("chains");
  for (const Json& c : *chains) {
    const Json* id = GoField(c, "chainID");
    if (!id || !id->is_string()) throw GoError("chainID");
    r.chains.push_back({GoChainID(id->get<std::string>()), GoHash(GoField(c, "canonical")), GoBytes(GoField(c, "pending"))});
  }
  return r;
}

// --- the wire as the geth RPC client speaks it ---

struct GoAnswer {
  Json result;                 // null on error
  std::optional<int> code;     // rpc.Error's ErrorCode()
  std::string message;         // err.Error(): the JSON-RPC error message
};

class CallersTest : public DaemonFixture {
 protected:
  // POST `body` as geth's HTTP client does: JSON content type, no Authorization header unless
  // `jwt` (an operator's admin call).
  GoAnswer Send(const std::string& body, const std::string& jwt = "") {
    httplib::Headers headers{{"Accept", "application/json"}};
    if (!jwt.empty()) headers.emplace("Authorization", "Bearer " + jwt);
    auto res = client_->Post("/", headers, body, "application/json");
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << res->body;  // geth's client takes any other status as an HTTP error
    Json j = Json::parse(res->body);
    EXPECT_EQ(j["jsonrpc"], "2.0");
    EXPECT_EQ(j["id"], Json::parse(body)["id"]);
    GoAnswer a;
    if (j.contains("error")) {
      a.code = j["error"]["code"].get<int>();
      a.message = j["error"]["message"].get<std::string>();
    } else {
      a.result = j["result"];
    }
    return a;
  }
  std::string OperatorJwt() {
    daemon::JwtSecret secret;
    secret.fill(0x77);
    return daemon::MakeJwt(
        secret, std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  }

  // Chain 900 block 1 holds an initiating message, chain 901 block 1 executes it; both indexed;
  // both op-nodes report L1 block 1 (tryCrossSafe), so block 1 of each is cross-safe.
  void StartWithOneCrossSafeMessage() {
    StartDaemon();
    Build(0, {FakeChain::Init("m")});
    Build(1, {chains_[0]->Exec(1, 0)});
    ASSERT_TRUE(WaitUntil([&] { return Rpc("supervisor_localUnsafe", {"901"})["result"]["number"] == 1; }));
    ASSERT_TRUE(WaitUntil([&] { return Rpc("supervisor_localUnsafe", {"900"})["result"]["number"] == 1; }));
    l1_node_->Locked([&] { l1_.Mine(); });
    Rpc("supervisor_tryCrossSafe", {"900", rpc::Encode(chains_[0]->block(1).ID()), rpc::Encode(l1_.at(1).ID())});
    Json accepted = Rpc("supervisor_tryCrossSafe", {"901", rpc::Encode(chains_[1]->block(1).ID()), rpc::Encode(l1_.at(1).ID())});
    ASSERT_EQ(accepted["result"]["status"], "accept") << accepted.dump();
  }
  // The access-list entries of the executing message in chain 901 block 1, as op-geth reads them
  // from the transaction's access list under the CrossL2Inbox address.
  std::string AccessListJson() {
    const FakeChain& init = *chains_[0];
    const uint64_t ts = init.block(1).timestamp;
    AccessEntry e{init.config().id, 1, ts, 0, AccessChecksum(LogHashOf(FakeChain::Init("m")), init.config().id, 1, ts, 0)};
    std::string out = "[";
    for (const Hash& h : EncodeAccessEntry(e)) out += (out.size() > 1 ? ",\"" : "\"") + h.Hex() + "\"";
    return out + "]";
  }
  // op-geth's ingress filter: ExecutingDescriptor{Timestamp: t, Timeout: 86400, ChainID: chainID}
  // marshalled as {"chainID": uint256 (a decimal string), "timestamp": hexutil, "timeout": hexutil}.
  std::string FilterRequest(uint64_t exec_time, const std::string& chain_id, int id) {
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"supervisor_checkAccessList","params":[)" +
           AccessListJson() + R"(,"cross-unsafe",{"chainID":")" + chain_id + R"(","timestamp":")" + HexU64(exec_time) +
           R"(","timeout":"0x15180"}]})";
  }
};

TEST_F(CallersTest, OpGethIngressFilterAndMiner) {
  StartWithOneCrossSafeMessage();
  // CurrentInteropBlockTime: the head's time plus one block time, on the executing chain 901.
  const uint64_t exec_time = chains_[1]->head().timestamp + 2;
  GoAnswer ok = Send(FilterRequest(exec_time, "901", 1));
  EXPECT_FALSE(ok.code.has_value()) << ok.message;  // nil: the transaction is admitted
  // An op-geth without an executing chain ID writes uint256 zero: "0" is no chain.
  GoAnswer zero = Send(FilterRequest(exec_time, "0", 2));
  EXPECT_FALSE(zero.code.has_value()) << zero.message;
  // A message at the executing timestamp itself is refused (access lists allow no same-time message).
  EXPECT_TRUE(Send(FilterRequest(chains_[0]->block(1).timestamp, "901", 3)).code.has_value());

  // The miner's poll, over the same plain connection: a Go bool.
  const std::string poll = R"({"jsonrpc":"2.0","id":4,"method":"admin_getFailsafeEnabled"})";
  GoAnswer off = Send(poll);
  ASSERT_FALSE(off.code.has_value()) << off.message;
  ASSERT_TRUE(off.result.is_boolean()) << off.result.dump();
  EXPECT_FALSE(off.result.get<bool>());

  // The operator turns failsafe on (admin JWT); the miner sees it, the filter is refused with
  // op-supervisor's ErrFailsafeEnabled.
  ASSERT_FALSE(Send(R"({"jsonrpc":"2.0","id":5,"method":"admin_setFailsafeEnabled","params":[true]})", OperatorJwt())
                   .code.has_value());
  EXPECT_EQ(Send(R"({"jsonrpc":"2.0","id":5,"method":"admin_setFailsafeEnabled","params":[false]})").code,
            rpc::kUnauthorized);  // setting it is not open to the miner's plain connection
  GoAnswer on = Send(poll);
  ASSERT_TRUE(on.result.is_boolean());
  EXPECT_TRUE(on.result.get<bool>());
  GoAnswer refused = Send(FilterRequest(exec_time, "901", 6));
  EXPECT_EQ(refused.code, -32602);
  EXPECT_EQ(refused.message, "failsafe is enabled, rejecting all CheckAccessList requests");
  ASSERT_FALSE(Send(R"({"jsonrpc":"2.0","id":7,"method":"admin_setFailsafeEnabled","params":[false]})", OperatorJwt())
                   .code.has_value());
  EXPECT_FALSE(Send(poll).result.get<bool>());
  EXPECT_FALSE(Send(FilterRequest(exec_time, "901", 8)).code.has_value());
}

TEST_F(CallersTest, OpChallengerAndOpProposer) {
  StartWithOneCrossSafeMessage();
  const uint64_t t = chains_[0]->block(1).timestamp;  // 1002: block 1 of both chains

  // SyncValidator / SupervisorProposalSource.SyncStatus.
  GoAnswer sync = Send(R"({"jsonrpc":"2.0","id":1,"method":"supervisor_syncStatus"})");
  ASSERT_FALSE(sync.code.has_value()) << sync.message;
  GoSyncStatus status = DecodeSyncStatus(sync.result);
  EXPECT_EQ(status.min_synced_l1, l1_.at(1));  // ValidateNodeSynced: above a game whose L1 head is #0
  EXPECT_EQ(status.safe_timestamp, t);
  EXPECT_EQ(status.finalized_timestamp, 1000u);
  ASSERT_EQ(status.chains.size(), 2u);
  for (size_t c = 0; c < 2; ++c) {
    const GoChainSyncStatus& cs = status.chains.at(chains_[c]->config().id);
    EXPECT_EQ(cs.local_unsafe, chains_[c]->block(1));
    EXPECT_EQ(cs.local_safe, chains_[c]->block(1).ID());
    EXPECT_EQ(cs.cross_unsafe, chains_[c]->block(1).ID());
    EXPECT_EQ(cs.cross_safe, chains_[c]->block(1).ID()) << "the cross-safe head is the member `safe`";
    EXPECT_EQ(cs.finalized, chains_[c]->block(0).ID());
  }

  // SupervisorSuperTraceProvider.GetPreimageBytes at step 0 / ProposalAtSequenceNum.
  GoAnswer root = Send(R"({"jsonrpc":"2.0","id":2,"method":"supervisor_superRootAtTimestamp","params":[")" +
                       HexU64(t) + R"("]})");
  ASSERT_FALSE(root.code.has_value()) << root.message;
  GoSuperRootResponse r = DecodeSuperRoot(root.result);
  EXPECT_EQ(r.timestamp, t);
  EXPECT_EQ(r.cross_safe_derived_from, l1_.at(1).ID());  // not past the game's L1 head #1: valid
  EXPECT_EQ(r.version, 1);                               // ToSuper() accepts only version 1
  ASSERT_EQ(r.chains.size(), 2u);
  SuperV1 super{t, {}};
  for (size_t c = 0; c < 2; ++c) {
    const BlockRef& b = chains_[c]->block(1);
    EXPECT_EQ(r.chains[c].chain_id, chains_[c]->config().id);
    // eth.UnmarshalOutput: a 128-byte OutputV0 whose root is the canonical one.
    EXPECT_EQ(r.chains[c].pending, OutputV0Preimage(FakeStateRoot(b.hash), FakeStorageRoot(b.hash), b.hash));
    EXPECT_EQ(*OutputRoot(r.chains[c].pending), r.chains[c].canonical);
    super.chains.push_back({r.chains[c].chain_id, r.chains[c].canonical});
  }
  EXPECT_EQ(SuperRoot(super), r.super_root);  // the proposer posts it; the challenger hashes Marshal()

  // The next timestamp is not cross-safe yet: ethereum.NotFound, the invalid transition.
  GoAnswer next = Send(R"({"jsonrpc":"2.0","id":3,"method":"supervisor_superRootAtTimestamp","params":[")" +
                       HexU64(t + 2) + R"("]})");
  ASSERT_TRUE(next.code.has_value());
  EXPECT_EQ(*next.code, -321401);
  EXPECT_NE(next.message.find("not found"), std::string::npos) << next.message;

  // Which chains were safe at the game's L1 head.
  GoAnswer safe = Send(R"({"jsonrpc":"2.0","id":4,"method":"supervisor_allSafeDerivedAt","params":[{"hash":")" +
                       l1_.at(1).hash.Hex() + R"(","number":1}]})");
  ASSERT_FALSE(safe.code.has_value()) << safe.message;
  std::map<ChainID, BlockID> heads;
  for (const auto& [key, b] : safe.result.items()) heads[GoChainID(key)] = GoBlockID(&b);
  EXPECT_EQ(heads, (std::map<ChainID, BlockID>{{chains_[0]->config().id, chains_[0]->block(1).ID()},
                                               {chains_[1]->config().id, chains_[1]->block(1).ID()}}));
}

TEST_F(CallersTest, OpServiceSupervisorClient) {
  StartWithOneCrossSafeMessage();
  // FinalizedL1 before any finality: an error op-service's isNotFound recognises.
  GoAnswer fin = Send(R"({"jsonrpc":"2.0","id":1,"method":"supervisor_finalizedL1"})");
  ASSERT_TRUE(fin.code.has_value());
  EXPECT_NE(fin.message.find("not found"), std::string::npos) << fin.message;
  // CrossDerivedFrom, the deprecated name, answers as crossDerivedToSource.
  const std::string derived = R"([")" + std::string("901") + R"(",{"hash":")" + chains_[1]->block(1).hash.Hex() +
                              R"(","number":1}])";
  GoAnswer from = Send(R"({"jsonrpc":"2.0","id":2,"method":"supervisor_crossDerivedFrom","params":)" + derived + "}");
  ASSERT_FALSE(from.code.has_value()) << from.message;
  EXPECT_EQ(GoBlockRef(&from.result), l1_.at(1));
  GoAnswer to = Send(R"({"jsonrpc":"2.0","id":3,"method":"supervisor_crossDerivedToSource","params":)" + derived + "}");
  EXPECT_EQ(to.result, from.result);
  // op-service's health API.
  GoAnswer health = Send(R"({"jsonrpc":"2.0","id":4,"method":"health_status"})");
  ASSERT_TRUE(health.result.is_string());
  EXPECT_EQ(health.result.get<std::string>(), daemon::Version());
}

}  // namespace
}  // namespace supersafe::testing
