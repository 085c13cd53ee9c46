// Scenario files (docs/scenario-format.md): the parsed form of one YAML file, a small superchain
// and a list of steps. The step kinds, how each is read and how it is written back, are one table
// in sim/steps.h.
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
  bool operator==(const ChainSpec&) const = default;
};

struct GenesisSpec {
  uint64_t l2_time = 1000;
  uint64_t l1_time = 0;
  uint64_t l1_block_time = 12;
  bool operator==(const GenesisSpec&) const = default;
};

struct GameSpec {  // read for `supersafe export`; the simulator ignores it
  uint64_t l1_head = 0;
  uint64_t prestate = 0;
  uint64_t poststate = 0;
  bool operator==(const GameSpec&) const = default;
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
  // The payload as written, for kExecExplicit and for init logs given `payload:`: its bytes
  // (`message.payload_hash` / `log.data` are made from them), and the NAME when it was written as
  // a NAME (the bytes are then keccak256(NAME)).
  Bytes payload;
  std::optional<std::string> payload_name;
  // The log is in the k-th block (k = 1, 2, ...) of a build or unsafe reorg of several blocks only
  // when k is a multiple of `every` (`every: N`, unnamed and exec logs only).
  uint64_t every = 1;
  bool InBlock(uint64_t k) const { return k % every == 0; }
  bool operator==(const LogSpec&) const = default;

  // The specs exactly as the parser makes them from `{init: NAME}`, `{payload: ..}`, `{exec: NAME}`
  // and `{exec: {...}}` (with `payload_name` set, `payload` is ignored and made from it).
  static LogSpec Init(const std::string& name);
  static LogSpec Unnamed(Bytes payload, std::optional<std::string> payload_name = std::nullopt,
                         const Address& origin = DefaultOrigin());
  static LogSpec ExecNamed(const std::string& name);
  static LogSpec ExecExplicit(const ChainID& chain_id, uint64_t block, uint32_t log, uint64_t timestamp, Bytes payload,
                              std::optional<std::string> payload_name = std::nullopt,
                              const Address& origin = DefaultOrigin());
};

struct BuildStep {
  size_t chain = 0;
  uint64_t blocks = 1;
  std::vector<LogSpec> logs;
  bool force = false;
  bool operator==(const BuildStep&) const = default;
};
struct BatchStep {
  size_t chain = 0;
  std::optional<uint64_t> through;  // default: every eligible unsafe block
  bool operator==(const BatchStep&) const = default;
};
struct DropBatchesStep {  // the chain's queued batches are lost: never posted
  size_t chain = 0;
  bool operator==(const DropBatchesStep&) const = default;
};
// The batcher posts, at height `block`, another block than the sequencer gossiped (same parent
// and timestamp, these logs), after the unposted blocks below it.
struct BatchDivergentStep {
  size_t chain = 0;
  uint64_t block = 1;
  std::vector<LogSpec> logs;
  bool force = false;
  bool operator==(const BatchDivergentStep&) const = default;
};
struct MineStep {
  uint64_t count = 1;
  bool operator==(const MineStep&) const = default;
};
struct DeriveStep {  // nodes: manual
  size_t chain = 0;
  std::optional<uint64_t> to_l1;  // default: the L1 head
  bool operator==(const DeriveStep&) const = default;
};
struct SyncStep {  // nodes: manual
  size_t chain = 0;
  bool operator==(const SyncStep&) const = default;
};
struct ReorgL1Step {
  uint64_t depth = 1;
  std::string fork;
  bool keep_batches = false;
  bool operator==(const ReorgL1Step&) const = default;
};
struct FinalizeL1Step {  // exactly one of the two
  std::optional<uint64_t> number;
  std::optional<uint64_t> depth;
  bool operator==(const FinalizeL1Step&) const = default;
};
struct ReorgUnsafeStep {
  size_t chain = 0;
  uint64_t depth = 1;
  std::vector<LogSpec> logs;
  bool force = false;
  bool operator==(const ReorgUnsafeStep&) const = default;
};
struct RestartStep {
  bool operator==(const RestartStep&) const = default;
};
struct PoolStep {  // re-check the chain's tx pool and prune it (no inclusion); needs `mempool: true`
  size_t chain = 0;
  bool operator==(const PoolStep&) const = default;
};
enum class CrashDb { kSafe, kEvents };
struct CrashStep {
  uint64_t torn_bytes = 1;
  CrashDb db = CrashDb::kSafe;
  bool operator==(const CrashStep&) const = default;
};
// A storage fault of the simulated disk (the `fault` step of docs/scenario-format.md; docs/storage.md).
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
  bool operator==(const FaultStep&) const = default;
};

// kRewind is the answer of a `rewind` step, which `expect: {result: ok}` and `expect: {error}` read
// like a call's; `call` does not take it.
// The operator's admin_rewind (Supervisor::RewindUnsafe): drop the chain's indexed unsafe blocks
// after its canonical block `block`. Its answer is kept like a call's.
struct RewindStep {
  size_t chain = 0;
  uint64_t block = 0;
  bool operator==(const RewindStep&) const = default;
};
// The chain's op-node resets its derivation: what it reported as acknowledged after L1 block
// `to_l1` (default: the finalized L1 block) is reported again, and so are its unsafe head and L1
// finality.
struct ResetStep {
  size_t chain = 0;
  std::optional<uint64_t> to_l1;
  bool operator==(const ResetStep&) const = default;
};

enum class CallMethod { kTryCrossSafe, kTryFinalize, kUpdateLocalUnsafe, kCheckMessage, kGetCrossUnsafe, kRewind };
const char* CallMethodName(CallMethod m);  // "tryCrossSafe", ..., "rewind"

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
  bool operator==(const CallStep&) const = default;
};

// Expectations (checked when the step runs; a failure stops the run).
// What a source query must answer: the canonical L1 block of that number, or that error.
using SourceWant = std::variant<uint64_t, Code>;
// What a stored pending output must be: the OutputV0 preimage of the block the canonical one
// replaced (kOriginal), none stored (kNone), or exactly `bytes` (kBytes, 128 bytes).
struct PendingWant {
  enum class Kind { kOriginal, kNone, kBytes };
  Kind kind = Kind::kOriginal;
  Bytes bytes;
  bool operator==(const PendingWant&) const = default;
};
struct HeadsExpect {
  size_t chain = 0;
  std::optional<uint64_t> unsafe, cross_unsafe, local_safe, cross_safe, finalized;
  // supervisor_localSafe / supervisor_crossSafe: the L1 block the head was derived from.
  std::optional<uint64_t> local_safe_source, cross_safe_source;
  bool operator==(const HeadsExpect&) const = default;
};
// Several chains' heads in one step.
struct ChainsExpect {
  std::vector<HeadsExpect> chains;  // in the order written
  bool operator==(const ChainsExpect&) const = default;
};
// About the chain's canonical block at height `block`.
struct BlockExpect {
  size_t chain = 0;
  uint64_t block = 0;
  std::optional<bool> replaced;       // a deposit-only replacement (true: the event-log DB holds it)
  std::optional<SourceWant> source;   // supervisor_crossDerivedToSource of the block
  std::optional<PendingWant> pending; // the pending output stored for it (replacements.db)
  std::optional<uint64_t> logs;       // the number of logs it holds
  bool operator==(const BlockExpect&) const = default;
};
// supervisor_superRootAtTimestamp(timestamp); a found root must also be the SuperV1 root of the
// chains' canonical blocks at that timestamp.
struct SuperRootExpect {
  uint64_t timestamp = 0;
  std::optional<SourceWant> source;  // crossSafeDerivedFrom, or the error answered
  std::optional<Hash> root;
  std::vector<std::pair<size_t, PendingWant>> pending;  // per chain: its `pending` in the answer
  bool operator==(const SuperRootExpect&) const = default;
};
struct MessageExpect {
  std::string message;
  SafetyLevel level = SafetyLevel::kUnsafe;  // conflicts and unknown allowed
  bool operator==(const MessageExpect&) const = default;
};
struct ResultExpect {  // about the answer of the latest `call`
  std::optional<std::string> status;      // tryCrossSafe: accept | unknown | invalid
  std::optional<uint64_t> cross_safe;     // tryCrossSafe
  std::optional<uint64_t> local_safe;     // tryCrossSafe
  std::optional<uint64_t> block;          // tryFinalize, getCrossUnsafe: the returned block number
  std::optional<SafetyLevel> level;       // checkMessage
  bool ok_only = false;                   // `result: ok`: any successful answer
  bool operator==(const ResultExpect&) const = default;
};
struct ErrorExpect {
  Code code = Code::kOk;
  bool operator==(const ErrorExpect&) const = default;
};
struct PoolExpect {  // the number of pending txs in the chain's tx pool
  size_t chain = 0;
  uint64_t pending = 0;
  bool operator==(const PoolExpect&) const = default;
};
using Expectation = std::variant<HeadsExpect, BlockExpect, MessageExpect, ResultExpect, ErrorExpect, PoolExpect,
                                 ChainsExpect, SuperRootExpect>;
struct ExpectStep {
  Expectation what;
  bool operator==(const ExpectStep&) const = default;
};

using StepAction = std::variant<BuildStep, BatchStep, MineStep, DeriveStep, SyncStep, ReorgL1Step, FinalizeL1Step,
                                ReorgUnsafeStep, RestartStep, CrashStep, CallStep, ExpectStep, PoolStep,
                                DropBatchesStep, FaultStep, RewindStep, ResetStep, BatchDivergentStep>;

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
  // Index of the chain with that ID, if any.
  std::optional<size_t> ChainIndex(const ChainID& id) const;
  // The time of block `number` of the chain with that ID (block time 2 for a chain outside the
  // set): the default `timestamp` of an explicit identifier.
  uint64_t DefaultTimestamp(const ChainID& id, uint64_t number) const;
};

// What one run can do (docs/scenario-format.md, "Limits"): a file whose steps add up to more is
// refused when it is parsed, with an error naming the limit. A step's L1 blocks are its `mine` count
// or `reorg_l1` depth; its L2 blocks its `build` count, `reorg_unsafe` depth, one per
// `batch_divergent`, and for a chain with a sequencing window the forced empty blocks derivation
// may add (one per L1 block, and as many as the chain's time takes to catch up with L1's); its
// logs, those of every block it builds. Timestamps must also stay below 2^64 for every block the
// file can build.
inline constexpr uint64_t kMaxL1BlocksPerRun = 100'000;
inline constexpr uint64_t kMaxL2BlocksPerRun = 1'000'000;
inline constexpr uint64_t kMaxLogsPerRun = 4'000'000;

// `text` for a terminal, on one line: control characters (C0, DEL, C1) and bytes that are not
// UTF-8 are shown as \xNN. Error messages that quote a file's contents go through it.
std::string Printable(std::string_view text);

// Parses YAML text; `file` names the source in error messages. Text that is not UTF-8 or holds a
// control character other than tab, line feed and carriage return is refused before it is read as
// YAML ("FILE:LINE: not a text file: byte 0x00 at column 7 ..."); a tab in an indentation, or
// collections nested deeper than the YAML reader goes, get a message saying so. With `labels`
// false every Step::label is left empty (runs that record no trace: the fuzzer's cases).
Result<Scenario> ParseScenario(const std::string& text, const std::string& file, bool labels = true);
// A generated scenario file in two parts: `head`, every top-level key, ending in the line "steps:";
// and its steps, each one step in flow style on a line of its own. Text() is the file.
struct ScenarioText {
  std::string head;
  std::vector<std::string> steps;  // e.g. "build: {chain: A, blocks: 2}"
  std::string Text() const;        // head, then "\n  - " and a step for each step, then "\n" (" []\n" if none)
};
// ParseScenario(text.Text(), file, /*labels=*/false), the same Scenario, for the fuzzer, whose cases
// repeat most of their steps: each distinct step text is read as YAML once per thread and kept
// (up to 65,536 of them), which is where the time of a parse goes. A text that does not parse gets
// ParseScenario's error.
Result<Scenario> ParseScenarioText(const ScenarioText& text, const std::string& file);
// Reads and parses a file (kIOError naming the file if it is missing, a directory or unreadable).
Result<Scenario> ParseScenarioFile(const std::filesystem::path& path);

}  // namespace supersafe::sim
