#pragma once
// Authorization: the ONE place that decides which device may read or write which scope
// (DESIGN.md section 5, PERMISSIONS.md). Every push and every pull goes through it.
//
// A device is one user of one office, with a role and maybe shelter clearance.
//   case (kasus)      read and write: devices of the owner office and of offices the case
//                     is shared with (ScopeView::shared), whose role reads cases
//                     (schema::role_reads_cases); never the central office (pusat),
//                     which gets de-identified reports only. Writing a shelter stay
//                     (penempatan) needs shelter clearance and the tempatkan action.
//   shelter           read: devices with the shelter grant whose role may manage shelters
//   (rumah_aman)      or place victims; write: devices cleared by the administrator whose
//                     role may manage them, and for an existing shelter only devices of
//                     the office that recorded it. The secret fields are ciphertext of the
//                     shelter compartment in any case.
//   office            read and write: devices of that office.
//   (audit trail)     a device of an office that held a case and lost it may still push
//                     commits that only record its own accesses (audit events naming the
//                     device and its office): the owner learns of an export or a view
//                     made while the office held the case, even when the device syncs
//                     only after losing it (PROTOCOL.md section 5B).
// A new scope is created by the device's office, which owns it. Every write is also held
// to the role table action by action (sync/write_rules.hpp, PERMISSIONS.md section 3);
// the rules that depend on a case's referrals and transfers are CaseAccess's.
// Clearance for writes is DeviceRecord::shelter AND DeviceRecord::cleared().
#include <optional>
#include <string>
#include <string_view>

#include "teduh/server/records.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::server {

// A scope as the policy needs it: the record, and whether it is shared with the office
// of the device asking (an active scope_access row).
struct ScopeView {
  ScopeRecord record;
  bool shared = false;
  // The office of the device asking held the case before and has lost it (a scope_access
  // row with revoked_at set: a referral ended, a consent withdrawn, a transfer away).
  bool held_before = false;
};

class AccessPolicy {
 public:
  // office_kind: the jenis_kantor of the device's office.
  [[nodiscard]] bool may_read(const DeviceRecord& device, std::string_view office_kind, const ScopeView& scope) const;
  // nullopt when allowed; otherwise one sentence for the rejection and the log (no values).
  // scope: nullopt when no commit has created the scope yet.
  [[nodiscard]] std::optional<std::string> write_refusal(const DeviceRecord& device, std::string_view office_kind,
                                           const std::optional<ScopeView>& scope, const sync::Commit& commit) const;
};

}  // namespace teduh::server
