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

// Limits against peers that hold connections without enrolling (server/README.md
// "Hostile peers" states the memory bound they give).
struct ServeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port; the bound port is printed
  // Waiting for the first byte of the next frame, and each write, must end within this
  // time. TEDUH_IDLE_TIMEOUT_MS overrides it (tests).
  std::chrono::milliseconds read_timeout{30000};
  // A whole frame must arrive within this time of its first byte, however it trickles
  // in. TEDUH_FRAME_TIMEOUT_MS overrides it.
  std::chrono::milliseconds frame_timeout{60000};
  // From accept, the Noise handshake and Hello from a registered device (or Register)
  // must be done within this time. TEDUH_HANDSHAKE_TIMEOUT_MS overrides it.
  std::chrono::milliseconds handshake_timeout{20000};
  // Authenticated connections (a registered device, or one that registered).
  std::size_t max_connections = 256;
  // Connections not authenticated yet, in all and per source address (an IPv6 source
  // counts by its /64). A new connection over either limit evicts the oldest
  // unauthenticated one of its own address, else of the address that holds the most,
  // so a flood from elsewhere cannot keep an honest device out.
  std::size_t max_unauthenticated = 64;
  std::size_t max_unauthenticated_per_address = 8;
};

// Listens, prints "teduhd listening on HOST:PORT" (the bound port) to stdout, and serves
// until SIGINT or SIGTERM. Fails with network when it cannot listen.
[[nodiscard]] Result<void> serve(ServerStore& store, const ServeOptions& options);

}  // namespace teduh::server
