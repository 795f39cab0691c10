#pragma once
// Test support without gtest: what a modified client does to forge a commit. Used by
// HostileDevice (hostile_device.hpp, integration tests) and the simulation's hostile
// device (tests/sim).
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "teduh/client/store.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::testing {

// A version with the commit's clock; supersedes nothing unless told.
inline sync::Version forged_version(const sync::Commit& c, const sync::EntityId& entity, std::string type,
                                    std::string field, std::string value,
                                    std::vector<sync::VersionId> supersedes = {}) {
  sync::Version v;
  v.entity = entity;
  v.entity_type = std::move(type);
  v.field = std::move(field);
  v.value = std::move(value);
  v.hlc = c.hlc;
  v.supersedes = std::move(supersedes);
  return v;
}

// Signs `c` with the store's device key and queues it, not applied, in the store's
// `commits` under the store's own device id and c.seq (the body says whatever `c` says),
// so the next sync pushes it exactly as forged. Moves the store's meta seq past c.seq;
// the caller reopens the store for its counters to follow.
inline client::Result<void> queue_forged(client::Store& s, const sync::Commit& c) {
  const sync::SignedCommit sc = sync::sign_commit(c, s.identity().signing_key);
  auto st = schema::Statement::prepare(
      s.db(),
      "INSERT INTO commits(device, seq, scope, scope_type, hlc, body, signature, server_seq) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)");
  if (!st) return tl::unexpected(client::Error{client::Errc::internal, st.error().message});
  const auto& own = s.identity().device.bytes;
  st->bind_blob(1, std::span<const std::uint8_t>(own.data(), own.size()))
      .bind(2, static_cast<std::int64_t>(c.seq))
      .bind_blob(3, std::span<const std::uint8_t>(c.scope.bytes.data(), c.scope.bytes.size()))
      .bind(4, c.scope_type)
      .bind(5, static_cast<std::int64_t>(c.hlc))
      .bind_blob(6, sc.body)
      .bind_blob(7, sc.signature);
  if (auto run = st->run(); !run) return tl::unexpected(client::Error{client::Errc::internal, run.error().message});
  auto seq = s.meta("seq");
  if (!seq) return tl::unexpected(seq.error());
  const std::uint64_t held = *seq && !(*seq)->empty() ? std::stoull(**seq) : 0;
  if (c.seq > held) return s.set_meta("seq", std::to_string(c.seq));
  return {};
}

}  // namespace teduh::testing
