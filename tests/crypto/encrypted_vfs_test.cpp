// Behaviour of the encrypted store: confidentiality, tamper detection, keys, WAL tails.
#include <gtest/gtest.h>

#include <cstring>

#include "store_test_support.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"

namespace teduh::crypto {
namespace {

using namespace teduh::crypto::testing;

constexpr std::size_t kPg = kPageSize;

std::string wal_of(const fs::path& p) { return p.string() + "-wal"; }

DbHandle open_new(const fs::path& p, const SecretBytes& key) {
  auto db = open_encrypted(p, key, OpenMode::create);
  EXPECT_TRUE(db) << (db ? "" : db.error().message);
  return db ? std::move(*db) : DbHandle{};
}

// A store whose table t (root page 2) spans several pages, checkpointed into the main
// file and closed (so no WAL is left).
void make_closed_store(const fs::path& p, const SecretBytes& key, int rows = 200) {
  DbHandle db = open_new(p, key);
  ASSERT_TRUE(db);
  must_run(db.get(), "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  must_run(db.get(), "BEGIN");
  for (int i = 0; i < rows; ++i) {
    must_run(db.get(), "INSERT INTO t(v) VALUES('row-" + std::to_string(i) + "-' || hex(zeroblob(40)))");
  }
  must_run(db.get(), "COMMIT");
}

// Copies the files of a live store, as a crash at this instant would leave them.
void snapshot(const fs::path& from, const fs::path& to) {
  fs::copy_file(from, to);
  if (fs::exists(wal_of(from))) fs::copy_file(wal_of(from), wal_of(to));
}

// Reading all of t either fails with damage or returns exactly the expected rows.
void expect_damage_on_scan(const fs::path& p, const SecretBytes& key) {
  auto db = open_encrypted(p, key, OpenMode::existing);
  if (!db) {
    EXPECT_TRUE(db.error().code == Errc::damaged || db.error().code == Errc::not_a_store)
        << db.error().message;
    return;
  }
  int rc = SQLITE_OK;
  rows(db->get(), "SELECT id, v FROM t", &rc);
  EXPECT_TRUE(is_damage(rc)) << "rc=" << rc << " " << sqlite3_errmsg(db->get());
}

TEST(EncryptedVfs, CreatesReopensAndKeepsData) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key, 10);
  auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(rows(db->get(), "SELECT count(*) FROM t"), std::vector<std::string>{"10"});
  EXPECT_EQ(rows(db->get(), "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_EQ(rows(db->get(), "PRAGMA page_size"), std::vector<std::string>{"4096"});
  EXPECT_EQ(rows(db->get(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  const auto raw = read_file(dir / "s.db");
  EXPECT_EQ(raw[20], kReservedBytes);
}

TEST(EncryptedVfs, CreateRefusesAnExistingDatabase) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key, 1);
  EXPECT_EQ(open_encrypted(dir / "s.db", key, OpenMode::create).error().code, Errc::already_exists);
  EXPECT_EQ(open_encrypted(dir / "none.db", key, OpenMode::existing).error().code, Errc::not_a_store);
}

TEST(EncryptedVfs, KnownPlaintextNeverReachesTheDisk) {
  TempDir dir;
  const fs::path p = dir / "s.db";
  ASSERT_TRUE(create_store_key(p, "kata sandi uji", KdfParams::interactive()));
  const auto key = unlock_store_key(p, "kata sandi uji");
  ASSERT_TRUE(key);
  const std::string marker = "MARKER-NAME-" + to_hex(random_bytes(8));
  DbHandle db = open_new(p, *key);
  ASSERT_TRUE(db);
  must_run(db.get(), "PRAGMA wal_autocheckpoint=0");
  must_run(db.get(), "CREATE TABLE korban(id INTEGER PRIMARY KEY, nama TEXT, catatan TEXT)");
  must_run(db.get(), "BEGIN");
  for (int i = 0; i < 3000; ++i) {
    must_run(db.get(), "INSERT INTO korban(nama, catatan) VALUES('" + marker + "-" + std::to_string(i) +
                           "', '" + marker + "' || hex(randomblob(60)))");
  }
  must_run(db.get(), "COMMIT");
  must_run(db.get(), "CREATE INDEX korban_nama ON korban(nama)");
  must_run(db.get(), "CREATE INDEX korban_expr ON korban(substr(catatan, 5))");
  int rc = SQLITE_OK;
  const auto sorted = rows(db.get(), "SELECT catatan || nama FROM korban ORDER BY random()", &rc);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db.get());
  EXPECT_EQ(sorted.size(), 3000u);
  rows(db.get(), "SELECT DISTINCT substr(catatan, 1, 80) FROM korban ORDER BY 1 DESC", &rc);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db.get());
  must_run(db.get(), "UPDATE korban SET catatan = catatan || '" + marker + "' WHERE id % 3 = 0");
  must_run(db.get(), "DELETE FROM korban WHERE id % 7 = 0");

  auto scan = [&](const char* when) {
    for (const fs::path& f : {p, fs::path(wal_of(p)), key_file_path(p), fs::path(p.string() + "-journal")}) {
      if (!fs::exists(f)) continue;
      const auto bytes = read_file(f);
      EXPECT_FALSE(contains(bytes, marker)) << f << " " << when;
      EXPECT_FALSE(contains(bytes, "SQLite format 3")) << f << " " << when;
    }
  };
  scan("before VACUUM");
  EXPECT_GT(fs::file_size(wal_of(p)), 100'000u);
  must_run(db.get(), "VACUUM");
  scan("after VACUUM");
  must_run(db.get(), "PRAGMA wal_checkpoint(TRUNCATE)");
  scan("after checkpoint");
  db.reset();
  scan("after close");
  auto again = open_encrypted(p, *key, OpenMode::existing);
  ASSERT_TRUE(again);
  EXPECT_EQ(rows(again->get(), "SELECT count(*) FROM korban WHERE nama LIKE 'MARKER-NAME-%'"),
            std::vector<std::string>{std::to_string(3000 - 3000 / 7)});
  EXPECT_EQ(rows(again->get(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

TEST(EncryptedVfs, FlippedBitInPageBodyIsReportedAsDamage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key);
  flip_byte(dir / "s.db", kPg + 2000);
  expect_damage_on_scan(dir / "s.db", key);
}

TEST(EncryptedVfs, FlippedBitInNonceIsReportedAsDamage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key);
  flip_byte(dir / "s.db", 2 * kPg - 40 + 5);
  expect_damage_on_scan(dir / "s.db", key);
}

TEST(EncryptedVfs, FlippedBitInTagIsReportedAsDamage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key);
  flip_byte(dir / "s.db", 2 * kPg - 1, 0x80);
  expect_damage_on_scan(dir / "s.db", key);
}

TEST(EncryptedVfs, FlippedBitInLastPageIsReportedAsDamage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key);
  flip_byte(dir / "s.db", fs::file_size(dir / "s.db") - kPg + 10);
  expect_damage_on_scan(dir / "s.db", key);
}

TEST(EncryptedVfs, ChangedClearHeaderBytesRefuseTheOpen) {
  for (std::size_t offset : {0u, 15u, 16u, 18u, 20u, 21u, 23u, 24u, 100u, 4056u}) {
    SCOPED_TRACE(offset);
    TempDir dir;
    const auto key = SecretBytes::random(kStoreKeySize);
    make_closed_store(dir / "s.db", key, 5);
    flip_byte(dir / "s.db", offset);
    const auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error().code, Errc::not_a_store) << db.error().message;
  }
}

TEST(EncryptedVfs, SwappedPagesAreReportedAsDamage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key);
  auto b = read_file(dir / "s.db");
  ASSERT_GE(b.size(), 4 * kPg);
  std::swap_ranges(b.begin() + kPg, b.begin() + 2 * kPg, b.begin() + 2 * kPg);
  write_file(dir / "s.db", b);
  expect_damage_on_scan(dir / "s.db", key);
}

TEST(EncryptedVfs, PageTransplantedFromAnotherStoreIsReportedAsDamage) {
  TempDir dir;
  // Same key on purpose: only the database id tells the two stores apart.
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "a.db", key);
  make_closed_store(dir / "b.db", key);
  auto a = read_file(dir / "a.db");
  const auto b = read_file(dir / "b.db");
  std::copy(b.begin() + 2 * kPg, b.begin() + 3 * kPg, a.begin() + 2 * kPg);
  write_file(dir / "a.db", a);
  expect_damage_on_scan(dir / "a.db", key);
}

TEST(EncryptedVfs, WrongKeyIsRefusedBeforeRecoveryAndLeavesFilesUntouched) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  DbHandle db = open_new(dir / "live.db", key);
  must_run(db.get(), "PRAGMA wal_autocheckpoint=0");
  must_run(db.get(), "CREATE TABLE t(v)");
  must_run(db.get(), "INSERT INTO t VALUES('x')");
  snapshot(dir / "live.db", dir / "s.db");
  const auto db_before = read_file(dir / "s.db");
  const auto wal_before = read_file(wal_of(dir / "s.db"));
  ASSERT_FALSE(wal_before.empty());
  const auto wrong = open_encrypted(dir / "s.db", SecretBytes::random(kStoreKeySize), OpenMode::existing);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::not_a_store);
  EXPECT_NE(wrong.error().message.find("key"), std::string::npos);
  EXPECT_EQ(read_file(dir / "s.db"), db_before);
  EXPECT_EQ(read_file(wal_of(dir / "s.db")), wal_before);
  auto right = open_encrypted(dir / "s.db", key, OpenMode::existing);
  ASSERT_TRUE(right) << right.error().message;
  EXPECT_EQ(rows(right->get(), "SELECT v FROM t"), std::vector<std::string>{"x"});
}

TEST(EncryptedVfs, PlainSqliteFileIsNotAStore) {
  TempDir dir;
  auto plain = open_plain(dir / "p.db", OpenMode::create);
  ASSERT_TRUE(plain);
  must_run(plain->get(), "CREATE TABLE t(v)");
  plain->reset();
  const auto db = open_encrypted(dir / "p.db", SecretBytes::random(kStoreKeySize), OpenMode::existing);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::not_a_store);
}

TEST(EncryptedVfs, RandomFileIsNotAStore) {
  TempDir dir;
  write_file(dir / "r.db", random_bytes(3 * kPg));
  const auto db = open_encrypted(dir / "r.db", SecretBytes::random(kStoreKeySize), OpenMode::existing);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::not_a_store);
  write_file(dir / "short.db", random_bytes(100));
  EXPECT_EQ(open_encrypted(dir / "short.db", SecretBytes::random(kStoreKeySize), OpenMode::existing)
                .error()
                .code,
            Errc::not_a_store);
}

TEST(EncryptedVfs, AttachAndVacuumIntoAreRefused) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  DbHandle db = open_new(dir / "s.db", key);
  must_run(db.get(), "CREATE TABLE t(v); INSERT INTO t VALUES('x')");
  const std::string other = (dir / "o.db").string();
  EXPECT_NE(run(db.get(), "ATTACH '" + other + "' AS o"), SQLITE_OK);
  EXPECT_NE(run(db.get(), "ATTACH 'file:" + other + "?vfs=unix' AS o"), SQLITE_OK);
  EXPECT_NE(run(db.get(), "VACUUM INTO '" + other + "'"), SQLITE_OK);
  EXPECT_FALSE(fs::exists(dir / "o.db"));
  EXPECT_EQ(run(db.get(), "VACUUM"), SQLITE_OK);
}

TEST(EncryptedVfs, MmapStaysOff) {
  TempDir dir;
  DbHandle db = open_new(dir / "s.db", SecretBytes::random(kStoreKeySize));
  must_run(db.get(), "PRAGMA mmap_size=1000000");
  EXPECT_EQ(rows(db.get(), "PRAGMA mmap_size"), std::vector<std::string>{"0"});
}

TEST(EncryptedVfs, RollbackJournalModeEncryptsAndRollsBack) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key, 300);
  auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
  ASSERT_TRUE(db);
  EXPECT_EQ(rows(db->get(), "PRAGMA journal_mode=DELETE"), std::vector<std::string>{"delete"});
  must_run(db->get(), "PRAGMA cache_size=2");  // spill: journal records must hit the disk
  must_run(db->get(), "BEGIN");
  must_run(db->get(), "UPDATE t SET v = 'MARKER-JOURNAL' || v");
  const fs::path journal = dir.path() / "s.db-journal";
  ASSERT_TRUE(fs::exists(journal));
  const auto bytes = read_file(journal);
  EXPECT_GT(bytes.size(), 4 * kPg);
  EXPECT_FALSE(contains(bytes, "row-1"));
  EXPECT_FALSE(contains(bytes, "SQLite format 3"));
  must_run(db->get(), "ROLLBACK");
  EXPECT_EQ(rows(db->get(), "SELECT count(*) FROM t WHERE v LIKE 'MARKER%'"), std::vector<std::string>{"0"});
  EXPECT_EQ(rows(db->get(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

// ---- WAL ----

// A crash image with `commits` transactions in the WAL (one row each, id = 1..commits).
// Up to 6 such rows fit in page 2, so each commit is exactly one WAL frame.
void make_wal_snapshot(const fs::path& live, const fs::path& snap, const SecretBytes& key, int commits) {
  DbHandle db = open_new(live, key);
  ASSERT_TRUE(db);
  must_run(db.get(), "PRAGMA wal_autocheckpoint=0");
  must_run(db.get(), "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  must_run(db.get(), "PRAGMA wal_checkpoint(TRUNCATE)");  // the table itself is in the main file
  for (int i = 1; i <= commits; ++i) {
    must_run(db.get(), "INSERT INTO t VALUES(" + std::to_string(i) + ", hex(randomblob(300)))");
  }
  snapshot(live, snap);
}

std::size_t wal_frame_count(const fs::path& p) {
  return (fs::file_size(wal_of(p)) - 32) / (24 + kPg);
}

// The ids in t, which must be 1..k for some k (a prefix of the commits).
int committed_prefix(sqlite3* db) {
  int rc = SQLITE_OK;
  const auto ids = rows(db, "SELECT id FROM t ORDER BY id", &rc);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], std::to_string(i + 1));
  EXPECT_EQ(rows(db, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  return static_cast<int>(ids.size());
}

TEST(EncryptedVfsWal, CommittedFramesSurviveACrashImage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_wal_snapshot(dir / "live.db", dir / "s.db", key, 6);
  ASSERT_EQ(wal_frame_count(dir / "s.db"), 6u);  // one frame per commit: the tests below rely on it
  auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(committed_prefix(db->get()), 6);
}

TEST(EncryptedVfsWal, FlippedByteInCommittedFrameIsReportedAsDamage) {
  for (std::size_t where : {std::size_t{24 + 100}, std::size_t{24 + kPg - 3}, std::size_t{24 + kPg - 30},
                            std::size_t{2}, std::size_t{17}, std::size_t{22}}) {
    SCOPED_TRACE(where);
    TempDir dir;
    const auto key = SecretBytes::random(kStoreKeySize);
    make_wal_snapshot(dir / "live.db", dir / "s.db", key, 6);
    flip_byte(wal_of(dir / "s.db"), 32 + 2 * (24 + kPg) + where);  // frame 3 of 6
    const auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error().code, Errc::damaged) << db.error().message;
  }
}

TEST(EncryptedVfsWal, DamagedLastFrameLosesOnlyTheLastTransaction) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_wal_snapshot(dir / "live.db", dir / "s.db", key, 6);
  flip_byte(wal_of(dir / "s.db"), 32 + 5 * (24 + kPg) + 24 + 500);
  auto db = open_encrypted(dir / "s.db", key, OpenMode::existing);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(committed_prefix(db->get()), 5);
}

TEST(EncryptedVfsWal, TruncatedTailKeepsAPrefixOfCommits) {
  const auto key = SecretBytes::random(kStoreKeySize);
  TempDir dir;
  make_wal_snapshot(dir / "live.db", dir / "s.db", key, 6);
  const auto wal = read_file(wal_of(dir / "s.db"));
  std::mt19937 rng(12345);
  for (int round = 0; round < 12; ++round) {
    const std::size_t cut = 32 + rng() % (wal.size() - 32);
    SCOPED_TRACE(cut);
    TempDir d2;
    fs::copy_file(dir / "s.db", d2 / "c.db");
    write_file(wal_of(d2 / "c.db"), std::vector<std::uint8_t>(wal.begin(), wal.begin() + static_cast<long>(cut)));
    auto db = open_encrypted(d2 / "c.db", key, OpenMode::existing);
    ASSERT_TRUE(db) << db.error().message;
    const int kept = committed_prefix(db->get());
    EXPECT_EQ(kept, static_cast<int>((cut - 32) / (24 + kPg)));
  }
}

TEST(EncryptedVfsWal, DamageInTheWalAfterOpenIsReportedOnRead) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  DbHandle db = open_new(dir / "s.db", key);
  must_run(db.get(), "PRAGMA wal_autocheckpoint=0");
  must_run(db.get(), "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  must_run(db.get(), "PRAGMA wal_checkpoint(TRUNCATE)");
  must_run(db.get(), "INSERT INTO t VALUES(1, 'satu')");
  must_run(db.get(), "INSERT INTO t VALUES(2, 'dua')");
  // Frame 2 holds the latest version of page 2; drop the cache so it is read again.
  flip_byte(wal_of(dir / "s.db"), 32 + (24 + kPg) + 24 + 3000);
  sqlite3_db_release_memory(db.get());
  int rc = SQLITE_OK;
  rows(db.get(), "SELECT v FROM t", &rc);
  EXPECT_TRUE(is_damage(rc)) << rc;
}

TEST(EncryptedVfsWal, WalPagesCarryNoClearPageImage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_wal_snapshot(dir / "live.db", dir / "s.db", key, 3);
  EXPECT_FALSE(contains(read_file(wal_of(dir / "s.db")), "SQLite format 3"));
}

TEST(IsDamage, CoversTheCodesTheShimUses) {
  EXPECT_TRUE(is_damage(SQLITE_IOERR_DATA));
  EXPECT_TRUE(is_damage(SQLITE_CORRUPT));
  EXPECT_TRUE(is_damage(SQLITE_CORRUPT_INDEX));
  EXPECT_TRUE(is_damage(SQLITE_NOTADB));
  EXPECT_FALSE(is_damage(SQLITE_IOERR_READ));
  EXPECT_FALSE(is_damage(SQLITE_OK));
}

}  // namespace
}  // namespace teduh::crypto
