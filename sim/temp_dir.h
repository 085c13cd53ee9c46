// Temporary directories for runs whose databases are not kept.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/status.h"

namespace supersafe::sim {

// The directory for temporary files ($TMPDIR, else /tmp); kIOError naming the reason when there is
// none (std::filesystem would throw).
Result<std::filesystem::path> TempBase();
// A new, empty directory <TempBase()>/<prefix>-XXXXXX (mkdtemp); kIOError naming it on failure.
Result<std::filesystem::path> MakeTempDir(std::string_view prefix);

}  // namespace supersafe::sim
