// Store schemas and their migrations (SCHEMA.md "Migrations").
//
// A store says what it is and how old it is in its header: PRAGMA application_id names
// the kind (client or server) and PRAGMA user_version counts the migration steps applied.
// The meta table adds min_readable, the oldest schema version that can still read the
// store, so that a step that only adds (a new index, a new table an old build ignores)
// can leave old builds able to open the store, and a step that changes meaning can lock
// them out. Every step runs in one BEGIN IMMEDIATE transaction together with the header
// and meta updates, so a crash leaves the store at the old version or the new one.
#include "teduh/schema/migrations.hpp"

#include <cstdio>
#include <string>

#include "teduh/schema/migration_steps.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh::schema {
namespace {

constexpr std::uint32_t kClientApplicationId = 0x54444843;  // 'TDHC'
constexpr std::uint32_t kServerApplicationId = 0x54444853;  // 'TDHS'

// Version 1 of the office (client) store. See SCHEMA.md for every column.
constexpr std::string_view kClientV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE commits (
  device     BLOB NOT NULL,
  seq        INTEGER NOT NULL,
  scope      BLOB NOT NULL,
  scope_type TEXT NOT NULL,
  hlc        INTEGER NOT NULL,
  body       BLOB NOT NULL,
  signature  BLOB NOT NULL,
  server_seq INTEGER,
  PRIMARY KEY (device, seq)
) WITHOUT ROWID;
CREATE INDEX commits_by_server_seq ON commits (server_seq);
CREATE INDEX commits_unpushed ON commits (device, seq) WHERE server_seq IS NULL;

CREATE TABLE entities (
  id          BLOB PRIMARY KEY,
  type        TEXT NOT NULL,
  scope       BLOB NOT NULL,
  created_hlc INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX entities_by_scope_type ON entities (scope, type);
CREATE INDEX entities_by_type ON entities (type);

CREATE TABLE versions (
  device BLOB NOT NULL,
  seq    INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  entity BLOB NOT NULL,
  field  TEXT NOT NULL,
  value  TEXT NOT NULL,
  hlc    INTEGER NOT NULL,
  live   INTEGER NOT NULL,
  PRIMARY KEY (device, seq, idx)
) WITHOUT ROWID;
CREATE INDEX versions_by_entity_field ON versions (entity, field, hlc);
CREATE INDEX versions_live ON versions (entity, field) WHERE live = 1;

CREATE TABLE superseded (
  device BLOB NOT NULL,
  seq    INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  PRIMARY KEY (device, seq, idx)
) WITHOUT ROWID;

CREATE TABLE fields (
  entity     BLOB NOT NULL,
  field      TEXT NOT NULL,
  value      TEXT NOT NULL,
  hlc        INTEGER NOT NULL,
  device     BLOB NOT NULL,
  live_count INTEGER NOT NULL,
  PRIMARY KEY (entity, field)
) WITHOUT ROWID;
CREATE INDEX fields_in_conflict ON fields (entity) WHERE live_count > 1;
CREATE INDEX fields_by_value ON fields (field, value);
)sql";

// Version 1 of the server store.
constexpr std::string_view kServerV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE offices (
  code       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  kind       TEXT NOT NULL,
  region     TEXT NOT NULL DEFAULT '',
  parent     TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE enrollments (
  code_id    BLOB PRIMARY KEY,
  office     TEXT NOT NULL REFERENCES offices (code),
  user       TEXT NOT NULL,
  role       TEXT NOT NULL,
  shelter    INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  issued_at  INTEGER NOT NULL,
  used_by    BLOB,
  used_at    INTEGER
);

CREATE TABLE devices (
  device_id     BLOB PRIMARY KEY,
  sign_key      BLOB NOT NULL UNIQUE,
  office        TEXT NOT NULL REFERENCES offices (code),
  user          TEXT NOT NULL,
  role          TEXT NOT NULL,
  shelter       INTEGER NOT NULL,
  code_id       BLOB NOT NULL,
  registered_at INTEGER NOT NULL,
  revoked_at    INTEGER,
  last_seen_at  INTEGER
);

CREATE TABLE log (
  server_seq  INTEGER PRIMARY KEY AUTOINCREMENT,
  device      BLOB NOT NULL,
  seq         INTEGER NOT NULL,
  scope       BLOB NOT NULL,
  scope_type  TEXT NOT NULL,
  body        BLOB NOT NULL,
  signature   BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  UNIQUE (device, seq)
);
CREATE INDEX log_by_scope ON log (scope, server_seq);

CREATE TABLE scopes (
  scope        BLOB PRIMARY KEY,
  type         TEXT NOT NULL,
  owner_office TEXT,
  created_by   BLOB
) WITHOUT ROWID;
)sql";

// Version 2 of the server store: who shares which case (PERMISSIONS.md), and the device
// sequence numbers the server refused (so a refused commit does not block later ones).
// min_readable 2: a version-1 server would ignore the grants and serve every case.
constexpr std::string_view kServerV2Access = R"sql(
CREATE TABLE scope_access (
  scope      BLOB NOT NULL,
  office     TEXT NOT NULL,
  via        TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  revoked_at INTEGER,
  PRIMARY KEY (scope, office)
) WITHOUT ROWID;
CREATE INDEX scope_access_by_office ON scope_access (office);

CREATE TABLE access_dirty (
  scope BLOB PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE refused_commits (
  device BLOB NOT NULL,
  seq    INTEGER NOT NULL,
  reason INTEGER NOT NULL,
  at     INTEGER NOT NULL,
  PRIMARY KEY (device, seq)
) WITHOUT ROWID;
)sql";

// Version 3 of the server store: the shelter compartment (PROTOCOL.md section 5D). Which
// devices an administrator cleared, each compartment's current key generation, and the
// key wraps: sealed boxes and administrator signatures only, never a key in clear.
// min_readable 3: a version-2 server would accept writes under a retired generation.
constexpr std::string_view kServerV3Compartment = R"sql(
ALTER TABLE devices ADD COLUMN cleared_at INTEGER;

CREATE TABLE compartments (
  compartment      TEXT PRIMARY KEY,
  generation       INTEGER NOT NULL,
  rotation_pending INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE key_wraps (
  recipient   BLOB NOT NULL,
  compartment TEXT NOT NULL,
  generation  INTEGER NOT NULL,
  sealed      BLOB NOT NULL,
  signature   BLOB NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (recipient, compartment, generation)
) WITHOUT ROWID;
)sql";

// Version 4 of the server store: the scope and type of every entity, fixed by the first
// stored commit that writes it (PROTOCOL.md section 5, "Entities and scopes"). The server
// refuses a commit that names an entity under another scope or type. Filling the table
// from the log needs the entities inside the commit bodies, so the step leaves meta
// `entity_scopes_fill` = 1 and teduhd fills it, in log order, the next time it opens the
// store (server/src/sqlite_storage.cpp), before it serves anyone.
// min_readable 4: a version-3 server would store commits without recording their
// entities, and accept versions of another case's entities.
constexpr std::string_view kServerV4EntityScopes = R"sql(
CREATE TABLE entity_scopes (
  entity BLOB PRIMARY KEY,
  scope  BLOB NOT NULL,
  type   TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('entity_scopes_fill', '1')
  ON CONFLICT (key) DO UPDATE SET value = excluded.value;
)sql";

// Server step v6_backfill: pull tokens, the positions inside the backfill of cases an
// office gained after its devices synced (PROTOCOL.md section 5B). A pull cursor of 2^62
// or more names a row here. min_readable 5, this step's own version: an older server
// would read a device's token as a log position past its head and send it nothing again.
constexpr std::string_view kServerV6Backfill = R"sql(
CREATE TABLE pull_tokens (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  device  BLOB NOT NULL,
  gain_at INTEGER NOT NULL,
  base    INTEGER NOT NULL,
  last    INTEGER NOT NULL
);
CREATE INDEX pull_tokens_by_device ON pull_tokens (device, gain_at);
)sql";

// Server step v7_refusal_digest: the digest of each refused commit's body, so that a
// different commit sent later under a refused seq (a device restored from an older copy)
// is told apart from the refused one sent again (SCHEMA.md section 4.11). Rows written
// before this step keep NULL. An older teduhd ignores the column: min_readable stays.
constexpr std::string_view kServerV7RefusalDigest = R"sql(
ALTER TABLE refused_commits ADD COLUMN digest BLOB;
)sql";

// Version 2 of the client store: the de-identified case projections a central office
// device receives (PROTOCOL.md section 5C), kept as the server signed them.
constexpr std::string_view kClientV2Projections = R"sql(
CREATE TABLE projections (
  scope      BLOB PRIMARY KEY,
  server_seq INTEGER NOT NULL,
  body       TEXT NOT NULL,
  signature  BLOB NOT NULL
) WITHOUT ROWID;
)sql";

// Version 3 of the client store: fewer pages and index entries per pulled version
// (BENCHMARKS.md, "Pull into a fresh office").
// - `commits` becomes a rowid table. As WITHOUT ROWID its rows (about 1,100 bytes: the
//   signed body and signature) exceeded the 992 bytes a row may keep on its page, so
//   every commit also took a 4 KiB overflow page: half of an office store.
// - `versions_live` goes: the live versions of a field are found through
//   versions_by_entity_field (a field has a handful of versions).
// - `fields_by_value` indexed the value of every field of every entity, for lookups that
//   only ever ask for a case number or a shelter's code name; `fields_by_identifier`
//   keeps just those.
// Old builds read and write the result (same columns, same meaning): min_readable 1.
constexpr std::string_view kClientV3LeanIndexes = R"sql(
CREATE TABLE commits_v3 (
  device     BLOB NOT NULL,
  seq        INTEGER NOT NULL,
  scope      BLOB NOT NULL,
  scope_type TEXT NOT NULL,
  hlc        INTEGER NOT NULL,
  body       BLOB NOT NULL,
  signature  BLOB NOT NULL,
  server_seq INTEGER,
  UNIQUE (device, seq)
);
INSERT INTO commits_v3 (device, seq, scope, scope_type, hlc, body, signature, server_seq)
  SELECT device, seq, scope, scope_type, hlc, body, signature, server_seq FROM commits
  ORDER BY device, seq;
DROP TABLE commits;
ALTER TABLE commits_v3 RENAME TO commits;
CREATE INDEX commits_by_server_seq ON commits (server_seq);
CREATE INDEX commits_unpushed ON commits (device, seq) WHERE server_seq IS NULL;

DROP INDEX versions_live;

DROP INDEX fields_by_value;
CREATE INDEX fields_by_identifier ON fields (field, value) WHERE field IN ('number', 'code_name');
)sql";

// Version 4 of the client store: a supersedes list acts only within its own entity and
// field (PROTOCOL.md section 5, "Merge rule"). `superseded` is keyed by the (entity, field)
// of the version that named the id as well as by the id, so a version cannot erase
// versions of another entity or field, whatever ids it lists. The rows SQL can place are
// kept here (an id whose version is held, under that version's entity and field); the
// exact table needs the supersedes lists inside the commit bodies, so the step leaves
// meta `merge_rebuild` = 1 and the client rebuilds `superseded`, `versions.live` and
// `fields` from `commits` the next time it opens the store (client/src/store.cpp).
// min_readable 4: a version-3 build would write rows this table cannot hold.
constexpr std::string_view kClientV4ScopedSupersedes = R"sql(
CREATE TABLE superseded_v4 (
  entity BLOB NOT NULL,
  field  TEXT NOT NULL,
  device BLOB NOT NULL,
  seq    INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  PRIMARY KEY (entity, field, device, seq, idx)
) WITHOUT ROWID;
INSERT OR IGNORE INTO superseded_v4 (entity, field, device, seq, idx)
  SELECT v.entity, v.field, s.device, s.seq, s.idx FROM superseded s
  JOIN versions v ON v.device = s.device AND v.seq = s.seq AND v.idx = s.idx;
DROP TABLE superseded;
ALTER TABLE superseded_v4 RENAME TO superseded;
INSERT INTO meta (key, value) VALUES ('merge_rebuild', '1')
  ON CONFLICT (key) DO UPDATE SET value = excluded.value;
)sql";

// The directory step of the client store (named v5_directory; it is an independent step
// and keeps its name whatever its position): the offices and device signing keys the
// server lists at every sync (WIRE.md "Directory"), and the server's refusals of this
// device's own commits. Older builds ignore the three tables: min_readable stays at step 4's.
constexpr std::string_view kClientV5Directory = R"sql(
CREATE TABLE directory_offices (
  code   TEXT PRIMARY KEY,
  name   TEXT NOT NULL,
  kind   TEXT NOT NULL,
  region TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE directory_devices (
  device   BLOB PRIMARY KEY,
  sign_key BLOB NOT NULL,
  office   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE refused_commits (
  seq    INTEGER PRIMARY KEY,
  reason INTEGER NOT NULL,
  detail TEXT NOT NULL
);
)sql";

constexpr MigrationStep kClientSteps[] = {
    {.name = "v1_initial", .sql = kClientV1, .min_readable = 1},
    {.name = "v2_projections", .sql = kClientV2Projections, .min_readable = 1},
    {.name = "v3_lean_indexes", .sql = kClientV3LeanIndexes, .min_readable = 1},
    {.name = "v4_scoped_supersedes", .sql = kClientV4ScopedSupersedes, .min_readable = 4},
    {.name = "v5_directory", .sql = kClientV5Directory, .min_readable = 4},
};

constexpr MigrationStep kServerSteps[] = {
    {.name = "v1_initial", .sql = kServerV1, .min_readable = 1},
    {.name = "v2_access", .sql = kServerV2Access, .min_readable = 2},
    {.name = "v3_compartment", .sql = kServerV3Compartment, .min_readable = 3},
    {.name = "v4_entity_scopes", .sql = kServerV4EntityScopes, .min_readable = 4},
    {.name = "v6_backfill", .sql = kServerV6Backfill, .min_readable = 5},
    {.name = "v7_refusal_digest", .sql = kServerV7RefusalDigest, .min_readable = 5},
};

std::string_view kind_name(StoreKind kind) {
  return kind == StoreKind::client ? "client" : "server";
}

std::string hex32(std::uint32_t value) {
  char buffer[11];
  std::snprintf(buffer, sizeof buffer, "0x%08X", value);
  return buffer;
}

[[nodiscard]] Result<std::int64_t> single_int(sqlite3* db, std::string_view sql) {
  auto statement = TEDUH_TRY(Statement::prepare(db, sql));
  auto row = TEDUH_TRY(statement.step());
  if (!row) return fail(Errc::sql, std::string(sql) + ": no row");
  return statement.column_int(0);
}

// What a store's header and catalogue say, read without writing anything.
struct StoreState {
  std::uint32_t application_id;
  int user_version;
  std::int64_t objects;  // tables, indexes, views, triggers
  bool operator==(const StoreState&) const = default;
};

[[nodiscard]] Result<StoreState> read_state(sqlite3* db) {
  auto app = TEDUH_TRY(single_int(db, "PRAGMA application_id"));
  auto version = TEDUH_TRY(single_int(db, "PRAGMA user_version"));
  auto objects = TEDUH_TRY(single_int(db, "SELECT count(*) FROM sqlite_master"));
  return StoreState{static_cast<std::uint32_t>(app), static_cast<int>(version), objects};
}

// The min_readable a (newer) store records, or nullopt when it records none.
[[nodiscard]] Result<std::optional<std::int64_t>> stored_min_readable(sqlite3* db) {
  auto has_meta =
      single_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (!has_meta) return tl::unexpected(has_meta.error());
  if (*has_meta == 0) return std::optional<std::int64_t>();
  auto statement = TEDUH_TRY(Statement::prepare(db, "SELECT value FROM meta WHERE key = 'min_readable'"));
  auto row = TEDUH_TRY(statement.step());
  if (!row || statement.column_is_null(0)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(statement.column_int(0));
}

[[nodiscard]] Result<void> set_meta(sqlite3* db, std::string_view key, std::int64_t int_value,
                      std::string_view text_value, bool is_text) {
  auto statement = TEDUH_TRY(Statement::prepare(db,
                                      "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT "
                                      "(key) DO UPDATE SET value = excluded.value"));
  statement.bind(1, key);
  if (is_text) {
    statement.bind(2, text_value);
  } else {
    statement.bind(2, int_value);
  }
  return statement.run();
}

// Applies steps[version] inside the caller's transaction.
[[nodiscard]] Result<void> apply_step(sqlite3* db, StoreKind kind, const MigrationStep& step, int version,
                        bool fresh) {
  const auto context = [&](const Error& e) {
    return tl::unexpected(Error{e.code, "migration " + std::string(step.name) + " of the " +
                                            std::string(kind_name(kind)) + " store: " + e.message});
  };
  if (fresh) {
    auto ok = exec(db, "PRAGMA application_id = " +
                           std::to_string(static_cast<std::int32_t>(application_id(kind))));
    if (!ok) return context(ok.error());
  }
  if (auto ok = exec(db, step.sql); !ok) return context(ok.error());
  if (step.apply != nullptr) {
    if (auto ok = step.apply(db); !ok) return context(ok.error());
  }
  const int next = version + 1;
  if (auto ok = exec(db, "PRAGMA user_version = " + std::to_string(next)); !ok)
    return context(ok.error());
  if (auto ok = set_meta(db, "min_readable", step.min_readable, {}, false); !ok)
    return context(ok.error());
  char key[32];
  std::snprintf(key, sizeof key, "migration.%04d", next);
  if (auto ok = set_meta(db, key, 0, step.name, true); !ok) return context(ok.error());
  return {};
}

}  // namespace

std::uint32_t application_id(StoreKind kind) {
  return kind == StoreKind::client ? kClientApplicationId : kServerApplicationId;
}

std::span<const MigrationStep> migration_steps(StoreKind kind) {
  if (kind == StoreKind::client) return kClientSteps;
  return kServerSteps;
}

SchemaVersion schema_version(StoreKind kind) {
  const auto steps = migration_steps(kind);
  return SchemaVersion{static_cast<int>(steps.size()), steps.back().min_readable};
}

[[nodiscard]] Result<void> migrate(sqlite3* db, StoreKind kind) {
  return migrate_with_steps(db, kind, migration_steps(kind));
}

[[nodiscard]] Result<void> migrate_with_steps(sqlite3* db, StoreKind kind, std::span<const MigrationStep> steps) {
  const int current = static_cast<int>(steps.size());
  const std::uint32_t expected_id = application_id(kind);
  const std::uint32_t other_id =
      application_id(kind == StoreKind::client ? StoreKind::server : StoreKind::client);
  // One step per round (a fresh store: all of them in one). Each round looks at the store
  // first, without writing, and looks again inside the transaction: another process may
  // have migrated meanwhile.
  for (;;) {
    auto seen = TEDUH_TRY(read_state(db));
    const bool fresh = seen.application_id == 0 && seen.user_version == 0 && seen.objects == 0;
    if (!fresh && seen.application_id != expected_id) {
      std::string message =
          "this database is not a Teduh " + std::string(kind_name(kind)) + " store";
      if (seen.application_id == other_id) {
        message += "; it is a Teduh " +
                   std::string(kind_name(kind == StoreKind::client ? StoreKind::server
                                                                   : StoreKind::client)) +
                   " store";
      } else {
        message += " (application id " + hex32(seen.application_id) + ", " +
                   std::to_string(seen.objects) + " schema objects)";
      }
      return fail(Errc::not_a_store, std::move(message));
    }
    const int version = seen.user_version;
    if (version == current) return {};
    if (version > current) {
      auto min_readable = TEDUH_TRY(stored_min_readable(db));
      if (min_readable && *min_readable <= current) return {};
      return fail(Errc::newer_version,
                  "the " + std::string(kind_name(kind)) + " store is at schema version " +
                      std::to_string(version) +
                      (min_readable ? " and can be read by schema version " +
                                           std::to_string(*min_readable) + " or later"
                                     : std::string()) +
                      "; this Teduh reads schema versions up to " + std::to_string(current) +
                      ". Install a newer Teduh to open it.");
    }
    if (version < 0) return fail(Errc::not_a_store, "the store has a negative schema version");

    auto transaction = TEDUH_TRY(Transaction::begin(db));
    auto now = TEDUH_TRY(read_state(db));
    if (!(now == seen)) continue;  // rolled back by the destructor; look again
    // A fresh store takes every step in this one transaction: it is created whole or not
    // at all (a crash cannot leave it half made), and one commit writes its pages once.
    const int last = fresh ? current : version + 1;
    for (int v = version; v < last; ++v) {
      if (auto ok =
              apply_step(db, kind, steps[static_cast<std::size_t>(v)], v, fresh && v == version);
          !ok)
        return ok;
    }
    if (auto ok = transaction.commit(); !ok) return ok;
  }
}

[[nodiscard]] Result<int> stored_version(sqlite3* db) {
  auto version = TEDUH_TRY(single_int(db, "PRAGMA user_version"));
  return static_cast<int>(version);
}

}  // namespace teduh::schema
