// Scenario files (shared/spec scenarios.md, docs/scenario-format.md): the parsed form of one
// YAML file, a small superchain and a list of steps.
//
// Parsing is strict: an unknown key, a value of the wrong type, a duplicate message or chain name,
// or a reference to a chain or message that does not exist (earlier in the file) is an error whose
// message names the file, the line and the key: "scenarios/x.yaml:12: build.chain: no chain 'C'".
// Everything that can be resolved from the file alone is resolved here (chain names to indices,
// init logs to Log values, explicit identifiers to ExecutingMessage values); names of messages
// emitted at run time stay names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/messages.h"
#include "core/status.h"
#include "core/types.h"

namespace supersafe::sim {

// 0x4242424242424242424242424242424242424242, the default emitter of init logs.
const Address& DefaultOrigin();

struct ChainSpec {
  std::string name;
  ChainID id;
  uint64_t block_time = 2;
  uint64_t interop_time = 0;  // defaults to genesis.l2_time
  // op-geth: the lowest CheckMessage level the block builder includes an executing message at
  // (unsafe, cross-unsafe, safe or finalized), and whether left-out interop txs wait in a tx pool.
  SafetyLevel policy = SafetyLevel::kUnsafe;
  bool mempool = false;
  // op-geth: the timeout (seconds) of its executing-side checks: a message must stay unexpired
  // until the executing timestamp plus this (op-geth's tx pool ingress filter uses one day).
  uint64_t exec_timeout = 86400;
  // op-node: what derivation does with the rest of a batch after one of its blocks is replaced by
  // a deposit-only block: derive it again on top of the replacement (span batches since Holocene),
  // or drop it (singular batches).
  enum class AfterReplacement { kRederive, kDrop };
  AfterReplacement after_replacement = AfterReplacement::kRederive;
  // op-node: the sequencing window in L1 blocks; none (the default) means batches are never too
  // late and no empty block is ever forced.
  std::optional<uint64_t> seq_window;
};

struct GenesisSpec {
  uint64_t l2_time = 1000;
  uint64_t l1_time = 0;
  uint64_t l1_block_time = 12;
};

struct GameSpec {  // read for `supersafe export`; the simulator ignores it
  uint64_t l1_head = 0;
  uint64_t prestate = 0;
  uint64_t poststate = 0;
};

enum class NodesMode { kAuto, kManual };

// One entry of a `logs:` list.
struct LogSpec {
  enum class Kind {
    kInit,          // `{init: NAME}`: emit `log`, register it as message NAME; `{payload: 0x..}`: unnamed
    kExecNamed,     // `{exec: NAME}`: execute message NAME, identifier taken from where it was emitted
    kExecExplicit,  // `{exec: {chain: .., block: .., ...}}`: execute `message` as written
  };
  Kind kind = Kind::kInit;
  std::string name;          // kInit (empty: an unnamed log), kExecNamed
  Log log;                   // kInit
  ExecutingMessage message;  // kExecExplicit
  // The log is in the k-th block (k = 1, 2, ...) of a build or unsafe reorg of several blocks only
  // when k is a multiple of `every` (`every: N`, unnamed and exec logs only).
  uint64_t every = 1;
  bool InBlock(uint64_t k) const { return k % every == 0; }
};

struct BuildStep {
  size_t chain = 0;
  uint64_t blocks = 1;
  std::vector<LogSpec> logs;
  bool force = false;
};
struct BatchStep {
  size_t chain = 0;
  std::optional<uint64_t> through;  // default: every eligible unsafe block
};
struct DropBatchesStep {  // the chain's queued batches are lost: never posted
  size_t chain = 0;
};
// The batcher posts, at height `block`, another block than the sequencer gossiped (same parent
// and timestamp, these logs), after the unposted blocks below it.
struct BatchDivergentStep {
  size_t chain = 0;
  uint64_t block = 1;
  std::vector<LogSpec> logs;
  bool force = false;
};
struct MineStep {
  uint64_t count = 1;
};
struct DeriveStep {  // nodes: manual
  size_t chain = 0;
  std::optional<uint64_t> to_l1;  // default: the L1 head
};
struct SyncStep {  // nodes: manual
  size_t chain = 0;
};
struct ReorgL1Step {
  uint64_t depth = 1;
  std::string fork;
  bool keep_batches = false;
};
struct FinalizeL1Step {  // exactly one of the two
  std::optional<uint64_t> number;
  std::optional<uint64_t> depth;
};
struct ReorgUnsafeStep {
  size_t chain = 0;
  uint64_t depth = 1;
  std::vector<LogSpec> logs;
  bool force = false;
};
struct RestartStep {};
struct PoolStep {  // re-check the chain's tx pool and prune it (no inclusion); needs `mempool: true`
  size_t chain = 0;
};
enum class CrashDb { kSafe, kEvents };
struct CrashStep {
  uint64_t torn_bytes = 1;
  CrashDb db = CrashDb::kSafe;
};
// A storage fault of the simulated disk (docs/scenario-format.md, "Storage faults").
enum class FaultKind { kCrash, kFsyncError, kReadError, kNoSpace, kBitFlip };
const char* FaultKindName(FaultKind k);  // "crash", "fsync_error", "read_error", "no_space", "bit_flip"
enum class DbFile { kSafe, kEvents, kReplacements };
const char* DbFileName(DbFile f);  // "safe", "events", "replacements"
struct FaultStep {
  FaultKind kind = FaultKind::kCrash;
  // crash: power loss before the at-th disk operation from now; fsync_error, read_error, no_space:
  // the at-th sync, read or write from now fails.
  uint64_t at = 1;
  DbFile db = DbFile::kSafe;  // bit_flip: the file whose synced bytes rot
  size_t chain = 0;           // bit_flip of events or replacements: whose
};

enum class CallMethod { kTryCrossSafe, kTryFinalize, kUpdateLocalUnsafe, kCheckMessage, kGetCrossUnsafe };
const char* CallMethodName(CallMethod m);  // "tryCrossSafe", ...

// One direct call to the core. Block numbers are resolved to canonical blocks when the step runs.
struct CallStep {
  CallMethod method = CallMethod::kTryCrossSafe;
  size_t chain = 0;                   // every method but checkMessage
  // tryCrossSafe: the chain's block at this height; absent: the block the chain's node derived
  // through `derived_from` (the node must have derived that canonical L1 block).
  std::optional<uint64_t> local_safe;
  uint64_t derived_from = 0;          // tryCrossSafe: the L1 block at this height
  uint64_t finalized_l1 = 0;          // tryFinalize
  std::optional<uint64_t> unsafe;     // updateLocalUnsafe (default: the node's unsafe head)
  uint64_t max_number = 0;            // getCrossUnsafe
  std::optional<LogSpec> message;     // checkMessage: kExecNamed or kExecExplicit
};

// Expectations (checked when the step runs; a failure stops the run).
struct HeadsExpect {
  size_t chain = 0;
  std::optional<uint64_t> unsafe, cross_unsafe, local_safe, cross_safe, finalized;
};
struct ReplacedExpect {  // about the chain's canonical block `block`
  size_t chain = 0;
  uint64_t block = 0;
  bool replaced = true;
  bool check_replaced = true;    // false when only `logs` is given
  std::optional<uint64_t> logs;  // the number of logs it holds
};
struct MessageExpect {
  std::string message;
  SafetyLevel level = SafetyLevel::kUnsafe;  // conflicts and unknown allowed
};
struct ResultExpect {  // about the answer of the latest `call`
  std::optional<std::string> status;      // tryCrossSafe: accept | unknown | invalid
  std::optional<uint64_t> cross_safe;     // tryCrossSafe
  std::optional<uint64_t> local_safe;     // tryCrossSafe
  std::optional<uint64_t> block;          // tryFinalize, getCrossUnsafe: the returned block number
  std::optional<SafetyLevel> level;       // checkMessage
  bool ok_only = false;                   // `result: ok`: any successful answer
};
struct ErrorExpect {
  Code code = Code::kOk;
};
struct PoolExpect {  // the number of pending txs in the chain's tx pool
  size_t chain = 0;
  uint64_t pending = 0;
};
using Expectation = std::variant<HeadsExpect, ReplacedExpect, MessageExpect, ResultExpect, ErrorExpect, PoolExpect>;
struct ExpectStep {
  Expectation what;
};

using StepAction = std::variant<BuildStep, BatchStep, MineStep, DeriveStep, SyncStep, ReorgL1Step, FinalizeL1Step,
                                ReorgUnsafeStep, RestartStep, CrashStep, CallStep, ExpectStep, PoolStep,
                                DropBatchesStep, FaultStep, BatchDivergentStep>;

struct Step {
  size_t index = 0;   // 1-based position in `steps:`
  int line = 0;       // 1-based line in the file
  std::string kind;   // "build", "reorg_l1", ...
  std::string label;  // the step as written, in flow style: "build: {chain: A, blocks: 2}"
  StepAction action;
};

struct Scenario {
  std::string file;  // as given to the parser (used in messages and replay commands)
  std::string name;
  std::string description;
  uint64_t seed = 0;
  std::vector<ChainSpec> chains;  // chain-index order
  GenesisSpec genesis;
  uint64_t expiry_window = 604800;
  NodesMode nodes = NodesMode::kAuto;
  std::vector<GameSpec> games;
  std::vector<Step> steps;

  // Index of the chain named `name`, if any.
  std::optional<size_t> ChainIndex(const std::string& name) const;
};

// What one run can do (docs/scenario-format.md, "Limits"): a file whose steps add up to more is
// refused when it is parsed, with an error naming the limit. A step's L1 blocks are its `mine` count
// or `reorg_l1` depth; its L2 blocks its `build` count or `reorg_unsafe` depth; its logs, those of
// every block it builds. Timestamps must also stay below 2^64 for every block the file can build.
inline constexpr uint64_t kMaxL1BlocksPerRun = 100'000;
inline constexpr uint64_t kMaxL2BlocksPerRun = 1'000'000;
inline constexpr uint64_t kMaxLogsPerRun = 4'000'000;

// `text` for a terminal, on one line: control characters (C0, DEL, C1) and bytes that are not
// UTF-8 are shown as \xNN. Error messages that quote a file's contents go through it.
std::string Printable(std::string_view text);

// Parses YAML text; `file` names the source in error messages. Text that is not UTF-8 or holds a
// control character other than tab, line feed and carriage return is refused before it is read as
// YAML ("FILE:LINE: not a text file: byte 0x00 at column 7 ..."); a tab in an indentation, or
// collections nested deeper than the YAML reader goes, get a message saying so.
Result<Scenario> ParseScenario(const std::string& text, const std::string& file);
// Reads and parses a file (kIOError naming the file if it is missing, a directory or unreadable).
Result<Scenario> ParseScenarioFile(const std::filesystem::path& path);

}  // namespace supersafe::sim
