// Incremental verification of the database files: a verifier per file kind that remembers how far
// it has verified a file, so that verifying the file again after appends reads only what was
// appended (the simulator checks its data directory after every step this way, sim/db_check.h).
//
// After a verification that found nothing, a verifier keeps where its file's verified part ends and
// the "context" it needs to check what follows exactly as a verification of the whole file would:
//   - supersafe.db: the groups from the newest group of the L1 number before the tip's on (what the
//     cross-safe rule and the key order compare the next group with), and where the group check got to;
//   - events.db: the file header and the checkpoint of the last block (the next block's number and
//     parent hash are checked against it);
//   - replacements.db: the last record.
// Continue then checks only the bytes after the verified part, taking the bytes before it as they
// were, if the file did not shrink below it and its context reads back byte for byte; the end of
// the file (the zero tail of preallocation, a torn write, the header) is judged afresh every time.
// Otherwise (a rewind, a recovered torn write, a replaced file), and whenever the new bytes show a
// problem, it verifies the whole file, so that its findings are always exactly those of the
// whole-file verifier. The whole-file verifiers (VerifySuperSafeDB, VerifyEventDB,
// VerifyReplacementLog) are a fresh verifier's Continue: one implementation, started at offset 0.
// What Continue cannot see is damage to bytes it verified before outside the context; Full()
// verifies the whole file.
//
// A verifier never changes its file; it reads it through `env` (kinds' rules: docs/db-format.md,
// docs/event-db-format.md, db/replacement_log.h). Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/types.h"
#include "db/database.h"
#include "db/env.h"

namespace supersafe::db {

class Verifier {
 public:
  virtual ~Verifier() = default;

  // The findings of the whole-file verifier on `file` as it is now, checking only what follows the
  // part verified before when that part can be trusted (above). A missing or unreadable file is one
  // finding at offset 0.
  std::vector<Finding> Continue(Env* env, const std::filesystem::path& file);
  // The same, verifying the whole file.
  std::vector<Finding> Full(Env* env, const std::filesystem::path& file);

  // Whether the last Continue found the part it had verified shrunk or changed (or damage in the new
  // bytes) and verified the whole file again, rather than only what was appended.
  bool rewritten() const { return rewritten_; }
  // Bytes of the file verified without findings so far (0 after a finding).
  uint64_t verified() const { return verified_; }

 protected:
  enum class Start : uint8_t { kWhole, kResumed, kCannotResume };
  struct Pass {
    std::vector<Finding> findings;
    Start start = Start::kWhole;
  };
  // One verification of `file`: from the verified part's end if `resume` and the context allows,
  // else whole. On no findings it records the new verified end and context; on findings it forgets.
  virtual Pass Run(Env* env, const std::filesystem::path& file, bool resume) = 0;

  uint64_t verified_ = 0;  // 0: nothing to resume from

 private:
  bool rewritten_ = false;
};

// supersafe.db. `digest`: the dependency-set digest the header must hold (DependencySetDigest), or
// nullopt to check the rest of the header only.
class SuperSafeVerifier final : public Verifier {
 public:
  explicit SuperSafeVerifier(std::optional<Hash> digest = std::nullopt) : digest_(digest) {}

 private:
  Pass Run(Env* env, const std::filesystem::path& file, bool resume) override;
  std::optional<Hash> digest_;
  // Where the group check got to (entry indices after the header), and the context: the groups'
  // bytes [anchor, verified entries).
  uint64_t entries_ = 0;
  std::optional<uint64_t> current_, previous_key_;
  uint64_t anchor_ = 0;
  Bytes context_;
};

// events.db.
class EventDBVerifier final : public Verifier {
 public:
  EventDBVerifier() = default;

 private:
  Pass Run(Env* env, const std::filesystem::path& file, bool resume) override;
  Bytes header_;                          // the file header as verified
  std::optional<uint64_t> last_block_;    // where the last verified block starts
  Bytes last_checkpoint_;                 // its checkpoint as verified
  std::optional<BlockRef> last_ref_;      // and the block it names
};

// replacements.db.
class ReplacementLogVerifier final : public Verifier {
 public:
  ReplacementLogVerifier() = default;

 private:
  Pass Run(Env* env, const std::filesystem::path& file, bool resume) override;
  Bytes last_record_;  // the last verified record
};

}  // namespace supersafe::db
