// The encrypted SQLite backend of Storage (sqlite_storage.hpp). All SQL of the server
// lives in this file.
#include "teduh/server/sqlite_storage.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <system_error>
#include <utility>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/schema/migrations.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::server {
namespace {

namespace fs = std::filesystem;
using schema::Statement;
using schema::Transaction;

Error from_schema(const schema::Error& e) {
  switch (e.code) {
    case schema::Errc::newer_version:
      return {Errc::refused, "the server store was written by a newer Teduh; upgrade teduhd to open it"};
    case schema::Errc::not_a_store:
      return {Errc::refused, "the file is not a Teduh server store"};
    case schema::Errc::damaged:
      return {Errc::damaged, e.message};
    default:
      return {Errc::storage, e.message};
  }
}

template <class T>
[[nodiscard]] Result<T> lift(schema::Result<T> r) {
  return teduh::lift(std::move(r), from_schema);
}

Error from_crypto(const crypto::Error& e, const fs::path& dir) {
  switch (e.code) {
    case crypto::Errc::wrong_passphrase:
      return {Errc::refused, "the passphrase does not open the server store in " + dir.string()};
    case crypto::Errc::missing_key_file:
      return {Errc::refused, dir.string() + " holds no Teduh server store (no key file)"};
    case crypto::Errc::not_a_store:
      return {Errc::refused, "the files in " + dir.string() + " are not a Teduh server store"};
    case crypto::Errc::already_exists:
      return {Errc::already_exists, dir.string() + " already holds a server store"};
    case crypto::Errc::damaged:
      return {Errc::damaged, "the server store in " + dir.string() + " is damaged: " + e.message};
    default:
      return {Errc::storage, e.message};
  }
}

std::span<const std::uint8_t> as_bytes(const sync::Id128& id) { return {id.bytes.data(), id.bytes.size()}; }

template <std::size_t N>
bool copy_fixed(const std::vector<std::uint8_t>& blob, std::array<std::uint8_t, N>& out) {
  if (blob.size() != N) return false;
  std::copy(blob.begin(), blob.end(), out.begin());
  return true;
}

Error damaged_row(std::string_view table) {
  return {Errc::damaged, "a row of the " + std::string(table) + " table has a malformed key or id"};
}

std::optional<std::int64_t> optional_int(const Statement& s, int col) {
  if (s.column_is_null(col)) return std::nullopt;
  return s.column_int(col);
}

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(crypto::DbHandle db) : db_(std::move(db)) {}

  // A deferred BEGIN: the snapshot is taken at the first read and costs no lock that
  // blocks a writer (WAL). COMMIT of a read-only transaction cannot lose anything.
  [[nodiscard]] Result<void> begin_read() override {
    if (reading_ || sqlite3_get_autocommit(db()) == 0) return {};
    if (auto r = lift(schema::exec(db(), "BEGIN")); !r) return r;
    reading_ = true;
    return {};
  }

  void end_read() override {
    if (!reading_) return;
    reading_ = false;
    if (sqlite3_get_autocommit(db()) != 0) return;  // an error already ended it
    if (sqlite3_exec(db(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      sqlite3_exec(db(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  [[nodiscard]] Result<std::optional<crypto::SecretBytes>> load_secret(std::string_view name) override {
    auto st = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT value FROM meta WHERE key = ?1")));
    st.bind(1, name);
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) return std::optional<crypto::SecretBytes>{};
    auto blob = st.column_blob(0);
    auto secret = crypto::SecretBytes::copy_of(blob);
    sodium_memzero(blob.data(), blob.size());
    return std::optional<crypto::SecretBytes>{std::move(secret)};
  }

  [[nodiscard]] Result<void> store_secret(std::string_view name, crypto::ByteView value) override {
    end_read();
    auto st = TEDUH_TRY(lift(Statement::prepare(db(), "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING")));
    st.bind(1, name).bind_blob(2, value);
    if (auto r = lift(st.run()); !r) return r;
    if (sqlite3_changes(db()) != 1) return fail(Errc::already_exists, "the server store already holds this secret");
    return {};
  }

  [[nodiscard]] Result<void> add_office(const OfficeRecord& o) override {
    end_read();
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "INSERT INTO offices(code, name, kind, region, parent, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT DO NOTHING")));
    st.bind(1, o.code).bind(2, o.name).bind(3, o.kind).bind(4, o.region).bind(6, o.created_at_ms);
    if (o.parent.empty()) st.bind_null(5); else st.bind(5, o.parent);
    if (auto r = lift(st.run()); !r) return r;
    if (sqlite3_changes(db()) != 1) return fail(Errc::already_exists, "an office with code " + o.code + " already exists");
    return {};
  }

  [[nodiscard]] Result<std::optional<OfficeRecord>> find_office(std::string_view code) override {
    auto rows = TEDUH_TRY(offices_where("WHERE code = ?1", code));
    if (rows.empty()) return std::optional<OfficeRecord>{};
    return std::optional<OfficeRecord>{std::move(rows.front())};
  }

  [[nodiscard]] Result<std::vector<OfficeRecord>> list_offices() override { return offices_where("", {}); }

  [[nodiscard]] Result<void> add_enrollment(const EnrollmentRecord& e) override {
    end_read();
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "INSERT INTO enrollments(code_id, office, user, role, shelter, expires_at, issued_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING")));
    st.bind_blob(1, as_bytes(e.code_id)).bind(2, e.office).bind(3, e.user).bind(4, e.role)
        .bind(5, std::int64_t{e.shelter ? 1 : 0}).bind(6, e.expires_at_ms).bind(7, e.issued_at_ms);
    if (auto r = lift(st.run()); !r) return r;
    if (sqlite3_changes(db()) != 1) return fail(Errc::already_exists, "this enrollment code id is already recorded");
    return {};
  }

  [[nodiscard]] Result<std::optional<EnrollmentRecord>> find_enrollment(const sync::Id128& code_id) override {
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "SELECT code_id, office, user, role, shelter, expires_at, issued_at, used_by, used_at "
        "FROM enrollments WHERE code_id = ?1")));
    st.bind_blob(1, as_bytes(code_id));
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) return std::optional<EnrollmentRecord>{};
    EnrollmentRecord e;
    if (!copy_fixed(st.column_blob(0), e.code_id.bytes)) return tl::unexpected(damaged_row("enrollments"));
    e.office = st.column_text(1);
    e.user = st.column_text(2);
    e.role = st.column_text(3);
    e.shelter = st.column_int(4) != 0;
    e.expires_at_ms = st.column_int(5);
    e.issued_at_ms = st.column_int(6);
    if (!st.column_is_null(7)) {
      sync::DeviceId used_by;
      if (!copy_fixed(st.column_blob(7), used_by.bytes)) return tl::unexpected(damaged_row("enrollments"));
      e.used_by = used_by;
    }
    e.used_at_ms = optional_int(st, 8);
    return std::optional<EnrollmentRecord>{std::move(e)};
  }

  [[nodiscard]] Result<void> register_device(const DeviceRecord& d) override {
    end_read();
    auto tx = TEDUH_TRY(lift(Transaction::begin(db())));
    {
      auto taken = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT 1 FROM devices WHERE device_id = ?1 OR sign_key = ?2")));
      taken.bind_blob(1, as_bytes(d.device_id)).bind_blob(2, d.sign_key);
      auto row = TEDUH_TRY(lift(taken.step()));
      if (row) return fail(Errc::already_exists, "this device id or signing key is already registered");
    }
    {
      auto use = TEDUH_TRY(lift(Statement::prepare(db(),
          "UPDATE enrollments SET used_by = ?1, used_at = ?2 "
          "WHERE code_id = ?3 AND used_by IS NULL AND expires_at > ?2")));
      use.bind_blob(1, as_bytes(d.device_id)).bind(2, d.registered_at_ms).bind_blob(3, as_bytes(d.code_id));
      if (auto r = lift(use.run()); !r) return r;
      if (sqlite3_changes(db()) != 1) {
        return fail(Errc::refused, "the enrollment code is unknown, already used or expired");
      }
    }
    {
      auto ins = TEDUH_TRY(lift(Statement::prepare(db(),
          "INSERT INTO devices(device_id, sign_key, office, user, role, shelter, code_id, registered_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")));
      ins.bind_blob(1, as_bytes(d.device_id)).bind_blob(2, d.sign_key).bind(3, d.office).bind(4, d.user)
          .bind(5, d.role).bind(6, std::int64_t{d.shelter ? 1 : 0}).bind_blob(7, as_bytes(d.code_id))
          .bind(8, d.registered_at_ms);
      if (auto r = lift(ins.run()); !r) return r;
    }
    return lift(tx.commit());
  }

  [[nodiscard]] Result<std::optional<DeviceRecord>> find_device(const sync::DeviceId& device_id) override {
    auto rows = TEDUH_TRY(devices_where(DevicesBy::id, as_bytes(device_id)));
    if (rows.empty()) return std::optional<DeviceRecord>{};
    return std::optional<DeviceRecord>{std::move(rows.front())};
  }

  [[nodiscard]] Result<std::optional<DeviceRecord>> find_device_by_key(const crypto::SignPublicKey& key) override {
    auto rows = TEDUH_TRY(devices_where(DevicesBy::key, key));
    if (rows.empty()) return std::optional<DeviceRecord>{};
    return std::optional<DeviceRecord>{std::move(rows.front())};
  }

  [[nodiscard]] Result<std::vector<DeviceRecord>> list_devices() override { return devices_where(DevicesBy::all, {}); }

  [[nodiscard]] Result<bool> revoke_device(const sync::DeviceId& device_id, std::int64_t now) override {
    end_read();
    auto found = TEDUH_TRY(find_device(device_id));
    if (!found) return fail(Errc::not_found, "no device " + device_id.hex() + " is registered");
    if (found->revoked()) return false;
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "UPDATE devices SET revoked_at = ?1 WHERE device_id = ?2 AND revoked_at IS NULL")));
    st.bind(1, now).bind_blob(2, as_bytes(device_id));
    TEDUH_TRY(lift(st.run()));
    return sqlite3_changes(db()) == 1;
  }

  [[nodiscard]] Result<void> touch_device(const sync::DeviceId& device_id, std::int64_t now) override {
    end_read();
    auto st = TEDUH_TRY(lift(Statement::prepare(db(), "UPDATE devices SET last_seen_at = ?1 WHERE device_id = ?2")));
    st.bind(1, now).bind_blob(2, as_bytes(device_id));
    return lift(st.run());
  }

  [[nodiscard]] Result<CompartmentState> compartment_state(std::string_view compartment) override {
    auto lease = TEDUH_TRY(cached("SELECT generation, rotation_pending FROM compartments WHERE compartment = ?1"));
    Statement& st = *lease;
    st.bind(1, compartment);
    auto row = TEDUH_TRY(lift(st.step()));
    CompartmentState state;
    state.compartment = std::string(compartment);
    if (row) {
      state.generation = static_cast<std::uint32_t>(st.column_int(0));
      state.rotation_pending = st.column_int(1) != 0;
    }
    return state;
  }

  [[nodiscard]] Result<std::vector<CompartmentState>> list_compartments() override {
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "SELECT compartment, generation, rotation_pending FROM compartments ORDER BY compartment")));
    std::vector<CompartmentState> out;
    for (;;) {
      auto row = TEDUH_TRY(lift(st.step()));
      if (!row) break;
      out.push_back(CompartmentState{st.column_text(0), static_cast<std::uint32_t>(st.column_int(1)),
                                     st.column_int(2) != 0});
    }
    return out;
  }

  [[nodiscard]] Result<void> add_generation(std::string_view compartment, std::uint32_t generation,
                              std::span<const KeyWrapRecord> wraps) override {
    end_read();
    auto tx = TEDUH_TRY(lift(Transaction::begin(db())));
    auto state = TEDUH_TRY(compartment_state(compartment));
    if (state.generation + 1 != generation) {
      return fail(Errc::conflict, "another rotation of the compartment happened meanwhile; run it again");
    }
    auto up = TEDUH_TRY(lift(Statement::prepare(db(),
        "INSERT INTO compartments(compartment, generation, rotation_pending) VALUES (?1, ?2, 0) "
        "ON CONFLICT (compartment) DO UPDATE SET generation = excluded.generation, rotation_pending = 0")));
    up.bind(1, compartment).bind(2, static_cast<std::int64_t>(generation));
    if (auto r = lift(up.run()); !r) return r;
    if (auto r = insert_wraps(wraps); !r) return r;
    return lift(tx.commit());
  }

  [[nodiscard]] Result<void> replace_admin_wraps(std::string_view name, crypto::ByteView value,
                                   std::span<const KeyWrapRecord> wraps) override {
    end_read();
    auto tx = TEDUH_TRY(lift(Transaction::begin(db())));
    auto meta = TEDUH_TRY(lift(Statement::prepare(db(), "UPDATE meta SET value = ?2 WHERE key = ?1")));
    meta.bind(1, name).bind_blob(2, value);
    if (auto r = lift(meta.run()); !r) return r;
    if (sqlite3_changes(db()) != 1) return fail(Errc::not_found, "the server store holds no such secret");
    std::int64_t stored = 0;
    if (!wraps.empty()) {
      auto count = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT count(*) FROM key_wraps WHERE recipient = ?1")));
      count.bind_blob(1, as_bytes(wraps.front().recipient));
      auto row = TEDUH_TRY(lift(count.step()));
      stored = row ? count.column_int(0) : 0;
    }
    if (stored != static_cast<std::int64_t>(wraps.size())) {
      return fail(Errc::conflict, "the key wraps changed meanwhile; run the command again");
    }
    auto up = TEDUH_TRY(lift(Statement::prepare(db(),
        "UPDATE key_wraps SET sealed = ?4, signature = ?5 WHERE recipient = ?1 AND compartment = ?2 AND generation = ?3")));
    for (const KeyWrapRecord& w : wraps) {
      up.reset();
      up.bind_blob(1, as_bytes(w.recipient)).bind(2, w.compartment)
          .bind(3, static_cast<std::int64_t>(w.generation)).bind_blob(4, w.sealed).bind_blob(5, w.signature);
      if (auto r = lift(up.run()); !r) return r;
      if (sqlite3_changes(db()) != 1) return fail(Errc::conflict, "the key wraps changed meanwhile; run the command again");
    }
    return lift(tx.commit());
  }

  [[nodiscard]] Result<void> clear_device(const sync::DeviceId& device_id, std::int64_t now, std::string_view compartment,
                            std::uint32_t generation, std::span<const KeyWrapRecord> wraps) override {
    end_read();
    auto tx = TEDUH_TRY(lift(Transaction::begin(db())));
    auto state = TEDUH_TRY(compartment_state(compartment));
    if (state.generation != generation) {
      return fail(Errc::conflict, "the compartment was rotated meanwhile; run the clearance again");
    }
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "UPDATE devices SET cleared_at = coalesce(cleared_at, ?1) WHERE device_id = ?2")));
    st.bind(1, now).bind_blob(2, as_bytes(device_id));
    if (auto r = lift(st.run()); !r) return r;
    if (sqlite3_changes(db()) != 1) return fail(Errc::not_found, "no device " + device_id.hex() + " is registered");
    if (auto r = insert_wraps(wraps); !r) return r;
    return lift(tx.commit());
  }

  [[nodiscard]] Result<void> mark_rotation_pending() override {
    end_read();
    auto st = TEDUH_TRY(lift(Statement::prepare(db(), "UPDATE compartments SET rotation_pending = 1 WHERE generation > 0")));
    return lift(st.run());
  }

  [[nodiscard]] Result<std::vector<KeyWrapRecord>> key_wraps_for(const sync::Id128& recipient) override {
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "SELECT compartment, generation, sealed, signature, created_at FROM key_wraps WHERE recipient = ?1 "
        "ORDER BY compartment, generation")));
    st.bind_blob(1, as_bytes(recipient));
    std::vector<KeyWrapRecord> out;
    for (;;) {
      auto row = TEDUH_TRY(lift(st.step()));
      if (!row) break;
      KeyWrapRecord w;
      w.compartment = st.column_text(0);
      w.generation = static_cast<std::uint32_t>(st.column_int(1));
      w.recipient = recipient;
      w.sealed = st.column_blob(2);
      if (!copy_fixed(st.column_blob(3), w.signature)) return tl::unexpected(damaged_row("key_wraps"));
      w.created_at_ms = st.column_int(4);
      out.push_back(std::move(w));
    }
    return out;
  }

  [[nodiscard]] Result<void> verify_store() override {
    // quick_check walks every b-tree page (tables, indexes, the freelist trunk); each
    // page read goes through the VFS, which refuses a page that fails its tag.
    auto st = lift(Statement::prepare(db(), "PRAGMA quick_check"));
    if (!st) return fail(Errc::damaged, "the store cannot be checked: " + st.error().message);
    std::string problems;
    std::size_t count = 0;
    for (;;) {
      auto row = lift(st->step());
      if (!row) return fail(Errc::damaged, "a page of the store cannot be read: " + row.error().message);
      if (!*row) break;
      const std::string line = st->column_text(0);
      if (line == "ok") continue;
      if (++count <= 3) problems += (problems.empty() ? "" : "; ") + line;
    }
    if (count > 0) {
      return fail(Errc::damaged, "SQLite's check of the store found " + std::to_string(count) + " problem(s): " +
                                     problems);
    }
    return {};
  }

  [[nodiscard]] Result<std::string> dump_text() override {
    std::string out;
    std::vector<std::string> tables;
    {
      auto st = TEDUH_TRY(lift(Statement::prepare(db(),
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")));
      for (;;) {
        auto row = TEDUH_TRY(lift(st.step()));
        if (!row) break;
        tables.push_back(st.column_text(0));
      }
    }
    for (const std::string& table : tables) {
      sqlite3_stmt* raw = nullptr;
      const std::string sql = "SELECT * FROM \"" + table + "\"";
      if (sqlite3_prepare_v2(db(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
        sqlite3_finalize(raw);
        return fail(Errc::storage, "cannot read the table " + table);
      }
      const int columns = sqlite3_column_count(raw);
      out += "== " + table + "\n";
      for (int c = 0; c < columns; ++c) out += std::string(c ? "\t" : "") + sqlite3_column_name(raw, c);
      out += "\n";
      int rc = SQLITE_ROW;
      std::size_t rows = 0;
      while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
        ++rows;
        // The server's own secrets (its signing key, the duplicate-hash key) are named,
        // never printed: a dump is for reading what the store holds, not for copying keys.
        bool secret_row = false;
        if (table == "meta" && columns >= 2) {
          const auto* k = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
          const std::string_view key = k ? k : "";
          secret_row = key.find("key") != std::string_view::npos && key.find("public") == std::string_view::npos;
        }
        for (int c = 0; c < columns; ++c) {
          if (c) out += "\t";
          if (secret_row && c == 1) {
            out += "(secret, " + std::to_string(sqlite3_column_bytes(raw, c)) + " bytes, not shown)";
            continue;
          }
          switch (sqlite3_column_type(raw, c)) {
            case SQLITE_NULL: out += "NULL"; break;
            case SQLITE_INTEGER: out += std::to_string(sqlite3_column_int64(raw, c)); break;
            case SQLITE_FLOAT: out += std::to_string(sqlite3_column_double(raw, c)); break;
            case SQLITE_TEXT: {
              const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
              out += t ? t : "";
              break;
            }
            default: {
              // Blobs (ids, keys, commit bodies, sealed wraps) as hex, as stored.
              const auto* b = static_cast<const std::uint8_t*>(sqlite3_column_blob(raw, c));
              const int n = sqlite3_column_bytes(raw, c);
              out += "x'" + crypto::to_hex({b, static_cast<std::size_t>(n)}) + "'";
            }
          }
        }
        out += "\n";
      }
      sqlite3_finalize(raw);
      if (rc != SQLITE_DONE) return fail(Errc::damaged, "reading the table " + table + " failed");
      out += "(" + std::to_string(rows) + " rows)\n\n";
    }
    return out;
  }

  [[nodiscard]] Result<std::vector<AppendResult>> append_commits(std::span<const LogEntry> entries,
                                                   std::string_view owner_office,
                                                   std::span<const Refusal> refusals) override {
    end_read();
    std::vector<AppendResult> results;
    if (entries.empty() && refusals.empty()) return results;
    auto tx = TEDUH_TRY(lift(Transaction::begin(db())));
    auto existing = lift(Statement::prepare(db(), "SELECT server_seq, body FROM log WHERE device = ?1 AND seq = ?2"));
    auto insert = lift(Statement::prepare(db(),
        "INSERT INTO log(device, seq, scope, scope_type, body, signature, received_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    auto scope = lift(Statement::prepare(db(),
        "INSERT INTO scopes(scope, type, owner_office, created_by) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT DO NOTHING"));
    if (!existing) return tl::unexpected(existing.error());
    if (!insert) return tl::unexpected(insert.error());
    if (!scope) return tl::unexpected(scope.error());
    results.reserve(entries.size());
    for (const LogEntry& e : entries) {
      existing->reset();
      existing->bind_blob(1, as_bytes(e.device)).bind(2, static_cast<std::int64_t>(e.seq));
      auto row = TEDUH_TRY(lift(existing->step()));
      if (row) {
        const bool same = existing->column_blob(1) == e.body;
        results.push_back(same ? AppendResult{AppendStatus::duplicate, existing->column_int(0)}
                               : AppendResult{AppendStatus::conflict, 0});
        continue;
      }
      insert->reset();
      insert->bind_blob(1, as_bytes(e.device)).bind(2, static_cast<std::int64_t>(e.seq))
          .bind_blob(3, as_bytes(e.scope)).bind(4, e.scope_type).bind_blob(5, e.body)
          .bind_blob(6, e.signature).bind(7, e.received_at_ms);
      TEDUH_TRY(lift(insert->run()));
      results.push_back({AppendStatus::stored, sqlite3_last_insert_rowid(db())});
      scope->reset();
      scope->bind_blob(1, as_bytes(e.scope)).bind(2, e.scope_type).bind(3, owner_office)
          .bind_blob(4, as_bytes(e.device));
      TEDUH_TRY(lift(scope->run()));
      for (const EntityPlace& place : e.entities) {
        TEDUH_TRY(record_entity(place));
      }
      if (e.touches_access) {
        auto dirty = TEDUH_TRY(cached("INSERT OR IGNORE INTO access_dirty(scope) VALUES (?1)"));
        dirty->bind_blob(1, as_bytes(e.scope));
        TEDUH_TRY(lift(dirty->run()));
      }
    }
    if (!refusals.empty()) {
      auto refuse = TEDUH_TRY(lift(Statement::prepare(db(),
          "INSERT OR IGNORE INTO refused_commits(device, seq, reason, at, digest) VALUES (?1, ?2, ?3, ?4, ?5)")));
      for (const Refusal& r : refusals) {
        refuse.reset();
        refuse.bind_blob(1, as_bytes(r.device)).bind(2, static_cast<std::int64_t>(r.seq))
            .bind(3, stored_reason(r.reason)).bind(4, r.at_ms);
        if (r.digest.empty()) {
          refuse.bind_null(5);
        } else {
          refuse.bind_blob(5, r.digest);
        }
        TEDUH_TRY(lift(refuse.run()));
      }
    }
    TEDUH_TRY(lift(tx.commit()));
    return results;
  }

  [[nodiscard]] Result<std::optional<Refusal>> find_refusal(const sync::DeviceId& device, std::uint64_t seq) override {
    auto lease = TEDUH_TRY(cached("SELECT reason, at, digest FROM refused_commits WHERE device = ?1 AND seq = ?2"));
    Statement& st = *lease;
    st.bind_blob(1, as_bytes(device)).bind(2, static_cast<std::int64_t>(seq));
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) return std::optional<Refusal>{};
    Refusal found{device, seq, reason_from_stored(st.column_int(0)), st.column_int(1), {}};
    if (!st.column_is_null(2)) found.digest = st.column_blob(2);
    return std::optional<Refusal>{std::move(found)};
  }

  [[nodiscard]] Result<std::uint64_t> last_seq(const sync::DeviceId& device) override {
    auto lease = TEDUH_TRY(cached("SELECT MAX(COALESCE((SELECT MAX(seq) FROM log WHERE device = ?1), 0), "
                        "COALESCE((SELECT MAX(seq) FROM refused_commits WHERE device = ?1), 0))"));
    Statement& st = *lease;
    st.bind_blob(1, as_bytes(device));
    TEDUH_TRY(lift(st.step()));
    return static_cast<std::uint64_t>(st.column_int(0));
  }

  [[nodiscard]] Result<std::vector<LogEntry>> read_log(std::int64_t after, std::size_t limit) override {
    auto lease = TEDUH_TRY(cached(
        "SELECT server_seq, device, seq, scope, scope_type, body, signature, received_at FROM log "
        "WHERE server_seq > ?1 ORDER BY server_seq LIMIT ?2"));
    Statement& st = *lease;
    st.bind(1, after).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1u << 30)));
    return log_rows(st);
  }

  [[nodiscard]] Result<std::int64_t> head() override {
    auto lease = TEDUH_TRY(cached("SELECT COALESCE(MAX(server_seq), 0) FROM log"));
    Statement& st = *lease;
    TEDUH_TRY(lift(st.step()));
    return st.column_int(0);
  }

  [[nodiscard]] Result<std::optional<ScopeRecord>> find_scope(const sync::EntityId& scope) override {
    auto lease = TEDUH_TRY(cached("SELECT type, owner_office, created_by FROM scopes WHERE scope = ?1"));
    Statement& st = *lease;
    st.bind_blob(1, as_bytes(scope));
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) return std::optional<ScopeRecord>{};
    ScopeRecord s;
    s.scope = scope;
    s.type = st.column_text(0);
    s.owner_office = st.column_text(1);
    if (!copy_fixed(st.column_blob(2), s.created_by.bytes)) return tl::unexpected(damaged_row("scopes"));
    return std::optional<ScopeRecord>{std::move(s)};
  }

  [[nodiscard]] Result<std::optional<EntityPlace>> find_entity(const sync::EntityId& entity) override {
    auto lease = TEDUH_TRY(cached("SELECT scope, type FROM entity_scopes WHERE entity = ?1"));
    Statement& q = *lease;
    q.bind_blob(1, as_bytes(entity));
    auto row = TEDUH_TRY(lift(q.step()));
    if (!row) return std::optional<EntityPlace>{};
    EntityPlace place;
    place.entity = entity;
    if (!copy_fixed(q.column_blob(0), place.scope.bytes)) return tl::unexpected(damaged_row("entity_scopes"));
    place.type = q.column_text(1);
    return std::optional<EntityPlace>{std::move(place)};
  }

  // Completes the schema step v4_entity_scopes (meta entity_scopes_fill): records the
  // entities of every stored commit, in log order, so each keeps the scope and type of
  // the first commit that wrote it. One transaction; done before anyone is served.
  [[nodiscard]] Result<void> fill_entity_scopes() {
    auto flag = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT 1 FROM meta WHERE key = 'entity_scopes_fill'")));
    auto pending = TEDUH_TRY(lift(flag.step()));
    if (!pending) return {};
    auto tx = TEDUH_TRY(lift(Transaction::begin(db())));
    auto log = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT server_seq, scope, body FROM log ORDER BY server_seq")));
    std::size_t undecodable = 0;
    for (;;) {
      auto row = TEDUH_TRY(lift(log.step()));
      if (!row) break;
      const std::vector<std::uint8_t> body = log.column_blob(2);
      auto commit = sync::decode_commit_body(body);
      if (!commit) {
        ++undecodable;  // verified when stored; never expected
        continue;
      }
      for (const sync::Version& v : commit->versions) {
        if (auto r = record_entity(EntityPlace{v.entity, commit->scope, v.entity_type}); !r) return r;
      }
    }
    if (undecodable > 0) {
      spdlog::warn("{} stored commit(s) did not decode while recording entity scopes", undecodable);
    }
    if (auto r = lift(schema::exec(db(), "DELETE FROM meta WHERE key = 'entity_scopes_fill'")); !r) return r;
    return lift(tx.commit());
  }

  [[nodiscard]] Result<std::vector<LogEntry>> read_scope(const sync::EntityId& scope, std::int64_t upto) override {
    auto lease = TEDUH_TRY(cached(
        "SELECT server_seq, device, seq, scope, scope_type, body, signature, received_at FROM log "
        "WHERE scope = ?1 AND server_seq <= ?2 ORDER BY server_seq"));
    Statement& st = *lease;
    st.bind_blob(1, as_bytes(scope)).bind(2, upto);
    return log_rows(st);
  }

  [[nodiscard]] Result<std::vector<LogEntry>> read_backfill(std::span<const sync::EntityId> scopes, const sync::DeviceId& device,
                                              std::int64_t base, std::int64_t after, std::int64_t upto,
                                              std::size_t limit) override {
    // One indexed range per scope (log_by_scope), merged in server_seq order.
    std::vector<LogEntry> out;
    if (scopes.empty() || limit == 0) return out;
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "SELECT server_seq, device, seq, scope, scope_type, body, signature, received_at FROM log "
        "WHERE scope = ?1 AND server_seq > ?2 AND server_seq <= ?3 AND (server_seq <= ?4 OR device = ?5) "
        "ORDER BY server_seq LIMIT ?6")));
    const auto cap = static_cast<std::int64_t>(std::min<std::size_t>(limit, 1u << 30));
    for (const sync::EntityId& scope : scopes) {
      st.reset();
      st.bind_blob(1, as_bytes(scope)).bind(2, after).bind(3, upto).bind(4, base).bind_blob(5, as_bytes(device))
          .bind(6, cap);
      auto rows = TEDUH_TRY(log_rows(st));
      out.insert(out.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
    }
    std::sort(out.begin(), out.end(), [](const LogEntry& a, const LogEntry& b) { return a.server_seq < b.server_seq; });
    if (out.size() > limit) out.resize(limit);
    return out;
  }

  [[nodiscard]] Result<std::vector<LogEntry>> read_own(const sync::DeviceId& device, std::uint64_t after_seq,
                                         std::size_t limit) override {
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "SELECT server_seq, device, seq, scope, scope_type, body, signature, received_at FROM log "
        "WHERE device = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")));
    st.bind_blob(1, as_bytes(device)).bind(2, static_cast<std::int64_t>(after_seq))
        .bind(3, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1u << 30)));
    return log_rows(st);
  }

  [[nodiscard]] Result<std::int64_t> add_pull_token(const PullToken& token) override {
    end_read();
    auto st = TEDUH_TRY(lift(Statement::prepare(db(),
        "INSERT INTO pull_tokens(device, gain_at, base, last) VALUES (?1, ?2, ?3, ?4)")));
    st.bind_blob(1, as_bytes(token.device)).bind(2, token.gain_at).bind(3, token.base).bind(4, token.last);
    TEDUH_TRY(lift(st.run()));
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db()));
  }

  [[nodiscard]] Result<std::optional<PullToken>> find_pull_token(std::int64_t id) override {
    auto st = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT device, gain_at, base, last FROM pull_tokens WHERE id = ?1")));
    st.bind(1, id);
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) return std::optional<PullToken>{};
    PullToken t;
    t.id = id;
    if (!copy_fixed(st.column_blob(0), t.device.bytes)) return tl::unexpected(damaged_row("pull_tokens"));
    t.gain_at = st.column_int(1);
    t.base = st.column_int(2);
    t.last = st.column_int(3);
    return std::optional<PullToken>{t};
  }

  [[nodiscard]] Result<void> drop_pull_tokens(const sync::DeviceId& device, std::int64_t upto) override {
    end_read();
    auto st = TEDUH_TRY(lift(Statement::prepare(db(), "DELETE FROM pull_tokens WHERE device = ?1 AND gain_at <= ?2")));
    st.bind_blob(1, as_bytes(device)).bind(2, upto);
    return lift(st.run());
  }

  [[nodiscard]] Result<std::vector<ScopeGrant>> scope_grants(const sync::EntityId& scope) override {
    auto lease = TEDUH_TRY(cached(
        "SELECT scope, office, via, granted_at, revoked_at FROM scope_access WHERE scope = ?1 ORDER BY office"));
    Statement& st = *lease;
    st.bind_blob(1, as_bytes(scope));
    return grant_rows(st);
  }

  [[nodiscard]] Result<std::vector<ScopeGrant>> grant_changes(std::string_view office, std::int64_t after) override {
    auto lease = TEDUH_TRY(cached(
        "SELECT scope, office, via, granted_at, revoked_at FROM scope_access "
        "WHERE office = ?1 AND (granted_at > ?2 OR revoked_at > ?2) ORDER BY scope"));
    Statement& st = *lease;
    st.bind(1, office).bind(2, after);
    return grant_rows(st);
  }

  [[nodiscard]] Result<std::vector<sync::EntityId>> dirty_scopes() override {
    auto st = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT scope FROM access_dirty ORDER BY scope")));
    std::vector<sync::EntityId> out;
    for (;;) {
      auto row = TEDUH_TRY(lift(st.step()));
      if (!row) break;
      sync::EntityId id;
      if (!copy_fixed(st.column_blob(0), id.bytes)) return tl::unexpected(damaged_row("access_dirty"));
      out.push_back(id);
    }
    return out;
  }

  [[nodiscard]] Result<void> update_access(const sync::EntityId& scope, std::span<const ScopeGrant> rows,
                             const std::optional<std::string>& new_owner) override {
    end_read();
    auto tx = TEDUH_TRY(lift(Transaction::begin(db())));
    auto put = TEDUH_TRY(lift(Statement::prepare(db(),
        "INSERT OR REPLACE INTO scope_access(scope, office, via, granted_at, revoked_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)")));
    for (const ScopeGrant& g : rows) {
      put.reset();
      put.bind_blob(1, as_bytes(scope)).bind(2, g.office).bind(3, g.via).bind(4, g.granted_at);
      if (g.revoked_at) put.bind(5, *g.revoked_at); else put.bind_null(5);
      if (auto r = lift(put.run()); !r) return r;
    }
    if (new_owner) {
      auto owner = TEDUH_TRY(lift(Statement::prepare(db(), "UPDATE scopes SET owner_office = ?2 WHERE scope = ?1")));
      owner.bind_blob(1, as_bytes(scope)).bind(2, *new_owner);
      if (auto r = lift(owner.run()); !r) return r;
    }
    auto clean = TEDUH_TRY(lift(Statement::prepare(db(), "DELETE FROM access_dirty WHERE scope = ?1")));
    clean.bind_blob(1, as_bytes(scope));
    if (auto r = lift(clean.run()); !r) return r;
    return lift(tx.commit());
  }

 private:
  [[nodiscard]] sqlite3* db() const { return db_.get(); }

  [[nodiscard]] Result<std::vector<LogEntry>> log_rows(Statement& st) {
    std::vector<LogEntry> out;
    for (;;) {
      auto row = TEDUH_TRY(lift(st.step()));
      if (!row) break;
      LogEntry e;
      e.server_seq = st.column_int(0);
      if (!copy_fixed(st.column_blob(1), e.device.bytes) || !copy_fixed(st.column_blob(3), e.scope.bytes) ||
          !copy_fixed(st.column_blob(6), e.signature)) {
        return tl::unexpected(damaged_row("log"));
      }
      e.seq = static_cast<std::uint64_t>(st.column_int(2));
      e.scope_type = st.column_text(4);
      e.body = st.column_blob(5);
      e.received_at_ms = st.column_int(7);
      out.push_back(std::move(e));
    }
    return out;
  }

  [[nodiscard]] Result<std::vector<ScopeGrant>> grant_rows(Statement& st) {
    std::vector<ScopeGrant> out;
    for (;;) {
      auto row = TEDUH_TRY(lift(st.step()));
      if (!row) break;
      ScopeGrant g;
      if (!copy_fixed(st.column_blob(0), g.scope.bytes)) return tl::unexpected(damaged_row("scope_access"));
      g.office = st.column_text(1);
      g.via = st.column_text(2);
      g.granted_at = st.column_int(3);
      g.revoked_at = optional_int(st, 4);
      out.push_back(std::move(g));
    }
    return out;
  }

  [[nodiscard]] Result<std::vector<OfficeRecord>> offices_where(std::string_view where, std::string_view arg) {
    std::string sql = "SELECT code, name, kind, region, parent, created_at FROM offices ";
    sql += where;
    sql += " ORDER BY code";
    auto st = TEDUH_TRY(lift(Statement::prepare(db(), sql)));
    if (!where.empty()) st.bind(1, arg);
    std::vector<OfficeRecord> out;
    for (;;) {
      auto row = TEDUH_TRY(lift(st.step()));
      if (!row) break;
      OfficeRecord o;
      o.code = st.column_text(0);
      o.name = st.column_text(1);
      o.kind = st.column_text(2);
      o.region = st.column_is_null(3) ? std::string{} : st.column_text(3);
      o.parent = st.column_is_null(4) ? std::string{} : st.column_text(4);
      o.created_at_ms = st.column_int(5);
      out.push_back(std::move(o));
    }
    return out;
  }

  [[nodiscard]] Result<void> insert_wraps(std::span<const KeyWrapRecord> wraps) {
    auto ins = TEDUH_TRY(lift(Statement::prepare(db(),
        "INSERT INTO key_wraps(recipient, compartment, generation, sealed, signature, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING")));
    for (const KeyWrapRecord& w : wraps) {
      ins.reset();
      ins.bind_blob(1, as_bytes(w.recipient)).bind(2, w.compartment)
          .bind(3, static_cast<std::int64_t>(w.generation)).bind_blob(4, w.sealed).bind_blob(5, w.signature)
          .bind(6, w.created_at_ms);
      if (auto r = lift(ins.run()); !r) return r;
    }
    return {};
  }

  // Which devices: one, by id or by signing key (find_device, find_device_by_key), or all
  // (list_devices). Each query is prepared once per connection: a session looks its
  // device up several times.
  enum class DevicesBy { id, key, all };
  [[nodiscard]] Result<std::vector<DeviceRecord>> devices_where(DevicesBy by, std::span<const std::uint8_t> arg) {
    auto sql_for = [](std::string_view where) {
      return "SELECT device_id, sign_key, office, user, role, shelter, code_id, registered_at, revoked_at, "
             "last_seen_at, cleared_at FROM devices " +
             std::string(where) + " ORDER BY registered_at, device_id";
    };
    static const std::string kById = sql_for("WHERE device_id = ?1");
    static const std::string kByKey = sql_for("WHERE sign_key = ?1");
    static const std::string kAll = sql_for("");
    auto lease = TEDUH_TRY(cached(by == DevicesBy::id ? kById.c_str() : by == DevicesBy::key ? kByKey.c_str() : kAll.c_str()));
    Statement* st = &*lease;
    if (by != DevicesBy::all) st->bind_blob(1, arg);
    std::vector<DeviceRecord> out;
    for (;;) {
      auto row = TEDUH_TRY(lift(st->step()));
      if (!row) break;
      DeviceRecord d;
      if (!copy_fixed(st->column_blob(0), d.device_id.bytes) || !copy_fixed(st->column_blob(1), d.sign_key)) {
        return tl::unexpected(damaged_row("devices"));
      }
      d.office = st->column_text(2);
      d.user = st->column_text(3);
      d.role = st->column_text(4);
      d.shelter = st->column_int(5) != 0;
      if (!st->column_is_null(6) && !copy_fixed(st->column_blob(6), d.code_id.bytes)) {
        return tl::unexpected(damaged_row("devices"));
      }
      d.registered_at_ms = st->column_int(7);
      d.revoked_at_ms = optional_int(*st, 8);
      d.last_seen_at_ms = optional_int(*st, 9);
      d.cleared_at_ms = optional_int(*st, 10);
      out.push_back(std::move(d));
    }
    return out;
  }

  // A prepared statement kept for the life of the connection (the statements a push or
  // a pull runs once per commit, scope or entity), lent ready to bind. The lease resets
  // it when it ends, on every path: a statement left stepped would hold its read
  // transaction open, and the next read would see a stale snapshot. `sql` must be a
  // string literal, or a static string (devices_where): the map is keyed by its address.
  class Lease {
   public:
    explicit Lease(Statement* st) : st_(st) {}
    Lease(Lease&& other) noexcept : st_(std::exchange(other.st_, nullptr)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (st_ != nullptr) st_->reset();
    }
    Statement& operator*() const { return *st_; }
    Statement* operator->() const { return st_; }

   private:
    Statement* st_;
  };

  [[nodiscard]] Result<Lease> cached(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      auto st = TEDUH_TRY(lift(Statement::prepare(db(), sql)));
      it = statements_.emplace(sql, std::move(st)).first;
    }
    it->second.reset();
    return Lease(&it->second);
  }

  [[nodiscard]] Result<void> record_entity(const EntityPlace& place) {
    auto st = TEDUH_TRY(cached("INSERT OR IGNORE INTO entity_scopes(entity, scope, type) VALUES (?1, ?2, ?3)"));
    st->bind_blob(1, as_bytes(place.entity)).bind_blob(2, as_bytes(place.scope)).bind(3, place.type);
    return lift(st->run());
  }

  crypto::DbHandle db_;
  bool reading_ = false;  // inside begin_read .. end_read
  // Declared after db_ so the statements are finalized before the connection closes.
  std::map<const char*, Statement> statements_;
};

fs::path db_path_in(const fs::path& dir) { return dir / std::string(kServerDbName); }

// Admin commands run beside a serving teduhd: a write waits for the other's short
// transaction instead of failing with "database is locked".
constexpr int kBusyTimeoutMs = 10000;

// The store's files readable by their owner only (the umask of main() does it for new
// files; this also tightens a store made by an older teduhd). SQLite gives the WAL and
// shared-memory files the mode of the database file.
void restrict_to_owner(const fs::path& db_path) {
  for (const fs::path& p : {db_path, crypto::key_file_path(db_path), fs::path(db_path.string() + "-wal"),
                            fs::path(db_path.string() + "-shm"), fs::path(db_path.string() + "-journal")}) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) ::chmod(p.c_str(), 0600);
  }
}

// What creating and opening share once the store key is in hand: the encrypted database,
// owner-only files, the busy wait, the migrations, and the entity scopes filled.
[[nodiscard]] Result<std::unique_ptr<Storage>> open_with_key(const fs::path& dir, const crypto::SecretBytes& key,
                                                             crypto::OpenMode mode) {
  const fs::path db_path = db_path_in(dir);
  auto db = crypto::open_encrypted(db_path, key, mode);
  if (!db) return tl::unexpected(from_crypto(db.error(), dir));
  restrict_to_owner(db_path);
  sqlite3_busy_timeout(db->get(), kBusyTimeoutMs);
  TEDUH_TRY(lift(schema::migrate(db->get(), schema::StoreKind::server)));
  auto storage = std::make_unique<SqliteStorage>(std::move(*db));
  TEDUH_TRY(storage->fill_entity_scopes());
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace

[[nodiscard]] Result<std::unique_ptr<Storage>> create_sqlite_storage(const fs::path& dir, std::string_view passphrase,
                                                       const crypto::KdfParams& params) {
  const fs::path db_path = db_path_in(dir);
  std::error_code ec;
  if (fs::exists(db_path, ec) || fs::exists(crypto::key_file_path(db_path), ec)) {
    return fail(Errc::already_exists, dir.string() + " already holds a server store");
  }
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return fail(Errc::invalid_input, dir.string() + " exists and is not a folder");
  }
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return fail(Errc::storage, "cannot create the folder " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  auto key = crypto::create_store_key(db_path, passphrase, params);
  if (!key) return tl::unexpected(from_crypto(key.error(), dir));
  return open_with_key(dir, *key, crypto::OpenMode::create);
}

[[nodiscard]] Result<std::unique_ptr<Storage>> open_sqlite_storage(const fs::path& dir, std::string_view passphrase) {
  const fs::path db_path = db_path_in(dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail(Errc::refused, dir.string() + " is not a folder holding a server store");
  if (!fs::exists(db_path, ec) || !fs::exists(crypto::key_file_path(db_path), ec)) {
    return fail(Errc::refused, dir.string() + " holds no Teduh server store; create one with teduhd init");
  }
  auto key = crypto::unlock_store_key(db_path, passphrase);
  if (!key) return tl::unexpected(from_crypto(key.error(), dir));
  return open_with_key(dir, *key, crypto::OpenMode::existing);
}

}  // namespace teduh::server
