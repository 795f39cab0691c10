#include "teduh/schema/sqlite.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <vector>

#include "schema/schema_test_support.hpp"

namespace teduh::schema {
namespace {

using testing::open_db;
using testing::open_memory_db;

std::int64_t count_rows(sqlite3* db) {
  auto statement = Statement::prepare(db, "SELECT count(*) FROM t");
  EXPECT_TRUE(statement);
  EXPECT_TRUE(*statement->step());
  return statement->column_int(0);
}

TEST(Sqlite, StatementBindsAndReadsBackEveryType) {
  auto db = open_memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n TEXT)"));
  const std::vector<std::uint8_t> blob = {0x00, 0x01, 0xFE, 0xFF};
  auto insert = Statement::prepare(db.get(), "INSERT INTO t VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(insert) << insert.error().message;
  insert->bind(1, std::int64_t{-42}).bind(2, "Kasus-Uji-0001").bind_blob(3, blob).bind_null(4);
  ASSERT_TRUE(insert->run());

  auto select = Statement::prepare(db.get(), "SELECT i, s, b, n FROM t");
  ASSERT_TRUE(select);
  auto row = select->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(select->column_int(0), -42);
  EXPECT_EQ(select->column_text(1), "Kasus-Uji-0001");
  EXPECT_EQ(select->column_blob(2), blob);
  EXPECT_TRUE(select->column_is_null(3));
  EXPECT_EQ(select->column_text(3), "");
  EXPECT_FALSE(select->column_is_null(0));
  auto done = select->step();
  ASSERT_TRUE(done);
  EXPECT_FALSE(*done);
}

TEST(Sqlite, EmptyTextAndBlobAreValuesNotNull) {
  auto db = open_memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (s TEXT NOT NULL, b BLOB NOT NULL)"));
  auto insert = Statement::prepare(db.get(), "INSERT INTO t VALUES (?, ?)");
  ASSERT_TRUE(insert);
  insert->bind(1, std::string_view()).bind_blob(2, std::span<const std::uint8_t>());
  ASSERT_TRUE(insert->run());
  auto select = Statement::prepare(db.get(), "SELECT s, b FROM t");
  ASSERT_TRUE(select && *select->step());
  EXPECT_FALSE(select->column_is_null(0));
  EXPECT_FALSE(select->column_is_null(1));
  EXPECT_TRUE(select->column_blob(1).empty());
}

TEST(Sqlite, ResetAllowsTheStatementToRunAgain) {
  auto db = open_memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (i INTEGER)"));
  auto insert = Statement::prepare(db.get(), "INSERT INTO t VALUES (?)");
  ASSERT_TRUE(insert);
  for (std::int64_t i = 0; i < 3; ++i) {
    insert->bind(1, i);
    ASSERT_TRUE(insert->run());
    insert->reset();
  }
  EXPECT_EQ(count_rows(db.get()), 3);
}

TEST(Sqlite, BindOutOfRangeIsReportedByStep) {
  auto db = open_memory_db();
  auto statement = Statement::prepare(db.get(), "SELECT ?");
  ASSERT_TRUE(statement);
  statement->bind(2, std::int64_t{1});
  auto row = statement->step();
  ASSERT_FALSE(row);
  EXPECT_EQ(row.error().code, Errc::sql);
  statement->reset();
  EXPECT_TRUE(statement->step());
}

TEST(Sqlite, PrepareRefusesSyntaxErrorsAndSecondStatements) {
  auto db = open_memory_db();
  auto bad = Statement::prepare(db.get(), "SELEKT 1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::sql);
  EXPECT_NE(bad.error().message.find("syntax error"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(Statement::prepare(db.get(), "SELECT 1; SELECT 2"));
  EXPECT_FALSE(Statement::prepare(db.get(), "   "));
  EXPECT_TRUE(Statement::prepare(db.get(), "SELECT 1; "));
  EXPECT_TRUE(Statement::prepare(db.get(), "SELECT 1; -- a comment\n /* and another */ ;"));
  EXPECT_FALSE(Statement::prepare(db.get(), "SELECT 1; -- a comment\n SELECT 2"));
}

TEST(Sqlite, ConstraintViolationIsAnSqlErrorValue) {
  auto db = open_memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (k TEXT PRIMARY KEY); INSERT INTO t VALUES ('a')"));
  auto insert = Statement::prepare(db.get(), "INSERT INTO t VALUES ('a')");
  ASSERT_TRUE(insert);
  auto result = insert->run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::sql);
  EXPECT_NE(result.error().message.find("UNIQUE"), std::string::npos) << result.error().message;
}

TEST(Sqlite, MovedStatementStillWorks) {
  auto db = open_memory_db();
  auto prepared = Statement::prepare(db.get(), "SELECT 7");
  ASSERT_TRUE(prepared);
  Statement moved = std::move(*prepared);
  auto other = Statement::prepare(db.get(), "SELECT 8");
  ASSERT_TRUE(other);
  moved = std::move(*other);  // finalizes "SELECT 7"
  ASSERT_TRUE(*moved.step());
  EXPECT_EQ(moved.column_int(0), 8);
}

TEST(Sqlite, TransactionRollsBackWhenDestroyedWithoutCommit) {
  auto db = open_memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (i INTEGER)"));
  {
    auto transaction = Transaction::begin(db.get());
    ASSERT_TRUE(transaction);
    ASSERT_TRUE(exec(db.get(), "INSERT INTO t VALUES (1)"));
    EXPECT_EQ(count_rows(db.get()), 1);
  }
  EXPECT_EQ(count_rows(db.get()), 0);
  EXPECT_NE(sqlite3_get_autocommit(db.get()), 0);
}

TEST(Sqlite, CommittedTransactionKeepsItsWrites) {
  auto db = open_memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (i INTEGER)"));
  {
    auto transaction = Transaction::begin(db.get());
    ASSERT_TRUE(transaction);
    ASSERT_TRUE(exec(db.get(), "INSERT INTO t VALUES (1)"));
    ASSERT_TRUE(transaction->commit());
    EXPECT_FALSE(transaction->commit());
  }
  EXPECT_EQ(count_rows(db.get()), 1);
}

TEST(Sqlite, MovedTransactionRollsBackOnce) {
  auto db = open_memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (i INTEGER)"));
  {
    auto transaction = Transaction::begin(db.get());
    ASSERT_TRUE(transaction);
    Transaction moved = std::move(*transaction);
    ASSERT_TRUE(exec(db.get(), "INSERT INTO t VALUES (1)"));
  }
  EXPECT_EQ(count_rows(db.get()), 0);
  // A second transaction can begin: nothing was left open.
  auto next = Transaction::begin(db.get());
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->commit());
}

TEST(Sqlite, NestedBeginIsAnErrorValue) {
  auto db = open_memory_db();
  auto outer = Transaction::begin(db.get());
  ASSERT_TRUE(outer);
  auto inner = Transaction::begin(db.get());
  ASSERT_FALSE(inner);
  EXPECT_EQ(inner.error().code, Errc::sql);
}

TEST(Sqlite, FileThatIsNotADatabaseIsReportedAsDamaged) {
  testing::TempDir dir;
  const auto path = dir / "rusak.sqlite";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 1024; ++i) out << "bukan basis data ";
  }
  auto db = open_db(path);
  auto result = exec(db.get(), "SELECT count(*) FROM sqlite_master");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::damaged) << result.error().message;
}

}  // namespace
}  // namespace teduh::schema
