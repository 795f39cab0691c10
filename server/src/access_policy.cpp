#include "teduh/server/access_policy.hpp"

namespace teduh::server {

bool AccessPolicy::may_read(const DeviceRecord& device, const ScopeRecord& /*scope*/) const {
  // For now every enrolled office reads every scope. The per-office rules (DESIGN.md
  // section 5) replace this body; shelter scopes already travel only as ciphertext.
  return !device.revoked();
}

bool AccessPolicy::may_write(const DeviceRecord& device, const std::optional<ScopeRecord>& scope,
                             std::string_view scope_type) const {
  if (device.revoked()) return false;
  // A scope keeps the type it was created with.
  return !scope || scope->type == scope_type;
}

}  // namespace teduh::server
