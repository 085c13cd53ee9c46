// What the database files of src/db share: how they are opened (OpenOptions), what recovery did
// on open (RecoveryReport), and what verification reports (Finding).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "db/env.h"

namespace supersafe::db {

struct OpenOptions {
  Env* env = nullptr;  // the file system; nullptr: Env::Posix()
};

// What recovery did on open.
struct RecoveryReport {
  uint64_t torn_bytes = 0;  // bytes moved to <file>.broken
};

// A problem `supersafe db verify` reports: the file, the byte offset of the entry at fault, what.
struct Finding {
  std::filesystem::path file;
  uint64_t offset = 0;
  std::string what;
};

}  // namespace supersafe::db
