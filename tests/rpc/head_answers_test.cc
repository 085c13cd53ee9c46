// Head reads answered from HeadAnswers (rpc/head_answers.h), encoded once per snapshot: the bytes
// equal what the dispatcher writes when each call builds its answer, for every head read, every
// chain, unknown chains, params errors and odd ids, and a dead core's error for every read; a
// write's new snapshot replaces the cached answers; readers on many threads see heads that only
// move forward.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "rpc/dispatcher.h"
#include "supervisor/prefetch.h"
#include "tests/supervisor/harness.h"

namespace supersafe::testing {
namespace {

using rpc::Json;

const char* const kHeadReads[] = {"supervisor_localUnsafe", "supervisor_localSafe", "supervisor_crossSafe",
                                  "supervisor_finalized",   "supervisor_finalizedL1", "supervisor_syncStatus"};

class HeadAnswersTest : public SupervisorHarness {
 protected:
  // The core over prefetched sources, as in the daemon: the gate publishes a snapshot per write
  // and hands the same one to every reader until the next.
  void SetUp() override {
    Start({ChainID(uint64_t{900}), ChainID(uint64_t{901}), ChainID(uint64_t{902})});
    ASSERT_NO_FATAL_FAILURE(ReopenPrefetched());
    supervisor::Sources upstream{&l1_, {}};
    for (auto& c : chains_) upstream.chains[c->config().id] = c.get();
    gate_ = std::make_unique<supervisor::CoreGate>(*sup_, *prefetched_, upstream);
    fast_ = std::make_unique<rpc::Dispatcher>(*gate_, rpc::Dispatcher::Options{100, "v"});
    rpc::Dispatcher::Options reference{100, "v"};
    reference.fast_head_reads = false;
    reference_ = std::make_unique<rpc::Dispatcher>(*gate_, reference);
  }
  void TearDown() override {
    fast_.reset();
    reference_.reset();
    gate_.reset();
    SupervisorHarness::TearDown();
  }
  std::string Body(const std::string& method, const Json& params, const Json& id = 7) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
  }
  Json Write(const std::string& method, Json params) {
    auto out = fast_->Handle(Body(method, std::move(params)), ctx_);
    EXPECT_TRUE(out.has_value());
    return Json::parse(out.value_or("null"));
  }
  std::string Chain(size_t c) { return id(c).Decimal(); }
  // Every head read, for every chain and more, answers the same bytes through both dispatchers.
  void ExpectSameBytes(const std::string& when) {
    std::vector<Json> params_of_chain;
    for (size_t c = 0; c < chains_.size(); ++c) params_of_chain.push_back(Json::array({Chain(c)}));
    params_of_chain.push_back(Json::array({"0x384"}));  // chain 900 in hex
    params_of_chain.push_back(Json::array({"999"}));    // not in the dependency set
    params_of_chain.push_back(Json::array({"x"}));      // does not decode
    params_of_chain.push_back(Json::array());           // too few
    for (const char* method : kHeadReads) {
      const bool per_chain = std::string(method) != "supervisor_finalizedL1" && std::string(method) != "supervisor_syncStatus";
      const std::vector<Json> all = per_chain ? params_of_chain : std::vector<Json>{Json::array(), Json::array({"1"})};
      for (const Json& params : all) {
        for (const Json& id : {Json(7), Json("a\"b\u00e9"), Json(nullptr), Json(-1.5), Json(18446744073709551615u)}) {
          const std::string body = Body(method, params, id);
          EXPECT_EQ(fast_->Handle(body, ctx_), reference_->Handle(body, ctx_)) << when << ": " << body;
        }
      }
      const std::string batch = "[" + Body(method, all.front()) + "," + Body(method, all.back(), "b") + "]";
      EXPECT_EQ(fast_->Handle(batch, ctx_), reference_->Handle(batch, ctx_)) << when << ": " << batch;
    }
  }

  rpc::CallContext ctx_{false, "no token"};
  std::unique_ptr<supervisor::CoreGate> gate_;
  std::unique_ptr<rpc::Dispatcher> fast_, reference_;
};

TEST_F(HeadAnswersTest, PreEncodedAnswersAreTheBytesOfTheBuiltOnes) {
  ExpectSameBytes("at genesis");  // finalizedL1 not forwarded yet: an error answer
  chain(0).Build({FakeChain::Init("hello")});
  chain(1).Build({chain(0).Exec(1, 0)});
  chain(2).Build({});
  for (size_t c = 0; c < chains_.size(); ++c)
    ASSERT_EQ(Write("supervisor_updateLocalUnsafe", {Chain(c), rpc::Encode(chain(c).head())})["result"], nullptr);
  ExpectSameBytes("unsafe heads indexed");
  l1_.Mine();
  for (size_t c = 0; c < chains_.size(); ++c)
    Write("supervisor_tryCrossSafe", {Chain(c), rpc::Encode(chain(c).block(1).ID()), rpc::Encode(l1_.at(1).ID())});
  ASSERT_EQ(Write("supervisor_tryFinalize", {Chain(0), rpc::Encode(l1_.at(1).ID())})["result"],
            rpc::Encode(chain(0).block(1).ID()));
  ExpectSameBytes("cross-safe and finalized");
  // The pre-encoded path was taken: answers came from a cache, not one encoding per call.
  EXPECT_GT(fast_->head_encodings(), 0u);
  EXPECT_EQ(reference_->head_encodings(), 0u);
}

// Bodies near the plain single-call shape the fast path reads, and just outside it: every one gets
// the bytes of the parsed path and is observed with the same method and code.
TEST_F(HeadAnswersTest, PlainCallsAndTheirNeighboursAnswerAsParsedOnes) {
  chain(0).Build({});
  ASSERT_EQ(Write("supervisor_updateLocalUnsafe", {Chain(0), rpc::Encode(chain(0).head())})["result"], nullptr);
  std::vector<std::pair<std::string, int>> fast_calls, reference_calls;
  fast_->set_observer([&](const rpc::CallRecord& r) { fast_calls.emplace_back(r.method, r.code); });
  reference_->set_observer([&](const rpc::CallRecord& r) { reference_calls.emplace_back(r.method, r.code); });
  const std::vector<std::string> bodies = {
      R"({"jsonrpc":"2.0","id":1,"method":"supervisor_localUnsafe","params":["900"]})",
      R"( { "params" : [ "900" ] , "method" : "supervisor_crossSafe" ,"id":"x y", "jsonrpc":"2.0" } )"
      "\r\n\t",
      R"({"jsonrpc":"2.0","id":null,"method":"supervisor_localSafe","params":["0x384"]})",
      R"({"jsonrpc":"2.0","id":-42,"method":"supervisor_finalized","params":["901"]})",
      R"({"jsonrpc":"2.0","id":123456789012345678,"method":"supervisor_syncStatus","params":[]})",
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_finalizedL1","params":[]})",
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_localUnsafe","params":["999"]})",      // unknown chain
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_localUnsafe","params":["0900"]})",     // decimal with a zero
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_localUnsafe","params":["abc"]})",      // does not decode
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_localUnsafe","params":[]})",           // too few
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_syncStatus","params":["900"]})",       // too many
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_localUnsafe","params":["900","901"]})",
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_localUnsafe","params":[900]})",
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_localUnsafe","params":null})",
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_localUnsafe","params":{"a":"900"}})",
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor_localUnsafe"})",
      R"({"jsonrpc":"2.0","method":"supervisor_localUnsafe","params":["900"]})",             // notification
      R"({"jsonrpc":"2.0","id":-0,"method":"supervisor_localUnsafe","params":["900"]})",
      R"({"jsonrpc":"2.0","id":007,"method":"supervisor_localUnsafe","params":["900"]})",    // not JSON
      R"({"jsonrpc":"2.0","id":1.0,"method":"supervisor_localUnsafe","params":["900"]})",
      R"({"jsonrpc":"2.0","id":1e3,"method":"supervisor_localUnsafe","params":["900"]})",
      R"({"jsonrpc":"2.0","id":1234567890123456789012,"method":"supervisor_localUnsafe","params":["900"]})",
      R"({"jsonrpc":"2.0","id":"a"b","method":"supervisor_localUnsafe","params":["900"]})",
      R"({"jsonrpc":"2.0","id":"é","method":"supervisor_localUnsafe","params":["900"]})",
      "{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\xa9\",\"method\":\"supervisor_localUnsafe\",\"params\":[\"900\"]}",
      "{\"jsonrpc\":\"2.0\",\"id\":\"\xff\",\"method\":\"supervisor_localUnsafe\",\"params\":[\"900\"]}",
      "{\"jsonrpc\":\"2.0\",\"id\":\"\x01\",\"method\":\"supervisor_localUnsafe\",\"params\":[\"900\"]}",
      R"({"jsonrpc":"2.0","id":true,"method":"supervisor_localUnsafe","params":["900"]})",
      R"({"jsonrpc":"2.0","id":[1],"method":"supervisor_localUnsafe","params":["900"]})",
      R"({"jsonrpc":"1.0","id":1,"method":"supervisor_localUnsafe","params":["900"]})",
      R"({"jsonrpc":2.0,"id":1,"method":"supervisor_localUnsafe","params":["900"]})",
      R"({"jsonrpc":"2.0","id":1,"id":2,"method":"supervisor_localUnsafe","params":["900"]})",  // the last id counts
      R"({"jsonrpc":"2.0","id":1,"method":"supervisor_localUnsafe","method":"supervisor_crossSafe","params":["900"]})",
      R"({"jsonrpc":"2.0","id":1,"method":"supervisor_localUnsafe","params":["900"],"extra":{}})",
      R"({"jsonrpc":"2.0","id":1,"method":"supervisor_checkAccessList","params":["900"]})",
      R"({"jsonrpc":"2.0","id":1,"method":"no_such_method","params":["900"]})",
      R"({"jsonrpc":"2.0","id":1,"method":"supervisor_localUnsafe","params":["900"]} x)",
      R"({"jsonrpc":"2.0","id":1,"method":"supervisor_localUnsafe","params":["900"],})",
      R"({"jsonrpc":"2.0","id":1,"method":"supervisor_localUnsafe","params":["900"])",
      R"({"jsonrpc":"2.0","id":1,"method":"supervisor_localUnsafe","params":["900)",
      R"([{"jsonrpc":"2.0","id":1,"method":"supervisor_localUnsafe","params":["900"]}])",
      R"({})",
      "",
  };
  for (const std::string& body : bodies) {
    EXPECT_EQ(fast_->Handle(body, ctx_), reference_->Handle(body, ctx_)) << body;
    EXPECT_EQ(fast_calls, reference_calls) << body;
  }
  // The plain ones did not build a Json: TryHeadRead answered them itself.
  EXPECT_TRUE(fast_->TryHeadRead(bodies[0]).has_value());
  EXPECT_TRUE(fast_->TryHeadRead(bodies[1]).has_value());
  EXPECT_FALSE(fast_->TryHeadRead(bodies[6]).has_value());  // the unknown chain's error names it: parsed path
  EXPECT_FALSE(reference_->TryHeadRead(bodies[0]).has_value());
}

TEST_F(HeadAnswersTest, OneEncodingPerSnapshotAndAWriteReplacesIt) {
  const std::string read = Body("supervisor_localUnsafe", Json::array({Chain(0)}));
  for (int i = 0; i < 50; ++i) ASSERT_EQ(fast_->Handle(read, ctx_), reference_->Handle(read, ctx_));
  EXPECT_EQ(fast_->head_encodings(), 1u);

  chain(0).Build({});
  ASSERT_EQ(Write("supervisor_updateLocalUnsafe", {Chain(0), rpc::Encode(chain(0).head())})["result"], nullptr);
  const Json after = Json::parse(*fast_->Handle(read, ctx_));
  EXPECT_EQ(after["result"], rpc::Encode(chain(0).head().ID()));
  EXPECT_EQ(fast_->head_encodings(), 2u);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(fast_->Handle(read, ctx_), reference_->Handle(read, ctx_));
  EXPECT_EQ(fast_->head_encodings(), 2u);
}

TEST_F(HeadAnswersTest, ConcurrentReadersSeeHeadsMoveForwardWhileAWriterWrites) {
  constexpr int kBlocks = 40;
  for (int i = 0; i < kBlocks; ++i) chain(0).Build({});
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      const std::string read = Body("supervisor_localUnsafe", Json::array({Chain(0)}));
      uint64_t last = 0;
      while (!done.load()) {
        const Json r = Json::parse(*fast_->Handle(read, ctx_));
        const uint64_t n = r["result"]["number"].get<uint64_t>();
        if (n < last || n > kBlocks) bad.fetch_add(1);
        last = n;
      }
    });
  }
  for (int n = 1; n <= kBlocks; ++n)
    ASSERT_EQ(Write("supervisor_updateLocalUnsafe", {Chain(0), rpc::Encode(chain(0).block(n))})["result"], nullptr);
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(Json::parse(*fast_->Handle(Body("supervisor_localUnsafe", Json::array({Chain(0)})), ctx_))["result"],
            rpc::Encode(chain(0).head().ID()));
}

}  // namespace
}  // namespace supersafe::testing

namespace supersafe::testing {
namespace {

// Once the core is dead, every head read answers its liveness error, for every chain, known or
// not, and for the reads that name none: the snapshot's heads are not to be trusted.
TEST(HeadAnswersOfADeadCore, EveryReadAnswersTheLivenessError) {
  auto snap = std::make_shared<supervisor::ReadSnapshot>();
  snap->alive = IOError("events.db: fdatasync failed: the core must be reopened");
  snap->heads[ChainID(uint64_t{900})] = supervisor::Heads{};
  snap->finalized_l1 = BlockRef{};
  const rpc::HeadAnswers answers(snap);
  const auto [code, message] = rpc::RpcError(snap->alive);
  const std::string expected = rpc::Json{{"code", code}, {"message", message}}.dump();
  for (rpc::HeadRead read : {rpc::HeadRead::kLocalUnsafe, rpc::HeadRead::kLocalSafe, rpc::HeadRead::kCrossSafe,
                             rpc::HeadRead::kFinalized, rpc::HeadRead::kFinalizedL1, rpc::HeadRead::kSyncStatus}) {
    for (const ChainID& chain : {ChainID(uint64_t{900}), ChainID(uint64_t{901})}) {
      const rpc::HeadAnswers::Answer* a = answers.Find(read, chain);
      ASSERT_NE(a, nullptr);
      EXPECT_EQ(a->code, code);
      EXPECT_EQ(a->bytes, expected);
      EXPECT_FALSE(rpc::AnswerFrom(*snap, read, chain).ok());
    }
  }
  EXPECT_NE(code, 0);
  EXPECT_NE(message.find("fdatasync failed"), std::string::npos);
}

}  // namespace
}  // namespace supersafe::testing
