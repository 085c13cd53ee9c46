// A fake op-node in managed mode: the node side of the supervisor <-> op-node `interop_*` API
// (docs/managed-mode.md) over TestRpcServer (HTTP and WebSocket, JWT on every request and
// upgrade), driven by a small scripted chain. It decodes the supervisor's calls as op-node's Go
// server does (positional params; quantities are JSON numbers, a hex string is -32602; struct
// members matched in any case) and records each call.
//
// The chain: the test builds unsafe blocks (each with its logs and its L1 origin) and says in
// which L1 block each block's batch lands. Derivation follows the L1 blocks the supervisor gives
// with provideL1, one at a time: a block whose parent is not the current L1 block asks for a
// reset; otherwise the node emits derivationUpdate + derivationOriginUpdate (the L1 traversal),
// one derivationUpdate per block batched in it, then exhaustL1. While it waits for L1 it repeats
// exhaustL1 every 50 ms, as op-node's derivation loop retries.
//
// Events: while subscribed (interop_subscribe ["events"], one subscription at a time) they go out
// as interop_subscription notifications {"subscription": id, "result": {"data": EVENT}}; else
// they queue (at most 100, oldest dropped) for interop_pullEvent (-39001 "out of events" when
// none). Subscribing clears the queue; pullEvent ends a live subscription with a close notice.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "tests/daemon/fake_node.h"
#include "tests/daemon/rpc_test_server.h"

namespace supersafe::testing {

class FakeOpNode {
 public:
  struct Call {
    std::string method;
    rpc::Json params;
  };
  // `l1` is the chain `l1_node` serves (read under its lock).
  FakeOpNode(const ChainConfig& cfg, FakeL1* l1, FakeNode* l1_node, daemon::JwtSecret secret);
  ~FakeOpNode();

  std::string url(const std::string& scheme) const { return server_->url(scheme); }
  TestRpcServer& server() { return *server_; }

  // --- the script (any thread) ---
  // Builds the next unsafe block with `logs` and L1 origin `origin` and emits unsafeBlock.
  BlockRef BuildUnsafe(std::vector<Log> logs, const BlockID& origin);
  // Block n's batch lands in L1 block `l1` (it becomes local-safe when that block is derived).
  void Batch(uint64_t n, uint64_t l1);
  // A node that goes away (connections dropped, requests answered 503) and comes back.
  void SetDown(bool down);

  // --- what the node holds (any thread) ---
  struct Heads {
    BlockRef unsafe;
    BlockID local_safe, cross_unsafe, cross_safe, finalized;
    BlockRef l1;  // the L1 block derived last
  };
  Heads heads();
  BlockRef block(uint64_t n);
  Bytes OutputPreimageOf(const BlockID& b) const;
  std::vector<Call> calls(const std::string& method);
  FakeChain& chain() { return chain_; }  // under lock() only
  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mu_); }

 private:
  using Json = rpc::Json;
  using Reply = daemon::RpcReply;
  Reply Handle(const std::string& method, const Json& params, uint64_t conn, bool ws);
  void Emit(Json event);  // under mu_
  void DeriveFrom(const BlockRef& l1);  // under mu_
  void EmitExhausted();  // under mu_
  Json L2Ref(uint64_t n) const;  // under mu_
  void Repeat();

  supervisor::ChainConfig cfg_;
  FakeL1* l1_;
  FakeNode* l1_node_;
  mutable std::mutex mu_;
  FakeChain chain_;
  std::map<uint64_t, BlockID> origin_;      // block number -> L1 origin
  std::map<uint64_t, uint64_t> batched_in_;  // block number -> L1 block number
  std::map<Hash, BlockRef> invalidated_;     // replaced blocks, by the replacement's hash
  uint64_t local_safe_ = 0;
  BlockID cross_unsafe_, cross_safe_, finalized_;
  BlockRef l1_current_;
  bool waiting_for_l1_ = true;
  std::deque<Json> queue_;
  std::optional<std::pair<uint64_t, std::string>> subscription_;  // connection, id
  uint64_t next_sub_ = 1;
  std::vector<Call> calls_;
  bool stopping_ = false;
  std::condition_variable cv_;
  std::thread repeater_;
  std::unique_ptr<TestRpcServer> server_;
};

}  // namespace supersafe::testing
