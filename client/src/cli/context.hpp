#pragma once
// The `teduh` command line (DESIGN.md section 6), one file per command group, each a thin
// adapter: parse the arguments, call the client library (workflow.hpp, enrollment.hpp,
// sync_client.hpp, report.hpp), print. The rules live in the library, so that the office
// app calls the same functions. What the commands share is this context and nothing else.
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "teduh/client/store.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/crypto/kdf.hpp"
#include "teduh/schema/dates.hpp"

namespace teduh::client::cli {

struct CliContext {
  std::string store;                    // --store, or TEDUH_STORE
  bool json_output = false;             // --json
  std::function<Result<int>()> action;  // what the parsed command runs: set by its callback

  // Adds --store, or --json, to a command.
  void add_store(CLI::App* cmd);
  void add_json(CLI::App* cmd);
  // Opens the store with TEDUH_PASSPHRASE or a prompt; usage when no store is named.
  [[nodiscard]] Result<Store> open_store() const;
  // The store and the case a command names (by id or number), opened together.
  [[nodiscard]] Result<std::pair<std::unique_ptr<Store>, std::optional<sync::EntityId>>> open_case(const std::string& ref) const;
};

// usage: no --store and no TEDUH_STORE.
tl::unexpected<Error> no_store();
// Reads a passphrase from the environment variable `env`, or from the terminal without echo.
[[nodiscard]] Result<std::string> read_secret(const char* env, const char* prompt, bool confirm);
// Reads a passphrase from TEDUH_PASSPHRASE, or from the terminal without echo.
[[nodiscard]] Result<std::string> read_passphrase(const char* prompt, bool confirm);
// The Argon2id cost for a new store or key file (TEDUH_KDF, TEDUH_TEST_STORES).
[[nodiscard]] Result<crypto::KdfParams> new_kdf_params();
// FIELD=VALUE arguments into field input.
[[nodiscard]] Result<FieldInput> parse_assignments(const std::vector<std::string>& args);

void print_json(const nlohmann::json& doc);
// A code's label in its code set ("-" for none).
std::string label(std::string_view set, const std::string& code);
// A stored UTC time (YYYY-MM-DDTHH:MM:SSZ) as the office reads it: "2026-12-07 09:30 WIB".
std::string local_time(const std::string& utc, schema::dates::Zone zone);

// The command groups, in the order `teduh --help` lists them.
void add_init_command(CliContext& ctx, CLI::App& app);        // store_cmd.cpp
void add_passphrase_commands(CliContext& ctx, CLI::App& app);  // store_cmd.cpp
void add_case_commands(CliContext& ctx, CLI::App& app);        // case_cmd.cpp
void add_person_commands(CliContext& ctx, CLI::App& app);      // person_cmd.cpp
void add_service_commands(CliContext& ctx, CLI::App& app);     // person_cmd.cpp
void add_refer_command(CliContext& ctx, CLI::App& app);        // referral_cmd.cpp
void add_referral_commands(CliContext& ctx, CLI::App& app);    // referral_cmd.cpp
void add_duplicates_command(CliContext& ctx, CLI::App& app);   // conflict_cmd.cpp
void add_consent_commands(CliContext& ctx, CLI::App& app);     // referral_cmd.cpp
void add_transfer_commands(CliContext& ctx, CLI::App& app);    // referral_cmd.cpp
void add_shelter_commands(CliContext& ctx, CLI::App& app);     // shelter_cmd.cpp
void add_plan_commands(CliContext& ctx, CLI::App& app);        // plan_cmd.cpp: rencana, pantau, diversi
void add_conflict_commands(CliContext& ctx, CLI::App& app);    // conflict_cmd.cpp: conflicts, resolve
void add_history_commands(CliContext& ctx, CLI::App& app);     // case_cmd.cpp: history, audit
void add_report_commands(CliContext& ctx, CLI::App& app);      // report_cmd.cpp: due, report, config, import
void add_code_command(CliContext& ctx, CLI::App& app);         // code_cmd.cpp: kode
void add_check_command(CliContext& ctx, CLI::App& app);        // store_cmd.cpp
void add_sync_command(CliContext& ctx, CLI::App& app);         // sync_cmd.cpp
void add_app_command(CliContext& ctx, CLI::App& app);          // app_cmd.cpp: the office app

}  // namespace teduh::client::cli
