#include "sim/temp_dir.h"

#include <stdlib.h>

#include <string>

namespace supersafe::sim {

Result<std::filesystem::path> TempBase() {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) return IOError("no temporary directory (TMPDIR): " + ec.message());
  return base;
}

Result<std::filesystem::path> MakeTempDir(std::string_view prefix) {
  SS_ASSIGN_OR_RETURN(std::filesystem::path base, TempBase());
  std::string tmpl = (base / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) return IOError("cannot create a temporary directory under " + tmpl);
  return std::filesystem::path(tmpl);
}

}  // namespace supersafe::sim
