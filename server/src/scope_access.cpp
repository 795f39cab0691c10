#include "teduh/server/scope_access.hpp"

#include "teduh/schema/permissions.hpp"

namespace teduh::server {
namespace {

bool is_access_type(const std::string& type) {
  return type == "rujukan" || type == "persetujuan" || type == "alih_kelola";
}

bool is_answer(const sync::Version& v) {
  return v.field == "status" && (v.value == "diterima" || v.value == "ditolak");
}

// The fields of a referral that hold a partner's answer to it.
bool is_partner_answer(const sync::Version& v) {
  return v.entity_type == "rujukan" && (v.field == "status" || v.field == "answered_on" || v.field == "answer_notes");
}

}  // namespace

CaseAccess::CaseAccess(std::string origin) : owner_(std::move(origin)) {}

bool CaseAccess::touches_access(const sync::Commit& commit) {
  for (const sync::Version& v : commit.versions) {
    if (is_access_type(v.entity_type)) return true;
  }
  return false;
}

std::optional<std::string> CaseAccess::apply(const sync::Commit& commit, const Writer& writer) {
  if (owner_.empty()) owner_ = writer.office;  // the first commit of a case creates it
  if (!touches_access(commit)) return std::nullopt;
  const std::string owner_before = owner_;
  // The status each referral or transfer showed before: writing the same status again
  // (a removal re-asserts every field) answers nothing.
  std::map<sync::EntityId, std::string> status_before;
  std::map<std::pair<sync::EntityId, std::string>, std::string> answer_before;
  for (const sync::Version& v : commit.versions) {
    if (is_answer(v)) status_before.emplace(v.entity, shown(v.entity, "status"));
    if (is_partner_answer(v)) answer_before.emplace(std::pair{v.entity, v.field}, shown(v.entity, v.field));
  }
  // Version ids carry the index within the commit, so the whole commit is applied; only
  // the access entities are remembered by type.
  replica_.apply(commit);
  for (const sync::Version& v : commit.versions) {
    if (!is_access_type(v.entity_type)) continue;
    types_.emplace(v.entity, v.entity_type);
    created_.emplace(v.entity, Creation{writer.office, writer.office == owner_before});
  }

  std::optional<std::string> problem;
  auto note = [&](std::string why) {
    if (!problem) problem = std::move(why);
  };
  std::set<sync::EntityId> acceptances;
  for (const sync::Version& v : commit.versions) {
    const bool answers = is_answer(v) && status_before[v.entity] != v.value;
    if (v.entity_type == "rujukan" && external_referral(v.entity)) {
      // A partner outside Teduh answers on paper or by phone; the office that sent the
      // referral records it. Saying the shown answer again changes nothing.
      const bool changes = answer_before[{v.entity, v.field}] != v.value;
      if (is_partner_answer(v) && changes && writer.office != created_.at(v.entity).office) {
        note("the answer of a partner outside Teduh is recorded only by the office that sent it");
      }
    } else if (v.entity_type == "rujukan" && answers && writer.office != shown(v.entity, "to_office")) {
      note("a referral is accepted or declined only by a device of the office it is sent to");
    }
    if (v.entity_type != "alih_kelola") continue;
    if (is_answer(v)) {
      if (writer.office != shown(v.entity, "to_office")) {
        // Another office saying the shown answer again (a removal re-asserts it) answers nothing.
        if (answers) note("a transfer is accepted or declined only by a device of the office it is sent to");
      } else if (v.value == "diterima") {
        acceptances.insert(v.entity);
      }
    } else if (writer.office != owner_before) {
      note("only a device of the office that owns the case may propose or change a transfer");
    }
  }
  for (const sync::EntityId& t : acceptances) {
    if (accepted_.contains(t)) continue;  // said again: the case already moved
    const std::string to = shown(t, "to_office");
    const bool valid = !problem && shown(t, "status") == "diterima" && to != owner_before &&
                       schema::role_may(writer.role, schema::Action::jawab_rujukan) && open_transfer(t);
    if (!valid) {
      note("the transfer was not proposed by the office that owns the case under a consent that office "
           "recorded, or is no longer open, or this device's role may not accept it");
      continue;
    }
    owner_ = to;
    accepted_.insert(t);
  }
  if (auto why = consent_problem(commit)) note(std::move(*why));
  return problem;
}

std::string CaseAccess::shown(const sync::EntityId& entity, const std::string& field) const {
  const sync::Register* reg = replica_.field(entity, field);
  if (reg == nullptr) return {};
  auto v = reg->shown();
  return v ? v->value : std::string();
}

bool CaseAccess::external_referral(const sync::EntityId& id) const {
  return shown(id, "to_office").empty() && !shown(id, "to_external").empty();
}

bool CaseAccess::consent_valid_for(const std::string& consent_hex, const std::string& office) const {
  auto id = sync::Id128::from_hex(consent_hex);
  if (!id) return false;
  auto it = types_.find(*id);
  if (it == types_.end() || it->second != "persetujuan") return false;
  return shown(*id, "_deleted") != "1" && shown(*id, "scope") == "rujukan" &&
         shown(*id, "scope_office") == office && shown(*id, "withdrawn_at").empty();
}

bool CaseAccess::consent_of(const std::string& recorded_by, const std::string& office) const {
  for (const auto& [id, type] : types_) {
    if (type != "persetujuan" || !consent_valid_for(id.hex(), office)) continue;
    auto c = created_.find(id);
    if (c != created_.end() && c->second.office == recorded_by) return true;
  }
  return false;
}

bool CaseAccess::open_transfer(const sync::EntityId& id) const {
  auto c = created_.find(id);
  if (c == created_.end() || !c->second.by_owner || c->second.office != owner_) return false;
  if (shown(id, "_deleted") == "1") return false;
  const std::string to = shown(id, "to_office");
  return !to.empty() && to != owner_ && consent_of(owner_, to);
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
      if (status == "diajukan" && open_transfer(id)) out.insert(office);
    }
  }
  out.erase(owner_);
  return out;
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
    } else if (status == "diajukan" && !consent_of(owner_, office)) {
      return "the transfer names an office without a consent for that office recorded by the office that owns "
             "the case";
    }
  }
  return std::nullopt;
}

}  // namespace teduh::server
