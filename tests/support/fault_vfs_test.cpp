// The fault-injecting VFS (support/fault_vfs.hpp): plain SQLite databases in WAL and
// DELETE journal modes through it, then the real encrypted office store and the server's.
//
// Every test installs the VFS as the default first; no test in this binary opens a store
// before that, so the encrypting shim registers over it (RoutesEncryptedStores).
#include "support/fault_vfs.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "support/store_fixture.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/server/sqlite_storage.hpp"

namespace teduh::testing {
namespace {

// Temporary folders on /dev/shm when the machine has one, as in the simulation: the
// thousands of fsyncs of the crash-point tests then cost nothing.
[[maybe_unused]] const bool kOnShm = [] {
  if (!std::filesystem::is_directory("/dev/shm")) return false;
  return ::setenv("TMPDIR", "/dev/shm", 1) == 0;
}();

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, Closer>;

Db open_db(const std::filesystem::path& path, int* rc_out = nullptr) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 FaultVfs::kName);
  if (rc_out != nullptr) *rc_out = rc;
  Db db(raw);
  if (rc != SQLITE_OK) return nullptr;
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

int exec(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
}

// The first column of the first row as text, or "" (with the error code in rc_out).
std::string query(sqlite3* db, const std::string& sql, int* rc_out = nullptr) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  std::string out;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(st, 0);
      out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  if (rc_out != nullptr) *rc_out = rc;
  return out;
}

std::set<int> rows(sqlite3* db) {
  std::set<int> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT k FROM t", -1, &st, nullptr) != SQLITE_OK) return out;
  while (sqlite3_step(st) == SQLITE_ROW) out.insert(sqlite3_column_int(st, 0));
  sqlite3_finalize(st);
  return out;
}

// A padded row, so that a handful of them spill over several pages.
std::string insert_row(int k) {
  return "INSERT INTO t(k, v) VALUES(" + std::to_string(k) + ", randomblob(700))";
}

class FaultVfsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    vfs_.reset();
    path_ = dir_ / "plain.db";
  }
  void TearDown() override { vfs_.reset(); }

  // A database in the parameter's journal mode with `n` rows committed with
  // synchronous=FULL.
  Db make_db(int n) {
    Db db = open_db(path_);
    EXPECT_TRUE(db);
    EXPECT_EQ(query(db.get(), "PRAGMA journal_mode=" + GetParam()), GetParam());
    EXPECT_EQ(
        exec(db.get(), "PRAGMA synchronous=FULL; CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)"),
        SQLITE_OK);
    for (int k = 0; k < n; ++k) EXPECT_EQ(exec(db.get(), insert_row(k)), SQLITE_OK);
    return db;
  }

  // After the crashed connection is gone: opens again and checks the file.
  Db reopen_and_check() {
    EXPECT_FALSE(vfs_.down(dir_.path()));
    Db db = open_db(path_);
    EXPECT_TRUE(db);
    if (!db) return db;
    EXPECT_EQ(query(db.get(), "PRAGMA integrity_check"), "ok");
    return db;
  }

  FaultVfs& vfs_ = FaultVfs::install();
  TempDir dir_;
  std::filesystem::path path_;
};

std::set<int> range(int from, int to) {
  std::set<int> out;
  for (int k = from; k < to; ++k) out.insert(k);
  return out;
}

TEST_P(FaultVfsTest, RoutesEncryptedStores) { EXPECT_TRUE(vfs_.routes_encrypted_stores()); }

TEST_P(FaultVfsTest, SyncedCommitsSurviveACrash) {
  {
    Db db = make_db(40);
    EXPECT_EQ(vfs_.unsynced_files(dir_.path()), 0u);
    EXPECT_GE(vfs_.crash(dir_.path()), 1u);
    EXPECT_TRUE(vfs_.down(dir_.path()));
    int rc = SQLITE_OK;
    query(db.get(), "SELECT count(*) FROM t", &rc);
    EXPECT_NE(rc, SQLITE_OK) << "a crashed connection reads nothing";
  }
  Db db = reopen_and_check();
  EXPECT_EQ(rows(db.get()), range(0, 40));
}

TEST_P(FaultVfsTest, UnsyncedWritesAreUndoneAndTheFileStaysConsistent) {
  {
    Db db = make_db(30);
    ASSERT_EQ(exec(db.get(), "PRAGMA synchronous=OFF"), SQLITE_OK);
    for (int k = 30; k < 60; ++k) ASSERT_EQ(exec(db.get(), insert_row(k)), SQLITE_OK);
    ASSERT_EQ(rows(db.get()), range(0, 60));
    EXPECT_GE(vfs_.unsynced_files(dir_.path()), 1u);
    vfs_.crash(dir_.path());
    EXPECT_EQ(vfs_.unsynced_files(dir_.path()), 0u);
  }
  EXPECT_GE(vfs_.counts().reverted_files, 1u);
  EXPECT_GT(vfs_.counts().reverted_bytes, 0u);
  Db db = reopen_and_check();
  EXPECT_EQ(rows(db.get()), range(0, 30)) << "exactly the synced commits are left";
}

TEST_P(FaultVfsTest, AnInjectedIoErrorFailsTheStatementAndLosesNothingCommitted) {
  struct Kind {
    const char* name;
    IoErrorRates rates;
  };
  const std::vector<Kind> kinds = {
      {"write", {0, 1, 0, 0}}, {"sync", {0, 0, 1, 0}}, {"read", {1, 0, 0, 0}}};
  make_db(10).reset();
  int next = 10;
  for (const Kind& kind : kinds) {
    SCOPED_TRACE(kind.name);
    {
      Db db = open_db(path_);  // a cold page cache: the read error is met
      ASSERT_TRUE(db);
      vfs_.set_io_errors(dir_.path(), kind.rates);
      int rc = exec(db.get(), "BEGIN IMMEDIATE; " + insert_row(next) + "; COMMIT");
      if (rc == SQLITE_OK) rc = exec(db.get(), "PRAGMA wal_checkpoint(FULL)");  // DELETE: a no-op
      EXPECT_EQ(rc & 0xff, SQLITE_IOERR) << sqlite3_errmsg(db.get());
      vfs_.clear_faults();
      exec(db.get(), "ROLLBACK");
    }
    Db db = reopen_and_check();
    const std::set<int> got = rows(db.get());
    const std::set<int> committed = range(0, 10);
    EXPECT_TRUE(std::includes(got.begin(), got.end(), committed.begin(), committed.end()));
    EXPECT_LE(got.size(), 11u);
    next = *got.rbegin() + 1;
  }
  const FaultCounts c = vfs_.counts();
  EXPECT_GE(c.write_errors, 1u);
  EXPECT_GE(c.sync_errors, 1u);
  EXPECT_GE(c.read_errors, 1u);
}

// Random errors on every kind of call, over seeds; a commit that returned SQLITE_OK is
// kept through a crash, and the file stays consistent.
TEST_P(FaultVfsTest, RandomIoErrorsNeverLoseAnAcknowledgedCommit) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directories(dir_.path());
    vfs_.reset();
    std::set<int> acked;
    {
      Db db = make_db(0);
      vfs_.set_seed(seed);
      vfs_.set_io_errors(dir_.path(), {0.05, 0.05, 0.05, 0.05});
      for (int k = 0; k < 60; ++k) {
        if (exec(db.get(), insert_row(k)) == SQLITE_OK) acked.insert(k);
      }
      vfs_.clear_faults();
      vfs_.crash(dir_.path());
    }
    const FaultCounts c = vfs_.counts();
    EXPECT_GT(c.read_errors + c.write_errors + c.sync_errors + c.truncate_errors, 0u);
    Db db = reopen_and_check();
    const std::set<int> got = rows(db.get());
    for (int k : acked) EXPECT_EQ(got.count(k), 1u) << "acknowledged row " << k << " lost";
  }
}

TEST_P(FaultVfsTest, TheSameSeedInjectsTheSameFaults) {
  std::vector<std::pair<std::uint64_t, std::set<int>>> runs;
  for (int run = 0; run < 2; ++run) {
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directories(dir_.path());
    vfs_.reset();
    Db db = make_db(0);
    vfs_.set_seed(42);
    vfs_.set_io_errors(dir_.path(), {0.1, 0.1, 0.1, 0.1});
    for (int k = 0; k < 40; ++k) exec(db.get(), insert_row(k));
    vfs_.clear_faults();
    const FaultCounts c = vfs_.counts();
    runs.emplace_back(c.read_errors * 1000000 + c.write_errors * 1000 + c.sync_errors,
                      rows(db.get()));
  }
  EXPECT_EQ(runs[0], runs[1]);
}

TEST_P(FaultVfsTest, AFullDiskRefusesTheWriteAndLosesNothingCommitted) {
  {
    Db db = make_db(20);
    vfs_.set_write_budget(dir_.path(), 4096);
    int rc = exec(db.get(), "INSERT INTO t(k, v) VALUES(1000, randomblob(200000))");
    EXPECT_EQ(rc, SQLITE_FULL) << sqlite3_errmsg(db.get());
    EXPECT_GE(vfs_.counts().full_errors, 1u);
    EXPECT_EQ(rows(db.get()), range(0, 20));
    vfs_.set_write_budget(dir_.path(), std::nullopt);  // space freed
    EXPECT_EQ(exec(db.get(), insert_row(20)), SQLITE_OK);
    vfs_.crash(dir_.path());
  }
  Db db = reopen_and_check();
  EXPECT_EQ(rows(db.get()), range(0, 21));
}

// A crash in place of each write or sync in turn, through commits and a checkpoint: what
// was acknowledged is there after reopening (SQLite's crash tests, in small).
TEST_P(FaultVfsTest, ACrashAtAnyWriteOrSyncKeepsEveryAcknowledgedCommit) {
  int points = 0;
  std::uint64_t last_at = 0;  // the last call a crash replaced
  for (std::uint64_t at = 1;; ++at) {
    SCOPED_TRACE("crash at call " + std::to_string(at));
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directories(dir_.path());
    vfs_.reset();
    std::set<int> acked = range(0, 5);
    {
      Db db = make_db(5);
      vfs_.arm_crash(dir_.path(), at);
      for (int k = 5; k < 15 && vfs_.counts().crashes == 0; ++k) {
        if (exec(db.get(), insert_row(k)) == SQLITE_OK) acked.insert(k);
        if (k == 9) exec(db.get(), "PRAGMA wal_checkpoint(TRUNCATE)");
      }
      vfs_.arm_crash(dir_.path(), 0);
    }
    if (vfs_.counts().crashes == 0) break;  // past the last write: every point was tried
    ++points;
    last_at = at;
    Db db = reopen_and_check();
    const std::set<int> got = rows(db.get());
    for (int k : acked) EXPECT_EQ(got.count(k), 1u) << "acknowledged row " << k << " lost";
    EXPECT_LE(got.size(), acked.size() + 1) << "at most the commit in flight is extra";
  }
  EXPECT_GT(last_at, 20u) << "the sweep covered the writes and syncs of several commits";
  std::printf("[ crash points tried: %d ]\n", points);
}

TEST_P(FaultVfsTest, ACrashedPrefixStaysDownUntilItsHandlesClose) {
  Db db = make_db(3);
  vfs_.crash(dir_.path());
  EXPECT_TRUE(vfs_.down(dir_.path()));
  EXPECT_EQ(vfs_.open_handles(dir_.path()), GetParam() == "wal" ? 2u : 1u);  // db (+ WAL)
  int rc = SQLITE_OK;
  Db second = open_db(path_, &rc);
  if (second) query(second.get(), "SELECT count(*) FROM t", &rc);
  EXPECT_NE(rc, SQLITE_OK) << "a reopen before the crashed connection closed";
  second.reset();
  db.reset();
  EXPECT_FALSE(vfs_.down(dir_.path()));
  EXPECT_EQ(vfs_.open_handles(dir_.path()), 0u);
  Db again = reopen_and_check();
  EXPECT_EQ(rows(again.get()), range(0, 3));
}

TEST_P(FaultVfsTest, ACrashOfOneFolderLeavesAnotherAlone) {
  TempDir other_dir;
  Db other = open_db(other_dir / "other.db");
  ASSERT_TRUE(other);
  ASSERT_EQ(
      exec(other.get(), "PRAGMA synchronous=OFF; CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)"),
      SQLITE_OK);
  ASSERT_EQ(exec(other.get(), insert_row(1)), SQLITE_OK);
  ASSERT_EQ(vfs_.unsynced_files(other_dir.path()), 1u);
  Db db = make_db(2);
  vfs_.set_io_errors(other_dir.path(), {1, 1, 1, 1});
  EXPECT_EQ(exec(db.get(), insert_row(2)), SQLITE_OK) << "errors aimed at the other folder";
  vfs_.clear_faults();
  vfs_.crash(dir_.path());
  EXPECT_FALSE(vfs_.down(other_dir.path()));
  EXPECT_EQ(vfs_.unsynced_files(other_dir.path()), 1u);
  EXPECT_EQ(exec(other.get(), insert_row(2)), SQLITE_OK);
  EXPECT_EQ(rows(other.get()), range(1, 3));
}

INSTANTIATE_TEST_SUITE_P(JournalModes, FaultVfsTest, ::testing::Values("wal", "delete"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// ---- the encrypted office store ----

class FaultVfsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(vfs_.routes_encrypted_stores());
    vfs_.reset();
  }
  void TearDown() override { vfs_.reset(); }

  static std::string integrity(const client::Store& s) {
    return query(s.db(), "PRAGMA integrity_check");
  }

  FaultVfs& vfs_ = FaultVfs::install();
  FakeServerKey server_;
};

// The store runs WAL with synchronous=NORMAL (client/README.md, "Durability"): a commit
// is durable once the WAL is synced, which a checkpoint does. Cases committed before a
// checkpoint, then more with synchronous=OFF and a checkpoint that leaves unsynced
// encrypted pages in both the WAL and the database file: after a power loss the store
// opens with its key, passes integrity_check, and holds exactly the synced cases.
TEST_F(FaultVfsStoreTest, AStoreOpensAfterAPowerLossWithEveryCaseCommittedBeforeTheLastSync) {
  TempDir dir;
  const auto path = dir / "kantor.db";
  std::vector<sync::EntityId> durable;
  {
    auto s = make_store(path, server_);
    ASSERT_TRUE(s) << s.error().message;
    for (int i = 0; i < 5; ++i) {
      auto c = client::Workflow(*s).new_case({}, {});
      ASSERT_TRUE(c) << c.error().message;
      durable.push_back(*c);
    }
    ASSERT_EQ(exec(s->db(), "PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);
    ASSERT_EQ(exec(s->db(), "PRAGMA synchronous=OFF"), SQLITE_OK);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(client::Workflow(*s).new_case({}, {}));
    ASSERT_EQ(exec(s->db(), "PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);  // unsynced db pages
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(client::Workflow(*s).new_case({}, {}));
    EXPECT_EQ(vfs_.unsynced_files(dir.path()), 2u) << "the database and its WAL";
    EXPECT_GE(vfs_.crash(dir.path()), 1u);
    EXPECT_FALSE(client::Workflow(*s).new_case({}, {})) << "a crashed store writes nothing";
  }
  EXPECT_EQ(vfs_.counts().reverted_files, 2u);
  auto s = client::Store::open(path, kTestPassphrase);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(integrity(*s), "ok");
  for (const auto& id : durable) {
    auto e = s->entity(id);
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->has_value()) << "a synced case was lost";
  }
  EXPECT_EQ(s->last_seq(), 5u) << "the unsynced commits were undone, whole";
  EXPECT_TRUE(client::Workflow(*s).new_case({}, {})) << "the store goes on";
}

// Whether this store's own commits are numbered 1..last_seq without a gap (the server
// refuses a sequence with a hole, PROTOCOL.md).
std::string own_sequence(const client::Store& s) {
  return query(s.db(),
               "SELECT count(*) || ' commits, seq 1..' || coalesce(max(seq), 0) FROM commits") +
         ", last_seq " + std::to_string(s.last_seq());
}

std::string sequence_text(std::size_t n) {
  return std::to_string(n) + " commits, seq 1.." + std::to_string(n) + ", last_seq " +
         std::to_string(n);
}

// A full disk at a commit: the action fails with an error, and once there is space again
// the next action is numbered right after the last one kept, in the open store and after
// reopening.
TEST_F(FaultVfsStoreTest, ACommitRefusedByAFullDiskLeavesNoGapInTheSequence) {
  TempDir dir;
  const auto path = dir / "kantor.db";
  {
    auto s = make_store(path, server_);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE(client::Workflow(*s).new_case({}, {}));
    ASSERT_TRUE(client::Workflow(*s).new_case({}, {}));
    vfs_.set_write_budget(dir.path(), 0);
    auto refused = client::Workflow(*s).new_case({}, {});
    EXPECT_FALSE(refused);
    EXPECT_GE(vfs_.counts().full_errors, 1u);
    vfs_.set_write_budget(dir.path(), std::nullopt);
    auto next = client::Workflow(*s).new_case({}, {});
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(own_sequence(*s), sequence_text(3));
  }
  auto s = client::Store::open(path, kTestPassphrase);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(own_sequence(*s), sequence_text(3));
  EXPECT_EQ(integrity(*s), "ok");
}

// A full disk (issue 15, point 12): a write fails with Errc::full, exit 6 and a sentence in
// Indonesian that says the disk is full and nothing was lost, not "disk I/O error"; reading
// goes on, in the open store and in a store opened while the disk is full.
TEST_F(FaultVfsStoreTest, AFullDiskIsSaidInWordsAndReadsGoOn) {
  TempDir dir;
  const auto path = dir / "kantor.db";
  {
    auto s = make_store(path, server_);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE(client::Workflow(*s).new_case({}, {}));
    ASSERT_TRUE(client::Workflow(*s).new_case({}, {}));
    vfs_.set_write_budget(dir.path(), 0);
    auto refused = client::Workflow(*s).new_case({}, {});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, client::Errc::full) << refused.error().message;
    EXPECT_EQ(client::exit_code(refused.error().code), 6);
    EXPECT_NE(refused.error().message.find("Disk penuh"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find("tidak ada yang hilang"), std::string::npos);
    EXPECT_EQ(refused.error().message.find("I/O"), std::string::npos) << refused.error().message;
    auto listed = client::Workflow(*s).list_cases();
    ASSERT_TRUE(listed) << listed.error().message;
    EXPECT_EQ((*listed)["cases"].size(), 2u);
  }
  // Still full: the store opens and lists its cases.
  auto s = client::Store::open(path, kTestPassphrase);
  ASSERT_TRUE(s) << s.error().message;
  auto listed = client::Workflow(*s).list_cases();
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ((*listed)["cases"].size(), 2u);
  EXPECT_GE(vfs_.counts().full_errors, 1u);
  // Showing a case records an audited access (a commit): on a full disk it may fail, but only
  // as a full disk.
  const auto first = sync::EntityId::from_hex((*listed)["cases"][0]["id"].get<std::string>());
  ASSERT_TRUE(first);
  auto shown = client::Workflow(*s).show_case(*first);
  if (!shown) {
    EXPECT_EQ(shown.error().code, client::Errc::full) << shown.error().message;
  }
  vfs_.set_write_budget(dir.path(), std::nullopt);  // space freed
  EXPECT_TRUE(client::Workflow(*s).new_case({}, {}));
  EXPECT_EQ(integrity(*s), "ok");
}

// Random I/O errors under the store over a few seeds: actions fail, none that returned is
// lost after the process is killed, and the sequence has no gap.
TEST_F(FaultVfsStoreTest, RandomIoErrorsNeverLoseAnAcknowledgedCaseNorOpenAGap) {
  TempDir template_dir;
  ASSERT_TRUE(make_store(template_dir / "kantor.db", server_));
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir dir;
    for (const auto& e : std::filesystem::directory_iterator(template_dir.path())) {
      std::filesystem::copy_file(e.path(), dir.path() / e.path().filename());
    }
    const auto path = dir / "kantor.db";
    std::vector<sync::EntityId> acked;
    vfs_.reset();
    {
      auto s = client::Store::open(path, kTestPassphrase);
      ASSERT_TRUE(s) << s.error().message;
      vfs_.set_seed(seed);
      vfs_.set_io_errors(dir.path(), {0.05, 0.05, 0.05, 0.05});
      for (int i = 0; i < 12; ++i) {
        if (auto c = client::Workflow(*s).new_case({}, {})) acked.push_back(*c);
      }
      vfs_.clear_faults();
      vfs_.crash(dir.path(), CrashKind::process_kill);
    }
    const FaultCounts c = vfs_.counts();
    EXPECT_GT(c.read_errors + c.write_errors + c.sync_errors + c.truncate_errors, 0u);
    auto s = client::Store::open(path, kTestPassphrase);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(integrity(*s), "ok");
    for (const auto& id : acked) {
      auto e = s->entity(id);
      ASSERT_TRUE(e);
      EXPECT_TRUE(e->has_value()) << "an acknowledged case was lost";
    }
    const std::string seq = own_sequence(*s);
    EXPECT_EQ(seq, sequence_text(s->last_seq())) << seq;
  }
}

// The store as it runs, crashed in place of each write, truncate or sync in turn while it
// commits cases and checkpoints. Killed, it keeps every case whose commit returned (the
// README's promise for a killed process). Losing power, it still opens with its key and
// passes integrity_check, keeps every case committed before the last checkpoint that
// returned, and the unsynced commits it lost are lost whole (no sequence gap).
// Every third point by default (each costs two Argon2id runs); TEDUH_CRASH_STRIDE=1
// tries them all.
class FaultVfsStoreCrashPoints : public FaultVfsStoreTest,
                                 public ::testing::WithParamInterface<CrashKind> {};

TEST_P(FaultVfsStoreCrashPoints, EveryPointKeepsWhatTheStorePromises) {
  const CrashKind kind = GetParam();
  TempDir template_dir;
  ASSERT_TRUE(make_store(template_dir / "kantor.db", server_));
  const char* stride_env = std::getenv("TEDUH_CRASH_STRIDE");
  const std::uint64_t stride = stride_env != nullptr ? std::max(1, std::atoi(stride_env)) : 3;
  int points = 0;
  std::uint64_t last_at = 0;  // the last call a crash replaced
  for (std::uint64_t at = 1; at < 1000; at += stride) {
    SCOPED_TRACE("crash at call " + std::to_string(at));
    TempDir dir;
    for (const auto& e : std::filesystem::directory_iterator(template_dir.path())) {
      std::filesystem::copy_file(e.path(), dir.path() / e.path().filename());
    }
    const auto path = dir / "kantor.db";
    std::vector<sync::EntityId> acked;
    std::size_t synced = 0;  // how many of acked a returned checkpoint made durable
    vfs_.reset();
    {
      auto s = client::Store::open(path, kTestPassphrase);
      ASSERT_TRUE(s) << s.error().message;
      vfs_.arm_crash(dir.path(), at, kind);
      for (int i = 0; i < 6 && vfs_.counts().crashes == 0; ++i) {
        auto c = client::Workflow(*s).new_case({}, {});
        if (c) acked.push_back(*c);
        if (i == 2 && exec(s->db(), "PRAGMA wal_checkpoint(TRUNCATE)") == SQLITE_OK)
          synced = acked.size();
      }
      vfs_.arm_crash(dir.path(), 0);
    }
    if (vfs_.counts().crashes == 0) break;  // past the last call: every point was tried
    ++points;
    last_at = at;
    auto s = client::Store::open(path, kTestPassphrase);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(integrity(*s), "ok");
    const std::size_t must_keep = kind == CrashKind::process_kill ? acked.size() : synced;
    for (std::size_t i = 0; i < must_keep; ++i) {
      auto e = s->entity(acked[i]);
      ASSERT_TRUE(e);
      EXPECT_TRUE(e->has_value()) << "acknowledged case " << i << " was lost";
    }
    for (std::uint64_t seq = 1; seq <= s->last_seq() && seq <= acked.size(); ++seq) {
      auto e = s->entity(acked[seq - 1]);
      ASSERT_TRUE(e);
      EXPECT_TRUE(e->has_value()) << "commit " << seq << " is kept but its case is not";
    }
    EXPECT_GE(s->last_seq(), must_keep);
    EXPECT_LE(s->last_seq(), acked.size() + 1) << "at most the commit in flight is extra";
  }
  EXPECT_GT(last_at, 20u) << "the sweep covered the writes and syncs of several commits";
  std::printf("[ store crash points tried: %d, every %d ]\n", points, static_cast<int>(stride));
}

using FaultVfsServerCrashPoints = FaultVfsStoreTest;

INSTANTIATE_TEST_SUITE_P(Kinds, FaultVfsStoreCrashPoints,
                         ::testing::Values(CrashKind::process_kill, CrashKind::power_loss),
                         [](const ::testing::TestParamInfo<CrashKind>& p) {
                           return p.param == CrashKind::process_kill ? "ProcessKill" : "PowerLoss";
                         });

// ---- the server's store ----

server::OfficeRecord office_record(int i) {
  server::OfficeRecord office;
  office.code = "KTR-" + std::to_string(i);
  office.name = "Kantor " + std::to_string(i);
  office.kind = "dinas";
  return office;
}

// Random I/O errors under the server's store: writes fail, and every one that returned is
// there after a power loss; the store verifies and takes writes again once the disk heals.
TEST_F(FaultVfsStoreTest, AServerStoreUnderRandomIoErrorsKeepsEveryAcknowledgedWrite) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir dir;
    const auto store = dir / "server";
    std::vector<std::string> acked;
    {
      auto s =
          server::create_sqlite_storage(store, kTestPassphrase, crypto::KdfParams::interactive());
      ASSERT_TRUE(s) << s.error().message;
      vfs_.reset();
      vfs_.set_seed(seed);
      vfs_.set_io_errors(store, {0.05, 0.05, 0.05, 0.05});
      for (int i = 0; i < 12; ++i) {
        if ((*s)->add_office(office_record(i))) acked.push_back(office_record(i).code);
      }
      vfs_.clear_faults();
      EXPECT_TRUE((*s)->add_office(office_record(100))) << "the store goes on once the disk heals";
      acked.push_back(office_record(100).code);
      vfs_.crash(store, CrashKind::power_loss);
    }
    const FaultCounts c = vfs_.counts();
    EXPECT_GT(c.read_errors + c.write_errors + c.sync_errors + c.truncate_errors, 0u);
    auto s = server::open_sqlite_storage(store, kTestPassphrase);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_TRUE((*s)->verify_store());
    for (const auto& code : acked) {
      auto found = (*s)->find_office(code);
      ASSERT_TRUE(found);
      EXPECT_TRUE(found->has_value()) << "acknowledged office " << code << " was lost";
    }
  }
}

// The server's store runs WAL with synchronous=FULL: what it acknowledged survives a
// power loss at any write, truncate or sync (every third point by default, as above).
TEST_F(FaultVfsServerCrashPoints, AServerStoreLosingPowerKeepsEveryAcknowledgedWrite) {
  const char* stride_env = std::getenv("TEDUH_CRASH_STRIDE");
  const std::uint64_t stride = stride_env != nullptr ? std::max(1, std::atoi(stride_env)) : 3;
  TempDir template_dir;
  const auto template_store = template_dir / "server";
  ASSERT_TRUE(server::create_sqlite_storage(template_store, kTestPassphrase,
                                            crypto::KdfParams::interactive()));
  int points = 0;
  std::uint64_t last_at = 0;  // the last call a crash replaced
  for (std::uint64_t at = 1; at < 1000; at += stride) {
    SCOPED_TRACE("crash at call " + std::to_string(at));
    TempDir dir;
    const auto store = dir / "server";
    std::filesystem::copy(template_store, store, std::filesystem::copy_options::recursive);
    std::vector<std::string> acked;
    vfs_.reset();
    {
      auto s = server::open_sqlite_storage(store, kTestPassphrase);
      ASSERT_TRUE(s) << s.error().message;
      vfs_.arm_crash(store, at, CrashKind::power_loss);
      for (int i = 0; i < 6 && vfs_.counts().crashes == 0; ++i) {
        if ((*s)->add_office(office_record(i))) acked.push_back(office_record(i).code);
      }
      vfs_.arm_crash(store, 0);
    }
    if (vfs_.counts().crashes == 0) break;
    ++points;
    last_at = at;
    auto s = server::open_sqlite_storage(store, kTestPassphrase);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_TRUE((*s)->verify_store());
    for (const auto& code : acked) {
      auto found = (*s)->find_office(code);
      ASSERT_TRUE(found);
      EXPECT_TRUE(found->has_value()) << "acknowledged office " << code << " was lost";
    }
  }
  EXPECT_GT(last_at, 20u) << "the sweep covered the writes and syncs of several commits";
  std::printf("[ server store crash points tried: %d, every %d ]\n", points,
              static_cast<int>(stride));
}

}  // namespace
}  // namespace teduh::testing
