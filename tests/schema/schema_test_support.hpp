#pragma once
#include "support/temp_dir.hpp"
// Temporary folders and plain SQLite files for the schema tests. The schema does not
// depend on encryption, so these tests use ordinary (unencrypted) database files.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

namespace teduh::schema::testing {

using ::teduh::testing::TempDir;

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

inline Db open_db(const std::filesystem::path& path,
                  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  EXPECT_EQ(rc, SQLITE_OK) << path;
  return Db(db);
}

inline Db open_memory_db() { return open_db(":memory:"); }

}  // namespace teduh::schema::testing
