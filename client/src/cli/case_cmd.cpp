// teduh case new | list | show | export | set | merge | close, teduh history, teduh audit.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "context.hpp"
#include "teduh/client/report.hpp"
#include "teduh/schema/entities.hpp"
#include "teduh/schema/facts.hpp"

namespace teduh::client::cli {
namespace {

using nlohmann::json;

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

// A value as a person reads it: labels for codes, "ya"/"tidak", times in the office's zone.
std::string shown_value(const schema::FieldSpec* f, const std::string& value,
                        schema::dates::Zone zone) {
  if (f == nullptr || value.empty()) return value;
  switch (f->kind) {
    case schema::FieldKind::code:
      return f->code_set.empty() ? value : label(f->code_set, value);
    case schema::FieldKind::codes:
      return schema::codes_label(f->code_set, value);
    case schema::FieldKind::boolean:
      return value == "1" ? "ya" : "tidak";
    case schema::FieldKind::datetime:
      return local_time(value, zone);
    default:
      return value;
  }
}

// Links between records (ids) and counters the system keeps are not for people: an open
// case shows what a worker recorded.
bool internal_field(const schema::FieldSpec* f) {
  return f != nullptr && (f->kind == schema::FieldKind::ref || f->name == "closed_services_seen");
}

void print_fields(std::string_view type, const json& fields, const json& conflicts,
                  const char* indent, schema::dates::Zone zone, std::string_view skip = {}) {
  const auto* spec = schema::find_entity_spec(type);
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const auto* f = spec ? spec->field(it.key()) : nullptr;
    if (internal_field(f) || it.key() == skip) continue;
    std::string name = f ? std::string(f->label) : it.key();
    bool conflict = std::find(conflicts.begin(), conflicts.end(), it.key()) != conflicts.end();
    std::cout << indent << name << ": " << shown_value(f, it.value().get<std::string>(), zone)
              << (conflict ? "   [KONFLIK: lihat `teduh conflicts`]" : "") << "\n";
  }
}

// The code `person remove` takes: an id's last 8 hex digits (its first ones are the time it
// was made, the same for records made together; Workflow::find_in_case).
std::string short_code(const std::string& id_hex) { return id_hex.substr(id_hex.size() - 8); }

// Each person by role and name, with the code `teduh person remove` takes; the roles
// (peran) are folded into their person.
void print_persons(const json& doc, schema::dates::Zone zone) {
  if (doc["persons"].empty()) return;
  std::map<std::string, std::vector<std::string>> roles, relations;
  std::set<std::string> child_perpetrators;  // anak berhadapan dengan hukum (show_case's "abh")
  for (const auto& r : doc["roles"]) {
    const json& f = r["fields"];
    const std::string person = f.value("person", "");
    if (r.value("abh", false)) child_perpetrators.insert(person);
    if (!f.value("role", "").empty()) roles[person].push_back(label("peran", f.value("role", "")));
    if (!f.value("relationship", "").empty())
      relations[person].push_back(label("hubungan", f.value("relationship", "")));
  }
  std::cout << "Orang:\n";
  for (const auto& row : doc["persons"]) {
    const std::string id = row["id"].get<std::string>();
    std::string role;
    for (const std::string& r : roles[id]) role += (role.empty() ? "" : ", ") + r;
    const std::string name = row["fields"].value("name", "");
    std::cout << "  - " << (role.empty() ? "Orang" : role) << ": "
              << (name.empty() ? "(tanpa nama)" : name) << "   [kode " << short_code(id) << "]\n";
    print_fields("orang", row["fields"], row.value("conflicts", json::array()), "      ", zone,
                 "name");
    for (const std::string& r : relations[id])
      std::cout << "      Hubungan dengan korban: " << r << "\n";
    if (child_perpetrators.contains(id))
      std::cout << "      Anak berhadapan dengan hukum (terlapor anak)\n";
  }
}

void print_case(const json& doc, schema::dates::Zone zone) {
  std::cout << "Kasus " << doc["case"].value("number", "") << " (" << doc["id"].get<std::string>()
            << ")\n";
  print_fields("kasus", doc["case"], doc["conflicts"], "  ", zone, "number");
  print_persons(doc, zone);
  auto section = [&](const char* title, const char* type, const char* key) {
    if (doc[key].empty()) return;
    std::cout << title << "\n";
    for (const auto& row : doc[key]) {
      std::cout << "  - [kode " << short_code(row["id"].get<std::string>()) << "]\n";
      print_fields(type, row["fields"], row.value("conflicts", json::array()), "      ", zone);
      if (row.contains("refused"))
        std::cout << "      Status di server: " << row["refused"].get<std::string>() << "\n";
      if (row.contains("shelter_address")) {
        std::cout << "      Rumah aman: " << row["shelter_code_name"].get<std::string>() << ", "
                  << row["shelter_address"].get<std::string>() << "\n";
      }
    }
  };
  section("Layanan:", "layanan", "services");
  section("Rujukan:", "rujukan", "referrals");
  section("Persetujuan:", "persetujuan", "consents");
  section("Penempatan rumah aman:", "penempatan", "shelter_stays");
  // Documents of older builds (an export) carry neither.
  if (doc.contains("plan")) section("Rencana intervensi:", "rencana", "plan");
  if (doc.contains("monitoring")) section("Pemantauan:", "pemantauan", "monitoring");
  if (doc.contains("diversions")) section("Kesepakatan diversi:", "diversi", "diversions");
  for (const auto& notice : doc.value("notices", json::array())) {
    std::cout << "PERHATIAN: " << notice.get<std::string>() << "\n";
  }
}

// State shared by the case subcommands: one of them runs.
struct CaseState {
  FieldInput case_fields, victim_fields;
  std::vector<std::string> assignments;
  std::string case_ref, reason, export_path, other_ref, query;
  bool export_shelter = false;
  Workflow::CaseFilter filter;
};
using CaseStatePtr = std::shared_ptr<CaseState>;

void add_case_new(CliContext& ctx, CLI::App* kasus, const CaseStatePtr& s) {
  auto* case_new = kasus->add_subcommand("new", "Record a new case (prints its id)");
  ctx.add_store(case_new);
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
  case_new->add_option("--field", s->assignments, "Any other case field, FIELD=VALUE (repeatable)");
  case_new->callback([&ctx, s, case_new] {
    ctx.action = [&ctx, s, case_new]() -> Result<int> {
      for (std::size_t i = 0; i < std::size(kCaseFlags); ++i) {
        if (!case_new->count(kCaseFlags[i].flag)) continue;
        (kCaseFlags[i].victim ? s->victim_fields : s->case_fields)
            .emplace_back(kCaseFlags[i].field, flag_values[i]);
      }
      auto extra = TEDUH_TRY(parse_assignments(s->assignments));
      s->case_fields.insert(s->case_fields.end(), extra.begin(), extra.end());
      auto store = TEDUH_TRY(ctx.open_store());
      Workflow wf(store);
      // Looked up before the new case exists, so that it does not find itself.
      auto similar = TEDUH_TRY(wf.similar_victims(s->victim_fields));
      auto id = TEDUH_TRY(wf.new_case(s->case_fields, s->victim_fields));
      auto c = store.entity(id);
      if (c && *c) std::cout << "Case " << (*c)->get("number") << " recorded.\n";
      for (const SimilarCase& m : similar) {
        std::cerr << "Peringatan: korban dengan "
                  << (m.signal == "nik" ? "NIK yang sama" : "nama dan tanggal lahir yang sama")
                  << " sudah tercatat di kasus " << m.number
                  << ". Bila orangnya sama, gabungkan kedua kasus: teduh case merge " << m.case_id << " "
                  << id.hex() << "\n";
      }
      std::cout << id.hex() << "\n";
      return 0;
    };
  });
}

void add_case_list(CliContext& ctx, CLI::App* kasus, const CaseStatePtr& s) {
  auto* case_list = kasus->add_subcommand("list", "List cases (victims by code, not name)");
  ctx.add_store(case_list);
  ctx.add_json(case_list);
  case_list->add_option("--status", s->filter.status, "Hanya kasus dengan status ini (kode atau label)");
  case_list->add_option("--petugas", s->filter.worker, "Hanya kasus dengan pendamping ini (assigned_worker)");
  case_list->add_flag("--milik-saya", s->filter.mine, "Hanya kasus yang didampingi pengguna perangkat ini");
  case_list->add_option("--dari", s->filter.from, "Diterima pada atau setelah tanggal ini");
  case_list->add_option("--sampai", s->filter.to, "Diterima pada atau sebelum tanggal ini");
  case_list->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      auto doc = TEDUH_TRY(Workflow(store).list_cases(s->filter));
      auto rules = TEDUH_TRY(deadline_rules(store));
      ctx.json_output ? print_json(doc) : print_case_list(doc, rules.zone);
      return 0;
    };
  });
}

void add_case_show(CliContext& ctx, CLI::App* kasus, const CaseStatePtr& s) {
  auto* case_show =
      kasus->add_subcommand("show", "Open a case (recorded as an access in the audit log)");
  ctx.add_store(case_show);
  ctx.add_json(case_show);
  case_show->add_option("ID", s->case_ref, "Case id or number")->required();
  case_show->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto doc = TEDUH_TRY(wf.show_case(*id));
      auto rules = TEDUH_TRY(deadline_rules(*store));
      ctx.json_output ? print_json(doc) : print_case(doc, rules.zone);
      return 0;
    };
  });
}

void add_case_export(CliContext& ctx, CLI::App* kasus, const CaseStatePtr& s) {
  auto* case_export = kasus->add_subcommand(
      "export", "Write a case, in full, to a JSON file (recorded as an export in the audit log)");
  ctx.add_store(case_export);
  case_export->add_option("ID", s->case_ref, "Case id or number")->required();
  case_export->add_option("--out", s->export_path, "The file to write (must not exist)")->required();
  case_export->add_flag("--sertakan-rumah-aman", s->export_shelter,
                        "Include shelter addresses (only on a device with shelter clearance); left out by default");
  case_export->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      if (std::filesystem::exists(s->export_path)) {
        return fail(Errc::invalid, "The file " + s->export_path + " already exists; choose a new name.");
      }
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      auto doc = TEDUH_TRY(Workflow(*store).export_case(*id, s->export_shelter));
      // Readable by this user only: the file holds names and the whole case.
      const int fd = ::open(s->export_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (fd < 0) return fail(Errc::invalid, "Cannot create " + s->export_path + ".");
      const std::string text = doc.dump(2) + "\n";
      const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      ::close(fd);
      if (!written) return fail(Errc::invalid, "Could not write all of " + s->export_path + ".");
      std::cout << "Case exported to " << s->export_path
                << " (it holds names: keep it safe; the export is in the audit log).\n"
                << (s->export_shelter ? "Alamat rumah aman DISERTAKAN dalam berkas ini: simpan dengan sangat hati-hati.\n"
                                   : "Alamat rumah aman tidak disertakan (gunakan --sertakan-rumah-aman bila "
                                     "memang diperlukan, pada perangkat yang berizin).\n");
      return 0;
    };
  });
}

void add_case_set(CliContext& ctx, CLI::App* kasus, const CaseStatePtr& s) {
  auto* case_set = kasus->add_subcommand(
      "set", "Change fields of a case: FIELD=VALUE (korban.FIELD for the victim)");
  ctx.add_store(case_set);
  case_set->add_option("ID", s->case_ref, "Case id or number")->required();
  case_set->add_option("ASSIGNMENTS", s->assignments, "FIELD=VALUE ...")->required();
  case_set->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto fields = TEDUH_TRY(parse_assignments(s->assignments));
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      TEDUH_TRY(wf.set_case(*id, fields));
      std::cout << "Case updated.\n";
      return 0;
    };
  });
}

void add_case_merge(CliContext& ctx, CLI::App* kasus, const CaseStatePtr& s) {
  auto* case_merge = kasus->add_subcommand(
      "merge", "Merge two records of the same victim: OTHER is shown inside KEEP, nothing is deleted");
  ctx.add_store(case_merge);
  case_merge->add_option("KEEP", s->case_ref, "The case to keep (id or number)")->required();
  case_merge->add_option("OTHER", s->other_ref, "The case merged into it (id or number)")->required();
  case_merge->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto other = TEDUH_TRY(wf.find_case(s->other_ref));
      TEDUH_TRY(wf.merge_cases(*id, other));
      std::cout << "Case merged: it is now shown inside the kept case on every device after sync.\n";
      return 0;
    };
  });
}

void add_case_close(CliContext& ctx, CLI::App* kasus, const CaseStatePtr& s) {
  auto* case_close = kasus->add_subcommand("close", "Close a case (terminasi) with a reason");
  ctx.add_store(case_close);
  case_close->add_option("ID", s->case_ref, "Case id or number")->required();
  case_close->add_option("--reason", s->reason, "Why the case is closed")->required();
  case_close->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      TEDUH_TRY(wf.close_case(*id, s->reason));
      std::cout << "Case closed (terminasi).\n";
      return 0;
    };
  });
}

}  // namespace

// teduh cari NAMA|NIK|NOMOR: the cases of this store whose victim has that name (any
// order, accents and case ignored, a word's start is enough) or NIK, or whose number holds
// the text; the same rows as case list, victims by code. Reads only: no case is opened.
void add_case_search(CliContext& ctx, CLI::App& app, const CaseStatePtr& s) {
  auto* cari =
      app.add_subcommand("cari", "Cari kasus menurut nama atau NIK korban, atau nomor kasus");
  ctx.add_store(cari);
  ctx.add_json(cari);
  cari->add_option("TEKS", s->query, "Nama, NIK atau nomor (sebagian)")->required();
  cari->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      auto doc = TEDUH_TRY(Workflow(store).search_cases(s->query));
      auto rules = TEDUH_TRY(deadline_rules(store));
      ctx.json_output ? print_json(doc) : print_case_list(doc, rules.zone);
      return 0;
    };
  });
}

void add_case_commands(CliContext& ctx, CLI::App& app) {
  auto s = std::make_shared<CaseState>();
  add_case_search(ctx, app, s);
  auto* kasus = app.add_subcommand("case", "Record and handle cases");
  kasus->require_subcommand(1);
  add_case_new(ctx, kasus, s);
  add_case_list(ctx, kasus, s);
  add_case_show(ctx, kasus, s);
  add_case_export(ctx, kasus, s);
  add_case_set(ctx, kasus, s);
  add_case_merge(ctx, kasus, s);
  add_case_close(ctx, kasus, s);
}

void add_history_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string case_ref;
  };
  auto s = std::make_shared<State>();
  auto* history = app.add_subcommand("history", "Every version of every field of a case");
  ctx.add_store(history);
  ctx.add_json(history);
  history->add_option("ID", s->case_ref, "Case id or number")->required();
  history->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto doc = TEDUH_TRY(wf.history(*id));
      if (ctx.json_output) {
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
  ctx.add_store(audit);
  ctx.add_json(audit);
  audit->add_option("--case", s->case_ref, "Only this case (id or number)");
  audit->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      Workflow wf(store);
      std::optional<sync::EntityId> only;
      if (!s->case_ref.empty()) {
        auto id = TEDUH_TRY(wf.find_case(s->case_ref));
        only = id;
      }
      auto doc = TEDUH_TRY(wf.audit(only));
      if (ctx.json_output) {
        print_json(doc);
      } else {
        auto rules = TEDUH_TRY(deadline_rules(store));
        // A case by its number (an id's first hex digits are its creation time, the same
        // for cases made within a minute); the id's short code when this store lacks it.
        std::map<std::string, std::string> numbers;
        auto number_of = [&](const std::string& case_hex) -> const std::string& {
          auto [it, fresh] = numbers.try_emplace(case_hex, "kode " + short_code(case_hex));
          if (!fresh) return it->second;
          if (auto case_id = sync::Id128::from_hex(case_hex)) {
            auto c = store.entity(*case_id);
            if (c && *c && !(*c)->get("number").empty()) it->second = (*c)->get("number");
          }
          return it->second;
        };
        for (const auto& e : doc["events"]) {
          std::cout << local_time(e["at"].get<std::string>(), rules.zone) << "  "
                    << e["action"].get<std::string>() << "  kasus "
                    << number_of(e["case"].get<std::string>()) << "  oleh "
                    << e["user"].get<std::string>() << "\n";
        }
      }
      return 0;
    };
  });
}

}  // namespace teduh::client::cli
