#pragma once
// The migration steps behind migrate(), exposed for tests and for tools that print the
// schema history. Programs call migrate(); nothing else should need this header.
#include <sqlite3.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "teduh/schema/error.hpp"
#include "teduh/schema/migrations.hpp"

namespace teduh::schema {

// Step i of a list takes a store from version i to i + 1. A step, once released, is
// never edited: a change to the schema is a new step at the end of the list.
struct MigrationStep {
  std::string_view name;  // e.g. "v1_initial"; recorded in meta as "migration.0001"
  std::string_view sql;   // run with exec(); may hold several statements
  int min_readable;       // the oldest schema version that reads a store after this step
  Result<void> (*apply)(sqlite3* db) = nullptr;  // optional data migration, after `sql`
};

// PRAGMA application_id of each store kind: 'TDHC' (0x54444843) and 'TDHS' (0x54444853).
std::uint32_t application_id(StoreKind kind);

std::span<const MigrationStep> migration_steps(StoreKind kind);

// migrate() with another list of steps (tests use it to check upgrades past v1).
[[nodiscard]] Result<void> migrate_with_steps(sqlite3* db, StoreKind kind, std::span<const MigrationStep> steps);

}  // namespace teduh::schema
