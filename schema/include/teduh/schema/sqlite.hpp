#pragma once
// Small RAII helpers over SQLite, shared by the client and server stores.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sqlite3.h>

#include "teduh/schema/error.hpp"

namespace teduh::schema {

// Maps the last error of db into an Error (damaged for SQLITE_IOERR_DATA / CORRUPT /
// NOTADB, sql otherwise), with `what` as context.
Error sqlite_error(sqlite3* db, std::string_view what);

[[nodiscard]] Result<void> exec(sqlite3* db, std::string_view sql);

// A prepared statement; finalized on destruction. Binding indices are 1-based. A bind
// that fails (index out of range, ...) is reported by the next step() or run(); empty
// text and empty blobs bind as empty values, not NULL. prepare() refuses SQL text that
// holds more than one statement. column_text/column_blob of NULL give an empty value.
class Statement {
 public:
  [[nodiscard]] static Result<Statement> prepare(sqlite3* db, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::span<const std::uint8_t> blob);
  Statement& bind_null(int index);

  // true: a row is ready; false: done. Errors are values.
  [[nodiscard]] Result<bool> step();
  [[nodiscard]] Result<void> run();  // step until done, for statements without rows
  void reset();        // reset and clear bindings

  [[nodiscard]] std::int64_t column_int(int col) const;
  [[nodiscard]] std::string column_text(int col) const;
  [[nodiscard]] std::vector<std::uint8_t> column_blob(int col) const;
  [[nodiscard]] bool column_is_null(int col) const;

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void note_bind(int rc);
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = SQLITE_OK;  // the first failed bind, reported by the next step()
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() succeeded.
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> begin(sqlite3* db);
  Transaction(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  [[nodiscard]] Result<void> commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace teduh::schema
