#pragma once
// Versions and commits (DESIGN.md section 4, PROTOCOL.md).
//
// A version is one write of one field of one entity. It is named by the commit that
// carries it and its index there: (device, seq, index). `supersedes` lists the versions
// of the same field that the writer saw as live when it wrote.
//
// A commit is one local action: the versions it writes, all in one scope, identified by
// (device, seq) where seq counts 1, 2, 3... per device, and signed by the device's
// Ed25519 key over its canonical msgpack encoding (encode_commit_body). Replicas store
// and forward the body bytes and signature unaltered.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "teduh/crypto/keys.hpp"
#include "teduh/sync/error.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/ids.hpp"

namespace teduh::sync {

struct VersionId {
  DeviceId device;
  std::uint64_t seq = 0;
  std::uint32_t index = 0;
  auto operator<=>(const VersionId&) const = default;
};

struct Version {
  EntityId entity;
  std::string entity_type;  // schema entity name, e.g. "kasus"
  std::string field;        // schema field name, or "_deleted"
  std::string value;        // canonical text (schema/entities.hpp)
  Hlc hlc = 0;
  std::vector<VersionId> supersedes;
  bool operator==(const Version&) const = default;
};

struct Commit {
  static constexpr std::uint32_t kFormatVersion = 1;
  DeviceId device;
  std::uint64_t seq = 0;
  EntityId scope;            // the case, shelter or office this commit writes in
  std::string scope_type;    // "kasus", "rumah_aman" or "office"
  Hlc hlc = 0;               // the greatest hlc of its versions
  std::vector<Version> versions;
  bool operator==(const Commit&) const = default;

  [[nodiscard]] VersionId version_id(std::uint32_t index) const { return {device, seq, index}; }
};

// A commit as it travels and is stored: canonical body bytes and the signature.
struct SignedCommit {
  DeviceId device;
  std::uint64_t seq = 0;
  std::vector<std::uint8_t> body;
  crypto::Signature signature{};
};

// Canonical msgpack encoding (PROTOCOL.md "Commit body"): equal commits encode to equal bytes.
std::vector<std::uint8_t> encode_commit_body(const Commit& commit);
// Decodes and checks structure (sizes, limits, every version in the commit's scope is
// well-formed). Never throws; msgpack exceptions become Errc::malformed.
[[nodiscard]] Result<Commit> decode_commit_body(std::span<const std::uint8_t> body);

SignedCommit sign_commit(const Commit& commit, const crypto::SigningKey& key);
// Verifies the signature with the device's public key, decodes the body, and checks
// that the body names the same (device, seq) as the envelope.
[[nodiscard]] Result<Commit> verify_commit(const SignedCommit& signed_commit, const crypto::SignPublicKey& key);

// Limits (PROTOCOL.md): a commit holds at most kMaxVersionsPerCommit versions, a value at
// most kMaxValueBytes, a supersedes list at most kMaxSupersedes entries.
inline constexpr std::size_t kMaxVersionsPerCommit = 10000;
inline constexpr std::size_t kMaxValueBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxSupersedes = 256;

}  // namespace teduh::sync
