// A store written by the previous version (format 1: WAL frames sealed without their commit
// size) keeps opening, its WAL is recovered, and after that first open the store is format 2
// (crypto/FORMATS.md section 4, "Stores of format 1"). Golden files: tests/data/crypto/format1.
#include <gtest/gtest.h>

#include "store_test_support.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "wal_forge.hpp"

namespace teduh::crypto {
namespace {

using namespace teduh::crypto::testing;

const fs::path kGolden = fs::path(TEDUH_TEST_DATA_DIR) / "crypto" / "format1";

SecretBytes golden_key() {
  Bytes raw(kStoreKeySize);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(0xA0 + i);
  return SecretBytes::copy_of(raw);
}

// A copy of the golden store in dir (store.db and its WAL).
fs::path copy_golden(const TempDir& dir) {
  fs::copy_file(kGolden / "store.db", dir / "store.db");
  fs::copy_file(kGolden / "store.db-wal", dir / "store.db-wal");
  return dir / "store.db";
}

std::vector<std::string> ids(sqlite3* db, const char* table) {
  int rc = SQLITE_OK;
  auto out = rows(db, std::string("SELECT id FROM ") + table + " ORDER BY id", &rc);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db);
  return out;
}

const std::vector<std::string> kCommittedA = {"1", "2", "3", "4"};

TEST(OldFormatStore, StillOpensAndRecoversItsLog) {
  TempDir dir;
  const fs::path p = copy_golden(dir);
  {
    auto db = open_encrypted(p, golden_key(), OpenMode::existing);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(ids(db->get(), "a"), kCommittedA);  // the three committed frames, not the cut one
    EXPECT_EQ(ids(db->get(), "b"), std::vector<std::string>{"1"});
    EXPECT_EQ(rows(db->get(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
    must_run(db->get(), "INSERT INTO b VALUES(2, 'baru')");
  }
  auto again = open_encrypted(p, golden_key(), OpenMode::existing);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(ids(again->get(), "a"), kCommittedA);
  EXPECT_EQ(ids(again->get(), "b"), (std::vector<std::string>{"1", "2"}));
}

TEST(OldFormatStore, AfterTheFirstOpenAnOldLogCannotCommitAForgedTransaction) {
  TempDir dir;
  const fs::path p = copy_golden(dir);
  {
    auto db = open_encrypted(p, golden_key(), OpenMode::existing);  // the upgrade
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(ids(db->get(), "a"), kCommittedA);
  }
  // The attacker puts the old log back, its cut transaction marked as committed (commit
  // size 3) with the checksums fixed up. Its frames are of layout 1, which the store,
  // now format 2, no longer accepts.
  auto wal = read_file(kGolden / "store.db-wal");
  forge_commit_size(wal, frame_count(wal), 3);
  write_file(dir / "store.db-wal", wal);
  auto db = open_encrypted(p, golden_key(), OpenMode::existing);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(ids(db->get(), "a"), kCommittedA);
  EXPECT_EQ(ids(db->get(), "b"), std::vector<std::string>{"1"});
  EXPECT_EQ(rows(db->get(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

}  // namespace
}  // namespace teduh::crypto
