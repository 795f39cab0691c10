#pragma once
#include "teduh/error.hpp"

namespace teduh::schema {

enum class Errc {
  invalid_value,   // a field value failed validation; message names the field
  unknown_field,   // no such field on this entity type
  unknown_entity,  // no such entity type
  newer_version,   // the store was written by a newer Teduh (user_version > max readable)
  not_a_store,     // the database is not a Teduh store of the expected kind
  sql,             // SQLite reported an error (message carries sqlite3_errmsg)
  damaged,         // SQLite reported damage (SQLITE_IOERR_DATA / SQLITE_CORRUPT)
  busy,            // another connection held the store's lock past the busy timeout (SQLITE_BUSY)
  full,            // the disk (or quota) is full: SQLITE_FULL, or an I/O error with ENOSPC/EDQUOT
};

// The shape of results and errors is teduh/error.hpp's, with this layer's codes.
using Error = teduh::Error<Errc>;
template <class T>
using Result = teduh::Result<T, Errc>;
using teduh::fail;

}  // namespace teduh::schema
