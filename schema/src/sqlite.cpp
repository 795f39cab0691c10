#include "teduh/schema/sqlite.hpp"

#include <cerrno>
#include <utility>

namespace teduh::schema {
namespace {

// True when the SQL text after the first statement holds no statement (only spaces,
// semicolons and comments): preparing it yields nothing.
bool holds_no_statement(sqlite3* db, const char* tail, const char* end) {
  while (tail < end) {
    sqlite3_stmt* next = nullptr;
    const char* rest = nullptr;
    const int rc = sqlite3_prepare_v2(db, tail, static_cast<int>(end - tail), &next, &rest);
    sqlite3_finalize(next);
    if (rc != SQLITE_OK || next != nullptr) return false;
    if (rest == nullptr || rest <= tail) return true;
    tail = rest;
  }
  return true;
}

}  // namespace

Error sqlite_error(sqlite3* db, std::string_view what) {
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_MISUSE;
  const int primary = extended & 0xFF;
  const bool damaged =
      extended == SQLITE_IOERR_DATA || primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
  // A full disk reaches SQLite as SQLITE_FULL from a write, but as an I/O error from an
  // fsync, a truncate or the shared-memory file; the system errno tells them apart.
  const int sys = db != nullptr && primary == SQLITE_IOERR ? sqlite3_system_errno(db) : 0;
  const bool full = primary == SQLITE_FULL || sys == ENOSPC || sys == EDQUOT;
  const bool busy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : "no database";
  const Errc code = damaged ? Errc::damaged : full ? Errc::full : busy ? Errc::busy : Errc::sql;
  return Error{code, std::move(message)};
}

[[nodiscard]] Result<void> exec(sqlite3* db, std::string_view sql) {
  const std::string text(sql);
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return tl::unexpected(sqlite_error(db, "exec"));
  }
  return {};
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(db, "prepare"));
  Statement statement(db, stmt);
  if (stmt == nullptr) return fail(Errc::sql, "prepare: the SQL text holds no statement");
  // One statement per Statement: a second one would be silently ignored.
  if (tail != nullptr && !holds_no_statement(db, tail, sql.data() + sql.size())) {
    return fail(Errc::sql, "prepare: the SQL text holds more than one statement");
  }
  return statement;
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_rc_(std::exchange(other.bind_rc_, SQLITE_OK)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_rc_ = std::exchange(other.bind_rc_, SQLITE_OK);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::note_bind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Statement& Statement::bind(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  // A null pointer would bind SQL NULL; an empty text is still text.
  const char* data = text.data() != nullptr ? text.data() : "";
  note_bind(sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind_blob(int index, std::span<const std::uint8_t> blob) {
  // As for text: an empty blob must not become NULL.
  if (blob.empty()) {
    note_bind(sqlite3_bind_zeroblob(stmt_, index, 0));
  } else {
    note_bind(sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_TRANSIENT));
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  note_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Statement::step() {
  if (bind_rc_ != SQLITE_OK) {
    return fail(Errc::sql,
                std::string("bind: ") + sqlite3_errstr(bind_rc_) + " in " + sqlite3_sql(stmt_));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error error = sqlite_error(db_, "step");
  sqlite3_reset(stmt_);
  return tl::unexpected(std::move(error));
}

Result<void> Statement::run() {
  for (;;) {
    auto row = TEDUH_TRY(step());
    if (!row) return {};
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

std::int64_t Statement::column_int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::column_text(int col) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  const int size = sqlite3_column_bytes(stmt_, col);
  return text != nullptr ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}

std::vector<std::uint8_t> Statement::column_blob(int col) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
  const int size = sqlite3_column_bytes(stmt_, col);
  return data != nullptr ? std::vector<std::uint8_t>(data, data + size)
                         : std::vector<std::uint8_t>();
}

bool Statement::column_is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

Result<Transaction> Transaction::begin(sqlite3* db) {
  TEDUH_TRY(exec(db, "BEGIN IMMEDIATE"));
  return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) roll the transaction back by themselves;
  // then there is nothing left to roll back.
  if (db_ != nullptr && sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Result<void> Transaction::commit() {
  if (db_ == nullptr) return fail(Errc::sql, "commit: the transaction has already ended");
  if (auto ok = exec(db_, "COMMIT"); !ok) return ok;  // still open: the destructor rolls back
  db_ = nullptr;
  return {};
}

}  // namespace teduh::schema
