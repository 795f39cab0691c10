// The admin CLI (DESIGN.md section 6). Thin: parses, resolves the passphrase, calls
// ServerStore or serve(), prints. The store's rules live in server_store.cpp.
#include "teduh/server/cli.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "teduh/crypto/kdf.hpp"
#include "teduh/schema/dates.hpp"
#include "teduh/crypto/verify.hpp"
#include "teduh/crypto/passphrase.hpp"
#include "teduh/server/admin_key.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/server/serve.hpp"
#include "teduh/server/server_store.hpp"
#include "teduh/server/sqlite_storage.hpp"

namespace teduh::server {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitRefused = 2;

int report(const Error& e) {
  std::cerr << "teduhd: " << e.message << "\n";
  return exit_code_for(e.code);
}

int usage(const std::string& message) {
  std::cerr << "teduhd: " << message << "\n";
  return kExitUsage;
}

// The passphrase of the server store: the content of --key-file (one trailing newline
// dropped), else TEDUH_SERVER_PASSPHRASE.
[[nodiscard]] Result<std::string> resolve_passphrase(const std::string& key_file) {
  if (!key_file.empty()) {
    std::ifstream in(key_file, std::ios::binary);
    if (!in) return fail(Errc::invalid_input, "cannot read the passphrase file " + key_file);
    std::ostringstream buf;
    buf << in.rdbuf();
    std::string pass = buf.str();
    if (!pass.empty() && pass.back() == '\n') pass.pop_back();
    if (!pass.empty() && pass.back() == '\r') pass.pop_back();
    if (pass.empty()) return fail(Errc::invalid_input, "the passphrase file " + key_file + " is empty");
    return pass;
  }
  const char* env = std::getenv("TEDUH_SERVER_PASSPHRASE");
  if (env == nullptr || *env == '\0') {
    return fail(Errc::invalid_input, "no passphrase: set TEDUH_SERVER_PASSPHRASE or pass --key-file FILE");
  }
  return std::string(env);
}

[[nodiscard]] Result<ServerStore> open_store(const std::string& dir, const std::string& key_file) {
  auto pass = TEDUH_TRY(resolve_passphrase(key_file));
  return ServerStore::open(dir, pass);
}

std::string format_time(std::int64_t ms) {
  return schema::dates::format_utc(schema::dates::from_unix_ms(ms));
}

nlohmann::json optional_time(const std::optional<std::int64_t>& ms) {
  return ms ? nlohmann::json(format_time(*ms)) : nlohmann::json(nullptr);
}

struct Common {
  std::string data;
  std::string key_file;
};

void add_common(CLI::App* cmd, Common& common) {
  cmd->add_option("--data", common.data, "Folder of the server store")->required();
  cmd->add_option("--key-file", common.key_file,
                  "File holding the store passphrase (default: TEDUH_SERVER_PASSPHRASE)");
}

constexpr std::string_view kDefaultCompartment = "rumah_aman";

// A passphrase from the environment variable `env`, or asked on the terminal without echo.
[[nodiscard]] Result<std::string> read_secret(const char* env, const std::string& prompt, bool confirm) {
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') return std::string(v);
  if (!isatty(STDIN_FILENO)) {
    return fail(Errc::invalid_input, std::string("no passphrase: set ") + env + " or run from a terminal");
  }
  auto ask = [](const std::string& text) { return crypto::read_hidden_line(text); };
  std::string first = ask(prompt);
  if (first.empty()) return fail(Errc::invalid_input, "the passphrase is empty");
  if (confirm && ask("Repeat it: ") != first) return fail(Errc::invalid_input, "the two passphrases differ");
  return first;
}

// A new passphrase (a new store, a new administrator key, a passphrase change) must be
// strong: crypto/passphrase.hpp states the threshold; the refusal is in Bahasa Indonesia.
[[nodiscard]] Result<void> check_strength(std::string_view passphrase, const std::string& what) {
  if (auto why = crypto::weak_passphrase_reason(passphrase, {"teduhd", "server", "admin"})) {
    return fail(Errc::invalid_input, what + ": " + *why);
  }
  return {};
}

// The Argon2id cost for a new store or key file (TEDUH_KDF, TEDUH_TEST_STORES).
[[nodiscard]] Result<crypto::KdfParams> new_kdf_params() {
  auto params = crypto::KdfParams::from_environment();
  if (!params) return fail(Errc::invalid_input, params.error().message);
  return *params;
}

// The administrator passphrase (TEDUH_ADMIN_PASSPHRASE, or a prompt): never the server's.
[[nodiscard]] Result<std::string> admin_passphrase(const std::string& server_pass, bool creating) {
  auto pass = read_secret("TEDUH_ADMIN_PASSPHRASE", "Administrator passphrase: ", creating);
  if (!pass) return pass;
  if (*pass == server_pass) {
    return fail(Errc::invalid_input,
                "kata sandi administrator harus berbeda dari kata sandi server (TEDUH_SERVER_PASSPHRASE / "
                "--key-file): siapa pun yang menjalankan server tidak boleh dapat membuka kunci rumah aman");
  }
  if (creating) {
    TEDUH_TRY(check_strength(*pass, "kata sandi administrator"));
  }
  return pass;
}

// Refuses while DIR/admin.key of an older Teduh is still in the data folder.
[[nodiscard]] Result<void> refuse_legacy_admin_key(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(legacy_admin_key_path(dir), ec)) return {};
  return fail(Errc::refused,
              "the data folder still holds admin.key from an older Teduh, sealed where the serving passphrase "
              "may open it; move it out first: teduhd admin move-key --data " + dir + " --admin-key FILE");
}

// The administrator key file named by --admin-key, opened with its own passphrase.
[[nodiscard]] Result<AdminKey> load_admin(const std::string& dir, const std::string& file, const std::string& server_pass) {
  TEDUH_TRY(refuse_legacy_admin_key(dir));
  if (file.empty()) {
    return fail(Errc::invalid_input, "this command needs the administrator key: pass --admin-key FILE");
  }
  auto path = TEDUH_TRY(admin_key_path_outside(file, dir));
  auto pass = TEDUH_TRY(admin_passphrase(server_pass, /*creating=*/false));
  return open_admin_key(path, pass);
}

// Checks --admin-key and its passphrase before anything is created.
struct NewAdminKey {
  std::filesystem::path path;
  std::string passphrase;
};
[[nodiscard]] Result<NewAdminKey> prepare_new_admin_key(const std::string& dir, const std::string& file,
                                          const std::string& server_pass) {
  auto path = TEDUH_TRY(admin_key_path_outside(file, dir));
  std::error_code ec;
  if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) {
    return fail(Errc::already_exists, path.string() + " already exists; choose a new file for the administrator key");
  }
  if (!std::filesystem::is_directory(path.parent_path(), ec)) {
    return fail(Errc::invalid_input, "the folder of " + path.string() + " does not exist");
  }
  auto pass = TEDUH_TRY(admin_passphrase(server_pass, /*creating=*/true));
  return NewAdminKey{path, std::move(pass)};
}

// Creates the administrator key file and records its public keys in the store.
[[nodiscard]] Result<void> make_admin_key(ServerStore& store, const NewAdminKey& target, const crypto::KdfParams& params) {
  auto admin = TEDUH_TRY(create_admin_key(target.path, target.passphrase, params));
  return store.set_admin_public(admin.public_keys());
}

int cmd_init(const Common& c, const std::string& admin_file) {
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  if (auto strong = check_strength(*pass, "kata sandi server"); !strong) return report(strong.error());
  auto params = new_kdf_params();
  if (!params) return report(params.error());
  std::optional<NewAdminKey> admin_target;
  if (!admin_file.empty()) {
    auto target = prepare_new_admin_key(c.data, admin_file, *pass);
    if (!target) return report(target.error());
    admin_target = std::move(*target);
  }
  auto store = ServerStore::create(c.data, *pass, *params);
  if (!store) {
    // Refusing to overwrite a store is a refusal (exit 2), not a usage error.
    if (store.error().code == Errc::already_exists) {
      std::cerr << "teduhd: " << store.error().message << "; refusing to overwrite it\n";
      return kExitRefused;
    }
    return report(store.error());
  }
  if (admin_target) {
    if (auto r = make_admin_key(*store, *admin_target, *params); !r) {
      std::cerr << "teduhd: the server store was created, but not the administrator key: " << r.error().message
                << "; run teduhd admin init --data " << c.data << " --admin-key FILE\n";
      return exit_code_for(r.error().code);
    }
    std::cout << "Created a new server store in " << c.data << ", and the administrator key in "
              << admin_target->path.string()
              << " (keep it off this server, with its own passphrase; teduhd serve never needs it).\n";
  } else {
    std::cout << "Created a new server store in " << c.data << ". It has no administrator key yet: before enrolling "
              << "devices with --shelter, run teduhd admin init --data " << c.data
              << " --admin-key FILE (a file outside the data folder).\n";
  }
  std::cout << "Server public key (give it to every office with its enrollment code):\n"
            << store->public_key_text() << "\n";
  return kExitOk;
}

int cmd_admin_init(const Common& c, const std::string& admin_file) {
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  if (auto r = refuse_legacy_admin_key(c.data); !r) return report(r.error());
  if (admin_file.empty()) return usage("admin init needs --admin-key FILE, a file outside the data folder");
  auto store = ServerStore::open(c.data, *pass);
  if (!store) return report(store.error());
  auto known = store->admin_public();
  if (!known) return report(known.error());
  auto path = admin_key_path_outside(admin_file, c.data);
  if (!path) return report(path.error());
  std::error_code ec;
  const bool file_exists = std::filesystem::exists(*path, ec);
  if (*known) {
    std::cerr << "teduhd: this server store already has an administrator key; refusing to replace it\n";
    return kExitRefused;
  }
  if (file_exists) {
    // The key file was written but its public keys never reached the store (a crash in
    // between, in init or here): record the existing file's keys if it opens.
    auto existing = load_admin(c.data, admin_file, *pass);
    if (!existing) return report(existing.error());
    if (auto s = store->set_admin_public(existing->public_keys()); !s) return report(s.error());
    std::cout << "Recorded the existing administrator key of " << path->string() << " in the server store.\n";
    return kExitOk;
  }
  auto params = new_kdf_params();
  if (!params) return report(params.error());
  auto target = prepare_new_admin_key(c.data, admin_file, *pass);
  if (!target) return report(target.error());
  if (auto r = make_admin_key(*store, *target, *params); !r) return report(r.error());
  std::cout << "Created the administrator key in " << target->path.string()
            << ". Enrollment codes issued from now on carry it; devices enrolled before cannot receive shelter keys "
               "until enrolled again.\n";
  return kExitOk;
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

// Moves DIR/admin.key of an older Teduh out of the data folder (server/README.md,
// "The administrator key"): the same signing key (devices pinned it), a NEW box key (an
// old copy of the data folder opens the old one with the serving passphrase), every
// administrator wrap sealed again to it, the old file wiped, then a new generation of
// every compartment so that what is written from now on is out of that copy's reach.
// Safe to run again after a crash at any step.
int cmd_admin_move_key(const Common& c, const std::string& admin_file) {
  namespace fs = std::filesystem;
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  if (admin_file.empty()) return usage("admin move-key needs --admin-key FILE, a file outside the data folder");
  const fs::path legacy = legacy_admin_key_path(c.data);
  std::error_code ec;
  if (!fs::exists(legacy, ec)) {
    std::cerr << "teduhd: there is no admin.key in " << c.data << " to move\n";
    return kExitUsage;
  }
  auto path = admin_key_path_outside(admin_file, c.data);
  if (!path) return report(path.error());
  auto store = ServerStore::open(c.data, *pass);
  if (!store) return report(store.error());
  // The old file was sealed under the server passphrase unless TEDUH_ADMIN_PASSPHRASE
  // was set when it was made: TEDUH_ADMIN_PASSPHRASE_LAMA names that one explicitly.
  std::vector<std::string> candidates;
  if (const char* old = std::getenv("TEDUH_ADMIN_PASSPHRASE_LAMA"); old != nullptr && *old != '\0') {
    candidates.emplace_back(old);
  }
  candidates.push_back(*pass);
  if (const char* cur = std::getenv("TEDUH_ADMIN_PASSPHRASE"); cur != nullptr && *cur != '\0') {
    candidates.emplace_back(cur);
  }
  std::optional<AdminKey> current;
  for (const std::string& candidate : candidates) {
    auto opened = open_admin_key(legacy, candidate);
    if (opened) {
      current = std::move(*opened);
      break;
    }
    if (opened.error().code != Errc::refused) return report(opened.error());
  }
  if (!current) {
    std::cerr << "teduhd: " << legacy.string() << " does not open with the server passphrase; set "
              << "TEDUH_ADMIN_PASSPHRASE_LAMA to the administrator passphrase it was made with\n";
    return kExitRefused;
  }
  auto params = new_kdf_params();
  if (!params) return report(params.error());
  std::optional<AdminKey> renewed;
  if (fs::exists(*path, ec)) {
    // A run that stopped after writing the new file: take it up again.
    auto new_pass = admin_passphrase(*pass, /*creating=*/false);
    if (!new_pass) return report(new_pass.error());
    auto opened = open_admin_key(*path, *new_pass);
    if (!opened) return report(opened.error());
    if (opened->sign.public_key() != current->sign.public_key()) {
      std::cerr << "teduhd: " << path->string() << " already exists and holds another administrator key\n";
      return kExitRefused;
    }
    renewed = std::move(*opened);
  } else {
    auto target = prepare_new_admin_key(c.data, admin_file, *pass);
    if (!target) return report(target.error());
    auto sign = crypto::SigningKey::from_secret(current->sign.secret_key().view());
    if (!sign) return report(Error{Errc::damaged, "the old administrator signing key is malformed"});
    AdminKey fresh{std::move(*sign), crypto::DhKeyPair::generate()};
    if (auto w = write_admin_key(target->path, fresh, target->passphrase, *params); !w) return report(w.error());
    renewed = std::move(fresh);
  }
  auto moved = store->renew_admin_box(*current, *renewed);
  if (!moved) return report(moved.error());
  if (auto w = wipe_file(legacy); !w) return report(w.error());
  std::cout << "Moved the administrator key to " << path->string() << " with a new box key (" << *moved
            << " administrator wrap(s) sealed again) and removed " << legacy.string() << ".\n";
  auto compartments = store->list_compartments();
  if (!compartments) return report(compartments.error());
  for (const CompartmentState& cs : *compartments) {
    if (cs.generation == 0) continue;
    auto rotated = store->rotate_compartment(*renewed, cs.compartment);
    if (!rotated) return report(rotated.error());
    std::cout << "Compartment " << cs.compartment << ": generation " << rotated->generation << " made and wrapped to "
              << rotated->devices << " cleared device(s).\n";
  }
  std::cout << "Older copies of the data folder (backups) still hold the old admin.key: whoever has one and the "
               "server passphrase can read shelter details written under the generations made before this move, "
               "not those written from now on. Destroy such copies.\n";
  return kExitOk;
}

int cmd_compartment_rotate(const Common& c, const std::string& compartment, const std::string& admin_file) {
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  auto store = ServerStore::open(c.data, *pass);
  if (!store) return report(store.error());
  auto admin = load_admin(c.data, admin_file, *pass);
  if (!admin) return report(admin.error());
  auto rotated = store->rotate_compartment(*admin, compartment);
  if (!rotated) return report(rotated.error());
  std::cout << "Compartment " << compartment << ": generation " << rotated->generation << " made and wrapped to "
            << rotated->devices << " cleared device(s); they receive it at their next sync.\n";
  return kExitOk;
}

int cmd_device_clear(const Common& c, const std::string& device_text, const std::string& compartment,
                     const std::string& admin_file) {
  auto id = sync::Id128::from_hex(device_text);
  if (!id) return usage("the device must be a device id of 32 lowercase hex digits (see teduhd device list)");
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  auto store = ServerStore::open(c.data, *pass);
  if (!store) return report(store.error());
  auto admin = load_admin(c.data, admin_file, *pass);
  if (!admin) return report(admin.error());
  auto generations = store->clear_device(*admin, *id, compartment);
  if (!generations) return report(generations.error());
  std::cout << "Cleared device " << id->hex() << " for compartment " << compartment << ": it receives "
            << *generations << " key generation(s) at its next sync.\n";
  return kExitOk;
}

int cmd_debug_dump(const Common& c) {
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  auto text = store->dump_text();
  if (!text) return report(text.error());
  std::cout << *text;
  return kExitOk;
}

// Verifies DIR/server.db page by page and with SQLite's integrity check
// (crypto::verify_store, crypto/FORMATS.md section 8): exit 0 intact, 2 damaged.
int cmd_check(const Common& c) {
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  const auto db_path = std::filesystem::path(c.data) / std::string(kServerDbName);
  auto checked = crypto::verify_store(db_path, std::string_view(*pass));
  if (!checked) {
    std::cerr << "teduhd: cannot check " << db_path.string() << ": " << checked.error().message << "\n";
    return kExitRefused;
  }
  for (const auto& line : checked->verdict()) std::cout << line << "\n";
  return checked->intact() ? kExitOk : kExitRefused;
}

int cmd_office_add(const Common& c, const NewOffice& office) {
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  if (auto r = store->add_office(office); !r) return report(r.error());
  std::cout << "Added office " << office.code << " (" << office.kind << ").\n" << office.code << "\n";
  return kExitOk;
}

int cmd_office_list(const Common& c, bool json) {
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  auto offices = store->list_offices();
  if (!offices) return report(offices.error());
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const OfficeRecord& o : *offices) {
      list.push_back({{"code", o.code}, {"name", o.name}, {"kind", o.kind}, {"region", o.region},
                      {"parent", o.parent.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.parent)},
                      {"created_at", format_time(o.created_at_ms)}});
    }
    std::cout << nlohmann::json{{"offices", list}}.dump(2) << "\n";
    return kExitOk;
  }
  if (offices->empty()) std::cout << "No offices.\n";
  for (const OfficeRecord& o : *offices) {
    std::cout << o.code << "  " << o.kind << "  " << o.name;
    if (!o.region.empty()) std::cout << "  region " << o.region;
    if (!o.parent.empty()) std::cout << "  parent " << o.parent;
    std::cout << "\n";
  }
  return kExitOk;
}

int cmd_enroll(const Common& c, const EnrollRequest& request) {
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  if (request.shelter) {
    // A shelter device enrolled before the administrator key exists could never be cleared.
    auto admin = store->admin_public();
    if (!admin) return report(admin.error());
    if (!*admin) {
      std::cerr << "teduhd: this server store has no administrator key, so a --shelter device could never receive "
                   "shelter keys; run teduhd admin init --data "
                << c.data << " --admin-key FILE first\n";
      return kExitRefused;
    }
  }
  auto issued = store->issue_enrollment(request);
  if (!issued) return report(issued.error());
  std::cout << "One-time enrollment code for " << request.user << " (" << request.role << ") at "
            << request.office << (request.shelter ? ", with shelter clearance" : "") << ", valid until "
            << format_time(issued->expires_at_ms) << ":\n"
            << issued->code << "\n";
  return kExitOk;
}

int cmd_device_list(const Common& c, bool json) {
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  auto devices = store->list_devices();
  if (!devices) return report(devices.error());
  auto shelter_state = store->compartment_state(kDefaultCompartment);
  if (!shelter_state) return report(shelter_state.error());
  // What a device enrolled with shelter clearance holds of the shelter compartment.
  auto key_status = [&](const DeviceRecord& d) -> std::string {
    if (!d.shelter) return "";
    if (d.revoked()) return "";
    if (!d.cleared()) return "menunggu kunci (not cleared: teduhd device clear " + d.device_id.hex() + ")";
    return "kunci generasi " + std::to_string(shelter_state->generation);
  };
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const DeviceRecord& d : *devices) {
      list.push_back({{"device", d.device_id.hex()},
                      {"sign_key", crypto::to_base64url(d.sign_key)},
                      {"office", d.office},
                      {"user", d.user},
                      {"role", d.role},
                      {"shelter", d.shelter},
                      {"registered_at", format_time(d.registered_at_ms)},
                      {"revoked_at", optional_time(d.revoked_at_ms)},
                      {"last_seen_at", optional_time(d.last_seen_at_ms)},
                      {"status", d.revoked() ? "revoked" : "active"},
                      {"cleared_at", optional_time(d.cleared_at_ms)},
                      {"shelter_key", key_status(d).empty() ? nlohmann::json(nullptr) : nlohmann::json(key_status(d))}});
    }
    std::cout << nlohmann::json{{"devices", list}}.dump(2) << "\n";
    return kExitOk;
  }
  if (devices->empty()) std::cout << "No devices registered.\n";
  for (const DeviceRecord& d : *devices) {
    std::cout << d.device_id.hex() << "  " << d.office << "  " << d.user << "  " << d.role
              << (d.shelter ? "  shelter" : "") << "  registered " << format_time(d.registered_at_ms)
              << (d.revoked() ? "  REVOKED " + format_time(*d.revoked_at_ms) : std::string("  active"));
    if (const std::string k = key_status(d); !k.empty()) std::cout << "  " << k;
    std::cout << "\n";
  }
  if (shelter_state->rotation_pending) {
    std::cout << "A cleared device was revoked: run teduhd compartment rotate to stop it reading later shelter "
                 "details.\n";
  }
  return kExitOk;
}

int cmd_device_revoke(const Common& c, const std::string& device_text, const std::string& admin_file) {
  auto id = sync::Id128::from_hex(device_text);
  if (!id) return usage("--device must be a device id of 32 lowercase hex digits (see teduhd device list)");
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  auto revoked = store->revoke_device(*id);
  if (!revoked) return report(revoked.error());
  std::cout << (*revoked ? "Revoked device " : "Device was already revoked: ") << id->hex() << "\n";
  // A revoked cleared device keeps the keys it has: start a new generation for later writes.
  auto compartments = store->list_compartments();
  if (!compartments) return report(compartments.error());
  for (const CompartmentState& cs : *compartments) {
    if (!cs.rotation_pending) continue;
    Result<AdminKey> admin = fail(Errc::invalid_input, "no --admin-key given");
    if (!admin_file.empty()) {
      auto pass = resolve_passphrase(c.key_file);
      admin = pass ? load_admin(c.data, admin_file, *pass) : Result<AdminKey>(tl::unexpected(pass.error()));
    }
    if (!admin) {
      std::cout << "Compartment " << cs.compartment << ": a rotation is pending (" << admin.error().message
                << "). Run teduhd compartment rotate --compartment " << cs.compartment
                << " --admin-key FILE with the administrator passphrase (TEDUH_ADMIN_PASSPHRASE) so that the revoked "
                   "device cannot read shelter details written from now on.\n";
      continue;
    }
    auto rotated = store->rotate_compartment(*admin, cs.compartment);
    if (!rotated) return report(rotated.error());
    std::cout << "Compartment " << cs.compartment << ": generation " << rotated->generation
              << " made and wrapped to the " << rotated->devices << " remaining cleared device(s).\n";
  }
  return kExitOk;
}

// Rewraps the server store's key under a new passphrase (crypto/FORMATS.md section 1):
// only DIR/server.db.key is replaced; the store is not rewritten.
int cmd_passphrase_change(const Common& c, const std::string& new_key_file) {
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  Result<std::string> fresh = fail(Errc::invalid_input, "");
  if (!new_key_file.empty()) {
    fresh = resolve_passphrase(new_key_file);
  } else {
    fresh = read_secret("TEDUH_NEW_SERVER_PASSPHRASE", "New server passphrase: ", true);
  }
  if (!fresh) return report(fresh.error());
  if (*fresh == *pass) return usage("kata sandi baru sama dengan yang lama; tidak ada yang diubah");
  if (auto strong = check_strength(*fresh, "kata sandi server"); !strong) return report(strong.error());
  auto params = new_kdf_params();
  if (!params) return report(params.error());
  const std::filesystem::path db = std::filesystem::path(c.data) / std::string(kServerDbName);
  std::error_code ec;
  if (!std::filesystem::exists(db, ec)) return report(Error{Errc::refused, "there is no server store in " + c.data});
  if (auto r = crypto::change_passphrase(db, *pass, *fresh, *params); !r) {
    const bool wrong = r.error().code == crypto::Errc::wrong_passphrase;
    return report(Error{wrong ? Errc::refused : Errc::storage,
                        wrong ? "the passphrase does not open the server store" : r.error().message});
  }
  std::cout << "Kata sandi server diganti: kata sandi lama tidak lagi membuka " << c.data
            << ". Jalankan teduhd serve dengan kata sandi baru; kata sandi administrator tidak berubah.\n";
  return kExitOk;
}

std::optional<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  unsigned port = 0;
  for (char ch : port_text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    port = port * 10 + static_cast<unsigned>(ch - '0');
  }
  if (port > 65535) return std::nullopt;
  return std::make_pair(host, static_cast<std::uint16_t>(port));
}

// DIR/serve.lock, held (flock) for as long as `teduhd serve` runs: a second server on
// the same store would hand out the same server seqs twice. Admin commands do not take
// it; they share the store through SQLite's locking.
class ServeLock {
 public:
  ServeLock() = default;
  ServeLock(const ServeLock&) = delete;
  ServeLock& operator=(const ServeLock&) = delete;
  ~ServeLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays (removing it would race)
  }

  // Fails with refused when another process holds the lock.
  [[nodiscard]] Result<void> acquire(const std::string& dir) {
    std::error_code ec;
    // No store in DIR: no lock file left behind; opening the store says what is wrong.
    if (!std::filesystem::exists(std::filesystem::path(dir) / std::string(kServerDbName), ec)) return {};
    const std::string path = (std::filesystem::path(dir) / "serve.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return {};  // no such folder: opening the store says so
      return fail(Errc::refused, "cannot open the lock file " + path);
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return fail(Errc::refused, "another teduhd serve is already serving " + dir +
                                     " (it holds " + path + "); stop it before starting a second one");
    }
    return {};
  }

 private:
  int fd_ = -1;
};

// A positive number of milliseconds from the environment variable `name`, if set.
[[nodiscard]] Result<void> duration_from_env(const char* name, std::chrono::milliseconds& out) {
  const char* t = std::getenv(name);
  if (t == nullptr || *t == '\0') return {};
  char* end = nullptr;
  const long long ms = std::strtoll(t, &end, 10);
  if (end == t || *end != '\0' || ms <= 0) return fail(Errc::invalid_input, std::string(name) + " must be a positive number");
  out = std::chrono::milliseconds(ms);
  return {};
}

int cmd_serve(const Common& c, const std::string& listen) {
  auto endpoint = parse_listen(listen);
  if (!endpoint) return usage("--listen must be HOST:PORT, for example 0.0.0.0:7443");
  // A data folder that holds the administrator key breaks the shelter promise (whoever
  // copies it and knows this passphrase opens every shelter key): it is not served.
  if (auto legacy = refuse_legacy_admin_key(c.data); !legacy) return report(legacy.error());
  ServeOptions options;
  options.host = endpoint->first;
  options.port = endpoint->second;
  for (const auto& [name, value] : {std::pair<const char*, std::chrono::milliseconds*>{"TEDUH_IDLE_TIMEOUT_MS", &options.read_timeout},
                                    {"TEDUH_FRAME_TIMEOUT_MS", &options.frame_timeout},
                                    {"TEDUH_HANDSHAKE_TIMEOUT_MS", &options.handshake_timeout}}) {
    if (auto r = duration_from_env(name, *value); !r) return usage(r.error().message);
  }
  ServeLock lock;
  if (auto r = lock.acquire(c.data); !r) return report(r.error());
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  // A damaged page would otherwise surface only as failed pulls while pushes are still
  // acknowledged: refuse to serve from such a store at all.
  if (auto v = store->verify_store(); !v) {
    std::cerr << "teduhd: the server store in " << c.data << " is damaged (" << v.error().message
              << "); teduhd serve does not start on a damaged store: restore the folder from a backup\n";
    return exit_code_for(Errc::damaged);
  }
  if (auto r = serve(*store, options); !r) return report(r.error());
  return kExitOk;
}

int run(int argc, char** argv) {
  CLI::App app{"teduhd: the Teduh sync server and its administration"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show the help of every command");

  Common common;

  CLI::App* init = app.add_subcommand("init", "Create a new server store and server keys; prints the server public key");
  add_common(init, common);
  std::string admin_file;
  init->add_option("--admin-key", admin_file,
                   "Also create the administrator key in FILE, outside the data folder (passphrase: "
                   "TEDUH_ADMIN_PASSPHRASE or a prompt; never the server's)");

  CLI::App* office = app.add_subcommand("office", "Manage offices");
  office->require_subcommand(1);
  NewOffice new_office;
  CLI::App* office_add = office->add_subcommand("add", "Add an office");
  add_common(office_add, common);
  office_add->add_option("--code", new_office.code, "Office code, e.g. BKS-DP3A")->required();
  office_add->add_option("--name", new_office.name, "Office name")->required();
  office_add->add_option("--kind", new_office.kind, "dinas, uptd_ppa, kelurahan, mitra or pusat")->required();
  office_add->add_option("--region", new_office.region, "BPS kode wilayah");
  office_add->add_option("--parent", new_office.parent, "Code of the parent office");
  bool json = false;
  CLI::App* office_list = office->add_subcommand("list", "List offices");
  add_common(office_list, common);
  office_list->add_flag("--json", json, "Print JSON");

  EnrollRequest enroll_request;
  CLI::App* enroll = app.add_subcommand("enroll", "Issue a one-time enrollment code; prints it on the last line");
  add_common(enroll, common);
  enroll->add_option("--office", enroll_request.office, "Office code")->required();
  enroll->add_option("--user", enroll_request.user, "User name")->required();
  enroll->add_option("--role", enroll_request.role,
                     "operator, pendamping, supervisor, kepala, petugas_rumah_aman, analis or admin")
      ->required();
  enroll->add_flag("--shelter", enroll_request.shelter, "Grant shelter (rumah aman) clearance");
  enroll->add_option("--days", enroll_request.days, "Days the code stays valid (default 14)");

  CLI::App* device = app.add_subcommand("device", "Manage registered devices");
  device->require_subcommand(1);
  CLI::App* device_list = device->add_subcommand("list", "List registered devices");
  add_common(device_list, common);
  device_list->add_flag("--json", json, "Print JSON");
  std::string device_id;
  CLI::App* device_revoke = device->add_subcommand("revoke", "Revoke a device; it is refused from then on");
  add_common(device_revoke, common);
  device_revoke->add_option("device,--device", device_id, "Device id (32 hex digits)")->required();
  device_revoke->add_option("--admin-key", admin_file,
                            "The administrator key file: a cleared device's revocation then rotates at once");

  std::string clear_id;
  std::string compartment(kDefaultCompartment);
  CLI::App* device_clear = device->add_subcommand(
      "clear", "Clear a device enrolled with --shelter: it receives the shelter keys (needs the admin passphrase)");
  add_common(device_clear, common);
  device_clear->add_option("device,--device", clear_id, "Device id (32 hex digits)")->required();
  device_clear->add_option("--compartment", compartment, "Compartment id (default rumah_aman)");
  device_clear->add_option("--admin-key", admin_file, "The administrator key file (outside the data folder)")
      ->required();

  CLI::App* admin = app.add_subcommand("admin", "The administrator key");
  admin->require_subcommand(1);
  CLI::App* admin_init = admin->add_subcommand(
      "init", "Create the administrator key in --admin-key FILE, outside the data folder, for a store without one");
  add_common(admin_init, common);
  admin_init->add_option("--admin-key", admin_file, "The new administrator key file")->required();
  CLI::App* admin_move = admin->add_subcommand(
      "move-key", "Move DIR/admin.key of an older Teduh out of the data folder, with a new box key and passphrase");
  add_common(admin_move, common);
  admin_move->add_option("--admin-key", admin_file, "Where the administrator key goes (outside the data folder)")
      ->required();

  CLI::App* passphrase_cmd = app.add_subcommand("passphrase", "The server store's passphrase");
  passphrase_cmd->require_subcommand(1);
  CLI::App* passphrase_change = passphrase_cmd->add_subcommand(
      "change", "Rewrap the server store's key under a new passphrase (TEDUH_NEW_SERVER_PASSPHRASE, "
                "--new-key-file or a prompt); the store is not rewritten");
  add_common(passphrase_change, common);
  std::string new_key_file;
  passphrase_change->add_option("--new-key-file", new_key_file, "File holding the new passphrase");

  CLI::App* compartment_cmd = app.add_subcommand("compartment", "Compartment keys (the shelter details)");
  compartment_cmd->require_subcommand(1);
  CLI::App* rotate = compartment_cmd->add_subcommand(
      "rotate", "Make a new key generation, wrapped to every cleared device (needs the admin passphrase)");
  add_common(rotate, common);
  rotate->add_option("--compartment", compartment, "Compartment id (default rumah_aman)");
  rotate->add_option("--admin-key", admin_file, "The administrator key file (outside the data folder)")->required();

  CLI::App* debug = app.add_subcommand("debug", "Inspection tools for administrators");
  debug->require_subcommand(1);
  CLI::App* dump = debug->add_subcommand(
      "dump", "Print every table of the decrypted server store (end-to-end encrypted values stay sealed)");
  add_common(dump, common);

  CLI::App* check = app.add_subcommand(
      "check", "Read and verify every page of the server store, then run SQLite's integrity check (exit 2 if damaged)");
  add_common(check, common);

  std::string listen;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Serve sync connections until SIGINT or SIGTERM");
  add_common(serve_cmd, common);
  serve_cmd->add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage(std::string(e.what()) + " (run with --help for usage)");
  }

  if (*init) return cmd_init(common, admin_file);
  if (*office_add) return cmd_office_add(common, new_office);
  if (*office_list) return cmd_office_list(common, json);
  if (*enroll) return cmd_enroll(common, enroll_request);
  if (*device_list) return cmd_device_list(common, json);
  if (*device_revoke) return cmd_device_revoke(common, device_id, admin_file);
  if (*device_clear) return cmd_device_clear(common, clear_id, compartment, admin_file);
  if (*admin_init) return cmd_admin_init(common, admin_file);
  if (*admin_move) return cmd_admin_move_key(common, admin_file);
  if (*passphrase_change) return cmd_passphrase_change(common, new_key_file);
  if (*rotate) return cmd_compartment_rotate(common, compartment, admin_file);
  if (*dump) return cmd_debug_dump(common);
  if (*serve_cmd) return cmd_serve(common, listen);
  if (*check) return cmd_check(common);
  return usage("no command given (run with --help for usage)");
}

}  // namespace

int run_cli(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "teduhd: internal error: " << e.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace teduh::server
