#include "teduh/client/workflow.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <set>
#include <tuple>

#include "teduh/client/compartment.hpp"
#include "teduh/client/report.hpp"
#include "teduh/schema/codes.hpp"
#include "teduh/schema/entities.hpp"
#include "teduh/schema/facts.hpp"
#include "teduh/schema/identity_match.hpp"
#include "teduh/schema/region.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/schema/validate.hpp"
#include "teduh/sync/write_rules.hpp"

namespace teduh::client {
namespace {

using nlohmann::json;
using schema::EntityType;

namespace dates = schema::dates;

// Canonical UTC text of a time in milliseconds since the epoch (the sync layer's clock).
std::string utc_text(std::uint64_t ms) {
  return dates::format_utc(dates::from_unix_ms(static_cast<std::int64_t>(ms)));
}
std::string now_text() { return utc_text(sync::system_now_ms()); }

// The office's calendar day (zona_waktu) of an instant, and of now.
[[nodiscard]] Result<dates::Date> office_day(const Store& store, dates::Instant at) {
  auto rules = TEDUH_TRY(deadline_rules(store));
  return dates::local_date(at, rules.zone);
}
[[nodiscard]] Result<dates::Date> office_today(const Store& store) {
  return office_day(store, dates::from_unix_ms(static_cast<std::int64_t>(sync::system_now_ms())));
}

sync::EntityId new_entity_id() { return sync::Id128::time_ordered(sync::system_now_ms()); }

Error invalid(const schema::Error& e) { return Error{Errc::invalid, e.message}; }

// How a record written by a commit the server refused shows: "ditolak: " and the
// server's reason up to its first colon ("ditolak: kantor tidak dikenal").
std::string refused_status(const std::string& detail) {
  return "ditolak: " + detail.substr(0, detail.find(':'));
}

// Whether a typed value may lie in the future (Past::refuse: dates of what has happened).
enum class Past { refuse, allow };

// Validates typed input for one entity into canonical writes; the first bad field fails all.
// A time written without a zone is in the office's zone (zona_waktu), and a date or time of
// something that has happened may not be later than now (schema::check_not_future), unless
// `past` allows it (a value chosen from versions already written).
[[nodiscard]] Result<std::vector<FieldWrite>> validated(const Store& store, const sync::EntityId& entity,
                                          EntityType type, const FieldInput& input,
                                          Past past = Past::refuse) {
  auto rules = TEDUH_TRY(deadline_rules(store));
  const dates::Instant now = dates::from_unix_ms(static_cast<std::int64_t>(sync::system_now_ms()));
  const auto& spec = schema::entity_spec(type);
  std::vector<FieldWrite> out;
  for (const auto& [field, text] : input) {
    auto f = spec.field(field);
    if (!f) {
      std::string known;
      for (const auto& fs : spec.fields) {
        if (fs.secret) continue;
        if (!known.empty()) known += ", ";
        known += fs.name;
      }
      std::string message = "'";
      message.append(field).append("' is not a field of ").append(spec.label);
      message.append("; known fields: ").append(known).append(".");
      return fail(Errc::invalid, std::move(message));
    }
    auto canonical = schema::validate_field(type, field, text, dates::utc_offset(rules.zone));
    if (!canonical) return tl::unexpected(invalid(canonical.error()));
    if (past == Past::refuse) {
      auto when = schema::check_not_future(type, field, *canonical, now, rules.zone);
      if (!when) return tl::unexpected(invalid(when.error()));
    }
    out.push_back(FieldWrite{entity, std::string(spec.name), field, std::move(*canonical)});
  }
  return out;
}

FieldWrite write_of(const sync::EntityId& entity, EntityType type, std::string_view field,
                    std::string value) {
  return FieldWrite{entity, std::string(schema::entity_spec(type).name), std::string(field),
                    std::move(value)};
}

// The entity of `type` a person names by its id, or by the value of its identifying field
// (a case's number, a shelter's code name); nullopt when there is none.
[[nodiscard]] Result<std::optional<sync::EntityId>> find_named(const Store& store,
                                                               std::string_view type,
                                                               std::string_view field,
                                                               std::string_view ref) {
  if (auto id = sync::Id128::from_hex(ref)) {
    auto e = TEDUH_TRY(store.entity(*id));
    if (e && e->type == type) return std::optional<sync::EntityId>(*id);
  }
  return store.find_by_field(type, field, ref);
}

// A child in conflict with the law (issue 17.5). Ages are counted at the incident's date,
// else at the day the case was received.
constexpr int kChildUntil = 18;            // UU 35/2014: a child is under 18
constexpr int kDiversionVictimUnder = 12;  // SOP Bekasi: a victim under 12 and a child perpetrator

std::string case_reference_day(const std::string& incident_date, const std::string& received_at) {
  return incident_date.empty() ? received_at : incident_date;
}

bool is_child(int age) { return age >= 0 && age < kChildUntil; }

// What a case's roles and persons say about a child in conflict with the law.
struct ChildCase {
  std::set<sync::EntityId> child_perpetrators;  // peran terlapor of a child (ABH)
  bool victim_under_12 = false;
  [[nodiscard]] bool needs_diversion() const {
    return victim_under_12 && !child_perpetrators.empty();
  }
};

ChildCase child_case(const EntityView& kasus, std::vector<const EntityView*> roles,
                     const std::map<sync::EntityId, const EntityView*>& persons) {
  ChildCase out;
  const std::string at = case_reference_day(kasus.get("incident_date"), kasus.get("received_at"));
  // The victim is the first korban role by id, as the report and the projection take it.
  std::sort(roles.begin(), roles.end(),
            [](const EntityView* a, const EntityView* b) { return a->id < b->id; });
  bool victim_seen = false;
  for (const EntityView* r : roles) {
    if (r->deleted()) continue;
    int age = -1;
    if (auto pid = sync::Id128::from_hex(r->get("person"))) {
      auto it = persons.find(*pid);
      if (it != persons.end())
        age = schema::person_age(it->second->get("birth_date"), it->second->get("age"), at);
    }
    if (r->get("role") == "terlapor" && (r->get("abh") == "1" || is_child(age))) {
      out.child_perpetrators.insert(r->id);
    } else if (r->get("role") == "korban" && !victim_seen) {
      victim_seen = true;
      out.victim_under_12 = age >= 0 && age < kDiversionVictimUnder;
    }
  }
  return out;
}

constexpr std::string_view kDiversionPrompt =
    "Korban berusia di bawah 12 tahun dan terlapor masih anak (anak berhadapan dengan hukum): "
    "menurut SOP "
    "DPPPA Kota Bekasi penanganannya melalui diversi. Catat kesepakatan diversinya dengan `teduh "
    "diversi "
    "catat`.";

}  // namespace

namespace {
// "number (Nomor kasus): ...": the field first, as the validator names it (the office app
// links the field named before the parenthesis).
std::string set_by_teduh_message(const std::string& field) {
  const auto* spec = schema::find_entity_spec("kasus");
  const auto* f = spec ? spec->field(field) : nullptr;
  return field + " (" + (f ? std::string(f->label) : field) +
         "): diisi oleh Teduh, tidak dapat diubah dengan tangan.";
}
}  // namespace

bool set_by_teduh(std::string_view case_field) {
  return case_field == "number" || case_field == "owner_office" || case_field == "merged_into" ||
         case_field == "closed_services_seen";
}

json code_lists() {
  json out = json::object();
  for (const schema::CodeSet& set : schema::all_code_sets()) {
    json list = json::array();
    for (const schema::Code& c : set.codes)
      list.push_back(json{{"code", c.code}, {"label", c.label}});
    out[std::string(set.name)] = std::move(list);
  }
  return out;
}

std::string victim_code(const sync::EntityId& person_id) {
  // The last two bytes: the leading ones of a time-ordered id are its creation time.
  char buf[16];
  std::snprintf(buf, sizeof buf, "K-%02X%02X", person_id.bytes[14], person_id.bytes[15]);
  return buf;
}

std::vector<FieldWrite> Workflow::audit_event(const sync::EntityId& case_id,
                                              std::string_view action) const {
  sync::EntityId audit_id = new_entity_id();
  const auto& id = store_.identity();
  return {
      write_of(audit_id, EntityType::audit, "action", std::string(action)),
      write_of(audit_id, EntityType::audit, "entity", case_id.hex()),
      write_of(audit_id, EntityType::audit, "device", id.device.hex()),
      write_of(audit_id, EntityType::audit, "user", id.grant.user),
      write_of(audit_id, EntityType::audit, "at", now_text()),
      write_of(audit_id, EntityType::audit, "office", id.grant.office_code),
  };
}

Result<void> Workflow::write_case_commit(const sync::EntityId& case_id,
                                         std::vector<FieldWrite> writes, std::string_view action) {
  auto audit = audit_event(case_id, action);
  writes.insert(writes.end(), audit.begin(), audit.end());
  TEDUH_TRY(commit_write(case_id, "kasus", std::move(writes)));
  return {};
}

Result<std::string> Workflow::case_number() {
  const auto& grant = store_.identity().grant;
  auto today = TEDUH_TRY(office_today(store_));
  const std::string year = std::to_string(static_cast<int>(today.year()));
  auto n = TEDUH_TRY(store_.next_counter("case_number:" + year));
  // The device part makes numbers unique without coordination: each device of an office
  // has its own tag, and each device counts its own cases (DESIGN.md section 3).
  std::string device = store_.identity().device.hex().substr(0, 4);
  for (auto& ch : device) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  char seq[16];
  std::snprintf(seq, sizeof seq, "%04lld", static_cast<long long>(n));
  return grant.office_code + "/" + year + "/" + device + "-" + seq;
}

Result<sync::EntityId> Workflow::new_case(const FieldInput& case_fields,
                                          const FieldInput& victim_fields, const CaseExtras& extras) {
  TEDUH_TRY(permit(schema::Action::buat_kasus));
  sync::EntityId case_id = new_entity_id();
  auto writes = TEDUH_TRY(validated(store_, case_id, EntityType::kasus, case_fields));
  for (const auto& w : writes) {
    if (set_by_teduh(w.field)) {
      return fail(Errc::invalid, set_by_teduh_message(w.field));
    }
  }
  std::vector<FieldWrite> victim_writes;
  sync::EntityId victim_id = new_entity_id();
  if (!victim_fields.empty()) {
    auto v = TEDUH_TRY(validated(store_, victim_id, EntityType::orang, victim_fields));
    victim_writes = std::move(v);
  }
  std::vector<FieldWrite> extra_writes;  // persons and services, same checks as their actions
  std::string incident, received = now_text();
  for (const auto& w : writes) {
    if (w.field == "incident_date") incident = w.value;
    if (w.field == "received_at") received = w.value;
  }
  for (const auto& [people, role_code] :
       {std::pair{&extras.perpetrators, "terlapor"}, std::pair{&extras.reporters, "pelapor"}}) {
    for (const auto& [fields, relationship] : *people) {
      sync::EntityId person_id = new_entity_id(), role_id = new_entity_id();
      auto p = TEDUH_TRY(validated(store_, person_id, EntityType::orang, fields));
      FieldInput role{{"case", case_id.hex()}, {"person", person_id.hex()}, {"role", role_code}};
      if (!relationship.empty()) role.emplace_back("relationship", relationship);
      if (std::string_view(role_code) == "terlapor") {
        std::string birth, age;
        for (const auto& w : p) {
          if (w.field == "birth_date") birth = w.value;
          if (w.field == "age") age = w.value;
        }
        if (is_child(schema::person_age(birth, age, case_reference_day(incident, received)))) {
          role.emplace_back("abh", "1");
        }
      }
      auto r = TEDUH_TRY(validated(store_, role_id, EntityType::peran, role));
      extra_writes.insert(extra_writes.end(), p.begin(), p.end());
      extra_writes.insert(extra_writes.end(), r.begin(), r.end());
    }
  }
  std::string status_seen = "diterima";
  for (const auto& w : writes) {
    if (w.field == "status") status_seen = w.value;
  }
  for (const FieldInput& fields : extras.services) {
    FieldInput all = fields;
    all.emplace_back("case", case_id.hex());
    all.emplace_back("case_status_seen", status_seen);
    auto v = TEDUH_TRY(validated(store_, new_entity_id(), EntityType::layanan, all));
    extra_writes.insert(extra_writes.end(), v.begin(), v.end());
  }
  return store_.in_transaction([&]() -> Result<sync::EntityId> {
    auto number = TEDUH_TRY(case_number());
    auto has = [&](std::string_view f) {
      return std::any_of(writes.begin(), writes.end(),
                         [&](const FieldWrite& w) { return w.field == f; });
    };
    std::string now = now_text();
    writes.push_back(write_of(case_id, EntityType::kasus, "number", number));
    writes.push_back(
        write_of(case_id, EntityType::kasus, "owner_office", store_.identity().grant.office_code));
    if (!has("status"))
      writes.push_back(write_of(case_id, EntityType::kasus, "status", "diterima"));
    if (!has("received_at"))
      writes.push_back(write_of(case_id, EntityType::kasus, "received_at", now));
    if (!has("channel"))
      writes.push_back(write_of(case_id, EntityType::kasus, "channel", "datang_langsung"));
    if (!victim_writes.empty()) {
      writes.insert(writes.end(), victim_writes.begin(), victim_writes.end());
      sync::EntityId role_id = new_entity_id();
      writes.push_back(write_of(role_id, EntityType::peran, "case", case_id.hex()));
      writes.push_back(write_of(role_id, EntityType::peran, "person", victim_id.hex()));
      writes.push_back(write_of(role_id, EntityType::peran, "role", "korban"));
    }
    // The complaint itself is the first service (SOP: pengaduan).
    sync::EntityId service_id = new_entity_id();
    writes.push_back(write_of(service_id, EntityType::layanan, "case", case_id.hex()));
    writes.push_back(write_of(service_id, EntityType::layanan, "kind", "pengaduan"));
    // One author records the case, its status and its services together, so each service
    // saw that status: a case recorded already closed (a paper register's row) is no "closed
    // while another office recorded a service" conflict (issue 15.6). The extras carry it too.
    if (has("status")) writes.push_back(write_of(service_id, EntityType::layanan, "case_status_seen", status_seen));
    // Dated on the day the complaint came (a register imported later keeps its dates).
    auto rules = TEDUH_TRY(deadline_rules(store_));
    dates::Instant complaint_at = dates::from_unix_ms(static_cast<std::int64_t>(sync::system_now_ms()));
    for (const auto& w : writes) {
      if (w.entity != case_id || w.field != "received_at") continue;
      if (auto at = dates::parse_utc(w.value)) complaint_at = *at;
    }
    writes.push_back(write_of(service_id, EntityType::layanan, "date",
                               dates::format_iso(dates::local_date(complaint_at, rules.zone))));
    writes.insert(writes.end(), extra_writes.begin(), extra_writes.end());
    TEDUH_TRY(write_case_commit(case_id, std::move(writes), "dibuat"));
    return case_id;
  });
}

Result<std::vector<SimilarCase>> Workflow::similar_victims(const FieldInput& victim_fields) const {
  TEDUH_TRY(permit(schema::Action::buat_kasus));
  std::string name, birth, nik;
  for (const auto& [field, text] : victim_fields) {
    auto canonical = schema::validate_field(EntityType::orang, field, text);
    if (!canonical) continue;
    if (field == "name") name = *canonical;
    if (field == "birth_date") birth = *canonical;
    if (field == "nik") nik = schema::normalize_nik(*canonical);
  }
  const std::string key = schema::name_birth_key(name, birth);
  std::vector<SimilarCase> out;
  if (nik.empty() && key.empty()) return out;
  auto cases = TEDUH_TRY(store_.entities("kasus"));
  for (const auto& c : cases) {
    if (c.deleted() || !c.get("merged_into").empty()) continue;
    auto victim = TEDUH_TRY(victim_of(c.id));
    if (!victim) continue;
    if (!nik.empty() && schema::normalize_nik(victim->get("nik")) == nik) {
      out.push_back({c.id.hex(), c.get("number"), "nik"});
    } else if (!key.empty() && schema::name_birth_key(victim->get("name"), victim->get("birth_date")) == key) {
      out.push_back({c.id.hex(), c.get("number"), "nama_tanggal_lahir"});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SimilarCase& a, const SimilarCase& b) { return std::tie(a.number, a.case_id) < std::tie(b.number, b.case_id); });
  return out;
}

namespace {

// `s` without the spaces a person left at either end.
std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Whether `s` is a part of an id a person typed: `min` to 32 hex digits (case ids by their
// start in find_case, records by their end in find_in_case).
bool id_digits(std::string_view s, std::size_t min) {
  return s.size() >= min && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

// Levenshtein distance, stopping early past `limit` (short strings only: case numbers).
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return limit + 1;
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    std::size_t best = row[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
      best = std::min(best, row[j]);
    }
    if (best > limit) return limit + 1;
  }
  return row[b.size()];
}

}  // namespace

// A case as a person names it (issue 15): its id, its number, the short number after the
// number's last '/' ("314E-0001"), the number in any letter case, or the start of its id
// (6 hex digits or more), when exactly one case of this store matches; several matches
// are listed, and a near miss names the nearest numbers ("maksud Anda").
Result<sync::EntityId> Workflow::find_case(std::string_view id_or_number) const {
  auto found = TEDUH_TRY(find_named(store_, "kasus", "number", id_or_number));
  if (found) return *found;
  const std::string_view trimmed_ref = trimmed(id_or_number);
  const std::string want = lowered(trimmed_ref);
  const bool id_prefix = id_digits(want, 6);
  auto cases = TEDUH_TRY(store_.entities("kasus"));
  std::vector<const EntityView*> matches;
  std::vector<std::pair<std::size_t, std::string>> near;
  for (const EntityView& c : cases) {
    if (c.deleted()) continue;
    const std::string& number = c.get("number");
    const std::string full = lowered(number);
    const std::string short_number =
        full.substr(full.rfind('/') == std::string::npos ? 0 : full.rfind('/') + 1);
    if (!want.empty() &&
        (full == want || short_number == want || (id_prefix && c.id.hex().starts_with(want)))) {
      matches.push_back(&c);
    } else if (!want.empty() && !number.empty()) {
      const std::size_t d =
          std::min(edit_distance(want, full, 2), edit_distance(want, short_number, 2));
      if (d <= 2) near.emplace_back(d, number);
    }
  }
  if (matches.size() == 1) return matches.front()->id;
  if (matches.size() > 1) {
    std::string listed;
    for (std::size_t i = 0; i < matches.size() && i < 5; ++i)
      listed += (i ? ", " : "") + matches[i]->get("number");
    return fail(Errc::usage, "'" + std::string(trimmed_ref) + "' cocok dengan " +
                                 std::to_string(matches.size()) + " kasus (" + listed +
                                 (matches.size() > 5 ? ", ..." : "") +
                                 "); tulis nomor lengkapnya.");
  }
  std::string message =
      "Tidak ada kasus dengan nomor atau id '" + std::string(trimmed_ref) + "' di penyimpanan ini.";
  if (!near.empty()) {
    std::sort(near.begin(), near.end());
    message += " Maksud Anda: ";
    for (std::size_t i = 0; i < near.size() && i < 3; ++i)
      message += (i ? ", " : "") + near[i].second;
    message += "?";
  }
  return fail(Errc::not_found, message);
}

Result<std::optional<EntityView>> Workflow::victim_of(const sync::EntityId& case_id) const {
  auto roles = TEDUH_TRY(store_.entities("peran", &case_id));
  for (const auto& r : roles) {
    if (r.deleted() || r.get("role") != "korban") continue;
    auto person = sync::Id128::from_hex(r.get("person"));
    if (!person) continue;
    auto p = store_.entity(*person);
    if (!p) return tl::unexpected(p.error());
    if (*p) return p;
  }
  return std::optional<EntityView>{};
}

Result<json> Workflow::list_cases() const { return list_cases(CaseFilter{}); }

Result<json> Workflow::list_cases(const CaseFilter& filter) const {
  TEDUH_TRY(permit(schema::Action::lihat_kasus));
  // The filter's values, checked before anything is read: a wrong one is said in words.
  std::string status;
  if (!filter.status.empty()) {
    auto code = schema::validate_field(EntityType::kasus, "status", filter.status);
    if (!code) return tl::unexpected(invalid(code.error()));
    status = std::move(*code);
  }
  const std::string worker =
      lowered(trimmed(filter.mine ? std::string_view(store_.identity().grant.user) : filter.worker));
  std::optional<dates::Date> from, to;
  std::optional<dates::Zone> zone;
  for (auto [text, out, name] :
       {std::tuple{&filter.from, &from, "--dari"}, std::tuple{&filter.to, &to, "--sampai"}}) {
    if (text->empty()) continue;
    auto day = dates::parse_date(*text);
    if (!day) return fail(Errc::usage, std::string(name) + ": " + day.error().message);
    *out = *day;
  }
  if (from || to) zone = TEDUH_TRY(deadline_rules(store_)).zone;
  auto cases = TEDUH_TRY(store_.entities("kasus"));
  std::vector<json> rows;
  for (const auto& c : cases) {
    if (c.deleted()) continue;
    if (!status.empty() && c.get("status") != status) continue;
    if ((filter.mine || !filter.worker.empty()) && lowered(c.get("assigned_worker")) != worker) continue;
    if (zone) {
      auto received = dates::parse_utc(c.get("received_at"));
      if (!received) continue;  // no received time: outside every period
      const auto day = std::chrono::sys_days{dates::local_date(*received, *zone)};
      if ((from && day < std::chrono::sys_days{*from}) || (to && day > std::chrono::sys_days{*to})) continue;
    }
    auto victim = TEDUH_TRY(victim_of(c.id));
    bool conflict = std::any_of(c.fields.begin(), c.fields.end(),
                                [](const auto& f) { return f.second.live_count > 1; });
    rows.push_back(json{{"id", c.id.hex()},
                        {"number", c.get("number")},
                        {"received_at", c.get("received_at")},
                        {"status", c.get("status")},
                        {"forms", schema::split_codes(c.get("forms"))},
                        {"owner_office", c.get("owner_office")},
                        {"victim", victim ? victim_code(victim->id) : ""},
                        {"merged_into", c.get("merged_into")},
                        {"conflict", conflict}});
  }
  std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    return std::tie(a["received_at"].get_ref<const std::string&>(),
                    a["number"].get_ref<const std::string&>()) <
           std::tie(b["received_at"].get_ref<const std::string&>(),
                    b["number"].get_ref<const std::string&>());
  });
  return json{{"cases", rows}};
}

Result<json> Workflow::search_cases(std::string_view query) const {
  auto doc = TEDUH_TRY(list_cases());
  auto words_of = [](const std::string& normal) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < normal.size()) {
      const auto space = normal.find(' ', start);
      const auto end = space == std::string::npos ? normal.size() : space;
      if (end > start) words.push_back(normal.substr(start, end - start));
      start = end + 1;
    }
    return words;
  };
  const std::string text(trimmed(query));
  if (text.empty()) return doc;
  const std::string nik = schema::normalize_nik(text);
  const auto wanted = words_of(schema::normalize_name(text));
  json rows = json::array();
  for (auto& row : doc["cases"]) {
    const auto& number = row["number"].get_ref<const std::string&>();
    bool hit = number.find(text) != std::string::npos;
    auto id = sync::Id128::from_hex(row["id"].get<std::string>());
    if (!hit && id) {
      auto victim = TEDUH_TRY(victim_of(*id));
      if (victim && !nik.empty()) hit = schema::normalize_nik(victim->get("nik")) == nik;
      if (victim && !hit && !wanted.empty()) {
        const auto have = words_of(schema::normalize_name(victim->get("name")));
        hit = std::all_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
          return std::any_of(have.begin(), have.end(),
                             [&](const std::string& h) { return h.rfind(w, 0) == 0; });
        });
      }
    }
    if (hit) rows.push_back(std::move(row));
  }
  return json{{"cases", rows}};
}

namespace {

// All shown fields of an entity as {field: value}, and the fields in conflict.
json fields_json(const EntityView& e, json* conflicts) {
  json out = json::object();
  for (const auto& [field, fv] : e.fields) {
    if (field == schema::kDeletedField) continue;
    out[field] = fv.value;
    if (fv.live_count > 1 && conflicts) conflicts->push_back(field);
  }
  return out;
}

bool by_id(const json& a, const json& b) { return a["id"] < b["id"]; }

}  // namespace

std::string Workflow::shelter_field_for_display(const EntityView& shelter,
                                                std::string_view field) const {
  const std::string& sealed = shelter.get(field);
  auto plain = open_secret_field(store_, "rumah_aman", field, shelter.id, sealed);
  if (!plain || !*plain) return "rumah aman (lokasi dirahasiakan)";
  return **plain;
}

Result<json> Workflow::show_case(const sync::EntityId& case_id, std::string_view access) {
  TEDUH_TRY(permit(schema::Action::lihat_kasus));
  auto c = TEDUH_TRY(store_.entity(case_id));
  if (!c) return fail(Errc::not_found, "No such case.");
  json doc;
  json conflicts = json::array();
  doc["id"] = case_id.hex();
  doc["case"] = fields_json(*c, &conflicts);

  // A case merged into this one (case merge) shows its records here, marked with it.
  auto merged = TEDUH_TRY(merged_into(case_id));
  std::vector<sync::EntityId> scopes{case_id};
  scopes.insert(scopes.end(), merged.begin(), merged.end());
  auto collect = [&](std::string_view type, auto&& extra) -> Result<json> {
    json rows = json::array();
    for (const sync::EntityId& scope : scopes) {
      auto list = TEDUH_TRY(store_.entities(type, &scope));
      for (const auto& e : list) {
        if (e.deleted()) continue;
        json row;
        json local_conflicts = json::array();
        row["id"] = e.id.hex();
        row["fields"] = fields_json(e, &local_conflicts);
        if (!local_conflicts.empty()) row["conflicts"] = local_conflicts;
        if (scope != case_id) row["from_case"] = scope.hex();
        extra(e, row);
        rows.push_back(std::move(row));
      }
    }
    std::sort(rows.begin(), rows.end(), by_id);
    return rows;
  };
  auto none = [](const EntityView&, json&) {};
  auto persons = TEDUH_TRY(collect("orang", none));
  // A child alleged to have offended (anak berhadapan dengan hukum), by the flag or the age.
  const auto case_roles = TEDUH_TRY(store_.entities("peran", &case_id));
  const auto case_persons = TEDUH_TRY(store_.entities("orang", &case_id));
  std::vector<const EntityView*> role_ptrs;
  role_ptrs.reserve(case_roles.size());
  std::map<sync::EntityId, const EntityView*> person_by_id;
  for (const auto& r : case_roles) role_ptrs.push_back(&r);
  for (const auto& p : case_persons) person_by_id[p.id] = &p;
  const ChildCase child = child_case(*c, role_ptrs, person_by_id);
  auto roles = TEDUH_TRY(collect("peran", [&](const EntityView& e, json& row) {
    if (child.child_perpetrators.contains(e.id)) row["abh"] = true;
  }));
  auto plan = TEDUH_TRY(collect("rencana", none));
  auto visits = TEDUH_TRY(collect("pemantauan", none));
  auto diversions = TEDUH_TRY(collect("diversi", none));
  auto services = TEDUH_TRY(collect("layanan", none));
  auto referrals = TEDUH_TRY(collect("rujukan", [&](const EntityView& e, json& row) {
    if (auto refused = store_.refusal_for(e.id); refused && *refused) row["refused"] = refused_status(**refused);
  }));
  auto consents = TEDUH_TRY(collect("persetujuan", none));
  auto stays = TEDUH_TRY(collect("penempatan", [&](const EntityView& e, json& row) {
    auto shelter_id = sync::Id128::from_hex(e.get("shelter"));
    if (!shelter_id) return;
    auto shelter = store_.entity(*shelter_id);
    if (shelter && *shelter) {
      row["shelter_code_name"] = (*shelter)->get("code_name");
      row["shelter_address"] = shelter_field_for_display(**shelter, "address");
    }
  }));
  doc["persons"] = persons;
  doc["roles"] = roles;
  doc["services"] = services;
  doc["referrals"] = referrals;
  doc["consents"] = consents;
  doc["shelter_stays"] = stays;
  doc["plan"] = plan;
  doc["monitoring"] = visits;
  doc["diversions"] = diversions;
  // What the SOPs ask of this case that a person should see when opening it.
  json notices = json::array();
  if (!child.child_perpetrators.empty()) {
    notices.push_back(
        "Terlapor masih anak (di bawah 18 tahun): anak berhadapan dengan hukum (ABH).");
  }
  if (child.needs_diversion() && diversions.empty())
    notices.push_back(std::string(kDiversionPrompt));
  doc["notices"] = notices;
  json merged_ids = json::array();
  for (const auto& m : merged) merged_ids.push_back(m.hex());
  doc["merged_cases"] = merged_ids;
  if ((*c).get("status") == "terminasi") {
    auto unseen = TEDUH_TRY(services_not_seeing_closure(case_id));
    const std::string& seen = (*c).get("closed_services_seen");
    bool listed = std::find(conflicts.begin(), conflicts.end(), "status") != conflicts.end();
    if (unseen > (seen.empty() ? 0 : std::stoll(seen)) && !listed) conflicts.push_back("status");
  }
  doc["conflicts"] = conflicts;

  // Opening or exporting a case is an access that the supervisor can audit (DESIGN.md
  // section 3).
  TEDUH_TRY(commit_write(case_id, "kasus", audit_event(case_id, std::string(access))));
  return doc;
}

Result<json> Workflow::export_case(const sync::EntityId& case_id, bool with_shelter) {
  if (with_shelter) {
    // Asked for by name, and only where the details can be read at all.
    if (!store_.identity().grant.shelter_clearance) {
      return fail(Errc::refused,
                  "Perangkat ini tidak berizin rumah aman, jadi tidak dapat menyertakan detail rumah aman.");
    }
    auto current = TEDUH_TRY(current_generation(store_, kShelterCompartment));
    if (!current) return fail(Errc::refused, std::string(kNoShelterKeyYet));
  }
  auto doc = show_case(case_id, "diekspor");
  if (!doc) return tl::unexpected(doc.error());
  if (with_shelter) {
    (*doc)["rumah_aman"] =
        "disertakan: berkas ini memuat alamat rumah aman; simpan dan serahkan dengan sangat hati-hati";
    return doc;
  }
  for (json& stay : (*doc)["shelter_stays"]) stay.erase("shelter_address");
  (*doc)["rumah_aman"] =
      "tidak disertakan: alamat rumah aman dirahasiakan (minta dengan --sertakan-rumah-aman pada perangkat "
      "yang berizin rumah aman)";
  return doc;
}

Result<void> Workflow::set_case(const sync::EntityId& case_id, const FieldInput& fields) {
  TEDUH_TRY(permit(schema::Action::ubah_kasus));
  FieldInput case_fields, victim_fields;
  for (const auto& [k, v] : fields) {
    if (k.rfind("korban.", 0) == 0) {
      victim_fields.emplace_back(k.substr(7), v);
    } else {
      case_fields.emplace_back(k, v);
    }
  }
  auto writes = TEDUH_TRY(validated(store_, case_id, EntityType::kasus, case_fields));
  for (const auto& w : writes) {
    if (set_by_teduh(w.field)) {
      return fail(Errc::invalid, set_by_teduh_message(w.field));
    }
  }
  if (!victim_fields.empty()) {
    auto victim = TEDUH_TRY(victim_of(case_id));
    if (!victim)
      return fail(Errc::not_found, "This case has no victim recorded yet; use `teduh person add`.");
    auto v = TEDUH_TRY(validated(store_, victim->id, EntityType::orang, victim_fields));
    writes.insert(writes.end(), v.begin(), v.end());
  }
  if (writes.empty()) return fail(Errc::usage, "Give at least one FIELD=VALUE to set.");
  for (const auto& w : writes) {
    if (w.entity == case_id && w.field == "status") {
      auto seen = TEDUH_TRY(services_not_seeing_closure(case_id));
      writes.push_back(
          write_of(case_id, EntityType::kasus, "closed_services_seen", std::to_string(seen)));
      break;
    }
  }
  return write_case_commit(case_id, std::move(writes), "diubah");
}

Result<std::int64_t> Workflow::services_not_seeing_closure(const sync::EntityId& case_id) const {
  auto services = TEDUH_TRY(store_.entities("layanan", &case_id));
  std::int64_t n = 0;
  for (const auto& s : services)
    n += (!s.deleted() && s.get("case_status_seen") != "terminasi") ? 1 : 0;
  return n;
}

Result<void> Workflow::close_case(const sync::EntityId& case_id, std::string_view reason) {
  TEDUH_TRY(permit(schema::Action::tutup_kasus));
  auto seen = TEDUH_TRY(services_not_seeing_closure(case_id));
  // The closing device records how many services it saw, so a service recorded elsewhere
  // meanwhile shows up as a conflict rather than being silently closed over.
  auto writes = TEDUH_TRY(validated(store_, case_id, EntityType::kasus,
                          {{"status", "terminasi"},
                           {"closed_reason", std::string(reason)},
                           {"closed_services_seen", std::to_string(seen)}}));
  if (reason.find_first_not_of(" \t\n") == std::string_view::npos) {
    return fail(Errc::invalid, "closed_reason (Alasan penutupan): a case is closed with a reason.");
  }
  return write_case_commit(case_id, std::move(writes), "diselesaikan");
}

Result<sync::EntityId> Workflow::add_person(const sync::EntityId& case_id, std::string_view role,
                                            const FieldInput& person_fields,
                                            std::string_view relationship, bool abh) {
  TEDUH_TRY(permit(schema::Action::ubah_kasus));
  sync::EntityId person_id = new_entity_id();
  sync::EntityId role_id = new_entity_id();
  auto writes = TEDUH_TRY(validated(store_, person_id, EntityType::orang, person_fields));
  FieldInput role_fields{
      {"case", case_id.hex()}, {"person", person_id.hex()}, {"role", std::string(role)}};
  if (!relationship.empty()) role_fields.emplace_back("relationship", std::string(relationship));
  auto canonical_role = schema::validate_field(EntityType::peran, "role", role);
  if (canonical_role && *canonical_role == "terlapor") {
    std::string birth, age;
    for (const auto& w : writes) {
      if (w.field == "birth_date") birth = w.value;
      if (w.field == "age") age = w.value;
    }
    auto c = TEDUH_TRY(store_.entity(case_id));
    const std::string at =
        c ? case_reference_day(c->get("incident_date"), c->get("received_at")) : now_text();
    if (abh || is_child(schema::person_age(birth, age, at))) role_fields.emplace_back("abh", "1");
  } else if (abh) {
    return fail(Errc::invalid,
                "abh (Anak berhadapan dengan hukum): hanya untuk terlapor (terduga pelaku).");
  }
  auto role_writes = TEDUH_TRY(validated(store_, role_id, EntityType::peran, role_fields));
  writes.insert(writes.end(), role_writes.begin(), role_writes.end());
  TEDUH_TRY(write_case_commit(case_id, std::move(writes), "diubah"));
  return person_id;
}

Result<sync::EntityId> Workflow::add_service(const sync::EntityId& case_id,
                                             const FieldInput& fields) {
  TEDUH_TRY(permit(schema::Action::ubah_kasus));
  sync::EntityId service_id = new_entity_id();
  FieldInput all = fields;
  all.emplace_back("case", case_id.hex());
  bool has_date =
      std::any_of(all.begin(), all.end(), [](const auto& f) { return f.first == "date"; });
  if (!has_date) {
    auto today = TEDUH_TRY(office_today(store_));
    all.emplace_back("date", dates::format_iso(today));
  }
  auto c = TEDUH_TRY(store_.entity(case_id));
  if (c && !c->get("status").empty()) all.emplace_back("case_status_seen", c->get("status"));
  auto writes = TEDUH_TRY(validated(store_, service_id, EntityType::layanan, all));
  TEDUH_TRY(write_case_commit(case_id, std::move(writes), "diubah"));
  return service_id;
}

namespace {

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The value a person gave for `field`, "" when none.
std::string given(const FieldInput& fields, std::string_view field) {
  for (const auto& [f, v] : fields) {
    if (f == field) return v;
  }
  return {};
}

// Refuses (Errc::invalid) the first of `required` left blank, naming it as the validator does.
Result<void> require_fields(
    EntityType type, const FieldInput& fields,
    std::initializer_list<std::pair<std::string_view, std::string_view>> required) {
  const auto& spec = schema::entity_spec(type);
  for (const auto& [field, why] : required) {
    if (!blank(given(fields, field))) continue;
    const auto* f = spec.field(field);
    return fail(Errc::invalid, std::string(field) + " (" + std::string(f ? f->label : field) +
                                   "): " + std::string(why));
  }
  return {};
}

// A record of the case plan or monitoring (or the case itself) this device holds, not
// removed; Errc::not_found in Indonesian otherwise.
Result<EntityView> work_record(const Store& store, const sync::EntityId& id, std::string_view type,
                               std::string_view what) {
  auto e = TEDUH_TRY(store.entity(id));
  if (!e || e->type != type || e->deleted()) {
    return fail(Errc::not_found,
                "Tidak ada " + std::string(what) + " dengan id itu di perangkat ini.");
  }
  return std::move(*e);
}

}  // namespace

Result<sync::EntityId> Workflow::add_plan_item(const sync::EntityId& case_id,
                                               const FieldInput& fields) {
  TEDUH_TRY(permit(schema::Action::rencana_pemantauan));
  TEDUH_TRY(work_record(store_, case_id, "kasus", "kasus"));
  for (const auto& [f, v] : fields) {
    if (f == "case" || f == "done_on") {
      return fail(Errc::invalid, f + ": diisi oleh Teduh, tidak dapat diisi saat rencana dibuat.");
    }
  }
  TEDUH_TRY(require_fields(EntityType::rencana, fields,
                           {{"needs", "tulis kebutuhan korban yang hendak dipenuhi."},
                            {"due_date", "tulis target waktu rencana ini (tanggal)."}}));
  const sync::EntityId item_id = new_entity_id();
  FieldInput all = fields;
  all.emplace_back("case", case_id.hex());
  auto writes = TEDUH_TRY(validated(store_, item_id, EntityType::rencana, all));
  TEDUH_TRY(write_case_commit(case_id, std::move(writes), "diubah"));
  return item_id;
}

Result<void> Workflow::complete_plan_item(const sync::EntityId& item_id, std::string_view date) {
  TEDUH_TRY(permit(schema::Action::rencana_pemantauan));
  auto item = TEDUH_TRY(work_record(store_, item_id, "rencana", "rencana intervensi"));
  std::string day(date);
  if (blank(day)) day = dates::format_iso(TEDUH_TRY(office_today(store_)));
  auto writes = TEDUH_TRY(validated(store_, item_id, EntityType::rencana, {{"done_on", day}}));
  return write_case_commit(item.scope, std::move(writes), "diubah");
}

Result<sync::EntityId> Workflow::schedule_visit(const sync::EntityId& case_id,
                                                std::string_view scheduled_on,
                                                std::string_view kind, std::string_view officer) {
  TEDUH_TRY(permit(schema::Action::rencana_pemantauan));
  auto c = TEDUH_TRY(work_record(store_, case_id, "kasus", "kasus"));
  if (blank(scheduled_on)) {
    return fail(Errc::invalid, "scheduled_on (Jadwal pemantauan): tulis tanggal pemantauan.");
  }
  FieldInput fields{
      {"case", case_id.hex()},
      {"scheduled_on", std::string(scheduled_on)},
      {"kind", blank(kind)
                   ? (c.get("status") == "terminasi" ? "evaluasi_pascaterminasi" : "berkala")
                   : std::string(kind)}};
  if (!blank(officer)) fields.emplace_back("officer", std::string(officer));
  const sync::EntityId visit_id = new_entity_id();
  auto writes = TEDUH_TRY(validated(store_, visit_id, EntityType::pemantauan, fields));
  TEDUH_TRY(write_case_commit(case_id, std::move(writes), "diubah"));
  return visit_id;
}

Result<sync::EntityId> Workflow::record_visit(const sync::EntityId& case_id,
                                              const std::optional<sync::EntityId>& visit_id,
                                              std::string_view date, std::string_view result,
                                              std::string_view officer) {
  TEDUH_TRY(permit(schema::Action::rencana_pemantauan));
  auto c = TEDUH_TRY(work_record(store_, case_id, "kasus", "kasus"));
  if (blank(result))
    return fail(Errc::invalid, "result (Hasil pemantauan): tulis hasil pemantauan.");
  std::string day(date);
  if (blank(day)) day = dates::format_iso(TEDUH_TRY(office_today(store_)));
  FieldInput fields{{"visited_on", day}, {"result", std::string(result)}};
  if (!blank(officer)) fields.emplace_back("officer", std::string(officer));
  sync::EntityId id = visit_id.value_or(new_entity_id());
  if (visit_id) {
    auto visit = TEDUH_TRY(work_record(store_, *visit_id, "pemantauan", "jadwal pemantauan"));
    if (visit.scope != case_id) {
      return fail(Errc::not_found, "Jadwal pemantauan itu bukan milik kasus ini.");
    }
  } else {
    // A visit made without a schedule: it is its own schedule.
    fields.emplace_back("case", case_id.hex());
    fields.emplace_back("scheduled_on", day);
    fields.emplace_back("kind",
                        c.get("status") == "terminasi" ? "evaluasi_pascaterminasi" : "berkala");
  }
  auto writes = TEDUH_TRY(validated(store_, id, EntityType::pemantauan, fields));
  TEDUH_TRY(write_case_commit(case_id, std::move(writes), "diubah"));
  return id;
}

Result<sync::EntityId> Workflow::record_diversion(const sync::EntityId& case_id,
                                                  const FieldInput& fields) {
  TEDUH_TRY(permit(schema::Action::rencana_pemantauan));
  TEDUH_TRY(work_record(store_, case_id, "kasus", "kasus"));
  TEDUH_TRY(require_fields(EntityType::diversi, fields,
                           {{"agreed_on", "tulis tanggal musyawarah diversi."},
                            {"place", "tulis tempat musyawarah diversi."},
                            {"parties", "tulis pihak yang hadir dalam musyawarah diversi."},
                            {"outcome", "tulis hasil diversi: sepakat atau tidak_sepakat."}}));
  if (!given(fields, "case").empty()) {
    return fail(Errc::invalid, "case: diisi oleh Teduh, tidak dapat diisi dengan tangan.");
  }
  const std::string child = given(fields, "child");
  if (!blank(child)) {
    auto child_id = sync::Id128::from_hex(child);
    auto person = child_id ? TEDUH_TRY(store_.entity(*child_id)) : std::nullopt;
    if (!person || person->type != "orang" || person->scope != case_id || person->deleted()) {
      return fail(Errc::invalid,
                  "child (Anak (terlapor)): tidak ada orang dengan id itu di kasus ini.");
    }
  }
  const sync::EntityId diversion_id = new_entity_id();
  FieldInput all = fields;
  all.emplace_back("case", case_id.hex());
  auto writes = TEDUH_TRY(validated(store_, diversion_id, EntityType::diversi, all));
  TEDUH_TRY(write_case_commit(case_id, std::move(writes), "diubah"));
  return diversion_id;
}

Result<sync::EntityId> Workflow::refer(const sync::EntityId& case_id, std::string_view to_office,
                                       std::string_view reason, bool consent,
                                       std::string_view consent_by, bool external) {
  TEDUH_TRY(permit(schema::Action::rujuk));
  // What `teduh refer` requires (--to, --reason), required of every caller.
  if (to_office.find_first_not_of(" \t\n") == std::string_view::npos) {
    return fail(Errc::invalid,
                external
                    ? "to_external (Lembaga tujuan di luar Teduh): tulis lembaga tujuan rujukan."
                    : "to_office (Kantor tujuan rujukan): tulis kantor tujuan rujukan.");
  }
  if (reason.find_first_not_of(" \t\n") == std::string_view::npos) {
    return fail(Errc::invalid, "reason (Alasan rujukan): rujukan dikirim dengan alasannya.");
  }
  if (!consent) {
    return fail(Errc::refused,
                "A referral needs the victim's consent naming the receiving office; "
                "nothing was recorded (use --consent yes once consent is given).");
  }
  if (!external) {
    TEDUH_TRY(known_office(to_office));
  }
  sync::EntityId consent_id = new_entity_id();
  sync::EntityId referral_id = new_entity_id();
  std::string now = now_text();
  auto consent_writes =
      validated(store_, consent_id, EntityType::persetujuan,
                {{"case", case_id.hex()},
                 {"given_by", std::string(consent_by.empty() ? "korban" : consent_by)},
                 {"scope", "rujukan"},
                 {"scope_office", std::string(to_office)},
                 {"recorded_how", "dicatat petugas"},
                 {"given_at", now}});
  if (!consent_writes) return tl::unexpected(consent_writes.error());
  FieldInput referral{{"case", case_id.hex()},
                      {"from_office", store_.identity().grant.office_code},
                      {"reason", std::string(reason)},
                      {"consent", consent_id.hex()},
                      {"status", "dikirim"}};
  referral.emplace_back(external ? "to_external" : "to_office", std::string(to_office));
  auto referral_writes = TEDUH_TRY(validated(store_, referral_id, EntityType::rujukan, referral));
  consent_writes->insert(consent_writes->end(), referral_writes.begin(), referral_writes.end());
  TEDUH_TRY(write_case_commit(case_id, std::move(*consent_writes), "dirujuk"));
  return referral_id;
}

Result<sync::Commit> Workflow::commit_write(const sync::EntityId& scope, std::string_view scope_type,
                                            std::vector<FieldWrite> writes) {
  return store_.write(scope, scope_type, std::move(writes),
                      [this](const sync::Commit& c) { return check_commit(c); });
}

Result<void> Workflow::check_commit(const sync::Commit& commit) const {
  const auto& grant = store_.identity().grant;
  auto held = TEDUH_TRY(store_.entity(commit.scope));
  const bool scope_is_new = !held.has_value();
  // Clearance is the enrollment grant and the key the administrator's clearance brings,
  // as the server judges it (PERMISSIONS.md section 3).
  bool has_key = false;
  if (grant.shelter_clearance) {
    auto generation = TEDUH_TRY(current_generation(store_, kShelterCompartment));
    has_key = generation.has_value();
  }
  const bool cleared = grant.shelter_clearance && has_key;
  // A record the server refused exists on this device only: a later change to it would
  // reach every other replica as a fragment of a record they never had.
  std::set<sync::EntityId> checked;
  for (const sync::Version& v : commit.versions) {
    if (!checked.insert(v.entity).second) continue;
    auto refused_only = TEDUH_TRY(store_.written_only_by_refused(v.entity));
    if (refused_only) {
      return fail(Errc::refused,
                  "Tidak dicatat: catatan ini sudah ditolak server, jadi tidak dapat diubah lagi. "
                  "Lihat alasannya di `teduh case show`, lalu catat ulang bila perlu.");
    }
  }
  if (auto why = sync::write_refusal(commit, scope_is_new, grant.role, grant.office_kind, cleared)) {
    if (grant.shelter_clearance && !has_key &&
        !sync::write_refusal(commit, scope_is_new, grant.role, grant.office_kind, true)) {
      return fail(Errc::refused, std::string(kNoShelterKeyYet));
    }
    return fail(Errc::refused, "Not written: " + *why);
  }
  return {};
}

Result<void> Workflow::permit(schema::Action action) const {
  const auto& grant = store_.identity().grant;
  if (auto why = schema::refusal(grant.role, grant.office_kind, grant.shelter_clearance, action)) {
    return fail(Errc::refused, *why);
  }
  return {};
}

namespace {

// Edit distance between two office codes, letters compared without case.
std::size_t code_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      const std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

}  // namespace

Result<void> Workflow::known_office(std::string_view code) const {
  auto offices = TEDUH_TRY(store_.directory_offices());
  if (!offices) return {};  // never synced: the server decides
  std::vector<std::pair<std::size_t, std::string>> near;
  for (const DirectoryOffice& o : *offices) {
    if (o.code == code) return {};
    near.emplace_back(code_distance(code, o.code), o.code);
  }
  std::sort(near.begin(), near.end());
  std::string hint;
  for (std::size_t i = 0; i < near.size() && i < 3; ++i) hint += (i ? ", " : "") + near[i].second;
  return fail(Errc::invalid,
              "Kantor '" + std::string(code) + "' tidak dikenal: kode itu tidak ada dalam daftar kantor dari server" +
                  (hint.empty() ? std::string() : " (kode terdekat: " + hint + ")") +
                  ". Tidak ada yang dicatat. Jika kantor itu baru didaftarkan, jalankan `teduh sync` lalu coba lagi.");
}

Result<EntityView> Workflow::case_record(const sync::EntityId& id, std::string_view type,
                                         std::string_view what) const {
  auto e = TEDUH_TRY(store_.entity(id));
  if (!e || e->type != type || e->deleted()) {
    return fail(Errc::not_found, "No " + std::string(what) + " with that id on this device.");
  }
  return std::move(*e);
}

Result<void> Workflow::respond_referral(const sync::EntityId& referral_id, bool accept) {
  TEDUH_TRY(permit(schema::Action::jawab_rujukan));
  auto r = TEDUH_TRY(case_record(referral_id, "rujukan", "referral"));
  if (r.get("to_office") != store_.identity().grant.office_code) {
    return fail(Errc::refused, "Only the office the case was referred to can accept or decline it.");
  }
  if (r.get("status") != "dikirim" && r.get("status") != "diterima") {
    return fail(Errc::refused, "This referral has already been declined or ended.");
  }
  return write_case_commit(r.scope,
                           {write_of(referral_id, EntityType::rujukan, "status", accept ? "diterima" : "ditolak")},
                           "diubah");
}

Result<void> Workflow::record_partner_answer(const sync::EntityId& referral_id, std::string_view status,
                                             std::string_view date, std::string_view notes) {
  if (status != "diterima" && status != "ditolak" && status != "selesai") {
    return fail(Errc::usage, "Jawaban mitra adalah salah satu dari: diterima, ditolak, selesai.");
  }
  // The same actions the commit check classifies these writes as (write_rules.cpp).
  TEDUH_TRY(permit(status == "selesai" ? schema::Action::tarik_persetujuan : schema::Action::jawab_rujukan));
  auto r = TEDUH_TRY(case_record(referral_id, "rujukan", "referral"));
  if (!r.get("to_office").empty() || r.get("to_external").empty()) {
    return fail(Errc::refused,
                "Rujukan ini ditujukan ke kantor yang memakai Teduh: kantor itu sendiri yang menerima atau "
                "menolaknya (teduh referral accept/decline). Jawaban mitra hanya dicatat untuk rujukan ke "
                "lembaga di luar Teduh.");
  }
  const std::string& office = store_.identity().grant.office_code;
  if (r.get("from_office") != office) {
    return fail(Errc::refused, "Jawaban mitra atas rujukan ini hanya dicatat oleh kantor yang mengirimnya (" +
                                   r.get("from_office") + "). Tidak ada yang dicatat.");
  }
  const std::string& current = r.get("status");
  if (current == "ditolak" || current == "selesai") {
    return fail(Errc::refused, "Rujukan ini sudah " + current + "; jawabannya tidak diubah lagi.");
  }
  if (current == status) return fail(Errc::refused, "Rujukan ini sudah berstatus " + current + ".");
  std::string day(date);
  if (day.empty()) day = dates::format_iso(TEDUH_TRY(office_today(store_)));
  FieldInput answer{{"status", std::string(status)}, {"answered_on", day}};
  if (!notes.empty()) answer.emplace_back("answer_notes", std::string(notes));
  auto writes = TEDUH_TRY(validated(store_, referral_id, EntityType::rujukan, answer));
  return write_case_commit(r.scope, std::move(writes), "diubah");
}

Result<void> Workflow::end_referral(const sync::EntityId& referral_id) {
  TEDUH_TRY(permit(schema::Action::tarik_persetujuan));
  auto r = TEDUH_TRY(case_record(referral_id, "rujukan", "referral"));
  if (r.get("status") == "selesai") return fail(Errc::refused, "This referral has already ended.");
  return write_case_commit(r.scope, {write_of(referral_id, EntityType::rujukan, "status", "selesai")},
                           "diubah");
}

Result<void> Workflow::withdraw_consent(const sync::EntityId& consent_id) {
  TEDUH_TRY(permit(schema::Action::tarik_persetujuan));
  auto c = TEDUH_TRY(case_record(consent_id, "persetujuan", "consent"));
  if (!c.get("withdrawn_at").empty()) return fail(Errc::refused, "This consent was already withdrawn.");
  return write_case_commit(
      c.scope,
      {write_of(consent_id, EntityType::persetujuan, "withdrawn_at", now_text())},
      "diubah");
}

Result<sync::EntityId> Workflow::transfer(const sync::EntityId& case_id, std::string_view to_office,
                                          bool consent, std::string_view consent_by) {
  TEDUH_TRY(permit(schema::Action::rujuk));
  if (!consent) {
    return fail(Errc::refused,
                "Moving a case to another office needs the victim's consent naming that office; "
                "nothing was recorded (use --consent yes once consent is given).");
  }
  if (to_office == store_.identity().grant.office_code) {
    return fail(Errc::invalid, "The case is already handled by this office.");
  }
  auto kasus = TEDUH_TRY(case_record(case_id, "kasus", "case"));
  if (kasus.get("owner_office") != store_.identity().grant.office_code) {
    return fail(Errc::refused, "Only the office that owns the case may move it to another office.");
  }
  TEDUH_TRY(known_office(to_office));
  sync::EntityId consent_id = new_entity_id();
  sync::EntityId transfer_id = new_entity_id();
  auto writes = TEDUH_TRY(validated(store_, consent_id, EntityType::persetujuan,
                          {{"case", case_id.hex()},
                           {"given_by", std::string(consent_by.empty() ? "korban" : consent_by)},
                           {"scope", "rujukan"},
                           {"scope_office", std::string(to_office)},
                           {"recorded_how", "dicatat petugas"},
                           {"given_at", now_text()}}));
  auto t = TEDUH_TRY(validated(store_, transfer_id, EntityType::alih_kelola,
                     {{"case", case_id.hex()}, {"to_office", std::string(to_office)}, {"status", "diajukan"}}));
  writes.insert(writes.end(), t.begin(), t.end());
  TEDUH_TRY(write_case_commit(case_id, std::move(writes), "dipindahkan"));
  return transfer_id;
}

Result<void> Workflow::respond_transfer(const sync::EntityId& transfer_id, bool accept) {
  TEDUH_TRY(permit(schema::Action::jawab_rujukan));
  auto t = TEDUH_TRY(case_record(transfer_id, "alih_kelola", "transfer"));
  const std::string& office = store_.identity().grant.office_code;
  if (t.get("to_office") != office) {
    return fail(Errc::refused, "Only the office the case is moved to can accept or decline the transfer.");
  }
  if (t.get("status") != "diajukan") return fail(Errc::refused, "This transfer was already answered.");
  std::vector<FieldWrite> writes{
      write_of(transfer_id, EntityType::alih_kelola, "status", accept ? "diterima" : "ditolak")};
  if (accept) writes.push_back(write_of(t.scope, EntityType::kasus, "owner_office", office));
  return write_case_commit(t.scope, std::move(writes), accept ? "dipindahkan" : "diubah");
}

Result<json> Workflow::referrals() const {
  TEDUH_TRY(permit(schema::Action::lihat_kasus));
  json out = json::array();
  for (std::string_view type : {"rujukan", "alih_kelola"}) {
    auto all = TEDUH_TRY(store_.entities(type));
    for (const EntityView& e : all) {
      if (e.deleted()) continue;
      auto c = TEDUH_TRY(store_.entity(e.scope));
      json row;
      row["id"] = e.id.hex();
      row["kind"] = type == "rujukan" ? "rujukan" : "alih_kelola";
      row["case"] = e.scope.hex();
      row["case_number"] = c ? c->get("number") : std::string();
      row["from_office"] = type == "rujukan" ? e.get("from_office") : std::string();
      row["to_office"] = e.get("to_office").empty() ? e.get("to_external") : e.get("to_office");
      row["status"] = e.get("status");
      if (type == "rujukan") {
        row["external"] = e.get("to_office").empty() && !e.get("to_external").empty();
        row["answered_on"] = e.get("answered_on");
      }
      row["consent"] = e.get("consent");
      auto refused = TEDUH_TRY(store_.refusal_for(e.id));
      if (refused) {
        row["status"] = refused_status(*refused);
        row["refused"] = *refused;
      }
      out.push_back(std::move(row));
    }
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return std::tie(a["case_number"], a["id"]) < std::tie(b["case_number"], b["id"]);
  });
  return out;
}

Result<json> Workflow::waiting_answers() const {
  auto all = TEDUH_TRY(referrals());
  const std::string& office = store_.identity().grant.office_code;
  json out = json::array();
  for (auto& row : all) {
    const std::string status = row.value("status", "");
    if (status != "dikirim" && status != "diajukan") continue;
    row["arah"] = row.value("to_office", "") == office ? "masuk" : "keluar";
    out.push_back(std::move(row));
  }
  return out;
}

Result<std::vector<sync::EntityId>> Workflow::merged_into(const sync::EntityId& case_id) const {
  auto cases = TEDUH_TRY(store_.entities("kasus"));
  std::vector<sync::EntityId> out;
  std::vector<sync::EntityId> frontier{case_id};
  // Follows chains (A merged into B merged into C) without looping on a cycle.
  std::set<sync::EntityId> seen{case_id};
  while (!frontier.empty()) {
    const std::string target = frontier.back().hex();
    frontier.pop_back();
    for (const auto& c : cases) {
      if (c.deleted() || c.get("merged_into") != target || seen.contains(c.id)) continue;
      seen.insert(c.id);
      out.push_back(c.id);
      frontier.push_back(c.id);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<void> Workflow::merge_cases(const sync::EntityId& keep, const sync::EntityId& other) {
  TEDUH_TRY(permit(schema::Action::ubah_kasus));
  if (keep == other) return fail(Errc::invalid, "A case cannot be merged into itself.");
  auto k = TEDUH_TRY(store_.entity(keep));
  auto o = TEDUH_TRY(store_.entity(other));
  if (!k || k->type != "kasus" || !o || o->type != "kasus") {
    return fail(Errc::not_found, "Both cases must be on this device (this office may write both).");
  }
  if (!k->get("merged_into").empty()) {
    return fail(Errc::refused, "The case to keep was itself merged into another case; keep that one.");
  }
  if (!o->get("merged_into").empty()) {
    return fail(Errc::refused, "That case was already merged into another case.");
  }
  auto chain = TEDUH_TRY(merged_into(other));
  if (std::find(chain.begin(), chain.end(), keep) != chain.end()) {
    return fail(Errc::refused, "The case to keep is already merged into the other one.");
  }
  // One commit per scope (a commit writes one scope): the merged case points at the kept
  // one; the kept case records the merge in its audit trail. Both in one transaction.
  return store_.in_transaction([&]() -> Result<void> {
    auto r = write_case_commit(other, {write_of(other, EntityType::kasus, "merged_into", keep.hex())}, "diubah");
    if (!r) return r;
    TEDUH_TRY(commit_write(keep, "kasus", audit_event(other, "diubah")));
    return {};
  });
}

Result<json> Workflow::same_victim(const FieldInput& victim_fields) const {
  // The rule is similar_victims(); this is its rows as the case list shows them.
  auto similar = TEDUH_TRY(similar_victims(victim_fields));
  json rows = json::array();
  if (similar.empty()) return json{{"cases", rows}};
  std::map<std::string, std::string> signal_of;
  for (const SimilarCase& c : similar) signal_of.emplace(c.case_id, c.signal);
  auto doc = TEDUH_TRY(list_cases());
  for (auto& row : doc["cases"]) {
    auto found = signal_of.find(row.value("id", ""));
    if (found == signal_of.end()) continue;
    row["signal"] = found->second;
    rows.push_back(std::move(row));
  }
  return json{{"cases", rows}};
}

Result<json> Workflow::duplicates() const {
  const bool central = store_.identity().grant.office_kind == "pusat";
  if (auto allowed = permit(central ? schema::Action::laporan : schema::Action::lihat_kasus); !allowed) {
    return tl::unexpected(allowed.error());
  }
  // One row per case: its id, office, merged_into, and the two match keys.
  struct Row {
    std::string id, office, number, merged_into, strong, weak;
  };
  std::vector<Row> rows;
  if (central) {
    auto bodies = TEDUH_TRY(store_.projection_bodies());
    for (const std::string& body : bodies) {
      json p = json::parse(body, nullptr, false);
      if (p.is_discarded() || !p.is_object()) return fail(Errc::damaged, "A stored projection is unreadable.");
      rows.push_back({p.value("case", ""), p.value("office", ""), "", p.value("merged_into", ""),
                      p["match"].value("nik", ""), p["match"].value("name_birth", "")});
    }
  } else {
    auto cases = TEDUH_TRY(store_.entities("kasus"));
    for (const auto& c : cases) {
      if (c.deleted()) continue;
      auto victim = TEDUH_TRY(victim_of(c.id));
      Row r{c.id.hex(), c.get("owner_office"), c.get("number"), c.get("merged_into"), "", ""};
      if (victim) {
        r.strong = schema::normalize_nik(victim->get("nik"));
        r.weak = schema::name_birth_key(victim->get("name"), victim->get("birth_date"));
      }
      rows.push_back(std::move(r));
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.id < b.id; });
  std::map<std::string, std::vector<const Row*>> by_strong, by_weak;
  for (const Row& r : rows) {
    if (!r.strong.empty()) by_strong[r.strong].push_back(&r);
    if (!r.weak.empty()) by_weak[r.weak].push_back(&r);
  }
  std::set<std::pair<std::string, std::string>> paired;
  json pairs = json::array();
  auto emit = [&](const std::map<std::string, std::vector<const Row*>>& groups, const char* signal) {
    for (const auto& [key, group] : groups) {
      for (std::size_t i = 0; i < group.size(); ++i) {
        for (std::size_t j = i + 1; j < group.size(); ++j) {
          const Row& a = *group[i];
          const Row& b = *group[j];
          if (a.merged_into == b.id || b.merged_into == a.id) continue;  // already one case
          if (!paired.insert({a.id, b.id}).second) continue;
          json row{{"cases", {a.id, b.id}}, {"offices", {a.office, b.office}}, {"signal", signal}};
          if (!central) row["numbers"] = {a.number, b.number};
          pairs.push_back(std::move(row));
        }
      }
    }
  };
  emit(by_strong, "nik");
  emit(by_weak, "nama_tanggal_lahir");
  std::sort(pairs.begin(), pairs.end(), [](const json& a, const json& b) { return a["cases"] < b["cases"]; });
  return json{{"pairs", pairs}, {"source", central ? "proyeksi" : "kasus_lokal"}};
}

Result<sync::EntityId> Workflow::add_shelter(const FieldInput& fields) {
  TEDUH_TRY(permit(schema::Action::kelola_rumah_aman));
  sync::EntityId shelter_id = new_entity_id();
  const auto& spec = schema::entity_spec(EntityType::rumah_aman);
  std::vector<FieldWrite> writes;
  for (const auto& [field, text] : fields) {
    auto f = spec.field(field);
    if (!f) return fail(Errc::invalid, "'" + field + "' is not a field of a shelter.");
    if (!f->secret) {
      auto canonical = schema::validate_field(EntityType::rumah_aman, field, text);
      if (!canonical) return tl::unexpected(invalid(canonical.error()));
      writes.push_back(write_of(shelter_id, EntityType::rumah_aman, field, std::move(*canonical)));
    }
  }
  return store_.in_transaction([&]() -> Result<sync::EntityId> {
    for (const auto& [field, text] : fields) {
      if (!spec.field(field)->secret) continue;
      // Shelter details are encrypted here, before they enter a commit (DESIGN.md section 5).
      auto sealed =
          seal_secret_field(store_, kShelterCompartment, "rumah_aman", field, shelter_id, text);
      if (!sealed) return tl::unexpected(sealed.error());
      writes.push_back(write_of(shelter_id, EntityType::rumah_aman, field, std::move(*sealed)));
    }
    bool named = std::any_of(writes.begin(), writes.end(),
                             [](const FieldWrite& w) { return w.field == "code_name"; });
    if (!named) {
      auto n = TEDUH_TRY(store_.next_counter("shelter"));
      char buf[32];
      std::snprintf(buf, sizeof buf, "RA-%s-%02lld",
                    store_.identity().device.hex().substr(0, 4).c_str(),
                    static_cast<long long>(n));
      writes.push_back(write_of(shelter_id, EntityType::rumah_aman, "code_name", buf));
    }
    TEDUH_TRY(commit_write(shelter_id, "rumah_aman", std::move(writes)));
    return shelter_id;
  });
}

Result<json> Workflow::list_shelters() const {
  auto shelters = TEDUH_TRY(store_.entities("rumah_aman"));
  json rows = json::array();
  for (const auto& s : shelters) {
    if (s.deleted()) continue;
    json row{{"id", s.id.hex()}, {"code_name", s.get("code_name")}};
    for (std::string_view field : {"name", "address", "phone", "contact"}) {
      if (s.get(field).empty()) continue;
      row[std::string(field)] = shelter_field_for_display(s, field);
    }
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(),
            [](const json& a, const json& b) { return a["code_name"] < b["code_name"]; });
  return json{{"shelters", rows}};
}

Result<sync::EntityId> Workflow::find_shelter(std::string_view id_or_code) const {
  auto found = TEDUH_TRY(find_named(store_, "rumah_aman", "code_name", id_or_code));
  if (found) return *found;
  return fail(Errc::not_found,
              "No shelter with id or code name '" + std::string(id_or_code) + "'.");
}

Result<sync::EntityId> Workflow::place(const sync::EntityId& case_id,
                                       const sync::EntityId& shelter_id,
                                       std::string_view admitted_at) {
  TEDUH_TRY(permit(schema::Action::tempatkan));
  dates::Instant admitted = dates::from_unix_ms(static_cast<std::int64_t>(sync::system_now_ms()));
  if (!admitted_at.empty()) {
    // A date alone is the start of the office's day; a time without a zone is the office's.
    auto rules = TEDUH_TRY(deadline_rules(store_));
    auto parsed = dates::parse_date_or_datetime(admitted_at, dates::utc_offset(rules.zone));
    if (!parsed)
      return fail(Errc::invalid, "admitted_at (Waktu masuk rumah aman): " + parsed.error().message);
    admitted = *parsed;
  }
  sync::EntityId stay_id = new_entity_id();
  std::string admitted_text = dates::format_utc(admitted);
  // SOP: a shelter stay lasts at most 7 days unless extended (DESIGN.md section 3): until
  // the end of the office's day of admission + 7 days.
  auto admitted_day = TEDUH_TRY(office_day(store_, admitted));
  const std::string planned_exit =
      dates::format_iso(std::chrono::sys_days{admitted_day} + std::chrono::days{7});
  auto writes = TEDUH_TRY(validated(store_, stay_id, EntityType::penempatan,
                          {{"case", case_id.hex()},
                           {"shelter", shelter_id.hex()},
                           {"admitted_at", admitted_text},
                           {"planned_exit", planned_exit}}));
  sync::EntityId service_id = new_entity_id();
  FieldInput service_fields{
      {"case", case_id.hex()}, {"kind", "rumah_aman"}, {"date", dates::format_iso(admitted_day)}};
  auto kasus = TEDUH_TRY(store_.entity(case_id));
  if (kasus && !kasus->get("status").empty())
    service_fields.emplace_back("case_status_seen", kasus->get("status"));
  auto service = TEDUH_TRY(validated(store_, service_id, EntityType::layanan, service_fields));
  writes.insert(writes.end(), service.begin(), service.end());
  TEDUH_TRY(write_case_commit(case_id, std::move(writes), "diubah"));
  return stay_id;
}

std::pair<std::string, std::string> Workflow::author_of(const sync::VersionId& id) const {
  auto st = schema::Statement::prepare(
      store_.db(),
      "SELECT v.entity FROM versions v JOIN entities e ON e.id = v.entity "
      "WHERE v.device = ?1 AND v.seq = ?2 AND e.type = 'audit' LIMIT 1");
  if (!st) return {};
  st->bind_blob(1, id.device.bytes).bind(2, static_cast<std::int64_t>(id.seq));
  auto row = st->step();
  if (!row || !*row) return {};
  auto blob = st->column_blob(0);
  sync::EntityId audit_id;
  if (blob.size() != audit_id.bytes.size()) return {};
  std::copy(blob.begin(), blob.end(), audit_id.bytes.begin());
  auto e = store_.entity(audit_id);
  if (!e || !*e) return {};
  return {(*e)->get("user"), (*e)->get("office")};
}

Result<json> Workflow::conflicts() const {
  TEDUH_TRY(permit(schema::Action::lihat_kasus));
  auto fields = TEDUH_TRY(store_.conflicted_fields());
  json rows = json::array();
  auto describe = [&](const sync::VersionId& id, const std::string& value, sync::Hlc hlc,
                      bool shown) {
    auto [user, office] = author_of(id);
    return json{{"value", value},
                {"device", id.device.hex()},
                {"user", user},
                {"office", office},
                {"version",
                 id.device.hex() + ":" + std::to_string(id.seq) + ":" + std::to_string(id.index)},
                {"at", utc_text(sync::hlc_wall_ms(hlc))},
                {"shown", shown}};
  };
  for (const auto& [entity_id, field] : fields) {
    auto e = TEDUH_TRY(store_.entity(entity_id));
    if (!e) continue;
    auto spec = schema::find_entity_spec(e->type);
    auto fspec = spec ? spec->field(field) : nullptr;
    auto live = TEDUH_TRY(store_.live_versions(entity_id, field));
    json values = json::array();
    for (std::size_t i = 0; i < live.size(); ++i) {
      const auto& v = live[i];
      values.push_back(describe(v.id, v.value, v.hlc, i == 0));
    }
    // The case this field belongs to: the entity's scope.
    auto c = store_.entity(e->scope);
    std::string number = (c && *c) ? (*c)->get("number") : "";
    rows.push_back(json{{"case", e->scope.hex()},
                        {"number", number},
                        {"entity", entity_id.hex()},
                        {"entity_type", e->type},
                        {"field", field},
                        {"label", fspec ? std::string(fspec->label) : field},
                        {"rule", e->deleted() ? "edited_while_removed" : "concurrent_edits"},
                        {"values", values}});
  }
  // Domain rule: a case closed on one replica while another recorded a service.
  auto cases = TEDUH_TRY(store_.entities("kasus"));
  for (const auto& c : cases) {
    if (c.get("status") != "terminasi") continue;
    auto unseen = TEDUH_TRY(services_not_seeing_closure(c.id));
    const std::string& seen_text = c.get("closed_services_seen");
    std::int64_t seen = seen_text.empty() ? 0 : std::stoll(seen_text);
    if (unseen <= seen) continue;
    auto live = TEDUH_TRY(store_.live_versions(c.id, "status"));
    json values = json::array();
    for (std::size_t i = 0; i < live.size(); ++i) {
      values.push_back(describe(live[i].id, live[i].value, live[i].hlc, i == 0));
    }
    rows.push_back(json{{"case", c.id.hex()},
                        {"number", c.get("number")},
                        {"entity", c.id.hex()},
                        {"entity_type", "kasus"},
                        {"field", "status"},
                        {"label", "Status kasus"},
                        {"rule", "closed_while_service_recorded"},
                        {"values", values}});
  }
  return json{{"conflicts", rows}};
}

Result<void> Workflow::resolve(const sync::EntityId& case_id, std::string_view field,
                               std::string_view value, std::string_view keep_version) {
  TEDUH_TRY(permit(schema::Action::selesaikan_konflik));
  std::string target_field(field);
  sync::EntityId entity = case_id;
  EntityType type = EntityType::kasus;
  auto dot = target_field.find('.');
  if (target_field.rfind("korban.", 0) == 0) {
    auto victim = TEDUH_TRY(victim_of(case_id));
    if (!victim) return fail(Errc::not_found, "This case has no victim recorded.");
    entity = victim->id;
    type = EntityType::orang;
    target_field = target_field.substr(7);
  } else if (dot != std::string::npos) {
    auto id = sync::Id128::from_hex(target_field.substr(0, dot));
    if (!id) return fail(Errc::usage, "'" + target_field.substr(0, dot) + "' is not an entity id.");
    auto e = TEDUH_TRY(store_.entity(*id));
    if (!e || e->scope != case_id) return fail(Errc::not_found, "No such entity in this case.");
    auto spec = schema::find_entity_spec(e->type);
    if (!spec) return fail(Errc::invalid, "Unknown entity type.");
    entity = *id;
    type = spec->type;
    target_field = target_field.substr(dot + 1);
  }
  std::string chosen(value);
  if (!keep_version.empty()) {
    auto live = TEDUH_TRY(store_.live_versions(entity, target_field));
    auto it = std::find_if(live.begin(), live.end(), [&](const LiveVersion& v) {
      return v.id.device.hex() + ":" + std::to_string(v.id.seq) + ":" +
                 std::to_string(v.id.index) ==
             keep_version;
    });
    if (it == live.end()) {
      return fail(Errc::not_found, "Version " + std::string(keep_version) +
                                       " is not a live version of " + target_field +
                                       " (see `teduh conflicts`).");
    }
    chosen = it->value;
  }
  std::vector<FieldWrite> writes;
  if (target_field == schema::kDeletedField) {
    if (chosen != "0" && chosen != "1")
      return fail(Errc::invalid, "_deleted takes 0 (keep) or 1 (removed).");
    writes.push_back(write_of(entity, type, target_field, chosen));
  } else {
    auto w = TEDUH_TRY(validated(store_, entity, type, {{target_field, chosen}}, Past::allow));
    writes = std::move(w);
  }
  if (entity == case_id && target_field == "status") {
    // Settling the status also records the services seen, which settles the domain rule.
    auto seen = TEDUH_TRY(services_not_seeing_closure(case_id));
    writes.push_back(
        write_of(case_id, EntityType::kasus, "closed_services_seen", std::to_string(seen)));
  }
  // The write supersedes every live version of the field: that is what settles it.
  return write_case_commit(case_id, std::move(writes), "diubah");
}

Result<void> Workflow::remove_entity(const sync::EntityId& case_id,
                                     const sync::EntityId& entity_id) {
  TEDUH_TRY(permit(schema::Action::ubah_kasus));
  auto e = TEDUH_TRY(store_.entity(entity_id));
  if (!e || e->scope != case_id || entity_id == case_id) {
    return fail(Errc::not_found, "No such person, role or record in this case.");
  }
  auto spec = schema::find_entity_spec(e->type);
  if (!spec || spec->append_only) {
    return fail(Errc::refused,
                "Services and audit events are never removed; record a correction instead.");
  }
  std::vector<FieldWrite> writes{write_of(entity_id, spec->type, schema::kDeletedField, "1")};
  // Re-assert every field as this device sees it: an edit made elsewhere at the same time
  // then has a live sibling and is listed as a conflict on the removed entity.
  for (const auto& [field, fv] : e->fields) {
    if (field != schema::kDeletedField)
      writes.push_back(write_of(entity_id, spec->type, field, fv.value));
  }
  return write_case_commit(case_id, std::move(writes), "diubah");
}

Result<sync::EntityId> Workflow::find_in_case(const sync::EntityId& case_id,
                                              std::string_view code) const {
  const std::string_view given = trimmed(code);
  const std::string want = lowered(given);
  if (!id_digits(want, 4)) {
    return fail(Errc::usage,
                "'" + std::string(given) +
                    "' bukan kode orang atau catatan: tulis kode yang tampil di `teduh case show` "
                    "(paling sedikit 4 digit heksadesimal).");
  }
  std::vector<sync::EntityId> matches;
  for (const schema::EntitySpec& spec : schema::all_entity_specs()) {
    if (spec.scope != schema::ScopeKind::kasus || spec.type == schema::EntityType::kasus ||
        spec.type == schema::EntityType::audit)
      continue;
    auto rows = TEDUH_TRY(store_.entities(spec.name, &case_id));
    for (const EntityView& e : rows) {
      if (!e.deleted() && e.id.hex().ends_with(want)) matches.push_back(e.id);
    }
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) {
    return fail(Errc::not_found, "Tidak ada orang atau catatan berkode '" + std::string(given) +
                                     "' di kasus ini; kodenya tampil di `teduh case show`.");
  }
  std::string listed;
  for (std::size_t i = 0; i < matches.size() && i < 5; ++i)
    listed += (i ? ", " : "") + matches[i].hex().substr(20);
  return fail(Errc::usage, "Kode '" + std::string(given) + "' cocok dengan " +
                               std::to_string(matches.size()) + " catatan (" + listed +
                               (matches.size() > 5 ? ", ..." : "") +
                               "); tulis lebih banyak digit.");
}

Result<json> Workflow::history(const sync::EntityId& case_id) {
  TEDUH_TRY(permit(schema::Action::lihat_kasus));
  auto merged = TEDUH_TRY(merged_into(case_id));
  auto entries = TEDUH_TRY(store_.history(case_id));
  for (const auto& m : merged) {
    auto more = TEDUH_TRY(store_.history(m));
    entries.insert(entries.end(), more.begin(), more.end());
  }
  json rows = json::array();
  for (const auto& h : entries) {
    if (h.entity_type == "audit") continue;
    rows.push_back(json{{"entity", h.entity.hex()},
                        {"entity_type", h.entity_type},
                        {"field", h.field},
                        {"value", h.value},
                        {"at", utc_text(sync::hlc_wall_ms(h.hlc))},
                        {"device", h.id.device.hex()},
                        {"version", h.id.device.hex() + ":" + std::to_string(h.id.seq) + ":" +
                                        std::to_string(h.id.index)},
                        {"live", h.live}});
  }
  // The history shows every value ever written, names included: an audited access.
  TEDUH_TRY(commit_write(case_id, "kasus", audit_event(case_id, "dilihat")));
  return json{{"case", case_id.hex()}, {"versions", rows}};
}

Result<json> Workflow::audit(const std::optional<sync::EntityId>& case_id) const {
  TEDUH_TRY(permit(schema::Action::lihat_audit));
  auto events = TEDUH_TRY(case_id ? store_.entities("audit", &*case_id) : store_.entities("audit"));
  // Events in the order they happened: by the clock of their writes, then id.
  std::vector<const EntityView*> ordered;
  ordered.reserve(events.size());
  for (const auto& e : events) ordered.push_back(&e);
  auto written = [](const EntityView* e) {
    auto it = e->fields.find("action");
    return it == e->fields.end() ? sync::Hlc{0} : it->second.hlc;
  };
  std::sort(ordered.begin(), ordered.end(), [&](const EntityView* a, const EntityView* b) {
    return std::make_pair(written(a), a->id) < std::make_pair(written(b), b->id);
  });
  json rows = json::array();
  for (const EntityView* ep : ordered) {
    const EntityView& e = *ep;
    rows.push_back(json{{"id", e.id.hex()},
                        {"action", e.get("action")},
                        {"case", e.get("entity")},
                        {"device", e.get("device")},
                        {"user", e.get("user")},
                        {"at", e.get("at")}});
  }
  return json{{"events", rows}};
}

namespace {

constexpr std::uint64_t kHourMs = 60ull * 60 * 1000;
constexpr std::uint64_t kDayMs = 24 * kHourMs;
// The evaluation after termination is due for closures recorded from this day on (UTC):
// cases closed before Teduh knew the rule are not reminded of it.
constexpr std::string_view kEvaluationRuleFrom = "2026-12-01T00:00:00Z";

std::optional<std::uint64_t> ms_at(const std::string& utc) {
  auto at = dates::parse_utc(utc);
  if (!at || dates::unix_ms(*at) < 0) return std::nullopt;
  return static_cast<std::uint64_t>(dates::unix_ms(*at));
}

// The end (23:59:59) or the start of a stored day in the office's zone.
std::optional<std::uint64_t> day_ms(const std::string& date, dates::Zone zone, bool end) {
  using namespace std::chrono_literals;
  auto day = dates::parse_iso_date(date);
  if (!day) return std::nullopt;
  const std::int64_t ms =
      dates::unix_ms(dates::local_time(*day, end ? 23h + 59min + 59s : 0s, zone));
  if (ms < 0) return std::nullopt;
  return static_cast<std::uint64_t>(ms);
}

// The records of the case plan and monitoring of every case, by case.
struct CaseWork {
  const EntityView* kasus = nullptr;
  std::vector<const EntityView*> roles, plan, visits, diversions;
};

// The deadlines of the SOPs that need more than CaseFacts (issue 17, items 3 and 5): the
// initial assessment of a woman's case, the plan items, the monitoring visits, the
// evaluation after termination, the diversion. client/README.md "Deadlines".
std::vector<Deadline> case_work_deadlines(
    const CaseFacts& f, const CaseWork& w,
    const std::map<sync::EntityId, const EntityView*>& persons, const DeadlineRules& rules) {
  std::vector<Deadline> out;
  const bool closed = f.status == "terminasi";
  const auto received = ms_at(f.received_at);
  auto live = [](const EntityView* e) { return !e->deleted(); };

  // SOP Bekasi, violence against women: the initial assessment within a day (1x24 hours).
  const bool child_victim =
      f.victim_age_group == "0-5" || f.victim_age_group == "6-12" || f.victim_age_group == "13-17";
  if (!closed && received && f.victim_sex == "P" && !child_victim) {
    Deadline d;
    d.step = "asesmen_awal";
    d.label = "Asesmen awal korban (1x24 jam, SOP kasus kekerasan terhadap perempuan)";
    d.due_ms = *received + kDayMs;
    auto earliest = [&](std::optional<std::uint64_t> at) {
      if (at && (!d.met_ms || *at < *d.met_ms)) d.met_ms = at;
    };
    earliest(ms_at(f.status_changed_at));
    for (const ServiceFact& s : f.services) {
      if (s.kind == "asesmen_awal") earliest(day_ms(s.date, rules.zone, false));
    }
    for (const EntityView* p : w.plan) {  // a plan is made from an assessment
      auto it = p->fields.find("case");
      if (live(p) && it != p->fields.end()) earliest(sync::hlc_wall_ms(it->second.hlc));
    }
    d.met_at_unknown = !d.met_ms && !f.status.empty() && f.status != "diterima";
    out.push_back(std::move(d));
  }

  if (!closed) {
    for (const EntityView* p : w.plan) {
      if (!live(p) || !p->get("done_on").empty()) continue;
      auto due = day_ms(p->get("due_date"), rules.zone, true);
      if (!due) continue;
      Deadline d;
      d.step = "rencana";
      const std::string services = schema::codes_label("jenis_layanan", p->get("services"));
      d.label = "Rencana intervensi" + (services.empty() ? std::string() : ": " + services);
      d.due_ms = *due;
      out.push_back(std::move(d));
    }
    if (w.kasus && std::none_of(w.diversions.begin(), w.diversions.end(), live) &&
        child_case(*w.kasus, w.roles, persons).needs_diversion() && received) {
      Deadline d;
      d.step = "diversi";
      d.label =
          "Diversi: korban di bawah 12 tahun, terlapor anak (SOP Bekasi); catat kesepakatannya";
      d.due_ms = *received + 7 * kDayMs;  // UU 11/2012 pasal 29: diversion tried within 7 days
      out.push_back(std::move(d));
    }
  }

  for (const EntityView* v : w.visits) {
    if (!live(v) || !v->get("visited_on").empty()) continue;
    auto due = day_ms(v->get("scheduled_on"), rules.zone, true);
    if (!due) continue;
    Deadline d;
    d.step = "pemantauan";
    const std::string kind = schema::codes_label("jenis_pemantauan", v->get("kind"));
    d.label = kind.empty() ? "Pemantauan" : kind;
    d.due_ms = *due;
    out.push_back(std::move(d));
  }

  // SOP Bekasi: an evaluation within a month of closing the case (30 days).
  if (closed && w.kasus) {
    auto status = w.kasus->fields.find("status");
    if (status != w.kasus->fields.end()) {
      const std::uint64_t closed_ms = sync::hlc_wall_ms(status->second.hlc);
      if (closed_ms >= ms_at(std::string(kEvaluationRuleFrom)).value_or(0)) {
        Deadline d;
        d.step = "evaluasi_pascaterminasi";
        d.label = "Evaluasi setelah terminasi (1 bulan, SOP Bekasi)";
        d.due_ms = closed_ms + 30 * kDayMs;
        const std::string closed_day = dates::format_iso(dates::local_date(
            dates::from_unix_ms(static_cast<std::int64_t>(closed_ms)), rules.zone));
        for (const EntityView* v : w.visits) {
          if (live(v) && v->get("kind") == "evaluasi_pascaterminasi" &&
              !v->get("visited_on").empty() && v->get("visited_on") >= closed_day) {
            d.met_ms = day_ms(v->get("visited_on"), rules.zone, false);
          }
        }
        out.push_back(std::move(d));
      }
    }
  }
  return out;
}

}  // namespace

Result<json> Workflow::due(std::uint64_t now_ms) const {
  TEDUH_TRY(permit(schema::Action::lihat_kasus));
  // The deadline rules live in report.cpp, shared with the report's compliance figures; the
  // plan, monitoring and diversion deadlines (case_work_deadlines) only here, since the
  // central office's projections do not carry those records.
  auto rules = TEDUH_TRY(deadline_rules(store_));
  const CaseRecords records = TEDUH_TRY(case_records(store_));
  auto facts = TEDUH_TRY(facts_from_records(store_, records));
  const auto& cases = records.cases;
  const auto& roles = records.roles;
  const auto& persons = records.persons;
  const auto plan = TEDUH_TRY(store_.entities("rencana"));
  const auto visits = TEDUH_TRY(store_.entities("pemantauan"));
  const auto diversions = TEDUH_TRY(store_.entities("diversi"));
  std::map<sync::EntityId, CaseWork> work;
  for (const auto& c : cases) work[c.id].kasus = &c;
  for (const auto& r : roles) work[r.scope].roles.push_back(&r);
  for (const auto& p : plan) work[p.scope].plan.push_back(&p);
  for (const auto& v : visits) work[v.scope].visits.push_back(&v);
  for (const auto& d : diversions) work[d.scope].diversions.push_back(&d);
  std::map<sync::EntityId, const EntityView*> person_by_id;
  for (const auto& p : persons) person_by_id[p.id] = &p;
  const CaseWork no_work;

  std::vector<json> rows;
  for (const CaseFacts& c : facts) {
    if (!c.merged_into.empty()) continue;
    auto id = sync::Id128::from_hex(c.id);
    auto it = id ? work.find(*id) : work.end();
    std::vector<Deadline> deadlines;
    if (c.status != "terminasi") deadlines = deadlines_of(c, rules);
    for (Deadline& d :
         case_work_deadlines(c, it == work.end() ? no_work : it->second, person_by_id, rules)) {
      deadlines.push_back(std::move(d));
    }
    for (const Deadline& d : deadlines) {
      if (d.met_ms || d.met_at_unknown) continue;
      std::int64_t remaining = static_cast<std::int64_t>(d.due_ms) - static_cast<std::int64_t>(now_ms);
      rows.push_back(json{{"case", c.id},
                          {"number", c.number},
                          {"step", d.step},
                          {"label", d.label},
                          {"due_at", utc_text(d.due_ms)},
                          {"due_local", dates::format_local(dates::from_unix_ms(static_cast<std::int64_t>(d.due_ms)), rules.zone)},
                          {"late", remaining < 0},
                          {"hours_left", remaining / (std::int64_t{60} * 60 * 1000)}});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    bool la = a["late"], lb = b["late"];
    if (la != lb) return la;
    return std::tie(a["due_at"].get_ref<const std::string&>(),
                    a["case"].get_ref<const std::string&>(),
                    a["step"].get_ref<const std::string&>()) <
           std::tie(b["due_at"].get_ref<const std::string&>(),
                    b["case"].get_ref<const std::string&>(),
                    b["step"].get_ref<const std::string&>());
  });
  return json{{"due", rows}, {"zona_waktu", dates::zone_name(rules.zone)}};
}

Result<Workflow::Attention> Workflow::attention(std::uint64_t now_ms, bool with_deadlines) const {
  Attention out;
  for (const json& row : TEDUH_TRY(waiting_answers())) {
    if (row["arah"] != "masuk") continue;  // sent by this office: the other one answers
    (row["kind"] == "rujukan" ? out.referrals : out.transfers).insert(row["id"].get<std::string>());
  }
  if (with_deadlines) {
    const json deadlines = TEDUH_TRY(due(now_ms));
    out.late = static_cast<std::size_t>(std::count_if(deadlines["due"].begin(), deadlines["due"].end(),
                                                      [](const json& d) { return d["late"].get<bool>(); }));
    for (const json& d : deadlines["due"]) {
      if (d["step"] == "diversi") out.diversions.insert(d["case"].get<std::string>());
    }
  }
  return out;
}

Result<json> Workflow::report(ReportFilter filter, Audience audience) const {
  TEDUH_TRY(permit(schema::Action::laporan));
  TEDUH_TRY(check_filter(filter));
  if (filter.now_ms == 0) filter.now_ms = sync::system_now_ms();
  auto rules = TEDUH_TRY(deadline_rules(store_));
  const auto& grant = store_.identity().grant;
  const bool central = grant.office_kind == "pusat";
  std::vector<CaseFacts> facts;
  if (central) {
    auto bodies = TEDUH_TRY(store_.projection_bodies());
    auto f = TEDUH_TRY(facts_from_projections(bodies));
    facts = std::move(f);
  } else {
    auto f = TEDUH_TRY(facts_from_store(store_));
    // An office reports its own cases; a case referred to it is counted by its owner. A case
    // it recorded and transferred stays in its counts (issue 15.8): while the store holds it
    // (its number begins with the office code), then as the record kept when it left.
    std::set<std::string> held;
    for (auto& c : f) {
      held.insert(c.id);
      const bool recorded_here = c.number.rfind(grant.office_code + "/", 0) == 0;
      if (c.office != grant.office_code && !recorded_here) continue;
      c.office = grant.office_code;
      c.office_kind = grant.office_kind;
      c.region = grant.office_region;
      facts.push_back(std::move(c));
    }
    for (auto& c : TEDUH_TRY(transferred_intakes(store_))) {
      if (!held.contains(c.id)) facts.push_back(std::move(c));
    }
  }
  // The central office's report is over other offices' cases: it has left them.
  if (central) audience = Audience::outside;
  json doc = build_report(facts, filter, rules, audience);
  doc["office"] = grant.office_code;
  doc["source"] = central ? "proyeksi" : "kasus_lokal";
  return doc;
}

Result<std::vector<std::string>> Workflow::offices_in_region(std::string_view region) const {
  TEDUH_TRY(permit(schema::Action::laporan));
  const std::string wanted = schema::region_digits(region);
  std::set<std::string> found;
  const auto& grant = store_.identity().grant;
  if (schema::region_within(grant.office_region, wanted)) found.insert(grant.office_code);
  auto directory = TEDUH_TRY(store_.directory_offices());
  if (directory) {
    for (const DirectoryOffice& o : *directory) {
      if (schema::region_within(o.region, wanted)) found.insert(o.code);
    }
  }
  if (grant.office_kind == "pusat") {
    auto bodies = TEDUH_TRY(store_.projection_bodies());
    for (const CaseFacts& f : TEDUH_TRY(facts_from_projections(bodies))) {
      if (schema::region_within(f.region, wanted)) found.insert(f.office);
    }
  }
  return std::vector<std::string>(found.begin(), found.end());
}

}  // namespace teduh::client
