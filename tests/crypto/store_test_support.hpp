#pragma once
#include "support/temp_dir.hpp"
// Helpers for the store tests: a temporary folder per test, SQL helpers, raw file bytes.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "teduh/crypto/encrypted_vfs.hpp"

namespace teduh::crypto::testing {

namespace fs = std::filesystem;

using ::teduh::testing::TempDir;

// Runs SQL; returns the extended result code (SQLITE_OK on success).
inline int run(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  return rc == SQLITE_OK ? SQLITE_OK : sqlite3_extended_errcode(db);
}

inline void must_run(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << (err != nullptr ? err : "");
  sqlite3_free(err);
}

// All rows of a query, each row's columns joined by '|'. rc receives the final code.
inline std::vector<std::string> rows(sqlite3* db, const std::string& sql, int* rc_out = nullptr) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      if (i > 0) row += '|';
      const unsigned char* t = sqlite3_column_text(st, i);
      row += t != nullptr ? reinterpret_cast<const char*>(t) : "NULL";
    }
    out.push_back(row);
    rc = SQLITE_OK;
  }
  if (rc == SQLITE_DONE) rc = SQLITE_OK;
  if (rc != SQLITE_OK) rc = sqlite3_extended_errcode(db);
  sqlite3_finalize(st);
  if (rc_out != nullptr) *rc_out = rc;
  return out;
}

inline std::vector<std::uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline bool contains(const std::vector<std::uint8_t>& hay, const std::string& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

inline void flip_byte(const fs::path& p, std::size_t offset, std::uint8_t mask = 0x01) {
  auto b = read_file(p);
  ASSERT_LT(offset, b.size());
  b[offset] ^= mask;
  write_file(p, b);
}

}  // namespace teduh::crypto::testing
