#pragma once
// The server's storage, behind one interface (DESIGN.md section 2).
//
// The encrypted SQLite store (sqlite_storage.hpp) is the embedded default; a PostgreSQL
// backend will implement the same interface so that several stateless `teduhd`
// processes can share one database. Everything above this interface (ServerStore,
// AccessPolicy, the sync service) is free of SQL. What each backend must guarantee is
// written on each operation; the operations that must be atomic say so.
//
// A Storage object is used from one thread at a time.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/crypto/secure.hpp"
#include "teduh/server/error.hpp"
#include "teduh/server/records.hpp"

namespace teduh::server {

enum class AppendStatus {
  stored,     // new: appended under a fresh server_seq
  duplicate,  // (device, seq) was already in the log with the same body; its server_seq
  conflict,   // (device, seq) was already in the log with a different body; nothing stored
};

struct AppendResult {
  AppendStatus status = AppendStatus::stored;
  std::int64_t server_seq = 0;  // stored or duplicate: the entry's server_seq; conflict: 0
};

class Storage {
 public:
  virtual ~Storage() = default;

  // A read snapshot over a run of reads (the checks of a push batch, a pull): between
  // begin_read and end_read every read sees one state of the store, and a backend may
  // serve them without a transaction each. Every write method ends an open snapshot
  // first (a write never joins it), so a caller reads, then writes. begin_read inside a
  // snapshot and end_read outside one do nothing. A backend without snapshots keeps
  // these defaults: each read stands alone, as before.
  [[nodiscard]] virtual Result<void> begin_read() { return {}; }
  virtual void end_read() {}

  // Secrets of the server itself (its signing key), kept inside the encrypted store.
  [[nodiscard]] virtual Result<std::optional<crypto::SecretBytes>> load_secret(std::string_view name) = 0;
  // Fails with already_exists if a secret of that name is already stored.
  [[nodiscard]] virtual Result<void> store_secret(std::string_view name, crypto::ByteView value) = 0;

  // Fails with already_exists when the code is taken.
  [[nodiscard]] virtual Result<void> add_office(const OfficeRecord& office) = 0;
  [[nodiscard]] virtual Result<std::optional<OfficeRecord>> find_office(std::string_view code) = 0;
  // Ordered by code.
  [[nodiscard]] virtual Result<std::vector<OfficeRecord>> list_offices() = 0;

  // Fails with already_exists when the code id is taken.
  [[nodiscard]] virtual Result<void> add_enrollment(const EnrollmentRecord& enrollment) = 0;
  [[nodiscard]] virtual Result<std::optional<EnrollmentRecord>> find_enrollment(const sync::Id128& code_id) = 0;

  // Atomically: marks enrollment device.code_id used by device.device_id at
  // device.registered_at_ms, and inserts the device. Succeeds only if the enrollment
  // exists, is unused and expires after registered_at_ms; otherwise fails with refused
  // and changes nothing. Fails with already_exists (and changes nothing) when the device
  // id or signing key is already registered. Two concurrent calls with one code: exactly
  // one succeeds.
  [[nodiscard]] virtual Result<void> register_device(const DeviceRecord& device) = 0;
  [[nodiscard]] virtual Result<std::optional<DeviceRecord>> find_device(const sync::DeviceId& device_id) = 0;
  [[nodiscard]] virtual Result<std::optional<DeviceRecord>> find_device_by_key(const crypto::SignPublicKey& key) = 0;
  // Ordered by registration time, then device id.
  [[nodiscard]] virtual Result<std::vector<DeviceRecord>> list_devices() = 0;
  // Sets revoked_at once. Returns false if the device was already revoked;
  // fails with not_found for an unknown device.
  [[nodiscard]] virtual Result<bool> revoke_device(const sync::DeviceId& device_id, std::int64_t now_ms) = 0;
  [[nodiscard]] virtual Result<void> touch_device(const sync::DeviceId& device_id, std::int64_t now_ms) = 0;

  // The shelter compartment (PROTOCOL.md section 5D). The storage holds only sealed
  // wraps and signatures.
  // The state of one compartment; generation 0 and not pending when none was made.
  [[nodiscard]] virtual Result<CompartmentState> compartment_state(std::string_view compartment) = 0;
  [[nodiscard]] virtual Result<std::vector<CompartmentState>> list_compartments() = 0;
  // Atomically: stores the wraps of a new generation and makes it current, clearing the
  // pending mark. Fails with conflict (nothing stored) unless the current generation is
  // generation - 1.
  [[nodiscard]] virtual Result<void> add_generation(std::string_view compartment, std::uint32_t generation,
                                                    std::span<const KeyWrapRecord> wraps) = 0;
  // Atomically (teduhd admin move-key): replaces the secret `name` with `value` and the
  // sealed value and signature of each given administrator wrap (same recipient,
  // compartment and generation). Fails with conflict (nothing stored) unless `wraps` are
  // exactly the wraps stored for their recipient, and with not_found when `name` is unset.
  [[nodiscard]] virtual Result<void> replace_admin_wraps(std::string_view name, crypto::ByteView value,
                                                         std::span<const KeyWrapRecord> wraps) = 0;
  // Atomically: marks the device cleared (keeping an earlier clearance time) and stores
  // the wraps (a wrap already stored for the same recipient and generation is kept).
  // Fails with conflict (nothing stored) when `compartment` is no longer at `generation`
  // (a rotation ran meanwhile, so the wraps would miss the newest one).
  [[nodiscard]] virtual Result<void> clear_device(const sync::DeviceId& device_id, std::int64_t now_ms,
                                                  std::string_view compartment, std::uint32_t generation,
                                                  std::span<const KeyWrapRecord> wraps) = 0;
  // Marks every compartment that has a generation as needing a rotation.
  [[nodiscard]] virtual Result<void> mark_rotation_pending() = 0;
  // The wraps addressed to one recipient, ordered by compartment then generation.
  [[nodiscard]] virtual Result<std::vector<KeyWrapRecord>> key_wraps_for(const sync::Id128& recipient) = 0;

  // Every table as text, for `teduhd debug dump`: what the store holds, decrypted page
  // by page but with nothing end-to-end encrypted opened (commit bodies as stored).
  [[nodiscard]] virtual Result<std::string> dump_text() = 0;
  // Reads every page of every table and index through the store's normal (decrypting)
  // open and runs SQLite's quick_check. Fails with damaged, naming what failed (no
  // values), when a page does not decrypt or the structure is broken.
  [[nodiscard]] virtual Result<void> verify_store() = 0;

  // Atomically appends a batch: either every result is returned and every `stored` entry
  // is durable, or the call fails and nothing is stored. Each entry's scope is recorded
  // (scopes table) the first time it is seen, owned by owner_office and created by the
  // entry's device; so is each entity of a stored entry (entity_scopes), under the
  // entry's scope; a stored entry with touches_access marks its scope dirty. Entries
  // are deduplicated by (device, seq), see AppendStatus. The refusals are recorded in
  // the same transaction (an already recorded (device, seq) is left as it is).
  [[nodiscard]] virtual Result<std::vector<AppendResult>> append_commits(std::span<const LogEntry> entries,
                                                                          std::string_view owner_office,
                                                                          std::span<const Refusal> refusals = {}) = 0;
  // The refusal recorded for (device, seq), if any.
  [[nodiscard]] virtual Result<std::optional<Refusal>> find_refusal(const sync::DeviceId& device,
                                                                     std::uint64_t seq) = 0;
  // The greatest seq of this device in the log or among its refusals, 0 when none.
  [[nodiscard]] virtual Result<std::uint64_t> last_seq(const sync::DeviceId& device) = 0;
  // Up to `limit` entries with server_seq > after, in server_seq order.
  [[nodiscard]] virtual Result<std::vector<LogEntry>> read_log(std::int64_t after, std::size_t limit) = 0;
  // The greatest server_seq, 0 for an empty log.
  [[nodiscard]] virtual Result<std::int64_t> head() = 0;

  [[nodiscard]] virtual Result<std::optional<ScopeRecord>> find_scope(const sync::EntityId& scope) = 0;
  // The scope and type an entity was first stored under (entity_scopes), if any.
  [[nodiscard]] virtual Result<std::optional<EntityPlace>> find_entity(const sync::EntityId& entity) = 0;
  // Every entry of one scope with server_seq <= upto, in server_seq order.
  [[nodiscard]] virtual Result<std::vector<LogEntry>> read_scope(const sync::EntityId& scope, std::int64_t upto) = 0;

  // Backfill of gained cases (PROTOCOL.md section 5B): the entries of `scopes` with
  // server_seq in (after, upto] that are at or before `base`, or written by `device`
  // (a device may have purged its own), in server_seq order, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<LogEntry>> read_backfill(std::span<const sync::EntityId> scopes,
                                                                    const sync::DeviceId& device, std::int64_t base,
                                                                    std::int64_t after, std::int64_t upto,
                                                                    std::size_t limit) = 0;
  // One device's own entries with seq > after_seq, in seq order, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<LogEntry>> read_own(const sync::DeviceId& device, std::uint64_t after_seq,
                                                               std::size_t limit) = 0;
  // Pull tokens (PROTOCOL.md section 5B): a position inside a backfill, recorded when a
  // reply hands it out. Returns the new token's id (>= 1). Tokens are never changed.
  [[nodiscard]] virtual Result<std::int64_t> add_pull_token(const PullToken& token) = 0;
  [[nodiscard]] virtual Result<std::optional<PullToken>> find_pull_token(std::int64_t id) = 0;
  // Forgets the device's tokens whose backfill ends at or before `upto`: the device has
  // pulled from a plain cursor at or past their gain position, so it needs none of them.
  [[nodiscard]] virtual Result<void> drop_pull_tokens(const sync::DeviceId& device, std::int64_t upto) = 0;

  // Sharing of cases (SCHEMA.md section 4.3).
  [[nodiscard]] virtual Result<std::vector<ScopeGrant>> scope_grants(const sync::EntityId& scope) = 0;
  // Rows of one office gained or lost after a log position (granted_at > after, or
  // revoked_at > after), ordered by scope.
  [[nodiscard]] virtual Result<std::vector<ScopeGrant>> grant_changes(std::string_view office,
                                                                      std::int64_t after) = 0;
  // Scopes marked dirty by append_commits and not yet recomputed.
  [[nodiscard]] virtual Result<std::vector<sync::EntityId>> dirty_scopes() = 0;
  // Atomically: writes the rows (insert or replace by (scope, office)), sets the scope's
  // owner office when new_owner is given, and clears the scope's dirty mark.
  [[nodiscard]] virtual Result<void> update_access(const sync::EntityId& scope, std::span<const ScopeGrant> rows,
                                                   const std::optional<std::string>& new_owner) = 0;
};

}  // namespace teduh::server
