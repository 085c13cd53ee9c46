#include "sim/db_check.h"

#include "db/event_db.h"
#include "db/replacement_log.h"
#include "db/super_safe_db.h"
#include "db/verifier.h"

namespace supersafe::sim {

namespace fs = std::filesystem;

struct DatabaseCheck::File {
  fs::path path;
  std::string key;  // path.lexically_normal(), as FaultDisk::TakeModified names files
  std::unique_ptr<db::Verifier> verifier;
  bool optional = false;  // a replacement log exists only once a block was invalidated
  bool modified = true;   // the disk saw a change since the last check
  bool clean = false;     // the last check found nothing

  std::vector<db::Finding> Check(db::Env* env, bool full) {
    modified = false;
    if (optional && env->TypeOf(path).value_or(db::FileType::kNone) == db::FileType::kNone) {
      clean = true;
      return {};
    }
    std::vector<db::Finding> findings = full ? verifier->Full(env, path) : verifier->Continue(env, path);
    clean = findings.empty();
    return findings;
  }
};

DatabaseCheck::DatabaseCheck(FaultDisk& disk, const fs::path& datadir, const std::vector<ChainID>& chains)
    : disk_(&disk) {
  auto add = [&](fs::path path, std::unique_ptr<db::Verifier> verifier, bool optional) {
    auto f = std::make_unique<File>();
    f->key = path.lexically_normal().string();
    f->path = std::move(path);
    f->verifier = std::move(verifier);
    f->optional = optional;
    files_.push_back(std::move(f));
  };
  add(datadir / db::SuperSafeDB::kFileName, std::make_unique<db::SuperSafeVerifier>(), false);
  for (const ChainID& id : chains)
    add(datadir / "chains" / id.Decimal() / "events.db", std::make_unique<db::EventDBVerifier>(), false);
  for (const ChainID& id : chains)
    add(datadir / "chains" / id.Decimal() / "replacements.db", std::make_unique<db::ReplacementLogVerifier>(), true);
  generation_ = disk.generation();
}

DatabaseCheck::~DatabaseCheck() = default;

void DatabaseCheck::NoteModifications() {
  const std::set<std::string> modified = disk_->TakeModified();
  for (auto& f : files_)
    if (modified.count(f->key) > 0) f->modified = true;
}

std::vector<db::Finding> DatabaseCheck::Step() {
  rewritten_ = false;
  NoteModifications();
  written_.assign(files_.size(), false);
  // A new process opened the files (recovery, a torn tail moved): every file is verified whole.
  const bool restarted = disk_->generation() != generation_;
  generation_ = disk_->generation();
  std::vector<db::Finding> findings;
  db::Env* env = disk_->base();  // what the disk holds now, read without counting as the process's I/O
  for (size_t i = 0; i < files_.size(); ++i) {
    File& f = *files_[i];
    if (!restarted && !f.modified && f.clean) continue;  // the kernel saw no write, truncation or rename
    written_[i] = true;
    std::vector<db::Finding> more = f.Check(env, restarted);
    rewritten_ = rewritten_ || f.verifier->rewritten();
    findings.insert(findings.end(), more.begin(), more.end());
  }
  return findings;
}

std::vector<db::Finding> DatabaseCheck::Full() {
  NoteModifications();
  std::vector<db::Finding> findings;
  for (auto& f : files_) {
    std::vector<db::Finding> more = f->Check(disk_->base(), true);
    findings.insert(findings.end(), more.begin(), more.end());
  }
  return findings;
}

}  // namespace supersafe::sim
