#include "teduh/client/cli.hpp"

#include "teduh/client/compartment.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "report_cli.hpp"
#include "teduh/crypto/passphrase.hpp"
#include "teduh/client/report.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/sync_client.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/crypto/verify.hpp"
#include "teduh/schema/codes.hpp"
#include "teduh/schema/dates.hpp"
#include "teduh/schema/entities.hpp"
#include "teduh/sync/enrollment.hpp"

namespace teduh::client {
namespace {

using nlohmann::json;

struct Options {
  std::string store;
  bool json_output = false;
};

std::string env_or(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

// Reads a passphrase from the environment variable `env`, or from the terminal without echo.
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

// Reads a passphrase from TEDUH_PASSPHRASE, or from the terminal without echo.
[[nodiscard]] Result<std::string> read_passphrase(const char* prompt, bool confirm) {
  return read_secret("TEDUH_PASSPHRASE", prompt, confirm);
}

// A passphrase for a new store or a new key file must be strong (crypto/passphrase.hpp):
// refused with exit 1 and the reason in Bahasa Indonesia otherwise.
[[nodiscard]] Result<void> check_new_passphrase(std::string_view passphrase, const std::vector<std::string>& context) {
  if (auto why = crypto::weak_passphrase_reason(passphrase, context)) return fail(Errc::usage, *why);
  return {};
}

// The Argon2id cost for a new store or key file (TEDUH_KDF, TEDUH_TEST_STORES).
[[nodiscard]] Result<crypto::KdfParams> new_kdf_params() {
  auto params = crypto::KdfParams::from_environment();
  if (!params) return fail(Errc::usage, params.error().message);
  return *params;
}

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

[[nodiscard]] Result<Store> open_store(const Options& o) {
  if (o.store.empty()) return fail(Errc::usage, "No store: give --store PATH or set TEDUH_STORE.");
  auto pass = TEDUH_TRY(read_passphrase("Passphrase: ", false));
  auto store = Store::open(o.store, pass);
  if (store) warn_if_cheap(o.store);
  return store;
}

// The store and the case a command names (by id or number), opened together.
[[nodiscard]] Result<std::pair<std::unique_ptr<Store>, std::optional<sync::EntityId>>> open_case(
    const Options& o, const std::string& ref) {
  auto store = TEDUH_TRY(open_store(o));
  auto owned = std::make_unique<Store>(std::move(store));
  auto id = TEDUH_TRY(Workflow(*owned).find_case(ref));
  return std::pair{std::move(owned), std::optional<sync::EntityId>(id)};
}

// FIELD=VALUE arguments into field input.
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

void print_json(const json& doc) { std::cout << doc.dump(2) << "\n"; }

std::string label(std::string_view set, const std::string& code) {
  if (code.empty()) return "-";
  auto s = schema::find_code_set(set);
  if (!s) return code;
  auto l = s->label(code);
  return l ? std::string(*l) : code;
}

// A stored UTC time (YYYY-MM-DDTHH:MM:SSZ) as the office reads it: "2026-12-07 09:30 WIB".
std::string local_time(const std::string& utc, schema::dates::Zone zone) {
  auto at = schema::dates::parse_utc(utc);
  return at ? schema::dates::format_local(*at, zone) : utc;
}

// Times are shown in the office's zone (zona_waktu), marked with it; --json keeps UTC.
void print_case_list(const json& doc, schema::dates::Zone zone) {
  const auto& cases = doc["cases"];
  if (cases.empty()) {
    std::cout << "No cases yet.\n";
    return;
  }
  for (const auto& c : cases) {
    std::string forms;
    for (const auto& f : c["forms"]) forms += (forms.empty() ? "" : ", ") + f.get<std::string>();
    std::cout << c["number"].get<std::string>() << "  "
              << local_time(c["received_at"].get<std::string>(), zone) << "  "
              << label("status_kasus", c["status"]) << "  korban "
              << (c["victim"].get<std::string>().empty() ? "-" : c["victim"].get<std::string>())
              << "  " << (forms.empty() ? "-" : forms)
              << (c["conflict"].get<bool>() ? "  [KONFLIK]" : "")
              << (c["merged_into"].get<std::string>().empty() ? "" : "  [digabung]") << "\n";
  }
  std::cout << cases.size() << " case(s). Victims are shown by code; open a case to see names.\n";
}

void print_fields(std::string_view type, const json& fields, const json& conflicts,
                  const char* indent, schema::dates::Zone zone) {
  const auto* spec = schema::find_entity_spec(type);
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const auto* f = spec ? spec->field(it.key()) : nullptr;
    std::string name = f ? std::string(f->label) : it.key();
    std::string value = it.value().get<std::string>();
    if (f && !f->code_set.empty() && f->kind == schema::FieldKind::code)
      value = label(f->code_set, value);
    if (f && f->kind == schema::FieldKind::datetime && !value.empty()) value = local_time(value, zone);
    bool conflict = std::find(conflicts.begin(), conflicts.end(), it.key()) != conflicts.end();
    std::cout << indent << name << ": " << value
              << (conflict ? "   [KONFLIK: lihat `teduh conflicts`]" : "") << "\n";
  }
}

void print_case(const json& doc, schema::dates::Zone zone) {
  std::cout << "Kasus " << doc["case"].value("number", "") << " (" << doc["id"].get<std::string>()
            << ")\n";
  print_fields("kasus", doc["case"], doc["conflicts"], "  ", zone);
  auto section = [&](const char* title, const char* type, const char* key) {
    if (doc[key].empty()) return;
    std::cout << title << "\n";
    for (const auto& row : doc[key]) {
      std::cout << "  - " << row["id"].get<std::string>().substr(0, 8) << "\n";
      print_fields(type, row["fields"], row.value("conflicts", json::array()), "      ", zone);
      if (row.contains("refused")) std::cout << "      Status di server: " << row["refused"].get<std::string>() << "\n";
      if (row.contains("shelter_address")) {
        std::cout << "      Rumah aman: " << row["shelter_code_name"].get<std::string>() << ", "
                  << row["shelter_address"].get<std::string>() << "\n";
      }
    }
  };
  section("Orang:", "orang", "persons");
  section("Peran:", "peran", "roles");
  section("Layanan:", "layanan", "services");
  section("Rujukan:", "rujukan", "referrals");
  section("Persetujuan:", "persetujuan", "consents");
  section("Penempatan rumah aman:", "penempatan", "shelter_stays");
}

int report_error(const Error& e) {
  std::cerr << "teduh: " << e.message << "\n";
  return exit_code(e.code);
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"Teduh: case records for offices that protect women and children, offline first."};
  app.require_subcommand(1);
  Options o;
  o.store = env_or("TEDUH_STORE");
  auto add_store = [&](CLI::App* cmd) {
    cmd->add_option("--store", o.store, "The store file (or set TEDUH_STORE)");
  };
  auto add_json = [&](CLI::App* cmd) {
    cmd->add_flag("--json", o.json_output, "Print a stable JSON document");
  };

  std::function<Result<int>()> action;

  // init
  auto* init = app.add_subcommand(
      "init", "Create this device's encrypted store from an enrollment code (works offline)");
  std::string server, server_key, enroll_code;
  add_store(init);
  init->add_option("--server", server, "The server address, HOST:PORT")->required();
  init->add_option("--server-key", server_key,
                   "The server's public key, as printed by `teduhd init`")
      ->required();
  init->add_option("--enroll", enroll_code, "The one-time enrollment code from `teduhd enroll`")
      ->required();
  init->callback([&] {
    action = [&]() -> Result<int> {
      if (o.store.empty())
        return fail(Errc::usage, "No store: give --store PATH or set TEDUH_STORE.");
      crypto::init();
      auto key_raw = crypto::from_base64url(server_key);
      if (!key_raw || key_raw->size() != crypto::kSignPublicKeySize) {
        return fail(Errc::usage,
                    "--server-key is not a server key (expected the 43-character key that `teduhd "
                    "init` printed).");
      }
      crypto::SignPublicKey pk{};
      std::copy(key_raw->begin(), key_raw->end(), pk.begin());
      auto grant = sync::verify_enrollment_code(enroll_code, pk, sync::system_now_ms());
      if (!grant) {
        std::string why = grant.error().code == sync::Errc::expired
                              ? "has expired; ask the administrator for a new one"
                          : grant.error().code == sync::Errc::bad_signature
                              ? "was not signed by this server's key"
                              : "is not an enrollment code";
        return fail(Errc::refused, "The enrollment code " + why + ".");
      }
      auto pass = TEDUH_TRY(read_passphrase("New passphrase for this store: ", true));
      TEDUH_TRY(check_new_passphrase(pass, {grant->office_code, grant->user}));
      auto params = TEDUH_TRY(new_kdf_params());
      Identity id;
      id.device = sync::Id128::random();
      id.signing_key = crypto::SigningKey::generate();
      id.grant = *grant;
      id.enrollment_code = enroll_code;
      id.server_address = server;
      id.server_key = pk;
      StoreOptions so{o.store, pass, params};
      auto store = TEDUH_TRY(Store::create(so, std::move(id)));
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

  // passphrase change
  auto* passphrase_cmd = app.add_subcommand("passphrase", "The store's passphrase");
  passphrase_cmd->require_subcommand(1);
  auto* passphrase_change = passphrase_cmd->add_subcommand(
      "change",
      "Change the store's passphrase (old one from TEDUH_PASSPHRASE, new one from TEDUH_NEW_PASSPHRASE or "
      "prompts); only the key is rewrapped, the store is not rewritten");
  add_store(passphrase_change);
  passphrase_change->callback([&] {
    action = [&]() -> Result<int> {
      if (o.store.empty()) return fail(Errc::usage, "No store: give --store PATH or set TEDUH_STORE.");
      auto old_pass = TEDUH_TRY(read_passphrase("Current passphrase: ", false));
      auto new_pass = TEDUH_TRY(read_secret("TEDUH_NEW_PASSPHRASE", "New passphrase: ", true));
      if (new_pass == old_pass) {
        return fail(Errc::usage, "Kata sandi baru sama dengan yang lama; tidak ada yang diubah.");
      }
      TEDUH_TRY(check_new_passphrase(new_pass, {}));
      auto params = TEDUH_TRY(new_kdf_params());
      TEDUH_TRY(Store::change_passphrase(o.store, old_pass, new_pass, params));
      std::cout << "Kata sandi penyimpanan diganti: kata sandi lama tidak lagi membukanya. Isinya tidak "
                   "berubah; beri tahu kata sandi baru hanya kepada petugas yang berhak.\n";
      return 0;
    };
  });

  // case
  auto* kasus = app.add_subcommand("case", "Record and handle cases");
  kasus->require_subcommand(1);
  FieldInput case_fields, victim_fields;
  std::vector<std::string> assignments;
  std::string case_ref, reason;
  auto* case_new = kasus->add_subcommand("new", "Record a new case (prints its id)");
  add_store(case_new);
  struct Flag {
    const char* flag;
    const char* field;
    bool victim;
    const char* help;
  };
  static const Flag kCaseFlags[] = {
      {"--channel", "channel", false, "How the complaint came in (saluran), e.g. telepon"},
      {"--forms", "forms", false, "Forms of violence, comma-separated, e.g. fisik,psikis"},
      {"--summary", "summary", false, "A short summary"},
      {"--chronology", "chronology", false, "The chronology (kronologi)"},
      {"--place", "place", false, "Place of occurrence (tempat_kejadian)"},
      {"--incident-date", "incident_date", false, "Date of the incident, YYYY-MM-DD"},
      {"--received-at", "received_at", false, "When the complaint was received, in the office's zone unless one is written (default now)"},
      {"--kecamatan", "kecamatan", false, "Kecamatan"},
      {"--kelurahan", "kelurahan", false, "Kelurahan"},
      {"--risk", "risk_level", false, "Risk level: rendah, sedang, tinggi"},
      {"--worker", "assigned_worker", false, "Assigned case worker"},
      {"--victim-name", "name", true, "The victim's name"},
      {"--victim-nik", "nik", true, "The victim's NIK (16 digits)"},
      {"--victim-sex", "sex", true, "The victim's sex: L or P"},
      {"--victim-birth", "birth_date", true, "The victim's birth date, YYYY-MM-DD"},
      {"--victim-age", "age", true, "The victim's age in years, when the birth date is unknown"},
  };
  static std::vector<std::string> flag_values(std::size(kCaseFlags));
  for (std::size_t i = 0; i < std::size(kCaseFlags); ++i) {
    case_new->add_option(kCaseFlags[i].flag, flag_values[i], kCaseFlags[i].help);
  }
  case_new->add_option("--field", assignments, "Any other case field, FIELD=VALUE (repeatable)");
  case_new->callback([&] {
    action = [&]() -> Result<int> {
      for (std::size_t i = 0; i < std::size(kCaseFlags); ++i) {
        if (!case_new->count(kCaseFlags[i].flag)) continue;
        (kCaseFlags[i].victim ? victim_fields : case_fields)
            .emplace_back(kCaseFlags[i].field, flag_values[i]);
      }
      auto extra = TEDUH_TRY(parse_assignments(assignments));
      case_fields.insert(case_fields.end(), extra.begin(), extra.end());
      auto store = TEDUH_TRY(open_store(o));
      Workflow wf(store);
      auto id = TEDUH_TRY(wf.new_case(case_fields, victim_fields));
      auto c = store.entity(id);
      if (c && *c) std::cout << "Case " << (*c)->get("number") << " recorded.\n";
      std::cout << id.hex() << "\n";
      return 0;
    };
  });

  auto* case_list = kasus->add_subcommand("list", "List cases (victims by code, not name)");
  add_store(case_list);
  add_json(case_list);
  case_list->callback([&] {
    action = [&]() -> Result<int> {
      auto store = TEDUH_TRY(open_store(o));
      auto doc = TEDUH_TRY(Workflow(store).list_cases());
      auto rules = TEDUH_TRY(deadline_rules(store));
      o.json_output ? print_json(doc) : print_case_list(doc, rules.zone);
      return 0;
    };
  });

  auto* case_show =
      kasus->add_subcommand("show", "Open a case (recorded as an access in the audit log)");
  add_store(case_show);
  add_json(case_show);
  case_show->add_option("ID", case_ref, "Case id or number")->required();
  case_show->callback([&] {
    action = [&]() -> Result<int> {
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto doc = TEDUH_TRY(wf.show_case(*id));
      auto rules = TEDUH_TRY(deadline_rules(*store));
      o.json_output ? print_json(doc) : print_case(doc, rules.zone);
      return 0;
    };
  });

  auto* case_export = kasus->add_subcommand(
      "export", "Write a case, in full, to a JSON file (recorded as an export in the audit log)");
  add_store(case_export);
  case_export->add_option("ID", case_ref, "Case id or number")->required();
  std::string export_path;
  case_export->add_option("--out", export_path, "The file to write (must not exist)")->required();
  bool export_shelter = false;
  case_export->add_flag("--sertakan-rumah-aman", export_shelter,
                        "Include shelter addresses (only on a device with shelter clearance); left out by default");
  case_export->callback([&] {
    action = [&]() -> Result<int> {
      if (std::filesystem::exists(export_path)) {
        return fail(Errc::invalid, "The file " + export_path + " already exists; choose a new name.");
      }
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      auto doc = TEDUH_TRY(Workflow(*store).export_case(*id, export_shelter));
      // Readable by this user only: the file holds names and the whole case.
      const int fd = ::open(export_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (fd < 0) return fail(Errc::invalid, "Cannot create " + export_path + ".");
      const std::string text = doc.dump(2) + "\n";
      const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      ::close(fd);
      if (!written) return fail(Errc::invalid, "Could not write all of " + export_path + ".");
      std::cout << "Case exported to " << export_path
                << " (it holds names: keep it safe; the export is in the audit log).\n"
                << (export_shelter ? "Alamat rumah aman DISERTAKAN dalam berkas ini: simpan dengan sangat hati-hati.\n"
                                   : "Alamat rumah aman tidak disertakan (gunakan --sertakan-rumah-aman bila "
                                     "memang diperlukan, pada perangkat yang berizin).\n");
      return 0;
    };
  });

  auto* case_set = kasus->add_subcommand(
      "set", "Change fields of a case: FIELD=VALUE (korban.FIELD for the victim)");
  add_store(case_set);
  case_set->add_option("ID", case_ref, "Case id or number")->required();
  case_set->add_option("ASSIGNMENTS", assignments, "FIELD=VALUE ...")->required();
  case_set->callback([&] {
    action = [&]() -> Result<int> {
      auto fields = TEDUH_TRY(parse_assignments(assignments));
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      TEDUH_TRY(wf.set_case(*id, fields));
      std::cout << "Case updated.\n";
      return 0;
    };
  });

  auto* case_merge = kasus->add_subcommand(
      "merge", "Merge two records of the same victim: OTHER is shown inside KEEP, nothing is deleted");
  add_store(case_merge);
  std::string other_ref;
  case_merge->add_option("KEEP", case_ref, "The case to keep (id or number)")->required();
  case_merge->add_option("OTHER", other_ref, "The case merged into it (id or number)")->required();
  case_merge->callback([&] {
    action = [&]() -> Result<int> {
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto other = TEDUH_TRY(wf.find_case(other_ref));
      TEDUH_TRY(wf.merge_cases(*id, other));
      std::cout << "Case merged: it is now shown inside the kept case on every device after sync.\n";
      return 0;
    };
  });

  auto* case_close = kasus->add_subcommand("close", "Close a case (terminasi) with a reason");
  add_store(case_close);
  case_close->add_option("ID", case_ref, "Case id or number")->required();
  case_close->add_option("--reason", reason, "Why the case is closed")->required();
  case_close->callback([&] {
    action = [&]() -> Result<int> {
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      TEDUH_TRY(wf.close_case(*id, reason));
      std::cout << "Case closed (terminasi).\n";
      return 0;
    };
  });

  // person add
  auto* person = app.add_subcommand("person", "People in a case");
  person->require_subcommand(1);
  auto* person_add = person->add_subcommand(
      "add", "Add a victim, reporter or alleged perpetrator to a case (prints its id)");
  add_store(person_add);
  std::string role, name, nik, sex, birth, relationship;
  person_add->add_option("--case", case_ref, "Case id or number")->required();
  person_add->add_option("--role", role, "korban, pelapor or terlapor")->required();
  person_add->add_option("--name", name, "Name")->required();
  person_add->add_option("--nik", nik, "NIK (16 digits)");
  person_add->add_option("--sex", sex, "L or P");
  person_add->add_option("--birth", birth, "Birth date, YYYY-MM-DD");
  person_add->add_option("--relationship", relationship, "Relationship to the victim (hubungan)");
  person_add->add_option("--field", assignments,
                         "Any other person field, FIELD=VALUE (repeatable)");
  person_add->callback([&] {
    action = [&]() -> Result<int> {
      FieldInput fields{{"name", name}};
      if (!nik.empty()) fields.emplace_back("nik", nik);
      if (!sex.empty()) fields.emplace_back("sex", sex);
      if (!birth.empty()) fields.emplace_back("birth_date", birth);
      auto extra = TEDUH_TRY(parse_assignments(assignments));
      fields.insert(fields.end(), extra.begin(), extra.end());
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto pid = TEDUH_TRY(wf.add_person(*id, role, fields, relationship));
      std::cout << "Person added as " << role << ".\n" << pid.hex() << "\n";
      return 0;
    };
  });

  auto* person_remove = person->add_subcommand(
      "remove", "Remove a person (or any record) wrongly added to a case; history keeps it");
  add_store(person_remove);
  std::string entity_ref;
  person_remove->add_option("--case", case_ref, "Case id or number")->required();
  person_remove->add_option("ID", entity_ref, "The person's (or record's) id")->required();
  person_remove->callback([&] {
    action = [&]() -> Result<int> {
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto target = sync::Id128::from_hex(entity_ref);
      if (!target) return fail(Errc::usage, "'" + entity_ref + "' is not an id (32 hex digits).");
      TEDUH_TRY(wf.remove_entity(*id, *target));
      std::cout << "Removed from the case; `teduh history` still shows it.\n";
      return 0;
    };
  });

  // service add
  auto* service = app.add_subcommand("service", "Services given in a case (append-only)");
  service->require_subcommand(1);
  auto* service_add = service->add_subcommand("add", "Record a service (prints its id)");
  add_store(service_add);
  std::string kind, date, notes, provider, outcome;
  service_add->add_option("--case", case_ref, "Case id or number")->required();
  service_add->add_option("--kind", kind, "Kind of service (jenis_layanan), e.g. konseling")
      ->required();
  service_add->add_option("--date", date, "Date, YYYY-MM-DD (default today)");
  service_add->add_option("--notes", notes, "Notes");
  service_add->add_option("--provider", provider, "Who gave the service");
  service_add->add_option("--outcome", outcome, "Outcome");
  service_add->callback([&] {
    action = [&]() -> Result<int> {
      FieldInput fields{{"kind", kind}};
      if (!date.empty()) fields.emplace_back("date", date);
      if (!notes.empty()) fields.emplace_back("notes", notes);
      if (!provider.empty()) fields.emplace_back("provider", provider);
      if (!outcome.empty()) fields.emplace_back("outcome", outcome);
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto sid = TEDUH_TRY(wf.add_service(*id, fields));
      std::cout << "Service recorded.\n" << sid.hex() << "\n";
      return 0;
    };
  });

  // refer
  auto* refer = app.add_subcommand(
      "refer", "Refer a case to another office or an external partner, with consent");
  add_store(refer);
  std::string to, consent, consent_by;
  bool external = false;
  refer->add_option("--case", case_ref, "Case id or number")->required();
  refer->add_option("--to", to, "Receiving office code (or partner name with --external)")
      ->required();
  refer->add_option("--reason", reason, "Why the case is referred")->required();
  refer
      ->add_option("--consent", consent,
                   "Did the victim (or guardian) consent to this referral? yes|no")
      ->required()
      ->check(CLI::IsMember({"yes", "no"}));
  refer->add_option("--consent-by", consent_by,
                    "Who consented: korban, wali or pengganti (default korban)");
  refer->add_flag("--external", external,
                  "The receiver is an external partner (police, hospital), not a Teduh office");
  refer->callback([&] {
    action = [&]() -> Result<int> {
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto rid = TEDUH_TRY(wf.refer(*id, to, reason, consent == "yes", consent_by, external));
      std::cout << "Referral recorded (dikirim); it reaches " << to << " when this device syncs.\n"
                << rid.hex() << "\n";
      return 0;
    };
  });

  // referral list | accept | decline | end
  auto* referral = app.add_subcommand("referral", "Referrals and transfers sent to or from this office");
  referral->require_subcommand(1);
  std::string record_ref;
  auto record_action = [&](CLI::App* cmd, std::string what,
                           std::function<Result<void>(Workflow&, const sync::EntityId&)> act,
                           std::string done) {
    add_store(cmd);
    cmd->add_option("ID", record_ref, "The " + what + "'s id (see `teduh referral list`)")->required();
    cmd->callback([&, what, act, done] {
      action = [&, what, act, done]() -> Result<int> {
        auto store = TEDUH_TRY(open_store(o));
        auto id = sync::Id128::from_hex(record_ref);
        if (!id) return fail(Errc::usage, "'" + record_ref + "' is not a " + what + " id (32 hex digits).");
        Workflow wf(store);
        TEDUH_TRY(act(wf, *id));
        std::cout << done << "\n";
        return 0;
      };
    });
  };
  auto* referral_list = referral->add_subcommand("list", "Referrals and transfers of the cases on this device");
  add_store(referral_list);
  add_json(referral_list);
  referral_list->callback([&] {
    action = [&]() -> Result<int> {
      auto store = TEDUH_TRY(open_store(o));
      Workflow wf(store);
      auto doc = TEDUH_TRY(wf.referrals());
      if (o.json_output) {
        print_json(doc);
      } else if (doc.empty()) {
        std::cout << "No referrals or transfers.\n";
      } else {
        for (const auto& r : doc) {
          std::cout << r["id"].get<std::string>() << "  " << r["kind"].get<std::string>() << "  "
                    << r["case_number"].get<std::string>() << "  -> " << r["to_office"].get<std::string>()
                    << "  " << r["status"].get<std::string>() << "\n";
        }
      }
      return 0;
    };
  });
  record_action(referral->add_subcommand("accept", "Accept a referral sent to this office"), "referral",
                [](Workflow& wf, const sync::EntityId& id) { return wf.respond_referral(id, true); },
                "Referral accepted (diterima); the sending office sees it after both sync.");
  record_action(referral->add_subcommand("decline", "Decline a referral sent to this office"), "referral",
                [](Workflow& wf, const sync::EntityId& id) { return wf.respond_referral(id, false); },
                "Referral declined (ditolak); this office no longer receives the case after it syncs.");
  record_action(referral->add_subcommand("end", "End a referral: the receiving office loses the case"),
                "referral", [](Workflow& wf, const sync::EntityId& id) { return wf.end_referral(id); },
                "Referral ended (selesai); the receiving office loses the case at its next sync.");

  // duplicates
  auto* dupes = app.add_subcommand(
      "duplicates", "Probable records of the same victim across offices (strong: NIK; weak: name and birth date)");
  add_store(dupes);
  add_json(dupes);
  dupes->callback([&] {
    action = [&]() -> Result<int> {
      auto store = TEDUH_TRY(open_store(o));
      Workflow wf(store);
      auto doc = TEDUH_TRY(wf.duplicates());
      if (o.json_output) {
        print_json(doc);
        return 0;
      }
      const json& pairs = doc["pairs"];
      if (pairs.empty()) std::cout << "No probable duplicates.\n";
      for (const auto& p : pairs) {
        std::cout << (p["signal"] == "nik" ? "strong (same NIK)       " : "weak (name, birth date) ")
                  << p["cases"][0].get<std::string>() << " @" << p["offices"][0].get<std::string>() << "  ~  "
                  << p["cases"][1].get<std::string>() << " @" << p["offices"][1].get<std::string>() << "\n";
      }
      if (!pairs.empty()) std::cout << "An office that holds both cases can merge them: teduh case merge KEEP OTHER\n";
      return 0;
    };
  });

  // consent withdraw
  auto* consent_cmd = app.add_subcommand("consent", "Consents recorded in cases");
  consent_cmd->require_subcommand(1);
  record_action(consent_cmd->add_subcommand("withdraw", "Record that the victim withdrew a consent"),
                "consent", [](Workflow& wf, const sync::EntityId& id) { return wf.withdraw_consent(id); },
                "Consent withdrawn; offices that held the case through it lose it at their next sync.");

  // transfer [--case ID --to OFFICE --consent yes|no] | accept ID | decline ID
  auto* transfer = app.add_subcommand(
      "transfer", "Move a case to another office (alih kelola): ownership moves when it accepts");
  add_store(transfer);
  std::string transfer_to, transfer_consent, transfer_consent_by;
  transfer->require_subcommand(0, 1);
  transfer->add_option("--case", case_ref, "Case id or number");
  transfer->add_option("--to", transfer_to, "The office code that should take over the case");
  transfer->add_option("--consent", transfer_consent, "Did the victim (or guardian) consent? yes|no")
      ->check(CLI::IsMember({"yes", "no"}));
  transfer->add_option("--consent-by", transfer_consent_by, "Who consented: korban, wali or pengganti");
  auto* transfer_accept = transfer->add_subcommand("accept", "Accept a case moved to this office");
  auto* transfer_decline = transfer->add_subcommand("decline", "Decline a case moved to this office");
  record_action(transfer_accept, "transfer",
                [](Workflow& wf, const sync::EntityId& id) { return wf.respond_transfer(id, true); },
                "Transfer accepted: this office now handles the case.");
  record_action(transfer_decline, "transfer",
                [](Workflow& wf, const sync::EntityId& id) { return wf.respond_transfer(id, false); },
                "Transfer declined (ditolak).");
  transfer->callback([&] {
    if (!transfer->get_subcommands().empty()) return;  // accept or decline set the action
    action = [&]() -> Result<int> {
      if (case_ref.empty() || transfer_to.empty() || transfer_consent.empty()) {
        return fail(Errc::usage, "teduh transfer needs --case, --to and --consent (or: accept ID, decline ID).");
      }
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto tid = TEDUH_TRY(wf.transfer(*id, transfer_to, transfer_consent == "yes", transfer_consent_by));
      std::cout << "Transfer proposed (diajukan); " << transfer_to
                << " can accept it after both offices sync.\n"
                << tid.hex() << "\n";
      return 0;
    };
  });

  // shelter
  auto* shelter =
      app.add_subcommand("shelter", "Shelters (rumah aman): their location stays secret");
  shelter->require_subcommand(1);
  auto* shelter_add =
      shelter->add_subcommand("add", "Add a shelter (needs shelter clearance; prints its id)");
  add_store(shelter_add);
  std::string address, phone, contact, code_name;
  shelter_add->add_option("--name", name, "Name (kept secret)")->required();
  shelter_add->add_option("--address", address, "Address (kept secret)")->required();
  shelter_add->add_option("--phone", phone, "Phone (kept secret)");
  shelter_add->add_option("--contact", contact, "Contact person (kept secret)");
  shelter_add->add_option("--code-name", code_name, "The public code name (default generated)");
  shelter_add->callback([&] {
    action = [&]() -> Result<int> {
      FieldInput fields{{"name", name}, {"address", address}};
      if (!phone.empty()) fields.emplace_back("phone", phone);
      if (!contact.empty()) fields.emplace_back("contact", contact);
      if (!code_name.empty()) fields.emplace_back("code_name", code_name);
      auto store = TEDUH_TRY(open_store(o));
      auto id = TEDUH_TRY(Workflow(store).add_shelter(fields));
      std::cout << "Shelter added; its details are encrypted for cleared devices only.\n"
                << id.hex() << "\n";
      return 0;
    };
  });
  auto* shelter_list =
      shelter->add_subcommand("list", "List shelters (details only on cleared devices)");
  add_store(shelter_list);
  add_json(shelter_list);
  shelter_list->callback([&] {
    action = [&]() -> Result<int> {
      auto store = TEDUH_TRY(open_store(o));
      auto doc = TEDUH_TRY(Workflow(store).list_shelters());
      if (o.json_output) {
        print_json(doc);
      } else {
        for (const auto& s : doc["shelters"]) {
          std::cout << s["code_name"].get<std::string>() << "  " << s["id"].get<std::string>()
                    << "  " << s.value("address", "rumah aman (lokasi dirahasiakan)") << "\n";
        }
        if (doc["shelters"].empty()) std::cout << "No shelters.\n";
        if (store.identity().grant.shelter_clearance) {
          auto gen = current_generation(store, kShelterCompartment);
          if (gen && !*gen) std::cout << kNoShelterKeyYet << "\n";
        }
      }
      return 0;
    };
  });
  auto* shelter_place = shelter->add_subcommand(
      "place", "Place a case's victim in a shelter (at most 7 days unless extended)");
  add_store(shelter_place);
  std::string shelter_ref;
  shelter_place->add_option("--case", case_ref, "Case id or number")->required();
  shelter_place->add_option("--shelter", shelter_ref, "Shelter id or code name")->required();
  shelter_place->add_option("--date", date, "Admission date, YYYY-MM-DD, or date and time in the office's zone (default now)");
  shelter_place->callback([&] {
    action = [&]() -> Result<int> {
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto sid = TEDUH_TRY(wf.find_shelter(shelter_ref));
      auto stay = TEDUH_TRY(wf.place(*id, sid, date));
      std::cout << "Placement recorded.\n" << stay.hex() << "\n";
      return 0;
    };
  });

  // conflicts, resolve, history, audit, due, report
  auto* conflicts = app.add_subcommand(
      "conflicts", "Fields that two offices changed at once, for a person to settle");
  add_store(conflicts);
  add_json(conflicts);
  conflicts->callback([&] {
    action = [&]() -> Result<int> {
      auto store = TEDUH_TRY(open_store(o));
      auto doc = TEDUH_TRY(Workflow(store).conflicts());
      auto rules = TEDUH_TRY(deadline_rules(store));
      if (o.json_output) {
        print_json(doc);
        return 0;
      }
      if (doc["conflicts"].empty()) std::cout << "No conflicts.\n";
      for (const auto& c : doc["conflicts"]) {
        std::string rule = c["rule"];
        std::cout << "Kasus " << c["number"].get<std::string>() << ", "
                  << c["label"].get<std::string>() << " (" << c["field"].get<std::string>() << ")"
                  << (rule == "closed_while_service_recorded"
                          ? ": closed on one office while another recorded a service"
                      : rule == "edited_while_removed"
                          ? ": edited on one office while removed on another"
                          : "")
                  << ":\n";
        for (const auto& v : c["values"]) {
          std::cout << "  " << (v["shown"].get<bool>() ? "* " : "  ")
                    << v["value"].get<std::string>() << "   ("
                    << local_time(v["at"].get<std::string>(), rules.zone) << ", "
                    << v["user"].get<std::string>() << " at " << v["office"].get<std::string>()
                    << ", version " << v["version"].get<std::string>() << ")\n";
        }
      }
      return 0;
    };
  });
  auto* resolve = app.add_subcommand(
      "resolve", "Settle a conflict: write the value that replaces all live ones");
  add_store(resolve);
  std::string field, value;
  resolve->add_option("ID", case_ref, "Case id or number")->required();
  resolve->add_option("FIELD", field, "Field name (korban.FIELD for the victim)")->required();
  std::string keep;
  auto* value_opt = resolve->add_option("--value", value, "The value to keep");
  auto* keep_opt = resolve->add_option(
      "--keep", keep,
      "Keep the value of this live version (DEVICE:SEQ:INDEX, from `teduh conflicts --json`)");
  value_opt->excludes(keep_opt);
  resolve->callback([&] {
    action = [&]() -> Result<int> {
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      if (value_opt->count() == 0 && keep.empty())
        return fail(Errc::usage, "Give --value VALUE or --keep VERSION.");
      TEDUH_TRY(wf.resolve(*id, field, value, keep));
      std::cout << "Resolved; every replica shows this value after it syncs.\n";
      return 0;
    };
  });
  auto* history = app.add_subcommand("history", "Every version of every field of a case");
  add_store(history);
  add_json(history);
  history->add_option("ID", case_ref, "Case id or number")->required();
  history->callback([&] {
    action = [&]() -> Result<int> {
      auto opened = TEDUH_TRY(open_case(o, case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto doc = TEDUH_TRY(wf.history(*id));
      if (o.json_output) {
        print_json(doc);
      } else {
        auto rules = TEDUH_TRY(deadline_rules(*store));
        for (const auto& v : doc["versions"]) {
          std::string value = v["value"].get<std::string>();
          const auto* spec = schema::find_entity_spec(v["entity_type"].get<std::string>());
          const auto* f = spec ? spec->field(v["field"].get<std::string>()) : nullptr;
          if (f && f->kind == schema::FieldKind::datetime && !value.empty())
            value = local_time(value, rules.zone);
          std::cout << local_time(v["at"].get<std::string>(), rules.zone) << "  "
                    << v["entity_type"].get<std::string>() << "." << v["field"].get<std::string>()
                    << " = " << value
                    << (v["live"].get<bool>() ? "" : "  (replaced)") << "  [device "
                    << v["device"].get<std::string>().substr(0, 8) << "]\n";
        }
      }
      return 0;
    };
  });
  auto* audit =
      app.add_subcommand("audit", "Who created, changed, viewed, referred or closed cases");
  add_store(audit);
  add_json(audit);
  audit->add_option("--case", case_ref, "Only this case (id or number)");
  audit->callback([&] {
    action = [&]() -> Result<int> {
      auto store = TEDUH_TRY(open_store(o));
      Workflow wf(store);
      std::optional<sync::EntityId> only;
      if (!case_ref.empty()) {
        auto id = TEDUH_TRY(wf.find_case(case_ref));
        only = id;
      }
      auto doc = TEDUH_TRY(wf.audit(only));
      if (o.json_output) {
        print_json(doc);
      } else {
        auto rules = TEDUH_TRY(deadline_rules(store));
        for (const auto& e : doc["events"]) {
          std::cout << local_time(e["at"].get<std::string>(), rules.zone) << "  "
                    << e["action"].get<std::string>()
                    << "  case " << e["case"].get<std::string>().substr(0, 8) << "  by "
                    << e["user"].get<std::string>() << "\n";
        }
      }
      return 0;
    };
  });
  // due, report, config, import: client/src/report_cli.cpp
  add_report_commands(app, ReportCliContext{&action, [&] { return open_store(o); }, add_store, add_json,
                                            &o.json_output});

  // check: crypto::verify_store (crypto/FORMATS.md section 8); exit 0 intact, 2 damaged
  auto* check_cmd = app.add_subcommand(
      "check", "Read and verify every page of the store, then run SQLite's integrity check (exit 2 if damaged)");
  add_store(check_cmd);
  check_cmd->callback([&] {
    action = [&]() -> Result<int> {
      if (o.store.empty()) return fail(Errc::usage, "No store: give --store PATH or set TEDUH_STORE.");
      auto pass = TEDUH_TRY(read_passphrase("Passphrase: ", false));
      auto checked = crypto::verify_store(o.store, std::string_view(pass));
      if (!checked) {
        return fail(checked.error().code == crypto::Errc::io ? Errc::internal : Errc::refused,
                    "Cannot check " + o.store + ": " + checked.error().message + ".");
      }
      for (const auto& line : checked->verdict()) std::cout << line << "\n";
      return checked->intact() ? 0 : exit_code(Errc::damaged);
    };
  });

  // sync
  auto* sync_cmd = app.add_subcommand(
      "sync", "Exchange commits with the server: push local work, pull the rest");
  add_store(sync_cmd);
  add_json(sync_cmd);
  sync_cmd->callback([&] {
    action = [&]() -> Result<int> {
      auto store = TEDUH_TRY(open_store(o));
      SyncOptions options;
      if (const char* t = std::getenv("TEDUH_SYNC_TIMEOUT_MS")) options.timeout_ms = std::atoi(t);
      std::uint64_t last_shown = 0;
      options.progress = [&](std::uint64_t pushed, std::uint64_t pulled) {
        // A progress line when a sync moves many commits.
        if (pushed + pulled >= last_shown + 5000) {
          last_shown = pushed + pulled;
          std::cerr << "sync: pushed " << pushed << ", pulled " << pulled << " so far...\n";
        }
      };
      auto r = TEDUH_TRY(sync_with_server(store, options));
      if (o.json_output) {
        print_json(json{{"pushed", r.pushed},
                        {"pulled", r.pulled},
                        {"rejected", r.rejected},
                        {"purged", r.purged},
                        {"shelter_keys", r.shelter_keys},
                        {"shelter_notice", r.shelter_notice},
                        {"rejections", r.rejections},
                        {"conflicts_new", r.conflicts_new},
                        {"conflicts", r.conflicts_total},
                        {"projections", r.projections},
                        {"registered_now", r.registered_now},
                        {"server_lost", r.server_lost},
                        {"restored", {{"detected", r.restored},
                                      {"server_had", r.server_had},
                                      {"reissued", r.reissued},
                                      {"recovered", r.recovered}}},
                        {"clock_ahead", r.clock_ahead},
                        {"skipped", r.skipped}});
      } else {
        if (r.registered_now) std::cout << "This device is now registered with the server.\n";
        if (r.server_lost) {
          std::cout << "Warning: the server no longer holds " << r.server_lost
                    << " commit(s) of this device that it had confirmed (its store was rolled back or "
                       "restored); they were sent again. Tell the server's administrator.\n";
        }
        std::cout << "Pushed " << r.pushed << ", pulled " << r.pulled << ", new conflicts "
                  << r.conflicts_new << " (" << r.conflicts_total << " in all"
                  << (r.conflicts_total ? ": see `teduh conflicts`" : "") << ").\n";
        if (r.restored) {
          std::cout << "This store was restored from an older copy: the server already held changes of this "
                       "device that the copy lacked.";
          if (r.reissued)
            std::cout << " " << r.reissued << " change(s) made here since were numbered anew and sent.";
          if (r.recovered)
            std::cout << " " << r.recovered << " earlier change(s) of this device were fetched back from the server.";
          std::cout << " Nothing was lost.\n";
        }
        for (const auto& line : r.rejections)
          std::cout << "Refused by the server: " << line << "\n";
        if (r.projections)
          std::cout << "Received de-identified report data for " << r.projections
                    << " case(s) (see `teduh report` and `teduh duplicates`).\n";
        if (r.purged)
          std::cout << r.purged << " case(s) removed from this device: this office no longer holds "
                    << "them (consent withdrawn, referral ended or case moved).\n";
        if (r.shelter_keys)
          std::cout << "Received " << r.shelter_keys << " new shelter key generation(s).\n";
        if (!r.shelter_notice.empty()) std::cout << r.shelter_notice << "\n";
        if (store.identity().grant.shelter_clearance) {
          auto gen = current_generation(store, kShelterCompartment);
          if (gen && !*gen) std::cout << kNoShelterKeyYet << "\n";
        }
        for (const auto& line : r.skipped)
          std::cout << "Not applied (it writes into another case): " << line << "\n";
        for (const auto& d : r.clock_ahead) {
          std::cout << "Warning: device " << d.substr(0, 8)
                    << " writes with a clock far ahead of this computer's; its edits were kept, "
                       "but ask that "
                       "office to check its date and time.\n";
        }
      }
      return r.rejected ? 2 : 0;
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 1;
  }
  if (!action) return 1;
  try {
    auto r = action();
    if (!r) return report_error(r.error());
    return *r;
  } catch (const std::exception& e) {
    std::cerr << "teduh: internal error: " << e.what() << "\n";
    return 4;
  }
}

}  // namespace teduh::client
