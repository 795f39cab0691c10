#include "context.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/crypto/passphrase.hpp"
#include "teduh/schema/codes.hpp"

namespace teduh::client::cli {
namespace {

// A store made with the cheap test cost is said so on every open, unless this process is
// marked as working on test stores (TEDUH_TEST_STORES=1).
void warn_if_cheap(const std::string& store) {
  if (crypto::test_stores_marked()) return;
  auto params = crypto::store_kdf_params(store);
  if (!params || !params->cheap()) return;
  std::cerr << "teduh: peringatan: penyimpanan ini dibuat dengan biaya Argon2id murah untuk pengujian "
               "(TEDUH_KDF=interactive), sehingga kata sandinya jauh lebih mudah ditebak. Bila ini data "
               "sungguhan, jalankan `teduh passphrase change` untuk membungkus ulang kuncinya dengan biaya "
               "penuh.\n";
}

}  // namespace

void CliContext::add_store(CLI::App* cmd) {
  cmd->add_option("--store", store, "The store file (or set TEDUH_STORE)");
}

void CliContext::add_json(CLI::App* cmd) { cmd->add_flag("--json", json_output, "Print a stable JSON document"); }

Result<Store> CliContext::open_store() const {
  if (store.empty()) return no_store();
  auto pass = TEDUH_TRY(read_passphrase("Passphrase: ", false));
  auto opened = Store::open(store, pass);
  if (opened) warn_if_cheap(store);
  return opened;
}

Result<std::pair<std::unique_ptr<Store>, std::optional<sync::EntityId>>> CliContext::open_case(
    const std::string& ref) const {
  auto opened = TEDUH_TRY(open_store());
  auto owned = std::make_unique<Store>(std::move(opened));
  auto id = TEDUH_TRY(Workflow(*owned).find_case(ref));
  return std::pair{std::move(owned), std::optional<sync::EntityId>(id)};
}

tl::unexpected<Error> no_store() { return fail(Errc::usage, "No store: give --store PATH or set TEDUH_STORE."); }

[[nodiscard]] Result<std::string> read_secret(const char* env, const char* prompt, bool confirm) {
  if (const char* p = std::getenv(env)) return std::string(p);
  if (!isatty(STDIN_FILENO)) {
    return fail(Errc::usage, std::string("No passphrase: set ") + env + " or run from a terminal.");
  }
  auto ask = [](const std::string& text) { return crypto::read_hidden_line(text); };
  std::string first = ask(prompt);
  if (first.empty()) return fail(Errc::usage, "The passphrase may not be empty.");
  if (confirm && ask("Repeat the passphrase: ") != first) {
    return fail(Errc::usage, "The two passphrases differ; nothing was created.");
  }
  return first;
}

[[nodiscard]] Result<std::string> read_passphrase(const char* prompt, bool confirm) {
  return read_secret("TEDUH_PASSPHRASE", prompt, confirm);
}

[[nodiscard]] Result<crypto::KdfParams> new_kdf_params() {
  auto params = crypto::KdfParams::from_environment();
  if (!params) return fail(Errc::usage, params.error().message);
  return *params;
}

[[nodiscard]] Result<FieldInput> parse_assignments(const std::vector<std::string>& args) {
  FieldInput out;
  for (const auto& a : args) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(Errc::usage, "'" + a + "' is not FIELD=VALUE.");
    }
    out.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  return out;
}

void print_json(const nlohmann::json& doc) { std::cout << doc.dump(2) << "\n"; }

std::string label(std::string_view set, const std::string& code) {
  if (code.empty()) return "-";
  auto s = schema::find_code_set(set);
  if (!s) return code;
  auto l = s->label(code);
  return l ? std::string(*l) : code;
}

std::string local_time(const std::string& utc, schema::dates::Zone zone) {
  auto at = schema::dates::parse_utc(utc);
  return at ? schema::dates::format_local(*at, zone) : utc;
}

}  // namespace teduh::client::cli
