// `teduhd serve`: the only translation unit that includes Asio (STYLE.md; DESIGN.md
// section 2: network at the edges). One coroutine per connection on one io_context
// thread: the storage calls are synchronous and short, and one thread keeps the store
// single-writer. Every read and write is raced against a per-connection watchdog timer
// whose deadline is the earliest of: the idle timeout of this read or write, the frame
// deadline (a whole frame within frame_timeout of its first byte), and, until the peer
// is authenticated, the handshake deadline (handshake_timeout after accept).
//
// Before authentication (Hello from a registered device, or Register) a connection may
// send only single-chunk messages (at most 64 KiB) and reads 4 KiB at a time; such
// connections are capped in all and per source address, separately from authenticated
// ones (ServeOptions).
//
// A connection: Noise_XX handshake (we are the responder) -> SecureChannel -> messages
// handed to SyncSession, whose replies are written back. Any bad byte drops that
// connection only, with a logged reason (ids and codes, never field values, never the
// peer's address: a shelter's IP address is as secret as its street address).
#include <utility>  // before Asio with g++ 12

// g++ 12 reports -Wmismatched-new-delete on coroutine frames whose promise (Asio 1.74's
// awaitable_frame_base) defines a sized operator delete next to its operator new: a
// false positive (the pair matches). Silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "teduh/crypto/noise.hpp"
#include "teduh/server/serve.hpp"
#include "teduh/server/sync_session.hpp"
#include "teduh/sync/frame.hpp"
#include "teduh/sync/wire.hpp"

// Rule for this file: pass only named objects (never temporaries, e.g. a Message built
// in the argument list) to a coroutine that is co_awaited. g++ 12 can destroy such a
// temporary twice (seen here as a double free when an ErrorMessage temporary was sent).
namespace teduh::server {
namespace {

namespace asio = boost::asio;
namespace wire = sync::wire;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadBufferSize = std::size_t{64} * 1024;
// Reads before authentication: small, so that a read of tiny frames cannot queue many.
constexpr std::size_t kUnauthenticatedReadSize = std::size_t{4} * 1024;

struct Connection {
  Connection(tcp::socket s, std::uint64_t connection_id, std::string source_address, Clock::time_point deadline)
      : socket(std::move(s)),
        timer(socket.get_executor()),
        id(connection_id),
        source(std::move(source_address)),
        handshake_deadline(deadline) {}
  tcp::socket socket;
  asio::steady_timer timer;
  std::uint64_t id;
  // The source address (an IPv6 one by its /64), for the per-address limit only: never
  // logged (a shelter device's address is as secret as the shelter's).
  std::string source;
  Clock::time_point handshake_deadline;
  bool authenticated = false;
  bool evicted = false;
  std::uint64_t watch_generation = 0;
  bool timed_out = false;
  std::array<std::uint8_t, kReadBufferSize> buffer{};
};
using ConnectionPtr = std::shared_ptr<Connection>;

struct ServerState {
  ServerStore& store;
  crypto::DhKeyPair static_key;
  ServeOptions options;
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, std::weak_ptr<Connection>> live;  // by id: oldest first
  bool stopping = false;
};

// The earliest deadline for an operation that may wait `timeout`.
Clock::time_point deadline_for(const Connection& c, std::chrono::milliseconds timeout) {
  Clock::time_point d = Clock::now() + timeout;
  if (!c.authenticated) d = std::min(d, c.handshake_deadline);
  return d;
}

// Starts the watchdog for one operation: when it fires first, the operation is
// cancelled and reported as timed out. Each arm() makes older expiries harmless.
void arm(const ConnectionPtr& c, Clock::time_point deadline) {
  const std::uint64_t generation = ++c->watch_generation;
  c->timer.expires_at(deadline);
  c->timer.async_wait([c, generation](const error_code& ec) {
    if (ec || generation != c->watch_generation) return;
    c->timed_out = true;
    error_code ignored;
    c->socket.cancel(ignored);
  });
}

void disarm(Connection& c) {
  ++c.watch_generation;
  c.timer.cancel();
}

awaitable<std::size_t> read_some(const ConnectionPtr& c, Clock::time_point deadline, error_code& ec) {
  arm(c, deadline);
  const std::size_t size = c->authenticated ? kReadBufferSize : kUnauthenticatedReadSize;
  const std::size_t n = co_await c->socket.async_read_some(asio::buffer(c->buffer.data(), size),
                                                           asio::redirect_error(use_awaitable, ec));
  disarm(*c);
  if (c->timed_out) ec = asio::error::timed_out;
  co_return n;
}

awaitable<void> write_all(const ConnectionPtr& c, const std::vector<std::uint8_t>& bytes,
                          std::chrono::milliseconds timeout, error_code& ec) {
  arm(c, deadline_for(*c, timeout));
  co_await asio::async_write(c->socket, asio::buffer(bytes), asio::redirect_error(use_awaitable, ec));
  disarm(*c);
  if (c->timed_out) ec = asio::error::timed_out;
}

std::string describe(const error_code& ec) {
  if (ec == asio::error::timed_out) return "read or write timed out";
  if (ec == asio::error::eof) return "peer closed the connection";
  if (ec == asio::error::operation_aborted) return "connection closed by the server";
  if (ec == asio::error::connection_reset) return "connection reset by peer";
  return "socket error " + std::to_string(ec.value());
}

// Frame timing of one connection: when the frame being read began to arrive.
struct FrameClock {
  std::optional<Clock::time_point> started;
};

// The next complete frame, or nullopt with `reason` set. Waiting for a frame's first
// byte may take `options.read_timeout` per read; from that byte on, the whole frame
// must arrive within `options.frame_timeout`, however slowly it trickles.
awaitable<std::optional<std::vector<std::uint8_t>>> read_frame(const ConnectionPtr& c, wire::FrameDecoder& decoder,
                                                               FrameClock& clock, const ServeOptions& options,
                                                               std::string& reason) {
  for (;;) {
    if (auto frame = decoder.next()) {
      // Bytes of the next frame came with this one's end: its clock starts now.
      if (decoder.at_frame_boundary()) clock.started.reset(); else clock.started = Clock::now();
      co_return frame;
    }
    Clock::time_point deadline = deadline_for(*c, options.read_timeout);
    if (clock.started) deadline = std::min(deadline, *clock.started + options.frame_timeout);
    error_code ec;
    const std::size_t n = co_await read_some(c, deadline, ec);
    if (ec) {
      reason = (ec == asio::error::eof && !decoder.at_frame_boundary()) ? "stream cut inside a frame" : describe(ec);
      if (ec == asio::error::timed_out) {
        reason = !c->authenticated && Clock::now() >= c->handshake_deadline ? "not authenticated in time"
                 : clock.started ? "a frame did not arrive in time"
                                 : "idle too long";
      }
      if (c->evicted) reason = "evicted to make room for a new connection";
      co_return std::nullopt;
    }
    if (n > 0 && !clock.started) clock.started = Clock::now();
    if (auto fed = decoder.feed(wire::ByteView(c->buffer.data(), n)); !fed) {
      reason = "bad frame length prefix";
      co_return std::nullopt;
    }
  }
}

// Best effort: the peer may already be gone.
awaitable<bool> send(const ConnectionPtr& c, wire::SecureChannel& channel, const wire::Message& message,
                     std::chrono::milliseconds timeout) {
  auto bytes = channel.seal(message);
  if (!bytes) {
    // SyncSession checks its replies (checked()); this is the last line: the device is
    // told, not just dropped, and the connection ends.
    spdlog::error("conn {}: cannot encode a reply of type {}", c->id, static_cast<int>(wire::type_of(message)));
    const wire::Message error = wire::ErrorMessage{
        wire::ErrorCode::internal, "the server could not encode its reply; nothing was half applied"};
    bytes = channel.seal(error);
    if (!bytes) co_return false;
    error_code ec;
    co_await write_all(c, *bytes, timeout, ec);
    co_return false;
  }
  error_code ec;
  co_await write_all(c, *bytes, timeout, ec);
  if (ec) {
    spdlog::info("conn {}: dropped while writing: {}", c->id, describe(ec));
    co_return false;
  }
  co_return true;
}

std::size_t count_authenticated(const ServerState& state) {
  std::size_t n = 0;
  for (const auto& [id, weak] : state.live) {
    if (auto c = weak.lock(); c && c->authenticated) ++n;
  }
  return n;
}

// A storage failure is the server's fault, not the peer's: an error, not an info line.
bool is_server_failure(const SessionStep& step) {
  for (const wire::Message& m : step.replies) {
    if (const auto* e = std::get_if<wire::ErrorMessage>(&m); e && e->code == wire::ErrorCode::internal) return true;
  }
  return false;
}

awaitable<void> run_session(ConnectionPtr c, ServerState& state) {
  const auto timeout = state.options.read_timeout;
  wire::FrameDecoder decoder;
  FrameClock clock;
  std::string reason;

  // Noise_XX, responder side: <- e; -> e, ee, s, es; <- s, se.
  const std::string_view prologue = wire::kNoisePrologue;
  auto handshake = crypto::HandshakeState::responder(
      state.static_key,
      crypto::ByteView(reinterpret_cast<const std::uint8_t*>(prologue.data()), prologue.size()));
  if (!handshake) {
    spdlog::error("conn {}: cannot start a handshake", c->id);
    co_return;
  }
  auto first = co_await read_frame(c, decoder, clock, state.options, reason);
  if (!first) {
    spdlog::info("conn {}: dropped before the handshake: {}", c->id, reason);
    co_return;
  }
  if (!handshake->read_message(*first)) {
    spdlog::info("conn {}: dropped: handshake message 1 failed", c->id);
    co_return;
  }
  auto second = handshake->write_message({});
  if (!second) {
    spdlog::error("conn {}: cannot write handshake message 2", c->id);
    co_return;
  }
  auto framed = wire::encode_frame(*second);
  if (!framed) co_return;
  error_code ec;
  co_await write_all(c, *framed, timeout, ec);
  if (ec) {
    spdlog::info("conn {}: dropped during the handshake: {}", c->id, describe(ec));
    co_return;
  }
  auto third = co_await read_frame(c, decoder, clock, state.options, reason);
  if (!third) {
    spdlog::info("conn {}: dropped during the handshake: {}", c->id, reason);
    co_return;
  }
  if (!handshake->read_message(*third)) {
    spdlog::info("conn {}: dropped: handshake message 3 failed", c->id);
    co_return;
  }
  auto transport = std::move(*handshake).split();
  if (!transport) {
    spdlog::info("conn {}: dropped: handshake did not complete", c->id);
    co_return;
  }
  const crypto::DhPublicKey peer = transport->remote_static();
  wire::SecureChannel channel(std::move(*transport));
  SyncSession session(state.store, peer, c->id);
  spdlog::debug("conn {}: handshake done", c->id);

  for (;;) {
    auto frame = co_await read_frame(c, decoder, clock, state.options, reason);
    if (!frame) {
      spdlog::info("conn {}: dropped: {}", c->id, reason);
      break;
    }
    auto opened = channel.open(*frame);
    if (!opened) {
      // The channel is final after a failure (WIRE.md): no Error can follow; drop.
      const bool unknown_type = opened.error().code == sync::Errc::unsupported_version;
      spdlog::info("conn {}: dropped: {}", c->id,
                   unknown_type ? "unknown message type" : "undecodable or malformed message");
      break;
    }
    if (!*opened) {
      // More chunks of this message follow: only an authenticated device sends messages
      // over one chunk (Hello and Register fit in one).
      if (!c->authenticated) {
        spdlog::info("conn {}: dropped: a message over one chunk before authentication", c->id);
        break;
      }
      continue;
    }
    SessionStep step = session.handle(**opened);
    if (!c->authenticated && session.device()) {
      if (count_authenticated(state) >= state.options.max_connections) {
        wire::ErrorMessage busy{wire::ErrorCode::server_busy, "the server is busy; try again later"};
        step.replies.clear();
        step.replies.emplace_back(busy);
        step.after = SessionStep::After::drop;
        step.reason = "the server holds its most authenticated connections";
      } else {
        c->authenticated = true;
        spdlog::debug("conn {}: authenticated", c->id);
      }
    }
    bool sent = true;
    for (const wire::Message& m : step.replies) {
      if (!(sent = co_await send(c, channel, m, timeout))) break;
    }
    if (step.after == SessionStep::After::close) {
      spdlog::info("conn {}: closed; device {} pushed {} pulled {}", c->id,
                   session.device() ? session.device()->hex() : std::string("-"), session.pushed(), session.pulled());
      break;
    }
    if (step.after == SessionStep::After::drop) {
      if (is_server_failure(step)) {
        spdlog::error("conn {}: dropped after a server failure: {}", c->id, step.reason);
      } else {
        spdlog::info("conn {}: dropped: {}", c->id, step.reason);
      }
      break;
    }
    if (!sent) break;
  }
}

awaitable<void> session(ConnectionPtr c, ServerState& state) {
  struct Cleanup {
    ConnectionPtr c;
    ServerState& state;
    ~Cleanup() {
      // Nothing may leave a destructor: a timer that fails to cancel (Asio throws then)
      // still lets the socket close and the connection leave the table.
      try {
        disarm(*c);
      } catch (const std::exception& ex) {
        spdlog::warn("conn {}: its timer did not cancel: {}", c->id, ex.what());
      }
      error_code ignored;
      c->socket.shutdown(tcp::socket::shutdown_both, ignored);
      c->socket.close(ignored);
      state.live.erase(c->id);
    }
  } cleanup{c, state};
  co_await run_session(c, state);
}

// The key of the per-address limit: the IPv4 address, or an IPv6 address's /64 (one
// host commonly holds a whole /64). Never logged.
std::string source_key(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return {};
  asio::ip::address a = peer.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  const auto b = a.to_v6().to_bytes();
  return "6" + std::string(reinterpret_cast<const char*>(b.data()), 8);
}

void evict(Connection& c, ServerState& state, std::string_view why) {
  c.evicted = true;
  error_code ignored;
  c.socket.close(ignored);
  spdlog::info("conn {}: evicted ({}); {} open", c.id, why, state.live.size());
}

// Makes room for one more unauthenticated connection from `source` (ServeOptions).
void make_room_for(const std::string& source, ServerState& state) {
  std::map<std::string, std::vector<ConnectionPtr>> unauthenticated;  // per source, oldest first
  std::size_t total = 0;
  for (const auto& [id, weak] : state.live) {
    auto c = weak.lock();
    if (!c || c->authenticated || c->evicted) continue;
    unauthenticated[c->source].push_back(c);
    ++total;
  }
  auto& same = unauthenticated[source];
  if (!same.empty() && same.size() >= state.options.max_unauthenticated_per_address) {
    evict(*same.front(), state, "its address holds the most unauthenticated connections allowed");
    return;
  }
  if (total < state.options.max_unauthenticated) return;
  const std::vector<ConnectionPtr>* heaviest = nullptr;
  for (const auto& [key, list] : unauthenticated) {
    if (!list.empty() && (heaviest == nullptr || list.size() > heaviest->size())) heaviest = &list;
  }
  if (heaviest != nullptr) evict(*heaviest->front(), state, "the server holds its most unauthenticated connections");
}

awaitable<void> accept_loop(tcp::acceptor& acceptor, ServerState& state) {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (state.stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    std::string source = source_key(socket);
    make_room_for(source, state);
    socket.set_option(tcp::no_delay(true), ec);  // replies are small; do not wait for delayed ACKs
    auto c = std::make_shared<Connection>(std::move(socket), ++state.next_id, std::move(source),
                                          Clock::now() + state.options.handshake_timeout);
    state.live.emplace(c->id, c);
    spdlog::info("conn {}: accepted ({} open)", c->id, state.live.size());
    const std::uint64_t id = c->id;
    asio::co_spawn(acceptor.get_executor(), session(std::move(c), state), [id](const std::exception_ptr& e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("conn {}: ended by an exception: {}", id, ex.what());
      } catch (...) {
        spdlog::error("conn {}: ended by an unknown exception", id);
      }
    });
  }
}

void use_stderr_logger() {
  if (!spdlog::get("teduhd")) {
    auto logger = spdlog::stderr_color_mt("teduhd");
    spdlog::set_default_logger(logger);
  }
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace

[[nodiscard]] Result<void> serve(ServerStore& store, const ServeOptions& options) {
  use_stderr_logger();
  asio::io_context io(1);

  tcp::endpoint endpoint;
  {
    error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (!ec) {
      endpoint = tcp::endpoint(address, options.port);
    } else {
      tcp::resolver resolver(io);
      auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
      if (ec || results.empty()) {
        return fail(Errc::network, "cannot resolve the listen address " + options.host);
      }
      endpoint = *results.begin();
    }
  }

  tcp::acceptor acceptor(io);
  {
    error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return fail(Errc::network, "cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                                     ec.message());
    }
  }

  ServerState state{store, store.signing_key().to_dh(), options, 0, {}, false};

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const error_code& ec, int signal_number) {
    if (ec) return;
    spdlog::info("signal {}: stopping; {} connections open", signal_number, state.live.size());
    state.stopping = true;
    error_code ignored;
    acceptor.close(ignored);
    for (auto& [id, weak] : state.live) {
      if (auto c = weak.lock()) c->socket.close(ignored);
    }
  });

  asio::co_spawn(io, accept_loop(acceptor, state), [&](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("the listener ended by an exception: {}", ex.what());
    }
    state.stopping = true;
    signals.cancel();
  });

  const tcp::endpoint bound = acceptor.local_endpoint();
  const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  std::cout << "teduhd listening on " << host << ":" << bound.port() << std::endl;
  spdlog::info("listening; server id {}", store.server_id().hex());

  io.run();
  spdlog::info("stopped");
  return {};
}

}  // namespace teduh::server
