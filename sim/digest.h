#pragma once
// Digests of what a run produced: the trace and the database files. SHA-256 (Crypto++), so that
// `sha256sum` of a trace file or a database file gives the same value as the run printed.

#include <filesystem>

#include "core/types.h"

namespace supersafe::sim {

Hash Sha256(ByteSpan data);

// SHA-256 of a whole file, read in chunks. A missing or unreadable file gives the zero hash.
Hash Sha256OfFile(const std::filesystem::path& file);

}  // namespace supersafe::sim
