#pragma once
// Enrollment codes (DESIGN.md section 5, PROTOCOL.md "Enrollment code").
//
// An administrator's one-time code for one user of one office: a token signed by the
// server's Ed25519 key, naming the office, the user, the role, shelter clearance, an
// expiry and a random code id. A device verifies it offline against the server key it
// was given, and starts working at once; it registers with the code on first contact,
// and the server accepts each code id once. Text form: "TDH1." + base64url(body) + "." +
// base64url(signature), where body is a msgpack map (PROTOCOL.md).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "teduh/crypto/keys.hpp"
#include "teduh/sync/error.hpp"
#include "teduh/sync/ids.hpp"

namespace teduh::sync {

struct EnrollmentGrant {
  // Version 1: no administrator key. Version 2: with the administrator's public signing
  // key ("adm"), which the device pins to verify shelter key wraps (PROTOCOL.md 5D).
  // issue_enrollment_code writes version 2 exactly when admin_key is set.
  static constexpr std::uint32_t kFormatVersion = 2;
  Id128 code_id;
  std::string office_code;
  std::string office_name;
  std::string office_kind;   // jenis_kantor code
  std::string office_region; // BPS kode wilayah, may be empty
  std::string user;
  std::string role;          // peran_pengguna code
  bool shelter_clearance = false;
  std::uint64_t expires_at_ms = 0;
  std::optional<crypto::SignPublicKey> admin_key;  // version 2 only
  bool operator==(const EnrollmentGrant&) const = default;
};

std::string issue_enrollment_code(const EnrollmentGrant& grant, const crypto::SigningKey& server_key);
// Fails with malformed (not a code), bad_signature (not signed by this server) or
// expired (now_ms past expiry).
[[nodiscard]] Result<EnrollmentGrant> verify_enrollment_code(std::string_view code,
                                               const crypto::SignPublicKey& server_key,
                                               std::uint64_t now_ms);

}  // namespace teduh::sync
