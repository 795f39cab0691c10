#pragma once
// The office store: one encrypted SQLite file per office device (DESIGN.md sections 3-5).
//
// Everything in it is a version inside a commit. A local action is one commit: its
// versions, all in one scope, are signed with the device key, appended to `commits`, and
// applied to `versions` / `fields` in the same transaction. Commits received from the
// server are applied by the same code path, so a replica's state depends only on the set
// of commits it holds (the merge rule, sync-protocol/merge.hpp), never on their order.
//
// Tables (schema/SCHEMA.md): `versions` keeps every version ever received, `superseded`
// every version id named in any supersedes list (a version is live iff its id is not
// there), and `fields` the shown value and live count of each (entity, field), kept up to
// date on every apply so that lists read one row per field.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "teduh/client/error.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/enrollment.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::client {

// Who this device is: fixed at `teduh init`, stored inside the encrypted store.
struct Identity {
  sync::DeviceId device;
  crypto::SigningKey signing_key;
  sync::EnrollmentGrant grant;
  std::string enrollment_code;  // kept to register on first contact with the server
  std::string server_address;   // HOST:PORT
  crypto::SignPublicKey server_key{};
};

struct FieldWrite {
  sync::EntityId entity;
  std::string entity_type;
  std::string field;
  std::string value;  // canonical text, already validated
};

struct FieldValue {
  std::string value;   // the shown value: the live version with the greatest (hlc, device)
  int live_count = 1;  // more than one: a conflict a person must resolve
  sync::Hlc hlc = 0;
  sync::DeviceId device;
};

struct EntityView {
  sync::EntityId id;
  std::string type;
  sync::EntityId scope;
  std::map<std::string, FieldValue> fields;
  // The shown value of a field, or "" when it was never written.
  [[nodiscard]] const std::string& get(std::string_view field) const;
  [[nodiscard]] bool deleted() const { return get("_deleted") == "1"; }
};

struct LiveVersion {
  sync::VersionId id;
  std::string value;
  sync::Hlc hlc = 0;
};

// A pulled commit the replica did not apply (Store::apply_remote): its author and
// sequence, and why (a sentence naming no field value).
struct RefusedCommit {
  sync::DeviceId device;
  std::uint64_t seq = 0;
  std::string reason;
};

struct HistoryEntry {
  sync::VersionId id;
  sync::EntityId entity;
  std::string entity_type;
  std::string field;
  std::string value;
  sync::Hlc hlc = 0;
  bool live = false;
};

// The directory the server lists at every sync (WIRE.md "Directory"; SCHEMA.md 4.7).
struct DirectoryOffice {
  std::string code;
  std::string name;
  std::string kind;    // jenis_kantor
  std::string region;  // BPS kode wilayah
};

struct DirectoryDevice {
  sync::DeviceId device;
  crypto::SignPublicKey sign_key{};
  std::string office;
};

struct StoreOptions {
  std::filesystem::path path;
  std::string passphrase;
  crypto::KdfParams kdf = crypto::KdfParams::moderate();
  // Benchmarks only: the same store on SQLite's plain VFS, to measure what encryption
  // costs. Never for real data; open() always expects an encrypted store.
  bool plain_for_benchmark = false;
};

class Store {
 public:
  // Creates the key file and the encrypted store and records the identity. Refuses
  // (Errc::refused) when a store is already there; nothing is overwritten.
  [[nodiscard]] static Result<Store> create(const StoreOptions& options, Identity identity);
  // Opens an existing store. Wrong passphrase, missing key file, not a Teduh store, newer
  // schema: Errc::refused with one sentence; the files are untouched.
  [[nodiscard]] static Result<Store> open(const std::filesystem::path& path, std::string_view passphrase);
  // Rewraps the store key under a new passphrase with a fresh salt and `params`
  // (crypto/FORMATS.md section 1): only the key file is replaced, atomically; the store is
  // not rewritten and the old passphrase stops opening it. refused for a wrong old one.
  [[nodiscard]] static Result<void> change_passphrase(const std::filesystem::path& path, std::string_view old_passphrase,
                                        std::string_view new_passphrase, const crypto::KdfParams& params);

  Store(Store&&) noexcept = default;
  Store& operator=(Store&&) noexcept = default;

  const Identity& identity() const { return identity_; }
  sqlite3* db() const { return db_.get(); }

  // One local action: signs the writes as one commit in `scope` and applies it, in one
  // transaction (or inside the caller's, when one is open). Writes to the same field of
  // the same entity twice in one call keep the last. Each version supersedes the live
  // versions of its field that this replica holds. `check`, when given, sees the commit
  // as it will be signed (supersedes filled in) and may refuse it: then nothing is
  // written and its error is returned (the workflow's permission check, workflow.cpp).
  using CommitCheck = std::function<Result<void>(const sync::Commit&)>;
  [[nodiscard]] Result<sync::Commit> write(const sync::EntityId& scope, std::string_view scope_type,
                             std::vector<FieldWrite> writes, const CommitCheck& check = {});

  // Applies a commit received from the server (already verified by the caller) inside the
  // caller's transaction. Returns false when the replica already held it (idempotent);
  // in that case only its server_seq is recorded. Returns false too, and applies and
  // stores nothing of it, when the commit names an entity this replica holds under
  // another scope or type (PROTOCOL.md section 5, "Entities and scopes"): the whole
  // commit is skipped, never an error, so a pull never stops on it; the skip is reported
  // through take_refused_commits().
  [[nodiscard]] Result<bool> apply_remote(const sync::SignedCommit& signed_commit, const sync::Commit& commit,
                            std::int64_t server_seq);

  // Deletes everything this replica holds of a scope (a Purge from the server, PROTOCOL.md
  // section 5B): entities, fields, versions and commits, with secure_delete on so freed
  // pages are zeroed. Keeps only this device's own commits after acked_seq (not yet
  // acknowledged by the server), so its sequence stays without gaps. Returns whether the
  // replica held anything of the scope. Runs inside the caller's transaction when open.
  [[nodiscard]] Result<bool> purge_scope(const sync::EntityId& scope, std::uint64_t acked_seq);

  // A store restored from an older copy (PROTOCOL.md section 5B): the server already holds
  // this device's seqs up to server_last under other bodies. Renumbers this device's
  // commits from `first` on to server_last + 1, server_last + 2, ... in order, signed
  // again (their versions and the merge state unchanged; supersedes entries naming them
  // follow), and makes the next local commit come after them. Returns how many moved.
  // Runs inside the caller's transaction when one is open.
  [[nodiscard]] Result<std::uint64_t> reissue_own_commits(std::uint64_t first, std::uint64_t server_last);

  // Runs fn inside one transaction (BEGIN IMMEDIATE ... COMMIT; rollback on error), or
  // inside a savepoint of the caller's transaction when one is open.
  template <class Fn>
  auto in_transaction(Fn&& fn) -> decltype(fn());

  // Reads.
  [[nodiscard]] Result<std::vector<EntityView>> entities(std::string_view type,
                                           const sync::EntityId* scope = nullptr) const;
  [[nodiscard]] Result<std::optional<EntityView>> entity(const sync::EntityId& id) const;
  [[nodiscard]] Result<std::vector<LiveVersion>> live_versions(const sync::EntityId& entity,
                                                 std::string_view field) const;
  // (entity, field) pairs with more than one live version.
  [[nodiscard]] Result<std::vector<std::pair<sync::EntityId, std::string>>> conflicted_fields() const;
  // Every version of every entity in a scope, oldest first.
  [[nodiscard]] Result<std::vector<HistoryEntry>> history(const sync::EntityId& scope) const;
  // The entity whose `field` shows `value`: a case by its `number`, a shelter by its
  // `code_name` (the two fields the index fields_by_identifier holds; others are refused).
  [[nodiscard]] Result<std::optional<sync::EntityId>> find_by_field(std::string_view type, std::string_view field,
                                                      std::string_view value) const;

  // De-identified projections (central office devices, PROTOCOL.md section 5C): stores
  // one, replacing an older one of the same case (by server_seq); lists the bodies.
  [[nodiscard]] Result<void> put_projection(const sync::EntityId& scope, std::int64_t server_seq, std::string_view body,
                              const crypto::Signature& signature);
  [[nodiscard]] Result<std::vector<std::string>> projection_bodies() const;

  // The directory: replaced as a whole (one transaction, or the caller's), and marked
  // received (meta directory_at). directory_offices() is nullopt until a first one came.
  [[nodiscard]] Result<void> replace_directory(const std::vector<DirectoryOffice>& offices,
                                 const std::vector<DirectoryDevice>& devices);
  [[nodiscard]] Result<std::optional<std::vector<DirectoryOffice>>> directory_offices() const;
  // A commit of this device that the server refused and consumed (PushReply rejection).
  [[nodiscard]] Result<void> record_refusal(std::uint64_t seq, std::uint32_t reason, std::string_view detail);
  // When meta merge_rebuild is set (by the schema step v4_scoped_supersedes, or by
  // record_refusal): rebuilds superseded, versions.live and fields from the commit
  // bodies held, so that this device's refused commits supersede nothing. A no-op
  // otherwise; sync_with_server calls it after recording refusals, and again after
  // applying what it fetched and pulled.
  [[nodiscard]] Result<void> rebuild_merge_state();
  // Sets meta merge_rebuild when `commit`, just applied, writes an entity on which
  // refused commits of this device still count (they were its only writers until now).
  [[nodiscard]] Result<void> flag_refused_overlap(const sync::Commit& commit);
  // True when only commits of this device that the server refused wrote this entity: no
  // other replica holds it, so it must not be written again (the workflow refuses).
  [[nodiscard]] Result<bool> written_only_by_refused(const sync::EntityId& entity) const;
  // The server's sentence when a refused commit of this device wrote this entity.
  [[nodiscard]] Result<std::optional<std::string>> refusal_for(const sync::EntityId& entity) const;

  // Small counters and settings kept in the meta table.
  [[nodiscard]] Result<std::optional<std::string>> meta(std::string_view key) const;
  [[nodiscard]] Result<void> set_meta(std::string_view key, std::string_view value);
  // The values of every meta key that begins with `prefix`, by key.
  [[nodiscard]] Result<std::vector<std::string>> meta_values_with_prefix(std::string_view prefix) const;
  // Returns the next value of a named per-device counter (starting at 1), persisted.
  [[nodiscard]] Result<std::int64_t> next_counter(std::string_view name);

  // Devices whose commits, applied since the last call, carried a clock more than
  // sync::kMaxDriftMs ahead of this machine's (PROTOCOL.md section 2: reported, not refused).
  std::vector<sync::DeviceId> take_clock_warnings() { return std::exchange(clock_ahead_, {}); }
  // Pulled commits skipped since the last call because they name an entity this replica
  // holds under another scope or type (apply_remote).
  std::vector<RefusedCommit> take_refused_commits() { return std::exchange(refused_, {}); }

  // A second connection to this store's file (same store key, no migration), for a
  // helper thread such as BackgroundCheckpoint. SQLite's WAL lets it run beside this one.
  [[nodiscard]] Result<crypto::DbHandle> open_companion() const;
  // A second Store on this store's file, from the key this one already holds (no
  // passphrase, no key derivation), for another thread: the office app's background sync
  // (client/APP.md). Two Stores on one file behave like two processes on it: each write
  // takes the write lock and reads the counters again (begin()). Refused for a store
  // opened on the plain VFS (benchmarks).
  [[nodiscard]] Result<Store> open_again() const;

  // Sync bookkeeping.
  std::uint64_t last_seq() const { return next_seq_ - 1; }
  sync::Hlc now() { return clock_.tick(); }
  sync::HlcClock& clock() { return clock_; }

 private:
  Store(crypto::DbHandle db, Identity identity);
  // Store::open after the key is unwrapped: opens, migrates, reads the identity.
  [[nodiscard]] static Result<Store> open_with_key(const std::filesystem::path& path, crypto::SecretBytes key);
  [[nodiscard]] Result<void> load_counters();
  [[nodiscard]] Result<void> save_clock();  // writes the clock to meta; the caller clears clock_unsaved_
  // Applies a commit unless it names an entity held under another scope or type (or one
  // entity under two types): then nothing is written and the reason is returned.
  [[nodiscard]] Result<std::optional<std::string>> apply_commit(const sync::Commit& commit,
                                                  const sync::SignedCommit& signed_commit,
                                                  std::optional<std::int64_t> server_seq);
  // A prepared statement kept for the life of the connection, reset and ready to bind.
  // `sql` must live as long as the store (a string literal, or a static string): its
  // address is the cache key.
  [[nodiscard]] Result<schema::Statement*> cached(const char* sql) const;
  [[nodiscard]] Result<void> begin();
  [[nodiscard]] Result<void> commit_transaction();
  void rollback();
  [[nodiscard]] Result<void> savepoint();
  [[nodiscard]] Result<void> release_savepoint();
  void rollback_savepoint();

  crypto::DbHandle db_;
  std::filesystem::path path_;
  crypto::SecretBytes store_key_;  // what the open connection already holds; empty if plain
  // Declared after db_ so the statements are finalized before the connection closes.
  mutable std::map<const char*, schema::Statement> statements_;
  Identity identity_;
  sync::HlcClock clock_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t seq_at_begin_ = 1;  // next_seq_ when the outermost transaction began
  std::vector<sync::DeviceId> clock_ahead_;
  std::vector<RefusedCommit> refused_;
  bool clock_unsaved_ = false;  // apply_remote moved the clock; commit_transaction saves it
};

template <class Fn>
auto Store::in_transaction(Fn&& fn) -> decltype(fn()) {
  // Inside an open transaction this nests as a savepoint, so a failure undoes only fn.
  const bool nested = sqlite3_get_autocommit(db()) == 0;
  TEDUH_TRY(nested ? savepoint() : begin());
  auto result = fn();
  if (!result) {
    nested ? rollback_savepoint() : rollback();
    return result;
  }
  TEDUH_TRY(nested ? release_savepoint() : commit_transaction());
  return result;
}

}  // namespace teduh::client
