// teduhd device list | revoke | clear, teduhd compartment rotate: devices and the keys of
// the compartments (the shelter details) they hold.
#include <iostream>
#include <memory>
#include <utility>

#include "context.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh::server::cli {
namespace {

// The server store and the administrator key, opened in that order.
[[nodiscard]] Result<std::pair<ServerStore, AdminKey>> open_with_admin(const CliContext& c, const std::string& admin_file) {
  auto pass = TEDUH_TRY(resolve_passphrase(c.key_file));
  auto store = TEDUH_TRY(ServerStore::open(c.data, pass));
  auto admin = TEDUH_TRY(load_admin_key(c.data, admin_file, pass, read_admin_passphrase));
  return std::pair<ServerStore, AdminKey>{std::move(store), std::move(admin)};
}

int cmd_device_list(const CliContext& c, bool json) {
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

int cmd_device_revoke(const CliContext& c, const std::string& device_text, const std::string& admin_file) {
  auto id = sync::Id128::from_hex(device_text);
  if (!id) return usage("--device must be a device id of 32 lowercase hex digits (see teduhd device list)");
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  std::function<Result<AdminKey>()> admin_key;
  if (!admin_file.empty()) {
    admin_key = [&]() -> Result<AdminKey> {
      auto pass = TEDUH_TRY(resolve_passphrase(c.key_file));
      return load_admin_key(c.data, admin_file, pass, read_admin_passphrase);
    };
  }
  RevokeProgress progress;
  progress.revoked = [&](bool newly) {
    std::cout << (newly ? "Revoked device " : "Device was already revoked: ") << id->hex() << "\n";
  };
  progress.rotation_pending = [](const std::string& compartment, const std::string& why) {
    std::cout << "Compartment " << compartment << ": a rotation is pending (" << why
              << "). Run teduhd compartment rotate --compartment " << compartment
              << " --admin-key FILE with the administrator passphrase (TEDUH_ADMIN_PASSPHRASE) so that the revoked "
                 "device cannot read shelter details written from now on.\n";
  };
  progress.rotated = [](const std::string& compartment, const ServerStore::Rotation& rotated) {
    std::cout << "Compartment " << compartment << ": generation " << rotated.generation
              << " made and wrapped to the " << rotated.devices << " remaining cleared device(s).\n";
  };
  if (auto r = revoke_device(*store, *id, admin_key, progress); !r) return report(r.error());
  return kExitOk;
}

int cmd_device_clear(const CliContext& c, const std::string& device_text, const std::string& compartment,
                     const std::string& admin_file) {
  auto id = sync::Id128::from_hex(device_text);
  if (!id) return usage("the device must be a device id of 32 lowercase hex digits (see teduhd device list)");
  auto opened = open_with_admin(c, admin_file);
  if (!opened) return report(opened.error());
  auto& [store, admin] = *opened;
  auto generations = store.clear_device(admin, *id, compartment);
  if (!generations) return report(generations.error());
  std::cout << "Cleared device " << id->hex() << " for compartment " << compartment << ": it receives "
            << *generations << " key generation(s) at its next sync.\n";
  return kExitOk;
}

int cmd_compartment_rotate(const CliContext& c, const std::string& compartment, const std::string& admin_file) {
  auto opened = open_with_admin(c, admin_file);
  if (!opened) return report(opened.error());
  auto& [store, admin] = *opened;
  auto rotated = store.rotate_compartment(admin, compartment);
  if (!rotated) return report(rotated.error());
  std::cout << "Compartment " << compartment << ": generation " << rotated->generation << " made and wrapped to "
            << rotated->devices << " cleared device(s); they receive it at their next sync.\n";
  return kExitOk;
}

}  // namespace

void add_device_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    bool json = false;
    std::string device_id, admin_file, clear_id;
    std::string compartment{kDefaultCompartment};
  };
  auto s = std::make_shared<State>();
  CLI::App* device = app.add_subcommand("device", "Manage registered devices");
  device->require_subcommand(1);
  CLI::App* device_list = device->add_subcommand("list", "List registered devices");
  ctx.add_common(device_list);
  device_list->add_flag("--json", s->json, "Print JSON");
  device_list->callback([&ctx, s] { ctx.action = [&ctx, s] { return cmd_device_list(ctx, s->json); }; });
  CLI::App* device_revoke = device->add_subcommand("revoke", "Revoke a device; it is refused from then on");
  ctx.add_common(device_revoke);
  device_revoke->add_option("device,--device", s->device_id, "Device id (32 hex digits)")->required();
  device_revoke->add_option("--admin-key", s->admin_file,
                            "The administrator key file: a cleared device's revocation then rotates at once");
  device_revoke->callback(
      [&ctx, s] { ctx.action = [&ctx, s] { return cmd_device_revoke(ctx, s->device_id, s->admin_file); }; });

  CLI::App* device_clear = device->add_subcommand(
      "clear", "Clear a device enrolled with --shelter: it receives the shelter keys (needs the admin passphrase)");
  ctx.add_common(device_clear);
  device_clear->add_option("device,--device", s->clear_id, "Device id (32 hex digits)")->required();
  device_clear->add_option("--compartment", s->compartment, "Compartment id (default rumah_aman)");
  device_clear->add_option("--admin-key", s->admin_file, "The administrator key file (outside the data folder)")
      ->required();
  device_clear->callback([&ctx, s] {
    ctx.action = [&ctx, s] { return cmd_device_clear(ctx, s->clear_id, s->compartment, s->admin_file); };
  });
}

void add_compartment_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string admin_file;
    std::string compartment{kDefaultCompartment};
  };
  auto s = std::make_shared<State>();
  CLI::App* compartment_cmd = app.add_subcommand("compartment", "Compartment keys (the shelter details)");
  compartment_cmd->require_subcommand(1);
  CLI::App* rotate = compartment_cmd->add_subcommand(
      "rotate", "Make a new key generation, wrapped to every cleared device (needs the admin passphrase)");
  ctx.add_common(rotate);
  rotate->add_option("--compartment", s->compartment, "Compartment id (default rumah_aman)");
  rotate->add_option("--admin-key", s->admin_file, "The administrator key file (outside the data folder)")->required();
  rotate->callback([&ctx, s] {
    ctx.action = [&ctx, s] { return cmd_compartment_rotate(ctx, s->compartment, s->admin_file); };
  });
}

}  // namespace teduh::server::cli
