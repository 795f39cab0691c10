// `teduh`'s dispatcher: builds the command tree from the command groups (context.hpp), parses,
// and runs the one command parsed, mapping its result to the exit code (cli.hpp).
#include "teduh/client/cli.hpp"

#include <cstdlib>
#include <exception>
#include <iostream>

#include "context.hpp"

namespace teduh::client {

int run_cli(int argc, char** argv) {
  CLI::App app{"Teduh: case records for offices that protect women and children, offline first."};
  app.require_subcommand(1);
  cli::CliContext ctx;
  if (const char* store = std::getenv("TEDUH_STORE")) ctx.store = store;

  cli::add_init_command(ctx, app);
  cli::add_passphrase_commands(ctx, app);
  cli::add_case_commands(ctx, app);
  cli::add_person_commands(ctx, app);
  cli::add_service_commands(ctx, app);
  cli::add_refer_command(ctx, app);
  cli::add_referral_commands(ctx, app);
  cli::add_duplicates_command(ctx, app);
  cli::add_consent_commands(ctx, app);
  cli::add_transfer_commands(ctx, app);
  cli::add_shelter_commands(ctx, app);
  cli::add_plan_commands(ctx, app);
  cli::add_conflict_commands(ctx, app);
  cli::add_history_commands(ctx, app);
  cli::add_report_commands(ctx, app);
  cli::add_code_command(ctx, app);
  cli::add_check_command(ctx, app);
  cli::add_sync_command(ctx, app);
  cli::add_app_command(ctx, app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 1;
  }
  if (!ctx.action) return 1;
  try {
    auto r = ctx.action();
    if (!r) {
      std::cerr << "teduh: " << r.error().message << "\n";
      return exit_code(r.error().code);
    }
    return *r;
  } catch (const std::exception& e) {
    std::cerr << "teduh: internal error: " << e.what() << "\n";
    return 4;
  }
}

}  // namespace teduh::client
