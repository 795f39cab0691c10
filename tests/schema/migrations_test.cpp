#include "teduh/schema/migrations.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "schema/schema_test_support.hpp"
#include "teduh/schema/migration_steps.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh::schema {
namespace {

using testing::Db;
using testing::open_db;
using testing::open_memory_db;
using testing::TempDir;

const std::filesystem::path kGoldenDir = std::filesystem::path(TEDUH_TEST_DATA_DIR) / "schema";

std::int64_t query_int(sqlite3* db, std::string_view sql) {
  auto statement = Statement::prepare(db, sql);
  EXPECT_TRUE(statement) << statement.error().message;
  if (!statement) return -1;
  auto row = statement->step();
  EXPECT_TRUE(row && *row) << sql;
  return row && *row ? statement->column_int(0) : -1;
}

std::string meta_text(sqlite3* db, std::string_view key) {
  auto statement = Statement::prepare(db, "SELECT value FROM meta WHERE key = ?");
  EXPECT_TRUE(statement);
  statement->bind(1, key);
  auto row = statement->step();
  return row && *row ? statement->column_text(0) : std::string("<none>");
}

// The schema as SQLite records it: one line per table, index and its SQL.
std::vector<std::string> schema_of(sqlite3* db) {
  std::vector<std::string> lines;
  auto statement = Statement::prepare(
      db, "SELECT type, name, ifnull(sql, '') FROM sqlite_master ORDER BY type, name");
  EXPECT_TRUE(statement);
  while (true) {
    auto row = statement->step();
    EXPECT_TRUE(row);
    if (!row || !*row) break;
    lines.push_back(statement->column_text(0) + " " + statement->column_text(1) + ": " +
                    statement->column_text(2));
  }
  return lines;
}

std::vector<std::string> columns_of(sqlite3* db, const std::string& table) {
  std::vector<std::string> names;
  auto statement = Statement::prepare(db, "SELECT name FROM pragma_table_info(?) ORDER BY cid");
  EXPECT_TRUE(statement);
  statement->bind(1, table);
  while (true) {
    auto row = statement->step();
    if (!row || !*row) break;
    names.push_back(statement->column_text(0));
  }
  return names;
}

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

// Fresh stores ---------------------------------------------------------------------------

TEST(Migrations, FreshClientStoreIsCreatedAtTheCurrentVersion) {
  auto db = open_memory_db();
  ASSERT_TRUE(migrate(db.get(), StoreKind::client));
  const SchemaVersion version = schema_version(StoreKind::client);
  EXPECT_EQ(version.current, 5);
  // Step 4 (v4_scoped_supersedes) keys `superseded` by entity and field: a version-3
  // build would write rows the table cannot hold. Step 5 (v5_directory) keeps that.
  EXPECT_EQ(version.min_readable, 4);
  EXPECT_EQ(*stored_version(db.get()), version.current);
  EXPECT_EQ(query_int(db.get(), "PRAGMA application_id"), 0x54444843);
  EXPECT_EQ(meta_text(db.get(), "min_readable"), "4");
  EXPECT_EQ(meta_text(db.get(), "migration.0004"), "v4_scoped_supersedes");
  EXPECT_EQ(meta_text(db.get(), "migration.0005"), "v5_directory");
  EXPECT_EQ(meta_text(db.get(), "migration.0001"), "v1_initial");
}

TEST(Migrations, FreshServerStoreIsCreatedAtTheCurrentVersion) {
  auto db = open_memory_db();
  ASSERT_TRUE(migrate(db.get(), StoreKind::server));
  EXPECT_EQ(*stored_version(db.get()), schema_version(StoreKind::server).current);
  EXPECT_EQ(query_int(db.get(), "PRAGMA application_id"), 0x54444853);
  EXPECT_EQ(schema_version(StoreKind::server).current, 6);
  // Step 4 (v4_entity_scopes) must not be opened by a server that would store commits
  // without recording their entities (nor, since step 3, accept writes under a retired
  // compartment key generation, nor, since step 2, ignore the grants); step 5
  // (v6_backfill) not by one that would read a pull token as a log position.
  EXPECT_EQ(meta_text(db.get(), "min_readable"), "5");
  EXPECT_EQ(meta_text(db.get(), "migration.0004"), "v4_entity_scopes");
  EXPECT_EQ(meta_text(db.get(), "migration.0005"), "v6_backfill");
  // Step 6 (v7_refusal_digest) only adds a column an older server ignores.
  EXPECT_EQ(meta_text(db.get(), "migration.0006"), "v7_refusal_digest");
  EXPECT_EQ(query_int(db.get(), "SELECT count(*) FROM pragma_table_info('refused_commits') WHERE name = 'digest'"), 1);
  EXPECT_EQ(meta_text(db.get(), "migration.0002"), "v2_access");
  EXPECT_EQ(meta_text(db.get(), "migration.0003"), "v3_compartment");
}

TEST(Migrations, StoreTablesHaveTheAgreedColumns) {
  const std::pair<StoreKind, std::vector<std::pair<std::string, std::vector<std::string>>>>
      stores[] = {
          {StoreKind::client,
           {{"meta", {"key", "value"}},
            {"commits",
             {"device", "seq", "scope", "scope_type", "hlc", "body", "signature", "server_seq"}},
            {"entities", {"id", "type", "scope", "created_hlc"}},
            {"versions", {"device", "seq", "idx", "entity", "field", "value", "hlc", "live"}},
            {"superseded", {"entity", "field", "device", "seq", "idx"}},
            {"fields", {"entity", "field", "value", "hlc", "device", "live_count"}}}},
          {StoreKind::server,
           {{"meta", {"key", "value"}},
            {"offices", {"code", "name", "kind", "region", "parent", "created_at"}},
            {"enrollments",
             {"code_id", "office", "user", "role", "shelter", "expires_at", "issued_at", "used_by",
              "used_at"}},
            {"devices",
             {"device_id", "sign_key", "office", "user", "role", "shelter", "code_id",
              "registered_at", "revoked_at", "last_seen_at", "cleared_at"}},
            {"log",
             {"server_seq", "device", "seq", "scope", "scope_type", "body", "signature",
              "received_at"}},
            {"scopes", {"scope", "type", "owner_office", "created_by"}},
            {"entity_scopes", {"entity", "scope", "type"}},
            {"compartments", {"compartment", "generation", "rotation_pending"}},
            {"key_wraps",
             {"recipient", "compartment", "generation", "sealed", "signature", "created_at"}},
            {"pull_tokens", {"id", "device", "gain_at", "base", "last"}}}},
      };
  for (const auto& [kind, tables] : stores) {
    auto db = open_memory_db();
    ASSERT_TRUE(migrate(db.get(), kind));
    for (const auto& [table, columns] : tables)
      EXPECT_EQ(columns_of(db.get(), table), columns) << table;
  }
}

TEST(Migrations, MigratingACurrentStoreChangesNothing) {
  auto db = open_memory_db();
  ASSERT_TRUE(migrate(db.get(), StoreKind::client));
  const auto before = schema_of(db.get());
  ASSERT_TRUE(migrate(db.get(), StoreKind::client));
  EXPECT_EQ(schema_of(db.get()), before);
  EXPECT_EQ(*stored_version(db.get()), schema_version(StoreKind::client).current);
}

TEST(Migrations, VersionThreeSupersededRowsAreKeyedByTheirVersionsEntityAndField) {
  auto db = open_memory_db();
  const auto steps = migration_steps(StoreKind::client);
  ASSERT_TRUE(migrate_with_steps(db.get(), StoreKind::client, steps.first(3)));
  // One superseded id whose version is held, one whose version has not arrived.
  ASSERT_TRUE(exec(db.get(),
                   "INSERT INTO versions (device, seq, idx, entity, field, value, hlc, live) "
                   "VALUES (x'd1', 1, 0, x'e1', 'status', 'baru', 1, 0);"
                   "INSERT INTO superseded (device, seq, idx) VALUES (x'd1', 1, 0), (x'd2', 9, 0);"));
  ASSERT_TRUE(migrate(db.get(), StoreKind::client));
  EXPECT_EQ(*stored_version(db.get()), schema_version(StoreKind::client).current);
  EXPECT_EQ(query_int(db.get(), "SELECT count(*) FROM superseded"), 1);
  EXPECT_EQ(query_int(db.get(), "SELECT count(*) FROM superseded WHERE entity = x'e1' AND field = 'status' "
                                "AND device = x'd1' AND seq = 1 AND idx = 0"),
            1);
  // The rest comes from the commit bodies, which the client store rebuilds on open.
  EXPECT_EQ(meta_text(db.get(), "merge_rebuild"), "1");
}

TEST(Migrations, VersionThreeServerStoreIsMarkedForItsEntityScopesToBeFilled) {
  auto db = open_memory_db();
  const auto steps = migration_steps(StoreKind::server);
  ASSERT_TRUE(migrate_with_steps(db.get(), StoreKind::server, steps.first(3)));
  ASSERT_TRUE(migrate(db.get(), StoreKind::server));
  EXPECT_EQ(query_int(db.get(), "SELECT count(*) FROM entity_scopes"), 0);
  EXPECT_EQ(meta_text(db.get(), "entity_scopes_fill"), "1");
}

TEST(Migrations, ServerLogNeverReusesASequenceNumber) {
  auto db = open_memory_db();
  ASSERT_TRUE(migrate(db.get(), StoreKind::server));
  const std::string insert =
      "INSERT INTO log (device, seq, scope, scope_type, body, signature, received_at) "
      "VALUES (x'01', ?, x'02', 'kasus', x'', x'', 0)";
  for (std::int64_t seq = 1; seq <= 2; ++seq) {
    auto statement = Statement::prepare(db.get(), insert);
    ASSERT_TRUE(statement);
    statement->bind(1, seq);
    ASSERT_TRUE(statement->run());
  }
  ASSERT_TRUE(exec(db.get(), "DELETE FROM log WHERE seq = 2"));
  auto statement = Statement::prepare(db.get(), insert);
  statement->bind(1, std::int64_t{3});
  ASSERT_TRUE(statement->run());
  EXPECT_EQ(query_int(db.get(), "SELECT max(server_seq) FROM log"), 3);
}

// Refusals -----------------------------------------------------------------------------

TEST(Migrations, PlainDatabaseWithTablesIsNotAStore) {
  auto db = open_memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE pengaduan (id INTEGER PRIMARY KEY, nama TEXT)"));
  auto result = migrate(db.get(), StoreKind::client);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::not_a_store);
  EXPECT_NE(result.error().message.find("not a Teduh client store"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(query_int(db.get(), "PRAGMA application_id"), 0);
  EXPECT_EQ(*stored_version(db.get()), 0);
}

TEST(Migrations, ServerStoreIsNotAClientStore) {
  auto db = open_memory_db();
  ASSERT_TRUE(migrate(db.get(), StoreKind::server));
  auto result = migrate(db.get(), StoreKind::client);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::not_a_store);
  EXPECT_NE(result.error().message.find("it is a Teduh server store"), std::string::npos)
      << result.error().message;
}

TEST(Migrations, EmptyDatabaseWithAForeignVersionIsNotAStore) {
  auto db = open_memory_db();
  ASSERT_TRUE(exec(db.get(), "PRAGMA user_version = 3"));
  auto result = migrate(db.get(), StoreKind::client);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::not_a_store);
}

TEST(Migrations, NewerStoreIsRefusedAndLeftUntouched) {
  TempDir dir;
  const auto path = dir / "klien-baru.sqlite";
  const int future = schema_version(StoreKind::client).current + 5;
  {
    auto db = open_db(path);
    ASSERT_TRUE(migrate(db.get(), StoreKind::client));
    ASSERT_TRUE(exec(db.get(), "PRAGMA user_version = " + std::to_string(future)));
    ASSERT_TRUE(exec(db.get(), "UPDATE meta SET value = " + std::to_string(future - 1) +
                                   " WHERE key = 'min_readable'"));
  }
  const std::string bytes_before = file_bytes(path);
  const auto mtime_before = std::filesystem::last_write_time(path);
  {
    auto db = open_db(path);
    auto result = migrate(db.get(), StoreKind::client);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, Errc::newer_version);
    EXPECT_NE(result.error().message.find("schema version " + std::to_string(future)),
              std::string::npos)
        << result.error().message;
    EXPECT_EQ(*stored_version(db.get()), future);
  }
  EXPECT_EQ(file_bytes(path), bytes_before);
  EXPECT_EQ(std::filesystem::last_write_time(path), mtime_before);
  EXPECT_FALSE(std::filesystem::exists(dir / "klien-baru.sqlite-journal"));
}

TEST(Migrations, NewerStoreWithoutMinReadableIsRefused) {
  auto db = open_memory_db();
  ASSERT_TRUE(migrate(db.get(), StoreKind::server));
  ASSERT_TRUE(
      exec(db.get(), "DELETE FROM meta WHERE key = 'min_readable'; PRAGMA user_version = 9"));
  auto result = migrate(db.get(), StoreKind::server);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::newer_version);
}

TEST(Migrations, NewerStoreThatOldBuildsCanReadIsOpened) {
  auto db = open_memory_db();
  ASSERT_TRUE(migrate(db.get(), StoreKind::client));
  const int current = schema_version(StoreKind::client).current;
  ASSERT_TRUE(exec(db.get(), "PRAGMA user_version = " + std::to_string(current + 1)));
  ASSERT_TRUE(migrate(db.get(), StoreKind::client));
  EXPECT_EQ(*stored_version(db.get()), current + 1) << "an older build never lowers the version";
}

TEST(Migrations, FileThatIsNotADatabaseIsDamaged) {
  TempDir dir;
  const auto path = dir / "acak.sqlite";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 512; ++i) out << "bukan sqlite ";
  }
  auto db = open_db(path);
  auto result = migrate(db.get(), StoreKind::client);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::damaged);
}

// Upgrades, with a made-up list of steps ---------------------------------------------

Result<void> fill_lengths(sqlite3* db) {
  return exec(db, "UPDATE catatan SET panjang = length(teks)");
}
Result<void> failing_apply(sqlite3*) { return fail(Errc::sql, "data migration failed on purpose"); }

constexpr std::string_view kUjiV1 =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE catatan (id INTEGER PRIMARY KEY, teks TEXT NOT NULL);";

constexpr MigrationStep kUjiSteps[] = {
    {.name = "v1_uji", .sql = kUjiV1, .min_readable = 1},
    {.name = "v2_panjang",
     .sql = "ALTER TABLE catatan ADD COLUMN panjang INTEGER NOT NULL DEFAULT 0;",
     .min_readable = 1,
     .apply = &fill_lengths},
    {.name = "v3_makna_baru",
     .sql = "CREATE TABLE label (id INTEGER PRIMARY KEY);",
     .min_readable = 3},
};

TEST(Migrations, OlderStoreIsUpgradedStepByStepKeepingItsData) {
  auto db = open_memory_db();
  const std::span<const MigrationStep> steps = kUjiSteps;
  ASSERT_TRUE(migrate_with_steps(db.get(), StoreKind::client, steps.first(1)));
  EXPECT_EQ(*stored_version(db.get()), 1);
  ASSERT_TRUE(exec(db.get(), "INSERT INTO catatan (teks) VALUES ('Catatan-Uji-01'), ('abc')"));

  ASSERT_TRUE(migrate_with_steps(db.get(), StoreKind::client, steps.first(2)));
  EXPECT_EQ(*stored_version(db.get()), 2);
  EXPECT_EQ(query_int(db.get(), "SELECT sum(panjang) FROM catatan"), 14 + 3);
  EXPECT_EQ(meta_text(db.get(), "migration.0001"), "v1_uji");
  EXPECT_EQ(meta_text(db.get(), "migration.0002"), "v2_panjang");
  EXPECT_EQ(meta_text(db.get(), "min_readable"), "1");

  // A v1 build still opens it: the v2 step only added.
  EXPECT_TRUE(migrate_with_steps(db.get(), StoreKind::client, steps.first(1)));

  ASSERT_TRUE(migrate_with_steps(db.get(), StoreKind::client, steps));
  EXPECT_EQ(*stored_version(db.get()), 3);
  EXPECT_EQ(meta_text(db.get(), "min_readable"), "3");
  // Now the v1 and v2 builds may not.
  auto old = migrate_with_steps(db.get(), StoreKind::client, steps.first(2));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code, Errc::newer_version);
}

TEST(Migrations, FreshStoreRunsEveryStep) {
  auto db = open_memory_db();
  ASSERT_TRUE(migrate_with_steps(db.get(), StoreKind::client, kUjiSteps));
  EXPECT_EQ(*stored_version(db.get()), 3);
  EXPECT_EQ(columns_of(db.get(), "catatan"), (std::vector<std::string>{"id", "teks", "panjang"}));
}

TEST(Migrations, FailedStepLeavesTheStoreAtThePreviousVersion) {
  const MigrationStep broken_sql[] = {
      kUjiSteps[0],
      {.name = "v2_rusak", .sql = "CREATE TABLE sisa (a); CREATE TABLE rusak (", .min_readable = 1},
  };
  const MigrationStep broken_apply[] = {
      kUjiSteps[0],
      {.name = "v2_gagal",
       .sql = "CREATE TABLE sisa (a);",
       .min_readable = 1,
       .apply = &failing_apply},
  };
  for (std::span<const MigrationStep> steps :
       {std::span<const MigrationStep>(broken_sql), std::span<const MigrationStep>(broken_apply)}) {
    SCOPED_TRACE(std::string(steps[1].name));
    auto db = open_memory_db();
    ASSERT_TRUE(migrate_with_steps(db.get(), StoreKind::client, steps.first(1)));
    auto result = migrate_with_steps(db.get(), StoreKind::client, steps);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find(std::string(steps[1].name)), std::string::npos)
        << result.error().message;
    EXPECT_EQ(*stored_version(db.get()), 1);
    EXPECT_EQ(query_int(db.get(), "SELECT count(*) FROM sqlite_master WHERE name = 'sisa'"), 0);
    EXPECT_EQ(meta_text(db.get(), "migration.0002"), "<none>");
    EXPECT_NE(sqlite3_get_autocommit(db.get()), 0) << "no transaction left open";
  }
}

TEST(Migrations, FailedFirstStepLeavesAnEmptyDatabase) {
  const MigrationStep broken[] = {
      {.name = "v1_rusak", .sql = "CREATE TABLE a (x); SELEKT", .min_readable = 1}};
  auto db = open_memory_db();
  ASSERT_FALSE(migrate_with_steps(db.get(), StoreKind::client, broken));
  EXPECT_EQ(query_int(db.get(), "PRAGMA application_id"), 0);
  EXPECT_EQ(query_int(db.get(), "SELECT count(*) FROM sqlite_master"), 0);
}

// Golden v1 stores ---------------------------------------------------------------------
//
// tests/data/schema/{client,server}-v1.sqlite were written once by write_golden() below
// (run the tests with TEDUH_WRITE_GOLDEN=1 to write them again, which should never be
// needed: a v1 store in the field does not change either). Every later build must open
// them and, after migrate(), hold the same schema as a store created fresh.

const std::vector<std::uint8_t> kDevice = bytes_of("perangkat-uji-01");  // 16 bytes
const std::vector<std::uint8_t> kScope = bytes_of("lingkup-kasus-01");
const std::vector<std::uint8_t> kEntity = bytes_of("entitas-kasus-01");

void write_golden_rows(sqlite3* db, StoreKind kind) {
  if (kind == StoreKind::client) {
    ASSERT_TRUE(exec(db, "INSERT INTO meta VALUES ('golden', 'client v1, data uji buatan')"));
    auto commit = Statement::prepare(
        db, "INSERT INTO commits VALUES (?1, 1, ?2, 'kasus', 1767225600000, ?3, ?4, 7)");
    ASSERT_TRUE(commit);
    commit->bind_blob(1, kDevice)
        .bind_blob(2, kScope)
        .bind_blob(3, bytes_of("isi-commit"))
        .bind_blob(4, bytes_of("tanda-tangan"));
    ASSERT_TRUE(commit->run());
    auto entity =
        Statement::prepare(db, "INSERT INTO entities VALUES (?1, 'kasus', ?2, 1767225600000)");
    entity->bind_blob(1, kEntity).bind_blob(2, kScope);
    ASSERT_TRUE(entity->run());
    auto version = Statement::prepare(
        db, "INSERT INTO versions VALUES (?1, 1, 0, ?2, 'status', 'diterima', 1767225600000, 1)");
    version->bind_blob(1, kDevice).bind_blob(2, kEntity);
    ASSERT_TRUE(version->run());
    auto field = Statement::prepare(
        db, "INSERT INTO fields VALUES (?1, 'status', 'diterima', 1767225600000, ?2, 1)");
    field->bind_blob(1, kEntity).bind_blob(2, kDevice);
    ASSERT_TRUE(field->run());
  } else {
    ASSERT_TRUE(exec(db,
                     "INSERT INTO meta VALUES ('golden', 'server v1, data uji buatan');"
                     "INSERT INTO offices VALUES ('UJI-DP3A', 'Kantor Uji', 'dinas', '9901', NULL, "
                     "1767225600)"));
    auto log = Statement::prepare(
        db, "INSERT INTO log VALUES (NULL, ?1, 1, ?2, 'kasus', ?3, ?4, 1767225600)");
    log->bind_blob(1, kDevice)
        .bind_blob(2, kScope)
        .bind_blob(3, bytes_of("isi-commit"))
        .bind_blob(4, bytes_of("tanda-tangan"));
    ASSERT_TRUE(log->run());
    auto scope = Statement::prepare(db, "INSERT INTO scopes VALUES (?1, 'kasus', 'UJI-DP3A', ?2)");
    scope->bind_blob(1, kScope).bind_blob(2, kDevice);
    ASSERT_TRUE(scope->run());
  }
}

void write_golden(const std::filesystem::path& path, StoreKind kind) {
  std::filesystem::remove(path);
  auto db = open_db(path);
  ASSERT_TRUE(exec(db.get(), "PRAGMA page_size = 1024"));  // keeps the files small
  ASSERT_TRUE(migrate_with_steps(db.get(), kind, migration_steps(kind).first(1)));
  write_golden_rows(db.get(), kind);
  ASSERT_TRUE(exec(db.get(), "VACUUM"));
}

void check_golden(StoreKind kind, const std::string& file) {
  const auto golden = kGoldenDir / file;
  if (std::getenv("TEDUH_WRITE_GOLDEN") != nullptr) write_golden(golden, kind);
  ASSERT_TRUE(std::filesystem::exists(golden)) << golden;
  TempDir dir;
  const auto copy = dir / file;
  std::filesystem::copy_file(golden, copy);

  auto db = open_db(copy);
  EXPECT_EQ(*stored_version(db.get()), 1) << "the golden store was written at v1";
  ASSERT_TRUE(migrate(db.get(), kind));
  EXPECT_EQ(*stored_version(db.get()), schema_version(kind).current);

  auto fresh = open_memory_db();
  ASSERT_TRUE(migrate(fresh.get(), kind));
  EXPECT_EQ(schema_of(db.get()), schema_of(fresh.get()));

  if (kind == StoreKind::client) {
    auto statement = Statement::prepare(
        db.get(), "SELECT value, device FROM fields WHERE entity = ? AND field = 'status'");
    statement->bind_blob(1, kEntity);
    ASSERT_TRUE(*statement->step());
    EXPECT_EQ(statement->column_text(0), "diterima");
    EXPECT_EQ(statement->column_blob(1), kDevice);
    EXPECT_EQ(query_int(db.get(), "SELECT server_seq FROM commits WHERE seq = 1"), 7);
  } else {
    EXPECT_EQ(query_int(db.get(), "SELECT count(*) FROM offices WHERE code = 'UJI-DP3A'"), 1);
    EXPECT_EQ(query_int(db.get(), "SELECT server_seq FROM log WHERE seq = 1"), 1);
  }
  // The original is never written to.
  auto original = open_db(golden, SQLITE_OPEN_READONLY);
  EXPECT_EQ(*stored_version(original.get()), 1);
}

TEST(Migrations, GoldenClientV1StoreOpensAndReadsAsCurrent) {
  check_golden(StoreKind::client, "client-v1.sqlite");
}

TEST(Migrations, GoldenServerV1StoreOpensAndReadsAsCurrent) {
  check_golden(StoreKind::server, "server-v1.sqlite");
}

TEST(Migrations, ReadOnlyCurrentStoreOpensWithoutWriting) {
  auto db = open_db(kGoldenDir / "client-v1.sqlite", SQLITE_OPEN_READONLY);
  if (schema_version(StoreKind::client).current != 1)
    GTEST_SKIP() << "the golden store needs an upgrade now";
  EXPECT_TRUE(migrate(db.get(), StoreKind::client));
}

}  // namespace
}  // namespace teduh::schema
