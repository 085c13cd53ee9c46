// The dispatcher over a supervisor driven like tests/supervisor's harness: every method of the
// surface answers what the core answers, in the wire shape, and JSON-RPC framing errors get their
// standard codes.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <random>
#include <set>

#include "core/access_list.h"
#include "rpc/dispatcher.h"
#include "tests/supervisor/harness.h"

namespace supersafe::testing {
namespace {

using rpc::Json;

class DispatcherTest : public SupervisorHarness {
 protected:
  void SetUp() override {
    Start({ChainID(uint64_t{900}), ChainID(uint64_t{901})});
    gate_ = std::make_unique<supervisor::CoreGate>(*sup_);
    dispatcher_ = std::make_unique<rpc::Dispatcher>(*gate_, rpc::Dispatcher::Options{4, "v9.9.9-test"});
    dispatcher_->set_observer([this](const rpc::CallRecord& r) { records_.emplace_back(std::string(r.method), r.code); });
  }
  std::optional<Json> Raw(const std::string& body, bool admin = false) {
    rpc::CallContext ctx{admin, admin ? "" : "no token"};
    auto out = dispatcher_->Handle(body, ctx);
    if (!out) return std::nullopt;
    return Json::parse(*out);
  }
  // One parameter that is itself a Json goes in Json::array({p}): a braced {p} is an array for GCC
  // but a copy of p for clang.
  Json Call(const std::string& method, Json params, bool admin = false) {
    Json req{{"jsonrpc", "2.0"}, {"id", 7}, {"method", method}, {"params", std::move(params)}};
    auto out = Raw(req.dump(), admin);
    EXPECT_TRUE(out.has_value());
    EXPECT_EQ((*out)["id"], 7);
    return out.value_or(Json());
  }
  static int CodeOf(const Json& response) {
    if (!response.contains("error")) return 0;
    return response["error"]["code"].get<int>();
  }
  static std::string MessageOf(const Json& response) { return response["error"]["message"].get<std::string>(); }
  Json Chain(size_t c) { return id(c).Decimal(); }
  // Every chain reports L1 block `l1` through JSON-RPC; returns the last answer.
  Json ReportAllRpc(uint64_t l1, std::vector<uint64_t> local_safe) {
    Json last;
    for (size_t c = 0; c < chains_.size(); ++c)
      last = Call("supervisor_tryCrossSafe", {Chain(c), rpc::Encode(chain(c).block(local_safe[c]).ID()),
                                              rpc::Encode(l1_.at(l1).ID())});
    return last;
  }

  std::unique_ptr<supervisor::CoreGate> gate_;
  std::unique_ptr<rpc::Dispatcher> dispatcher_;
  std::vector<std::pair<std::string, int>> records_;
};

TEST_F(DispatcherTest, OpNodeFlowThroughJsonRpc) {
  chain(0).Build({FakeChain::Init("hello")});
  chain(1).Build({chain(0).Exec(1, 0)});
  for (size_t c = 0; c < 2; ++c)
    EXPECT_EQ(Call("supervisor_updateLocalUnsafe", {Chain(c), rpc::Encode(chain(c).head())})["result"], nullptr);

  Json level = Call("supervisor_checkMessage", {rpc::Encode(chain(0).IdOf(1, 0)), chain(0).PayloadOf(1, 0).Hex()});
  EXPECT_EQ(level["result"], SafetyLevelName(*sup_->CheckMessage(chain(0).IdOf(1, 0), chain(0).PayloadOf(1, 0))));
  EXPECT_EQ(level["result"], "cross-unsafe");
  Json cu = Call("supervisor_getCrossUnsafe", {Chain(1), "0x5"});
  EXPECT_EQ(cu["result"], rpc::Encode(chain(1).block(1).ID()));

  l1_.Mine();
  Json first = Call("supervisor_tryCrossSafe", {Chain(0), rpc::Encode(chain(0).block(1).ID()), rpc::Encode(l1_.at(1).ID())});
  EXPECT_EQ(CodeOf(first), -321401) << first.dump();
  EXPECT_EQ(MessageOf(first).rfind("FUTURE_DATA: ", 0), 0u);
  Json last = Call("supervisor_tryCrossSafe", {Chain(1), rpc::Encode(chain(1).block(1).ID()), rpc::Encode(l1_.at(1).ID())});
  EXPECT_EQ(last["result"]["status"], "accept") << last.dump();
  EXPECT_EQ(last["result"]["crossSafe"], rpc::Encode(chain(1).block(1).ID()));
  EXPECT_EQ(last["result"]["localSafe"], rpc::Encode(chain(1).block(1).ID()));

  Json no_finality = Call("supervisor_finalizedL1", Json::array());
  EXPECT_EQ(CodeOf(no_finality), -321401);
  EXPECT_NE(MessageOf(no_finality).find("not found"), std::string::npos) << MessageOf(no_finality);
  Json fin = Call("supervisor_tryFinalize", {Chain(0), rpc::Encode(l1_.at(1).ID())});
  EXPECT_EQ(fin["result"], rpc::Encode(chain(0).block(1).ID()));
  EXPECT_EQ(Call("supervisor_finalizedL1", Json::array())["result"], rpc::Encode(l1_.at(1)));
  EXPECT_EQ(Call("supervisor_finalized", Json::array({Chain(1)}))["result"], rpc::Encode(chain(1).block(1).ID()));
  EXPECT_EQ(CodeOf(Call("supervisor_tryFinalize", {Chain(0), rpc::Encode(l1_.Mine().ID())})), -321401);
}

TEST_F(DispatcherTest, ReadSurfaceAnswersWhatTheCoreAnswers) {
  chain(0).Build({FakeChain::Init("a")});
  chain(1).Build();
  SyncAll();
  l1_.Mine();
  ReportAllRpc(1, {1, 1});

  EXPECT_EQ(Call("supervisor_localUnsafe", Json::array({Chain(0)}))["result"], rpc::Encode(*sup_->LocalUnsafe(id(0))));
  EXPECT_EQ(Call("supervisor_localSafe", Json::array({Chain(0)}))["result"], rpc::Encode(*sup_->LocalSafe(id(0))));
  Json cs = Call("supervisor_crossSafe", {"0x384"});  // hex chain IDs are accepted on input
  EXPECT_EQ(cs["result"], rpc::Encode(*sup_->CrossSafe(id(0))));
  EXPECT_EQ(cs["result"]["source"], rpc::Encode(l1_.at(1).ID()));
  EXPECT_EQ(Call("supervisor_crossDerivedToSource", {Chain(0), rpc::Encode(chain(0).block(1).ID())})["result"],
            rpc::Encode(l1_.at(1)));
  Json all = Call("supervisor_allSafeDerivedAt", Json::array({rpc::Encode(l1_.at(1).ID())}));
  EXPECT_EQ(all["result"], rpc::Encode(*sup_->AllSafeDerivedAt(l1_.at(1).ID())));
  EXPECT_EQ(all["result"]["901"], rpc::Encode(chain(1).block(1).ID()));
  Json root = Call("supervisor_superRootAtTimestamp", {HexU64(1002)});
  EXPECT_EQ(root["result"], rpc::Encode(*sup_->SuperRootAtTimestamp(1002)));
  EXPECT_EQ(root["result"]["chains"].size(), 2u);
  // Not cross-safe yet: FUTURE_DATA, and "not found" for op-service's supervisor client.
  Json future = Call("supervisor_superRootAtTimestamp", {HexU64(1004)});
  EXPECT_EQ(CodeOf(future), -321401);
  EXPECT_NE(MessageOf(future).find("not found"), std::string::npos) << MessageOf(future);
  EXPECT_EQ(MessageOf(future).rfind("FUTURE_DATA: ", 0), 0u) << MessageOf(future);
  Json sync = Call("supervisor_syncStatus", Json::array());
  EXPECT_EQ(sync["result"], rpc::Encode(*sup_->GetSyncStatus()));
  EXPECT_EQ(sync["result"]["chains"]["900"]["safe"]["number"], 1);
  EXPECT_FALSE(sync["result"]["chains"]["900"].contains("crossSafe"));
  // The deprecated name op-service's client still sends.
  EXPECT_EQ(Call("supervisor_crossDerivedFrom", {Chain(0), rpc::Encode(chain(0).block(1).ID())})["result"],
            rpc::Encode(l1_.at(1)));
  EXPECT_EQ(Call("supervisor_dependencySetV1", nullptr)["result"]["dependencies"].size(), 2u);
  // op-service's health API: the version string.
  EXPECT_EQ(Call("health_status", nullptr)["result"], "v9.9.9-test");
  EXPECT_EQ(CodeOf(Call("health_status", {1})), -32602);
}

TEST_F(DispatcherTest, DomainErrorsCarryTheOpStackCodes) {
  Json unknown = Call("supervisor_localUnsafe", {"902"});
  EXPECT_EQ(CodeOf(unknown), -320501);
  EXPECT_NE(MessageOf(unknown).find("902"), std::string::npos);
  l1_.Mine();
  l1_.Mine();
  Json skip = Call("supervisor_tryCrossSafe", {Chain(0), rpc::Encode(chain(0).block(0).ID()), rpc::Encode(l1_.at(2).ID())});
  EXPECT_EQ(CodeOf(skip), -320900);
  BlockID forged = l1_.at(1).ID();
  forged.hash = HashOf("forged");
  Json conflict = Call("supervisor_tryCrossSafe", {Chain(0), rpc::Encode(chain(0).block(0).ID()), rpc::Encode(forged)});
  EXPECT_EQ(CodeOf(conflict), -320600);
  EXPECT_EQ(CodeOf(Call("supervisor_checkAccessList", {Json::array({HashOf("x").Hex()}), "safe", {{"timestamp", "0x1"}}})),
            -32602);
  Json below = Call("supervisor_checkAccessList", {Json::array(), "unknown", {{"timestamp", "0x1"}}});
  EXPECT_EQ(CodeOf(below), -32602);
  EXPECT_EQ(MessageOf(below).rfind("params[1]: ", 0), 0u) << MessageOf(below);
}

TEST_F(DispatcherTest, CheckAccessListAndFailsafe) {
  chain(0).Build({FakeChain::Init("m")});
  chain(1).Build();
  SyncAll();
  const Log& log = FakeChain::Init("m");
  AccessEntry e{id(0), 1, chain(0).block(1).timestamp, 0,
                AccessChecksum(LogHashOf(log), id(0), 1, chain(0).block(1).timestamp, 0)};
  Json entries = Json::array();
  for (const Hash& h : EncodeAccessEntry(e)) entries.push_back(h.Hex());
  Json desc{{"timestamp", HexU64(chain(0).block(1).timestamp + 2)}};
  EXPECT_EQ(Call("supervisor_checkAccessList", {entries, "unsafe", desc})["result"], nullptr);
  EXPECT_EQ(CodeOf(Call("supervisor_checkAccessList", {entries, "safe", desc})), -321401);
  // Every level name op-supervisor parses: block 1 is cross-unsafe, then local-safe and safe.
  EXPECT_EQ(Call("supervisor_checkAccessList", {entries, "cross-unsafe", desc})["result"], nullptr);
  Json not_local = Call("supervisor_checkAccessList", {entries, "local-safe", desc});
  EXPECT_EQ(CodeOf(not_local), -321401) << not_local.dump();
  EXPECT_NE(MessageOf(not_local).find("local-safe"), std::string::npos) << MessageOf(not_local);
  l1_.Mine();
  ReportAllRpc(1, {1, 1});
  for (const char* level : {"unsafe", "local-safe", "cross-unsafe", "safe"})
    EXPECT_EQ(Call("supervisor_checkAccessList", {entries, level, desc})["result"], nullptr) << level;
  EXPECT_EQ(CodeOf(Call("supervisor_checkAccessList", {entries, "finalized", desc})), -321401);
  EXPECT_EQ(CodeOf(Call("supervisor_checkAccessList", {entries, "invalid", desc})), -32602);
  // op-geth sends its executing chain ID always; "0" (none) counts as absent, an unknown one does not.
  for (const char* zero : {"0", "0x0"}) {
    Json zero_desc{{"chainID", zero}, {"timestamp", desc["timestamp"]}, {"timeout", "0x0"}};
    EXPECT_EQ(Call("supervisor_checkAccessList", {entries, "unsafe", zero_desc})["result"], nullptr) << zero;
  }
  Json other_desc{{"chainID", "902"}, {"timestamp", desc["timestamp"]}, {"timeout", "0x0"}};
  EXPECT_EQ(CodeOf(Call("supervisor_checkAccessList", {entries, "unsafe", other_desc})), -320501);

  // Setting failsafe needs the admin token; reading it does not (op-geth's miner polls it).
  EXPECT_EQ(CodeOf(Call("admin_setFailsafeEnabled", {true})), rpc::kUnauthorized);
  EXPECT_EQ(Call("admin_getFailsafeEnabled", Json::array())["result"], false);
  EXPECT_EQ(Call("admin_setFailsafeEnabled", {true}, true)["result"], nullptr);
  EXPECT_EQ(Call("admin_getFailsafeEnabled", Json::array(), true)["result"], true);
  EXPECT_EQ(Call("admin_getFailsafeEnabled", Json::array())["result"], true);
  // Failsafe on: op-supervisor's -32602 and its message, byte for byte, before params are read.
  for (const Json& list : {entries, Json::array()}) {
    Json rejected = Call("supervisor_checkAccessList", {list, "unsafe", desc});
    EXPECT_EQ(CodeOf(rejected), -32602);
    EXPECT_EQ(MessageOf(rejected), "failsafe is enabled, rejecting all CheckAccessList requests");
  }
  EXPECT_EQ(CodeOf(Call("supervisor_checkAccessList", {7})), -32602);
  EXPECT_EQ(Call("supervisor_checkMessage", {rpc::Encode(chain(0).IdOf(1, 0)), chain(0).PayloadOf(1, 0).Hex()})["result"],
            "safe");
  EXPECT_EQ(Call("admin_setFailsafeEnabled", {false}, true)["result"], nullptr);
  EXPECT_EQ(Call("supervisor_checkAccessList", {entries, "unsafe", desc})["result"], nullptr);
  EXPECT_EQ(CodeOf(Call("admin_setFailsafeEnabled", {"yes"}, true)), -32602);
}

TEST_F(DispatcherTest, AdminRewindDropsUnsafeBlocksButNotDerivedOnes) {
  chain(0).Build();
  chain(0).Build();
  chain(1).Build();
  SyncAll();
  EXPECT_EQ(CodeOf(Call("admin_rewind", {Chain(0), rpc::Encode(chain(0).block(1).ID())})), rpc::kUnauthorized);
  EXPECT_EQ(Call("admin_rewind", {Chain(0), rpc::Encode(chain(0).block(1).ID())}, true)["result"], nullptr);
  EXPECT_EQ(sup_->LocalUnsafe(id(0))->number, 1u);
  BlockID other{HashOf("other"), 1};
  EXPECT_EQ(CodeOf(Call("admin_rewind", {Chain(0), rpc::Encode(other)}, true)), -320600);
  l1_.Mine();
  ReportAllRpc(1, {1, 1});
  Json below = Call("admin_rewind", {Chain(0), rpc::Encode(chain(0).block(0).ID())}, true);
  EXPECT_EQ(CodeOf(below), -320600);
  EXPECT_EQ(sup_->LocalUnsafe(id(0))->number, 1u);
  EXPECT_EQ(CodeOf(Call("admin_rewind", {"7", rpc::Encode(other)}, true)), -320501);
}

TEST_F(DispatcherTest, FramingErrorsGetTheStandardCodes) {
  EXPECT_EQ(CodeOf(*Raw("{")), rpc::kParseError);
  EXPECT_EQ((*Raw("not json"))["id"], nullptr);
  EXPECT_EQ(CodeOf(*Raw("[]")), rpc::kInvalidRequest);
  EXPECT_EQ(CodeOf(*Raw("5")), rpc::kInvalidRequest);
  EXPECT_EQ(CodeOf(*Raw(R"({"id":1,"method":"supervisor_syncStatus"})")), rpc::kInvalidRequest);
  EXPECT_EQ(CodeOf(*Raw(R"({"jsonrpc":"1.0","id":1,"method":"supervisor_syncStatus"})")), rpc::kInvalidRequest);
  EXPECT_EQ(CodeOf(*Raw(R"({"jsonrpc":"2.0","id":{},"method":"supervisor_syncStatus"})")), rpc::kInvalidRequest);
  EXPECT_EQ(CodeOf(*Raw(R"({"jsonrpc":"2.0","id":1,"method":5})")), rpc::kInvalidRequest);
  Json unknown = *Raw(R"({"jsonrpc":"2.0","id":"a","method":"eth_chainId"})");
  EXPECT_EQ(CodeOf(unknown), rpc::kMethodNotFound);
  EXPECT_EQ(unknown["id"], "a");
  // A name cut inside a multi-byte character still gives a valid JSON answer.
  Json cut = *Raw(Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", std::string(63, 'm') + "\xc3\xa9"}}.dump());
  EXPECT_EQ(CodeOf(cut), rpc::kMethodNotFound);
  EXPECT_EQ(MessageOf(Call("supervisor_localUnsafe", Json::array())), "params: want 1 param, got 0");
  EXPECT_EQ(MessageOf(Call("supervisor_syncStatus", {1})), "params: want 0 params, got 1");
  EXPECT_EQ(CodeOf(Call("supervisor_localUnsafe", {{"chainID", "900"}})), -32602);
  EXPECT_EQ(MessageOf(Call("supervisor_localUnsafe", Json{{"chainID", "900"}})),
            "params: by-name params are not supported; pass an array");
  Json deep = *Raw(R"({"jsonrpc":"2.0","id":1,"method":"supervisor_localUnsafe","params":[)" + std::string(100000, '[') +
                   std::string(100000, ']') + "]}");
  EXPECT_EQ(MessageOf(deep), "params[0]: want a string, got array");
  EXPECT_EQ(CodeOf(*Raw(std::string(200000, '['))), rpc::kParseError);
}

// The answer's bytes are nlohmann's dump of the envelope {"id", "jsonrpc", "result"} (keys in
// that order), whatever the id, alone and in a batch: the dispatcher writes them without building it.
TEST_F(DispatcherTest, AnswersAreTheDumpOfTheEnvelope) {
  const rpc::CallContext ctx{false, "no token"};
  const Json head = rpc::Encode(chain(0).block(0).ID());
  for (const Json& id : {Json(7), Json("a\"b\u00e9"), Json(nullptr), Json(-1.5)}) {
    const Json call{{"jsonrpc", "2.0"}, {"id", id}, {"method", "supervisor_localUnsafe"}, {"params", {Chain(0)}}};
    const Json envelope{{"jsonrpc", "2.0"}, {"id", id}, {"result", head}};
    EXPECT_EQ(dispatcher_->Handle(call.dump(), ctx), envelope.dump());
    EXPECT_EQ(dispatcher_->Handle(Json::array({call, call}).dump(), ctx), Json::array({envelope, envelope}).dump());
  }
}

TEST_F(DispatcherTest, BatchesAndNotifications) {
  Json batch = Json::array();
  batch.push_back({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "supervisor_localUnsafe"}, {"params", {Chain(0)}}});
  batch.push_back(7);
  batch.push_back({{"jsonrpc", "2.0"}, {"method", "supervisor_localUnsafe"}, {"params", {Chain(0)}}});
  batch.push_back({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "nope"}});
  Json out = *Raw(batch.dump());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["id"], 1);
  EXPECT_EQ(out[0]["result"], rpc::Encode(chain(0).block(0).ID()));
  EXPECT_EQ(CodeOf(out[1]), rpc::kInvalidRequest);
  EXPECT_EQ(CodeOf(out[2]), rpc::kMethodNotFound);

  batch.push_back(batch[0]);
  Json over = *Raw(batch.dump() .substr(0, batch.dump().size() - 1) + "," + batch[0].dump() + "]");
  EXPECT_EQ(CodeOf(over), rpc::kInvalidRequest);
  EXPECT_EQ(MessageOf(over), "invalid request: batch of 6 calls exceeds 4");

  // A notification runs but is not answered; a batch of notifications answers nothing.
  chain(0).Build();
  Json note{{"jsonrpc", "2.0"}, {"method", "supervisor_updateLocalUnsafe"}, {"params", {Chain(0), rpc::Encode(chain(0).head())}}};
  EXPECT_FALSE(Raw(note.dump()).has_value());
  EXPECT_EQ(sup_->LocalUnsafe(id(0))->number, 1u);
  EXPECT_FALSE(Raw(Json::array({note, note}).dump()).has_value());
  EXPECT_FALSE(records_.empty());
  EXPECT_EQ(records_.back(), std::make_pair(std::string("supervisor_updateLocalUnsafe"), 0));
}


// A run of superRootAtTimestamp (resp. allSafeDerivedAt) calls in a batch is answered by one core
// call under the lock, each answer what the call gets alone; a call whose params do not decode gets
// its own error, and the calls around the run keep their order.
TEST_F(DispatcherTest, BatchedSuperRootsAndSafeHeadsAnswerAsSingleCalls) {
  chain(0).Build({FakeChain::Init("a")});
  chain(0).Build();
  chain(1).Build();
  chain(1).Build();
  SyncAll();
  l1_.Mine();
  ReportAllRpc(1, {1, 1});
  l1_.Mine();
  ReportAllRpc(2, {2, 1});
  auto call = [](int id, const std::string& method, Json params) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  };
  const std::vector<Json> roots = {call(1, "supervisor_superRootAtTimestamp", {HexU64(1004)}),
                                   call(2, "supervisor_superRootAtTimestamp", {HexU64(1002)}),
                                   call(3, "supervisor_superRootAtTimestamp", {"12"}),
                                   call(4, "supervisor_superRootAtTimestamp", {HexU64(1000)})};
  std::vector<Json> alone;
  for (const Json& c : roots) alone.push_back(*Raw(c.dump()));
  const uint64_t before = gate_->exclusive_runs();
  Json out = *Raw(Json(roots).dump());
  EXPECT_EQ(gate_->exclusive_runs() - before, 1u);  // three decodable calls, one core call
  ASSERT_EQ(out.size(), 4u);
  for (size_t i = 0; i < roots.size(); ++i) EXPECT_EQ(out[i], alone[i]) << i;
  EXPECT_EQ(CodeOf(out[0]), -321401);  // B's block 2 is not cross-safe
  EXPECT_EQ(out[1]["result"], rpc::Encode(*sup_->SuperRootAtTimestamp(1002)));
  EXPECT_EQ(CodeOf(out[2]), rpc::kInvalidParams);
  EXPECT_EQ(out[3]["result"]["chains"].size(), 2u);

  const std::vector<Json> views = {call(5, "supervisor_localUnsafe", {Chain(1)}),
                                   call(6, "supervisor_allSafeDerivedAt", Json::array({rpc::Encode(l1_.at(2).ID())})),
                                   call(7, "supervisor_allSafeDerivedAt", Json::array({rpc::Encode(l1_.at(1).ID())})),
                                   call(8, "supervisor_allSafeDerivedAt", Json::array({rpc::Encode(BlockID{HashOf("later"), 3})}))};
  alone.clear();
  for (const Json& c : views) alone.push_back(*Raw(c.dump()));
  const uint64_t runs = gate_->exclusive_runs();
  out = *Raw(Json(views).dump());
  EXPECT_EQ(gate_->exclusive_runs() - runs, 1u);
  ASSERT_EQ(out.size(), 4u);
  for (size_t i = 0; i < views.size(); ++i) EXPECT_EQ(out[i], alone[i]) << i;
  EXPECT_EQ(out[1]["result"]["900"], rpc::Encode(chain(0).block(2).ID()));
  EXPECT_EQ(out[2]["result"]["900"], rpc::Encode(chain(0).block(1).ID()));
  EXPECT_EQ(CodeOf(out[3]), -321401);  // L1 block 3 has no group yet
}

// Mutated calls of every method: each gets a JSON-RPC answer with a standard or OP Stack code,
// params errors naming the param, and never an exception.
// The method table: every listed name is dispatched (a call with too many params reaches its
// entry's arity check, never -32601), admin entries refuse a call without the token before reading
// params, and the open ones (admin_getFailsafeEnabled included) do not.
TEST_F(DispatcherTest, EveryListedMethodIsDispatchedWithItsArityAndAccess) {
  const auto& names = rpc::Dispatcher::Methods();
  EXPECT_EQ(names.size(), 21u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  const std::set<std::string> admin = {"admin_setFailsafeEnabled", "admin_rewind"};
  for (const std::string& name : names) {
    Json too_many = Json::array({1, 2, 3, 4, 5});
    Json anonymous = Call(name, too_many);
    if (admin.count(name)) {
      EXPECT_EQ(CodeOf(anonymous), rpc::kUnauthorized) << name;
    } else {
      EXPECT_EQ(CodeOf(anonymous), rpc::kInvalidParams) << name;
      EXPECT_EQ(MessageOf(anonymous).rfind("params: want ", 0), 0u) << name << ": " << MessageOf(anonymous);
    }
    Json with_token = Call(name, too_many, true);
    EXPECT_EQ(CodeOf(with_token), rpc::kInvalidParams) << name;
  }
  EXPECT_EQ(Call("admin_getFailsafeEnabled", Json::array())["result"], false);
  EXPECT_EQ(CodeOf(Call("supervisor_nope", Json::array())), rpc::kMethodNotFound);
}

// Which requests a transport may run on its I/O thread: those whose every call answers from the
// snapshot, under the shared lock or without the core. The rest may wait on upstream nodes or the
// exclusive lock.
TEST_F(DispatcherTest, NeverWaitsNamesTheCallsThatTakeNoExclusiveLockAndNoUpstreamFetch) {
  const std::set<std::string> never_wait = {
      "supervisor_checkMessage", "supervisor_checkAccessList", "supervisor_localUnsafe", "supervisor_localSafe",
      "supervisor_crossSafe", "supervisor_finalized", "supervisor_finalizedL1", "supervisor_syncStatus",
      "supervisor_dependencySetV1", "admin_setFailsafeEnabled", "admin_getFailsafeEnabled", "health_status"};
  auto call = [](const std::string& method) { return Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}}; };
  for (const std::string& name : rpc::Dispatcher::Methods())
    EXPECT_EQ(dispatcher_->NeverWaits(call(name)), never_wait.count(name) == 1) << name;
  // Refused before any method runs.
  EXPECT_TRUE(dispatcher_->NeverWaits(rpc::Dispatcher::Parse("{not json")));
  EXPECT_TRUE(dispatcher_->NeverWaits(call("supervisor_nope")));
  EXPECT_TRUE(dispatcher_->NeverWaits(Json::array({1, "x"})));
  // A batch waits when one of its calls may.
  EXPECT_TRUE(dispatcher_->NeverWaits(Json::array({call("supervisor_localUnsafe"), call("supervisor_checkMessage")})));
  EXPECT_FALSE(dispatcher_->NeverWaits(Json::array({call("supervisor_localUnsafe"), call("supervisor_tryCrossSafe")})));
  // ... unless it is over max_batch (4 here): refused whole.
  EXPECT_TRUE(dispatcher_->NeverWaits(Json::array({call("supervisor_tryCrossSafe"), call("supervisor_tryCrossSafe"),
                                                   call("supervisor_tryCrossSafe"), call("supervisor_tryCrossSafe"),
                                                   call("supervisor_tryCrossSafe")})));
  // Parse then Run answers as Handle does.
  const std::string body = Json::array({call("supervisor_localUnsafe"), call("health_status")}).dump();
  EXPECT_EQ(dispatcher_->Run(rpc::Dispatcher::Parse(body), {}), dispatcher_->Handle(body, {}));
  EXPECT_EQ(CodeOf(Json::parse(*dispatcher_->Run(rpc::Dispatcher::Parse("]"), {}))), rpc::kParseError);
}

TEST_F(DispatcherTest, MutatedCallsGetErrorsNotExceptions) {
  chain(0).Build({FakeChain::Init("m")});
  chain(1).Build({chain(0).Exec(1, 0)});
  for (size_t c = 0; c < 2; ++c)
    ASSERT_EQ(CodeOf(Call("supervisor_updateLocalUnsafe", {Chain(c), rpc::Encode(chain(c).head())})), 0);
  Identifier ident{};
  ident.chain_id = id(0);
  ident.block_number = 1;
  const Json block = rpc::Encode(chain(0).block(1).ID());
  const Json l1 = rpc::Encode(l1_.at(0).ID());
  const std::vector<std::pair<std::string, Json>> calls = {
      {"supervisor_checkMessage", {rpc::Encode(ident), HashOf("p").Hex()}},
      {"supervisor_getCrossUnsafe", {Chain(0), "0x1"}},
      {"supervisor_tryCrossSafe", {Chain(0), block, l1}},
      {"supervisor_tryFinalize", {Chain(1), l1}},
      {"supervisor_updateLocalUnsafe", {Chain(0), rpc::Encode(chain(0).head())}},
      {"supervisor_checkAccessList",
       {Json::array({HashOf("a").Hex()}), "unsafe", {{"timestamp", "0x10"}, {"timeout", "0x2"}, {"chainID", "900"}}}},
      {"supervisor_crossDerivedToSource", {Chain(1), block}},
      {"supervisor_localSafe", {Chain(0)}},
      {"supervisor_superRootAtTimestamp", {"0x10"}},
      {"supervisor_allSafeDerivedAt", {l1}},
      {"supervisor_syncStatus", Json::array()},
      {"admin_setFailsafeEnabled", {false}},
      {"admin_rewind", {Chain(0), block}},
  };
  const std::vector<Json> junk = {nullptr, true, -1, 1.5, 1e300, Json::parse("18446744073709551616"),
                                  Json::parse("18446744073709551615"), "", "0x", "0x0", "0xffffffffffffffffff",
                                  "-1", "0x-1", " 900", "900 ", "1e3", Json::array(), Json::object(),
                                  Json::array({Json::array({Json::array()})}), "\xc3\xa9\xe2\x82\xac",
                                  std::string(70, 'f'), "0x" + std::string(64, 'g')};
  std::mt19937_64 rng(12345);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  std::function<void(Json&, int)> mutate = [&](Json& j, int depth) {
    if (depth > 0 && (j.is_object() || j.is_array()) && !j.empty() && pick(4) != 0) {
      if (j.is_array()) return mutate(j[pick(j.size())], depth - 1);
      auto it = j.begin();
      std::advance(it, pick(j.size()));
      if (pick(5) == 0) return void(j.erase(it.key()));
      return mutate(*it, depth - 1);
    }
    j = junk[pick(junk.size())];
  };
  for (int i = 0; i < 20000; ++i) {
    const auto& [method, params] = calls[pick(calls.size())];
    Json req{{"jsonrpc", "2.0"}, {"id", i}, {"method", method}, {"params", params}};
    mutate(req["params"], 5);
    if (pick(20) == 0) mutate(req, 1);
    const std::string body = req.dump();
    std::optional<std::string> out;
    try {
      out = dispatcher_->Handle(body, rpc::CallContext{pick(2) == 0, "no token"});
    } catch (const std::exception& e) {
      ADD_FAILURE() << body << " threw " << e.what();
      continue;
    }
    if (!out) continue;
    Json r = Json::parse(*out, nullptr, false);
    ASSERT_FALSE(r.is_discarded()) << body;
    if (!r.contains("error")) continue;
    const int code = CodeOf(r);
    EXPECT_TRUE((code <= -32000 && code >= -32700) || code <= -320000) << body << " -> " << *out;
    if (code == rpc::kInvalidParams && MessageOf(r) != rpc::kFailsafeMessage) {
      EXPECT_EQ(MessageOf(r).rfind("params", 0), 0u) << body << " -> " << *out;
    }
  }
}

}  // namespace
}  // namespace supersafe::testing
