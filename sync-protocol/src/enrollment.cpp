#include "teduh/sync/enrollment.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
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
  pk.pack_map(static_cast<std::uint32_t>(g.admin_key ? kKeys.size() : kV1Keys));
  detail::pack_string(pk, kKeys[0]);
  pk.pack_uint32(g.admin_key ? 2 : 1);
  detail::pack_string(pk, kKeys[1]);
  detail::pack_id(pk, g.code_id);
  detail::pack_string(pk, kKeys[2]);
  detail::pack_string(pk, g.office_code);
  detail::pack_string(pk, kKeys[3]);
  detail::pack_string(pk, g.office_name);
  detail::pack_string(pk, kKeys[4]);
  detail::pack_string(pk, g.office_kind);
  detail::pack_string(pk, kKeys[5]);
  detail::pack_string(pk, g.office_region);
  detail::pack_string(pk, kKeys[6]);
  detail::pack_string(pk, g.user);
  detail::pack_string(pk, kKeys[7]);
  detail::pack_string(pk, g.role);
  detail::pack_string(pk, kKeys[8]);
  if (g.shelter_clearance) {
    pk.pack_true();
  } else {
    pk.pack_false();
  }
  detail::pack_string(pk, kKeys[9]);
  pk.pack_uint64(g.expires_at_ms);
  if (g.admin_key) {
    detail::pack_string(pk, kKeys[10]);
    pk.pack_bin(static_cast<std::uint32_t>(g.admin_key->size()));
    pk.pack_bin_body(reinterpret_cast<const char*>(g.admin_key->data()),
                     static_cast<std::uint32_t>(g.admin_key->size()));
  }
  return detail::to_bytes(buf);
}

bool good_text(const std::string& s, bool may_be_empty) {
  return (may_be_empty || !s.empty()) && s.size() <= kMaxTextBytes && detail::is_utf8(s);
}

Result<EnrollmentGrant> decode_grant(std::span<const std::uint8_t> body) {
  const msgpack::unpack_limit limit(/*array=*/0, /*map=*/kKeys.size(), /*str=*/kMaxTextBytes,
                                    /*bin=*/32, /*ext=*/0, /*depth=*/1);
  std::size_t off = 0;
  msgpack::object_handle oh =
      msgpack::unpack(reinterpret_cast<const char*>(body.data()), body.size(), off, nullptr, nullptr, limit);
  if (off != body.size()) return fail(Errc::malformed, "trailing bytes after the enrollment body");
  const msgpack::object& root = oh.get();
  if (root.type != msgpack::type::MAP) return fail(Errc::malformed, "the enrollment body is not a map");

  std::array<const msgpack::object*, kKeys.size()> vals{};
  for (std::uint32_t i = 0; i < root.via.map.size; ++i) {
    const auto& kv = root.via.map.ptr[i];
    auto key = detail::read_str(kv.key);
    if (!key) return fail(Errc::malformed, "an enrollment key is not a string");
    std::size_t k = 0;
    while (k < kKeys.size() && kKeys[k] != *key) ++k;
    if (k == kKeys.size() || vals[k] != nullptr) return fail(Errc::malformed, "unknown or repeated enrollment key");
    vals[k] = &kv.val;
  }
  // The version decides how to read the rest, so it is checked first.
  if (vals[0] == nullptr) return fail(Errc::malformed, "the enrollment body has no version");
  auto version = detail::read_uint(*vals[0]);
  if (!version) return fail(Errc::malformed, "the enrollment version is not an integer");
  if (*version != 1 && *version != 2) {
    return fail(Errc::unsupported_version, "enrollment code version " + std::to_string(*version) + " is not supported");
  }
  const std::size_t expected = *version == 1 ? kV1Keys : kKeys.size();
  for (std::size_t k = 0; k < kKeys.size(); ++k) {
    if ((vals[k] != nullptr) != (k < expected)) {
      return fail(Errc::malformed, "the enrollment body misses a key or has one of another version");
    }
  }
  EnrollmentGrant g;
  auto id = detail::read_id(*vals[1]);
  auto oc = detail::read_str(*vals[2]);
  auto on = detail::read_str(*vals[3]);
  auto ok = detail::read_str(*vals[4]);
  auto orr = detail::read_str(*vals[5]);
  auto u = detail::read_str(*vals[6]);
  auto r = detail::read_str(*vals[7]);
  auto sh = detail::read_bool(*vals[8]);
  auto exp = detail::read_uint(*vals[9]);
  if (!id || !oc || !on || !ok || !orr || !u || !r || !sh || !exp) {
    return fail(Errc::malformed, "an enrollment field has the wrong type");
  }
  g.code_id = *id;
  g.office_code = std::move(*oc);
  g.office_name = std::move(*on);
  g.office_kind = std::move(*ok);
  g.office_region = std::move(*orr);
  g.user = std::move(*u);
  g.role = std::move(*r);
  g.shelter_clearance = *sh;
  g.expires_at_ms = *exp;
  if (*version == 2) {
    if (vals[10]->type != msgpack::type::BIN || vals[10]->via.bin.size != crypto::kSignPublicKeySize) {
      return fail(Errc::malformed, "the administrator key in the enrollment code is malformed");
    }
    crypto::SignPublicKey adm{};
    std::memcpy(adm.data(), vals[10]->via.bin.ptr, adm.size());
    g.admin_key = adm;
  }
  if (g.code_id.is_zero() || !good_text(g.office_code, false) || !good_text(g.office_name, true) ||
      !good_text(g.office_kind, false) || !good_text(g.office_region, true) || !good_text(g.user, false) ||
      !good_text(g.role, false)) {
    return fail(Errc::malformed, "an enrollment field is empty, too long or not UTF-8");
  }
  if (encode_grant(g) != std::vector<std::uint8_t>(body.begin(), body.end())) {
    return fail(Errc::malformed, "the enrollment body is not in canonical form");
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

Result<EnrollmentGrant> verify_enrollment_code(std::string_view code, const crypto::SignPublicKey& server_key,
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
  Result<EnrollmentGrant> grant = fail(Errc::malformed, "");
  try {
    grant = decode_grant(*body);
  } catch (const std::exception&) {
    return fail(Errc::malformed, "the enrollment body is not valid msgpack");
  }
  if (!grant) return grant;
  if (now_ms >= grant->expires_at_ms) return fail(Errc::expired, "the enrollment code has expired");
  return grant;
}

}  // namespace teduh::sync
