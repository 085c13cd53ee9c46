// The JSON-RPC request decoder and every method's parameter decoding (rpc::Dispatcher::Handle) on
// arbitrary request bodies, over a fresh supervisor per input (an in-memory data directory, chains
// 900 and 901 with blocks 0..3 served by their nodes, L1 blocks 0..3). Every body gets a well-formed
// JSON-RPC answer (or none, for notifications only): for each call a result or an error object with
// an integer code and a message; never a crash. Block hashes are simple to write in seeds:
// byte 0 names the chain (0xa1 for L1, 0xb0 + chain index for L2), bytes 24..32 hold the number.
// Where the fast path (Dispatcher::TryHeadRead) answers a body, a dispatcher without it must give
// the same bytes: the fast reader may refuse any body, never answer one differently.
#include <mutex>

#include "core/fp.h"
#include "core/types.h"
#include "db/mem_env.h"
#include "fuzz/fuzz_util.h"
#include "rpc/dispatcher.h"

namespace {

using namespace supersafe;
using rpc::Json;

constexpr uint64_t kBlocks = 4;

Hash BlockHash(uint8_t tag, uint64_t n) {
  Hash h;
  if (n == UINT64_MAX) return h;  // the parent of genesis
  h.data()[0] = tag;
  for (int i = 0; i < 8; ++i) h.data()[31 - i] = static_cast<uint8_t>(n >> (8 * i));
  return h;
}

BlockRef Block(uint8_t tag, uint64_t n, uint64_t time) { return BlockRef{BlockHash(tag, n), n, BlockHash(tag, n - 1), time}; }

class L1 : public supervisor::L1Source {
 public:
  Result<BlockRef> BlockByNumber(uint64_t n) override {
    if (n >= kBlocks) return NotFound("L1 block above head");
    return Block(0xa1, n, 12 * n);
  }
};

class Chain : public supervisor::ChainSource {
 public:
  explicit Chain(uint8_t tag) : tag_(tag) {}
  Result<BlockRef> BlockByNumber(uint64_t n) override {
    if (n >= kBlocks) return NotFound("L2 block above head");
    return Block(tag_, n, 1000 + 2 * n);
  }
  Result<std::vector<Log>> Logs(const BlockID& id) override {
    if (id.number >= kBlocks || id.hash != BlockHash(tag_, id.number)) return NotFound("no such block");
    return std::vector<Log>{};
  }
  Result<Bytes> OutputPreimage(const BlockID& id) override {
    return OutputV0Preimage(BlockHash(0xc0, id.number), BlockHash(0xd0, id.number), id.hash);
  }

 private:
  uint8_t tag_;
};

void CheckAnswer(const Json& a) {
  if (!a.is_object()) fuzz::Fail("an answer that is not an object: " + a.dump());
  if (!a.contains("jsonrpc") || a["jsonrpc"] != "2.0") fuzz::Fail("an answer without jsonrpc 2.0: " + a.dump());
  if (!a.contains("id")) fuzz::Fail("an answer without id: " + a.dump());
  const bool has_result = a.contains("result"), has_error = a.contains("error");
  if (has_result == has_error) fuzz::Fail("an answer needs exactly one of result and error: " + a.dump());
  if (has_error) {
    const Json& e = a["error"];
    if (!e.is_object() || !e.contains("code") || !e["code"].is_number_integer() || !e.contains("message") ||
        !e["message"].is_string() || e["message"].get<std::string>().empty())
      fuzz::Fail("a malformed error object: " + a.dump());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  db::MemEnv env;
  L1 l1;
  Chain a(0xb0), b(0xb1);
  supervisor::DependencySet deps;
  deps.genesis_l1 = Block(0xa1, 0, 0);
  for (uint64_t c = 0; c < 2; ++c) {
    supervisor::ChainConfig cfg;
    cfg.id = ChainID(900 + c);
    cfg.genesis = Block(static_cast<uint8_t>(0xb0 + c), 0, 1000);
    deps.chains.push_back(cfg);
  }
  supervisor::Sources sources{&l1, {{ChainID(uint64_t{900}), &a}, {ChainID(uint64_t{901}), &b}}};
  auto core = supervisor::Supervisor::Open("/data", deps, sources, supervisor::Options{&env});
  if (!core.ok()) fuzz::Fail("the supervisor does not open: " + core.status().ToString());
  supervisor::CoreGate gate(**core);
  rpc::Dispatcher dispatcher(gate, rpc::Dispatcher::Options{8, "v0.0.0-fuzz"});
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (std::optional<std::string> fast = dispatcher.TryHeadRead(body)) {
    rpc::Dispatcher::Options reference_options{8, "v0.0.0-fuzz"};
    reference_options.fast_head_reads = false;
    rpc::Dispatcher reference(gate, reference_options);
    std::optional<std::string> slow = reference.Handle(body, rpc::CallContext{true, ""});
    if (slow != fast) fuzz::Fail("the fast head read answers " + *fast + ", the parsed path " + slow.value_or("nothing"));
  }
  // A body with a leading space comes without an admin token; any other with a valid one.
  const bool admin = !(size > 0 && data[0] == ' ');
  auto out = dispatcher.Handle(body, rpc::CallContext{admin, admin ? "" : "no token"});
  if (!out) return 0;
  Json answer = Json::parse(*out, nullptr, false);
  if (answer.is_discarded()) fuzz::Fail("an answer that is not JSON: " + *out);
  if (answer.is_array()) {
    if (answer.empty()) fuzz::Fail("an empty batch answer");
    for (const Json& a1 : answer) CheckAnswer(a1);
  } else {
    CheckAnswer(answer);
  }
  return 0;
}
