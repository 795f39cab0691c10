#pragma once
// `teduhd serve`: the sync server on TCP (Boost.Asio, C++20 coroutines). The protocol
// is Noise_XX (this server is the responder, its static key the X25519 form of its
// Ed25519 key) carrying the framed messages of sync-protocol/WIRE.md.
#include <chrono>
#include <cstdint>
#include <string>

#include "teduh/server/error.hpp"
#include "teduh/server/server_store.hpp"

namespace teduh::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port; the bound port is printed
  // Every read must complete within this time, or the connection is dropped.
  // TEDUH_IDLE_TIMEOUT_MS overrides it (tests).
  std::chrono::milliseconds read_timeout{30000};
  std::size_t max_connections = 256;
};

// Listens, prints "teduhd listening on HOST:PORT" (the bound port) to stdout, and serves
// until SIGINT or SIGTERM. Fails with network when it cannot listen.
[[nodiscard]] Result<void> serve(ServerStore& store, const ServeOptions& options);

}  // namespace teduh::server
