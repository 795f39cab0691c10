#pragma once
// Who shares a case, derived from the case's own records (PERMISSIONS.md, PROTOCOL.md
// section 5B). Pure logic over merged versions: no storage, no sockets.
//
// A case is shared with an office while the case holds
//   - a referral (rujukan) to that office whose status is dikirim or diterima, whose
//     consent ref names a consent (persetujuan) of scope "rujukan" for that office that
//     is not withdrawn (withdrawn_at empty), and which is not deleted; or
//   - a transfer (alih_kelola) to that office with status diajukan (so the office can
//     read the case it is asked to take over) under such a consent.
// A transfer with status diterima makes its office the owner (the latest accepted one by
// hlc when there are several); the former owner then keeps the case only if it is shared
// with it as above. Values are the shown value of each field (the live version with the
// greatest hlc); a field in conflict counts as its shown value until a person resolves it.
#include <map>
#include <optional>
#include <set>
#include <string>

#include "teduh/sync/merge.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::server {

class CaseAccess {
 public:
  // Adds a commit of the case scope (idempotent, any order).
  void apply(const sync::Commit& commit);

  // Offices the case is shared with (not counting the owner).
  std::set<std::string> shared_with() const;
  // The office an accepted transfer hands the case to, if any.
  std::optional<std::string> transferred_to() const;

  // Does the commit (already applied) write a referral or a transfer naming an office
  // without a valid consent for that office? Returns the refusal sentence (no values).
  std::optional<std::string> consent_problem(const sync::Commit& commit) const;

  // Whether a commit writes any entity that can change who shares the case.
  static bool touches_access(const sync::Commit& commit);

 private:
  std::string shown(const sync::EntityId& entity, const std::string& field) const;
  bool consent_valid_for(const std::string& consent_hex, const std::string& office) const;
  bool any_consent_for(const std::string& office) const;

  sync::Replica replica_;
  std::map<sync::EntityId, std::string> types_;  // entity id -> entity type (access types only)
};

}  // namespace teduh::server
