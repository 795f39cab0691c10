#include "teduh/sync/version.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <set>
#include <string_view>
#include <utility>

#include "codec_util.hpp"

// The byte layout implemented here is specified in PROTOCOL.md "Commit body"; change
// both together, and only by adding a new format version.

namespace teduh::sync {
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

Result<VersionId> decode_version_id(const msgpack::object& o) {
  auto a = detail::read_array(o);
  if (a.size() != kVersionIdFields) return fail(Errc::malformed, "a version id is not [device, seq, index]");
  auto device = detail::read_id(a[0]);
  auto seq = detail::read_uint(a[1]);
  auto index = detail::read_uint(a[2]);
  if (!device || !seq || !index) return fail(Errc::malformed, "a version id has a field of the wrong type");
  if (device->is_zero() || *seq == 0 || *index >= kMaxVersionsPerCommit) {
    return fail(Errc::invalid_commit, "a superseded version id is out of range");
  }
  return VersionId{*device, *seq, static_cast<std::uint32_t>(*index)};
}

Result<Version> decode_version(const msgpack::object& o, const DeviceId& device, std::uint64_t seq) {
  auto a = detail::read_array(o);
  if (a.size() != kVersionFields) return fail(Errc::malformed, "a version is not an array of 6");
  auto entity = detail::read_id(a[0]);
  auto entity_type = detail::read_str(a[1]);
  auto field = detail::read_str(a[2]);
  auto value = detail::read_str(a[3]);
  auto hlc = detail::read_uint(a[4]);
  if (!entity || !entity_type || !field || !value || !hlc || a[5].type != msgpack::type::ARRAY) {
    return fail(Errc::malformed, "a version has a field of the wrong type");
  }
  if (entity->is_zero()) return fail(Errc::invalid_commit, "a version names the zero entity");
  if (!detail::is_name(*entity_type)) return fail(Errc::invalid_commit, "a version has an invalid entity type");
  if (!detail::is_name(*field)) return fail(Errc::invalid_commit, "a version has an invalid field name");
  if (value->size() > kMaxValueBytes) return fail(Errc::invalid_commit, "a value is too long");
  if (!detail::is_utf8(*value)) return fail(Errc::invalid_commit, "a value is not UTF-8");
  if (*hlc == 0) return fail(Errc::invalid_commit, "a version has a zero hlc");
  const auto sup = detail::read_array(a[5]);
  if (sup.size() > kMaxSupersedes) return fail(Errc::invalid_commit, "a version supersedes too many versions");

  Version v;
  v.entity = *entity;
  v.entity_type = std::move(*entity_type);
  v.field = std::move(*field);
  v.value = std::move(*value);
  v.hlc = *hlc;
  v.supersedes.reserve(sup.size());
  std::set<VersionId> seen;
  for (const auto& so : sup) {
    auto id = decode_version_id(so);
    if (!id) return tl::unexpected(id.error());
    if (id->device == device && id->seq == seq) {
      return fail(Errc::invalid_commit, "a version supersedes a version of its own commit");
    }
    if (!seen.insert(*id).second) return fail(Errc::invalid_commit, "a supersedes list names a version twice");
    v.supersedes.push_back(*id);
  }
  return v;
}

Result<Commit> decode_body_unchecked(std::span<const std::uint8_t> body) {
  // Hard bounds applied while parsing, so hostile bytes cannot make the parser allocate
  // more than the limits allow. Depth: body > versions > version > supersedes > id.
  const msgpack::unpack_limit limit(/*array=*/kMaxVersionsPerCommit, /*map=*/0,
                                    /*str=*/kMaxValueBytes, /*bin=*/16, /*ext=*/0,
                                    /*depth=*/5);
  std::size_t off = 0;
  msgpack::object_handle oh =
      msgpack::unpack(reinterpret_cast<const char*>(body.data()), body.size(), off, nullptr, nullptr, limit);
  if (off != body.size()) return fail(Errc::malformed, "trailing bytes after the commit body");
  const msgpack::object& root = oh.get();
  auto a = detail::read_array(root);
  if (a.empty()) return fail(Errc::malformed, "a commit body is not an array");
  auto format = detail::read_uint(a[0]);
  if (!format) return fail(Errc::malformed, "a commit body has no format version");
  if (*format != Commit::kFormatVersion) {
    return fail(Errc::unsupported_version, "commit format version " + std::to_string(*format) + " is not supported");
  }
  if (a.size() != kCommitFields) return fail(Errc::malformed, "a commit body is not an array of 7");

  auto device = detail::read_id(a[1]);
  auto seq = detail::read_uint(a[2]);
  auto scope = detail::read_id(a[3]);
  auto scope_type = detail::read_str(a[4]);
  auto hlc = detail::read_uint(a[5]);
  if (!device || !seq || !scope || !scope_type || !hlc || a[6].type != msgpack::type::ARRAY) {
    return fail(Errc::malformed, "a commit body has a field of the wrong type");
  }
  if (device->is_zero()) return fail(Errc::invalid_commit, "a commit names the zero device");
  if (*seq == 0) return fail(Errc::invalid_commit, "a commit has sequence number 0");
  if (scope->is_zero()) return fail(Errc::invalid_commit, "a commit names the zero scope");
  if (!is_scope_type(*scope_type)) return fail(Errc::invalid_commit, "a commit has an unknown scope type");

  auto versions = detail::read_array(a[6]);
  if (versions.empty()) return fail(Errc::invalid_commit, "a commit writes no version");
  if (versions.size() > kMaxVersionsPerCommit) return fail(Errc::invalid_commit, "a commit writes too many versions");

  Commit c;
  c.device = *device;
  c.seq = *seq;
  c.scope = *scope;
  c.scope_type = std::move(*scope_type);
  c.hlc = *hlc;
  c.versions.reserve(versions.size());
  std::set<std::pair<EntityId, std::string_view>> written;
  Hlc max_hlc = 0;
  for (const auto& vo : versions) {
    auto v = decode_version(vo, c.device, c.seq);
    if (!v) return tl::unexpected(v.error());
    max_hlc = std::max(max_hlc, v->hlc);
    c.versions.push_back(std::move(*v));
  }
  for (const auto& v : c.versions) {
    if (!written.emplace(v.entity, v.field).second) {
      return fail(Errc::invalid_commit, "a commit writes one field of one entity twice");
    }
  }
  if (c.hlc != max_hlc) return fail(Errc::invalid_commit, "the commit hlc is not the greatest hlc of its versions");
  return c;
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

Result<Commit> decode_commit_body(std::span<const std::uint8_t> body) {
  try {
    auto c = decode_body_unchecked(body);
    if (!c) return c;
    // Exactly one encoding is accepted (shortest integers, shortest length prefixes), so
    // the bytes a device signed are the only bytes that name this commit.
    if (encode_commit_body(*c) != std::vector<std::uint8_t>(body.begin(), body.end())) {
      return fail(Errc::malformed, "the commit body is not in canonical form");
    }
    return c;
  } catch (const std::bad_alloc&) {
    return fail(Errc::malformed, "the commit body is too large");
  } catch (const std::exception&) {
    return fail(Errc::malformed, "the commit body is not valid msgpack");
  }
}

SignedCommit sign_commit(const Commit& commit, const crypto::SigningKey& key) {
  SignedCommit s;
  s.device = commit.device;
  s.seq = commit.seq;
  s.body = encode_commit_body(commit);
  s.signature = key.sign(signed_message(s.body));
  return s;
}

Result<Commit> verify_commit(const SignedCommit& signed_commit, const crypto::SignPublicKey& key) {
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
