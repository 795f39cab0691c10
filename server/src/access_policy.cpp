#include "teduh/server/access_policy.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "teduh/schema/permissions.hpp"
#include "teduh/sync/write_rules.hpp"

namespace teduh::server {

using schema::Action;

namespace {

// True when every version of the commit belongs to an audit event, and every audit event
// in it names this device and its office: the commit records accesses of this device and
// changes nothing else.
bool records_own_accesses_only(const DeviceRecord& device, const sync::Commit& commit) {
  if (commit.versions.empty()) return false;
  std::map<sync::EntityId, std::pair<bool, bool>> named;  // audit event -> (device, office) named
  for (const sync::Version& v : commit.versions) {
    if (v.entity_type != "audit") return false;
    auto& [by_device, by_office] = named[v.entity];
    if (v.field == "device") {
      if (v.value != device.device_id.hex()) return false;
      by_device = true;
    } else if (v.field == "office") {
      if (v.value != device.office) return false;
      by_office = true;
    } else if (v.field == "_deleted") {
      return false;
    }
  }
  return std::all_of(named.begin(), named.end(), [](const auto& e) { return e.second.first && e.second.second; });
}

}  // namespace

bool AccessPolicy::may_read(const DeviceRecord& device, std::string_view office_kind, const ScopeView& scope) const {
  if (device.revoked()) return false;
  const ScopeRecord& s = scope.record;
  if (s.type == "kasus") {
    return schema::role_reads_cases(device.role, office_kind) && (s.owner_office == device.office || scope.shared);
  }
  if (s.type == "rumah_aman") {
    return device.shelter && office_kind != "pusat" &&
           (schema::role_may(device.role, Action::kelola_rumah_aman) ||
            schema::role_may(device.role, Action::tempatkan));
  }
  if (s.type == "office") return s.owner_office == device.office;
  return false;
}

std::optional<std::string> AccessPolicy::write_refusal(const DeviceRecord& device, std::string_view office_kind,
                                                       const std::optional<ScopeView>& scope,
                                                       const sync::Commit& commit) const {
  if (device.revoked()) return "this device has been revoked";
  if (scope && scope->record.type != commit.scope_type) return "a scope keeps the type it was created with";
  // Clearance on the server is the enrollment grant AND the administrator's clearance,
  // which gives the device the compartment key (teduhd device clear): a device enrolled
  // with --shelter but never cleared writes no shelter and places no victim.
  const bool cleared = device.shelter && device.cleared();
  const bool scope_is_new = !scope.has_value();
  if (commit.scope_type == "kasus") {
    if (!schema::role_writes_cases(device.role, office_kind)) {
      return "the role or office of this device may not write cases";
    }
    if (scope && scope->record.owner_office != device.office && !scope->shared &&
        !(scope->held_before && records_own_accesses_only(device, commit))) {
      return "this case is neither owned by nor referred to the office of this device";
    }
    for (const sync::Version& v : commit.versions) {
      if (v.entity_type == "penempatan" && schema::refusal(device.role, office_kind, cleared, Action::tempatkan)) {
        return "a shelter stay needs a device with shelter clearance, cleared by the administrator, whose role "
               "may place victims";
      }
    }
    // Every other rule of the permission table (PERMISSIONS.md section 3).
    return sync::write_refusal(commit, scope_is_new, device.role, office_kind, cleared);
  }
  if (commit.scope_type == "rumah_aman") {
    if (schema::refusal(device.role, office_kind, cleared, Action::kelola_rumah_aman)) {
      return "shelters are written only by devices with shelter clearance, cleared by the administrator, whose "
             "role may manage them";
    }
    // A shelter is kept by the office that recorded it: other offices' cleared staff read
    // it and place victims in it, but do not rename it or change its details.
    if (scope && scope->record.owner_office != device.office) {
      return "a shelter is changed only by devices of the office that recorded it";
    }
    return sync::write_refusal(commit, scope_is_new, device.role, office_kind, cleared);
  }
  if (commit.scope_type == "office") {
    if (scope && scope->record.owner_office != device.office) return "an office writes only its own office record";
    return std::nullopt;
  }
  return "the commit's scope type is unknown";
}

}  // namespace teduh::server
