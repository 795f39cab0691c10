// teduh app: the office app in the browser of this laptop (client/APP.md).
#include <filesystem>

#include "context.hpp"
#include "teduh/client/app.hpp"

namespace teduh::client::cli {

void add_app_command(CliContext& ctx, CLI::App& app) {
  auto options = std::make_shared<AppOptions>();
  auto* cmd = app.add_subcommand(
      "app",
      "Aplikasi kantor di peramban komputer ini (hanya 127.0.0.1); kata sandi diketik di halaman");
  ctx.add_store(cmd);
  cmd->add_option("--port", options->port, "Port di 127.0.0.1 (0: port bebas mana saja)")
      ->capture_default_str();
  cmd->add_flag(
      "--no-browser", [options](std::int64_t) { options->open_browser = false; },
      "Jangan membuka peramban; cukup cetak alamatnya");
  cmd->add_option("--idle-minutes", options->idle_minutes,
                  "Penyimpanan dikunci setelah sekian menit tidak dipakai")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option(
         "--sync-minutes", options->sync_minutes,
         "Sinkronisasi otomatis setiap sekian menit selama penyimpanan terbuka (0: hanya bila "
         "tombol \"Sinkronkan sekarang\" ditekan)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, options] {
    ctx.action = [&ctx, options]() -> Result<int> {
      if (ctx.store.empty()) return no_store();
      std::error_code ec;
      if (!std::filesystem::is_regular_file(ctx.store, ec)) {
        return fail(Errc::usage,
                    "Berkas penyimpanan " + ctx.store +
                        " tidak ada. Buat dulu dengan `teduh init`, atau periksa --store.");
      }
      options->store = ctx.store;
      return run_app(*options);
    };
  });
}

}  // namespace teduh::client::cli
