#pragma once
// Store schemas and their migrations, driven by PRAGMA user_version (SCHEMA.md).
//
// Each store kind has an ordered list of named migration steps; step i takes the store
// from version i to i+1, inside one transaction. A store records in its meta table the
// oldest Teduh schema version that can still read it (min_readable); a program opens a
// store when min_readable <= its own current version, and refuses with newer_version
// otherwise, touching nothing.
#include <sqlite3.h>

#include "teduh/schema/error.hpp"

namespace teduh::schema {

enum class StoreKind { client, server };

struct SchemaVersion {
  int current;       // what this build writes
  int min_readable;  // the oldest build version that can read what this build writes
};
SchemaVersion schema_version(StoreKind kind);

// Creates the schema in an empty database, or upgrades an older one to current.
// Fails with not_a_store when the database holds tables but no Teduh application id
// (PRAGMA application_id) of this kind, and newer_version as above.
[[nodiscard]] Result<void> migrate(sqlite3* db, StoreKind kind);

// The version a store is at, without changing it.
[[nodiscard]] Result<int> stored_version(sqlite3* db);

}  // namespace teduh::schema
