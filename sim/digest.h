#pragma once
// Digests of what a run produced: the trace and the database files. SHA-256 (Crypto++), so that
// `sha256sum` of a trace file gives the same value as the run printed.

#include <filesystem>

#include "core/types.h"
#include "db/env.h"

namespace supersafe::sim {

Hash Sha256(ByteSpan data);

// SHA-256 of a database file's content: its bytes up to the last nonzero one, so that a file with
// a preallocated zero tail (real files) and one without (the memory disk) give the same digest.
// A missing or unreadable file gives the zero hash.
Hash Sha256OfContent(db::Env* env, const std::filesystem::path& file);

}  // namespace supersafe::sim
