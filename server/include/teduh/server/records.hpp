#pragma once
// The rows the server keeps, independent of the storage backend (storage.hpp).
// Times are milliseconds since the Unix epoch (UTC), like the rest of the protocol.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "teduh/crypto/keys.hpp"
#include "teduh/sync/ids.hpp"
#include "teduh/sync/wire.hpp"

namespace teduh::server {

struct OfficeRecord {
  std::string code;
  std::string name;
  std::string kind;    // jenis_kantor code
  std::string region;  // BPS kode wilayah, may be empty
  std::string parent;  // office code, may be empty
  std::int64_t created_at_ms = 0;
};

struct EnrollmentRecord {
  sync::Id128 code_id;
  std::string office;
  std::string user;
  std::string role;  // peran_pengguna code
  bool shelter = false;
  std::int64_t expires_at_ms = 0;
  std::int64_t issued_at_ms = 0;
  std::optional<sync::DeviceId> used_by;
  std::optional<std::int64_t> used_at_ms;
};

struct DeviceRecord {
  sync::DeviceId device_id;
  crypto::SignPublicKey sign_key{};
  std::string office;
  std::string user;
  std::string role;
  bool shelter = false;
  sync::Id128 code_id;
  std::int64_t registered_at_ms = 0;
  std::optional<std::int64_t> revoked_at_ms;
  std::optional<std::int64_t> last_seen_at_ms;
  // Set by `teduhd device clear`: the device receives the shelter compartment's keys.
  std::optional<std::int64_t> cleared_at_ms;

  [[nodiscard]] bool revoked() const { return revoked_at_ms.has_value(); }
  [[nodiscard]] bool cleared() const { return cleared_at_ms.has_value(); }
};

// A compartment's key state (PROTOCOL.md section 5D). generation 0: none made yet.
struct CompartmentState {
  std::string compartment;
  std::uint32_t generation = 0;
  bool rotation_pending = false;  // a cleared device was revoked since the last rotation
};

// One generation key of one compartment, sealed to one recipient (a device, or the
// administrator: sync::kAdminRecipient) and signed by the administrator key.
struct KeyWrapRecord {
  std::string compartment;
  std::uint32_t generation = 0;
  sync::Id128 recipient;
  std::vector<std::uint8_t> sealed;
  crypto::Signature signature{};
  std::int64_t created_at_ms = 0;
};

// Where an entity belongs (PROTOCOL.md section 5, "Entities and scopes"): the scope and
// type of the first stored commit that wrote it. Never changes.
struct EntityPlace {
  sync::EntityId entity;
  sync::EntityId scope;
  std::string type;
};

// One commit in the server's log, stored and forwarded unaltered.
struct LogEntry {
  std::int64_t server_seq = 0;  // assigned by the storage on append
  sync::DeviceId device;
  std::uint64_t seq = 0;
  sync::EntityId scope;
  std::string scope_type;
  std::vector<std::uint8_t> body;
  crypto::Signature signature{};
  std::int64_t received_at_ms = 0;
  // Not stored in the log: the commit writes a referral, consent or transfer, so the
  // storage marks its scope for the sharing to be recomputed (access_dirty).
  bool touches_access = false;
  // Not stored in the log: the entities the commit writes, each with the commit's scope
  // and the entity's type. The storage records the ones it has not seen (entity_scopes).
  std::vector<EntityPlace> entities;
};

// A scope (case, shelter, office) as the server knows it: who created it, which office owns it.
struct ScopeRecord {
  sync::EntityId scope;
  std::string type;
  std::string owner_office;
  sync::DeviceId created_by;
};

// An office's hold on a case it does not own (scope_access, SCHEMA.md section 4.3).
struct ScopeGrant {
  sync::EntityId scope;
  std::string office;
  std::string via;                         // "rujukan", "alih_kelola" or "pemilik"
  std::int64_t granted_at = 0;             // log head when gained
  std::optional<std::int64_t> revoked_at;  // log head when lost; nullopt while held
  [[nodiscard]] bool active() const { return !revoked_at.has_value(); }
};

// A position inside the backfill of the cases an office gained at one log position
// (PROTOCOL.md section 5B): the pull cursor a device holds while it receives them.
struct PullToken {
  std::int64_t id = 0;        // assigned by the storage
  sync::DeviceId device;      // the device it was handed to; no other may use it
  std::int64_t gain_at = 0;   // the log position at which the office gained the cases
  std::int64_t base = 0;      // the plain cursor the device pulled from when it reached gain_at
  std::int64_t last = 0;      // the last server_seq of the backfill already sent (0: none)
};

// Why a pushed commit was refused: the wire's reason enum, the one of client and server.
using RejectReason = sync::wire::RejectReason;

// A device sequence number the server refused after its signature verified.
struct Refusal {
  sync::DeviceId device;
  std::uint64_t seq = 0;
  RejectReason reason = RejectReason::invalid_commit;
  std::int64_t at_ms = 0;
  // BLAKE2b-256 of the refused commit's body: a commit sent again under this seq is the
  // same one only if its body has this digest (empty for refusals recorded before
  // server store step 6, which cannot tell).
  std::vector<std::uint8_t> digest;
};

// The number `refused_commits.reason` holds for a reason, in every backend (SCHEMA.md
// section 4.3). It is not the wire number: the server once had a reason enum of its own,
// and the databases written then hold its numbers, so the stored form keeps them:
//   1 wrong_device, 2 bad_signature, 3 invalid_commit (then "malformed": the body did not
//   decode; read only, never written now), 4 invalid_commit, 5 out_of_order,
//   6 not_authorized, 7 seq_taken (then "conflict"), 8 never written (then clock_too_far).
// Only 3, 4 and 6 occur in practice: the other reasons are never consumed.
std::int64_t stored_reason(RejectReason reason);
// The reason a stored number means. A number no server wrote reads as invalid_commit, the
// reason the device was told for any refusal of an unknown kind.
RejectReason reason_from_stored(std::int64_t stored);

}  // namespace teduh::server
