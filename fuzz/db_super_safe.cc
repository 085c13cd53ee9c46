// A super-safe-db file (supersafe.db) of arbitrary bytes: the contract of fuzz/db_fuzz.h.
#include "db/super_safe_db.h"
#include "fuzz/db_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace supersafe;
  db::MemEnv env;
  const std::filesystem::path dir = "/data", file = dir / db::SuperSafeDB::kFileName;
  // The dependency set the seeds were written for (fuzz/make_db_seeds.cc).
  static const std::vector<ChainID> kChains = {ChainID(uint64_t{900}), ChainID(uint64_t{901})};
  static const Hash kDigest = db::DependencySetDigest(kChains);
  fuzz::PutFile(env, file, data, size);
  fuzz::CheckDbContract(
      env, file, [&] { return db::VerifySuperSafeDB(&env, file, kDigest); },
      [&]() -> Status {
        auto db = db::SuperSafeDB::Open(dir, kChains, db::OpenOptions{&env});
        if (!db.ok()) return db.status();
        // Every lookup over the stored range: Open checked the file, so none may stop the process.
        auto last = (*db)->Last();
        const uint64_t top = last ? last->l1_number : 0;
        for (uint64_t n = 0; n <= top + 1 && n < 64; ++n) {
          (void)(*db)->At(n);
          (void)(*db)->AtOrBefore(n);
          if (last)
            for (const auto& e : last->entries) {
              (void)(*db)->FirstCrossSafeAtLeast(e.chain_index, n);
              (void)(*db)->FirstLocalSafeAtLeast(e.chain_index, n);
            }
        }
        return Status::Ok();
      },
      "super-safe-db");
  return 0;
}
