// teduhd admin init | move-key: the administrator key (admin.hpp holds the steps and the
// crash recovery; this file resolves the passphrases and prints).
#include <cstdlib>
#include <iostream>
#include <memory>

#include "context.hpp"

namespace teduh::server::cli {
namespace {

int cmd_admin_init(const CliContext& c, const std::string& admin_file) {
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  auto done = init_admin_key(c.data, admin_file, *pass, read_admin_passphrase, new_kdf_params);
  if (!done) return report(done.error());
  if (done->recorded_existing) {
    std::cout << "Recorded the existing administrator key of " << done->path.string() << " in the server store.\n";
    return kExitOk;
  }
  std::cout << "Created the administrator key in " << done->path.string()
            << ". Enrollment codes issued from now on carry it; devices enrolled before cannot receive shelter keys "
               "until enrolled again.\n";
  return kExitOk;
}

std::string env_text(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// Moves DIR/admin.key of an older Teduh out of the data folder (server/README.md,
// "The administrator key"; admin.hpp, move_legacy_admin_key).
int cmd_admin_move_key(const CliContext& c, const std::string& admin_file) {
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  // The old file was sealed under the server passphrase unless TEDUH_ADMIN_PASSPHRASE
  // was set when it was made: TEDUH_ADMIN_PASSPHRASE_LAMA names that one explicitly.
  const LegacyAdminPassphrases legacy{env_text("TEDUH_ADMIN_PASSPHRASE_LAMA"), env_text("TEDUH_ADMIN_PASSPHRASE")};
  MoveKeyProgress progress;
  progress.moved = [](const std::filesystem::path& to, std::size_t rewrapped, const std::filesystem::path& removed) {
    std::cout << "Moved the administrator key to " << to.string() << " with a new box key (" << rewrapped
              << " administrator wrap(s) sealed again) and removed " << removed.string() << ".\n";
  };
  progress.rotated = [](const std::string& compartment, const ServerStore::Rotation& rotated) {
    std::cout << "Compartment " << compartment << ": generation " << rotated.generation << " made and wrapped to "
              << rotated.devices << " cleared device(s).\n";
  };
  auto moved = move_legacy_admin_key(c.data, admin_file, *pass, legacy, read_admin_passphrase, new_kdf_params,
                                     progress);
  if (!moved) return report(moved.error());
  std::cout << "Older copies of the data folder (backups) still hold the old admin.key: whoever has one and the "
               "server passphrase can read shelter details written under the generations made before this move, "
               "not those written from now on. Destroy such copies.\n";
  return kExitOk;
}

}  // namespace

void add_admin_commands(CliContext& ctx, CLI::App& app) {
  auto admin_file = std::make_shared<std::string>();
  CLI::App* admin = app.add_subcommand("admin", "The administrator key");
  admin->require_subcommand(1);
  CLI::App* admin_init = admin->add_subcommand(
      "init", "Create the administrator key in --admin-key FILE, outside the data folder, for a store without one");
  ctx.add_common(admin_init);
  admin_init->add_option("--admin-key", *admin_file, "The new administrator key file")->required();
  admin_init->callback([&ctx, admin_file] { ctx.action = [&ctx, admin_file] { return cmd_admin_init(ctx, *admin_file); }; });
  CLI::App* admin_move = admin->add_subcommand(
      "move-key", "Move DIR/admin.key of an older Teduh out of the data folder, with a new box key and passphrase");
  ctx.add_common(admin_move);
  admin_move->add_option("--admin-key", *admin_file, "Where the administrator key goes (outside the data folder)")
      ->required();
  admin_move->callback([&ctx, admin_file] { ctx.action = [&ctx, admin_file] { return cmd_admin_move_key(ctx, *admin_file); }; });
}

}  // namespace teduh::server::cli
