// Upgrading a store of format 1 (WAL frames sealed without their commit size) to format 2
// at its first open (crypto/FORMATS.md section 4, "Stores of format 1").
#include <string>

#include "page_cipher.hpp"

namespace teduh::crypto::detail {

namespace {

bool checkpoint_truncate(sqlite3* db) {
  int log_frames = -1;
  int checkpointed = -1;
  return sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &checkpointed) ==
             SQLITE_OK &&
         log_frames == 0;
}

bool exec(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
}

// Makes SQLite write page 1 again (user_version set to the value it has) and checkpoints
// it, so the main file's page 1 is sealed by format 2.
bool rewrite_page1(sqlite3* db) {
  if (!exec(db, "BEGIN IMMEDIATE")) return false;
  sqlite3_stmt* st = nullptr;
  bool ok = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW;
  const long long version = ok ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  ok = ok && exec(db, "PRAGMA user_version = " + std::to_string(version)) && exec(db, "COMMIT");
  if (!ok) {
    exec(db, "ROLLBACK");
    return false;
  }
  return checkpoint_truncate(db);
}

}  // namespace

void upgrade_to_format2(sqlite3* db, StoreKeys& keys) {
  // Recovery has read the WAL under the format-1 rule by now. Move every frame into the
  // main file and empty the WAL; if another connection holds it, try again at the next open.
  if (!checkpoint_truncate(db)) return;
  // No format-1 frame is left, and this code writes none: from here on this connection
  // accepts format-2 frames only.
  keys.accept_format1_wal = false;
  // Page 1 is sealed by format 2 whenever SQLite writes it; make sure it has been. If
  // this fails the store stays format 1 (harmless: its WAL holds format-2 frames only) and
  // the next open tries again.
  (void)rewrite_page1(db);
}

}  // namespace teduh::crypto::detail
