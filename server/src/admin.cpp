#include "teduh/server/admin.hpp"

#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/crypto/passphrase.hpp"
#include "teduh/server/sqlite_storage.hpp"

namespace teduh::server {
namespace {

// The administrator passphrase from `source`, checked (check_admin_passphrase).
[[nodiscard]] Result<std::string> admin_passphrase(const AdminPassphraseSource& source, std::string_view server_pass,
                                     bool creating) {
  auto pass = source(creating);
  if (!pass) return pass;
  TEDUH_TRY(check_admin_passphrase(*pass, server_pass, creating));
  return pass;
}

// Overwrites a file with zeros, syncs it, and removes it.
[[nodiscard]] Result<void> wipe_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    if (f) {
      const std::string zeros(static_cast<std::size_t>(size), '\0');
      f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
      f.flush();
    }
  }
  if (!std::filesystem::remove(path, ec) || ec) return fail(Errc::storage, "cannot remove " + path.string());
  return {};
}

}  // namespace

[[nodiscard]] Result<void> check_new_passphrase(std::string_view passphrase, const std::string& what) {
  if (auto why = crypto::weak_passphrase_reason(passphrase, {"teduhd", "server", "admin"})) {
    return fail(Errc::invalid_input, what + ": " + *why);
  }
  return {};
}

[[nodiscard]] Result<void> check_admin_passphrase(std::string_view admin_passphrase, std::string_view server_passphrase,
                                    bool creating) {
  if (admin_passphrase == server_passphrase) {
    return fail(Errc::invalid_input,
                "kata sandi administrator harus berbeda dari kata sandi server (TEDUH_SERVER_PASSPHRASE / "
                "--key-file): siapa pun yang menjalankan server tidak boleh dapat membuka kunci rumah aman");
  }
  if (creating) return check_new_passphrase(admin_passphrase, "kata sandi administrator");
  return {};
}

[[nodiscard]] Result<void> refuse_legacy_admin_key(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(legacy_admin_key_path(dir), ec)) return {};
  return fail(Errc::refused,
              "the data folder still holds admin.key from an older Teduh, sealed where the serving passphrase "
              "may open it; move it out first: teduhd admin move-key --data " + dir + " --admin-key FILE");
}

[[nodiscard]] Result<AdminKey> load_admin_key(const std::string& dir, const std::string& file, std::string_view server_passphrase,
                                const AdminPassphraseSource& source) {
  TEDUH_TRY(refuse_legacy_admin_key(dir));
  if (file.empty()) {
    return fail(Errc::invalid_input, "this command needs the administrator key: pass --admin-key FILE");
  }
  auto path = TEDUH_TRY(admin_key_path_outside(file, dir));
  auto pass = TEDUH_TRY(admin_passphrase(source, server_passphrase, /*creating=*/false));
  return open_admin_key(path, pass);
}

[[nodiscard]] Result<NewAdminKey> prepare_new_admin_key(const std::string& dir, const std::string& file,
                                          std::string_view server_passphrase, const AdminPassphraseSource& source) {
  auto path = TEDUH_TRY(admin_key_path_outside(file, dir));
  std::error_code ec;
  if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) {
    return fail(Errc::already_exists, path.string() + " already exists; choose a new file for the administrator key");
  }
  if (!std::filesystem::is_directory(path.parent_path(), ec)) {
    return fail(Errc::invalid_input, "the folder of " + path.string() + " does not exist");
  }
  auto pass = TEDUH_TRY(admin_passphrase(source, server_passphrase, /*creating=*/true));
  return NewAdminKey{path, std::move(pass)};
}

[[nodiscard]] Result<void> make_admin_key(ServerStore& store, const NewAdminKey& target, const crypto::KdfParams& params) {
  auto admin = TEDUH_TRY(create_admin_key(target.path, target.passphrase, params));
  return store.set_admin_public(admin.public_keys());
}

[[nodiscard]] Result<AdminInit> init_admin_key(const std::string& dir, const std::string& file, std::string_view server_passphrase,
                                 const AdminPassphraseSource& source, const KdfSource& kdf) {
  TEDUH_TRY(refuse_legacy_admin_key(dir));
  if (file.empty()) return fail(Errc::invalid_input, "admin init needs --admin-key FILE, a file outside the data folder");
  auto store = TEDUH_TRY(ServerStore::open(dir, server_passphrase));
  auto known = TEDUH_TRY(store.admin_public());
  auto path = admin_key_path_outside(file, dir);
  if (!path) return tl::unexpected(path.error());
  std::error_code ec;
  const bool file_exists = std::filesystem::exists(*path, ec);
  if (known) return fail(Errc::refused, "this server store already has an administrator key; refusing to replace it");
  if (file_exists) {
    // The key file was written but its public keys never reached the store (a crash in
    // between, in init or here): record the existing file's keys if it opens.
    auto existing = TEDUH_TRY(load_admin_key(dir, file, server_passphrase, source));
    TEDUH_TRY(store.set_admin_public(existing.public_keys()));
    return AdminInit{*path, /*recorded_existing=*/true};
  }
  auto params = TEDUH_TRY(kdf());
  auto target = TEDUH_TRY(prepare_new_admin_key(dir, file, server_passphrase, source));
  TEDUH_TRY(make_admin_key(store, target, params));
  return AdminInit{target.path, /*recorded_existing=*/false};
}

[[nodiscard]] Result<void> move_legacy_admin_key(const std::string& dir, const std::string& file, std::string_view server_passphrase,
                                   const LegacyAdminPassphrases& legacy_passphrases,
                                   const AdminPassphraseSource& source, const KdfSource& kdf,
                                   const MoveKeyProgress& progress) {
  namespace fs = std::filesystem;
  if (file.empty()) {
    return fail(Errc::invalid_input, "admin move-key needs --admin-key FILE, a file outside the data folder");
  }
  const fs::path legacy = legacy_admin_key_path(dir);
  std::error_code ec;
  if (!fs::exists(legacy, ec)) return fail(Errc::invalid_input, "there is no admin.key in " + dir + " to move");
  auto path = admin_key_path_outside(file, dir);
  if (!path) return tl::unexpected(path.error());
  auto store = TEDUH_TRY(ServerStore::open(dir, server_passphrase));
  std::vector<std::string_view> candidates;
  if (!legacy_passphrases.stated_old.empty()) candidates.push_back(legacy_passphrases.stated_old);
  candidates.push_back(server_passphrase);
  if (!legacy_passphrases.current_admin.empty()) candidates.push_back(legacy_passphrases.current_admin);
  std::optional<AdminKey> current;
  for (std::string_view candidate : candidates) {
    auto opened = open_admin_key(legacy, candidate);
    if (opened) {
      current = std::move(*opened);
      break;
    }
    if (opened.error().code != Errc::refused) return tl::unexpected(opened.error());
  }
  if (!current) {
    return fail(Errc::refused, legacy.string() + " does not open with the server passphrase; set "
                                   "TEDUH_ADMIN_PASSPHRASE_LAMA to the administrator passphrase it was made with");
  }
  auto params = TEDUH_TRY(kdf());
  std::optional<AdminKey> renewed;
  if (fs::exists(*path, ec)) {
    // A run that stopped after writing the new file: take it up again.
    auto new_pass = TEDUH_TRY(admin_passphrase(source, server_passphrase, /*creating=*/false));
    auto opened = TEDUH_TRY(open_admin_key(*path, new_pass));
    if (opened.sign.public_key() != current->sign.public_key()) {
      return fail(Errc::refused, path->string() + " already exists and holds another administrator key");
    }
    renewed = std::move(opened);
  } else {
    auto target = TEDUH_TRY(prepare_new_admin_key(dir, file, server_passphrase, source));
    auto sign = crypto::SigningKey::from_secret(current->sign.secret_key().view());
    if (!sign) return fail(Errc::damaged, "the old administrator signing key is malformed");
    AdminKey fresh{std::move(*sign), crypto::DhKeyPair::generate()};
    TEDUH_TRY(write_admin_key(target.path, fresh, target.passphrase, params));
    renewed = std::move(fresh);
  }
  auto moved = store.renew_admin_box(*current, *renewed);
  if (!moved) return tl::unexpected(moved.error());
  TEDUH_TRY(wipe_file(legacy));
  if (progress.moved) progress.moved(*path, *moved, legacy);
  auto compartments = TEDUH_TRY(store.list_compartments());
  for (const CompartmentState& cs : compartments) {
    if (cs.generation == 0) continue;
    auto rotated = store.rotate_compartment(*renewed, cs.compartment);
    if (!rotated) return tl::unexpected(rotated.error());
    if (progress.rotated) progress.rotated(cs.compartment, *rotated);
  }
  return {};
}

[[nodiscard]] Result<IssuedEnrollment> issue_device_enrollment(ServerStore& store, const std::string& dir,
                                                 const EnrollRequest& request) {
  if (request.shelter) {
    // A shelter device enrolled before the administrator key exists could never be cleared.
    auto admin = TEDUH_TRY(store.admin_public());
    if (!admin) {
      return fail(Errc::refused,
                  "this server store has no administrator key, so a --shelter device could never receive "
                  "shelter keys; run teduhd admin init --data " + dir + " --admin-key FILE first");
    }
  }
  return store.issue_enrollment(request);
}

[[nodiscard]] Result<void> revoke_device(ServerStore& store, const sync::DeviceId& device,
                           const std::function<Result<AdminKey>()>& admin_key, const RevokeProgress& progress) {
  auto revoked = store.revoke_device(device);
  if (!revoked) return tl::unexpected(revoked.error());
  if (progress.revoked) progress.revoked(*revoked);
  // A revoked cleared device keeps the keys it has: start a new generation for later writes.
  auto compartments = TEDUH_TRY(store.list_compartments());
  for (const CompartmentState& cs : compartments) {
    if (!cs.rotation_pending) continue;
    Result<AdminKey> admin = admin_key ? admin_key() : fail(Errc::invalid_input, "no --admin-key given");
    if (!admin) {
      if (progress.rotation_pending) progress.rotation_pending(cs.compartment, admin.error().message);
      continue;
    }
    auto rotated = store.rotate_compartment(*admin, cs.compartment);
    if (!rotated) return tl::unexpected(rotated.error());
    if (progress.rotated) progress.rotated(cs.compartment, *rotated);
  }
  return {};
}

[[nodiscard]] Result<ServerInit> init_server_store(const std::string& dir, std::string_view server_passphrase,
                                     const std::string& admin_file, const AdminPassphraseSource& source,
                                     const crypto::KdfParams& params) {
  std::optional<NewAdminKey> admin_target;
  if (!admin_file.empty()) {
    auto target = TEDUH_TRY(prepare_new_admin_key(dir, admin_file, server_passphrase, source));
    admin_target = std::move(target);
  }
  auto store = ServerStore::create(dir, server_passphrase, params);
  if (!store) {
    // Refusing to overwrite a store is a refusal (exit 2), not a usage error.
    if (store.error().code == Errc::already_exists) {
      return fail(Errc::refused, store.error().message + "; refusing to overwrite it");
    }
    return tl::unexpected(store.error());
  }
  if (!admin_target) return ServerInit{std::move(*store), std::nullopt};
  if (auto r = make_admin_key(*store, *admin_target, params); !r) {
    return fail(r.error().code, "the server store was created, but not the administrator key: " + r.error().message +
                                    "; run teduhd admin init --data " + dir + " --admin-key FILE");
  }
  return ServerInit{std::move(*store), admin_target->path};
}

[[nodiscard]] Result<void> change_server_passphrase(const std::string& dir, std::string_view old_passphrase,
                                      std::string_view new_passphrase, const KdfSource& kdf) {
  if (new_passphrase == old_passphrase) {
    return fail(Errc::invalid_input, "kata sandi baru sama dengan yang lama; tidak ada yang diubah");
  }
  if (auto strong = check_new_passphrase(new_passphrase, "kata sandi server"); !strong) return strong;
  auto params = TEDUH_TRY(kdf());
  const std::filesystem::path db = std::filesystem::path(dir) / std::string(kServerDbName);
  std::error_code ec;
  if (!std::filesystem::exists(db, ec)) return fail(Errc::refused, "there is no server store in " + dir);
  if (auto r = crypto::change_passphrase(db, old_passphrase, new_passphrase, params); !r) {
    const bool wrong = r.error().code == crypto::Errc::wrong_passphrase;
    return fail(wrong ? Errc::refused : Errc::storage,
                wrong ? "the passphrase does not open the server store" : r.error().message);
  }
  return {};
}

}  // namespace teduh::server
