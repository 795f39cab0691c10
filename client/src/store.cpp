#include "teduh/client/store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <set>

#include "teduh/schema/migrations.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/schema/validate.hpp"

namespace teduh::client {
namespace {

using schema::Statement;

// The two failures a person can fix by waiting or by freeing disk space: said in words, with
// what to do, instead of SQLite's "database is locked" or "disk I/O error".
Error busy_error() {
  return {Errc::busy, "Penyimpanan sedang dipakai oleh proses lain lebih dari " +
                          std::to_string(crypto::kBusyTimeoutMs / 1000) +
                          " detik (aplikasi kantor atau perintah teduh lain); tidak ada yang berubah; "
                          "coba lagi sebentar lagi."};
}

Error full_error() {
  return {Errc::full,
          "Disk penuh: perubahan ini tidak dapat disimpan; kosongkan ruang di disk, lalu coba lagi; "
          "tidak ada yang hilang."};
}

Error from_schema(const schema::Error& e) {
  switch (e.code) {
    case schema::Errc::damaged:
      return {Errc::damaged, "The store is damaged: " + e.message};
    case schema::Errc::newer_version:
    case schema::Errc::not_a_store:
      return {Errc::refused, e.message};
    case schema::Errc::invalid_value:
    case schema::Errc::unknown_field:
    case schema::Errc::unknown_entity:
      return {Errc::invalid, e.message};
    case schema::Errc::busy:
      return busy_error();
    case schema::Errc::full:
      return full_error();
    case schema::Errc::sql:
      break;
  }
  return {Errc::internal, e.message};
}

template <class T>
[[nodiscard]] Result<T> lift(schema::Result<T> r) {
  return teduh::lift(std::move(r), from_schema);
}

Error from_crypto(const crypto::Error& e) {
  switch (e.code) {
    case crypto::Errc::damaged:
      return {Errc::damaged, e.message};
    case crypto::Errc::io:
      return {Errc::internal, e.message};
    case crypto::Errc::busy:
      return busy_error();
    case crypto::Errc::full:
      return full_error();
    default:
      return {Errc::refused, e.message};
  }
}

// The store's files readable by their owner only. main() sets umask 077 for new files;
// this covers a library caller without it and tightens a store made by an older teduh.
// SQLite gives the WAL and shared-memory files the mode of the database file.
void restrict_to_owner(const std::filesystem::path& path) {
  const std::string base = path.string();
  for (const std::string& p : {base, crypto::key_file_path(path).string(), base + "-wal", base + "-shm",
                               base + "-journal"}) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) ::chmod(p.c_str(), 0600);
  }
}

std::span<const std::uint8_t> id_bytes(const sync::Id128& id) {
  return {id.bytes.data(), id.bytes.size()};
}

sync::Id128 id_from(const std::vector<std::uint8_t>& blob) {
  sync::Id128 id;
  if (blob.size() == id.bytes.size()) std::copy(blob.begin(), blob.end(), id.bytes.begin());
  return id;
}

// Whether this device has any refused commit: the cheap test before the per-record ones.
constexpr const char* kAnyRefusedSql = "SELECT EXISTS (SELECT 1 FROM refused_commits)";

// The value of a `SELECT EXISTS (...)` statement, bound by the caller; reset after, so the
// cached statement holds no read open.
[[nodiscard]] Result<bool> exists_row(Statement& st) {
  auto row = TEDUH_TRY(lift(st.step()));
  const bool exists = row && st.column_int(0) == 1;
  st.reset();
  return exists;
}

// A supersedes list acts only within its own entity and field (PROTOCOL.md section 5):
// the superseded table is keyed by the (entity, field) of the version that names the id.
// Applying a commit and rebuilding the merge state both write it through this statement.
constexpr const char* kInsertSupersededSql =
    "INSERT OR IGNORE INTO superseded(entity, field, device, seq, idx) VALUES(?1, ?2, ?3, ?4, ?5)";

// Records, through a kInsertSupersededSql statement, that version v supersedes `id`.
[[nodiscard]] Result<void> insert_superseded(Statement& st, const sync::Version& v,
                                             const sync::VersionId& id) {
  st.reset();
  st.bind_blob(1, id_bytes(v.entity))
      .bind(2, v.field)
      .bind_blob(3, id_bytes(id.device))
      .bind(4, static_cast<std::int64_t>(id.seq))
      .bind(5, static_cast<std::int64_t>(id.index));
  return lift(st.run());
}

// WAL with synchronous=NORMAL: a killed process loses at most the transaction in flight
// (client/README.md, "Durability"). A 64 MiB page cache keeps the indexes of a store of
// 100,000 commits in memory while a pulled batch is applied.
constexpr const char* kStoreSettings = "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536";

}  // namespace

int exit_code(Errc code) {
  switch (code) {
    case Errc::usage:
    case Errc::invalid:
    case Errc::not_found:
      return 1;
    case Errc::refused:
    case Errc::damaged:
      return 2;
    case Errc::unreachable:
      return 3;
    case Errc::internal:
      return 4;
    case Errc::busy:
      return 5;
    case Errc::full:
      return 6;
  }
  return 4;
}

const std::string& EntityView::get(std::string_view field) const {
  static const std::string kEmpty;
  auto it = fields.find(std::string(field));
  return it == fields.end() ? kEmpty : it->second.value;
}

Store::Store(crypto::DbHandle db, Identity identity)
    : db_(std::move(db)), identity_(std::move(identity)) {}

Result<Store> Store::create(const StoreOptions& options, Identity identity) {
  crypto::init();
  std::error_code ec;
  // The folder is named when it is missing, not a failure to create a key file later.
  const std::filesystem::path folder =
      options.path.has_parent_path() ? options.path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::exists(folder, ec)) {
    return fail(Errc::usage,
                "Folder " + folder.string() +
                    " tidak ada; buat folder itu dulu atau pilih tempat lain untuk --store.");
  }
  if (!std::filesystem::is_directory(folder, ec)) {
    return fail(Errc::usage, folder.string() + " bukan folder; pilih tempat lain untuk --store.");
  }
  if (std::filesystem::exists(options.path, ec) ||
      std::filesystem::exists(crypto::key_file_path(options.path), ec)) {
    return fail(Errc::refused,
                "A store already exists at " + options.path.string() + "; nothing was changed.");
  }
  Result<crypto::DbHandle> db = fail(Errc::internal, "unreachable");
  crypto::SecretBytes store_key;  // stays empty for a plain (benchmark) store
  if (options.plain_for_benchmark) {
    auto plain = crypto::open_plain(options.path, crypto::OpenMode::create);
    if (!plain) return tl::unexpected(from_crypto(plain.error()));
    db = std::move(*plain);
  } else {
    auto key = crypto::create_store_key(options.path, options.passphrase, options.kdf);
    if (!key) return tl::unexpected(from_crypto(key.error()));
    auto encrypted = crypto::open_encrypted(options.path, *key, crypto::OpenMode::create);
    if (!encrypted) return tl::unexpected(from_crypto(encrypted.error()));
    db = std::move(*encrypted);
    store_key = std::move(*key);
  }
  restrict_to_owner(options.path);
  TEDUH_TRY(lift(schema::migrate(db->get(), schema::StoreKind::client)));
  // A new store holds no commits: nothing for step v4_scoped_supersedes to rebuild.
  TEDUH_TRY(lift(schema::exec(db->get(), "DELETE FROM meta WHERE key = 'merge_rebuild'")));
  TEDUH_TRY(lift(schema::exec(db->get(), kStoreSettings)));

  Store store(std::move(*db), std::move(identity));
  store.path_ = options.path;
  store.store_key_ = std::move(store_key);
  auto put = [&](std::string_view k, std::string_view v) { return store.set_meta(k, v); };
  const Identity& id = store.identity_;
  TEDUH_TRY(store.in_transaction([&]() -> Result<void> {
    TEDUH_TRY(put("device_id", id.device.hex()));
    TEDUH_TRY(put("signing_key", crypto::to_hex(id.signing_key.secret_key().view())));
    TEDUH_TRY(put("enrollment_code", id.enrollment_code));
    TEDUH_TRY(put("server_address", id.server_address));
    TEDUH_TRY(put("server_key", crypto::to_base64url(id.server_key)));
    TEDUH_TRY(put("seq", "0"));
    TEDUH_TRY(put("hlc", "0"));
    return {};
  }));
  // The identity is durable before the store is handed out: with synchronous=NORMAL a
  // commit reaches the disk at the next checkpoint, and a power loss before one (a
  // long-running program that created the store) would leave a key file and a store
  // without its device identity, which never opens again (found by the simulation's
  // fault VFS, seed 1).
  TEDUH_TRY(lift(schema::exec(store.db(), "PRAGMA wal_checkpoint(TRUNCATE)")));
  return store;
}

Result<void> Store::change_passphrase(const std::filesystem::path& path, std::string_view old_passphrase,
                                      std::string_view new_passphrase, const crypto::KdfParams& params) {
  crypto::init();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(Errc::refused, "There is no Teduh store at " + path.string() + " (check --store).");
  }
  auto r = crypto::change_passphrase(path, old_passphrase, new_passphrase, params);
  if (!r) return tl::unexpected(from_crypto(r.error()));
  return {};
}

Result<Store> Store::open(const std::filesystem::path& path, std::string_view passphrase) {
  crypto::init();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(Errc::refused, "There is no Teduh store at " + path.string() +
                                   " (run `teduh init` first, or check --store).");
  }
  auto key = crypto::unlock_store_key(path, passphrase);
  if (!key) return tl::unexpected(from_crypto(key.error()));
  return open_with_key(path, std::move(*key));
}

Result<Store> Store::open_again() const {
  if (store_key_.empty())
    return fail(Errc::refused, "A store on the plain VFS is not opened twice.");
  return open_with_key(path_, store_key_.clone());
}

Result<Store> Store::open_with_key(const std::filesystem::path& path, crypto::SecretBytes key) {
  auto db = crypto::open_encrypted(path, key, crypto::OpenMode::existing);
  if (!db) return tl::unexpected(from_crypto(db.error()));
  restrict_to_owner(path);
  TEDUH_TRY(lift(schema::migrate(db->get(), schema::StoreKind::client)));
  TEDUH_TRY(lift(schema::exec(db->get(), kStoreSettings)));

  Store store(std::move(*db), Identity{});
  store.path_ = path;
  store.store_key_ = std::move(key);
  auto get = [&](std::string_view k) -> Result<std::string> {
    auto v = TEDUH_TRY(store.meta(k));
    if (!v)
      return fail(Errc::refused, "The store lacks its device identity (" + std::string(k) +
                                     "); it was not made by `teduh init`.");
    return *v;
  };
  auto device_hex = TEDUH_TRY(get("device_id"));
  auto device = sync::Id128::from_hex(device_hex);
  auto signing_hex = TEDUH_TRY(get("signing_key"));
  auto signing_raw = crypto::from_hex(signing_hex);
  auto server_key_text = TEDUH_TRY(get("server_key"));
  auto server_key_raw = crypto::from_base64url(server_key_text);
  auto code = TEDUH_TRY(get("enrollment_code"));
  auto address = TEDUH_TRY(get("server_address"));
  if (!device || !signing_raw || !server_key_raw || server_key_raw->size() != 32) {
    return fail(Errc::damaged, "The store's device identity is unreadable.");
  }
  auto signing = crypto::SigningKey::from_secret(*signing_raw);
  if (!signing) return fail(Errc::damaged, "The store's device key is unreadable.");
  Identity& id = store.identity_;
  id.device = *device;
  id.signing_key = std::move(*signing);
  std::copy(server_key_raw->begin(), server_key_raw->end(), id.server_key.begin());
  id.enrollment_code = code;
  id.server_address = address;
  // The code was verified with its expiry at init; here only its content is read back.
  auto grant = sync::verify_enrollment_code(id.enrollment_code, id.server_key, 0);
  if (!grant) return fail(Errc::damaged, "The store's enrollment record does not verify.");
  id.grant = std::move(*grant);
  TEDUH_TRY(store.load_counters());
  TEDUH_TRY(store.rebuild_merge_state());
  return store;
}

Result<void> Store::rebuild_merge_state() {
  auto flag = TEDUH_TRY(meta("merge_rebuild"));
  if (!flag) return {};
  // The merge state the rules of PROTOCOL.md section 5 give for the commits held: each
  // supersedes list acts within its own (entity, field), and a commit that names an
  // entity held under another scope or type is not applied (its versions leave; the
  // entity keeps the scope and type its row records). Commits of purged scopes that
  // this device has not yet pushed name entities no longer held, which stay unheld.
  return in_transaction([&]() -> Result<void> {
    TEDUH_TRY(lift(schema::exec(db(), "DELETE FROM superseded")));
    auto commits = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT device, seq, body FROM commits ORDER BY rowid")));
    auto held = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT scope, type FROM entities WHERE id = ?1")));
    auto drop = TEDUH_TRY(lift(Statement::prepare(db(), "DELETE FROM versions WHERE device = ?1 AND seq = ?2")));
    auto mark = TEDUH_TRY(lift(Statement::prepare(db(), kInsertSupersededSql)));
    auto refused = TEDUH_TRY(lift(Statement::prepare(db(), "SELECT 1 FROM refused_commits WHERE seq = ?1")));
    for (;;) {
      auto row = TEDUH_TRY(lift(commits.step()));
      if (!row) break;
      const std::vector<std::uint8_t> body = commits.column_blob(2);
      auto commit = sync::decode_commit_body(body);
      if (!commit) return fail(Errc::damaged, "The store holds a commit that does not decode.");
      bool foreign = false;
      std::vector<bool> present(commit->versions.size(), false);
      for (std::size_t i = 0; i < commit->versions.size(); ++i) {
        const sync::Version& v = commit->versions[i];
        held.reset();
        held.bind_blob(1, id_bytes(v.entity));
        auto h = TEDUH_TRY(lift(held.step()));
        if (!h) continue;  // a purged scope
        present[i] = true;
        if (id_from(held.column_blob(0)) != commit->scope || held.column_text(1) != v.entity_type) foreign = true;
      }
      if (foreign) {
        drop.reset();
        drop.bind_blob(1, id_bytes(commit->device)).bind(2, static_cast<std::int64_t>(commit->seq));
        TEDUH_TRY(lift(drop.run()));
        continue;
      }
      if (commit->device == identity_.device) {
        // A commit of this device the server refused supersedes nothing: no other
        // replica holds it (PROTOCOL.md section 5, rule 5).
        refused.reset();
        refused.bind(1, static_cast<std::int64_t>(commit->seq));
        auto r = TEDUH_TRY(lift(refused.step()));
        if (r) continue;
      }
      for (std::size_t i = 0; i < commit->versions.size(); ++i) {
        const sync::Version& v = commit->versions[i];
        if (!present[i]) continue;
        for (const auto& id : v.supersedes) TEDUH_TRY(insert_superseded(mark, v, id));
      }
    }
    static constexpr const char* kDerive[] = {
        "UPDATE versions SET live = NOT EXISTS (SELECT 1 FROM superseded s WHERE s.entity = versions.entity "
        "AND s.field = versions.field AND s.device = versions.device AND s.seq = versions.seq "
        "AND s.idx = versions.idx)",
        "DELETE FROM fields",
        "INSERT INTO fields(entity, field, value, hlc, device, live_count) "
        "SELECT entity, field, value, hlc, device, n FROM (SELECT entity, field, value, hlc, device, "
        "count(*) OVER (PARTITION BY entity, field) AS n, row_number() OVER (PARTITION BY entity, field "
        "ORDER BY hlc DESC, device DESC) AS r FROM versions WHERE live = 1) WHERE r = 1",
        "DELETE FROM meta WHERE key = 'merge_rebuild'",
    };
    TEDUH_TRY(lift(schema::exec(db(), kDerive[0])));
    // A refused commit's versions do not count where anything else wrote the record; a
    // record that only refused commits wrote stays shown, marked refused.
    auto hide = TEDUH_TRY(lift(Statement::prepare(db(),
        "UPDATE versions SET live = 0 WHERE device = ?1 AND seq IN (SELECT seq FROM refused_commits) "
        "AND EXISTS (SELECT 1 FROM versions o WHERE o.entity = versions.entity AND NOT (o.device = ?1 "
        "AND o.seq IN (SELECT seq FROM refused_commits)))")));
    hide.bind_blob(1, id_bytes(identity_.device));
    TEDUH_TRY(lift(hide.run()));
    for (std::size_t i = 1; i < std::size(kDerive); ++i) TEDUH_TRY(lift(schema::exec(db(), kDerive[i])));
    return {};
  });
}

Result<void> Store::load_counters() {
  auto seq = TEDUH_TRY(meta("seq"));
  auto hlc = TEDUH_TRY(meta("hlc"));
  next_seq_ = (seq ? std::stoull(*seq) : 0) + 1;
  // The clock never goes back, even past a rollback of timestamps it issued.
  clock_ = sync::HlcClock(std::max<sync::Hlc>(clock_.last(), hlc ? std::stoull(*hlc) : 0));
  return {};
}

Result<std::optional<std::string>> Store::meta(std::string_view key) const {
  auto st_r = TEDUH_TRY(cached("SELECT value FROM meta WHERE key = ?1"));
  Statement& st = *st_r;
  st.bind(1, key);
  auto row = TEDUH_TRY(lift(st.step()));
  if (!row) return std::optional<std::string>{};
  std::string value = st.column_text(0);
  // As every cached read: a statement left on its row would hold a read transaction open,
  // so this connection would keep reading an old snapshot and its next BEGIN IMMEDIATE
  // would fail at once (SQLITE_BUSY_SNAPSHOT) after another connection wrote (the office
  // app's background sync, a `teduh` command beside the app).
  st.reset();
  return std::optional<std::string>{std::move(value)};
}

Result<std::vector<std::string>> Store::meta_values_with_prefix(std::string_view prefix) const {
  auto st_r = TEDUH_TRY(cached("SELECT value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key"));
  Statement& st = *st_r;
  st.bind(1, prefix);
  std::vector<std::string> out;
  while (TEDUH_TRY(lift(st.step()))) out.push_back(st.column_text(0));
  st.reset();  // as every cached read: no read transaction stays open
  return out;
}

Result<void> Store::set_meta(std::string_view key, std::string_view value) {
  auto st_r = TEDUH_TRY(cached(
      "INSERT INTO meta(key, value) VALUES(?1, ?2) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  Statement& st = *st_r;
  st.bind(1, key).bind(2, value);
  return lift(st.run());
}

Result<bool> Store::purge_scope(const sync::EntityId& scope, std::uint64_t acked_seq) {
  return in_transaction([&]() -> Result<bool> {
    TEDUH_TRY(lift(schema::exec(db(), "PRAGMA secure_delete = ON")));
    auto held_r = TEDUH_TRY(cached("SELECT EXISTS(SELECT 1 FROM commits WHERE scope = ?1)"));
    held_r->bind_blob(1, id_bytes(scope));
    auto row = TEDUH_TRY(lift(held_r->step()));
    const bool held = row && held_r->column_int(0) != 0;
    held_r->reset();
    static constexpr const char* kPurge[] = {
        "DELETE FROM fields WHERE entity IN (SELECT id FROM entities WHERE scope = ?1)",
        "DELETE FROM versions WHERE entity IN (SELECT id FROM entities WHERE scope = ?1)",
        "DELETE FROM superseded WHERE entity IN (SELECT id FROM entities WHERE scope = ?1)",
        "DELETE FROM entities WHERE scope = ?1",
        "DELETE FROM commits WHERE scope = ?1 AND NOT (device = ?2 AND seq > ?3)",
    };
    for (const char* sql : kPurge) {
      auto st_r = TEDUH_TRY(cached(sql));
      Statement& st = *st_r;
      st.bind_blob(1, id_bytes(scope));
      if (std::string_view(sql).find("?2") != std::string_view::npos) {
        st.bind_blob(2, id_bytes(identity_.device)).bind(3, static_cast<std::int64_t>(acked_seq));
      }
      TEDUH_TRY(lift(st.run()));
    }
    return held;
  });
}

Result<void> Store::put_projection(const sync::EntityId& scope, std::int64_t server_seq, std::string_view body,
                                   const crypto::Signature& signature) {
  auto st_r = TEDUH_TRY(cached(
      "INSERT INTO projections(scope, server_seq, body, signature) VALUES(?1, ?2, ?3, ?4) "
      "ON CONFLICT(scope) DO UPDATE SET server_seq = excluded.server_seq, body = excluded.body, "
      "signature = excluded.signature WHERE excluded.server_seq >= projections.server_seq"));
  Statement& st = *st_r;
  st.bind_blob(1, id_bytes(scope)).bind(2, server_seq).bind(3, body).bind_blob(4, signature);
  return lift(st.run());
}

Result<std::vector<std::string>> Store::projection_bodies() const {
  auto st_r = TEDUH_TRY(cached("SELECT body FROM projections ORDER BY scope"));
  Statement& st = *st_r;
  std::vector<std::string> out;
  for (;;) {
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) break;
    out.push_back(st.column_text(0));
  }
  return out;
}

Result<void> Store::replace_directory(const std::vector<DirectoryOffice>& offices,
                                     const std::vector<DirectoryDevice>& devices) {
  return in_transaction([&]() -> Result<void> {
    TEDUH_TRY(lift(schema::exec(db(), "DELETE FROM directory_offices; DELETE FROM directory_devices")));
    auto office_r = TEDUH_TRY(cached(
        "INSERT INTO directory_offices(code, name, kind, region) VALUES(?1, ?2, ?3, ?4) "
        "ON CONFLICT(code) DO UPDATE SET name = excluded.name, kind = excluded.kind, region = excluded.region"));
    for (const DirectoryOffice& o : offices) {
      office_r->reset();
      office_r->bind(1, o.code).bind(2, o.name).bind(3, o.kind).bind(4, o.region);
      TEDUH_TRY(lift(office_r->run()));
    }
    auto device_r = TEDUH_TRY(cached(
        "INSERT INTO directory_devices(device, sign_key, office) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(device) DO UPDATE SET sign_key = excluded.sign_key, office = excluded.office"));
    for (const DirectoryDevice& d : devices) {
      device_r->reset();
      device_r->bind_blob(1, id_bytes(d.device)).bind_blob(2, d.sign_key).bind(3, d.office);
      TEDUH_TRY(lift(device_r->run()));
    }
    return set_meta("directory_at", std::to_string(sync::system_now_ms()));
  });
}

Result<std::optional<std::vector<DirectoryOffice>>> Store::directory_offices() const {
  auto received = TEDUH_TRY(meta("directory_at"));
  if (!received) return std::optional<std::vector<DirectoryOffice>>{};
  auto st_r = TEDUH_TRY(cached("SELECT code, name, kind, region FROM directory_offices ORDER BY code"));
  Statement& st = *st_r;
  std::vector<DirectoryOffice> out;
  for (;;) {
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) break;
    out.push_back(DirectoryOffice{st.column_text(0), st.column_text(1), st.column_text(2), st.column_text(3)});
  }
  st.reset();
  return std::optional<std::vector<DirectoryOffice>>{std::move(out)};
}

Result<void> Store::record_refusal(std::uint64_t seq, std::uint32_t reason, std::string_view detail) {
  auto st_r = TEDUH_TRY(cached(
      "INSERT INTO refused_commits(seq, reason, detail) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(seq) DO UPDATE SET reason = excluded.reason, detail = excluded.detail"));
  st_r->bind(1, static_cast<std::int64_t>(seq)).bind(2, static_cast<std::int64_t>(reason)).bind(3, detail);
  TEDUH_TRY(lift(st_r->run()));
  // The refused commit stays here but no longer counts: what it superseded is live
  // again, as on every other replica (rebuild_merge_state, at the end of the sync).
  return set_meta("merge_rebuild", "1");
}

Result<void> Store::flag_refused_overlap(const sync::Commit& commit) {
  auto any = TEDUH_TRY(cached(kAnyRefusedSql));
  if (!TEDUH_TRY(exists_row(*any))) return {};
  auto st_r = TEDUH_TRY(cached(
      "SELECT EXISTS (SELECT 1 FROM versions WHERE entity = ?1 AND device = ?2 AND live = 1 "
      "AND seq IN (SELECT seq FROM refused_commits))"));
  Statement& st = *st_r;
  for (std::size_t i = 0; i < commit.versions.size(); ++i) {
    const sync::EntityId& entity = commit.versions[i].entity;
    if (i > 0 && commit.versions[i - 1].entity == entity) continue;
    st.bind_blob(1, id_bytes(entity)).bind_blob(2, id_bytes(identity_.device));
    if (TEDUH_TRY(exists_row(st))) return set_meta("merge_rebuild", "1");
  }
  return {};
}

Result<bool> Store::written_only_by_refused(const sync::EntityId& entity) const {
  auto any = TEDUH_TRY(cached(kAnyRefusedSql));
  if (!TEDUH_TRY(exists_row(*any))) return false;
  auto st_r = TEDUH_TRY(cached(
      "SELECT EXISTS (SELECT 1 FROM versions v WHERE v.entity = ?1 AND v.device = ?2 "
      "AND v.seq IN (SELECT seq FROM refused_commits)) AND NOT EXISTS (SELECT 1 FROM versions o "
      "WHERE o.entity = ?1 AND NOT (o.device = ?2 AND o.seq IN (SELECT seq FROM refused_commits)))"));
  Statement& st = *st_r;
  st.bind_blob(1, id_bytes(entity)).bind_blob(2, id_bytes(identity_.device));
  return exists_row(st);
}

Result<std::optional<std::string>> Store::refusal_for(const sync::EntityId& entity) const {
  auto st_r = TEDUH_TRY(cached(
      "SELECT r.detail FROM versions v JOIN refused_commits r ON r.seq = v.seq "
      "WHERE v.entity = ?1 AND v.device = ?2 ORDER BY v.seq LIMIT 1"));
  Statement& st = *st_r;
  st.bind_blob(1, id_bytes(entity)).bind_blob(2, id_bytes(identity_.device));
  auto row = TEDUH_TRY(lift(st.step()));
  if (!row) return std::optional<std::string>{};
  std::string detail = st.column_text(0);
  st.reset();
  return std::optional<std::string>{std::move(detail)};
}

Result<std::int64_t> Store::next_counter(std::string_view name) {
  std::string key = "counter:" + std::string(name);
  auto current = TEDUH_TRY(meta(key));
  std::int64_t next = (current ? std::stoll(*current) : 0) + 1;
  TEDUH_TRY(set_meta(key, std::to_string(next)));
  return next;
}

Result<schema::Statement*> Store::cached(const char* sql) const {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    auto st = TEDUH_TRY(lift(Statement::prepare(db(), sql)));  // e.g. the schema could not be read
    it = statements_.emplace(sql, std::move(st)).first;
  }
  it->second.reset();
  return &it->second;
}

Result<crypto::DbHandle> Store::open_companion() const {
  auto db = store_key_.empty() ? crypto::open_plain(path_, crypto::OpenMode::existing)
                               : crypto::open_encrypted(path_, store_key_, crypto::OpenMode::existing);
  if (!db) return tl::unexpected(from_crypto(db.error()));
  return std::move(*db);
}

// BEGIN IMMEDIATE waits (busy timeout, crypto::kBusyTimeoutMs) for another connection's
// write lock. Once it holds the lock, the counters are read again: another process on the
// same store (the office app, a second `teduh`) may have committed since this one read
// them, and its seq must not be taken twice.
Result<void> Store::begin() {
  seq_at_begin_ = next_seq_;
  TEDUH_TRY(lift(schema::exec(db(), "BEGIN IMMEDIATE")));
  if (auto r = load_counters(); !r) {
    (void)schema::exec(db(), "ROLLBACK");
    next_seq_ = seq_at_begin_;
    return r;
  }
  seq_at_begin_ = next_seq_;
  return {};
}
Result<void> Store::commit_transaction() {
  Result<void> c = clock_unsaved_ ? save_clock() : Result<void>{};
  if (c) c = lift(schema::exec(db(), "COMMIT"));
  if (!c) {
    // A COMMIT refused by the disk (I/O error, disk full) undid the transaction or left it
    // open: either way it is rolled back and the counters read again, as after any
    // rollback, so the next commit takes the same seq (tests/support/fault_vfs_test.cpp).
    rollback();
    return c;
  }
  clock_unsaved_ = false;  // only once the COMMIT holds it
  return {};
}
// After a rollback the sequence counter is read back from the store, so a commit that was
// undone leaves no gap in this device's sequence (the server accepts sequences in order).
// When the store cannot be read (the disk failing), it goes back to where it began.
void Store::rollback() {
  (void)schema::exec(db(), "ROLLBACK");
  if (!load_counters()) next_seq_ = seq_at_begin_;
}
Result<void> Store::savepoint() { return lift(schema::exec(db(), "SAVEPOINT teduh_nested")); }
Result<void> Store::release_savepoint() { return lift(schema::exec(db(), "RELEASE teduh_nested")); }
void Store::rollback_savepoint() {
  (void)schema::exec(db(), "ROLLBACK TO teduh_nested");
  (void)schema::exec(db(), "RELEASE teduh_nested");
  (void)load_counters();
}

Result<sync::Commit> Store::write(const sync::EntityId& scope, std::string_view scope_type,
                                  std::vector<FieldWrite> writes, const CommitCheck& check) {
  // Keep the last write of each (entity, field): one version per field per commit.
  std::vector<FieldWrite> unique;
  unique.reserve(writes.size());
  for (auto it = writes.rbegin(); it != writes.rend(); ++it) {
    bool seen = std::any_of(unique.begin(), unique.end(), [&](const FieldWrite& w) {
      return w.entity == it->entity && w.field == it->field;
    });
    if (!seen) unique.push_back(std::move(*it));
  }
  std::reverse(unique.begin(), unique.end());
  if (unique.empty()) return fail(Errc::usage, "Nothing to write.");
  for (const auto& w : unique) {
    auto spec = schema::find_entity_spec(w.entity_type);
    if (!spec) return fail(Errc::internal, "Unknown entity type " + w.entity_type + ".");
    auto ok = schema::check_canonical(spec->type, w.field, w.value);
    if (!ok) return tl::unexpected(from_schema(ok.error()));
  }

  return in_transaction([&]() -> Result<sync::Commit> {
    sync::Commit c;
    c.device = identity_.device;
    c.seq = next_seq_;
    c.scope = scope;
    c.scope_type = std::string(scope_type);
    auto live_r = TEDUH_TRY(cached(
        "SELECT device, seq, idx FROM versions WHERE entity = ?1 AND field = ?2 AND live = 1"));
    Statement& live = *live_r;
    for (auto& w : unique) {
      sync::Version v;
      v.entity = w.entity;
      v.entity_type = std::move(w.entity_type);
      v.field = std::move(w.field);
      v.value = std::move(w.value);
      v.hlc = clock_.tick();
      live.reset();
      live.bind_blob(1, id_bytes(v.entity)).bind(2, v.field);
      for (;;) {
        auto row = TEDUH_TRY(lift(live.step()));
        if (!row) break;
        v.supersedes.push_back(sync::VersionId{id_from(live.column_blob(0)),
                                               static_cast<std::uint64_t>(live.column_int(1)),
                                               static_cast<std::uint32_t>(live.column_int(2))});
      }
      c.hlc = std::max(c.hlc, v.hlc);
      c.versions.push_back(std::move(v));
    }
    if (check) TEDUH_TRY(check(c));
    auto signed_commit = sync::sign_commit(c, identity_.signing_key);
    auto refusal = TEDUH_TRY(apply_commit(c, signed_commit, std::nullopt));
    if (refusal) return fail(Errc::refused, "This change was not saved: " + *refusal + ".");
    TEDUH_TRY(set_meta("seq", std::to_string(c.seq)));
    TEDUH_TRY(set_meta("hlc", std::to_string(clock_.last())));
    ++next_seq_;
    return c;
  });
}

Result<bool> Store::apply_remote(const sync::SignedCommit& signed_commit,
                                 const sync::Commit& commit, std::int64_t server_seq) {
  auto st_r = TEDUH_TRY(cached("SELECT server_seq FROM commits WHERE device = ?1 AND seq = ?2"));
  Statement& st = *st_r;
  st.bind_blob(1, id_bytes(commit.device)).bind(2, static_cast<std::int64_t>(commit.seq));
  auto row = TEDUH_TRY(lift(st.step()));
  if (row) {
    auto upd_r = TEDUH_TRY(cached("UPDATE commits SET server_seq = ?3 WHERE device = ?1 AND seq = ?2"));
    Statement& upd = *upd_r;
    upd.bind_blob(1, id_bytes(commit.device))
        .bind(2, static_cast<std::int64_t>(commit.seq))
        .bind(3, server_seq);
    TEDUH_TRY(lift(upd.run()));
    return false;
  }
  auto refusal = TEDUH_TRY(apply_commit(commit, signed_commit, server_seq));
  if (refusal) {
    // Skipped whole and not stored (PROTOCOL.md section 5): the pull goes on, and the
    // sync reports it.
    refused_.push_back(RefusedCommit{commit.device, commit.seq, std::move(*refusal)});
    return false;
  }
  // A record that only refused commits of this device wrote is shown with them; once
  // another commit writes it, they no longer count there (rebuild_merge_state), as on
  // every replica that never received them. Found by the simulation, seed 25519: a
  // restored store's re-issued copy of a commit was refused, then the original came back
  // from the server (fetch_own) and both counted, a two-valued field nowhere else.
  TEDUH_TRY(flag_refused_overlap(commit));
  // Follow the remote clock (bounded: a clock far ahead is clamped, PROTOCOL.md).
  if (!clock_.observe(commit.hlc, sync::system_now_ms()) &&
      std::find(clock_ahead_.begin(), clock_ahead_.end(), commit.device) == clock_ahead_.end()) {
    clock_ahead_.push_back(commit.device);
  }
  // The clock is persisted once per transaction (commit_transaction), not once per
  // commit: a pulled batch of 1,000 commits writes it once.
  clock_unsaved_ = true;
  if (sqlite3_get_autocommit(db()) != 0) {
    TEDUH_TRY(save_clock());
    clock_unsaved_ = false;
  }
  return true;
}

Result<void> Store::save_clock() { return set_meta("hlc", std::to_string(clock_.last())); }

namespace {

// Rows per multi-row INSERT of apply_commit.
constexpr std::size_t kRowsPerInsert = 16;
enum class MultiRow { versions, fields };

// INSERT statements of 1 to kRowsPerInsert rows: versions (7 values a row, live = 1) and
// fields (5 values a row, live_count = 1). One statement of many rows costs much less
// than as many one-row statements (a fifth of a pull's time, BENCHMARKS.md). Built once;
// their addresses key the statement cache.
const char* multi_row_sql(MultiRow kind, std::size_t rows) {
  static const auto kTable = [] {
    std::array<std::array<std::string, kRowsPerInsert + 1>, 2> t;
    for (std::size_t n = 1; n <= kRowsPerInsert; ++n) {
      std::string v = "INSERT OR IGNORE INTO versions(device, seq, idx, entity, field, value, hlc, live) VALUES ";
      std::string f = "INSERT INTO fields(entity, field, value, hlc, device, live_count) VALUES ";
      for (std::size_t r = 0; r < n; ++r) {
        v += r == 0 ? "(?, ?, ?, ?, ?, ?, ?, 1)" : ", (?, ?, ?, ?, ?, ?, ?, 1)";
        f += r == 0 ? "(?, ?, ?, ?, ?, 1)" : ", (?, ?, ?, ?, ?, 1)";
      }
      f += " ON CONFLICT(entity, field) DO UPDATE SET value = excluded.value, hlc = excluded.hlc, "
           "device = excluded.device, live_count = excluded.live_count";
      t[0][n] = std::move(v);
      t[1][n] = std::move(f);
    }
    return t;
  }();
  return kTable[kind == MultiRow::versions ? 0 : 1][rows].c_str();
}

}  // namespace

Result<std::optional<std::string>> Store::apply_commit(const sync::Commit& commit,
                                                       const sync::SignedCommit& signed_commit,
                                                       std::optional<std::int64_t> server_seq) {
  // Every entity belongs to one scope and has one type, fixed by the first commit that
  // writes it (PROTOCOL.md section 5, "Entities and scopes"). Checked for every entity of
  // the commit before anything is written: a commit that breaks it is applied not at all.
  auto held_r = TEDUH_TRY(cached("SELECT scope, type FROM entities WHERE id = ?1"));
  Statement& held = *held_r;
  std::vector<sync::EntityId> known;    // entities of this commit, in order of first version
  std::vector<std::uint32_t> first_version;  // the index of known[k]'s first version
  std::vector<bool> fresh;              // known[k] is not yet in this replica
  for (std::uint32_t i = 0; i < commit.versions.size(); ++i) {
    const sync::Version& v = commit.versions[i];
    auto k = std::find(known.begin(), known.end(), v.entity);
    if (k != known.end()) {
      // One entity, one type, within the commit too.
      if (commit.versions[first_version[static_cast<std::size_t>(k - known.begin())]].entity_type != v.entity_type) {
        return std::optional<std::string>{"the commit writes one entity under two entity types"};
      }
      continue;
    }
    held.reset();
    held.bind_blob(1, id_bytes(v.entity));
    auto row = TEDUH_TRY(lift(held.step()));
    if (row) {
      if (id_from(held.column_blob(0)) != commit.scope) {
        return std::optional<std::string>{"the commit writes an entity that belongs to another scope"};
      }
      if (held.column_text(1) != v.entity_type) {
        return std::optional<std::string>{"the commit writes an entity under another entity type"};
      }
    }
    known.push_back(v.entity);
    first_version.push_back(i);
    fresh.push_back(!row);
  }
  held.reset();

  auto ins_commit_r = TEDUH_TRY(cached(
      "INSERT INTO commits(device, seq, scope, scope_type, hlc, body, signature, server_seq) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  Statement& ins_commit = *ins_commit_r;
  ins_commit.bind_blob(1, id_bytes(commit.device))
      .bind(2, static_cast<std::int64_t>(commit.seq))
      .bind_blob(3, id_bytes(commit.scope))
      .bind(4, commit.scope_type)
      .bind(5, static_cast<std::int64_t>(commit.hlc))
      .bind_blob(6, signed_commit.body)
      .bind_blob(7, signed_commit.signature);
  if (server_seq) {
    ins_commit.bind(8, *server_seq);
  } else {
    ins_commit.bind_null(8);
  }
  TEDUH_TRY(lift(ins_commit.run()));

  auto ins_entity_r =
      cached("INSERT INTO entities(id, type, scope, created_hlc) VALUES(?1, ?2, ?3, ?4)");
  if (!ins_entity_r) return tl::unexpected(ins_entity_r.error());
  Statement& ins_entity = **ins_entity_r;
  auto ins_superseded_r = TEDUH_TRY(cached(kInsertSupersededSql));
  Statement& ins_superseded = *ins_superseded_r;
  auto kill_r = TEDUH_TRY(cached(
      "UPDATE versions SET live = 0 WHERE device = ?1 AND seq = ?2 AND idx = ?3 AND entity = ?4 "
      "AND field = ?5 AND live = 1"));
  Statement& kill = *kill_r;
  auto is_superseded_r = TEDUH_TRY(cached(
      "SELECT 1 FROM superseded WHERE entity = ?1 AND field = ?2 AND device = ?3 AND seq = ?4 AND idx = ?5"));
  Statement& is_superseded = *is_superseded_r;
  auto ins_version_r = TEDUH_TRY(cached(
      "INSERT OR IGNORE INTO versions(device, seq, idx, entity, field, value, hlc, live) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  Statement& ins_version = *ins_version_r;
  auto shown_r = TEDUH_TRY(cached(
      "SELECT value, hlc, device FROM versions WHERE entity = ?1 AND field = ?2 AND live = 1 "
      "ORDER BY hlc DESC, device DESC"));
  Statement& shown = *shown_r;
  auto put_field_r = TEDUH_TRY(cached(
      "INSERT INTO fields(entity, field, value, hlc, device, live_count) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(entity, field) DO UPDATE SET "
      "value = excluded.value, hlc = excluded.hlc, device = excluded.device, "
      "live_count = excluded.live_count"));
  Statement& put_field = *put_field_r;
  auto drop_field_r = TEDUH_TRY(cached("DELETE FROM fields WHERE entity = ?1 AND field = ?2"));
  Statement& drop_field = *drop_field_r;

  auto insert_version = [&](std::uint32_t i, bool live) {
    const sync::Version& v = commit.versions[i];
    ins_version.reset();
    ins_version.bind_blob(1, id_bytes(commit.device))
        .bind(2, static_cast<std::int64_t>(commit.seq))
        .bind(3, static_cast<std::int64_t>(i))
        .bind_blob(4, id_bytes(v.entity))
        .bind(5, v.field)
        .bind(6, v.value)
        .bind(7, static_cast<std::int64_t>(v.hlc))
        .bind(8, std::int64_t{live ? 1 : 0});
    return lift(ins_version.run());
  };
  // Records the shown value and live count of v's field.
  auto show = [&](const sync::Version& v, const std::string& value, std::int64_t hlc,
                  std::span<const std::uint8_t> device, int live_count) {
    put_field.reset();
    put_field.bind_blob(1, id_bytes(v.entity))
        .bind(2, v.field)
        .bind(3, value)
        .bind(4, hlc)
        .bind_blob(5, device)
        .bind(6, std::int64_t{live_count});
    return lift(put_field.run());
  };
  // The entities this commit creates, each with the hlc of its first version.
  for (std::size_t k = 0; k < known.size(); ++k) {
    if (!fresh[k]) continue;
    const sync::Version& v = commit.versions[first_version[k]];
    ins_entity.reset();
    ins_entity.bind_blob(1, id_bytes(v.entity))
        .bind(2, v.entity_type)
        .bind_blob(3, id_bytes(commit.scope))
        .bind(4, static_cast<std::int64_t>(v.hlc));
    TEDUH_TRY(lift(ins_entity.run()));
  }
  auto created = [&](const sync::EntityId& e) {
    return fresh[static_cast<std::size_t>(std::find(known.begin(), known.end(), e) - known.begin())];
  };
  std::vector<std::uint32_t> alone;     // versions live and alone in their field (below)
  for (std::uint32_t i = 0; i < commit.versions.size(); ++i) {
    const sync::Version& v = commit.versions[i];

    // An entity this commit created has no other versions here, and no row of
    // `superseded` names its entity: such rows are written only while a version of the
    // entity is applied, after its entity row (above), and leave with it (purge_scope).
    // A version naming this entity's future ids from another entity or field lands
    // under that other (entity, field) and cannot touch it. A version of it that
    // supersedes nothing is therefore live and alone in its field: it is stored and
    // shown without the lookups below. (A commit holds at most one version per field,
    // sync-protocol decode_commit_body, so no other version of this commit shares it.)
    // They are written together after this loop, many rows per statement.
    if (v.supersedes.empty() && created(v.entity)) {
      alone.push_back(i);
      continue;
    }

    for (const auto& s : v.supersedes) {
      TEDUH_TRY(insert_superseded(ins_superseded, v, s));
      kill.reset();
      kill.bind_blob(1, id_bytes(s.device))
          .bind(2, static_cast<std::int64_t>(s.seq))
          .bind(3, static_cast<std::int64_t>(s.index))
          .bind_blob(4, id_bytes(v.entity))
          .bind(5, v.field);
      TEDUH_TRY(lift(kill.run()));
    }
    is_superseded.reset();
    is_superseded.bind_blob(1, id_bytes(v.entity))
        .bind(2, v.field)
        .bind_blob(3, id_bytes(commit.device))
        .bind(4, static_cast<std::int64_t>(commit.seq))
        .bind(5, static_cast<std::int64_t>(i));
    auto dead = TEDUH_TRY(lift(is_superseded.step()));

    TEDUH_TRY(insert_version(i, !dead));

    // Recompute the shown value of this field from its live versions.
    shown.reset();
    shown.bind_blob(1, id_bytes(v.entity)).bind(2, v.field);
    int live_count = 0;
    std::string value;
    std::int64_t hlc = 0;
    std::vector<std::uint8_t> device;
    for (;;) {
      auto row = TEDUH_TRY(lift(shown.step()));
      if (!row) break;
      if (live_count++ == 0) {
        value = shown.column_text(0);
        hlc = shown.column_int(1);
        device = shown.column_blob(2);
      }
    }
    if (live_count == 0) {
      drop_field.reset();
      drop_field.bind_blob(1, id_bytes(v.entity)).bind(2, v.field);
      TEDUH_TRY(lift(drop_field.run()));
    } else {
      TEDUH_TRY(show(v, value, hlc, device, live_count));
    }
  }
  // The versions of entities created in this commit that supersede nothing: live, alone
  // in their field, and shown as they are. Their rows touch no other version of this
  // commit (a commit holds one version per field), so they can wait until here.
  for (std::size_t first = 0; first < alone.size(); first += kRowsPerInsert) {
    const std::size_t rows = std::min(kRowsPerInsert, alone.size() - first);
    auto versions_r = TEDUH_TRY(cached(multi_row_sql(MultiRow::versions, rows)));
    auto fields_r = TEDUH_TRY(cached(multi_row_sql(MultiRow::fields, rows)));
    Statement& versions = *versions_r;
    Statement& fields = *fields_r;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint32_t i = alone[first + r];
      const sync::Version& v = commit.versions[i];
      const int vp = static_cast<int>(r) * 7, fp = static_cast<int>(r) * 5;
      versions.bind_blob(vp + 1, id_bytes(commit.device))
          .bind(vp + 2, static_cast<std::int64_t>(commit.seq))
          .bind(vp + 3, static_cast<std::int64_t>(i))
          .bind_blob(vp + 4, id_bytes(v.entity))
          .bind(vp + 5, v.field)
          .bind(vp + 6, v.value)
          .bind(vp + 7, static_cast<std::int64_t>(v.hlc));
      fields.bind_blob(fp + 1, id_bytes(v.entity))
          .bind(fp + 2, v.field)
          .bind(fp + 3, v.value)
          .bind(fp + 4, static_cast<std::int64_t>(v.hlc))
          .bind_blob(fp + 5, id_bytes(commit.device));
    }
    TEDUH_TRY(lift(versions.run()));
    TEDUH_TRY(lift(fields.run()));
  }
  return std::optional<std::string>{};
}

namespace {

[[nodiscard]] Result<std::vector<EntityView>> read_views(Statement& st) {
  std::vector<EntityView> out;
  std::map<sync::EntityId, std::size_t> index;
  for (;;) {
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) break;
    sync::EntityId id = id_from(st.column_blob(0));
    auto [it, fresh] = index.try_emplace(id, out.size());
    if (fresh) {
      EntityView view;
      view.id = id;
      view.type = st.column_text(1);
      view.scope = id_from(st.column_blob(2));
      out.push_back(std::move(view));
    }
    if (!st.column_is_null(3)) {
      FieldValue fv;
      fv.value = st.column_text(4);
      fv.hlc = static_cast<sync::Hlc>(st.column_int(5));
      fv.device = id_from(st.column_blob(6));
      fv.live_count = static_cast<int>(st.column_int(7));
      out[it->second].fields.emplace(st.column_text(3), std::move(fv));
    }
  }
  return out;
}

constexpr const char* kViewColumns =
    "SELECT e.id, e.type, e.scope, f.field, f.value, f.hlc, f.device, f.live_count "
    "FROM entities e LEFT JOIN fields f ON f.entity = e.id ";

}  // namespace

// The three views are asked for many times per screen and per sync (Workflow, access
// checks): prepared once per connection (cached), reset after reading so that no read
// transaction stays open.
Result<std::vector<EntityView>> Store::entities(std::string_view type,
                                                const sync::EntityId* scope) const {
  static const std::string kInScope =
      std::string(kViewColumns) + "WHERE e.type = ?1 AND e.scope = ?2 ORDER BY e.created_hlc, e.id";
  static const std::string kOfType = std::string(kViewColumns) + "WHERE e.type = ?1 ORDER BY e.created_hlc, e.id";
  auto st_r = TEDUH_TRY(cached(scope ? kInScope.c_str() : kOfType.c_str()));
  Statement& st = *st_r;
  st.bind(1, type);
  if (scope) st.bind_blob(2, id_bytes(*scope));
  auto views = read_views(st);
  st.reset();
  return views;
}

Result<std::optional<EntityView>> Store::entity(const sync::EntityId& id) const {
  static const std::string kById = std::string(kViewColumns) + "WHERE e.id = ?1";
  auto st_r = TEDUH_TRY(cached(kById.c_str()));
  Statement& st = *st_r;
  st.bind_blob(1, id_bytes(id));
  auto views = read_views(st);
  st.reset();
  if (!views) return tl::unexpected(views.error());
  if (views->empty()) return std::optional<EntityView>{};
  return std::optional<EntityView>{std::move(views->front())};
}

Result<std::vector<LiveVersion>> Store::live_versions(const sync::EntityId& entity,
                                                      std::string_view field) const {
  auto st_r = TEDUH_TRY(cached(
      "SELECT device, seq, idx, value, hlc FROM versions WHERE entity = ?1 AND field = ?2 "
      "AND live = 1 ORDER BY hlc DESC, device DESC"));
  Statement& st = *st_r;
  st.bind_blob(1, id_bytes(entity)).bind(2, field);
  std::vector<LiveVersion> out;
  for (;;) {
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) break;
    out.push_back(
        LiveVersion{{id_from(st.column_blob(0)), static_cast<std::uint64_t>(st.column_int(1)),
                     static_cast<std::uint32_t>(st.column_int(2))},
                    st.column_text(3),
                    static_cast<sync::Hlc>(st.column_int(4))});
  }
  return out;
}

Result<std::vector<std::pair<sync::EntityId, std::string>>> Store::conflicted_fields() const {
  auto st_r =
      cached("SELECT entity, field FROM fields WHERE live_count > 1 ORDER BY entity, field");
  if (!st_r) return tl::unexpected(st_r.error());
  Statement& st = **st_r;
  std::vector<std::pair<sync::EntityId, std::string>> out;
  for (;;) {
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) break;
    out.emplace_back(id_from(st.column_blob(0)), st.column_text(1));
  }
  return out;
}

Result<std::vector<HistoryEntry>> Store::history(const sync::EntityId& scope) const {
  auto st_r = TEDUH_TRY(cached(
      "SELECT v.device, v.seq, v.idx, v.entity, e.type, v.field, v.value, v.hlc, v.live "
      "FROM versions v JOIN entities e ON e.id = v.entity WHERE e.scope = ?1 "
      "ORDER BY v.hlc, v.device, v.seq, v.idx"));
  Statement& st = *st_r;
  st.bind_blob(1, id_bytes(scope));
  std::vector<HistoryEntry> out;
  for (;;) {
    auto row = TEDUH_TRY(lift(st.step()));
    if (!row) break;
    HistoryEntry h;
    h.id = {id_from(st.column_blob(0)), static_cast<std::uint64_t>(st.column_int(1)),
            static_cast<std::uint32_t>(st.column_int(2))};
    h.entity = id_from(st.column_blob(3));
    h.entity_type = st.column_text(4);
    h.field = st.column_text(5);
    h.value = st.column_text(6);
    h.hlc = static_cast<sync::Hlc>(st.column_int(7));
    h.live = st.column_int(8) != 0;
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::optional<sync::EntityId>> Store::find_by_field(std::string_view type,
                                                           std::string_view field,
                                                           std::string_view value) const {
  if (field != "number" && field != "code_name") {
    return fail(Errc::internal, "Only a case number or a shelter code name identifies an entity, not " +
                                    std::string(field) + ".");
  }
  // The IN term repeats the WHERE of the partial index fields_by_identifier (SCHEMA.md),
  // which SQLite needs to see, word for word, to use it.
  auto st_r = TEDUH_TRY(cached(
      "SELECT f.entity FROM fields f JOIN entities e ON e.id = f.entity "
      "WHERE f.field = ?2 AND f.value = ?3 AND e.type = ?1 "
      "AND f.field IN ('number', 'code_name') LIMIT 1"));
  Statement& st = *st_r;
  st.bind(1, type).bind(2, field).bind(3, value);
  auto row = TEDUH_TRY(lift(st.step()));
  if (!row) return std::optional<sync::EntityId>{};
  const sync::EntityId found = id_from(st.column_blob(0));
  st.reset();  // no read transaction stays open (meta())
  return std::optional<sync::EntityId>{found};
}

Result<std::uint64_t> Store::reissue_own_commits(std::uint64_t first, std::uint64_t server_last) {
  if (first == 0 || server_last + 1 <= first) return std::uint64_t{0};
  const std::uint64_t shift = server_last + 1 - first;
  auto renumbered = in_transaction([&]() -> Result<std::uint64_t> {
    const auto me = id_bytes(identity_.device);
    const auto from = static_cast<std::int64_t>(first);
    const auto by = static_cast<std::int64_t>(shift);
    // The commits to re-issue, decoded and signed again under their new numbers. Their
    // versions keep entity, field, value and hlc; a supersedes entry naming one of them
    // moves with it, so the merge state stays exactly as it was.
    auto read = TEDUH_TRY(lift(Statement::prepare(
        db(), "SELECT seq, body FROM commits WHERE device = ?1 AND seq >= ?2 ORDER BY seq")));
    read.bind_blob(1, me).bind(2, from);
    std::vector<sync::SignedCommit> resigned;
    for (;;) {
      auto row = TEDUH_TRY(lift(read.step()));
      if (!row) break;
      auto commit = sync::decode_commit_body(read.column_blob(1));
      if (!commit) return fail(Errc::damaged, "A commit of this device in the store does not decode.");
      commit->seq += shift;
      for (sync::Version& v : commit->versions) {
        for (sync::VersionId& id : v.supersedes) {
          if (id.device == identity_.device && id.seq >= first) id.seq += shift;
        }
      }
      resigned.push_back(sync::sign_commit(*commit, identity_.signing_key));
    }
    // Two steps through negative numbers, so that no new number meets an old one.
    for (const char* table : {"commits", "versions", "superseded"}) {
      const std::string away = std::string("UPDATE ") + table +
                               " SET seq = -(seq + ?3) WHERE device = ?1 AND seq >= ?2";
      const std::string back = std::string("UPDATE ") + table + " SET seq = -seq WHERE device = ?1 AND seq < 0";
      auto a = TEDUH_TRY(lift(Statement::prepare(db(), away)));
      a.bind_blob(1, me).bind(2, from).bind(3, by);
      TEDUH_TRY(lift(a.run()));
      auto b = TEDUH_TRY(lift(Statement::prepare(db(), back)));
      b.bind_blob(1, me);
      TEDUH_TRY(lift(b.run()));
    }
    auto put = TEDUH_TRY(lift(Statement::prepare(
        db(), "UPDATE commits SET body = ?3, signature = ?4, server_seq = NULL WHERE device = ?1 AND seq = ?2")));
    std::uint64_t last = last_seq();
    for (const sync::SignedCommit& sc : resigned) {
      put.reset();
      put.bind_blob(1, me).bind(2, static_cast<std::int64_t>(sc.seq)).bind_blob(3, sc.body).bind_blob(4, sc.signature);
      TEDUH_TRY(lift(put.run()));
      last = std::max(last, sc.seq);
    }
    TEDUH_TRY(set_meta("seq", std::to_string(std::max(last, server_last))));
    // A refusal recorded under a number that moved no longer names its commit: that
    // commit is new work under its new number, judged again when it is pushed, and the
    // old number will hold the server's commit fetched back (fetch_own), which a stale
    // row would mark refused. Its versions count again until the server answers.
    auto stale = TEDUH_TRY(lift(Statement::prepare(db(), "DELETE FROM refused_commits WHERE seq >= ?1")));
    stale.bind(1, from);
    TEDUH_TRY(lift(stale.run()));
    if (sqlite3_changes(db()) > 0) TEDUH_TRY(set_meta("merge_rebuild", "1"));
    return static_cast<std::uint64_t>(resigned.size());
  });
  if (!renumbered) return renumbered;
  TEDUH_TRY(load_counters());
  return renumbered;
}

}  // namespace teduh::client
