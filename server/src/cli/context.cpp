#include "context.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "teduh/crypto/passphrase.hpp"
#include "teduh/schema/dates.hpp"

namespace teduh::server::cli {

void CliContext::add_common(CLI::App* cmd) {
  cmd->add_option("--data", data, "Folder of the server store")->required();
  cmd->add_option("--key-file", key_file, "File holding the store passphrase (default: TEDUH_SERVER_PASSPHRASE)");
}

int report(const Error& e) {
  std::cerr << "teduhd: " << e.message << "\n";
  return exit_code_for(e.code);
}

int usage(const std::string& message) {
  std::cerr << "teduhd: " << message << "\n";
  return kExitUsage;
}

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

[[nodiscard]] Result<std::string> read_admin_passphrase(bool creating) {
  return read_secret("TEDUH_ADMIN_PASSPHRASE", "Administrator passphrase: ", creating);
}

[[nodiscard]] Result<crypto::KdfParams> new_kdf_params() {
  auto params = crypto::KdfParams::from_environment();
  if (!params) return fail(Errc::invalid_input, params.error().message);
  return *params;
}

std::string format_time(std::int64_t ms) { return schema::dates::format_utc(schema::dates::from_unix_ms(ms)); }

nlohmann::json optional_time(const std::optional<std::int64_t>& ms) {
  return ms ? nlohmann::json(format_time(*ms)) : nlohmann::json(nullptr);
}

}  // namespace teduh::server::cli
