// The WAL frame header's commit-size field is bound to the page's seal (FORMATS.md
// sections 3 and 4): someone who edits the file without the key cannot turn a cut
// transaction into a committed one, nor change the size a real commit gives the database,
// even after fixing up SQLite's (unkeyed) checksums.
#include <gtest/gtest.h>

#include "store_test_support.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "wal_forge.hpp"

namespace teduh::crypto {
namespace {

using namespace teduh::crypto::testing;

std::string wal_of(const fs::path& p) { return p.string() + "-wal"; }

// A crash image of a store whose last transaction was cut: its frames reached the disk,
// its commit frame did not. Tables a (root page 2) and b (root page 3) live in the main
// file; the WAL holds one-frame commits of a's rows 2..commits+1, then the first frame
// (page 2) of a transaction that inserted row 100 into both a and b. Returns the commit
// size the lost commit frame carried.
// With plain set, the same on SQLite's default VFS (to show what the attack does there).
std::uint32_t make_cut_transaction_image(const fs::path& live, const fs::path& snap, const SecretBytes& key,
                                         int commits, bool plain = false) {
  auto db = plain ? open_plain(live, OpenMode::create) : open_encrypted(live, key, OpenMode::create);
  EXPECT_TRUE(db) << (db ? "" : db.error().message);
  if (!db) return 0;
  sqlite3* h = db->get();
  must_run(h, "PRAGMA wal_autocheckpoint=0");
  must_run(h, "CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT)");
  must_run(h, "CREATE TABLE b(id INTEGER PRIMARY KEY, v TEXT)");
  must_run(h, "INSERT INTO a VALUES(1, 'satu'); INSERT INTO b VALUES(1, 'satu')");
  must_run(h, "PRAGMA wal_checkpoint(TRUNCATE)");
  for (int i = 2; i <= commits + 1; ++i) must_run(h, "INSERT INTO a VALUES(" + std::to_string(i) + ", 'tersimpan')");
  must_run(h, "BEGIN; INSERT INTO a VALUES(100, 'potong'); INSERT INTO b VALUES(100, 'potong'); COMMIT");
  fs::copy_file(live, snap);
  auto wal = read_file(wal_of(live));
  const std::size_t n = frame_count(wal);
  EXPECT_EQ(n, static_cast<std::size_t>(commits) + 2);
  // The last transaction is two frames: page 2 (a), then page 3 (b) with the commit mark.
  EXPECT_EQ(be32_at(wal, frame_offset(n - 1)), 2u);
  EXPECT_EQ(be32_at(wal, frame_offset(n - 1) + 4), 0u);
  EXPECT_EQ(be32_at(wal, frame_offset(n)), 3u);
  const std::uint32_t lost_commit_size = be32_at(wal, frame_offset(n) + 4);
  EXPECT_NE(lost_commit_size, 0u);
  wal.resize(frame_offset(n));  // the commit frame never reached the disk
  write_file(wal_of(snap), wal);
  return lost_commit_size;
}

std::vector<std::string> ids(sqlite3* db, const char* table) {
  int rc = SQLITE_OK;
  auto out = rows(db, std::string("SELECT id FROM ") + table + " ORDER BY id", &rc);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db);
  return out;
}

const std::vector<std::string> kCommittedA = {"1", "2", "3", "4"};

TEST(WalCommitSize, ACutTransactionIsDroppedAtRecovery) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_cut_transaction_image(dir / "live.db", dir / "s.db", key, 3);
  auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(ids(db->get(), "a"), kCommittedA);
  EXPECT_EQ(ids(db->get(), "b"), std::vector<std::string>{"1"});
}

TEST(WalCommitSize, AForgedCommitMarkDoesNotCommitACutTransaction) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  const std::uint32_t size = make_cut_transaction_image(dir / "live.db", dir / "s.db", key, 3);
  const fs::path wal = wal_of(dir / "s.db");
  // The attacker marks the cut transaction's last frame on disk as its commit and fixes
  // the checksums: on the old format SQLite then replays half a transaction (a gets row
  // 100, b does not).
  forge_commit_size(wal, frame_count(read_file(wal)), size);
  {
    auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(ids(db->get(), "a"), kCommittedA);
    EXPECT_EQ(ids(db->get(), "b"), std::vector<std::string>{"1"});
    EXPECT_EQ(rows(db->get(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  }
  auto again = open_encrypted(dir / "s.db", key, OpenMode::existing);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(ids(again->get(), "a"), kCommittedA);
  EXPECT_EQ(ids(again->get(), "b"), std::vector<std::string>{"1"});
}

TEST(WalCommitSize, ACommitSizeChangedInACommittedFrameIsReportedAsDamage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_cut_transaction_image(dir / "live.db", dir / "s.db", key, 3);
  const fs::path wal = wal_of(dir / "s.db");
  const auto honest = read_file(wal);
  // Frame 2 commits row 3; later frames commit too. Claim a larger database, with the
  // checksums fixed up: the frame no longer authenticates, and a later commit does.
  forge_commit_size(wal, 2, be32_at(honest, frame_offset(2) + 4) + 5);
  const auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::damaged) << db.error().message;
  // Nothing was written: the files are as the attacker left them.
  EXPECT_NE(read_file(wal), honest);
  EXPECT_EQ(fs::file_size(wal), honest.size());
}

TEST(WalCommitSize, ClearingTheCommitMarkOfAnEarlierCommitIsReportedAsDamage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_cut_transaction_image(dir / "live.db", dir / "s.db", key, 3);
  forge_commit_size(wal_of(dir / "s.db"), 1, 0);
  const auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::damaged) << db.error().message;
}

TEST(WalCommitSize, OnThePlainVfsTheForgedCommitMarkCommitsHalfATransaction) {
  // What the tests above defend against, shown where nothing seals the pages: SQLite's
  // recovery accepts the forged frame (so the checksum fix-up is exact) and replays half
  // of the cut transaction.
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  const std::uint32_t size = make_cut_transaction_image(dir / "live.db", dir / "s.db", key, 3, /*plain=*/true);
  const fs::path wal = wal_of(dir / "s.db");
  forge_commit_size(wal, frame_count(read_file(wal)), size);
  auto db = open_plain(dir / "s.db", OpenMode::existing);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(ids(db->get(), "a"), (std::vector<std::string>{"1", "2", "3", "4", "100"}));
  EXPECT_EQ(ids(db->get(), "b"), std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace teduh::crypto
