#include "teduh/server/projection.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "teduh/schema/dates.hpp"
#include "teduh/schema/facts.hpp"
#include "teduh/schema/identity_match.hpp"
#include "teduh/sync/merge.hpp"

namespace teduh::server {
namespace {

using nlohmann::json;

// The merged state of one case, entity by entity (shown values only).
class CaseState {
 public:
  explicit CaseState(std::span<const sync::Commit> commits) {
    for (const sync::Commit& c : commits) {
      replica_.apply(c);
      for (const sync::Version& v : c.versions) types_.emplace(v.entity, v.entity_type);
    }
  }

  [[nodiscard]] std::string get(const sync::EntityId& id, const std::string& field) const {
    const sync::Register* reg = replica_.field(id, field);
    if (reg == nullptr) return {};
    auto v = reg->shown();
    return v ? v->value : std::string();
  }

  // Live (not deleted) entities of a type, by id.
  [[nodiscard]] std::vector<sync::EntityId> of_type(std::string_view type) const {
    std::vector<sync::EntityId> out;
    for (const auto& [id, t] : types_) {
      if (t == type && get(id, "_deleted") != "1") out.push_back(id);
    }
    return out;
  }

 private:
  sync::Replica replica_;
  std::map<sync::EntityId, std::string> types_;
};




std::string utc_text(std::uint64_t ms) {
  return schema::dates::format_utc(schema::dates::from_unix_ms(static_cast<std::int64_t>(ms)));
}

// When the case's status first moved past "diterima" after it was recorded (the wall time
// of that version's clock), for the response deadline; "" when it never did. The first
// status version is the recording itself: a case recorded in a later status (an imported
// register) has no known response time.
std::string status_changed_at(const sync::EntityId& scope, std::span<const sync::Commit> commits) {
  std::vector<std::pair<sync::Hlc, const std::string*>> versions;
  for (const sync::Commit& c : commits) {
    for (const sync::Version& v : c.versions) {
      if (v.entity == scope && v.field == "status") versions.emplace_back(v.hlc, &v.value);
    }
  }
  std::sort(versions.begin(), versions.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < versions.size(); ++i) {
    if (*versions[i].second != "diterima") return utc_text(sync::hlc_wall_ms(versions[i].first));
  }
  return {};
}

}  // namespace

std::string match_hash(crypto::ByteView dedup_key, std::string_view domain, const std::string& normal) {
  if (normal.empty()) return {};
  std::string message(domain);
  message += ':';
  message += normal;
  const crypto::Bytes h = crypto::blake2b(
      {reinterpret_cast<const std::uint8_t*>(message.data()), message.size()}, 16, dedup_key);
  return crypto::to_hex(h);
}


json build_projection(const sync::EntityId& scope, std::span<const sync::Commit> commits, const OfficeRecord& owner,
                      crypto::ByteView dedup_key) {
  CaseState s(commits);
  json doc;
  doc["v"] = 1;
  doc["case"] = scope.hex();
  doc["office"] = owner.code;
  doc["office_kind"] = owner.kind;
  doc["region"] = owner.region;
  const std::string received = s.get(scope, "received_at");
  doc["received_at"] = received;
  doc["channel"] = s.get(scope, "channel");
  doc["forms"] = schema::split_codes(s.get(scope, "forms"));
  doc["place"] = s.get(scope, "place");
  doc["status"] = s.get(scope, "status");
  doc["merged_into"] = s.get(scope, "merged_into");
  doc["status_changed_at"] = status_changed_at(scope, commits);
  doc["police_report_requested_at"] =
      s.get(scope, "police_report_requested") == "1" ? s.get(scope, "police_report_requested_at") : std::string();

  // The victim (the first korban role by id), and how the alleged perpetrators relate.
  json victim = {{"sex", ""}, {"age_group", "tidak_diketahui"}, {"disability", ""}};
  json match = {{"nik", ""}, {"name_birth", ""}};
  std::set<std::string> relationships;
  bool victim_seen = false;
  for (const sync::EntityId& role : s.of_type("peran")) {
    const std::string kind = s.get(role, "role");
    auto person = sync::Id128::from_hex(s.get(role, "person"));
    if (kind == "terlapor") {
      if (!s.get(role, "relationship").empty()) relationships.insert(s.get(role, "relationship"));
      continue;
    }
    if (kind != "korban" || victim_seen || !person) continue;
    victim_seen = true;
    victim["sex"] = s.get(*person, "sex");
    victim["disability"] = s.get(*person, "disability");
    const std::string birth = s.get(*person, "birth_date");
    victim["age_group"] = schema::victim_age_group(birth, s.get(*person, "age"), received);
    match["nik"] = match_hash(dedup_key, "nik", schema::normalize_nik(s.get(*person, "nik")));
    match["name_birth"] = match_hash(dedup_key, "nama", schema::name_birth_key(s.get(*person, "name"), birth));
  }
  doc["victim"] = victim;
  doc["match"] = match;
  doc["perpetrator_relationships"] = std::vector<std::string>(relationships.begin(), relationships.end());

  json services = json::array();
  for (const sync::EntityId& id : s.of_type("layanan")) {
    services.push_back({{"kind", s.get(id, "kind")}, {"date", s.get(id, "date")}});
  }
  std::sort(services.begin(), services.end());
  doc["services"] = services;
  json stays = json::array();
  for (const sync::EntityId& id : s.of_type("penempatan")) {
    stays.push_back({{"admitted_at", s.get(id, "admitted_at")},
                     {"planned_exit", s.get(id, "planned_exit")},
                     {"exited_at", s.get(id, "exited_at")}});
  }
  std::sort(stays.begin(), stays.end());
  doc["shelter_stays"] = stays;
  return doc;
}

}  // namespace teduh::server
