// The simulated disk's undo of unsynced writes (sim/fault_disk.h): a power loss leaves each
// pending write kept, lost or torn, and what a lost or torn write covered reads as before it,
// also where the file was a preallocated zero tail (the disk keeps no copy of those zeros).
#include "sim/fault_disk.h"

#include <gtest/gtest.h>

#include "db/mem_env.h"

namespace supersafe::sim {
namespace {

ByteSpan Span(const std::string& s) { return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

TEST(FaultDisk, ALostOrTornWriteOverDataAndZeroTailReadsAsBefore) {
  int lost = 0, kept = 0, torn = 0;
  for (uint64_t seed = 1; seed <= 64; ++seed) {
    db::MemEnv env;
    FaultDisk disk(&env, seed);
    {
      auto opened = disk.Open("/f", db::Env::OpenMode::kCreate);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      db::File& f = *opened->file;
      ASSERT_TRUE(disk.SyncDir("/").ok());
      ASSERT_TRUE(f.WriteAt(0, Span(std::string(10, 'a'))).ok());
      ASSERT_TRUE(f.Allocate(4096, db::AllocateMode::kReserve).ok());
      ASSERT_TRUE(f.Sync().ok());
      // Unsynced: bytes 5..19, over five written bytes and ten of the zero tail.
      ASSERT_TRUE(f.WriteAt(5, Span(std::string(15, 'b'))).ok());
      disk.Arm(DiskFault::kPowerLoss, 1);
      EXPECT_FALSE(f.Size().ok());
    }
    ASSERT_TRUE(disk.process_dead());
    disk.Restart();
    auto opened = env.Open("/f", db::Env::OpenMode::kReadOnly);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ASSERT_EQ(opened->file->Size().value_or(0), 4096u) << "seed " << seed;
    Bytes got(4096);
    ASSERT_TRUE(opened->file->ReadAt(0, got.size(), got.data()).ok());
    size_t k = 5;  // the written prefix that survived ends at k
    while (k < 20 && got[k] == 'b') ++k;
    Bytes want(4096, 0);
    for (size_t i = 0; i < 10; ++i) want[i] = 'a';
    for (size_t i = 5; i < k; ++i) want[i] = 'b';
    EXPECT_EQ(got, want) << "seed " << seed << ", " << k - 5 << " of 15 bytes kept";
    ++(k == 5 ? lost : k == 20 ? kept : torn);
  }
  // Every fate was drawn at least once.
  EXPECT_GT(lost, 0);
  EXPECT_GT(kept, 0);
  EXPECT_GT(torn, 0);
}

}  // namespace
}  // namespace supersafe::sim
