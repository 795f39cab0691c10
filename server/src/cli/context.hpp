#pragma once
// The admin CLI of teduhd (DESIGN.md section 6), one file per command group, each thin:
// parse, resolve the passphrases, call ServerStore, admin.hpp or serve(), print. The rules
// live in the library (server_store.cpp, admin.cpp), so that the office app calls the same
// functions. What the commands share is this context and nothing else.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "teduh/crypto/kdf.hpp"
#include "teduh/server/admin.hpp"
#include "teduh/server/server_store.hpp"

namespace teduh::server::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitRefused = 2;

inline constexpr std::string_view kDefaultCompartment = "rumah_aman";

struct CliContext {
  std::string data;      // --data
  std::string key_file;  // --key-file
  std::function<int()> action;  // what the parsed command runs: set by its callback

  // Adds --data and --key-file to a command.
  void add_common(CLI::App* cmd);
};

// "teduhd: MESSAGE" on stderr; the exit code of the error, or 1 for usage.
int report(const Error& e);
int usage(const std::string& message);

// The passphrase of the server store: the content of --key-file (one trailing newline
// dropped), else TEDUH_SERVER_PASSPHRASE.
[[nodiscard]] Result<std::string> resolve_passphrase(const std::string& key_file);
[[nodiscard]] Result<ServerStore> open_store(const std::string& dir, const std::string& key_file);
// A passphrase from the environment variable `env`, or asked on the terminal without echo.
[[nodiscard]] Result<std::string> read_secret(const char* env, const std::string& prompt, bool confirm);
// The administrator passphrase: TEDUH_ADMIN_PASSPHRASE, or a prompt (admin.hpp checks it).
[[nodiscard]] Result<std::string> read_admin_passphrase(bool creating);
// The Argon2id cost for a new store or key file (TEDUH_KDF, TEDUH_TEST_STORES).
[[nodiscard]] Result<crypto::KdfParams> new_kdf_params();

std::string format_time(std::int64_t ms);
nlohmann::json optional_time(const std::optional<std::int64_t>& ms);

// The command groups, in the order `teduhd --help` lists them.
void add_init_command(CliContext& ctx, CLI::App& app);           // store_cmd.cpp
void add_office_commands(CliContext& ctx, CLI::App& app);        // office_cmd.cpp: office, enroll
void add_device_commands(CliContext& ctx, CLI::App& app);        // device_cmd.cpp
void add_admin_commands(CliContext& ctx, CLI::App& app);         // admin_cmd.cpp
void add_passphrase_commands(CliContext& ctx, CLI::App& app);    // store_cmd.cpp
void add_compartment_commands(CliContext& ctx, CLI::App& app);   // device_cmd.cpp
void add_debug_commands(CliContext& ctx, CLI::App& app);         // store_cmd.cpp
void add_check_command(CliContext& ctx, CLI::App& app);          // store_cmd.cpp
void add_serve_command(CliContext& ctx, CLI::App& app);          // serve_cmd.cpp

}  // namespace teduh::server::cli
