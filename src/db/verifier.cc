#include "db/verifier.h"

#include <utility>

namespace supersafe::db {

std::vector<Finding> Verifier::Continue(Env* env, const std::filesystem::path& file) {
  Pass pass = Run(env, file, verified_ > 0);
  if (pass.start == Start::kResumed && !pass.findings.empty()) {
    // Damage in the new bytes: the whole file's findings, as the whole-file verifier gives them.
    pass = Run(env, file, false);
    rewritten_ = true;
  } else {
    rewritten_ = pass.start == Start::kCannotResume;
  }
  return std::move(pass.findings);
}

std::vector<Finding> Verifier::Full(Env* env, const std::filesystem::path& file) {
  rewritten_ = false;
  return std::move(Run(env, file, false).findings);
}

}  // namespace supersafe::db
