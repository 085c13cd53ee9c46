// A replacement log (replacements.db) of arbitrary bytes: the contract of fuzz/db_fuzz.h.
#include "db/replacement_log.h"
#include "fuzz/db_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace supersafe;
  db::MemEnv env;
  const std::filesystem::path file = "/replacements.db";
  fuzz::PutFile(env, file, data, size);
  fuzz::CheckDbContract(
      env, file, [&] { return db::VerifyReplacementLog(&env, file); },
      [&]() -> Status {
        auto log = db::ReplacementLog::Open(file, db::OpenOptions{&env});
        if (!log.ok()) return log.status();
        for (uint64_t n = 0; n < 4; ++n) {
          (void)(*log)->PendingPreimage(n, Hash());
          (void)(*log)->InvalidatedHash(n, HashPrefix());
        }
        return Status::Ok();
      },
      "replacement log");
  return 0;
}
