#include "teduh/client/report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "teduh/client/store.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/codes.hpp"
#include "teduh/schema/facts.hpp"
#include "teduh/schema/region.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh::client {
namespace {

using nlohmann::json;
namespace dates = schema::dates;

constexpr std::uint64_t kDayMs = 24ull * 60 * 60 * 1000;
constexpr int kSmallCell = 5;
constexpr const char* kPrimary = "<5";
constexpr const char* kSecondary = "x";
constexpr const char* kUnknown = "tidak_diketahui";

const char* const kAgeGroups[] = {"0-5",   "6-12",  "13-17", "18-24",
                                  "25-44", "45-59", "60+",   kUnknown};


// Times are milliseconds since the epoch here, as the sync layer counts them; dates.hpp
// does the calendar.
dates::Instant instant_of(std::uint64_t ms) {
  return dates::from_unix_ms(static_cast<std::int64_t>(ms));
}

std::optional<std::uint64_t> ms_of(dates::Instant at) {
  const std::int64_t ms = dates::unix_ms(at);
  if (ms < 0) return std::nullopt;
  return static_cast<std::uint64_t>(ms);
}

// A stored datetime (or date: its 00:00 UTC); nullopt when empty or not canonical.
std::optional<std::uint64_t> ms_of(const std::string& datetime) {
  auto at = dates::parse_utc(datetime);
  if (!at) return std::nullopt;
  return ms_of(*at);
}

// A wall time on a stored date (YYYY-MM-DD) in the office's zone; nullopt if not a date.
std::optional<std::uint64_t> local_ms(std::string_view date, std::chrono::seconds time_of_day,
                                      dates::Zone zone) {
  auto day = dates::parse_iso_date(date);
  if (!day) return std::nullopt;
  return ms_of(dates::local_time(*day, time_of_day, zone));
}

// The office's calendar day of an instant, YYYY-MM-DD.
std::string local_day(std::uint64_t ms, dates::Zone zone) {
  return dates::format_iso(dates::local_date(instant_of(ms), zone));
}

std::string text_of(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Settings

[[nodiscard]] Result<DeadlineRules> deadline_rules(const Store& store) {
  DeadlineRules rules;
  auto sla = TEDUH_TRY(store.meta("config.response_sla"));
  if (sla && *sla == "1_hari_kerja") rules.response = ResponseSla::one_working_day;
  auto zone = store.meta("config.zona_waktu");
  if (!zone) return tl::unexpected(zone.error());
  // A zone other than the three (set_config refuses one) counts as WIB.
  if (*zone) rules.zone = dates::zone_named(**zone).value_or(dates::Zone::wib);
  return rules;
}

[[nodiscard]] Result<void> set_config(Store& store, std::string_view key, std::string_view value) {
  if (key == "response_sla") {
    if (value != "3_hari" && value != "1_hari_kerja") {
      return fail(Errc::usage,
                  "response_sla takes 3_hari (3 days) or 1_hari_kerja (1 working day).");
    }
  } else if (key == "zona_waktu") {
    if (!dates::zone_named(value)) {
      return fail(Errc::usage, "zona_waktu takes WIB, WITA or WIT.");
    }
  } else {
    return fail(Errc::usage, "Unknown setting '" + std::string(key) +
                                 "'; the settings are response_sla and zona_waktu.");
  }
  return store.set_meta("config." + std::string(key), value);
}

[[nodiscard]] Result<json> config_document(const Store& store) {
  auto rules = TEDUH_TRY(deadline_rules(store));
  return json{
      {"response_sla", rules.response == ResponseSla::one_working_day ? "1_hari_kerja" : "3_hari"},
      {"zona_waktu", dates::zone_name(rules.zone)}};
}

// ---------------------------------------------------------------------------------------
// Deadlines

std::vector<Deadline> deadlines_of(const CaseFacts& f, const DeadlineRules& rules) {
  std::vector<Deadline> out;
  using namespace std::chrono_literals;
  const dates::Zone zone = rules.zone;
  auto day_start = [&](const std::string& date) { return local_ms(date, 0s, zone); };
  constexpr auto kEndOfDay = 23h + 59min + 59s;
  const auto received = ms_of(f.received_at);

  // Response to the complaint: 3 days (72 hours), or the end of the next working day.
  if (received) {
    Deadline d;
    d.step = "respons_pengaduan";
    if (rules.response == ResponseSla::one_working_day) {
      d.label = "Respons pengaduan (1 hari kerja)";
      const dates::Date next =
          dates::add_working_days(dates::local_date(instant_of(*received), zone), 1);
      d.due_ms = ms_of(dates::local_time(next, kEndOfDay, zone)).value_or(*received + kDayMs);
    } else {
      d.label = "Respons pengaduan (3 hari)";
      d.due_ms = *received + 3 * kDayMs;
    }
    std::optional<std::uint64_t> met = ms_of(f.status_changed_at);
    for (const auto& s : f.services) {
      // Only a service that answers the complaint (schema::counts_as_response, SCHEMA.md
      // "jenis_layanan"), whenever it was recorded: a first service recorded with the case
      // at intake counts only when it is one of them.
      if (!schema::counts_as_response(s.kind)) continue;
      auto at = day_start(s.date);
      if (at && (!met || *at < *met)) met = at;
    }
    d.met_ms = met;
    // Recorded directly in a later status (an imported register): done, time unknown.
    d.met_at_unknown = !met && !f.status.empty() && f.status != "diterima";
    out.push_back(std::move(d));
  }

  // UU 12/2022 (TPKS): a report to the police within 3x24 hours of the victim's request.
  if (!f.police_report_requested_at.empty()) {
    if (auto asked = ms_of(f.police_report_requested_at)) {
      Deadline d;
      d.step = "laporan_polisi";
      d.label = "Laporan ke kepolisian (3x24 jam, UU TPKS)";
      d.due_ms = *asked + 3 * kDayMs;
      const std::string asked_day = local_day(*asked, zone);
      for (const auto& s : f.services) {
        if (s.kind != "pendampingan_hukum" || s.date < asked_day) continue;
        auto at = day_start(s.date);
        if (at && (!d.met_ms || *at < *d.met_ms)) d.met_ms = std::max(*at, *asked);
      }
      out.push_back(std::move(d));
    }
  }

  // A shelter stay ends at its planned exit (admission + 7 days unless extended).
  for (const auto& stay : f.shelter_stays) {
    Deadline d;
    d.step = "keluar_rumah_aman";
    d.label = "Batas tinggal di rumah aman (7 hari kecuali diperpanjang)";
    std::optional<std::uint64_t> due = local_ms(stay.planned_exit, kEndOfDay, zone);
    if (!due) {
      auto admitted = ms_of(stay.admitted_at);
      if (!admitted) continue;
      due = *admitted + 7 * kDayMs;
    }
    d.due_ms = *due;
    d.met_ms = ms_of(stay.exited_at);
    out.push_back(std::move(d));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Sources

[[nodiscard]] Result<CaseRecords> case_records(const Store& store) {
  CaseRecords r;
  r.cases = TEDUH_TRY(store.entities("kasus"));
  r.roles = TEDUH_TRY(store.entities("peran"));
  r.persons = TEDUH_TRY(store.entities("orang"));
  r.services = TEDUH_TRY(store.entities("layanan"));
  r.stays = TEDUH_TRY(store.entities("penempatan"));
  return r;
}

[[nodiscard]] Result<std::vector<CaseFacts>> facts_from_store(const Store& store) {
  auto records = TEDUH_TRY(case_records(store));
  return facts_from_records(store, records);
}

[[nodiscard]] Result<std::vector<CaseFacts>> facts_from_records(const Store& store, const CaseRecords& records) {
  const auto& cases = records.cases;
  const auto& roles = records.roles;
  const auto& persons = records.persons;
  const auto* services = &records.services;
  const auto& stays = records.stays;

  std::map<sync::EntityId, const EntityView*> person_by_id;
  for (const auto& p : persons) person_by_id[p.id] = &p;
  std::map<sync::EntityId, std::vector<const EntityView*>> roles_of, services_of, stays_of;
  for (const auto& r : roles) {
    if (!r.deleted()) roles_of[r.scope].push_back(&r);
  }
  for (const auto& s : *services) {
    if (!s.deleted()) services_of[s.scope].push_back(&s);
  }
  for (const auto& s : stays) {
    if (!s.deleted()) stays_of[s.scope].push_back(&s);
  }

  // When each case's status first moved past "diterima" after it was recorded: the
  // status versions in clock order; the first one is the recording itself.
  std::map<sync::EntityId, std::string> status_changed;
  {
    auto st = schema::Statement::prepare(
        store.db(),
        "SELECT v.entity, v.value, v.hlc FROM versions v JOIN entities e ON e.id = v.entity "
        "WHERE e.type = 'kasus' AND v.field = 'status' ORDER BY v.entity, v.hlc");
    if (!st) return fail(Errc::internal, "Could not read the case statuses: " + st.error().message);
    sync::EntityId current;
    bool first = true;
    for (;;) {
      auto row = st->step();
      if (!row)
        return fail(Errc::internal, "Could not read the case statuses: " + row.error().message);
      if (!*row) break;
      auto blob = st->column_blob(0);
      sync::EntityId id;
      if (blob.size() != id.bytes.size()) continue;
      std::copy(blob.begin(), blob.end(), id.bytes.begin());
      if (id != current || first) {
        current = id;
        first = false;
        continue;  // the version that recorded the case
      }
      const std::string value = st->column_text(1);
      if (value != "diterima" && !status_changed.contains(id)) {
        status_changed[id] =
            dates::format_utc(instant_of(sync::hlc_wall_ms(static_cast<sync::Hlc>(st->column_int(2)))));
      }
    }
  }

  const auto& grant = store.identity().grant;
  std::vector<CaseFacts> out;
  for (const auto& c : cases) {
    if (c.deleted()) continue;
    CaseFacts f;
    f.id = c.id.hex();
    f.number = c.get("number");
    f.office = c.get("owner_office");
    if (f.office == grant.office_code) {
      f.office_kind = grant.office_kind;
      f.region = grant.office_region;
    }
    f.received_at = c.get("received_at");
    f.channel = c.get("channel");
    f.forms = schema::split_codes(c.get("forms"));
    f.place = c.get("place");
    f.status = c.get("status");
    f.merged_into = c.get("merged_into");
    if (c.get("police_report_requested") == "1") {
      f.police_report_requested_at = c.get("police_report_requested_at").empty()
                                         ? f.received_at
                                         : c.get("police_report_requested_at");
    }
    if (auto it = status_changed.find(c.id); it != status_changed.end())
      f.status_changed_at = it->second;

    // The victim: the first korban role by id, as the server's projection takes it.
    std::vector<const EntityView*> case_roles = roles_of[c.id];
    std::sort(case_roles.begin(), case_roles.end(),
              [](const EntityView* a, const EntityView* b) { return a->id < b->id; });
    std::set<std::string> relationships;
    bool victim_seen = false;
    for (const EntityView* r : case_roles) {
      const std::string& kind = r->get("role");
      if (kind == "terlapor") {
        if (!r->get("relationship").empty()) relationships.insert(r->get("relationship"));
        continue;
      }
      if (kind != "korban" || victim_seen) continue;
      auto pid = sync::Id128::from_hex(r->get("person"));
      if (!pid) continue;
      auto it = person_by_id.find(*pid);
      if (it == person_by_id.end()) continue;
      victim_seen = true;
      const EntityView& p = *it->second;
      f.victim_sex = p.get("sex");
      f.victim_age_group = schema::victim_age_group(p.get("birth_date"), p.get("age"), f.received_at);
    }
    f.perpetrator_relationships.assign(relationships.begin(), relationships.end());
    for (const EntityView* s : services_of[c.id])
      f.services.push_back({s->get("kind"), s->get("date")});
    std::sort(f.services.begin(), f.services.end(), [](const ServiceFact& a, const ServiceFact& b) {
      return std::tie(a.date, a.kind) < std::tie(b.date, b.kind);
    });
    for (const EntityView* s : stays_of[c.id]) {
      f.shelter_stays.push_back(
          {s->get("admitted_at"), s->get("planned_exit"), s->get("exited_at")});
    }
    out.push_back(std::move(f));
  }
  return out;
}

[[nodiscard]] Result<std::vector<CaseFacts>> facts_from_projections(const std::vector<std::string>& bodies) {
  std::vector<CaseFacts> out;
  for (const std::string& body : bodies) {
    json p = json::parse(body, nullptr, false);
    if (p.is_discarded() || !p.is_object()) {
      return fail(Errc::damaged, "A stored projection is unreadable.");
    }
    CaseFacts f;
    f.id = text_of(p, "case");
    f.office = text_of(p, "office");
    f.office_kind = text_of(p, "office_kind");
    f.region = text_of(p, "region");
    f.received_at = text_of(p, "received_at");
    f.channel = text_of(p, "channel");
    f.place = text_of(p, "place");
    f.status = text_of(p, "status");
    f.merged_into = text_of(p, "merged_into");
    f.police_report_requested_at = text_of(p, "police_report_requested_at");
    f.status_changed_at = text_of(p, "status_changed_at");  // added later in v1: optional
    if (auto it = p.find("forms"); it != p.end() && it->is_array()) {
      for (const auto& x : *it) {
        if (x.is_string()) f.forms.push_back(x.get<std::string>());
      }
    }
    if (auto it = p.find("victim"); it != p.end() && it->is_object()) {
      f.victim_sex = text_of(*it, "sex");
      const std::string group = text_of(*it, "age_group");
      if (!group.empty()) f.victim_age_group = group;
    }
    if (auto it = p.find("perpetrator_relationships"); it != p.end() && it->is_array()) {
      for (const auto& x : *it) {
        if (x.is_string()) f.perpetrator_relationships.push_back(x.get<std::string>());
      }
    }
    if (auto it = p.find("services"); it != p.end() && it->is_array()) {
      for (const auto& s : *it) {
        if (s.is_object()) f.services.push_back({text_of(s, "kind"), text_of(s, "date")});
      }
    }
    if (auto it = p.find("shelter_stays"); it != p.end() && it->is_array()) {
      for (const auto& s : *it) {
        if (s.is_object()) {
          f.shelter_stays.push_back(
              {text_of(s, "admitted_at"), text_of(s, "planned_exit"), text_of(s, "exited_at")});
        }
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

namespace {
constexpr std::string_view kTransferredIntakeKey = "kasus_dialihkan.";
}  // namespace

[[nodiscard]] Result<void> keep_transferred_intake(Store& store, const std::string& case_id) {
  const std::string& office = store.identity().grant.office_code;
  auto id = sync::Id128::from_hex(case_id);
  if (!id) return {};
  // Most purges are of cases referred to this office: those keep nothing, cheaply.
  auto kasus = TEDUH_TRY(store.entity(*id));
  if (!kasus || kasus->type != "kasus" || kasus->get("number").rfind(office + "/", 0) != 0) return {};
  auto all = TEDUH_TRY(facts_from_store(store));
  auto it = std::find_if(all.begin(), all.end(), [&](const CaseFacts& f) { return f.id == case_id; });
  if (it == all.end() || it->number.rfind(office + "/", 0) != 0) return {};
  const CaseFacts& f = *it;
  // The office it went to: the last transfer of the case proposed to another office.
  std::string to;
  auto transfers = TEDUH_TRY(store.entities("alih_kelola", &*id));
  for (const EntityView& t : transfers) {
    if (!t.deleted() && t.get("to_office") != office && t.get("status") != "ditolak") to = t.get("to_office");
  }
  json services = json::array();
  for (const ServiceFact& s : f.services) services.push_back({{"kind", s.kind}, {"date", s.date}});
  const json doc{{"v", 1},
                 {"case", f.id},
                 {"office", office},
                 {"office_kind", store.identity().grant.office_kind},
                 {"region", store.identity().grant.office_region},
                 {"received_at", f.received_at},
                 {"channel", f.channel},
                 {"forms", f.forms},
                 {"place", f.place},
                 {"status", f.status},
                 {"merged_into", f.merged_into},
                 {"police_report_requested_at", f.police_report_requested_at},
                 {"status_changed_at", f.status_changed_at},
                 {"victim", {{"sex", f.victim_sex}, {"age_group", f.victim_age_group}}},
                 {"perpetrator_relationships", f.perpetrator_relationships},
                 {"services", services},
                 {"transferred_to", to}};
  return store.set_meta(std::string(kTransferredIntakeKey) + case_id, doc.dump());
}

[[nodiscard]] Result<std::vector<CaseFacts>> transferred_intakes(const Store& store) {
  auto bodies = TEDUH_TRY(store.meta_values_with_prefix(kTransferredIntakeKey));
  return facts_from_projections(bodies);
}

// ---------------------------------------------------------------------------------------
// Suppression

json suppress_table(const std::vector<std::pair<std::string, int>>& cells, bool partition) {
  std::map<std::string, int> hidden;  // code -> value, primary and secondary
  std::set<std::string> primary;
  for (const auto& [code, n] : cells) {
    if (n > 0 && n < kSmallCell) {
      hidden[code] = n;
      primary.insert(code);
    }
  }
  if (partition && !primary.empty()) {
    // Whoever reads the table knows the total, every shown cell, that a "<5" is 1..4, that
    // an "x" is at least 5 and at most the smallest shown cell. Hide the smallest shown
    // cells until no "<5" can be narrowed to a single value by subtraction.
    auto pinned = [&]() {
      int sum = 0, smallest_shown = 0;
      for (const auto& [code, n] : hidden) sum += n;
      for (const auto& [code, n] : cells) {
        if (n > 0 && !hidden.contains(code) && (smallest_shown == 0 || n < smallest_shown))
          smallest_shown = n;
      }
      const int secondary_hi = smallest_shown == 0 ? sum : smallest_shown;
      for (const std::string& p : primary) {
        int lo_others = 0, hi_others = 0;
        for (const auto& [code, n] : hidden) {
          if (code == p) continue;
          const bool is_primary = primary.contains(code);
          lo_others += is_primary ? 1 : kSmallCell;
          hi_others += is_primary ? kSmallCell - 1 : secondary_hi;
        }
        const int lo = std::max(1, sum - hi_others), hi = std::min(kSmallCell - 1, sum - lo_others);
        if (hi - lo < 1) return true;
      }
      return false;
    };
    while (pinned()) {
      const std::pair<std::string, int>* next = nullptr;
      for (const auto& cell : cells) {
        if (cell.second <= 0 || hidden.contains(cell.first)) continue;
        if (!next || cell.second < next->second) next = &cell;
      }
      if (!next) break;  // every non-zero cell is hidden already
      hidden[next->first] = next->second;
    }
  }
  json out = json::object();
  for (const auto& [code, n] : cells) {
    if (primary.contains(code)) {
      out[code] = kPrimary;
    } else if (hidden.contains(code)) {
      out[code] = kSecondary;
    } else {
      out[code] = n;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The report

[[nodiscard]] Result<void> check_filter(ReportFilter& filter) {
  for (const auto& [name, value] : {std::pair{"--from", &filter.from}, {"--to", &filter.to}}) {
    if (value->empty()) continue;
    if (!dates::parse_iso_date(*value) || !ms_of(*value)) {  // a real day, from 1970
      return fail(Errc::usage, std::string(name) +
                                   " perlu tanggal dengan bentuk YYYY-MM-DD, misalnya 2026-01-31.");
    }
  }
  if (!filter.from.empty() && !filter.to.empty() && filter.to < filter.from) {
    return fail(Errc::usage, "--to lebih awal dari --from: tidak ada hari dalam periode itu.");
  }
  auto region = schema::normalize_region(filter.region);
  if (!region) return fail(Errc::usage, "--region: " + region.error().message);
  filter.region = std::move(*region);
  return {};
}

namespace {

// A count table over the codes of a code set (every code, zeros included), plus extras.
struct Table {
  std::vector<std::pair<std::string, int>> cells;
  void add(const std::string& code) {
    for (auto& c : cells) {
      if (c.first == code) {
        ++c.second;
        return;
      }
    }
    cells.emplace_back(code, 1);
  }
  static Table of_set(std::string_view set, std::initializer_list<const char*> extra = {}) {
    Table t;
    if (const auto* s = schema::find_code_set(set)) {
      for (const auto& c : s->codes) t.cells.emplace_back(std::string(c.code), 0);
    }
    for (const char* e : extra) t.cells.emplace_back(e, 0);
    return t;
  }
};

}  // namespace

json build_report(const std::vector<CaseFacts>& facts, const ReportFilter& filter,
                  const DeadlineRules& rules, Audience audience) {
  const bool suppress = audience == Audience::outside;
  Table forms = Table::of_set("bentuk_kekerasan", {kUnknown});
  Table sex = Table::of_set("jenis_kelamin", {kUnknown});
  Table age;
  for (const char* g : kAgeGroups) age.cells.emplace_back(g, 0);
  Table place = Table::of_set("tempat_kejadian", {kUnknown});
  Table relationship = Table::of_set("hubungan", {"tidak_tercatat"});
  Table channel = Table::of_set("saluran", {kUnknown});
  Table service = Table::of_set("jenis_layanan");
  Table status = Table::of_set("status_kasus", {kUnknown});
  Table region, office;
  std::map<std::string, Table> month_form;
  struct Compliance {
    int deadlines = 0, on_time = 0;
  };
  std::map<std::string, Compliance> compliance;
  int total = 0;
  auto or_unknown = [](const std::string& s) { return s.empty() ? std::string(kUnknown) : s; };
  // An office-local day (YYYY-MM-DD) in the filter's period; an unknown day is in it only
  // when the period is open.
  auto in_period = [&](const std::string& day) {
    if (!filter.from.empty() && (day.empty() || day < filter.from)) return false;
    if (!filter.to.empty() && (day.empty() || day > filter.to)) return false;
    return true;
  };

  for (const CaseFacts& f : facts) {
    if (!f.merged_into.empty()) continue;  // counted once, in the case it was merged into
    if (!schema::region_within(f.region, filter.region)) continue;
    auto received = ms_of(f.received_at);
    const std::string day = received ? local_day(*received, rules.zone) : std::string();

    // Activity counts in the period it happened in, whenever its case was received (issue
    // 15.3): a service by its own date (a service without one, by its case's day), ...
    std::set<std::string> kinds;
    for (const auto& s : f.services) {
      if (in_period(s.date.empty() ? day : s.date.substr(0, 10))) kinds.insert(s.kind);
    }
    for (const auto& k : kinds) service.add(k);
    // ... and a deadline by the office-local day it came due.
    for (const Deadline& d : deadlines_of(f, rules)) {
      if (d.met_at_unknown) continue;
      if (!d.met_ms && d.due_ms > filter.now_ms) continue;  // still open, not yet due
      if (!in_period(local_day(d.due_ms, rules.zone))) continue;
      Compliance& c = compliance[or_unknown(f.office)];
      ++c.deadlines;
      if (d.met_ms && *d.met_ms <= d.due_ms) ++c.on_time;
    }

    // Cases by the day they were received.
    if (!in_period(day)) continue;
    ++total;
    if (f.forms.empty()) forms.add(kUnknown);
    for (const auto& x : f.forms) forms.add(x);
    sex.add(or_unknown(f.victim_sex));
    age.add(or_unknown(f.victim_age_group));
    place.add(or_unknown(f.place));
    if (f.perpetrator_relationships.empty()) relationship.add("tidak_tercatat");
    for (const auto& r : f.perpetrator_relationships) relationship.add(r);
    channel.add(or_unknown(f.channel));
    status.add(or_unknown(f.status));
    region.add(or_unknown(schema::region_digits(f.region)));
    office.add(or_unknown(f.office));
    if (!day.empty()) {
      auto [it, fresh] = month_form.try_emplace(day.substr(0, 7));
      if (fresh) it->second = Table::of_set("bentuk_kekerasan", {kUnknown});
      if (f.forms.empty()) it->second.add(kUnknown);
      for (const auto& x : f.forms) it->second.add(x);
    }
    compliance.try_emplace(or_unknown(f.office));  // every office with a case has a row
  }
  auto sorted = [](Table t) {
    std::sort(t.cells.begin(), t.cells.end());
    return t.cells;
  };

  // Every value is a number (or null); where a report is suppressed, the value is null and
  // its mark sits at the same path under "marks", so a number column never holds a mark.
  json doc;
  json marks = json::object();
  auto small = [](int n) { return n > 0 && n < kSmallCell; };
  auto table = [&](const std::vector<std::pair<std::string, int>>& cells, bool partition) {
    json values = json::object(), hidden = json::object();
    if (!suppress) {
      for (const auto& [code, n] : cells) values[code] = n;
      return std::pair{values, hidden};
    }
    values = suppress_table(cells, partition);
    for (auto it = values.begin(); it != values.end(); ++it) {
      if (!it.value().is_string()) continue;
      hidden[it.key()] = it.value();
      it.value() = nullptr;
    }
    return std::pair{values, hidden};
  };
  auto put = [&](const char* key, const std::vector<std::pair<std::string, int>>& cells,
                 bool partition) {
    auto [values, hidden] = table(cells, partition);
    doc[key] = std::move(values);
    if (!hidden.empty()) marks[key] = std::move(hidden);
  };
  if (suppress && small(total)) {
    doc["total_cases"] = nullptr;
    marks["total_cases"] = kPrimary;
  } else {
    doc["total_cases"] = total;
  }
  put("by_form", forms.cells, false);
  put("by_victim_sex", sex.cells, true);
  put("by_victim_age_group", age.cells, true);
  put("by_place", place.cells, true);
  put("by_perpetrator_relationship", relationship.cells, false);
  put("by_channel", channel.cells, true);
  put("by_service", service.cells, false);
  put("by_status", status.cells, true);
  put("by_region", sorted(region), true);
  put("by_office", sorted(office), true);
  json months = json::object();
  for (const auto& [month, t] : month_form) {
    auto [values, hidden] = table(t.cells, false);
    months[month] = std::move(values);
    if (!hidden.empty()) marks["by_month_form"][month] = std::move(hidden);
  }
  doc["by_month_form"] = months;
  json deadlines = json::object();
  for (const auto& [name, c] : compliance) {
    json row;
    row["deadlines"] = c.deadlines;
    // A share is a whole percent rounded down; a suppressed report shows it only over 5 or
    // more deadlines (null with the mark "<5" otherwise). null without a mark: none came due.
    row["on_time_percent"] = c.deadlines > 0 ? json(c.on_time * 100 / c.deadlines) : json(nullptr);
    if (suppress && small(c.deadlines)) {
      row["deadlines"] = nullptr;
      row["on_time_percent"] = nullptr;
      marks["deadline_compliance"][name] = {{"deadlines", kPrimary}, {"on_time_percent", kPrimary}};
    }
    deadlines[name] = row;
  }
  doc["deadline_compliance"] = deadlines;
  doc["marks"] = marks;
  doc["filter"] = {{"from", filter.from}, {"to", filter.to}, {"region", filter.region}};
  doc["deadline_rules"] = {
      {"response_sla", rules.response == ResponseSla::one_working_day ? "1_hari_kerja" : "3_hari"},
      {"zona_waktu", dates::zone_name(rules.zone)},
      // The day only: two runs (or two converged replicas) on one day print the same JSON.
      {"as_of_date", local_day(filter.now_ms, rules.zone)}};
  doc["suppression"] = {{"applied", suppress},
                        {"threshold", kSmallCell},
                        {"small", kPrimary},
                        {"complementary", kSecondary}};
  return doc;
}

// ---------------------------------------------------------------------------------------
// Renderings

namespace {

struct Section {
  const char* key;
  const char* title;
  const char* code_set;  // labels; nullptr when the codes are shown as they are
};

const Section kSections[] = {
    {"by_form", "Bentuk kekerasan", "bentuk_kekerasan"},
    {"by_victim_sex", "Jenis kelamin korban", "jenis_kelamin"},
    {"by_victim_age_group", "Kelompok umur korban", "umur"},
    {"by_place", "Tempat kejadian", "tempat_kejadian"},
    {"by_perpetrator_relationship", "Hubungan terlapor dengan korban", "hubungan"},
    {"by_channel", "Saluran pengaduan", "saluran"},
    {"by_service", "Layanan yang diberikan", "jenis_layanan"},
    {"by_status", "Status kasus", "status_kasus"},
    {"by_region", "Wilayah (kode BPS)", nullptr},
    {"by_office", "Kantor", nullptr},
};

std::string label_of(const char* set, const std::string& code) {
  if (code == kUnknown) return "Tidak diketahui";
  if (code == "tidak_tercatat") return "Tidak tercatat";
  if (set && std::string_view(set) == "umur") return code + " tahun";  // an age group
  if (set) {
    if (const auto* s = schema::find_code_set(set)) {
      if (auto l = s->label(code)) return std::string(*l);
    }
  }
  return code;
}

// The rows of a table in reading order: age groups youngest first, codes in their code
// set's order, then what the set does not hold (tidak_diketahui, offices, regions) sorted.
std::vector<std::string> ordered_keys(const json& table, const char* set) {
  std::vector<std::string> out;
  auto take = [&](std::string_view code) {
    if (table.contains(code) && std::find(out.begin(), out.end(), code) == out.end())
      out.emplace_back(code);
  };
  if (set && std::string_view(set) == "umur") {
    for (const char* g : kAgeGroups) take(g);
  } else if (set) {
    if (const auto* s = schema::find_code_set(set)) {
      for (const auto& c : s->codes) take(c.code);
    }
  }
  for (auto it = table.begin(); it != table.end(); ++it) take(it.key());
  return out;
}

// The mark of a suppressed value: the string at the value's path under r["marks"], or "".
std::string mark_at(const json& r, std::initializer_list<std::string> path) {
  auto it = r.find("marks");
  if (it == r.end()) return "";
  const json* at = &*it;
  for (const std::string& key : path) {
    if (!at->is_object()) return "";
    auto next = at->find(key);
    if (next == at->end()) return "";
    at = &*next;
  }
  return at->is_string() ? at->get<std::string>() : std::string();
}

// A value as people read it: its mark where suppressed, "-" where there is none.
std::string cell_text(const json& v, const std::string& mark) {
  if (!mark.empty()) return mark;
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// The count column of the CSV: the number, or empty where suppressed or absent.
std::string count_field(const json& v) { return v.is_number() ? v.dump() : std::string(); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string period_text(const json& filter) {
  const std::string from = filter.value("from", ""), to = filter.value("to", "");
  if (from.empty() && to.empty()) return "semua tanggal";
  return (from.empty() ? std::string("awal") : from) + " s.d. " +
         (to.empty() ? std::string("kini") : to);
}

}  // namespace

std::string report_text(const json& r) {
  std::ostringstream out;
  out << "Laporan kasus kekerasan terhadap perempuan dan anak\n";
  if (r.contains("source")) {
    out << "Sumber: "
        << (r["source"] == "proyeksi" ? "proyeksi tanpa identitas (kantor pusat)"
                                      : "kasus kantor " + r.value("office", std::string()))
        << "\n";
  }
  const json& filter = r["filter"];
  out << "Periode: " << period_text(filter) << "; wilayah: "
      << (filter.value("region", "").empty() ? "semua" : filter.value("region", "")) << "\n";
  out << "Kasus dihitung menurut tanggal pengaduan; layanan dan tenggat menurut tanggalnya "
         "sendiri.\n";
  out << "Jumlah kasus: " << cell_text(r["total_cases"], mark_at(r, {"total_cases"})) << "\n";
  if (r.contains("suppression") && r["suppression"].value("applied", true)) {
    out << "Laporan untuk di luar kantor: sel berisi 1-4 kasus ditulis \"<5\"; \"x\" "
           "disembunyikan agar sel kecil tidak dapat dihitung dari jumlah.\n";
  } else {
    out << "Angka persis, untuk kantor sendiri. Laporan yang dibagikan ke luar kantor dibuat "
           "dengan --publik (sel berisi 1-4 kasus ditulis \"<5\").\n";
  }
  for (const Section& s : kSections) {
    if (!r.contains(s.key)) continue;
    out << "\n" << s.title << "\n";
    for (const std::string& code : ordered_keys(r[s.key], s.code_set)) {
      std::string line = "  " + label_of(s.code_set, code);
      if (line.size() < 48) line.resize(48, ' ');
      out << line << " " << cell_text(r[s.key][code], mark_at(r, {s.key, code})) << "\n";
    }
  }
  out << "\nKetepatan waktu tenggat per kantor (respons pengaduan, laporan polisi, rumah aman)";
  if (r.contains("deadline_rules")) {
    const json& rules = r["deadline_rules"];
    out << ", per " << rules.value("as_of_date", "") << " " << rules.value("zona_waktu", "")
        << ", respons "
        << (rules.value("response_sla", "") == "1_hari_kerja" ? "1 hari kerja" : "3 hari");
  }
  out << "\n";
  const json& dl = r["deadline_compliance"];
  if (dl.empty()) out << "  Belum ada tenggat yang jatuh tempo.\n";
  for (auto it = dl.begin(); it != dl.end(); ++it) {
    const json& pct = it.value()["on_time_percent"];
    const std::string count_mark = mark_at(r, {"deadline_compliance", it.key(), "deadlines"});
    out << "  " << it.key() << ": ";
    if (pct.is_number()) {
      out << pct.dump() << "% tepat waktu, " << cell_text(it.value()["deadlines"], count_mark)
          << " tenggat\n";
    } else if (!count_mark.empty()) {
      out << "kurang dari 5 tenggat, persen tidak ditampilkan\n";
    } else {
      out << "belum ada tenggat yang jatuh tempo\n";
    }
  }
  return out.str();
}

std::vector<ReportRow> report_rows(const json& r) {
  std::vector<ReportRow> rows;
  auto row = [&](const std::string& category, const std::string& group, const std::string& code,
                 const std::string& label, const json& value, const std::string& mark) {
    rows.push_back(ReportRow{category, group, code, label,
                             value.is_number() ? value : json(nullptr), mark});
  };
  row("total_cases", "Jumlah kasus", "", "Jumlah kasus", r["total_cases"],
      mark_at(r, {"total_cases"}));
  for (const Section& s : kSections) {
    for (const std::string& code : ordered_keys(r[s.key], s.code_set)) {
      row(s.key, s.title, code, label_of(s.code_set, code), r[s.key][code],
          mark_at(r, {s.key, code}));
    }
  }
  for (auto m = r["by_month_form"].begin(); m != r["by_month_form"].end(); ++m) {
    for (auto it = m.value().begin(); it != m.value().end(); ++it) {
      row("by_month_form", "Kasus per bulan menurut bentuk kekerasan", m.key() + "/" + it.key(),
          label_of("bentuk_kekerasan", it.key()), it.value(),
          mark_at(r, {"by_month_form", m.key(), it.key()}));
    }
  }
  for (auto it = r["deadline_compliance"].begin(); it != r["deadline_compliance"].end(); ++it) {
    row("deadline_count", "Ketepatan waktu tenggat", it.key(), "Tenggat jatuh tempo",
        it.value()["deadlines"], mark_at(r, {"deadline_compliance", it.key(), "deadlines"}));
    row("deadline_on_time_percent", "Ketepatan waktu tenggat", it.key(), "Persen tepat waktu",
        it.value()["on_time_percent"],
        mark_at(r, {"deadline_compliance", it.key(), "on_time_percent"}));
  }
  return rows;
}

std::string report_csv(const json& r) {
  // Numbers and suppression marks in separate columns: count is a number or empty, mark is
  // "<5", "x" or empty (README "Report").
  std::ostringstream out;
  out << "category,code,label,count,mark\n";
  for (const ReportRow& row : report_rows(r)) {
    out << row.category << "," << csv_field(row.code) << "," << csv_field(row.label) << ","
        << count_field(row.count) << "," << row.mark << "\n";
  }
  return out.str();
}

std::string report_svg(const json& r) {
  // Colours per form of violence, fixed so that two reports look alike.
  static const char* const kColours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a",
                                         "#66a61e", "#e6ab02", "#a6761d", "#666666"};
  const std::vector<std::string> form_codes = ordered_keys(r["by_form"], "bentuk_kekerasan");
  const json& months = r["by_month_form"];
  const json& dl = r["deadline_compliance"];

  // Value drawn for a cell: "<5" as 2.5 (and hatched), "x" and 0 not drawn.
  auto drawn = [](const json& v, const std::string& mark) -> double {
    if (mark == kPrimary) return 2.5;
    if (!mark.empty()) return 0;
    return v.is_number() ? v.get<double>() : 0;
  };
  double max_stack = 0;
  for (auto m = months.begin(); m != months.end(); ++m) {
    double sum = 0;
    for (auto c = m.value().begin(); c != m.value().end(); ++c)
      sum += drawn(c.value(), mark_at(r, {"by_month_form", m.key(), c.key()}));
    max_stack = std::max(max_stack, sum);
  }
  // A round axis top: 5, 10, 20, 50, 100, ...
  double top = 5;
  while (top < max_stack) {
    top = (top * 2 == 20 || top * 2 == 200 || top * 2 == 2000) ? top * 2.5 : top * 2;
  }

  const int left = 70, chart_w = std::max<int>(420, static_cast<int>(months.size()) * 48),
            chart_h = 260;
  const int legend_w = 260;
  const int width = left + chart_w + legend_w + 20;
  const int office_rows = static_cast<int>(dl.size());
  const int second_top = 40 + chart_h + 90;
  const int height = second_top + 40 + std::max(1, office_rows) * 26 + 60;

  std::ostringstream s;
  s << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s << "<title>Laporan Teduh: kasus per bulan dan ketepatan waktu tenggat</title>\n";
  s << "<defs><pattern id=\"kecil\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
       "<rect width=\"6\" height=\"6\" fill=\"#ffffff\"/><path d=\"M0,6 L6,0\" stroke=\"#444444\" "
       "stroke-width=\"1\"/></pattern></defs>\n";
  s << "<rect x=\"0\" y=\"0\" width=\"" << width << "\" height=\"" << height
    << "\" fill=\"#ffffff\"/>\n";
  s << "<text x=\"" << left
    << "\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Kasus per bulan menurut "
       "bentuk kekerasan ("
    << xml_escape(period_text(r["filter"])) << ")</text>\n";

  // Chart 1: stacked bars per month.
  const int base_y = 40 + chart_h;
  s << "<g id=\"kasus-per-bulan\">\n";
  s << "<line x1=\"" << left << "\" y1=\"40\" x2=\"" << left << "\" y2=\"" << base_y
    << "\" stroke=\"#000000\"/>\n";
  s << "<line x1=\"" << left << "\" y1=\"" << base_y << "\" x2=\"" << left + chart_w << "\" y2=\""
    << base_y << "\" stroke=\"#000000\"/>\n";
  for (int i = 0; i <= 5; ++i) {
    const double value = top * i / 5;
    const double y = base_y - chart_h * i / 5.0;
    s << "<line x1=\"" << left - 4 << "\" y1=\"" << y << "\" x2=\"" << left << "\" y2=\"" << y
      << "\" stroke=\"#000000\"/><text x=\"" << left - 8 << "\" y=\"" << y + 4
      << "\" text-anchor=\"end\">" << value << "</text>\n";
  }
  s << "<text x=\"18\" y=\"" << 40 + chart_h / 2 << "\" transform=\"rotate(-90 18 "
    << 40 + chart_h / 2 << ")\" text-anchor=\"middle\">Jumlah kasus</text>\n";
  s << "<text x=\"" << left + chart_w / 2 << "\" y=\"" << base_y + 44
    << "\" text-anchor=\"middle\">Bulan pengaduan</text>\n";
  const double slot = months.empty() ? chart_w : static_cast<double>(chart_w) / static_cast<double>(months.size());
  int index = 0;
  for (auto m = months.begin(); m != months.end(); ++m, ++index) {
    const double x = left + slot * index + slot * 0.15;
    const double w = slot * 0.7;
    double y = base_y;
    for (std::size_t f = 0; f < form_codes.size(); ++f) {
      const json& v = m.value().value(form_codes[f], json(0));
      const std::string mark = mark_at(r, {"by_month_form", m.key(), form_codes[f]});
      const double h = drawn(v, mark) / top * chart_h;
      if (h <= 0) continue;
      y -= h;
      const bool small = !mark.empty();
      s << "<rect class=\"seri-" << xml_escape(form_codes[f]) << "\" x=\"" << x << "\" y=\"" << y
        << "\" width=\"" << w << "\" height=\"" << h << "\" fill=\""
        << (small ? std::string("url(#kecil)") : std::string(kColours[f % 8])) << "\" stroke=\""
        << kColours[f % 8] << "\"><title>" << xml_escape(m.key()) << " "
        << xml_escape(label_of("bentuk_kekerasan", form_codes[f])) << ": "
        << xml_escape(cell_text(v, mark)) << "</title></rect>\n";
    }
    s << "<text x=\"" << x + w / 2 << "\" y=\"" << base_y + 18 << "\" text-anchor=\"middle\">"
      << xml_escape(m.key()) << "</text>\n";
  }
  if (months.empty()) {
    s << "<text x=\"" << left + 20 << "\" y=\"" << base_y - chart_h / 2
      << "\">Tidak ada kasus pada periode ini</text>\n";
  }
  s << "</g>\n";

  // Legend.
  const int lx = left + chart_w + 24;
  s << "<g id=\"legenda\">\n<text x=\"" << lx
    << "\" y=\"48\" font-weight=\"bold\">Bentuk kekerasan</text>\n";
  for (std::size_t f = 0; f < form_codes.size(); ++f) {
    const int y = 60 + static_cast<int>(f) * 20;
    s << "<rect x=\"" << lx << "\" y=\"" << y << "\" width=\"14\" height=\"14\" fill=\""
      << kColours[f % 8] << "\"/><text x=\"" << lx + 20 << "\" y=\"" << y + 12 << "\">"
      << xml_escape(label_of("bentuk_kekerasan", form_codes[f])) << "</text>\n";
  }
  const int ly = 60 + static_cast<int>(form_codes.size()) * 20;
  s << "<rect x=\"" << lx << "\" y=\"" << ly
    << "\" width=\"14\" height=\"14\" fill=\"url(#kecil)\" "
       "stroke=\"#444444\"/><text x=\""
    << lx + 20 << "\" y=\"" << ly + 12
    << "\">1-4 kasus (&lt;5), digambar setinggi 2,5</text>\n</g>\n";

  // Chart 2: deadline compliance per office.
  s << "<g id=\"ketepatan-tenggat\">\n";
  s << "<text x=\"" << left << "\" y=\"" << second_top
    << "\" font-size=\"15\" font-weight=\"bold\">Tenggat yang dipenuhi tepat waktu, per kantor "
       "(%)</text>\n";
  const int bar_left = left + 150, bar_w = 400;
  const int axis_y = second_top + 20 + std::max(1, office_rows) * 26;
  s << "<line x1=\"" << bar_left << "\" y1=\"" << second_top + 14 << "\" x2=\"" << bar_left
    << "\" y2=\"" << axis_y << "\" stroke=\"#000000\"/>\n";
  s << "<line x1=\"" << bar_left << "\" y1=\"" << axis_y << "\" x2=\"" << bar_left + bar_w
    << "\" y2=\"" << axis_y << "\" stroke=\"#000000\"/>\n";
  for (int pct = 0; pct <= 100; pct += 25) {
    const int x = bar_left + bar_w * pct / 100;
    s << "<line x1=\"" << x << "\" y1=\"" << axis_y << "\" x2=\"" << x << "\" y2=\"" << axis_y + 4
      << "\" stroke=\"#000000\"/><text x=\"" << x << "\" y=\"" << axis_y + 18
      << "\" text-anchor=\"middle\">" << pct << "%</text>\n";
  }
  s << "<text x=\"" << bar_left + bar_w / 2 << "\" y=\"" << axis_y + 36
    << "\" text-anchor=\"middle\">Persen tenggat tepat waktu (respons pengaduan, laporan polisi, "
       "rumah aman)</text>\n";
  int row = 0;
  for (auto it = dl.begin(); it != dl.end(); ++it, ++row) {
    const int y = second_top + 22 + row * 26;
    s << "<text x=\"" << bar_left - 8 << "\" y=\"" << y + 13 << "\" text-anchor=\"end\">"
      << xml_escape(it.key()) << "</text>\n";
    const json& pct = it.value()["on_time_percent"];
    if (pct.is_null()) {
      const bool hidden = !mark_at(r, {"deadline_compliance", it.key(), "deadlines"}).empty();
      s << "<text x=\"" << bar_left + 6 << "\" y=\"" << y + 13 << "\" fill=\"#666666\">"
        << (hidden ? "kurang dari 5 tenggat: tidak ditampilkan"
                   : "belum ada tenggat yang jatuh tempo")
        << "</text>\n";
      continue;
    }
    const int p = pct.get<int>();
    s << "<rect class=\"tenggat\" x=\"" << bar_left << "\" y=\"" << y << "\" width=\""
      << bar_w * p / 100 << "\" height=\"18\" fill=\"#1f78b4\"><title>" << xml_escape(it.key())
      << ": " << p << "%</title></rect><text x=\"" << bar_left + bar_w * p / 100 + 6 << "\" y=\""
      << y + 13 << "\">" << p << "% dari " << xml_escape(cell_text(it.value()["deadlines"], ""))
      << " tenggat</text>\n";
  }
  if (dl.empty()) {
    s << "<text x=\"" << bar_left + 6 << "\" y=\"" << second_top + 35
      << "\">Belum ada tenggat yang jatuh tempo</text>\n";
  }
  s << "</g>\n</svg>\n";
  return s.str();
}

}  // namespace teduh::client
