#include "teduh/sync/version.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "codec_util.hpp"
#include "teduh/schema/entities.hpp"

// The byte layout implemented here is specified in PROTOCOL.md "Commit body"; change
// both together, and only by adding a new format version.

namespace teduh::sync {

// A text field the schema accepts always fits in one version.
static_assert(schema::kMaxTextBytes <= kMaxValueBytes);

namespace {

using detail::Packer;

constexpr std::size_t kCommitFields = 7;
constexpr std::size_t kVersionFields = 6;
constexpr std::size_t kVersionIdFields = 3;

// "teduh-commit-v1" followed by one zero byte: 16 bytes signed before the body.
constexpr std::string_view kCommitSignContext{"teduh-commit-v1\0", 16};

bool is_scope_type(std::string_view s) {
  return s == "kasus" || s == "rumah_aman" || s == "office";
}

crypto::Bytes signed_message(std::span<const std::uint8_t> body) {
  crypto::Bytes msg(kCommitSignContext.size() + body.size());
  std::memcpy(msg.data(), kCommitSignContext.data(), kCommitSignContext.size());
  if (!body.empty()) std::memcpy(msg.data() + kCommitSignContext.size(), body.data(), body.size());
  return msg;
}

// Decoding is in two steps: read (detail::Reader: the one canonical form, the msgpack
// types and the parse limits, else malformed), then check the rules (check_commit, in
// the order below: invalid_commit). A body read completely is canonical: it is exactly
// encode_commit_body() of the commit read.

tl::unexpected<Error> malformed(const char* what) { return fail(Errc::malformed, what); }

// Every array of a body has at most kMaxVersionsPerCommit elements, every str at most
// kMaxValueBytes, every bin exactly 16 bytes (the limits the format has always had).
std::optional<std::size_t> read_array(detail::Reader& r) {
  auto n = r.array();
  if (!n || *n > kMaxVersionsPerCommit) return std::nullopt;
  return n;
}

std::optional<std::string> read_str(detail::Reader& r) {
  auto s = r.str(kMaxValueBytes);
  if (!s) return std::nullopt;
  return std::string(*s);
}

[[nodiscard]] Result<VersionId> read_version_id(detail::Reader& r) {
  auto n = r.array();
  if (n != kVersionIdFields) return malformed("a version id is not [device, seq, index]");
  auto device = r.id();
  auto seq = device ? r.uint() : std::nullopt;
  auto index = seq ? r.uint() : std::nullopt;
  if (!index) return malformed("a version id has a field of the wrong type");
  // Out of range indexes are refused by check_commit; until then, kept in range here.
  if (*index > std::numeric_limits<std::uint32_t>::max()) index = kMaxVersionsPerCommit;
  return VersionId{*device, *seq, static_cast<std::uint32_t>(*index)};
}

[[nodiscard]] Result<Version> read_version(detail::Reader& r) {
  auto n = r.array();
  if (n != kVersionFields) return malformed("a version is not an array of 6");
  auto entity = r.id();
  auto entity_type = entity ? read_str(r) : std::nullopt;
  auto field = entity_type ? read_str(r) : std::nullopt;
  auto value = field ? read_str(r) : std::nullopt;
  auto hlc = value ? r.uint() : std::nullopt;
  auto sup = hlc ? read_array(r) : std::nullopt;
  if (!sup) return malformed("a version has a field of the wrong type");
  Version v;
  v.entity = *entity;
  v.entity_type = std::move(*entity_type);
  v.field = std::move(*field);
  v.value = std::move(*value);
  v.hlc = *hlc;
  v.supersedes.reserve(*sup);
  for (std::size_t i = 0; i < *sup; ++i) {
    auto id = TEDUH_TRY(read_version_id(r));
    v.supersedes.push_back(id);
  }
  return v;
}

[[nodiscard]] Result<Commit> read_commit(std::span<const std::uint8_t> body) {
  detail::Reader r(body);
  auto n = r.array();
  if (!n || *n == 0) return malformed("a commit body is not an array");
  auto format = r.uint();
  if (!format) return malformed("a commit body has no format version");
  if (*format != Commit::kFormatVersion) {
    return fail(Errc::unsupported_version, "commit format version " + std::to_string(*format) + " is not supported");
  }
  if (*n != kCommitFields) return malformed("a commit body is not an array of 7");
  auto device = r.id();
  auto seq = device ? r.uint() : std::nullopt;
  auto scope = seq ? r.id() : std::nullopt;
  auto scope_type = scope ? read_str(r) : std::nullopt;
  auto hlc = scope_type ? r.uint() : std::nullopt;
  auto versions = hlc ? read_array(r) : std::nullopt;
  if (!versions) return malformed("a commit body has a field of the wrong type");
  Commit c;
  c.device = *device;
  c.seq = *seq;
  c.scope = *scope;
  c.scope_type = std::move(*scope_type);
  c.hlc = *hlc;
  c.versions.reserve(*versions);
  for (std::size_t i = 0; i < *versions; ++i) {
    auto v = TEDUH_TRY(read_version(r));
    c.versions.push_back(std::move(v));
  }
  if (!r.at_end()) return malformed("trailing bytes after the commit body");
  return c;
}

[[nodiscard]] Result<void> check_version(const Version& v, const DeviceId& device, std::uint64_t seq) {
  if (v.entity.is_zero()) return fail(Errc::invalid_commit, "a version names the zero entity");
  if (!detail::is_name(v.entity_type)) return fail(Errc::invalid_commit, "a version has an invalid entity type");
  if (!detail::is_name(v.field)) return fail(Errc::invalid_commit, "a version has an invalid field name");
  if (v.value.size() > kMaxValueBytes) return fail(Errc::invalid_commit, "a value is too long");
  if (!detail::is_utf8(v.value)) return fail(Errc::invalid_commit, "a value is not UTF-8");
  if (v.hlc == 0) return fail(Errc::invalid_commit, "a version has a zero hlc");
  if (v.supersedes.size() > kMaxSupersedes) return fail(Errc::invalid_commit, "a version supersedes too many versions");
  std::set<VersionId> seen;
  for (const auto& id : v.supersedes) {
    if (id.device.is_zero() || id.seq == 0 || id.index >= kMaxVersionsPerCommit) {
      return fail(Errc::invalid_commit, "a superseded version id is out of range");
    }
    if (id.device == device && id.seq == seq) {
      return fail(Errc::invalid_commit, "a version supersedes a version of its own commit");
    }
    if (!seen.insert(id).second) return fail(Errc::invalid_commit, "a supersedes list names a version twice");
  }
  return {};
}

[[nodiscard]] Result<void> check_commit(const Commit& c) {
  if (c.device.is_zero()) return fail(Errc::invalid_commit, "a commit names the zero device");
  if (c.seq == 0) return fail(Errc::invalid_commit, "a commit has sequence number 0");
  if (c.scope.is_zero()) return fail(Errc::invalid_commit, "a commit names the zero scope");
  if (!is_scope_type(c.scope_type)) return fail(Errc::invalid_commit, "a commit has an unknown scope type");
  if (c.versions.empty()) return fail(Errc::invalid_commit, "a commit writes no version");
  if (c.versions.size() > kMaxVersionsPerCommit) return fail(Errc::invalid_commit, "a commit writes too many versions");
  Hlc max_hlc = 0;
  for (const auto& v : c.versions) {
    if (auto ok = check_version(v, c.device, c.seq); !ok) return ok;
    max_hlc = std::max(max_hlc, v.hlc);
  }
  std::set<std::pair<EntityId, std::string_view>> written;
  for (const auto& v : c.versions) {
    if (!written.emplace(v.entity, v.field).second) {
      return fail(Errc::invalid_commit, "a commit writes one field of one entity twice");
    }
  }
  if (c.hlc != max_hlc) return fail(Errc::invalid_commit, "the commit hlc is not the greatest hlc of its versions");
  return {};
}

}  // namespace

std::vector<std::uint8_t> encode_commit_body(const Commit& commit) {
  msgpack::sbuffer buf;
  Packer pk(&buf);
  pk.pack_array(kCommitFields);
  pk.pack_uint32(Commit::kFormatVersion);
  detail::pack_id(pk, commit.device);
  pk.pack_uint64(commit.seq);
  detail::pack_id(pk, commit.scope);
  detail::pack_string(pk, commit.scope_type);
  pk.pack_uint64(commit.hlc);
  pk.pack_array(static_cast<std::uint32_t>(commit.versions.size()));
  for (const auto& v : commit.versions) {
    pk.pack_array(kVersionFields);
    detail::pack_id(pk, v.entity);
    detail::pack_string(pk, v.entity_type);
    detail::pack_string(pk, v.field);
    detail::pack_string(pk, v.value);
    pk.pack_uint64(v.hlc);
    pk.pack_array(static_cast<std::uint32_t>(v.supersedes.size()));
    for (const auto& s : v.supersedes) {
      pk.pack_array(kVersionIdFields);
      detail::pack_id(pk, s.device);
      pk.pack_uint64(s.seq);
      pk.pack_uint32(s.index);
    }
  }
  return detail::to_bytes(buf);
}

[[nodiscard]] Result<Commit> decode_commit_body(std::span<const std::uint8_t> body) {
  auto c = read_commit(body);
  if (!c) return c;
  TEDUH_TRY(check_commit(*c));
  return c;
}

SignedCommit sign_commit(const Commit& commit, const crypto::SigningKey& key) {
  SignedCommit s;
  s.device = commit.device;
  s.seq = commit.seq;
  s.body = encode_commit_body(commit);
  s.signature = key.sign(signed_message(s.body));
  return s;
}

[[nodiscard]] Result<Commit> verify_commit(const SignedCommit& signed_commit, const crypto::SignPublicKey& key) {
  if (!crypto::verify_signature(key, signed_message(signed_commit.body), signed_commit.signature)) {
    return fail(Errc::bad_signature, "the commit signature does not verify with the device key");
  }
  auto c = decode_commit_body(signed_commit.body);
  if (!c) return c;
  if (c->device != signed_commit.device || c->seq != signed_commit.seq) {
    return fail(Errc::invalid_commit, "the commit body names another (device, seq) than its envelope");
  }
  return c;
}

}  // namespace teduh::sync
