// Durable file creation (db/file.h): a created file, a created directory and a created `.broken`
// file each get their parent directory synced; opening a file syncs it and its directory, since a
// crashed process may have left unsynced bytes or an unsynced entry. PathKey (db/env.h) is the
// lexically normal form of a path.
#include "db/file.h"

#include <gtest/gtest.h>

#include "db/env.h"
#include "db/mem_env.h"

#include <fstream>

#include "tests/temp_dir.h"

namespace supersafe::db {
namespace {

TEST(AppendFile, OpeningAFileSyncsItsDirectory) {
  testing::TempDir dir;
  const uint64_t before = DirectorySyncCount();
  {
    auto f = AppendFile::Open(Env::Posix(), dir.path() / "x.db");
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_TRUE((*f)->Append(ByteSpan(reinterpret_cast<const uint8_t*>("abcdef"), 6)).ok());
  }
  EXPECT_EQ(DirectorySyncCount(), before + 1);
  auto again = AppendFile::Open(Env::Posix(), dir.path() / "x.db");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->size(), 6u);
  EXPECT_EQ(DirectorySyncCount(), before + 2);
}

TEST(AppendFile, MovingATornTailSyncsTheNewBrokenFile) {
  testing::TempDir dir;
  auto f = AppendFile::Open(Env::Posix(), dir.path() / "x.db");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(ByteSpan(reinterpret_cast<const uint8_t*>("abcdef"), 6)).ok());
  const uint64_t before = DirectorySyncCount();
  auto moved = (*f)->MoveTailToBroken(4);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 2u);
  EXPECT_EQ(DirectorySyncCount(), before + 1);  // x.db.broken was created
  ASSERT_TRUE((*f)->MoveTailToBroken(2).ok());
  EXPECT_EQ(DirectorySyncCount(), before + 1);  // it exists now: appended to, directory unchanged
  std::ifstream broken(dir.path() / "x.db.broken", std::ios::binary);
  std::string kept((std::istreambuf_iterator<char>(broken)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "efcd");
}

TEST(CreateDirectoriesDurably, SyncsTheParentOfEveryDirectoryItCreates) {
  testing::TempDir dir;
  const uint64_t before = DirectorySyncCount();
  ASSERT_TRUE(CreateDirectoriesDurably(Env::Posix(), dir.path() / "a" / "b" / "c").ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "a" / "b" / "c"));
  EXPECT_EQ(DirectorySyncCount(), before + 3);
  ASSERT_TRUE(CreateDirectoriesDurably(Env::Posix(), dir.path() / "a" / "b" / "c").ok());
  EXPECT_EQ(DirectorySyncCount(), before + 3);
}

TEST(CreateDirectoriesDurably, AFileInTheWayIsAnErrorNamingTheDirectory) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "plain") << "x";
  Status s = CreateDirectoriesDurably(Env::Posix(), dir.path() / "plain" / "sub");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find((dir.path() / "plain" / "sub").string()), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "plain" / "sub"));
}

TEST(PathKey, IsTheLexicallyNormalFormOfEveryPath) {
  const char* const paths[] = {"/", "//", "/a", "/a/", "/a//b", "/a/./b", "/a/../b", "/a/b/..", "/a/b/.", "/.a/b",
                               "/a/..b", "/a/.b./c", "a", "a/b", "./a", "../a", ".", "..", "a/.", "a/..", "...",
                               "/...", "/datadir/chains/901/events.db", "/datadir//chains/901", "", "a/b/"};
  for (const char* p : paths) {
    const std::filesystem::path path(p);
    EXPECT_EQ(PathKey(path), path.lexically_normal().string()) << "path \"" << p << "\"";
  }
}

// The memory disk hands the memory of removed files to new ones: a new file reads as zeros wherever
// it has not written, whatever the file before it held (also past where that one was cut short).
TEST(MemEnv, ANewFileReadsZerosWhereItHasNotWritten) {
  for (int round = 0; round < 4; ++round) {
    MemEnv env;
    for (int i = 0; i < 3; ++i) {
      const std::filesystem::path path = "/f" + std::to_string(i);
      auto opened = env.Open(path, Env::OpenMode::kCreate);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      File& f = *opened->file;
      ASSERT_EQ(f.DataEnd().value_or(1), 0u);
      ASSERT_TRUE(f.Allocate(size_t{1} << 20, AllocateMode::kReserve).ok());
      Bytes got(size_t{1} << 20, 0xee);
      ASSERT_TRUE(f.ReadAt(0, got.size(), got.data()).ok());
      EXPECT_EQ(got, Bytes(got.size(), 0)) << "round " << round << ", file " << i;
      // Leave nonzero bytes behind for the next file: written, then partly cut and regrown.
      const Bytes ones(300'000 + 70'000 * i, 0xff);
      ASSERT_TRUE(f.WriteAt(1000, ones).ok());
      ASSERT_TRUE(f.Truncate(5000).ok());
      ASSERT_TRUE(f.Truncate(size_t{1} << 20).ok());
      ASSERT_TRUE(f.ReadAt(5000, 1, got.data()).ok());
      EXPECT_EQ(got[0], 0) << "a regrown file reads zeros past where it was cut";
      ASSERT_TRUE(f.WriteAt(200'000, ones).ok());
    }
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(env.Remove("/f" + std::to_string(i)).ok());
  }
}

}  // namespace
}  // namespace supersafe::db
