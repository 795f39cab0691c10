#include "teduh/sync/write_rules.hpp"

#include <algorithm>

#include "teduh/schema/entities.hpp"

namespace teduh::sync {
namespace {

using schema::Action;

struct Classified {
  Action action;
  std::string what;
};

// The action one version of a case scope stands for (the table in write_rules.hpp).
Classified case_action(const Version& v) {
  const std::string where = v.entity_type + "." + v.field;
  const bool deleting = v.field == schema::kDeletedField && v.value == "1";
  if (v.entity_type == "audit") return {Action::lihat_kasus, "recording an access (" + where + ")"};
  if (v.entity_type == "penempatan") return {Action::tempatkan, "placing a victim in a shelter (" + where + ")"};
  if (v.entity_type == "rencana" || v.entity_type == "pemantauan" || v.entity_type == "diversi") {
    return {Action::rencana_pemantauan, "writing the case plan, a monitoring visit or a diversion (" + where + ")"};
  }
  if (v.entity_type == "kasus" && v.field == "status" && v.value == "terminasi") {
    return {Action::tutup_kasus, "closing the case (" + where + ")"};
  }
  if (v.entity_type == "rujukan" || v.entity_type == "alih_kelola") {
    if (v.field == "status" && (v.value == "diterima" || v.value == "ditolak")) {
      return {Action::jawab_rujukan, "answering a referral or transfer (" + where + ")"};
    }
    if (v.entity_type == "rujukan" && ((v.field == "status" && v.value == "selesai") || deleting)) {
      return {Action::tarik_persetujuan, "ending a referral (" + where + ")"};
    }
    return {Action::rujuk, "referring or transferring the case (" + where + ")"};
  }
  if (v.entity_type == "persetujuan") {
    if ((v.field == "withdrawn_at" && !v.value.empty()) || deleting) {
      return {Action::tarik_persetujuan, "withdrawing a consent (" + where + ")"};
    }
    return {Action::rujuk, "recording a consent (" + where + ")"};
  }
  return {Action::ubah_kasus, "changing the case (" + where + ")"};
}

}  // namespace

std::vector<WriteAction> write_actions(const Commit& commit, bool scope_is_new) {
  std::vector<WriteAction> out;
  auto add = [&](Action action, std::size_t index, std::string what) {
    const bool known = std::any_of(out.begin(), out.end(), [&](const WriteAction& a) { return a.action == action; });
    if (!known) out.push_back(WriteAction{action, index, std::move(what)});
  };
  if (commit.scope_type == "kasus" && scope_is_new) add(Action::buat_kasus, 0, "recording a new case");
  for (std::size_t i = 0; i < commit.versions.size(); ++i) {
    const Version& v = commit.versions[i];
    if (commit.scope_type == "kasus") {
      Classified c = case_action(v);
      add(c.action, i, std::move(c.what));
    } else if (commit.scope_type == "rumah_aman") {
      add(Action::kelola_rumah_aman, i, "recording a shelter (" + v.entity_type + "." + v.field + ")");
    }
    // Writing over two or more live versions is what settles a conflict (PROTOCOL.md
    // section 5): an honest replica lists exactly the live versions it holds.
    if (v.supersedes.size() >= 2) {
      add(Action::selesaikan_konflik, i, "settling a conflict (" + v.entity_type + "." + v.field + ")");
    }
  }
  return out;
}

std::optional<std::string> write_refusal(const Commit& commit, bool scope_is_new, std::string_view role,
                                         std::string_view office_kind, bool cleared) {
  for (const WriteAction& a : write_actions(commit, scope_is_new)) {
    if (auto why = schema::refusal(role, office_kind, cleared, a.action)) {
      return "version " + std::to_string(a.version) + " is " + a.what + ", which is the action " +
             std::string(schema::action_spec(a.action).code) + ": " + *why;
    }
  }
  return std::nullopt;
}

}  // namespace teduh::sync
