// teduh init, teduh passphrase change, teduh check: this device's store.
#include <iostream>

#include "context.hpp"
#include "teduh/client/enrollment.hpp"
#include "teduh/crypto/verify.hpp"

namespace teduh::client::cli {

void add_init_command(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string server, server_key, enroll_code;
  };
  auto s = std::make_shared<State>();
  auto* init = app.add_subcommand(
      "init", "Create this device's encrypted store from an enrollment code (works offline)");
  ctx.add_store(init);
  init->add_option("--server", s->server, "The server address, HOST:PORT")->required();
  init->add_option("--server-key", s->server_key,
                   "The server's public key, as printed by `teduhd init`")
      ->required();
  init->add_option("--enroll", s->enroll_code, "The one-time enrollment code from `teduhd enroll`")
      ->required();
  init->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      if (ctx.store.empty()) return no_store();
      auto enrollment = TEDUH_TRY(check_enrollment(s->server, s->server_key, s->enroll_code, sync::system_now_ms()));
      auto pass = TEDUH_TRY(read_passphrase("New passphrase for this store: ", true));
      TEDUH_TRY(check_enrollment_passphrase(enrollment, pass));
      auto params = TEDUH_TRY(new_kdf_params());
      auto store = TEDUH_TRY(enroll_device(enrollment, StoreOptions{ctx.store, pass, params}));
      const auto& g = store.identity().grant;
      std::cout << "Store created for " << g.user << " (" << g.role << ") at office "
                << g.office_code << (g.shelter_clearance ? ", with shelter clearance" : "") << ".\n"
                << "This device works offline now; it registers with the server at its first "
                   "`teduh sync`.\n";
      if (g.shelter_clearance) {
        if (g.admin_key) {
          std::cout << "Shelter details need a key from the administrator: ask them to run "
                       "`teduhd device clear` for this device, then sync.\n";
        } else {
          std::cout << "This enrollment code names no administrator key, so this device can never receive "
                       "shelter keys; ask for a new code.\n";
        }
      }
      std::cout << store.identity().device.hex() << "\n";
      return 0;
    };
  });
}

void add_passphrase_commands(CliContext& ctx, CLI::App& app) {
  auto* passphrase_cmd = app.add_subcommand("passphrase", "The store's passphrase");
  passphrase_cmd->require_subcommand(1);
  auto* passphrase_change = passphrase_cmd->add_subcommand(
      "change",
      "Change the store's passphrase (old one from TEDUH_PASSPHRASE, new one from TEDUH_NEW_PASSPHRASE or "
      "prompts); only the key is rewrapped, the store is not rewritten");
  ctx.add_store(passphrase_change);
  passphrase_change->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<int> {
      if (ctx.store.empty()) return no_store();
      auto old_pass = TEDUH_TRY(read_passphrase("Current passphrase: ", false));
      auto new_pass = TEDUH_TRY(read_secret("TEDUH_NEW_PASSPHRASE", "New passphrase: ", true));
      TEDUH_TRY(check_passphrase_change(old_pass, new_pass));
      auto params = TEDUH_TRY(new_kdf_params());
      TEDUH_TRY(Store::change_passphrase(ctx.store, old_pass, new_pass, params));
      std::cout << "Kata sandi penyimpanan diganti: kata sandi lama tidak lagi membukanya. Isinya tidak "
                   "berubah; beri tahu kata sandi baru hanya kepada petugas yang berhak.\n";
      return 0;
    };
  });
}

// check: crypto::verify_store (crypto/FORMATS.md section 8); exit 0 intact, 2 damaged
void add_check_command(CliContext& ctx, CLI::App& app) {
  auto* check_cmd = app.add_subcommand(
      "check", "Read and verify every page of the store, then run SQLite's integrity check (exit 2 if damaged)");
  ctx.add_store(check_cmd);
  check_cmd->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<int> {
      if (ctx.store.empty()) return no_store();
      auto pass = TEDUH_TRY(read_passphrase("Passphrase: ", false));
      auto checked = crypto::verify_store(ctx.store, std::string_view(pass));
      if (!checked) {
        return fail(checked.error().code == crypto::Errc::io ? Errc::internal : Errc::refused,
                    "Cannot check " + ctx.store + ": " + checked.error().message + ".");
      }
      for (const auto& line : checked->verdict()) std::cout << line << "\n";
      return checked->intact() ? 0 : exit_code(Errc::damaged);
    };
  });
}

}  // namespace teduh::client::cli
