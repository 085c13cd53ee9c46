// The super-safe-db: one append-only file of fixed 90-byte entries, <datadir>/supersafe.db.
// Layout and recovery rules: docs/db-format.md (constants in db/super_safe_format.h).
//
// The file starts with a header entry naming the format (magic, version) and the dependency set it
// was written for (DependencySetDigest); the groups follow it. Entry indices and counts below are
// those of the groups' entries, after the header.
//
// A Group is the state of every chain at one L1 view: for each chain, its local-safe head derived
// from L1 up to and including the group's L1 block, and its cross-safe head at that view. A group
// is its chain entries followed by a seal, written with one write and made durable before Append
// returns. A later group for the same L1 number is a revision that replaces the earlier one for
// lookups; only the tip L1 number can be revised.
//
// Thread-compatibility: one writer; const methods may run concurrently with each other.
//
// Reads go through a read-only view of the file (File::Map). Open checks every group, CRCs
// included (one sequential read of the file), so damage anywhere is refused before anything is
// answered from it; lookups check the structure of what they read (entry types, seal counts,
// keys) and stop the process, naming the file and offset, when the stored bytes contradict the
// format. Nothing else may write or truncate the file while it is open.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "db/database.h"
#include "db/file.h"
#include "db/super_safe_format.h"

namespace supersafe::db {

struct ChainEntry {
  uint32_t chain_index = 0;
  uint64_t local_safe_number = 0;
  HashPrefix local_safe_hash;
  uint64_t cross_safe_number = 0;
  HashPrefix cross_safe_hash;
  uint8_t flags = 0;  // kFlagCrossSafeReplacement | kFlagLocalSafeInvalid
  bool operator==(const ChainEntry&) const = default;
};

struct Group {
  uint64_t l1_number = 0;
  HashPrefix l1_hash;
  uint64_t l1_timestamp = 0;
  std::vector<ChainEntry> entries;  // ascending chain_index, one per chain
  bool operator==(const Group&) const = default;
};

class SuperSafeDB {
 public:
  static constexpr const char* kFileName = "supersafe.db";

  // Opens or creates <dir>/supersafe.db for the dependency set `chains` (in chain-index order).
  // A file it creates gets its header, durable (written and synced, the directory synced) before
  // Open returns. The file is preallocated in chunks; its content ends at
  // the last nonzero byte (docs/db-format.md, "Preallocation and the zero tail"). A torn tail (a
  // partial entry, entries after the last seal, or a write that left zeros inside preallocated
  // space) is moved to supersafe.db.broken and truncated, zero tail and all; so is a torn header (a
  // file holding no group whose header was cut short), which is then written anew. A header whose
  // type, magic, version or reserved bytes are wrong refuses to open with kCorruption; one written
  // for another dependency set with kInvalidArgument, naming the expected and the found digest.
  // Corruption elsewhere (bad seal CRC, an
  // out-of-order key, an unknown entry type, a group that breaks the Append rules) refuses to open
  // with kCorruption naming file and offset, and changes nothing. Opening reads the whole file once.
  // kIOError if `dir` does not exist (it is not created) or is not a directory, or the file cannot
  // be opened or mapped. Recovery and refusal rules: docs/db-format.md, "Recovery on open".
  static Result<std::unique_ptr<SuperSafeDB>> Open(const std::filesystem::path& dir, std::span<const ChainID> chains,
                                                   const OpenOptions& options = {});

  const RecoveryReport& recovery() const;

  // Appends one group durably. Errors (nothing written): kInvalidArgument if l1_number is below the
  // tip's, entries are not ascending by chain index, or flags have unknown bits. kIOError if the
  // handle is dead (an earlier write or sync failed); a failed write or sync kills the handle.
  // Also kInvalidArgument (nothing written): a group without entries, or one that drops a chain of,
  // or has a lower cross-safe number than, the newest group for the L1 number before its own (the
  // rule that keeps FirstCrossSafeAtLeast a binary search). Local-safe numbers may fall.
  // A failed write or sync leaves an unknown tail on disk (recovery judges it at the next Open),
  // returns kIOError, and every later write fails; reads keep answering from the groups before it.
  Status Append(const Group& group);
  // Appends several groups with one fdatasync per 1 MiB of groups (catching up a backlog). The
  // groups are checked as successive Appends would check them; if any is rejected, nothing is
  // written. A group larger than 1 MiB (11,649 chains) is rejected with kInvalidArgument.
  Status AppendBatch(std::span<const Group> groups);
  // Durably removes every group with L1 number >= l1_number.
  Status TruncateFrom(uint64_t l1_number);

  bool empty() const;
  // 90-byte entries after the header: chain entries and seals, of every revision. The file's
  // content is kHeaderSize + 90 * entry_count() bytes.
  uint64_t entry_count() const;
  // The newest group (the last sealed one).
  std::optional<Group> Last() const;
  // The newest revision of the group for exactly this L1 number.
  std::optional<Group> At(uint64_t l1_number) const;
  // The newest group with L1 number <= l1_number.
  std::optional<Group> AtOrBefore(uint64_t l1_number) const;
  // The same, decoded into *out (its entries' capacity is reused: no allocation once it has room
  // for every chain); false, leaving *out unchanged, where the others return nullopt.
  bool At(uint64_t l1_number, Group* out) const;
  bool AtOrBefore(uint64_t l1_number, Group* out) const;
  // The smallest L1 number whose group has chain `chain_index` cross-safe (resp. local-safe) at
  // or past `l2_number`: the view in which that block became cross-safe. Binary search.
  // Cross-safe numbers never fall (Append enforces it), so that answer is exact. Local-safe numbers
  // can fall (a block found invalid); the answer is then an L1 number whose group has the chain at
  // or past `l2_number` while the group before it does not, and nullopt if the newest group does
  // not. A group that lacks the chain counts as below every number.
  std::optional<uint64_t> FirstCrossSafeAtLeast(uint32_t chain_index, uint64_t l2_number) const;
  std::optional<uint64_t> FirstLocalSafeAtLeast(uint32_t chain_index, uint64_t l2_number) const;

  // Batched lookups, for a caller with many independent keys at once (an RPC batch), in the manner
  // of RocksDB's MultiGet. Answer i is exactly what the single-key lookup gives for key i (the
  // newest revision of an L1 number wins, a miss is a miss); only the memory reads of different
  // keys overlap: a few keys are in flight at a time, each with the cache lines of its next read
  // prefetched, so one key's cache misses wait alongside the others' instead of one after another
  // (docs/db-format.md, "Batched lookups"). A call with one key costs about what the single-key
  // lookup does; from two keys on they are faster, up to 4 × on 10 million entries.
  // - Keys come in any order, may repeat, and may lie before the first group, after the last one,
  //   or in gaps; an empty database answers every key with a miss.
  // - Output spans are indexed like the keys and must be at least as long (checked; a shorter one
  //   stops the process). Entries past keys.size() are left alone.
  // - Stored bytes that contradict the format stop the process, as in the single-key lookups; a
  //   lookup checks only what it reads, so one that reads fewer entries (the Chain* ones) can
  //   answer where At would stop.
  // - Thread-compatible like the other const methods; nothing is allocated except through the
  //   Group outputs of MultiAt / MultiAtOrBefore (whose capacity is reused, as with At(n, Group*)).

  // found[i] = At(l1_numbers[i], &out[i]); out[i] is unchanged where found[i] is false. Returns
  // how many were found.
  size_t MultiAt(std::span<const uint64_t> l1_numbers, std::span<Group> out, std::span<bool> found) const;
  // found[i] = AtOrBefore(l1_numbers[i], &out[i]), as above.
  size_t MultiAtOrBefore(std::span<const uint64_t> l1_numbers, std::span<Group> out, std::span<bool> found) const;

  struct ChainL1Key {
    uint32_t chain_index = 0;
    uint64_t l1_number = 0;
  };
  // One chain's entry in the group of one L1 view, with that group's L1 block.
  struct ChainView {
    uint64_t l1_number = 0;
    HashPrefix l1_hash;
    uint64_t l1_timestamp = 0;
    ChainEntry entry;
    bool operator==(const ChainView&) const = default;
  };
  // One chain of At(l1_number) (resp. AtOrBefore(l1_number)), without copying the rest of the
  // group: found[i] is whether that group exists and has chain keys[i].chain_index, and out[i] is
  // then its L1 block and that chain's entry (out[i] unchanged otherwise). It reads only the seal,
  // the key after it and the chain's entry, not the whole group. Returns how many were found.
  size_t MultiChainAt(std::span<const ChainL1Key> keys, std::span<ChainView> out, std::span<bool> found) const;
  size_t MultiChainAtOrBefore(std::span<const ChainL1Key> keys, std::span<ChainView> out,
                              std::span<bool> found) const;

  struct ChainL2Key {
    uint32_t chain_index = 0;
    uint64_t l2_number = 0;
  };
  // out[i] = FirstCrossSafeAtLeast(keys[i].chain_index, keys[i].l2_number) (resp. local-safe),
  // the same L1 number even where local-safe numbers fall and several would do.
  void MultiFirstCrossSafeAtLeast(std::span<const ChainL2Key> keys, std::span<std::optional<uint64_t>> out) const;
  void MultiFirstLocalSafeAtLeast(std::span<const ChainL2Key> keys, std::span<std::optional<uint64_t>> out) const;

  ~SuperSafeDB();

 private:
  struct Impl;
  explicit SuperSafeDB(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// keccak256 of the chain IDs in chain-index order, each as 32 big-endian bytes: what the header of
// supersafe.db records of the dependency set the file was written for.
Hash DependencySetDigest(std::span<const ChainID> chains);

// Reads the whole file without changing it and reports every torn tail, bad CRC, out-of-order key,
// unknown type or nonzero reserved byte. The zero tail of preallocation is no finding; the end of
// the file is judged as Open judges it.
// Also every group that is malformed (count, chain order, L1 block of its entries) or breaks the
// Append rules (a chain dropped, a cross-safe number falling), sorted by offset. A file that cannot
// be read is one finding at offset 0. The header's type, magic, version and reserved bytes are
// checked, and its digest too when `digest` is given (DependencySetDigest); a torn header is one
// finding at offset 0; an empty file (Open writes its header) none.
std::vector<Finding> VerifySuperSafeDB(Env* env, const std::filesystem::path& file,
                                       const std::optional<Hash>& digest = std::nullopt);

// The size of supersafe.db's content: the file size without the zero tail (the same rule as Open,
// without its bound). kIOError if the file cannot be read.
Result<uint64_t> SuperSafeContentSize(Env* env, const std::filesystem::path& file);

// Every 90-byte entry of the file as stored, the header (at offset 0, if the file has a whole entry
// there and its type byte is 0x00) and the groups' entries, revisions and all, decoded without
// judging it (`supersafe db dump`): what verification would say is VerifySuperSafeDB's job.
struct DumpedEntry {
  enum class Kind : uint8_t { kHeader, kChain, kSeal, kUnknown };
  Kind kind = Kind::kUnknown;
  uint64_t offset = 0;
  uint8_t type = 0;  // the type byte as stored
  uint64_t l1_number = 0;
  HashPrefix l1_hash;
  ChainEntry chain;           // kChain
  uint32_t seal_count = 0;    // kSeal
  uint32_t seal_crc = 0;      // kSeal
  uint64_t l1_timestamp = 0;  // kSeal
  std::string magic;          // kHeader: bytes 1..10 as stored
  uint16_t version = 0;       // kHeader
  Hash digest;                // kHeader: the dependency-set digest
};
struct SuperSafeDump {
  std::vector<DumpedEntry> entries;
  uint64_t content_end = 0;  // SuperSafeContentSize
  uint64_t file_size = 0;    // content, then the zero tail of preallocation
  uint64_t partial_bytes = 0;  // a partial entry at the end of the content
};
// kIOError (or kNotFound) if the file cannot be read.
Result<SuperSafeDump> DumpSuperSafeDB(Env* env, const std::filesystem::path& file);

}  // namespace supersafe::db
