// An event-log DB file (events.db) of arbitrary bytes: the contract of fuzz/db_fuzz.h. The chain ID
// Open is given is the one the header names (a mismatch is the caller's error, not the file's).
#include "db/event_db.h"
#include "db/event_db_format.h"
#include "fuzz/db_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace supersafe;
  namespace fmt = db::event_format;
  ChainID chain(uint64_t{900});
  if (size >= fmt::kHeaderChainID + 32) {
    Hash raw;
    std::copy(data + fmt::kHeaderChainID, data + fmt::kHeaderChainID + 32, raw.data());
    chain = ChainID::FromBytes32(raw);
  }
  db::MemEnv env;
  const std::filesystem::path file = "/events.db";
  fuzz::PutFile(env, file, data, size);
  fuzz::CheckDbContract(
      env, file, [&] { return db::VerifyEventDB(&env, file); },
      [&]() -> Status {
        auto db = db::EventDB::Open(file, chain, db::OpenOptions{&env});
        if (!db.ok()) return db.status();
        auto first = (*db)->First();
        auto latest = (*db)->Latest();
        if (first && latest)
          for (uint64_t n = first->number; n <= latest->number && n < first->number + 64; ++n) {
            (void)(*db)->Block(n);
            (void)(*db)->Logs(n);
            (void)(*db)->Contains(n, 0, Hash());
          }
        return Status::Ok();
      },
      "event-log DB");
  return 0;
}
