// Writes the database seeds of the db_* fuzz targets: make-db-seeds OUT_DIR writes
// OUT_DIR/<target>/<name> for a few small, sound files of each kind (made through the databases'
// own write paths in a MemEnv) and a torn copy of each. How fuzz/corpus/db_* was made.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/crypto.h"
#include "db/event_db.h"
#include "db/mem_env.h"
#include "db/replacement_log.h"
#include "db/super_safe_db.h"

namespace {

using namespace supersafe;

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "make-db-seeds: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// Writes the file's content (without the zero tail of preallocation: `content` bytes, or all of
// it), less its last `cut` bytes.
void Save(db::MemEnv& env, const std::filesystem::path& from, const std::filesystem::path& to, size_t cut = 0,
          std::optional<uint64_t> content = std::nullopt) {
  auto bytes = db::ReadWholeFile(&env, from);
  Check(bytes.status(), "read");
  if (content) bytes->resize(*content);
  std::filesystem::create_directories(to.parent_path());
  std::ofstream out(to, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size() - cut));
}

Hash H(const std::string& s) { return Keccak256(s); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make-db-seeds OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  {
    db::MemEnv env;
    Check(env.CreateDir("/d"), "mkdir");
    // The dependency set fuzz/db_super_safe.cc opens the file for.
    const std::vector<ChainID> chains = {ChainID(uint64_t{900}), ChainID(uint64_t{901})};
    auto db = db::SuperSafeDB::Open("/d", chains, db::OpenOptions{&env});
    Check(db.status(), "open supersafe.db");
    for (uint64_t l1 = 0; l1 < 4; ++l1) {
      db::Group g{l1, PrefixOf(H("l1/" + std::to_string(l1))), 12 * l1, {}};
      for (uint32_t c = 0; c < 2; ++c)
        g.entries.push_back(db::ChainEntry{c, l1 + c, PrefixOf(H("l2/" + std::to_string(c) + "/" + std::to_string(l1 + c))),
                                           l1, PrefixOf(H("l2/" + std::to_string(c) + "/" + std::to_string(l1))),
                                           static_cast<uint8_t>(l1 == 2 && c == 1 ? 2 : 0)});
      Check((*db)->Append(g), "append group");
      if (l1 == 3) Check((*db)->Append(g), "append revision");  // a revision of the tip
    }
    const uint64_t content = db::SuperSafeContentSize(&env, "/d/supersafe.db").value();
    Save(env, "/d/supersafe.db", out / "db_super_safe" / "four-groups-two-chains", 0, content);
    Save(env, "/d/supersafe.db", out / "db_super_safe" / "torn-tail", 30, content);
    Save(env, "/d/supersafe.db", out / "db_super_safe" / "torn-header", 0, 30);
  }
  {
    db::MemEnv env;
    auto db = db::EventDB::Open("/events.db", ChainID(uint64_t{900}), db::OpenOptions{&env});
    Check(db.status(), "open events.db");
    Hash parent;
    for (uint64_t n = 0; n < 4; ++n) {
      db::BlockRecord b;
      b.ref = BlockRef{H("b/" + std::to_string(n)), n, parent, 1000 + 2 * n};
      parent = b.ref.hash;
      for (uint32_t i = 0; i < n; ++i) b.logs.push_back(db::LogRecord{H("log/" + std::to_string(n) + "/" + std::to_string(i)), {}});
      if (n == 3)
        b.logs.push_back(db::LogRecord{H("exec"), db::ExecRef{ChainID(uint64_t{901}), 2, 1, 1004, H("init")}});
      Check((*db)->Append(b), "append block");
    }
    const uint64_t content = db::EventDBContentSize(&env, "/events.db").value();
    Save(env, "/events.db", out / "db_event" / "four-blocks-with-logs", 0, content);
    Save(env, "/events.db", out / "db_event" / "torn-tail", 20, content);
  }
  {
    db::MemEnv env;
    auto log = db::ReplacementLog::Open("/replacements.db", db::OpenOptions{&env});
    Check(log.status(), "open replacements.db");
    Bytes preimage(128, 0x5a);
    Check((*log)->RecordInvalidated(5, H("invalid/5"), preimage), "record invalidated");
    Check((*log)->RecordReplaced(5, H("replacement/5")), "record replaced");
    Check((*log)->RecordInvalidated(9, H("invalid/9"), preimage), "record invalidated");
    Save(env, "/replacements.db", out / "db_replacement_log" / "invalidated-replaced-invalidated");
    Save(env, "/replacements.db", out / "db_replacement_log" / "torn-tail", 100);
  }
  return 0;
}
