#pragma once
// The server side of one sync connection after the Noise handshake, without sockets:
// decoded messages in, replies out (WIRE.md). serve.cpp moves the bytes; this class
// decides. It keeps the rules that depend on the session's state:
//
//   1. Hello first. No common protocol version -> Error(unsupported_version), drop.
//      A known device that is revoked -> Error(device_revoked), drop.
//   2. An unregistered peer may only Register (or Close). The enrollment code must be
//      valid and unused, and the registered signing key must be the one whose X25519
//      form authenticated this Noise session; otherwise Error(enrollment_refused), drop.
//   3. A registered device may PushCommits, Pull, FetchProjections, KeyWrapsRequest
//      (answered with its own wraps only) and DirectoryRequest (offices and device
//      keys, never user names); it is re-read from the store on
//      every request, so a revocation made while it is connected takes effect at once.
//   4. Close -> Close, end. Anything out of turn -> Error(protocol_violation), drop.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "teduh/crypto/keys.hpp"
#include "teduh/server/server_store.hpp"
#include "teduh/sync/wire.hpp"

namespace teduh::server {

struct SessionStep {
  enum class After {
    keep,   // read the next message
    close,  // the session ended well (Close exchanged)
    drop,   // the peer broke a rule; send the replies, then drop the connection
  };
  std::vector<sync::wire::Message> replies;
  After after = After::keep;
  std::string reason;  // for the log when dropping: ids and codes only
};

class SyncSession {
 public:
  SyncSession(ServerStore& store, const crypto::DhPublicKey& peer_static, std::uint64_t connection_id);

  SessionStep handle(const sync::wire::Message& message);

  // The authenticated device, once known (after Hello or Register).
  [[nodiscard]] const std::optional<sync::DeviceId>& device() const { return device_id_; }
  [[nodiscard]] std::uint64_t pushed() const { return pushed_; }
  [[nodiscard]] std::uint64_t pulled() const { return pulled_; }

 private:
  SessionStep on_hello(const sync::wire::Hello& hello);
  SessionStep on_register(const sync::wire::RegisterDevice& reg);
  SessionStep on_push(const sync::wire::PushCommits& push);
  SessionStep on_pull(const sync::wire::Pull& pull);
  SessionStep on_pull_own(const sync::wire::PullOwn& request);
  SessionStep on_fetch_projections(const sync::wire::FetchProjections& fetch);
  SessionStep on_key_wraps(const sync::wire::KeyWrapsRequest& request);
  SessionStep on_directory(const sync::wire::DirectoryRequest& request);
  // The current record of this session's device, or the step that ends the session.
  [[nodiscard]] tl::expected<DeviceRecord, SessionStep> current_device();

  ServerStore& store_;
  crypto::DhPublicKey peer_static_;
  std::uint64_t connection_id_;
  bool hello_done_ = false;
  std::optional<sync::DeviceId> device_id_;
  std::uint64_t pushed_ = 0;
  std::uint64_t pulled_ = 0;
  // Scopes of refused writes the device may not read: purged with the next pull reply.
  std::vector<sync::EntityId> refused_scopes_;
};

// The step itself when every reply is within the wire's limits (WIRE.md section 5);
// otherwise a step that sends Error(internal) and drops the connection.
SessionStep checked(SessionStep step);

// A step that sends one Error and drops the connection.
SessionStep drop_with(sync::wire::ErrorCode code, std::string message, std::string reason);

}  // namespace teduh::server
