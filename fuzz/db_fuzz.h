// The contract of the database-file targets (docs/fuzz.md): a file of arbitrary bytes opens or is
// refused with a clear error, never a crash or a read out of bounds, and `verify` agrees:
// - a file that verifies clean opens;
// - a file that Open refuses has a finding, and the refusal changed nothing in it;
// - a file Open took (recovering a torn tail if need be) verifies clean afterwards and reopens.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/mem_env.h"
#include "fuzz/fuzz_util.h"

namespace supersafe::fuzz {

// Writes `data` as the file at `path` of `env` (its parent directory created).
inline void PutFile(db::MemEnv& env, const std::filesystem::path& path, const uint8_t* data, size_t size) {
  if (path.has_parent_path() && path.parent_path() != path.root_path()) {
    auto s = env.CreateDir(path.parent_path());
    if (!s.ok()) Fail("CreateDir: " + s.ToString());
  }
  auto f = env.Open(path, db::Env::OpenMode::kCreate);
  if (!f.ok()) Fail("MemEnv::Open: " + f.status().ToString());
  auto s = f->file->WriteAt(0, ByteSpan(data, size));
  if (!s.ok()) Fail("MemEnv write: " + s.ToString());
}

inline Bytes FileBytes(db::MemEnv& env, const std::filesystem::path& path) {
  auto b = db::ReadWholeFile(&env, path);
  if (!b.ok()) Fail("read back: " + b.status().ToString());
  return *b;
}

inline std::string Describe(const std::vector<db::Finding>& findings) {
  std::string out;
  for (const auto& f : findings) out += " [" + std::to_string(f.offset) + ": " + f.what + "]";
  return out;
}

// `verify` runs the kind's Verify* on the file; `open` opens it (and exercises its reads), returning
// the status. Checks the contract above.
template <typename Verify, typename OpenFn>
void CheckDbContract(db::MemEnv& env, const std::filesystem::path& file, Verify verify, OpenFn open, const char* kind) {
  const Bytes before = FileBytes(env, file);
  const std::vector<db::Finding> findings = verify();
  const Status opened = open();
  if (!opened.ok()) {
    ExpectClearError(opened, kind);
    if (findings.empty()) Fail(std::string(kind) + ": verify is clean but Open refuses: " + opened.ToString());
    if (FileBytes(env, file) != before) Fail(std::string(kind) + ": a refused Open changed the file");
    return;
  }
  const std::vector<db::Finding> after = verify();
  if (!after.empty())
    Fail(std::string(kind) + ": Open took the file but verify then finds" + Describe(after) +
         (findings.empty() ? "" : "; before Open it found" + Describe(findings)));
  const Status again = open();
  if (!again.ok()) Fail(std::string(kind) + ": the file Open took does not reopen: " + again.ToString());
}

}  // namespace supersafe::fuzz
