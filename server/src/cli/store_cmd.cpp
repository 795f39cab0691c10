// teduhd init, teduhd passphrase change, teduhd debug dump, teduhd check: the server store.
#include <filesystem>
#include <iostream>
#include <memory>

#include "context.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/crypto/verify.hpp"
#include "teduh/server/sqlite_storage.hpp"

namespace teduh::server::cli {
namespace {

int cmd_init(const CliContext& c, const std::string& admin_file) {
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  if (auto strong = check_new_passphrase(*pass, "kata sandi server"); !strong) return report(strong.error());
  auto params = new_kdf_params();
  if (!params) return report(params.error());
  auto made = init_server_store(c.data, *pass, admin_file, read_admin_passphrase, *params);
  if (!made) return report(made.error());
  if (made->admin_key) {
    std::cout << "Created a new server store in " << c.data << ", and the administrator key in "
              << made->admin_key->string()
              << " (keep it off this server, with its own passphrase; teduhd serve never needs it).\n";
  } else {
    std::cout << "Created a new server store in " << c.data << ". It has no administrator key yet: before enrolling "
              << "devices with --shelter, run teduhd admin init --data " << c.data
              << " --admin-key FILE (a file outside the data folder).\n";
  }
  std::cout << "Server public key (give it to every office with its enrollment code):\n"
            << made->store.public_key_text() << "\n";
  return kExitOk;
}

// Rewraps the server store's key under a new passphrase (crypto/FORMATS.md section 1):
// only DIR/server.db.key is replaced; the store is not rewritten.
int cmd_passphrase_change(const CliContext& c, const std::string& new_key_file) {
  auto pass = resolve_passphrase(c.key_file);
  if (!pass) return report(pass.error());
  Result<std::string> fresh = fail(Errc::invalid_input, "");
  if (!new_key_file.empty()) {
    fresh = resolve_passphrase(new_key_file);
  } else {
    fresh = read_secret("TEDUH_NEW_SERVER_PASSPHRASE", "New server passphrase: ", true);
  }
  if (!fresh) return report(fresh.error());
  if (auto r = change_server_passphrase(c.data, *pass, *fresh, new_kdf_params); !r) return report(r.error());
  std::cout << "Kata sandi server diganti: kata sandi lama tidak lagi membuka " << c.data
            << ". Jalankan teduhd serve dengan kata sandi baru; kata sandi administrator tidak berubah.\n";
  return kExitOk;
}

int cmd_debug_dump(const CliContext& c) {
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  auto text = store->dump_text();
  if (!text) return report(text.error());
  std::cout << *text;
  return kExitOk;
}

// Verifies DIR/server.db page by page and with SQLite's integrity check
// (crypto::verify_store, crypto/FORMATS.md section 8): exit 0 intact, 2 damaged.
int cmd_check(const CliContext& c) {
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

}  // namespace

void add_init_command(CliContext& ctx, CLI::App& app) {
  auto admin_file = std::make_shared<std::string>();
  CLI::App* init = app.add_subcommand("init", "Create a new server store and server keys; prints the server public key");
  ctx.add_common(init);
  init->add_option("--admin-key", *admin_file,
                   "Also create the administrator key in FILE, outside the data folder (passphrase: "
                   "TEDUH_ADMIN_PASSPHRASE or a prompt; never the server's)");
  init->callback([&ctx, admin_file] { ctx.action = [&ctx, admin_file] { return cmd_init(ctx, *admin_file); }; });
}

void add_passphrase_commands(CliContext& ctx, CLI::App& app) {
  auto new_key_file = std::make_shared<std::string>();
  CLI::App* passphrase_cmd = app.add_subcommand("passphrase", "The server store's passphrase");
  passphrase_cmd->require_subcommand(1);
  CLI::App* passphrase_change = passphrase_cmd->add_subcommand(
      "change", "Rewrap the server store's key under a new passphrase (TEDUH_NEW_SERVER_PASSPHRASE, "
                "--new-key-file or a prompt); the store is not rewritten");
  ctx.add_common(passphrase_change);
  passphrase_change->add_option("--new-key-file", *new_key_file, "File holding the new passphrase");
  passphrase_change->callback(
      [&ctx, new_key_file] { ctx.action = [&ctx, new_key_file] { return cmd_passphrase_change(ctx, *new_key_file); }; });
}

void add_debug_commands(CliContext& ctx, CLI::App& app) {
  CLI::App* debug = app.add_subcommand("debug", "Inspection tools for administrators");
  debug->require_subcommand(1);
  CLI::App* dump = debug->add_subcommand(
      "dump", "Print every table of the decrypted server store (end-to-end encrypted values stay sealed)");
  ctx.add_common(dump);
  dump->callback([&ctx] { ctx.action = [&ctx] { return cmd_debug_dump(ctx); }; });
}

void add_check_command(CliContext& ctx, CLI::App& app) {
  CLI::App* check = app.add_subcommand(
      "check", "Read and verify every page of the server store, then run SQLite's integrity check (exit 2 if damaged)");
  ctx.add_common(check);
  check->callback([&ctx] { ctx.action = [&ctx] { return cmd_check(ctx); }; });
}

}  // namespace teduh::server::cli
