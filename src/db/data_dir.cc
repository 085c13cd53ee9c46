#include "db/data_dir.h"

#include <functional>

#include "db/event_db.h"
#include "db/replacement_log.h"
#include "db/super_safe_db.h"

namespace supersafe::db {

namespace fs = std::filesystem;

Result<std::vector<fs::path>> ChainDirectories(Env* env, const fs::path& dir) {
  std::vector<fs::path> out;
  const fs::path chains = dir / "chains";
  SS_ASSIGN_OR_RETURN(const FileType type, env->TypeOf(chains));
  if (type != FileType::kDirectory) return out;
  SS_ASSIGN_OR_RETURN(const std::vector<std::string> names, env->List(chains));
  for (const std::string& name : names) {
    SS_ASSIGN_OR_RETURN(const FileType t, env->TypeOf(chains / name));
    if (t == FileType::kDirectory) out.push_back(chains / name);
  }
  return out;
}

Result<DataDirReport> VerifyDataDir(Env* env, const fs::path& dir, const std::optional<Hash>& digest) {
  SS_ASSIGN_OR_RETURN(const FileType type, env->TypeOf(dir));
  if (type != FileType::kDirectory) return IOError(dir.string() + " is not a directory");
  DataDirReport report;
  auto add = [&](const fs::path& file, bool required,
                 const std::function<std::vector<Finding>(Env*, const fs::path&)>& verify) -> Status {
    SS_ASSIGN_OR_RETURN(const FileType t, env->TypeOf(file));
    if (t == FileType::kNone) {
      if (required) report.findings.push_back({file, 0, "missing"});
      return Status::Ok();
    }
    ++report.files;
    std::vector<Finding> f = verify(env, file);
    report.findings.insert(report.findings.end(), f.begin(), f.end());
    return Status::Ok();
  };
  SS_RETURN_IF_ERROR(add(dir / SuperSafeDB::kFileName, true,
                         [&](Env* e, const fs::path& f) { return VerifySuperSafeDB(e, f, digest); }));
  SS_ASSIGN_OR_RETURN(const std::vector<fs::path> chains, ChainDirectories(env, dir));
  for (const fs::path& chain : chains) {
    SS_RETURN_IF_ERROR(add(chain / "events.db", true, VerifyEventDB));
    SS_RETURN_IF_ERROR(add(chain / "replacements.db", false, VerifyReplacementLog));
  }
  return report;
}

}  // namespace supersafe::db
