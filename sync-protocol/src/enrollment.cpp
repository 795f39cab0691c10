#include "teduh/sync/enrollment.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "codec_util.hpp"

// Format: PROTOCOL.md "Enrollment code". Change both together.

namespace teduh::sync {
namespace {

using detail::Packer;

constexpr std::string_view kPrefix = "TDH1.";
// "teduh-enroll-v1" followed by one zero byte: 16 bytes signed before the body.
constexpr std::string_view kEnrollSignContext{"teduh-enroll-v1\0", 16};
constexpr std::size_t kMaxCodeChars = 4096;
constexpr std::size_t kMaxTextBytes = 256;

// Map keys, in the one order the canonical encoding uses.
// Version 1 has the first ten; version 2 adds "adm" (the administrator key).
constexpr std::array<std::string_view, 11> kKeys = {"v", "id", "oc", "on", "ok", "or", "u", "r", "sh", "exp", "adm"};
constexpr std::size_t kV1Keys = 10;

crypto::Bytes signed_message(std::span<const std::uint8_t> body) {
  crypto::Bytes msg(kEnrollSignContext.size() + body.size());
  std::memcpy(msg.data(), kEnrollSignContext.data(), kEnrollSignContext.size());
  if (!body.empty()) std::memcpy(msg.data() + kEnrollSignContext.size(), body.data(), body.size());
  return msg;
}

std::vector<std::uint8_t> encode_grant(const EnrollmentGrant& g) {
  msgpack::sbuffer buf;
  Packer pk(&buf);
  // The keys in their one order, as decode_grant() reads them back: key(k) writes the name
  // of key k, text(k, s) the name and a text value.
  auto key = [&](std::size_t k) { detail::pack_string(pk, kKeys[k]); };
  auto text = [&](std::size_t k, const std::string& value) {
    key(k);
    detail::pack_string(pk, value);
  };
  pk.pack_map(static_cast<std::uint32_t>(g.admin_key ? kKeys.size() : kV1Keys));
  key(0);
  pk.pack_uint32(g.admin_key ? 2 : 1);
  key(1);
  detail::pack_id(pk, g.code_id);
  text(2, g.office_code);
  text(3, g.office_name);
  text(4, g.office_kind);
  text(5, g.office_region);
  text(6, g.user);
  text(7, g.role);
  key(8);
  detail::pack_bool(pk, g.shelter_clearance);
  key(9);
  pk.pack_uint64(g.expires_at_ms);
  if (g.admin_key) {
    key(10);
    detail::pack_bytes(pk, *g.admin_key);
  }
  return detail::to_bytes(buf);
}

bool good_text(std::string_view s, bool may_be_empty) {
  return (may_be_empty || !s.empty()) && s.size() <= kMaxTextBytes && detail::is_utf8(s);
}

// Read with detail::Reader, which accepts only the smallest form of every item; with the
// keys in their one order, a body read completely is exactly encode_grant() of the grant.
[[nodiscard]] Result<EnrollmentGrant> decode_grant(std::span<const std::uint8_t> body) {
  auto malformed = [](const char* what) { return fail(Errc::malformed, what); };
  detail::Reader r(body);
  auto n = r.map();
  if (!n) return malformed("the enrollment body is not a map");
  // The version is the first key, and decides how to read the rest.
  if (*n == 0 || r.str(kMaxTextBytes) != kKeys[0]) return malformed("the enrollment body has no version");
  auto version = r.uint();
  if (!version) return malformed("the enrollment version is not an integer");
  if (*version != 1 && *version != 2) {
    return fail(Errc::unsupported_version, "enrollment code version " + std::to_string(*version) + " is not supported");
  }
  const std::size_t expected = *version == 1 ? kV1Keys : kKeys.size();
  if (*n != expected) return malformed("the enrollment body misses a key or has one of another version");
  auto key = [&](std::size_t k) { return r.str(kMaxTextBytes) == kKeys[k]; };
  auto text = [&](std::size_t k, std::string& out) {
    if (!key(k)) return false;
    auto s = r.str(kMaxTextBytes);
    if (!s) return false;
    out = *s;
    return true;
  };
  EnrollmentGrant g;
  std::optional<Id128> id;
  std::optional<bool> sh;
  std::optional<std::uint64_t> exp;
  const bool read = key(1) && (id = r.id()) && text(2, g.office_code) && text(3, g.office_name) &&
                    text(4, g.office_kind) && text(5, g.office_region) && text(6, g.user) && text(7, g.role) &&
                    key(8) && (sh = r.boolean()) && key(9) && (exp = r.uint());
  if (!read) return malformed("an enrollment key or field is not the one expected there");
  g.code_id = *id;
  g.shelter_clearance = *sh;
  g.expires_at_ms = *exp;
  if (*version == 2) {
    auto adm = key(10) ? r.fixed<crypto::kSignPublicKeySize>() : std::nullopt;
    if (!adm) return malformed("the administrator key in the enrollment code is malformed");
    g.admin_key = *adm;
  }
  if (!r.at_end()) return malformed("trailing bytes after the enrollment body");
  if (g.code_id.is_zero() || !good_text(g.office_code, false) || !good_text(g.office_name, true) ||
      !good_text(g.office_kind, false) || !good_text(g.office_region, true) || !good_text(g.user, false) ||
      !good_text(g.role, false)) {
    return malformed("an enrollment field is empty, too long or not UTF-8");
  }
  return g;
}

}  // namespace

std::string issue_enrollment_code(const EnrollmentGrant& grant, const crypto::SigningKey& server_key) {
  const auto body = encode_grant(grant);
  const crypto::Signature sig = server_key.sign(signed_message(body));
  std::string out(kPrefix);
  out += crypto::to_base64url(body);
  out.push_back('.');
  out += crypto::to_base64url(sig);
  return out;
}

[[nodiscard]] Result<EnrollmentGrant> verify_enrollment_code(std::string_view code, const crypto::SignPublicKey& server_key,
                                               std::uint64_t now_ms) {
  if (code.size() > kMaxCodeChars) return fail(Errc::malformed, "the enrollment code is too long");
  if (!code.starts_with(kPrefix)) {
    // "TDH" + another version number + ".": a code from another Teduh release.
    std::size_t i = 3;
    while (i < code.size() && code[i] >= '0' && code[i] <= '9') ++i;
    if (code.starts_with("TDH") && i > 3 && i < code.size() && code[i] == '.') {
      return fail(Errc::unsupported_version, "this enrollment code is from another version of Teduh");
    }
    return fail(Errc::malformed, "not an enrollment code");
  }
  const std::string_view rest = code.substr(kPrefix.size());
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos || rest.find('.', dot + 1) != std::string_view::npos) {
    return fail(Errc::malformed, "an enrollment code has three parts");
  }
  auto body = crypto::from_base64url(rest.substr(0, dot));
  auto sig_bytes = crypto::from_base64url(rest.substr(dot + 1));
  if (!body || !sig_bytes || body->empty() || sig_bytes->size() != crypto::kSignatureSize) {
    return fail(Errc::malformed, "the enrollment code is damaged");
  }
  crypto::Signature sig{};
  std::copy(sig_bytes->begin(), sig_bytes->end(), sig.begin());
  if (!crypto::verify_signature(server_key, signed_message(*body), sig)) {
    return fail(Errc::bad_signature, "the enrollment code was not issued by this server");
  }
  auto grant = decode_grant(*body);
  if (!grant) return grant;
  if (now_ms >= grant->expires_at_ms) return fail(Errc::expired, "the enrollment code has expired");
  return grant;
}

}  // namespace teduh::sync
