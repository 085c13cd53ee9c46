// Upstream node answers (daemon/upstream.h) on arbitrary bytes: the JSON-RPC answer envelope, then
// its result as a block (BlockRefFromEth) and as receipts (LogsFromReceipts, for the block hash of
// the first receipt so that the log decoding is reached). Each decodes or fails with a clear error
// of the documented kinds (kNotFound or kIOError), never a crash.
#include "daemon/upstream.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace supersafe;

void ExpectUpstreamError(const Status& s, std::string_view where) {
  fuzz::ExpectClearError(s, where);
  if (s.code() != Code::kIOError && s.code() != Code::kNotFound)
    fuzz::Fail(std::string(where) + ": error of another kind: " + s.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto result = daemon::ResultOfAnswer(std::string_view(reinterpret_cast<const char*>(data), size), 1, "fuzz");
  if (!result.ok()) {
    ExpectUpstreamError(result.status(), "ResultOfAnswer");
    return 0;
  }
  const rpc::Json& r = *result;
  auto block = daemon::BlockRefFromEth(r, "fuzz");
  if (!block.ok()) ExpectUpstreamError(block.status(), "BlockRefFromEth");
  BlockID id;
  id.number = 7;
  if (r.is_array() && !r.empty() && r[0].is_object() && r[0].contains("blockHash")) {
    auto h = rpc::DecodeHash(r[0]["blockHash"], "blockHash");
    if (h.ok()) id.hash = *h;
  }
  auto logs = daemon::LogsFromReceipts(r, id, "fuzz");
  if (!logs.ok()) ExpectUpstreamError(logs.status(), "LogsFromReceipts");
  return 0;
}
