#include "teduh/server/scope_access.hpp"

namespace teduh::server {
namespace {

bool is_access_type(const std::string& type) {
  return type == "rujukan" || type == "persetujuan" || type == "alih_kelola";
}

}  // namespace

bool CaseAccess::touches_access(const sync::Commit& commit) {
  for (const sync::Version& v : commit.versions) {
    if (is_access_type(v.entity_type)) return true;
  }
  return false;
}

void CaseAccess::apply(const sync::Commit& commit) {
  if (!touches_access(commit)) return;
  // Version ids carry the index within the commit, so the whole commit is applied; only
  // the access entities are remembered by type.
  replica_.apply(commit);
  for (const sync::Version& v : commit.versions) {
    if (is_access_type(v.entity_type)) types_.emplace(v.entity, v.entity_type);
  }
}

std::string CaseAccess::shown(const sync::EntityId& entity, const std::string& field) const {
  const sync::Register* reg = replica_.field(entity, field);
  if (reg == nullptr) return {};
  auto v = reg->shown();
  return v ? v->value : std::string();
}

bool CaseAccess::consent_valid_for(const std::string& consent_hex, const std::string& office) const {
  auto id = sync::Id128::from_hex(consent_hex);
  if (!id) return false;
  auto it = types_.find(*id);
  if (it == types_.end() || it->second != "persetujuan") return false;
  return shown(*id, "_deleted") != "1" && shown(*id, "scope") == "rujukan" &&
         shown(*id, "scope_office") == office && shown(*id, "withdrawn_at").empty();
}

bool CaseAccess::any_consent_for(const std::string& office) const {
  for (const auto& [id, type] : types_) {
    if (type == "persetujuan" && consent_valid_for(id.hex(), office)) return true;
  }
  return false;
}

std::set<std::string> CaseAccess::shared_with() const {
  std::set<std::string> out;
  for (const auto& [id, type] : types_) {
    if (shown(id, "_deleted") == "1") continue;
    const std::string office = shown(id, "to_office");
    if (office.empty()) continue;
    const std::string status = shown(id, "status");
    if (type == "rujukan") {
      if ((status == "dikirim" || status == "diterima") && consent_valid_for(shown(id, "consent"), office)) {
        out.insert(office);
      }
    } else if (type == "alih_kelola") {
      if (status == "diajukan" && any_consent_for(office)) out.insert(office);
    }
  }
  return out;
}

std::optional<std::string> CaseAccess::transferred_to() const {
  std::optional<std::string> owner;
  sync::Hlc latest = 0;
  for (const auto& [id, type] : types_) {
    if (type != "alih_kelola" || shown(id, "_deleted") == "1") continue;
    const sync::Register* status = replica_.field(id, "status");
    if (status == nullptr) continue;
    auto v = status->shown();
    if (!v || v->value != "diterima") continue;
    const std::string office = shown(id, "to_office");
    if (office.empty()) continue;
    if (!owner || v->hlc > latest) {
      owner = office;
      latest = v->hlc;
    }
  }
  return owner;
}

std::optional<std::string> CaseAccess::consent_problem(const sync::Commit& commit) const {
  std::set<sync::EntityId> touched;
  for (const sync::Version& v : commit.versions) {
    if (v.entity_type == "rujukan" || v.entity_type == "alih_kelola") touched.insert(v.entity);
  }
  for (const sync::EntityId& id : touched) {
    auto it = types_.find(id);
    if (it == types_.end() || shown(id, "_deleted") == "1") continue;
    const std::string office = shown(id, "to_office");
    if (office.empty()) continue;  // a referral to an external partner shares nothing
    const std::string status = shown(id, "status");
    if (it->second == "rujukan") {
      if ((status == "dikirim" || status == "diterima") && !consent_valid_for(shown(id, "consent"), office)) {
        return "the referral names an office without a recorded consent for that office";
      }
    } else if (status != "ditolak" && !any_consent_for(office)) {
      return "the transfer names an office without a recorded consent for that office";
    }
  }
  return std::nullopt;
}

}  // namespace teduh::server
