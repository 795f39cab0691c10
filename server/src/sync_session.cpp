#include "teduh/server/sync_session.hpp"

#include <algorithm>
#include <utility>
#include <limits>
#include <type_traits>

#include <spdlog/spdlog.h>

namespace teduh::server {
namespace wire = sync::wire;

namespace {

std::string clip(std::string text, std::size_t max_bytes) {
  if (text.size() > max_bytes) text.resize(max_bytes);
  return text;
}

// The commits of a pull batch as a PullReply (cursor and `more` left to the caller);
// the bodies are moved out of the batch.
wire::PullReply to_reply(std::vector<LogEntry>& commits) {
  wire::PullReply out;
  out.commits.reserve(commits.size());
  for (LogEntry& e : commits) {
    wire::PulledCommit pc;
    pc.server_seq = static_cast<std::uint64_t>(e.server_seq);
    pc.commit.device = e.device;
    pc.commit.seq = e.seq;
    pc.commit.body = std::move(e.body);
    pc.commit.signature = e.signature;
    out.commits.push_back(std::move(pc));
  }
  return out;
}

SessionStep reply(wire::Message message) {
  SessionStep step;
  step.replies.push_back(std::move(message));
  return step;
}

SessionStep internal_error(const Error& e, std::string_view during) {
  return drop_with(wire::ErrorCode::internal, "the server failed; nothing was half applied",
                   "storage error during " + std::string(during) + " (" +
                       std::to_string(static_cast<int>(e.code)) + ")");
}

// An upper bound of the encoded size of a message whose size grows with what it
// carries: msgpack headers of each item are far under 128 bytes.
std::size_t size_bound(const wire::Message& message) {
  std::size_t n = 64;
  if (const auto* pr = std::get_if<wire::PullReply>(&message)) {
    for (const wire::PulledCommit& c : pr->commits) n += c.commit.body.size() + 128;
  } else if (const auto* pb = std::get_if<wire::ProjectionBatch>(&message)) {
    for (const wire::SignedProjection& p : pb->projections) n += p.body.size() + 128;
  }
  return n;
}

}  // namespace

SessionStep checked(SessionStep step) {
  // A reply the wire does not allow would be refused by encode and the peer would only
  // see a dropped connection: say what happened instead (WIRE.md section 5).
  for (const wire::Message& m : step.replies) {
    auto ok = wire::validate(m);
    if (ok && size_bound(m) <= wire::kMaxMessageSize) continue;
    const int type = static_cast<int>(wire::type_of(m));
    return drop_with(wire::ErrorCode::internal,
                     "the server could not fit its reply within the protocol's limits; nothing was half applied",
                     "reply of type " + std::to_string(type) + " breaks the wire limits" +
                         (ok ? std::string(" (size)") : " (" + ok.error().message + ")"));
  }
  return step;
}

SessionStep drop_with(wire::ErrorCode code, std::string message, std::string reason) {
  SessionStep step;
  step.replies.push_back(wire::ErrorMessage{code, clip(std::move(message), wire::kMaxErrorMessageBytes)});
  step.after = SessionStep::After::drop;
  step.reason = std::move(reason);
  return step;
}

SyncSession::SyncSession(ServerStore& store, const crypto::DhPublicKey& peer_static, std::uint64_t connection_id)
    : store_(store), peer_static_(peer_static), connection_id_(connection_id) {}

SessionStep SyncSession::handle(const wire::Message& message) {
  if (!hello_done_ && !std::holds_alternative<wire::Hello>(message) && !std::holds_alternative<wire::Close>(message)) {
    return drop_with(wire::ErrorCode::protocol_violation, "the first message must be Hello", "message before Hello");
  }
  return std::visit(
      [this](const auto& m) -> SessionStep {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wire::Hello>) {
          return on_hello(m);
        } else if constexpr (std::is_same_v<T, wire::RegisterDevice>) {
          return on_register(m);
        } else if constexpr (std::is_same_v<T, wire::PushCommits>) {
          return on_push(m);
        } else if constexpr (std::is_same_v<T, wire::Pull>) {
          return checked(on_pull(m));
        } else if constexpr (std::is_same_v<T, wire::PullOwn>) {
          return checked(on_pull_own(m));
        } else if constexpr (std::is_same_v<T, wire::FetchProjections>) {
          return checked(on_fetch_projections(m));
        } else if constexpr (std::is_same_v<T, wire::KeyWrapsRequest>) {
          return on_key_wraps(m);
        } else if constexpr (std::is_same_v<T, wire::DirectoryRequest>) {
          return on_directory(m);
        } else if constexpr (std::is_same_v<T, wire::Close>) {
          SessionStep step = reply(wire::Close{});
          step.after = SessionStep::After::close;
          return step;
        } else if constexpr (std::is_same_v<T, wire::ErrorMessage>) {
          SessionStep step;
          step.after = SessionStep::After::drop;
          step.reason = "peer sent Error " + std::to_string(static_cast<std::uint32_t>(m.code));
          return step;
        } else {
          return drop_with(wire::ErrorCode::protocol_violation, "this message is not sent to a server",
                           "server-bound message of type " +
                               std::to_string(static_cast<int>(wire::type_of(wire::Message{m}))));
        }
      },
      message);
}

SessionStep SyncSession::on_hello(const wire::Hello& hello) {
  if (hello_done_) return drop_with(wire::ErrorCode::protocol_violation, "Hello was already sent", "second Hello");
  if (std::find(hello.versions.begin(), hello.versions.end(), wire::kProtocolVersion) == hello.versions.end()) {
    return drop_with(wire::ErrorCode::unsupported_version, "this server speaks sync protocol version 1 only",
                     "no common protocol version");
  }
  hello_done_ = true;
  wire::HelloReply out;
  out.version = wire::kProtocolVersion;
  out.server_id = store_.server_id();
  auto device = store_.find_device_by_dh(peer_static_);
  if (!device) return internal_error(device.error(), "hello");
  if (*device) {
    if ((*device)->revoked()) {
      return drop_with(wire::ErrorCode::device_revoked, "this device has been revoked",
                       "revoked device " + (*device)->device_id.hex());
    }
    device_id_ = (*device)->device_id;
    auto last = store_.last_acked(*device_id_);
    if (!last) return internal_error(last.error(), "hello");
    out.registered = true;
    out.last_acked_seq = *last;
    if (hello.acked_seq > *last) {
      spdlog::error("conn {}: the store lost acknowledged commits of device {}: acknowledged up to seq {}, the store "
                    "holds up to seq {}; the device pushes them again",
                    connection_id_, device_id_->hex(), hello.acked_seq, *last);
    }
    if (auto r = store_.touch_device(*device_id_); !r) return internal_error(r.error(), "hello");
  } else if (hello.acked_seq > 0) {
    // Acknowledged commits imply a registration: the store lost it too.
    spdlog::error("conn {}: the store lost the registration and acknowledged commits (up to seq {}) of a device "
                  "that connects now",
                  connection_id_, hello.acked_seq);
  }
  return reply(out);
}

SessionStep SyncSession::on_register(const wire::RegisterDevice& reg) {
  if (device_id_) {
    return drop_with(wire::ErrorCode::protocol_violation, "this device is already registered", "Register when registered");
  }
  auto dh = crypto::to_dh_public(reg.sign_key);
  if (!dh || !crypto::equal_ct(*dh, peer_static_)) {
    return drop_with(wire::ErrorCode::enrollment_refused,
                     "the signing key does not belong to the key that opened this connection",
                     "Register with a key that is not the session's static key");
  }
  auto device = store_.register_device(reg.enrollment_code, reg.device, reg.sign_key);
  if (!device) {
    if (device.error().code == Errc::storage || device.error().code == Errc::damaged) {
      return internal_error(device.error(), "register");
    }
    // Messages of ServerStore name no field values; they can go back to the device.
    return drop_with(wire::ErrorCode::enrollment_refused, device.error().message,
                     "enrollment refused (" + std::to_string(static_cast<int>(device.error().code)) + ")");
  }
  device_id_ = device->device_id;
  return reply(wire::RegisterReply{true});
}

tl::expected<DeviceRecord, SessionStep> SyncSession::current_device() {
  if (!device_id_) {
    return tl::unexpected(drop_with(wire::ErrorCode::not_registered, "register this device first",
                                    "request from an unregistered peer"));
  }
  auto device = store_.find_device(*device_id_);
  if (!device) return tl::unexpected(internal_error(device.error(), "device lookup"));
  if (!*device) {
    return tl::unexpected(drop_with(wire::ErrorCode::not_registered, "this device is not registered",
                                    "device vanished " + device_id_->hex()));
  }
  if ((*device)->revoked()) {
    return tl::unexpected(drop_with(wire::ErrorCode::device_revoked, "this device has been revoked",
                                    "revoked device " + device_id_->hex()));
  }
  return std::move(**device);
}

SessionStep SyncSession::on_push(const wire::PushCommits& push) {
  auto device = current_device();
  if (!device) return std::move(device.error());
  auto results = store_.push(*device, push.commits);
  if (!results) return internal_error(results.error(), "push");
  wire::PushReply out;
  for (const PushResult& r : *results) {
    if (r.accepted) {
      ++pushed_;
      continue;
    }
    out.rejections.push_back(
        wire::CommitRejection{r.seq, r.reason, clip(r.message, wire::kMaxRejectionDetailBytes)});
    if (r.purge_scope) refused_scopes_.push_back(*r.purge_scope);
  }
  auto last = store_.last_acked(device->device_id);
  if (!last) return internal_error(last.error(), "push");
  out.acked_seq = *last;
  return reply(std::move(out));
}

SessionStep SyncSession::on_pull(const wire::Pull& pull) {
  auto device = current_device();
  if (!device) return std::move(device.error());
  if (pull.cursor > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return drop_with(wire::ErrorCode::protocol_violation, "the pull cursor is out of range", "pull cursor out of range");
  }
  PullLimits limits;
  limits.max_commits = std::clamp<std::size_t>(pull.max_commits, 1, wire::kMaxCommitsPerMessage);
  auto batch = store_.pull(*device, static_cast<std::int64_t>(pull.cursor), limits);
  if (!batch) return internal_error(batch.error(), "pull");
  wire::PullReply out = to_reply(batch->commits);
  pulled_ += out.commits.size();
  out.next_cursor = static_cast<std::uint64_t>(batch->cursor);
  out.more = batch->more;
  SessionStep step;
  for (const sync::EntityId& scope : std::exchange(refused_scopes_, {})) {
    if (std::find(batch->purge.begin(), batch->purge.end(), scope) == batch->purge.end()) {
      batch->purge.push_back(scope);
    }
  }
  // Purges first: the device deletes those cases before it applies the batch.
  for (std::size_t i = 0; i < batch->purge.size(); i += wire::kMaxPurgeScopes) {
    const auto end = std::min(batch->purge.size(), i + wire::kMaxPurgeScopes);
    wire::Purge purge;
    purge.scopes.assign(batch->purge.begin() + static_cast<std::ptrdiff_t>(i),
                        batch->purge.begin() + static_cast<std::ptrdiff_t>(end));
    step.replies.emplace_back(std::in_place_type<wire::Purge>, std::move(purge));
  }
  step.replies.emplace_back(std::in_place_type<wire::PullReply>, std::move(out));
  return step;
}

SessionStep SyncSession::on_pull_own(const wire::PullOwn& request) {
  auto device = current_device();
  if (!device) return std::move(device.error());
  PullLimits limits;
  limits.max_commits = std::clamp<std::size_t>(request.max_commits, 1, wire::kMaxCommitsPerMessage);
  auto batch = store_.pull_own(*device, request.after_seq, limits);
  if (!batch) return internal_error(batch.error(), "pull of own commits");
  wire::PullReply out = to_reply(batch->commits);
  pulled_ += out.commits.size();
  // The device asks again after the seq of the last commit sent (an empty reply ends it).
  out.next_cursor = out.commits.empty() ? 0 : out.commits.back().server_seq;
  out.more = batch->more;
  return reply(std::move(out));
}

SessionStep SyncSession::on_fetch_projections(const wire::FetchProjections& fetch) {
  auto device = current_device();
  if (!device) return std::move(device.error());
  if (fetch.cursor > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return drop_with(wire::ErrorCode::protocol_violation, "the projection cursor is out of range",
                     "projection cursor out of range");
  }
  auto page = store_.projections(*device, static_cast<std::int64_t>(fetch.cursor), fetch.max_projections);
  if (!page) {
    if (page.error().code == Errc::refused) {
      return drop_with(wire::ErrorCode::not_authorized, page.error().message,
                       "projections refused to device " + device->device_id.hex());
    }
    return internal_error(page.error(), "projections");
  }
  wire::ProjectionBatch out;
  for (ProjectionItem& item : page->items) {
    out.projections.push_back(wire::SignedProjection{item.scope, static_cast<std::uint64_t>(item.server_seq),
                                                     std::move(item.body), item.signature});
  }
  out.next_cursor = static_cast<std::uint64_t>(page->cursor);
  out.more = page->more;
  SessionStep step;
  step.replies.emplace_back(std::in_place_type<wire::ProjectionBatch>, std::move(out));
  return step;
}

SessionStep SyncSession::on_key_wraps(const wire::KeyWrapsRequest&) {
  auto device = current_device();
  if (!device) return std::move(device.error());
  // Only this device's own wraps: another device's would be useless to it, but the
  // list of who holds which generation is none of its business.
  auto wraps = store_.key_wraps_for(*device);
  if (!wraps) return internal_error(wraps.error(), "key wraps");
  if (wraps->size() > wire::kMaxKeyWraps) {
    return drop_with(wire::ErrorCode::too_large, "this device has more key wraps than one message carries",
                     "key wraps over the limit for device " + device->device_id.hex());
  }
  wire::KeyWraps out;
  out.wraps.reserve(wraps->size());
  for (KeyWrapRecord& w : *wraps) {
    out.wraps.push_back(wire::KeyWrap{std::move(w.compartment), w.generation, std::move(w.sealed), w.signature});
  }
  return reply(std::move(out));
}

SessionStep SyncSession::on_directory(const wire::DirectoryRequest& request) {
  auto device = current_device();
  if (!device) return std::move(device.error());
  // Every office (code, name, kind, region) and every device's id, signing key and
  // office, revoked ones included (their earlier commits stay valid). Never a user's
  // name or role: other offices need the keys to verify commits, not who holds them.
  auto page = store_.directory(request.cursor, wire::kMaxDirectoryEntries);
  if (!page) return internal_error(page.error(), "directory");
  wire::Directory out;
  out.offices.reserve(page->offices.size());
  for (OfficeRecord& o : page->offices) {
    out.offices.push_back(wire::DirectoryOffice{std::move(o.code), std::move(o.name), std::move(o.kind),
                                                std::move(o.region)});
  }
  out.devices.reserve(page->devices.size());
  for (const DeviceRecord& d : page->devices) {
    out.devices.push_back(wire::DirectoryDevice{d.device_id, d.sign_key, d.office});
  }
  out.next_cursor = page->cursor;
  out.more = page->more;
  wire::Message message{std::move(out)};
  if (auto ok = wire::validate(message); !ok) {
    return drop_with(wire::ErrorCode::internal, "the server cannot list its directory",
                     "directory page does not encode: " + ok.error().message);
  }
  return reply(std::move(message));
}

}  // namespace teduh::server
