// A transaction larger than the page cache spills pages into the WAL before it commits and
// then overwrites those frames in place; the shim must keep every such write readable.
#include <gtest/gtest.h>

#include "store_test_support.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"

namespace teduh::crypto {
namespace {

using testing::rows;
using testing::must_run;

void large_transaction_survives_reopen(bool encrypted, int cache_pages) {
  init();
  testing::TempDir dir;
  auto path = dir / "big.db";
  SecretBytes key = SecretBytes::random(kStoreKeySize);
  auto open = [&](OpenMode mode) { return encrypted ? open_encrypted(path, key, mode) : open_plain(path, mode); };
  {
    auto db = open(OpenMode::create);
    ASSERT_TRUE(db) << db.error().message;
    must_run(db->get(), "PRAGMA cache_size=" + std::to_string(cache_pages));
    must_run(db->get(), "CREATE TABLE t(k BLOB PRIMARY KEY, v TEXT) WITHOUT ROWID");
    must_run(db->get(), "CREATE INDEX t_v ON t(v)");
    must_run(db->get(), "BEGIN");
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 3000; ++i) {
        must_run(db->get(), "INSERT OR REPLACE INTO t VALUES(randomblob(16), 'nilai-" + std::to_string(round * 100000 + i) + "')");
      }
      must_run(db->get(), "UPDATE t SET v = v || 'x'");
    }
    must_run(db->get(), "COMMIT");
    int in_session_rc = 0;
    auto n = rows(db->get(), "SELECT count(*) FROM t", &in_session_rc);
    ASSERT_EQ(in_session_rc, SQLITE_OK) << sqlite3_errstr(in_session_rc);
    ASSERT_EQ(n.size(), 1u);
    EXPECT_EQ(n[0], "9000");
  }
  auto db = open(OpenMode::existing);
  ASSERT_TRUE(db) << db.error().message;
  int rc = 0;
  auto n = rows(db->get(), "SELECT count(*) FROM t", &rc);
  ASSERT_EQ(rc, SQLITE_OK) << sqlite3_errstr(rc);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0], "9000");
  auto check = rows(db->get(), "PRAGMA integrity_check");
  ASSERT_FALSE(check.empty());
  EXPECT_EQ(check[0], "ok");
}

TEST(EncryptedVfs, TransactionLargerThanThePageCacheSurvivesReopen) {
  large_transaction_survives_reopen(true, 10);
}

TEST(EncryptedVfs, TransactionLargerThanThePageCacheSurvivesReopenOnThePlainVfsToo) {
  large_transaction_survives_reopen(false, 10);
}

TEST(EncryptedVfs, TransactionWithTheDefaultCacheSurvivesReopen) {
  large_transaction_survives_reopen(true, -2000);
}

}  // namespace
}  // namespace teduh::crypto
