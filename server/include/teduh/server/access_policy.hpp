#pragma once
// Authorization: the ONE place that decides which device may read or write which scope
// (DESIGN.md section 5). Every push and every pull goes through it.
//
// Today's rule: any registered, non-revoked device may read every scope, and may write
// a scope whose type matches the type the scope was created with (a scope never changes
// type). The per-office rules (own cases, referrals with consent, kelurahan intakes,
// shelter clearance, the central office's de-identified view) extend this class; its
// callers stay as they are.
#include <optional>
#include <string_view>

#include "teduh/server/records.hpp"

namespace teduh::server {

class AccessPolicy {
 public:
  // scope: the scope as the server knows it; nullopt when no commit has created it yet.
  bool may_read(const DeviceRecord& device, const ScopeRecord& scope) const;
  bool may_write(const DeviceRecord& device, const std::optional<ScopeRecord>& scope,
                 std::string_view scope_type) const;
};

}  // namespace teduh::server
