#pragma once
// The server's state and rules: offices, enrollment, the device registry, and the commit
// log with its push and pull rules (DESIGN.md sections 4 and 5). It holds a Storage
// (storage.hpp) and no SQL; the network (serve.hpp) and the admin CLI (cli.hpp) call it.
//
// Push: a device's commits are accepted only from that device (authenticated by its
// Noise static key), with a valid signature by its registered key, in device-sequence
// order without gaps, with every version canonical for the schema, and allowed by the
// AccessPolicy. A refused commit is never stored and gets a typed rejection; a commit
// already in the log is acknowledged again with its server_seq. A batch is stored in one
// transaction, so an acknowledgement is only ever sent for durable commits.
//
// Pull: commits after a cursor (a server_seq), in server_seq order, in batches bounded
// by count and bytes, filtered by AccessPolicy::may_read. The returned cursor moves past
// commits the device may not read, so a pull never rescans them. Cases the office gained
// after the cursor arrive as a backfill in pages of the same bounds, named by pull tokens
// (kPullTokenBase; PROTOCOL.md section 5B rule 6).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/crypto/kdf.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/server/access_policy.hpp"
#include "teduh/server/admin_key.hpp"
#include "teduh/server/error.hpp"
#include "teduh/server/records.hpp"
#include "teduh/server/scope_access.hpp"
#include "teduh/server/storage.hpp"
#include "teduh/sync/enrollment.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::server {

struct NewOffice {
  std::string code;
  std::string name;
  std::string kind;
  std::string region;
  std::string parent;
};

struct EnrollRequest {
  std::string office;
  std::string user;
  std::string role;
  bool shelter = false;
  int days = 14;
};

struct IssuedEnrollment {
  sync::Id128 code_id;
  std::string code;  // the text form ("TDH1....") to hand to the user
  std::int64_t expires_at_ms = 0;
};


struct PushResult {
  std::uint64_t seq = 0;
  bool accepted = false;
  std::int64_t server_seq = 0;  // accepted: where the commit sits in the log
  RejectReason reason = RejectReason::invalid_commit;  // refused: why (records.hpp)
  std::string message;                          // refused: one sentence, no field values
  // refused because the device may not write there, in a scope it may not read either:
  // the device should drop its local copy (the session sends a Purge with its next pull).
  std::optional<sync::EntityId> purge_scope;
};

struct PullLimits {
  std::size_t max_commits = 500;
  std::size_t max_bytes = std::size_t{4} * 1024 * 1024;  // sum of bodies; at least one commit is always sent
};

struct PullBatch {
  std::vector<sync::EntityId> purge;  // cases this device's office lost: to delete first
  std::vector<LogEntry> commits;      // server_seq ascending
  std::int64_t cursor = 0;  // pass back as `after` for the next batch: a log position, or a token
  bool more = false;        // true when the log holds entries after cursor
};

// A pull cursor at or above this value is not a log position but a pull token: a place
// inside the backfill of the cases an office gained (PROTOCOL.md section 5B). Log
// positions never come near it; devices treat every cursor as opaque.
inline constexpr std::int64_t kPullTokenBase = std::int64_t{1} << 62;

// A device's own commits as the server holds them (PROTOCOL.md section 5B, "A store
// restored from an older copy"), seq ascending.
struct OwnBatch {
  std::vector<LogEntry> commits;
  std::uint64_t last_seq = 0;  // the greatest seq this batch covered: pass back as after_seq
  bool more = false;
};

// One de-identified projection of a case, signed by the server (projection.hpp).
struct ProjectionItem {
  sync::EntityId scope;
  std::int64_t server_seq = 0;  // the last log position of the case it reflects
  std::string body;             // JSON document (projection.hpp)
  crypto::Signature signature{};
};

struct ProjectionPage {
  std::vector<ProjectionItem> items;
  std::int64_t cursor = 0;  // pass back for the next page
  bool more = false;
};

// One page of the directory every device receives (WIRE.md "Directory"): offices by
// code, then devices by registration. The cursor counts the entries of both lists sent
// so far; entries are only ever added, so a later page may repeat one, never skip one.
struct DirectoryPage {
  std::vector<OfficeRecord> offices;
  std::vector<DeviceRecord> devices;  // revoked ones too: their earlier commits stay valid
  std::uint64_t cursor = 0;
  bool more = false;
};

std::int64_t now_ms();

class ServerStore {
 public:
  // Creates DIR/server.db with a new server signing key. Fails with already_exists
  // when DIR holds a store.
  [[nodiscard]] static Result<ServerStore> create(const std::filesystem::path& dir, std::string_view passphrase,
                                                  const crypto::KdfParams& params);
  // Opens DIR/server.db. Fails with refused (wrong passphrase, not a store, newer version).
  [[nodiscard]] static Result<ServerStore> open(const std::filesystem::path& dir, std::string_view passphrase);
  // Over any backend that already holds a signing key (fails with refused otherwise).
  [[nodiscard]] static Result<ServerStore> over(std::unique_ptr<Storage> storage);

  [[nodiscard]] const crypto::SigningKey& signing_key() const { return key_; }
  // The Ed25519 public key as base64url: what `teduhd init` prints and clients pin.
  [[nodiscard]] std::string public_key_text() const;
  // A stable id of this server, derived from its public key (BLAKE2b-128).
  [[nodiscard]] sync::Id128 server_id() const;

  // Validates kind (jenis_kantor) and region (schema::normalize_region: stored as its
  // canonical digits; a malformed code is refused in Indonesian), refuses a duplicate code
  // and an unknown parent.
  [[nodiscard]] Result<void> add_office(const NewOffice& office, std::int64_t now = now_ms());
  [[nodiscard]] Result<std::vector<OfficeRecord>> list_offices();
  // The directory from `after` (a DirectoryPage cursor), at most max_entries entries.
  [[nodiscard]] Result<DirectoryPage> directory(std::uint64_t after, std::size_t max_entries);

  // Validates office (must exist), user (non-empty), role (peran_pengguna), days (1..365),
  // records the issuance and returns the signed one-time code.
  [[nodiscard]] Result<IssuedEnrollment> issue_enrollment(const EnrollRequest& request,
                                                          std::int64_t now = now_ms());

  // Registers a device with a one-time code. The code must verify with this server's key,
  // be unexpired and unused; it is consumed atomically. Repeating the same registration
  // (same code, device id and key) succeeds again, so a lost reply can be retried.
  [[nodiscard]] Result<DeviceRecord> register_device(std::string_view code, const sync::DeviceId& device_id,
                                                     const crypto::SignPublicKey& sign_key,
                                                     std::int64_t now = now_ms());
  // Returns false if already revoked; not_found for an unknown device.
  [[nodiscard]] Result<bool> revoke_device(const sync::DeviceId& device_id, std::int64_t now = now_ms());
  [[nodiscard]] Result<std::vector<DeviceRecord>> list_devices();
  [[nodiscard]] Result<std::optional<DeviceRecord>> find_device(const sync::DeviceId& device_id);
  [[nodiscard]] Result<std::optional<DeviceRecord>> find_device_by_key(const crypto::SignPublicKey& key);
  // The device whose Noise static key (the X25519 form of its signing key) is dh_key.
  // Keeps an in-memory index from X25519 to Ed25519 keys; a miss adds the devices
  // registered since (a signing key never changes, so no entry goes stale).
  [[nodiscard]] Result<std::optional<DeviceRecord>> find_device_by_dh(const crypto::DhPublicKey& dh_key);
  [[nodiscard]] Result<void> touch_device(const sync::DeviceId& device_id, std::int64_t now = now_ms());

  // One result per commit, in order. Fails (nothing stored) only when storage fails or
  // the device is revoked.
  [[nodiscard]] Result<std::vector<PushResult>> push(const DeviceRecord& device,
                                                     std::span<const sync::SignedCommit> commits,
                                                     std::int64_t now = now_ms());
  // The last device seq the server holds (acknowledged), 0 when none.
  [[nodiscard]] Result<std::uint64_t> last_acked(const sync::DeviceId& device);
  // `after` is a log position (0 at first) or a pull token from an earlier batch.
  [[nodiscard]] Result<PullBatch> pull(const DeviceRecord& device, std::int64_t after, PullLimits limits = {});
  // The device's own commits with seq > after_seq in scopes it may read now, for a device
  // whose store was restored from an older copy and lacks some of them.
  [[nodiscard]] Result<OwnBatch> pull_own(const DeviceRecord& device, std::uint64_t after_seq, PullLimits limits = {});

  // The projections of every case changed after a log position (each case once, as it
  // is now), for a device of the central office (kind pusat) whose role may make
  // reports; Errc::refused for any other device.
  [[nodiscard]] Result<ProjectionPage> projections(const DeviceRecord& device, std::int64_t after,
                                                   std::size_t max_items);

  // The shelter compartment (PROTOCOL.md section 5D). The store keeps the administrator's
  // public keys (written by `teduhd init` / `teduhd admin init`), sealed wraps and
  // signatures; the functions that take an AdminKey run in the admin CLI only.
  [[nodiscard]] Result<void> set_admin_public(const AdminPublic& keys);
  // `teduhd admin move-key`: the administrator's box key becomes `renewed`'s. Every
  // administrator wrap is opened with `current`'s box key, sealed to the new one and
  // signed again, and the new public key recorded, in one transaction. Both keys share
  // the signing key the store records (devices pinned it). Returns the wraps moved; 0 and
  // nothing changed when the store already records `renewed`.
  [[nodiscard]] Result<std::size_t> renew_admin_box(const AdminKey& current, const AdminKey& renewed,
                                                    std::int64_t now = now_ms());
  [[nodiscard]] Result<std::optional<AdminPublic>> admin_public();
  [[nodiscard]] Result<CompartmentState> compartment_state(std::string_view compartment);
  [[nodiscard]] Result<std::vector<CompartmentState>> list_compartments();
  // A new random generation key, sealed to every cleared, non-revoked device and to the
  // administrator's box key, each wrap signed. Returns the new generation and the number
  // of devices it reached. refused when `admin` is not the store's administrator key.
  struct Rotation {
    std::uint32_t generation = 0;
    std::size_t devices = 0;
  };
  [[nodiscard]] Result<Rotation> rotate_compartment(const AdminKey& admin, std::string_view compartment,
                                                    std::int64_t now = now_ms());
  // Marks a device cleared and wraps every generation (current and past) to it,
  // creating generation 1 when none exists. The device must be registered, not revoked,
  // and enrolled with shelter clearance. Returns the number of generations it holds.
  [[nodiscard]] Result<std::uint32_t> clear_device(const AdminKey& admin, const sync::DeviceId& device,
                                                   std::string_view compartment, std::int64_t now = now_ms());
  // The wraps addressed to one device (none unless it is cleared and not revoked).
  [[nodiscard]] Result<std::vector<KeyWrapRecord>> key_wraps_for(const DeviceRecord& device);
  // Every table of the store as text (`teduhd debug dump`).
  [[nodiscard]] Result<std::string> dump_text() { return storage_->dump_text(); }
  // Storage::verify_store: `teduhd serve` refuses to start on a damaged store.
  [[nodiscard]] Result<void> verify_store() { return storage_->verify_store(); }

  [[nodiscard]] const AccessPolicy& policy() const { return policy_; }

 private:
  ServerStore(std::unique_ptr<Storage> storage, crypto::SigningKey key);
  [[nodiscard]] Result<std::string> office_kind(const std::string& office);  // "" for an unknown office
  // nullopt, or why a commit's referral or transfer names an office that does not exist.
  [[nodiscard]] Result<std::optional<std::string>> unknown_office_refusal(const sync::Commit& commit);
  [[nodiscard]] Result<bool> shared_with(const sync::EntityId& scope, const std::string& office);
  // The case's access state from its whole log, each commit with the office and role of
  // the device that wrote it; the origin is the office of the device that created it.
  [[nodiscard]] Result<CaseAccess> load_case_access(const sync::EntityId& scope);
  // Recomputes who shares one case from its referral, consent and transfer records.
  [[nodiscard]] Result<void> refresh_access(const sync::EntityId& scope);
  [[nodiscard]] Result<void> refresh_dirty_scopes();
  [[nodiscard]] Result<crypto::SecretBytes> dedup_key();
  // AccessPolicy::may_read for one scope, remembered in `cache` for the rest of a pull.
  [[nodiscard]] Result<bool> may_read_scope(const DeviceRecord& device, const std::string& kind, const sync::EntityId& scope,
                              const std::string& type, const sync::DeviceId& first_writer,
                              std::map<sync::EntityId, bool>& cache);
  // The scopes the office gained at exactly log position `at` that the device may read now.
  [[nodiscard]] Result<std::vector<sync::EntityId>> gained_at(const DeviceRecord& device, const std::string& kind,
                                                std::int64_t at, std::map<sync::EntityId, bool>& cache);
  // The opening of a device's read of the log (pull, pull_own): refuses a revoked device,
  // begins the read snapshot (which the caller's guard ends), lifts the batch size to at
  // least one commit, and answers the office kind the batch is judged by.
  [[nodiscard]] Result<std::string> begin_device_read(const DeviceRecord& device,
                                                      PullLimits& limits);
  // One page of the backfill a pull token names.
  [[nodiscard]] Result<PullBatch> pull_backfill(const DeviceRecord& device, const std::string& kind, const PullToken& token,
                                  const PullLimits& limits);
  [[nodiscard]] Result<void> check_admin(const AdminKey& admin);
  // nullopt, or why a commit's sealed values are under a generation that is not current,
  // or why a secret field is written empty (a sealed value is never blanked).
  [[nodiscard]] Result<std::optional<std::string>> generation_refusal(const sync::Commit& commit,
                                                        std::map<std::string, std::uint32_t>& current);
  // Why the commit may not be stored because it names an entity under another scope or
  // type than the one it was created with (in the log, or earlier in this push).
  [[nodiscard]] Result<std::optional<std::string>> entity_refusal(const sync::Commit& commit,
                                                    const std::map<sync::EntityId, EntityPlace>& batch_entities);
  // `verified` is verify_commit's result when the caller already ran it (push verifies a
  // batch in parallel); empty, check_commit verifies.
  std::optional<PushResult> check_commit(const DeviceRecord& device, const sync::SignedCommit& signed_commit,
                                         std::int64_t now, sync::Commit& decoded,
                                         std::optional<sync::Result<sync::Commit>> verified = std::nullopt);

  std::unique_ptr<Storage> storage_;
  crypto::SigningKey key_;
  AccessPolicy policy_;
  std::map<crypto::DhPublicKey, crypto::SignPublicKey> dh_index_;
  std::set<crypto::SignPublicKey> dh_indexed_;  // signing keys already converted into dh_index_
  std::map<std::string, std::string> office_kinds_;
};

}  // namespace teduh::server
