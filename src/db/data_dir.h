// A data directory as a whole: <dir>/supersafe.db and, per chain, <dir>/chains/<chainID>/events.db
// and replacements.db (docs/db-format.md, docs/event-db-format.md).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "db/database.h"
#include "db/env.h"

namespace supersafe::db {

// The chain directories under <dir>/chains, in name order (decimal chain IDs); none if there is
// no chains directory.
Result<std::vector<std::filesystem::path>> ChainDirectories(Env* env, const std::filesystem::path& dir);

struct DataDirReport {
  size_t files = 0;  // files verified
  std::vector<Finding> findings;
};
// Verifies every database file of the data directory without changing it: supersafe.db, each
// chain's events.db and, where present, replacements.db. A missing supersafe.db or events.db is a
// finding ("missing"); a `dir` that is not a directory is kIOError. `digest`, if given, is the
// dependency-set digest supersafe.db's header must hold (DependencySetDigest).
Result<DataDirReport> VerifyDataDir(Env* env, const std::filesystem::path& dir,
                                    const std::optional<Hash>& digest = std::nullopt);

}  // namespace supersafe::db
