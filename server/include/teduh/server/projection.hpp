#pragma once
// The central office's view of a case: a de-identified projection made by the server
// from the case's versions and signed by the server (DESIGN.md section 4, PROTOCOL.md
// section 5C). It holds codes, dates, the victim's sex and age group, the office and its
// region, the services given and the dates that decide the deadlines, and two keyed
// hashes for the duplicate finder. It never holds a name, NIK, address, phone number,
// free text, or anything of a shelter.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "teduh/crypto/keys.hpp"
#include "teduh/crypto/secure.hpp"
#include "teduh/server/records.hpp"
#include "teduh/sync/projection.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::server {

// The projection document of one case from all its commits (any order).
// dedup_key: the server's secret key for the duplicate hashes (never sent anywhere).
nlohmann::json build_projection(const sync::EntityId& scope, std::span<const sync::Commit> commits,
                                const OfficeRecord& owner, crypto::ByteView dedup_key);

// The keyed hash of a normal form ("nik:" or "nama:" domain), hex, or "" for "".
std::string match_hash(crypto::ByteView dedup_key, std::string_view domain, const std::string& normal);

using sync::projection_signed_bytes;  // what the server signs (sync/projection.hpp)

}  // namespace teduh::server
