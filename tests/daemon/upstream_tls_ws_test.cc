// Upstreams over https://, ws:// and wss://, with and without a JWT, against a TLS server with a
// self-signed certificate made here (the openssl command): URL parsing, certificate and host-name
// verification, the 401 of a missing or wrong token, and the daemon following a chain whose node
// pushes new heads by subscription (eth_subscribe newHeads) instead of being polled, through a
// dropped connection.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "daemon/transport.h"
#include "daemon/upstream.h"
#include "tests/daemon/daemon_fixture.h"
#include "tests/daemon/rpc_test_server.h"

namespace supersafe::testing {
namespace {

using daemon::JsonRpcClient;
using rpc::Json;

TEST(EndpointTest, SchemesPortsAndPaths) {
  auto e = daemon::ParseEndpoint("--l1-rpc", "wss://node.example:8546/ws?key=1");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->scheme, "wss");
  EXPECT_TRUE(e->tls());
  EXPECT_TRUE(e->websocket());
  EXPECT_EQ(e->host, "node.example");
  EXPECT_EQ(e->port, 8546);
  EXPECT_EQ(e->path, "/ws?key=1");
  EXPECT_EQ(daemon::ParseEndpoint("x", "https://a.b")->port, 443);
  EXPECT_EQ(daemon::ParseEndpoint("x", "ws://a.b")->port, 80);
  EXPECT_EQ(daemon::ParseEndpoint("x", "HTTP://a.b:1")->scheme, "http");
  auto v6 = daemon::ParseEndpoint("x", "http://[::1]:8545");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->authority(), "[::1]:8545");
  for (const char* bad : {"ftp://a", "a.b:80", "http://", "http://a:0", "http://a:99999", "http://a:x", "http://u@a",
                          "http://a:", "http://[::1"}) {
    auto r = daemon::ParseEndpoint("--l2-rpc 900", bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("--l2-rpc 900 URL"), std::string::npos) << r.status().message();
    }
  }
}

// A TLS node over one FakeChain; `jwt` asks for a token.
class TlsUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("supersafe-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::tie(cert_, key_) = MakeSelfSignedCert(dir_.string());
    ASSERT_FALSE(cert_.empty()) << "the openssl command could not make a certificate";
    ::unsetenv("SSL_CERT_FILE");
  }
  void TearDown() override {
    server_.reset();
    ::unsetenv("SSL_CERT_FILE");
    std::filesystem::remove_all(dir_);
  }
  void Serve(std::optional<daemon::JwtSecret> jwt) {
    TestRpcServer::Options o;
    o.jwt = jwt;
    o.tls_cert_file = cert_;
    o.tls_key_file = key_;
    server_ = std::make_unique<TestRpcServer>(o, [this](const std::string& m, const Json& p, uint64_t, bool) {
      std::lock_guard<std::mutex> g(mu_);
      return daemon::RpcReply{EthView{nullptr, &chain_, std::nullopt}.Answer(m, p), std::nullopt};
    });
  }
  Result<Json> Head(const std::string& scheme, std::optional<daemon::JwtSecret> jwt) {
    auto c = JsonRpcClient::Create("--l2-rpc 900", server_->url(scheme), JsonRpcClient::Options{std::chrono::seconds(10), jwt});
    if (!c.ok()) return c.status();
    return (*c)->Call("eth_getBlockByNumber", Json::array({"latest", false}));
  }

  std::filesystem::path dir_;
  std::string cert_, key_;
  std::mutex mu_;
  FakeChain chain_{ConfigOf(900)};
  std::unique_ptr<TestRpcServer> server_;
};

TEST_F(TlsUpstreamTest, HttpsAndWssVerifyTheCertificate) {
  Serve(std::nullopt);
  for (const char* scheme : {"https", "wss"}) {
    auto untrusted = Head(scheme, std::nullopt);
    ASSERT_FALSE(untrusted.ok()) << scheme << ": a self-signed certificate must not be trusted by default";
    EXPECT_EQ(untrusted.status().code(), Code::kIOError);
  }
  ::setenv("SSL_CERT_FILE", cert_.c_str(), 1);
  for (const char* scheme : {"https", "wss"}) {
    auto head = Head(scheme, std::nullopt);
    ASSERT_TRUE(head.ok()) << scheme << ": " << head.status().ToString();
    EXPECT_EQ((*head)["hash"], chain_.head().hash.Hex()) << scheme;
  }
  // The certificate names 127.0.0.1, not localhost: the host name is checked too.
  auto c = JsonRpcClient::Create("x", "https://localhost:" + std::to_string(server_->port()), std::chrono::seconds(10));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE((*c)->Call("eth_chainId", Json::array()).ok());
}

TEST_F(TlsUpstreamTest, JwtOnEveryHttpsRequestAndOnTheWssUpgrade) {
  const daemon::JwtSecret secret = *daemon::ParseJwtSecret(std::string(64, 'a'));
  const daemon::JwtSecret wrong = *daemon::ParseJwtSecret(std::string(64, 'b'));
  Serve(secret);
  ::setenv("SSL_CERT_FILE", cert_.c_str(), 1);
  for (const char* scheme : {"https", "wss"}) {
    const int refused = server_->unauthorized;
    auto none = Head(scheme, std::nullopt);
    ASSERT_FALSE(none.ok()) << scheme;
    EXPECT_NE(none.status().message().find("401"), std::string::npos) << none.status().message();
    EXPECT_FALSE(Head(scheme, wrong).ok()) << scheme;
    EXPECT_EQ(server_->unauthorized, refused + 2) << scheme;
    auto head = Head(scheme, secret);
    ASSERT_TRUE(head.ok()) << scheme << ": " << head.status().ToString();
    EXPECT_EQ((*head)["number"], "0x0");
  }
}

// The daemon over ws L2 nodes that push their heads: with a poll interval
// of an hour, only the subscriptions can make it index anything.
class SubscribedHeadsTest : public DaemonFixture {
 protected:
  void ServeWs(size_t c) {
    auto server = std::make_unique<TestRpcServer>(
        TestRpcServer::Options{}, [this, c](const std::string& m, const Json& p, uint64_t conn, bool ws) {
          std::lock_guard<std::mutex> g(mu_);
          if (m == "eth_subscribe") {
            EXPECT_TRUE(ws);
            EXPECT_EQ(p, Json::array({"newHeads"}));
            subscriber_[c] = conn;
            ++subscriptions_[c];
            return daemon::RpcReply{"0xab" + std::to_string(c), std::nullopt};
          }
          if (m == "eth_getBlockByNumber" && p[0] == "latest") ++latest_calls_;
          return daemon::RpcReply{EthView{nullptr, chains_[c].get(), std::nullopt}.Answer(m, p), std::nullopt};
        });
    config_.l2_rpc[chains_[c]->config().id] = server->url("ws");
    servers_.push_back(std::move(server));
  }
  // Builds a block on chain c and pushes its header to the subscriber.
  void BuildAndPush(size_t c) {
    Json header;
    uint64_t conn = 0;
    {
      std::lock_guard<std::mutex> g(mu_);
      header = EthView::Header(chains_[c]->Build());
      conn = subscriber_[c];
    }
    servers_[c]->Notify(conn, Json{{"jsonrpc", "2.0"}, {"method", "eth_subscription"},
                                   {"params", {{"subscription", "0xab" + std::to_string(c)}, {"result", header}}}});
  }
  uint64_t Indexed(size_t c) {
    auto r = Rpc("supervisor_localUnsafe", {chains_[c]->config().id.Decimal()});
    return r["result"]["number"].get<uint64_t>();
  }

  std::mutex mu_;
  std::vector<std::unique_ptr<TestRpcServer>> servers_;
  std::map<size_t, uint64_t> subscriber_;
  std::map<size_t, int> subscriptions_;
  int latest_calls_ = 0;
};

TEST_F(SubscribedHeadsTest, NewHeadsComeBySubscriptionAndResubscribeAfterADrop) {
  ServeWs(0);
  ServeWs(1);
  config_.poll_interval = std::chrono::hours(1);
  StartDaemon();
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> g(mu_);
    return subscriptions_[0] == 1 && subscriptions_[1] == 1;
  }));
  // One "latest" per subscription, for the head as of subscribing; then only pushed heads.
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> g(mu_);
    return latest_calls_ == 2;
  }));
  const int latest_before = 2;
  for (int i = 0; i < 3; ++i) BuildAndPush(0);
  BuildAndPush(1);
  EXPECT_TRUE(WaitUntil([&] { return Indexed(0) == 3 && Indexed(1) == 1; })) << Indexed(0) << " " << Indexed(1);
  {
    std::lock_guard<std::mutex> g(mu_);
    EXPECT_EQ(latest_calls_, latest_before) << "a subscribed chain's head must not be polled";
  }

  // The node drops every connection and stays up: the daemon dials again and subscribes anew at
  // once (its hour-long poll interval would not), then follows the pushed heads.
  servers_[0]->DropConnections();
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> g(mu_);
    return subscriptions_[0] == 2;
  }));
  BuildAndPush(0);
  EXPECT_TRUE(WaitUntil([&] { return Indexed(0) == 4; })) << Indexed(0);
}

}  // namespace
}  // namespace supersafe::testing
