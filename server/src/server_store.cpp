#include "teduh/server/server_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "teduh/schema/codes.hpp"
#include "teduh/schema/entities.hpp"
#include "teduh/schema/validate.hpp"
#include "teduh/schema/permissions.hpp"
#include "teduh/schema/region.hpp"
#include "teduh/server/projection.hpp"
#include "teduh/server/sqlite_storage.hpp"
#include "teduh/sync/compartment.hpp"
#include "teduh/sync/hlc.hpp"

namespace teduh::server {
namespace {

constexpr std::string_view kSigningKeyName = "server_signing_key";
constexpr std::string_view kAdminSignName = "admin_sign_public_key";
constexpr std::string_view kAdminBoxName = "admin_box_public_key";
constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr int kMaxEnrollDays = 365;
constexpr std::size_t kMaxNameBytes = 200;
constexpr std::size_t kMaxCodeBytes = 32;

bool is_code_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

bool valid_office_code(std::string_view code) {
  return !code.empty() && code.size() <= kMaxCodeBytes && std::all_of(code.begin(), code.end(), is_code_char);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  if (name.front() == ' ' || name.back() == ' ') return false;
  return std::none_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

bool in_code_set(std::string_view set, std::string_view code) {
  const schema::CodeSet* cs = schema::find_code_set(set);
  return cs != nullptr && cs->contains(code);
}

std::string known_codes(std::string_view set) {
  std::string out;
  if (const schema::CodeSet* cs = schema::find_code_set(set)) {
    for (const schema::Code& c : cs->codes) {
      if (!out.empty()) out += ", ";
      out += c.code;
    }
  }
  return out;
}

std::string_view scope_name(schema::ScopeKind kind) {
  switch (kind) {
    case schema::ScopeKind::office: return "office";
    case schema::ScopeKind::kasus: return "kasus";
    case schema::ScopeKind::rumah_aman: return "rumah_aman";
  }
  return "";
}

PushResult rejected(std::uint64_t seq, RejectReason reason, std::string message) {
  PushResult r;
  r.seq = seq;
  r.accepted = false;
  r.reason = reason;
  r.message = std::move(message);
  return r;
}

// One read snapshot of the storage over a run of checks (Storage::begin_read), ended
// when the guard goes out of scope; a write through the storage ends it earlier.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Storage& storage) : storage_(&storage) {}
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  ~ReadSnapshot() { storage_->end_read(); }
  [[nodiscard]] Result<void> begin() { return storage_->begin_read(); }

 private:
  Storage* storage_;
};

// The compartment key an administrator wrap holds, once the wrap is found to carry the
// administrator's signature and to open with the administrator's box key; a wrap that
// does neither means a damaged store.
[[nodiscard]] Result<crypto::SecretBytes> open_admin_wrap(const AdminKey& admin,
                                                          const KeyWrapRecord& w) {
  if (!crypto::verify_signature(
          admin.sign.public_key(),
          sync::wrap_signed_bytes(w.compartment, w.generation, w.recipient, w.sealed),
          w.signature)) {
    return fail(Errc::damaged,
                "an administrator wrap in the store does not carry the administrator's signature");
  }
  auto key = crypto::open_sealed(admin.box, w.sealed);
  if (!key || key->size() != sync::kCompartmentKeySize) {
    return fail(Errc::damaged,
                "an administrator wrap in the store does not open with the administrator key");
  }
  return std::move(*key);
}

// What a refusal records of the refused commit (Refusal::digest): its body's BLAKE2b-256.
std::vector<std::uint8_t> refusal_digest(const sync::SignedCommit& commit) {
  return crypto::blake2b(commit.body, 32);
}

}  // namespace

std::int64_t now_ms() { return static_cast<std::int64_t>(sync::system_now_ms()); }

std::int64_t stored_reason(RejectReason reason) {
  switch (reason) {
    case RejectReason::wrong_device: return 1;
    case RejectReason::bad_signature: return 2;
    case RejectReason::invalid_commit: return 4;
    case RejectReason::out_of_order: return 5;
    case RejectReason::not_authorized: return 6;
    case RejectReason::seq_taken: return 7;
  }
  return 4;
}

RejectReason reason_from_stored(std::int64_t stored) {
  switch (stored) {
    case 1: return RejectReason::wrong_device;
    case 2: return RejectReason::bad_signature;
    case 3:  // then "malformed"
    case 4: return RejectReason::invalid_commit;
    case 5: return RejectReason::out_of_order;
    case 6: return RejectReason::not_authorized;
    case 7: return RejectReason::seq_taken;  // then "conflict"
    default: return RejectReason::invalid_commit;
  }
}

ServerStore::ServerStore(std::unique_ptr<Storage> storage, crypto::SigningKey key)
    : storage_(std::move(storage)), key_(std::move(key)) {}

Result<ServerStore> ServerStore::create(const std::filesystem::path& dir, std::string_view passphrase,
                                        const crypto::KdfParams& params) {
  crypto::init();
  auto storage = TEDUH_TRY(create_sqlite_storage(dir, passphrase, params));
  crypto::SigningKey key = crypto::SigningKey::generate();
  if (auto r = storage->store_secret(kSigningKeyName, key.secret_key().view()); !r) {
    return tl::unexpected(r.error());
  }
  return ServerStore(std::move(storage), std::move(key));
}

Result<void> ServerStore::set_admin_public(const AdminPublic& keys) {
  if (auto r = storage_->store_secret(kAdminSignName, keys.sign_key); !r) return r;
  return storage_->store_secret(kAdminBoxName, keys.box_key);
}

Result<std::optional<AdminPublic>> ServerStore::admin_public() {
  auto sign = TEDUH_TRY(storage_->load_secret(kAdminSignName));
  auto box = TEDUH_TRY(storage_->load_secret(kAdminBoxName));
  if (!sign || !box) return std::optional<AdminPublic>{};
  if (sign->size() != 32 || box->size() != 32) return fail(Errc::damaged, "the administrator key record is malformed");
  AdminPublic keys;
  std::copy(sign->data(), sign->data() + 32, keys.sign_key.begin());
  std::copy(box->data(), box->data() + 32, keys.box_key.begin());
  return std::optional<AdminPublic>{keys};
}

Result<void> ServerStore::check_admin(const AdminKey& admin) {
  auto known = TEDUH_TRY(admin_public());
  if (!known) return fail(Errc::refused, "this server store has no administrator key; run teduhd admin init --admin-key FILE");
  if (known->sign_key != admin.sign.public_key() || known->box_key != admin.box.public_key()) {
    return fail(Errc::refused, "the administrator key file given is not the administrator key of this server store");
  }
  return {};
}

Result<CompartmentState> ServerStore::compartment_state(std::string_view compartment) {
  return storage_->compartment_state(compartment);
}

Result<std::vector<CompartmentState>> ServerStore::list_compartments() { return storage_->list_compartments(); }

namespace {

KeyWrapRecord make_wrap(const AdminKey& admin, std::string_view compartment, std::uint32_t generation,
                        const sync::Id128& recipient, const crypto::DhPublicKey& to, crypto::ByteView key,
                        std::int64_t now) {
  KeyWrapRecord w;
  w.compartment = std::string(compartment);
  w.generation = generation;
  w.recipient = recipient;
  w.sealed = crypto::seal_to(to, key);
  w.signature = admin.sign.sign(sync::wrap_signed_bytes(compartment, generation, recipient, w.sealed));
  w.created_at_ms = now;
  return w;
}

}  // namespace

Result<std::size_t> ServerStore::renew_admin_box(const AdminKey& current, const AdminKey& renewed,
                                                 std::int64_t now) {
  auto known = TEDUH_TRY(admin_public());
  if (!known) return fail(Errc::refused, "this server store has no administrator key");
  if (known->sign_key != current.sign.public_key() || renewed.sign.public_key() != current.sign.public_key()) {
    return fail(Errc::refused, "the administrator key is not the one of this server store");
  }
  if (known->box_key == renewed.box.public_key()) return std::size_t{0};
  if (known->box_key != current.box.public_key()) {
    return fail(Errc::refused, "the administrator key is not the one of this server store");
  }
  auto own = TEDUH_TRY(storage_->key_wraps_for(sync::kAdminRecipient));
  std::vector<KeyWrapRecord> wraps;
  for (const KeyWrapRecord& w : own) {
    auto key = TEDUH_TRY(open_admin_wrap(current, w));
    KeyWrapRecord moved = make_wrap(renewed, w.compartment, w.generation, sync::kAdminRecipient,
                                    renewed.box.public_key(), key.view(), now);
    moved.created_at_ms = w.created_at_ms;
    wraps.push_back(std::move(moved));
  }
  if (auto r = storage_->replace_admin_wraps(kAdminBoxName, renewed.box.public_key(), wraps); !r) {
    return tl::unexpected(r.error());
  }
  spdlog::info("administrator box key renewed; {} administrator wrap(s) sealed again", wraps.size());
  return wraps.size();
}

Result<ServerStore::Rotation> ServerStore::rotate_compartment(const AdminKey& admin, std::string_view compartment,
                                                              std::int64_t now) {
  if (!sync::valid_compartment(compartment)) {
    return fail(Errc::invalid_input, "a compartment id is 1 to 32 lowercase letters, digits or '_'");
  }
  TEDUH_TRY(check_admin(admin));
  auto state = TEDUH_TRY(storage_->compartment_state(compartment));
  auto devices = storage_->list_devices();
  if (!devices) return tl::unexpected(devices.error());
  const std::uint32_t generation = state.generation + 1;
  crypto::SecretBytes key = crypto::SecretBytes::random(sync::kCompartmentKeySize);
  std::vector<KeyWrapRecord> wraps;
  wraps.push_back(make_wrap(admin, compartment, generation, sync::kAdminRecipient, admin.box.public_key(),
                            key.view(), now));
  Rotation out;
  out.generation = generation;
  for (const DeviceRecord& d : *devices) {
    if (!d.cleared() || d.revoked()) continue;
    auto dh = crypto::to_dh_public(d.sign_key);
    if (!dh) return fail(Errc::damaged, "device " + d.device_id.hex() + " has a signing key that is not a valid point");
    wraps.push_back(make_wrap(admin, compartment, generation, d.device_id, *dh, key.view(), now));
    ++out.devices;
  }
  TEDUH_TRY(storage_->add_generation(compartment, generation, wraps));
  spdlog::info("compartment {}: generation {} wrapped to {} device(s)", compartment, generation, out.devices);
  return out;
}

Result<std::uint32_t> ServerStore::clear_device(const AdminKey& admin, const sync::DeviceId& device_id,
                                                std::string_view compartment, std::int64_t now) {
  TEDUH_TRY(check_admin(admin));
  auto device = TEDUH_TRY(storage_->find_device(device_id));
  if (!device) return fail(Errc::not_found, "no device " + device_id.hex() + " is registered");
  if (device->revoked()) return fail(Errc::refused, "device " + device_id.hex() + " is revoked; it cannot be cleared");
  if (!device->shelter) {
    return fail(Errc::refused, "device " + device_id.hex() +
                                   " was not enrolled with shelter clearance; enroll it again with --shelter");
  }
  auto dh = crypto::to_dh_public(device->sign_key);
  if (!dh) return fail(Errc::damaged, "the device's signing key is not a valid point");
  auto state = TEDUH_TRY(storage_->compartment_state(compartment));
  if (state.generation == 0) {
    // No generation yet: mark the device cleared, then make generation 1 for everyone cleared.
    TEDUH_TRY(storage_->clear_device(device_id, now, compartment, 0, {}));
    auto rotated = TEDUH_TRY(rotate_compartment(admin, compartment, now));
    return rotated.generation;
  }
  auto own = TEDUH_TRY(storage_->key_wraps_for(sync::kAdminRecipient));
  std::vector<KeyWrapRecord> wraps;
  for (const KeyWrapRecord& w : own) {
    if (w.compartment != compartment) continue;
    auto key = TEDUH_TRY(open_admin_wrap(admin, w));
    wraps.push_back(make_wrap(admin, compartment, w.generation, device_id, *dh, key.view(), now));
  }
  if (wraps.size() != state.generation) {
    return fail(Errc::damaged, "the store lacks the administrator's wrap of a past generation");
  }
  if (auto r = storage_->clear_device(device_id, now, compartment, state.generation, wraps); !r) {
    return tl::unexpected(r.error());
  }
  spdlog::info("compartment {}: device {} cleared with {} generation(s)", compartment, device_id.hex(), wraps.size());
  return static_cast<std::uint32_t>(wraps.size());
}

Result<std::vector<KeyWrapRecord>> ServerStore::key_wraps_for(const DeviceRecord& device) {
  if (device.revoked() || !device.cleared()) return std::vector<KeyWrapRecord>{};
  return storage_->key_wraps_for(device.device_id);
}

Result<std::optional<std::string>> ServerStore::generation_refusal(const sync::Commit& commit,
                                                                   std::map<std::string, std::uint32_t>& current) {
  for (const sync::Version& v : commit.versions) {
    // Only fields of kind secret hold compartment values; there the value must be sealed,
    // so a client that skipped sealing cannot put clear text on the server.
    const schema::EntitySpec* spec = schema::find_entity_spec(v.entity_type);
    const schema::FieldSpec* field = spec ? spec->field(v.field) : nullptr;
    if (field == nullptr || field->kind != schema::FieldKind::secret) continue;
    // An empty value would blank a sealed one for every cleared device; a device that
    // means "no value" seals the empty text instead (PROTOCOL.md section 5D).
    if (v.value.empty()) {
      return std::optional<std::string>("a secret field is written empty; a sealed value is never replaced by an "
                                        "empty one");
    }
    auto header = sync::parse_sealed_header(v.value);
    if (!header || !sync::valid_compartment(header->compartment)) {
      return std::optional<std::string>("a secret field is not sealed in the compartment format");
    }
    auto it = current.find(header->compartment);
    if (it == current.end()) {
      auto state = TEDUH_TRY(storage_->compartment_state(header->compartment));
      it = current.emplace(header->compartment, state.generation).first;
    }
    if (header->generation < it->second) {
      return std::optional<std::string>("a compartment value is sealed under key generation " +
                                        std::to_string(header->generation) + ", older than the current generation " +
                                        std::to_string(it->second) + "; sync to receive the new key, then write it again");
    }
    if (header->generation > it->second || header->generation == 0) {
      return std::optional<std::string>("a compartment value is sealed under key generation " +
                                        std::to_string(header->generation) +
                                        ", which the administrator has not made");
    }
  }
  return std::optional<std::string>{};
}

Result<ServerStore> ServerStore::open(const std::filesystem::path& dir, std::string_view passphrase) {
  crypto::init();
  auto storage = TEDUH_TRY(open_sqlite_storage(dir, passphrase));
  return over(std::move(storage));
}

Result<ServerStore> ServerStore::over(std::unique_ptr<Storage> storage) {
  auto secret = TEDUH_TRY(storage->load_secret(kSigningKeyName));
  if (!secret) return fail(Errc::refused, "the server store holds no server signing key");
  auto key = crypto::SigningKey::from_secret(secret->view());
  if (!key) return fail(Errc::damaged, "the server signing key in the store is malformed");
  ServerStore store(std::move(storage), std::move(*key));
  // A crash between storing a commit and recomputing its case's sharing left the case
  // marked dirty: finish the work before serving anyone.
  TEDUH_TRY(store.refresh_dirty_scopes());
  return store;
}

std::string ServerStore::public_key_text() const { return crypto::to_base64url(key_.public_key()); }

sync::Id128 ServerStore::server_id() const {
  const crypto::Bytes h = crypto::blake2b(key_.public_key(), 16);
  sync::Id128 id;
  std::copy(h.begin(), h.end(), id.bytes.begin());
  return id;
}

Result<std::optional<DeviceRecord>> ServerStore::find_device_by_dh(const crypto::DhPublicKey& dh_key) {
  auto it = dh_index_.find(dh_key);
  if (it == dh_index_.end()) {
    // A miss converts only the keys not indexed yet: an unknown peer that connects again
    // and again costs a device list, not one point conversion per registered device.
    auto devices = TEDUH_TRY(storage_->list_devices());
    for (const DeviceRecord& d : devices) {
      if (!dh_indexed_.insert(d.sign_key).second) continue;
      if (auto dh = crypto::to_dh_public(d.sign_key)) dh_index_.emplace(*dh, d.sign_key);
    }
    it = dh_index_.find(dh_key);
    if (it == dh_index_.end()) return std::optional<DeviceRecord>{};
  }
  return storage_->find_device_by_key(it->second);
}

Result<void> ServerStore::add_office(const NewOffice& office, std::int64_t now) {
  if (!valid_office_code(office.code)) {
    return fail(Errc::invalid_input,
                "the office code must be 1 to 32 letters, digits, '-', '_' or '.'");
  }
  if (!valid_name(office.name)) {
    return fail(Errc::invalid_input, "the office name must be 1 to 200 bytes of text without control characters");
  }
  if (!in_code_set("jenis_kantor", office.kind)) {
    return fail(Errc::invalid_input, "the office kind must be one of: " + known_codes("jenis_kantor"));
  }
  // Stored as its canonical digits, so that `report --region 32` finds an office of 3276.
  auto region = schema::normalize_region(office.region);
  if (!region) return fail(Errc::invalid_input, region.error().message);
  if (!office.parent.empty()) {
    if (office.parent == office.code) return fail(Errc::invalid_input, "an office cannot be its own parent");
    auto parent = storage_->find_office(office.parent);
    if (!parent) return tl::unexpected(parent.error());
    if (!*parent) return fail(Errc::not_found, "the parent office " + office.parent + " does not exist");
  }
  OfficeRecord rec{office.code, office.name, office.kind, *region, office.parent, now};
  return storage_->add_office(rec);
}

Result<std::vector<OfficeRecord>> ServerStore::list_offices() { return storage_->list_offices(); }

Result<DirectoryPage> ServerStore::directory(std::uint64_t after, std::size_t max_entries) {
  auto offices = storage_->list_offices();
  if (!offices) return tl::unexpected(offices.error());
  auto devices = storage_->list_devices();
  if (!devices) return tl::unexpected(devices.error());
  max_entries = std::max<std::size_t>(max_entries, 1);
  DirectoryPage page;
  const std::uint64_t total = offices->size() + devices->size();
  std::uint64_t i = std::min(after, total);
  for (; i < total && page.offices.size() + page.devices.size() < max_entries; ++i) {
    if (i < offices->size()) {
      page.offices.push_back(std::move((*offices)[i]));
    } else {
      page.devices.push_back(std::move((*devices)[i - offices->size()]));
    }
  }
  page.cursor = i;
  page.more = i < total;
  return page;
}

Result<IssuedEnrollment> ServerStore::issue_enrollment(const EnrollRequest& request, std::int64_t now) {
  auto office = storage_->find_office(request.office);
  if (!office) return tl::unexpected(office.error());
  if (!*office) return fail(Errc::not_found, "the office " + request.office + " does not exist");
  if (!valid_name(request.user)) {
    return fail(Errc::invalid_input, "the user name must be 1 to 200 bytes of text without control characters");
  }
  if (!in_code_set("peran_pengguna", request.role)) {
    return fail(Errc::invalid_input, "the role must be one of: " + known_codes("peran_pengguna"));
  }
  if (request.days < 1 || request.days > kMaxEnrollDays) {
    return fail(Errc::invalid_input, "--days must be between 1 and 365");
  }
  EnrollmentRecord rec;
  rec.code_id = sync::Id128::random();
  rec.office = request.office;
  rec.user = request.user;
  rec.role = request.role;
  rec.shelter = request.shelter;
  rec.issued_at_ms = now;
  rec.expires_at_ms = now + request.days * kDayMs;
  TEDUH_TRY(storage_->add_enrollment(rec));

  sync::EnrollmentGrant grant;
  grant.code_id = rec.code_id;
  grant.office_code = (*office)->code;
  grant.office_name = (*office)->name;
  grant.office_kind = (*office)->kind;
  grant.office_region = (*office)->region;
  grant.user = rec.user;
  grant.role = rec.role;
  grant.shelter_clearance = rec.shelter;
  grant.expires_at_ms = static_cast<std::uint64_t>(rec.expires_at_ms);
  auto admin = TEDUH_TRY(admin_public());
  if (admin) grant.admin_key = admin->sign_key;
  return IssuedEnrollment{rec.code_id, sync::issue_enrollment_code(grant, key_), rec.expires_at_ms};
}

Result<DeviceRecord> ServerStore::register_device(std::string_view code, const sync::DeviceId& device_id,
                                                  const crypto::SignPublicKey& sign_key, std::int64_t now) {
  if (device_id.is_zero()) return fail(Errc::invalid_input, "the device id must not be zero");
  auto grant = sync::verify_enrollment_code(code, key_.public_key(), static_cast<std::uint64_t>(now));
  if (!grant) {
    switch (grant.error().code) {
      case sync::Errc::expired: return fail(Errc::refused, "the enrollment code has expired");
      case sync::Errc::bad_signature: return fail(Errc::refused, "the enrollment code was not issued by this server");
      default: return fail(Errc::invalid_input, "the enrollment code is malformed");
    }
  }
  auto enrollment = TEDUH_TRY(storage_->find_enrollment(grant->code_id));
  if (!enrollment) return fail(Errc::refused, "the enrollment code is not known to this server store");

  DeviceRecord device;
  device.device_id = device_id;
  device.sign_key = sign_key;
  device.office = enrollment->office;
  device.user = enrollment->user;
  device.role = enrollment->role;
  device.shelter = enrollment->shelter;
  device.code_id = grant->code_id;
  device.registered_at_ms = now;
  auto stored = storage_->register_device(device);
  if (stored) return device;

  // A retry of a registration whose reply was lost: same code, same device, same key.
  auto existing = TEDUH_TRY(storage_->find_device(device_id));
  if (existing && existing->code_id == grant->code_id && existing->sign_key == sign_key) {
    if (existing->revoked()) return fail(Errc::refused, "this device has been revoked");
    return *existing;
  }
  if (stored.error().code == Errc::refused) return fail(Errc::refused, "the enrollment code has already been used");
  return tl::unexpected(stored.error());
}

Result<bool> ServerStore::revoke_device(const sync::DeviceId& device_id, std::int64_t now) {
  auto device = TEDUH_TRY(storage_->find_device(device_id));
  // A cleared device keeps the keys it received: later writes need a new generation.
  // The mark is set first, so a crash between the two leaves an extra rotation, not a
  // missing one.
  if (device && device->cleared() && !device->revoked()) {
    TEDUH_TRY(storage_->mark_rotation_pending());
  }
  return storage_->revoke_device(device_id, now);
}

Result<std::vector<DeviceRecord>> ServerStore::list_devices() { return storage_->list_devices(); }

Result<std::optional<DeviceRecord>> ServerStore::find_device(const sync::DeviceId& device_id) {
  return storage_->find_device(device_id);
}

Result<std::optional<DeviceRecord>> ServerStore::find_device_by_key(const crypto::SignPublicKey& key) {
  return storage_->find_device_by_key(key);
}

Result<void> ServerStore::touch_device(const sync::DeviceId& device_id, std::int64_t now) {
  return storage_->touch_device(device_id, now);
}

Result<std::uint64_t> ServerStore::last_acked(const sync::DeviceId& device) { return storage_->last_seq(device); }

namespace {

// verify_commit (signature and decoding) of every commit of a push that names the
// connected device, on up to four threads: Ed25519 verification is the largest cost of a
// push, and it is independent per commit. Judging the commits stays sequential.
std::vector<std::optional<sync::Result<sync::Commit>>> verify_in_parallel(
    const DeviceRecord& device, std::span<const sync::SignedCommit> commits) {
  std::vector<std::optional<sync::Result<sync::Commit>>> out(commits.size());
  auto work = [&](std::size_t begin, std::size_t step) {
    for (std::size_t i = begin; i < commits.size(); i += step) {
      if (commits[i].device == device.device_id && commits[i].seq != 0) {
        out[i] = sync::verify_commit(commits[i], device.sign_key);
      }
    }
  };
  const std::size_t threads =
      commits.size() < 64 ? 1 : std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  std::vector<std::jthread> helpers;
  for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work, t, threads);
  work(0, threads);
  helpers.clear();  // joins every helper before `out` is returned
  return out;
}

}  // namespace

std::optional<PushResult> ServerStore::check_commit(const DeviceRecord& device, const sync::SignedCommit& sc,
                                                    std::int64_t now, sync::Commit& decoded,
                                                    std::optional<sync::Result<sync::Commit>> verified) {
  if (sc.device != device.device_id) {
    return rejected(sc.seq, RejectReason::wrong_device, "the commit names another device than the one connected");
  }
  if (sc.seq == 0) return rejected(sc.seq, RejectReason::invalid_commit, "device sequence numbers start at 1");
  sync::Result<sync::Commit> commit =
      verified ? std::move(*verified) : sync::verify_commit(sc, device.sign_key);
  if (!commit) {
    switch (commit.error().code) {
      case sync::Errc::bad_signature:
        return rejected(sc.seq, RejectReason::bad_signature, "the commit signature does not verify");
      case sync::Errc::malformed:
        return rejected(sc.seq, RejectReason::invalid_commit, "the commit body does not decode");
      default:
        return rejected(sc.seq, RejectReason::invalid_commit, "the commit breaks a protocol rule");
    }
  }
  // A clock far ahead is reported, never refused (PROTOCOL.md section 2): a refused commit
  // would block every later commit of that device until real time caught up.
  if (sync::hlc_wall_ms(commit->hlc) > static_cast<std::uint64_t>(now) + sync::kMaxDriftMs) {
    spdlog::warn("device {} commit {}: clock {} ms ahead of the server's", sc.device.hex(), sc.seq,
                 sync::hlc_wall_ms(commit->hlc) - static_cast<std::uint64_t>(now));
  }
  if (commit->scope_type != "kasus" && commit->scope_type != "rumah_aman" && commit->scope_type != "office") {
    return rejected(sc.seq, RejectReason::invalid_commit, "the commit's scope type is unknown");
  }
  for (std::size_t i = 0; i < commit->versions.size(); ++i) {
    const sync::Version& v = commit->versions[i];
    const std::string where = "version " + std::to_string(i) + " ";
    const schema::EntitySpec* spec = schema::find_entity_spec(v.entity_type);
    if (spec == nullptr) return rejected(sc.seq, RejectReason::invalid_commit, where + "has an unknown entity type");
    for (std::size_t j = 0; j < i; ++j) {
      if (commit->versions[j].entity == v.entity && commit->versions[j].entity_type != v.entity_type) {
        return rejected(sc.seq, RejectReason::invalid_commit, where + "writes an entity of this commit under another type");
      }
    }
    if (scope_name(spec->scope) != commit->scope_type) {
      return rejected(sc.seq, RejectReason::invalid_commit, where + "writes an entity outside the commit's scope type");
    }
    if (v.field == schema::kDeletedField) {
      if (v.value != "" && v.value != "0" && v.value != "1") {
        return rejected(sc.seq, RejectReason::invalid_commit, where + "has a malformed tombstone");
      }
      continue;
    }
    if (spec->field(v.field) == nullptr) {
      return rejected(sc.seq, RejectReason::invalid_commit, where + "writes an unknown field of " + std::string(spec->name));
    }
    // The schema's message may quote the value; only the field's name leaves this function.
    if (!schema::check_canonical(spec->type, v.field, v.value)) {
      return rejected(sc.seq, RejectReason::invalid_commit,
                      where + "holds a non-canonical value for " + std::string(spec->name) + "." + v.field);
    }
  }
  decoded = std::move(*commit);
  return std::nullopt;
}

Result<std::optional<std::string>> ServerStore::entity_refusal(
    const sync::Commit& commit, const std::map<sync::EntityId, EntityPlace>& batch_entities) {
  std::vector<sync::EntityId> seen;
  for (std::size_t i = 0; i < commit.versions.size(); ++i) {
    const sync::Version& v = commit.versions[i];
    if (std::find(seen.begin(), seen.end(), v.entity) != seen.end()) continue;
    seen.push_back(v.entity);
    std::optional<EntityPlace> place;
    if (auto it = batch_entities.find(v.entity); it != batch_entities.end()) {
      place = it->second;
    } else {
      auto stored = TEDUH_TRY(storage_->find_entity(v.entity));
      place = std::move(stored);
    }
    if (!place) continue;  // created by this commit
    const std::string where = "version " + std::to_string(i) + " ";
    if (place->scope != commit.scope) {
      return std::optional<std::string>{where + "writes an entity that belongs to another case, shelter or office"};
    }
    if (place->type != v.entity_type) {
      return std::optional<std::string>{where + "writes an entity under another type than it was created with"};
    }
  }
  return std::optional<std::string>{};
}

Result<std::string> ServerStore::office_kind(const std::string& office) {
  if (auto it = office_kinds_.find(office); it != office_kinds_.end()) return it->second;
  auto rec = TEDUH_TRY(storage_->find_office(office));
  std::string kind = rec ? rec->kind : std::string();
  if (rec) office_kinds_.emplace(office, kind);  // an office's kind never changes
  return kind;
}

Result<std::optional<std::string>> ServerStore::unknown_office_refusal(const sync::Commit& commit) {
  for (const sync::Version& v : commit.versions) {
    if ((v.entity_type != "rujukan" && v.entity_type != "alih_kelola") || v.field != "to_office" ||
        v.value.empty()) {
      continue;
    }
    auto kind = TEDUH_TRY(office_kind(v.value));
    if (kind.empty()) {
      return std::optional<std::string>(
          "kantor tidak dikenal: the referral or transfer names an office code that does not exist on the server");
    }
  }
  return std::optional<std::string>{};
}

Result<bool> ServerStore::shared_with(const sync::EntityId& scope, const std::string& office) {
  auto rows = TEDUH_TRY(storage_->scope_grants(scope));
  return std::any_of(rows.begin(), rows.end(),
                     [&](const ScopeGrant& g) { return g.office == office && g.active(); });
}

Result<CaseAccess> ServerStore::load_case_access(const sync::EntityId& scope) {
  auto entries = TEDUH_TRY(storage_->read_scope(scope, std::numeric_limits<std::int64_t>::max()));
  // Who wrote each commit: a device's office and role never change.
  std::map<sync::DeviceId, Writer> writers;
  auto writer_of = [&](const sync::DeviceId& id) -> Result<Writer> {
    if (auto it = writers.find(id); it != writers.end()) return it->second;
    auto d = TEDUH_TRY(storage_->find_device(id));
    Writer w = d ? Writer{d->office, d->role} : Writer{};
    writers.emplace(id, w);
    return w;
  };
  std::string origin;
  auto rec = TEDUH_TRY(storage_->find_scope(scope));
  if (rec) {
    auto creator = TEDUH_TRY(writer_of(rec->created_by));
    origin = creator.office.empty() ? rec->owner_office : creator.office;
  }
  CaseAccess access(origin);
  for (const LogEntry& e : entries) {
    auto commit = sync::decode_commit_body(e.body);
    if (!commit) return fail(Errc::damaged, "a commit in the server log does not decode");
    auto writer = TEDUH_TRY(writer_of(e.device));
    // A commit that breaks the rules is refused at push; one found in the log anyway
    // (written before these rules) is not honoured: apply() moves and shares nothing for it.
    if (auto why = access.apply(*commit, writer)) {
      spdlog::warn("case {}: commit {} of device {} in the log breaks an access rule and is not honoured",
                   scope.hex(), e.seq, e.device.hex());
    }
  }
  return access;
}

Result<void> ServerStore::refresh_access(const sync::EntityId& scope) {
  // The case's whole log and grants read in one snapshot; update_access ends it.
  ReadSnapshot snapshot(*storage_);
  TEDUH_TRY(snapshot.begin());
  auto rec = TEDUH_TRY(storage_->find_scope(scope));
  if (!rec || rec->type != "kasus") return storage_->update_access(scope, {}, std::nullopt);
  auto access = TEDUH_TRY(load_case_access(scope));
  const std::string owner_now = rec->owner_office;
  std::string owner = access.owner().empty() ? owner_now : access.owner();
  std::set<std::string> wanted = access.shared_with();
  // Only offices that exist gain anything: a code created later inherits nothing.
  for (auto it = wanted.begin(); it != wanted.end();) {
    auto kind = TEDUH_TRY(office_kind(*it));
    it = kind.empty() ? wanted.erase(it) : std::next(it);
  }
  if (owner != owner_now) {
    auto kind = TEDUH_TRY(office_kind(owner));
    if (kind.empty()) owner = owner_now;
  }
  wanted.insert(owner);

  auto rows = TEDUH_TRY(storage_->scope_grants(scope));
  auto head = TEDUH_TRY(storage_->head());
  std::map<std::string, ScopeGrant> by_office;
  for (ScopeGrant& g : rows) by_office.emplace(g.office, std::move(g));
  // Whether the office reads the case after this change without a new grant row: it
  // stays the owner, or it holds an active row already. An owner that loses the case to
  // a transfer but stays shared with it (a referral to it) needs a row of its own, or it
  // would read nothing from here on and receive no Purge either (found by the
  // simulation, seed 32).
  auto holds = [&](const std::string& office) {
    if (office == owner_now && office == owner) return true;
    auto it = by_office.find(office);
    return it != by_office.end() && it->second.active();
  };

  std::vector<ScopeGrant> changes;
  for (const std::string& office : wanted) {
    if (holds(office)) continue;
    changes.push_back(ScopeGrant{scope, office, office == owner ? "alih_kelola" : "rujukan", head, std::nullopt});
  }
  std::set<std::string> holders;
  if (!owner_now.empty()) holders.insert(owner_now);
  for (const auto& [office, g] : by_office) {
    if (g.active()) holders.insert(office);
  }
  for (const std::string& office : holders) {
    if (wanted.contains(office)) continue;
    ScopeGrant g;
    if (auto it = by_office.find(office); it != by_office.end()) g = it->second;
    g.scope = scope;
    g.office = office;
    if (g.via.empty()) g.via = "pemilik";
    g.revoked_at = head;
    changes.push_back(std::move(g));
  }
  for (const ScopeGrant& g : changes) {
    spdlog::info("case {}: office {} {} the case ({})", scope.hex(), g.office, g.active() ? "gains" : "loses", g.via);
  }
  std::optional<std::string> new_owner;
  if (owner != owner_now) new_owner = owner;
  return storage_->update_access(scope, changes, new_owner);
}

Result<void> ServerStore::refresh_dirty_scopes() {
  auto dirty = TEDUH_TRY(storage_->dirty_scopes());
  for (const sync::EntityId& scope : dirty) {
    if (auto r = refresh_access(scope); !r) return r;
  }
  return {};
}

Result<std::vector<PushResult>> ServerStore::push(const DeviceRecord& device,
                                                  std::span<const sync::SignedCommit> commits, std::int64_t now) {
  if (device.revoked()) return fail(Errc::refused, "this device has been revoked");
  // The checks read the store many times (scopes, grants, entities, refusals): one
  // snapshot for all of them; append_commits below ends it and writes.
  ReadSnapshot snapshot(*storage_);
  TEDUH_TRY(snapshot.begin());
  auto last = TEDUH_TRY(storage_->last_seq(device.device_id));
  auto kind = TEDUH_TRY(office_kind(device.office));
  std::uint64_t next = last + 1;

  std::vector<PushResult> results(commits.size());
  std::vector<LogEntry> to_store;
  std::vector<std::size_t> stored_index;
  std::vector<Refusal> refusals;
  std::map<sync::EntityId, std::string> batch_scopes;  // scopes first written in this batch
  std::map<sync::EntityId, EntityPlace> batch_entities;  // entities first written in this batch
  std::map<sync::EntityId, CaseAccess> case_access;    // sharing state, loaded on first need
  std::map<std::string, std::uint32_t> generations;    // current key generation per compartment
  // Stored scopes as this device sees them, looked up once per batch: nothing in the
  // batch changes a stored scope's record or grants before append_commits (the sharing
  // is recomputed after it, by refresh_dirty_scopes).
  std::map<sync::EntityId, std::optional<ScopeView>> stored_scopes;
  auto stored_scope = [&](const sync::EntityId& id) -> Result<const std::optional<ScopeView>*> {
    if (auto it = stored_scopes.find(id); it != stored_scopes.end()) return &it->second;
    std::optional<ScopeView> view;
    auto found = TEDUH_TRY(storage_->find_scope(id));
    if (found) {
      auto grants = TEDUH_TRY(storage_->scope_grants(id));
      const bool shared = std::any_of(grants.begin(), grants.end(), [&](const ScopeGrant& g) {
        return g.office == device.office && g.active();
      });
      view = ScopeView{std::move(*found), shared};
      if (!view->shared && view->record.owner_office != device.office) {
        view->held_before = std::any_of(grants.begin(), grants.end(), [&](const ScopeGrant& g) {
          return g.office == device.office && !g.active();
        });
      }
    }
    return &stored_scopes.emplace(id, std::move(view)).first->second;
  };

  auto refuse = [&](std::size_t i, std::uint64_t seq, RejectReason reason, std::string message) {
    spdlog::warn("device {} commit {} refused ({}): {}", device.device_id.hex(), seq, to_string(reason), message);
    results[i] = rejected(seq, reason, std::move(message));
  };

  auto verified = verify_in_parallel(device, commits);
  for (std::size_t i = 0; i < commits.size(); ++i) {
    const sync::SignedCommit& sc = commits[i];
    if (sc.seq != 0 && sc.seq < next && sc.device == device.device_id) {
      // Sent again: acknowledged again, or refused again with the recorded reason. A
      // different commit under a refused seq (a store restored from an older copy wrote
      // new work under it) is not that commit: seq_taken, so the device renumbers it
      // after its last seq (PROTOCOL.md section 5B). Found by the simulation, seed 39629:
      // a new case took the refusal of an older commit and never reached the server.
      auto refused = TEDUH_TRY(storage_->find_refusal(device.device_id, sc.seq));
      if (refused) {
        if (!refused->digest.empty() && refused->digest != refusal_digest(sc)) {
          results[i] = rejected(sc.seq, RejectReason::seq_taken,
                                "this device seq was refused before with a different body");
        } else {
          results[i] = rejected(sc.seq, refused->reason, "this commit was refused before and is not stored");
        }
        continue;
      }
    }
    sync::Commit commit;
    if (auto refusal = check_commit(device, sc, now, commit, std::move(verified[i]))) {
      // A commit whose signature verified but that breaks the schema is consumed: its
      // seq is recorded as refused so the device's later commits are not blocked.
      const bool signed_by_device = refusal->reason == RejectReason::invalid_commit;
      if (signed_by_device && sc.seq == next) {
        refusals.push_back(Refusal{device.device_id, sc.seq, refusal->reason, now, refusal_digest(sc)});
        ++next;
      }
      spdlog::warn("device {} commit {} refused ({}): {}", device.device_id.hex(), sc.seq,
                   to_string(refusal->reason), refusal->message);
      results[i] = std::move(*refusal);
      continue;
    }
    // Every entity keeps the scope and type it was created with (PROTOCOL.md section 5,
    // "Entities and scopes"): a commit naming one under another is refused and consumed.
    const bool fresh = sc.seq == next;
    if (fresh) {
      auto misplaced = TEDUH_TRY(entity_refusal(commit, batch_entities));
      if (misplaced) {
        refusals.push_back(Refusal{device.device_id, sc.seq, RejectReason::invalid_commit, now, refusal_digest(sc)});
        ++next;
        refuse(i, sc.seq, RejectReason::invalid_commit, std::move(*misplaced));
        continue;
      }
    }
    if (sc.seq > next) {
      results[i] = rejected(sc.seq, RejectReason::out_of_order,
                            "the commit leaves a gap after device seq " + std::to_string(next - 1));
      continue;
    }
    const bool touches_access = commit.scope_type == "kasus" && CaseAccess::touches_access(commit);
    if (sc.seq == next) {
      std::optional<ScopeView> scope;
      if (auto it = batch_scopes.find(commit.scope); it != batch_scopes.end()) {
        scope = ScopeView{ScopeRecord{commit.scope, it->second, device.office, device.device_id}, false};
      } else {
        auto stored = TEDUH_TRY(stored_scope(commit.scope));
        scope = *stored;
      }
      std::optional<std::string> why = policy_.write_refusal(device, kind, scope, commit);
      if (!why) {
        auto stale = TEDUH_TRY(generation_refusal(commit, generations));
        why = std::move(stale);
      }
      if (!why && touches_access) {
        auto unknown = TEDUH_TRY(unknown_office_refusal(commit));
        why = std::move(unknown);
      }
      if (!why && touches_access) {
        // The scope rules of referrals, consents and transfers (who may propose, answer
        // and accept), judged on the case's log with this commit after it.
        auto it = case_access.find(commit.scope);
        if (it == case_access.end()) {
          CaseAccess loaded(device.office);  // a case this batch creates
          if (scope && !batch_scopes.contains(commit.scope)) {
            auto l = TEDUH_TRY(load_case_access(commit.scope));
            loaded = std::move(l);
          }
          it = case_access.emplace(commit.scope, std::move(loaded)).first;
        }
        CaseAccess trial = it->second;
        why = trial.apply(commit, Writer{device.office, device.role});
        if (!why) it->second = std::move(trial);
      }
      if (why) {
        refusals.push_back(Refusal{device.device_id, sc.seq, RejectReason::not_authorized, now, refusal_digest(sc)});
        ++next;
        refuse(i, sc.seq, RejectReason::not_authorized, *why);
        const ScopeView seen = scope ? *scope
                                     : ScopeView{ScopeRecord{commit.scope, commit.scope_type, device.office,
                                                             device.device_id}, false};
        if (!policy_.may_read(device, kind, seen)) results[i].purge_scope = commit.scope;
        continue;
      }
      // Only a scope this batch creates is remembered: an existing one is judged on its
      // stored record each time (its owner is not the device's office by default).
      if (!scope) batch_scopes.emplace(commit.scope, commit.scope_type);
      ++next;
    }
    // sc.seq < next: already stored; the storage acknowledges it again (or reports a conflict).
    LogEntry e;
    e.device = sc.device;
    e.seq = sc.seq;
    e.scope = commit.scope;
    e.scope_type = commit.scope_type;
    e.body = sc.body;
    e.signature = sc.signature;
    e.received_at_ms = now;
    e.touches_access = touches_access;
    for (const sync::Version& v : commit.versions) {
      if (std::none_of(e.entities.begin(), e.entities.end(),
                       [&](const EntityPlace& p) { return p.entity == v.entity; })) {
        e.entities.push_back(EntityPlace{v.entity, commit.scope, v.entity_type});
        if (fresh) batch_entities.try_emplace(v.entity, e.entities.back());
      }
    }
    to_store.push_back(std::move(e));
    stored_index.push_back(i);
    results[i].seq = sc.seq;
  }

  auto appended = TEDUH_TRY(storage_->append_commits(to_store, device.office, refusals));
  for (std::size_t k = 0; k < appended.size(); ++k) {
    PushResult& r = results[stored_index[k]];
    const AppendResult& a = appended[k];
    if (a.status == AppendStatus::conflict) {
      r = rejected(r.seq, RejectReason::seq_taken, "this device seq is already stored with a different body");
    } else {
      r.accepted = true;
      r.server_seq = a.server_seq;
    }
  }
  TEDUH_TRY(refresh_dirty_scopes());
  return results;
}

Result<bool> ServerStore::may_read_scope(const DeviceRecord& device, const std::string& kind,
                                         const sync::EntityId& id, const std::string& type,
                                         const sync::DeviceId& first_writer, std::map<sync::EntityId, bool>& cache) {
  if (auto it = cache.find(id); it != cache.end()) return it->second;
  auto scope = TEDUH_TRY(storage_->find_scope(id));
  ScopeView view{scope ? *scope : ScopeRecord{id, type, {}, first_writer}, false};
  if (view.record.type == "kasus" && view.record.owner_office != device.office) {
    auto shared = shared_with(id, device.office);
    if (!shared) return tl::unexpected(shared.error());
    view.shared = *shared;
  }
  const bool ok = policy_.may_read(device, kind, view);
  cache.emplace(id, ok);
  return ok;
}

Result<std::vector<sync::EntityId>> ServerStore::gained_at(const DeviceRecord& device, const std::string& kind,
                                                           std::int64_t at, std::map<sync::EntityId, bool>& cache) {
  auto changes = TEDUH_TRY(storage_->grant_changes(device.office, at - 1));
  std::vector<sync::EntityId> out;
  for (const ScopeGrant& g : changes) {
    if (!g.active() || g.granted_at != at) continue;
    auto ok = TEDUH_TRY(may_read_scope(device, kind, g.scope, "kasus", {}, cache));
    if (ok) out.push_back(g.scope);
  }
  return out;
}

namespace {

// Takes entries while the batch stays within the limits (at least one entry).
void take_within(std::vector<LogEntry>& from, PullBatch& batch, const PullLimits& limits, std::size_t& bytes) {
  for (LogEntry& e : from) {
    const bool full = batch.commits.size() >= limits.max_commits ||
                      (!batch.commits.empty() && bytes + e.body.size() > limits.max_bytes);
    if (full) break;
    bytes += e.body.size();
    batch.commits.push_back(std::move(e));
  }
}

}  // namespace

Result<PullBatch> ServerStore::pull_backfill(const DeviceRecord& device, const std::string& kind,
                                             const PullToken& token, const PullLimits& limits) {
  std::map<sync::EntityId, bool> readable;
  auto scopes = TEDUH_TRY(gained_at(device, kind, token.gain_at, readable));
  auto entries = TEDUH_TRY(storage_->read_backfill(scopes, device.device_id, token.base, token.last, token.gain_at,
                                         limits.max_commits));
  PullBatch batch;
  std::size_t bytes = 0;
  const std::size_t read = entries.size();
  take_within(entries, batch, limits, bytes);
  // More is always true: after the backfill the device pulls on from the gain position.
  batch.more = true;
  if (batch.commits.size() == read && read < limits.max_commits) {
    batch.cursor = token.gain_at;  // backfill done
    return batch;
  }
  PullToken next = token;
  next.last = batch.commits.empty() ? token.last : batch.commits.back().server_seq;
  auto id = TEDUH_TRY(storage_->add_pull_token(next));
  batch.cursor = kPullTokenBase + id;
  return batch;
}

Result<std::string> ServerStore::begin_device_read(const DeviceRecord& device, PullLimits& limits) {
  if (device.revoked()) return fail(Errc::refused, "this device has been revoked");
  TEDUH_TRY(storage_->begin_read());
  limits.max_commits = std::max<std::size_t>(limits.max_commits, 1);
  return office_kind(device.office);
}

Result<PullBatch> ServerStore::pull(const DeviceRecord& device, std::int64_t after,
                                    PullLimits limits) {
  // One snapshot for the reads of the whole batch (a scope lookup per case in it); the
  // pull tokens written at the end end it first.
  ReadSnapshot snapshot(*storage_);
  auto kind = TEDUH_TRY(begin_device_read(device, limits));
  if (after >= kPullTokenBase) {
    auto token = TEDUH_TRY(storage_->find_pull_token(after - kPullTokenBase));
    if (token && token->device == device.device_id) return pull_backfill(device, kind, *token, limits);
    // A token this server never gave this device (a store restored from a copy made
    // before a server move, say): start again from the beginning; nothing is lost, and
    // what the device holds already is ignored by it.
    spdlog::warn("pull by device {}: unknown pull token; pulling from the start", device.device_id.hex());
    after = 0;
  }
  // Bounds the work of one pull when most of the log is hidden from this device.
  const std::size_t max_scanned = limits.max_commits * 8;
  after = std::max<std::int64_t>(after, 0);

  std::map<sync::EntityId, bool> readable;
  auto may_read = [&](const sync::EntityId& id, const std::string& type, const sync::DeviceId& first_writer) {
    return may_read_scope(device, kind, id, type, first_writer, readable);
  };

  // Cases the office gained or lost since the cursor (PROTOCOL.md section 5B).
  auto changes = TEDUH_TRY(storage_->grant_changes(device.office, after));
  PullBatch batch;
  std::map<std::int64_t, std::vector<sync::EntityId>> gains;  // gain position -> cases
  for (const ScopeGrant& g : changes) {
    auto ok = TEDUH_TRY(may_read(g.scope, "kasus", {}));
    if (!ok) {
      if (g.revoked_at && *g.revoked_at > after) batch.purge.push_back(g.scope);
      continue;
    }
    if (g.active() && g.granted_at > after) gains[g.granted_at].push_back(g.scope);
  }
  // Whether the cases gained at `at` hold anything the device lacks: their commits at or
  // before the cursor (never sent: the device could not read them then), and the device's
  // own (never sent back by the scan, and maybe purged earlier).
  auto backfill_due = [&](std::int64_t at) -> Result<bool> {
    auto some = TEDUH_TRY(storage_->read_backfill(gains[at], device.device_id, after, 0, at, 1));
    return !some.empty();
  };

  batch.cursor = after;
  std::optional<std::int64_t> stop_at;  // a gain position whose backfill comes next
  std::size_t bytes = 0;
  std::size_t scanned = 0;
  std::size_t withheld = 0;
  std::set<sync::EntityId> withheld_scopes;
  bool scanning = true;
  while (scanning) {
    auto entries = TEDUH_TRY(storage_->read_log(batch.cursor, limits.max_commits));
    for (LogEntry& e : entries) {
      // Passing a gain position with something to backfill: stop there.
      while (!gains.empty() && gains.begin()->first < e.server_seq) {
        auto due = TEDUH_TRY(backfill_due(gains.begin()->first));
        if (due) {
          stop_at = gains.begin()->first;
          break;
        }
        gains.erase(gains.begin());
      }
      const bool full = stop_at || batch.commits.size() >= limits.max_commits ||
                        (!batch.commits.empty() && bytes + e.body.size() > limits.max_bytes) ||
                        scanned >= max_scanned;
      if (full) {
        batch.more = true;
        scanning = false;
        break;
      }
      ++scanned;
      auto ok = TEDUH_TRY(may_read(e.scope, e.scope_type, e.device));
      batch.cursor = e.server_seq;
      if (!ok) {
        ++withheld;
        withheld_scopes.insert(e.scope);
        continue;
      }
      // A device already holds its own commits: they are not sent back.
      if (e.device != device.device_id) {
        bytes += e.body.size();
        batch.commits.push_back(std::move(e));
      }
    }
    if (scanning && entries.size() < limits.max_commits) scanning = false;
  }
  // A gain at the very position the scan ended on.
  while (!stop_at && !gains.empty() && gains.begin()->first <= batch.cursor) {
    auto due = TEDUH_TRY(backfill_due(gains.begin()->first));
    if (due) stop_at = gains.begin()->first;
    else gains.erase(gains.begin());
  }
  if (stop_at) {
    // The device has everything up to the gain position but the gained cases' history:
    // the next batches bring it, named by a token, then the cursor moves on from there.
    TEDUH_TRY(storage_->drop_pull_tokens(device.device_id, after));
    auto id = TEDUH_TRY(storage_->add_pull_token(PullToken{0, device.device_id, *stop_at, after, 0}));
    batch.cursor = kPullTokenBase + id;
    batch.more = true;
  }
  if (withheld > 0) {
    // Not an error: the log says what was held back and why, by count.
    spdlog::info("pull by device {}: withheld {} commit(s) of {} scope(s) not shared with office {}",
                  device.device_id.hex(), withheld, withheld_scopes.size(), device.office);
  }
  return batch;
}

Result<OwnBatch> ServerStore::pull_own(const DeviceRecord& device, std::uint64_t after_seq,
                                       PullLimits limits) {
  ReadSnapshot snapshot(*storage_);
  auto kind = TEDUH_TRY(begin_device_read(device, limits));
  std::map<sync::EntityId, bool> readable;
  OwnBatch out;
  out.last_seq = after_seq;
  std::size_t bytes = 0;
  // Commits of scopes the device may no longer read are skipped; the scan goes on until
  // the batch holds something or the device's commits end, so an empty batch is the end.
  for (;;) {
    auto entries = TEDUH_TRY(storage_->read_own(device.device_id, out.last_seq, limits.max_commits));
    for (LogEntry& e : entries) {
      if (out.commits.size() >= limits.max_commits ||
          (!out.commits.empty() && bytes + e.body.size() > limits.max_bytes)) {
        out.more = true;
        return out;
      }
      auto ok = TEDUH_TRY(may_read_scope(device, kind, e.scope, e.scope_type, e.device, readable));
      out.last_seq = e.seq;
      if (!ok) continue;
      bytes += e.body.size();
      out.commits.push_back(std::move(e));
    }
    if (entries.size() < limits.max_commits) return out;
    if (!out.commits.empty()) {
      out.more = true;
      return out;
    }
  }
}

Result<crypto::SecretBytes> ServerStore::dedup_key() {
  constexpr std::string_view kName = "dedup_key";
  auto key = TEDUH_TRY(storage_->load_secret(kName));
  if (key) return std::move(*key);
  auto fresh = crypto::SecretBytes::random(32);
  TEDUH_TRY(storage_->store_secret(kName, fresh.view()));
  return fresh;
}

Result<ProjectionPage> ServerStore::projections(const DeviceRecord& device, std::int64_t after,
                                                std::size_t max_items) {
  if (device.revoked()) return fail(Errc::refused, "this device has been revoked");
  auto kind = TEDUH_TRY(office_kind(device.office));
  if (kind != "pusat" || !schema::role_may(device.role, schema::Action::laporan)) {
    return fail(Errc::refused, "only report devices of the central office receive projections");
  }
  auto key = TEDUH_TRY(dedup_key());
  max_items = std::clamp<std::size_t>(max_items, 1, 1000);

  ProjectionPage page;
  page.cursor = std::max<std::int64_t>(after, 0);
  std::set<sync::EntityId> seen;
  std::map<std::string, OfficeRecord> offices;
  const std::size_t scan = max_items * 8;
  for (;;) {
    auto entries = TEDUH_TRY(storage_->read_log(page.cursor, scan));
    for (const LogEntry& e : entries) {
      if (e.scope_type == "kasus" && !seen.contains(e.scope)) {
        if (page.items.size() >= max_items) {
          page.more = true;
          return page;
        }
        seen.insert(e.scope);
        auto history = TEDUH_TRY(storage_->read_scope(e.scope, std::numeric_limits<std::int64_t>::max()));
        std::vector<sync::Commit> commits;
        for (const LogEntry& h : history) {
          auto c = sync::decode_commit_body(h.body);
          if (!c) return fail(Errc::damaged, "a commit in the server log does not decode");
          commits.push_back(std::move(*c));
        }
        auto rec = TEDUH_TRY(storage_->find_scope(e.scope));
        const std::string owner = rec ? rec->owner_office : std::string();
        if (!offices.contains(owner)) {
          auto o = TEDUH_TRY(storage_->find_office(owner));
          offices.emplace(owner, o ? *o : OfficeRecord{owner, {}, {}, {}, {}, 0});
        }
        ProjectionItem item;
        item.scope = e.scope;
        item.server_seq = history.empty() ? e.server_seq : history.back().server_seq;
        item.body = build_projection(e.scope, commits, offices.at(owner), key.view()).dump();
        const crypto::Bytes signed_bytes = projection_signed_bytes(
            item.scope, static_cast<std::uint64_t>(item.server_seq),
            {reinterpret_cast<const std::uint8_t*>(item.body.data()), item.body.size()});
        item.signature = key_.sign(signed_bytes);
        page.items.push_back(std::move(item));
      }
      page.cursor = e.server_seq;
    }
    if (entries.size() < scan) return page;
  }
}

}  // namespace teduh::server
