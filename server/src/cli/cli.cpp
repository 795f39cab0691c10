// teduhd's dispatcher: builds the command tree from the command groups (context.hpp),
// parses, and runs the one command parsed (cli.hpp states the exit codes).
#include "teduh/server/cli.hpp"

#include <exception>
#include <iostream>

#include "context.hpp"

namespace teduh::server {
namespace {

int run(int argc, char** argv) {
  CLI::App app{"teduhd: the Teduh sync server and its administration"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show the help of every command");

  cli::CliContext ctx;
  cli::add_init_command(ctx, app);
  cli::add_office_commands(ctx, app);
  cli::add_device_commands(ctx, app);
  cli::add_admin_commands(ctx, app);
  cli::add_passphrase_commands(ctx, app);
  cli::add_compartment_commands(ctx, app);
  cli::add_debug_commands(ctx, app);
  cli::add_check_command(ctx, app);
  cli::add_serve_command(ctx, app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return cli::usage(std::string(e.what()) + " (run with --help for usage)");
  }
  if (ctx.action) return ctx.action();
  return cli::usage("no command given (run with --help for usage)");
}

}  // namespace

int run_cli(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "teduhd: internal error: " << e.what() << "\n";
    return cli::kExitUsage;
  }
}

}  // namespace teduh::server
