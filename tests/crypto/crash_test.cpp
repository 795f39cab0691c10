// Crash safety (kill -9 at random moments) and the differential test against plain SQLite.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "store_test_support.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"

namespace teduh::crypto {
namespace {

using namespace teduh::crypto::testing;

constexpr int kRowsPerCommit = 3;

int seed_count() {
  const char* v = std::getenv("TEDUH_CRASH_SEEDS");
  return v != nullptr ? std::max(1, std::atoi(v)) : 20;
}

// The child: commits numbered transactions and reports each one after COMMIT returns.
[[noreturn]] void crash_child(const fs::path& p, const SecretBytes& key, int fd, unsigned seed) {
  auto db = open_encrypted(p, key, OpenMode::existing);
  if (!db) ::_exit(2);
  std::mt19937 rng(seed);
  sqlite3_exec(db->get(), "PRAGMA wal_autocheckpoint=50", nullptr, nullptr, nullptr);
  for (int txn = 1;; ++txn) {
    std::string sql = "BEGIN;";
    for (int r = 0; r < kRowsPerCommit; ++r) {
      sql += "INSERT INTO t(txn, v) VALUES(" + std::to_string(txn) + ", hex(randomblob(" +
             std::to_string(50 + rng() % 900) + ")));";
    }
    if (txn % 5 == 0) sql += "DELETE FROM t WHERE rowid IN (SELECT rowid FROM t WHERE txn < 0 LIMIT 1);";
    sql += "COMMIT;";
    if (sqlite3_exec(db->get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) ::_exit(3);
    if (::write(fd, &txn, sizeof txn) != sizeof txn) ::_exit(4);
  }
}

TEST(EncryptedVfsCrash, KillDuringWritesLosesAtMostTheTransactionInFlight) {
  const int seeds = seed_count();
  for (int s = 0; s < seeds; ++s) {
    const unsigned seed = 1000u + static_cast<unsigned>(s);
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir dir;
    const fs::path p = dir / "s.db";
    const auto key = SecretBytes::random(kStoreKeySize);
    {
      auto db = open_encrypted(p, key, OpenMode::create);
      ASSERT_TRUE(db);
      must_run(db->get(), "CREATE TABLE t(id INTEGER PRIMARY KEY, txn INTEGER, v TEXT)");
      must_run(db->get(), "CREATE INDEX t_txn ON t(txn)");
    }
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      crash_child(p, key, fds[1], seed);
    }
    ::close(fds[1]);
    std::mt19937 rng(seed);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 200));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    std::set<int> reported;
    int txn = 0;
    while (::read(fds[0], &txn, sizeof txn) == sizeof txn) reported.insert(txn);
    ::close(fds[0]);

    auto db = open_encrypted(p, key, OpenMode::existing);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(rows(db->get(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
    int rc = SQLITE_OK;
    const auto counts = rows(db->get(), "SELECT txn, count(*) FROM t GROUP BY txn ORDER BY txn", &rc);
    ASSERT_EQ(rc, SQLITE_OK);
    // Every reported commit is whole, and at most one more (in flight) made it.
    std::set<int> present;
    for (const auto& row : counts) {
      const auto bar = row.find('|');
      present.insert(std::stoi(row.substr(0, bar)));
      EXPECT_EQ(row.substr(bar + 1), std::to_string(kRowsPerCommit)) << row;
    }
    for (int r : reported) EXPECT_TRUE(present.count(r) == 1) << "lost commit " << r;
    EXPECT_LE(present.size(), reported.size() + 1);
    RecordProperty("commits_seed_" + std::to_string(seed), static_cast<int>(reported.size()));
  }
}

// ---- differential ----

// A canonical dump: schema, then every row of every table in rowid order, quoted.
std::vector<std::string> dump(sqlite3* db) {
  std::vector<std::string> out = rows(db, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name");
  for (const auto& table : rows(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")) {
    std::string cols;
    for (const auto& c : rows(db, "SELECT name FROM pragma_table_info('" + table + "')")) {
      cols += (cols.empty() ? "" : "||','||") + std::string("quote(\"") + c + "\")";
    }
    for (auto& r : rows(db, "SELECT " + cols + " FROM \"" + table + "\" ORDER BY rowid")) {
      out.push_back(table + ":" + r);
    }
  }
  return out;
}

void workload(sqlite3* db, unsigned seed) {
  std::mt19937 rng(seed);
  must_run(db, "CREATE TABLE kasus(id INTEGER PRIMARY KEY, kode TEXT UNIQUE, isi BLOB, n REAL)");
  must_run(db, "CREATE TABLE catatan(id INTEGER PRIMARY KEY, kasus_id INTEGER REFERENCES kasus(id), teks TEXT)");
  must_run(db, "CREATE INDEX catatan_kasus ON catatan(kasus_id, teks)");
  for (int round = 0; round < 40; ++round) {
    must_run(db, "BEGIN");
    for (int i = 0; i < 25; ++i) {
      const int k = static_cast<int>(rng() % 2000);
      switch (rng() % 4) {
        case 0:
        case 1:
          must_run(db, "INSERT OR REPLACE INTO kasus(kode, isi, n) VALUES('K" + std::to_string(k) +
                           "', zeroblob(" + std::to_string(rng() % 3000) + "), " + std::to_string(k) + ".5)");
          break;
        case 2:
          must_run(db, "INSERT INTO catatan(kasus_id, teks) SELECT id, 'c" + std::to_string(rng()) +
                           "' || printf('%.*c', " + std::to_string(rng() % 500) + ", 'x') FROM kasus WHERE kode='K" +
                           std::to_string(k) + "'");
          break;
        default:
          must_run(db, "DELETE FROM catatan WHERE id % 17 = " + std::to_string(rng() % 17));
          break;
      }
    }
    must_run(db, rng() % 8 == 0 ? "ROLLBACK" : "COMMIT");
    if (round == 20) must_run(db, "VACUUM");
  }
}

TEST(EncryptedVfsDifferential, SameWorkloadGivesSameDumpAsPlainSqlite) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  for (unsigned seed : {7u, 8u}) {
    SCOPED_TRACE(seed);
    const std::string n = std::to_string(seed);
    auto enc = open_encrypted(dir.path() / ("e" + n + ".db"), key, OpenMode::create);
    auto plain = open_plain(dir.path() / ("p" + n + ".db"), OpenMode::create);
    ASSERT_TRUE(enc && plain);
    workload(enc->get(), seed);
    workload(plain->get(), seed);
    const auto enc_dump = dump(enc->get());
    EXPECT_GT(enc_dump.size(), 100u);
    EXPECT_EQ(enc_dump, dump(plain->get()));
    enc->reset();
    auto reopened = open_encrypted(dir.path() / ("e" + n + ".db"), key, OpenMode::existing);
    ASSERT_TRUE(reopened);
    EXPECT_EQ(dump(reopened->get()), dump(plain->get()));
    EXPECT_EQ(rows(reopened->get(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  }
}

}  // namespace
}  // namespace teduh::crypto
