#include "teduh/client/sync_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <thread>
#include <unordered_map>

#include "teduh/client/background_checkpoint.hpp"
#include "teduh/client/compartment.hpp"
#include "teduh/client/report.hpp"
#include "teduh/crypto/noise.hpp"
#include "teduh/schema/dates.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/compartment.hpp"
#include "teduh/sync/frame.hpp"
#include "teduh/sync/projection.hpp"
#include "teduh/sync/wire.hpp"

namespace teduh::client {
namespace {

namespace wire = sync::wire;

Error unreachable(const std::string& address, const std::string& why) {
  return Error{Errc::unreachable, "The server at " + address + " cannot be reached (" + why +
                                      "); your work is kept here and will sync later."};
}

// A blocking TCP connection whose connect and reads are bounded by a timeout.
class Connection final : public Link {
 public:
  Connection(std::string address, int timeout_ms)
      : address_(std::move(address)), timeout_ms_(timeout_ms) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override {
    if (fd_ >= 0) ::close(fd_);
  }

  [[nodiscard]] Result<void> connect() {
    auto colon = address_.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return fail(Errc::usage, "The server address '" + address_ + "' is not HOST:PORT.");
    }
    std::string host = address_.substr(0, colon), port = address_.substr(colon + 1);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
      return tl::unexpected(unreachable(address_, gai_strerror(rc)));
    }
    std::string last_error = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) continue;
      ::fcntl(fd, F_SETFL, O_NONBLOCK);
      int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = ::poll(&p, 1, timeout_ms_) == 1 ? 0 : -1;
        int err = 0;
        socklen_t len = sizeof err;
        if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
          errno = err;
          rc = -1;
        } else if (rc != 0) {
          errno = ETIMEDOUT;
        }
      }
      if (rc == 0) {
        // Requests and replies alternate: without TCP_NODELAY each small request waits
        // for the peer's delayed ACK (about 40 ms a round trip).
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fd_ = fd;
        break;
      }
      last_error = std::strerror(errno);
      ::close(fd);
    }
    ::freeaddrinfo(res);
    if (fd_ < 0) return tl::unexpected(unreachable(address_, last_error));
    return {};
  }

  [[nodiscard]] Result<void> write_all(const std::vector<std::uint8_t>& bytes) override {
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, timeout_ms_) != 1)
          return tl::unexpected(unreachable(address_, "write timed out"));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return tl::unexpected(
          unreachable(address_, std::string("connection lost: ") + std::strerror(errno)));
    }
    return {};
  }

  // The next frame payload, reading as much as needed (bounded by the timeout per read).
  [[nodiscard]] Result<std::vector<std::uint8_t>> read_frame() override {
    for (;;) {
      if (auto f = decoder_.next()) return std::move(*f);
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, timeout_ms_);
      if (ready == 0)
        return tl::unexpected(unreachable(address_, "the server did not answer in time"));
      if (ready < 0) {
        if (errno == EINTR) continue;
        return tl::unexpected(unreachable(address_, std::strerror(errno)));
      }
      std::uint8_t buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return tl::unexpected(unreachable(address_, "the server closed the connection"));
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return tl::unexpected(
            unreachable(address_, std::string("connection lost: ") + std::strerror(errno)));
      }
      if (auto r = decoder_.feed({buf, static_cast<std::size_t>(n)}); !r) {
        return fail(Errc::refused, "The server sent a malformed frame: " + r.error().message);
      }
    }
  }

  [[nodiscard]] const std::string& address() const override { return address_; }

 private:
  std::string address_;
  int timeout_ms_;
  int fd_ = -1;
  wire::FrameDecoder decoder_;
};

class Session {
 public:
  Session(Link& conn, wire::SecureChannel channel)
      : conn_(conn), channel_(std::move(channel)) {}

  [[nodiscard]] Result<void> send(const wire::Message& m) {
    auto bytes = channel_.seal(m);
    if (!bytes) return fail(Errc::internal, "Cannot encode a message: " + bytes.error().message);
    return conn_.write_all(*bytes);
  }

  [[nodiscard]] Result<wire::Message> receive() {
    for (;;) {
      auto frame = TEDUH_TRY(conn_.read_frame());
      auto opened = channel_.open(frame);
      if (!opened) return fail(Errc::refused, "The server sent a message this client cannot read.");
      if (*opened) return std::move(**opened);
    }
  }

  // The reply to a request, or a clear error when the server answers with Error.
  // A Purge may precede a PullReply (WIRE.md): it is kept for take_purges().
  template <class T>
  [[nodiscard]] Result<T> expect(const char* what) {
    auto m = receive();
    if (!m) return tl::unexpected(m.error());
    while (auto* p = std::get_if<wire::Purge>(&*m)) {
      purges_.insert(purges_.end(), p->scopes.begin(), p->scopes.end());
      m = receive();
      if (!m) return tl::unexpected(m.error());
    }
    if (auto* e = std::get_if<wire::ErrorMessage>(&*m)) {
      Errc code = Errc::refused;
      std::string text;
      switch (e->code) {
        case wire::ErrorCode::device_revoked:
          text =
              "The server has revoked this device; it will not sync again. Ask the administrator.";
          break;
        case wire::ErrorCode::enrollment_refused:
          text = "The server refused this device's enrollment: " + e->message + ".";
          break;
        case wire::ErrorCode::server_busy:
          code = Errc::unreachable;
          text = "The server is busy; your work is kept here and will sync later.";
          break;
        case wire::ErrorCode::internal:
          // The server answered, so it is not unreachable: it failed, and said so.
          code = Errc::internal;
          text = "The server failed while answering the " + std::string(what) + " (" + e->message +
                 "); your work is kept here. Tell the server administrator.";
          break;
        default:
          text = "The server refused the " + std::string(what) + ": " + e->message + ".";
      }
      return fail(code, text);
    }
    if (auto* t = std::get_if<T>(&*m)) return std::move(*t);
    return fail(Errc::refused,
                std::string("The server answered the ") + what + " with an unexpected message.");
  }

 std::vector<sync::EntityId> take_purges() { return std::exchange(purges_, {}); }

 private:
  Link& conn_;
  wire::SecureChannel channel_;
  std::vector<sync::EntityId> purges_;
};

crypto::ByteView prologue() {
  return {reinterpret_cast<const std::uint8_t*>(wire::kNoisePrologue.data()),
          wire::kNoisePrologue.size()};
}

[[nodiscard]] Result<wire::SecureChannel> handshake(Link& conn, const Identity& id) {
  auto pinned = crypto::to_dh_public(id.server_key);
  if (!pinned) return fail(Errc::refused, "The pinned server key is not a valid key.");
  crypto::DhKeyPair static_key = id.signing_key.to_dh();
  auto hs = crypto::HandshakeState::initiator(static_key, prologue(), *pinned);
  if (!hs) return fail(Errc::internal, "Cannot start the secure channel.");
  auto m1 = hs->write_message({});
  if (!m1) return fail(Errc::internal, "Cannot start the secure channel.");
  auto f1 = wire::encode_frame(*m1);
  if (!f1) return fail(Errc::internal, "Cannot frame the handshake.");
  TEDUH_TRY(conn.write_all(*f1));
  auto m2 = TEDUH_TRY(conn.read_frame());
  auto r2 = hs->read_message(m2);
  if (!r2) {
    if (r2.error().code == crypto::Errc::peer_not_pinned) {
      return fail(Errc::refused, "The server at " + conn.address() +
                                     " is not the server this device was enrolled with (its key "
                                     "differs); nothing was sent.");
    }
    return fail(Errc::refused, "The secure channel with the server failed (handshake message 2).");
  }
  auto m3 = hs->write_message({});
  if (!m3) return fail(Errc::internal, "Cannot finish the secure channel.");
  auto f3 = wire::encode_frame(*m3);
  if (!f3) return fail(Errc::internal, "Cannot frame the handshake.");
  TEDUH_TRY(conn.write_all(*f3));
  auto transport = std::move(*hs).split();
  if (!transport) return fail(Errc::internal, "The secure channel did not complete.");
  return wire::SecureChannel(std::move(*transport));
}

// This device's commits after `after`, oldest first, at most `limit`.
[[nodiscard]] Result<std::vector<sync::SignedCommit>> local_commits_after(const Store& store, std::uint64_t after,
                                                            std::size_t limit) {
  auto st = schema::Statement::prepare(store.db(),
                                       "SELECT seq, body, signature FROM commits WHERE device = ?1 "
                                       "AND seq > ?2 ORDER BY seq LIMIT ?3");
  if (!st) return fail(Errc::internal, st.error().message);
  const auto& dev = store.identity().device;
  st->bind_blob(1, dev.bytes)
      .bind(2, static_cast<std::int64_t>(after))
      .bind(3, static_cast<std::int64_t>(limit));
  std::vector<sync::SignedCommit> out;
  for (;;) {
    auto row = st->step();
    if (!row)
      return fail(row.error().code == schema::Errc::damaged ? Errc::damaged : Errc::internal,
                  row.error().message);
    if (!*row) break;
    sync::SignedCommit sc;
    sc.device = dev;
    sc.seq = static_cast<std::uint64_t>(st->column_int(0));
    sc.body = st->column_blob(1);
    auto sig = st->column_blob(2);
    if (sig.size() != sc.signature.size())
      return fail(Errc::damaged, "A stored commit has a malformed signature.");
    std::copy(sig.begin(), sig.end(), sc.signature.begin());
    out.push_back(std::move(sc));
  }
  return out;
}

[[nodiscard]] Result<void> record_refusals(Store& store, const wire::PushReply& reply) {
  return store.in_transaction([&]() -> Result<void> {
    for (const auto& r : reply.rejections) {
      if (r.seq > reply.acked_seq) continue;  // not consumed: pushed again later
      if (auto kept = store.record_refusal(r.seq, static_cast<std::uint32_t>(r.reason), r.detail); !kept)
        return kept;
    }
    return {};
  });
}

struct FetchedDirectory {
  std::vector<DirectoryOffice> offices;
  std::vector<DirectoryDevice> devices;
};

// Every page of the server's directory (WIRE.md "Directory").
[[nodiscard]] Result<FetchedDirectory> fetch_directory(Session& session) {
  FetchedDirectory out;
  std::uint64_t cursor = 0;
  for (;;) {
    TEDUH_TRY(session.send(wire::DirectoryRequest{cursor}));
    auto page = TEDUH_TRY(session.expect<wire::Directory>("directory request"));
    for (auto& o : page.offices) {
      out.offices.push_back(DirectoryOffice{std::move(o.code), std::move(o.name), std::move(o.kind),
                                            std::move(o.region)});
    }
    for (auto& d : page.devices) out.devices.push_back(DirectoryDevice{d.device, d.sign_key, std::move(d.office)});
    if (!page.more) break;
    if (page.next_cursor <= cursor) {
      return fail(Errc::refused, "The server sent a directory that does not advance; nothing was pulled.");
    }
    cursor = page.next_cursor;
  }
  return out;
}

using DeviceKeys = std::unordered_map<sync::DeviceId, crypto::SignPublicKey, sync::Id128Hash>;

DeviceKeys device_keys(const FetchedDirectory& directory, const Identity& id) {
  DeviceKeys keys;
  keys.reserve(directory.devices.size() + 1);
  for (const auto& d : directory.devices) keys.insert_or_assign(d.device, d.sign_key);
  keys.insert_or_assign(id.device, id.signing_key.public_key());
  return keys;
}

// verify_commit of every pulled commit with its device's key, on up to four threads
// (like the server's push): one that fails refuses the whole batch. Errc::not_found when
// a commit names a device the keys do not hold (the caller may fetch the directory again).
[[nodiscard]] Result<std::vector<sync::Commit>> verify_pulled(const std::vector<wire::PulledCommit>& commits,
                                                const DeviceKeys& keys) {
  for (const auto& pc : commits) {
    if (!keys.contains(pc.commit.device)) {
      return fail(Errc::not_found, "The server sent a commit of device " + pc.commit.device.hex().substr(0, 8) +
                                       ", which its directory does not list; nothing of this batch was applied and "
                                       "the sync stopped. Tell the administrator.");
    }
  }
  std::vector<std::optional<sync::Result<sync::Commit>>> out(commits.size());
  auto work = [&](std::size_t begin, std::size_t step) {
    for (std::size_t i = begin; i < commits.size(); i += step) {
      out[i] = sync::verify_commit(commits[i].commit, keys.at(commits[i].commit.device));
    }
  };
  const std::size_t threads =
      commits.size() < 64 ? 1 : std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  {
    std::vector<std::jthread> helpers;
    for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work, t, threads);
    work(0, threads);
  }  // joins every helper
  std::vector<sync::Commit> decoded;
  decoded.reserve(commits.size());
  for (std::size_t i = 0; i < commits.size(); ++i) {
    auto& r = *out[i];
    if (!r) {
      const auto& c = commits[i].commit;
      const std::string which = "device " + c.device.hex().substr(0, 8) + ", seq " + std::to_string(c.seq);
      if (r.error().code == sync::Errc::bad_signature) {
        return fail(Errc::refused, "A commit received from the server (" + which +
                                       ") does not carry a valid signature of the device that wrote it; nothing "
                                       "of this batch was applied and the sync stopped. Tell the administrator.");
      }
      return fail(Errc::refused, "The server sent a commit that does not decode (" + which +
                                     "); nothing of this batch was applied and the sync stopped.");
    }
    decoded.push_back(std::move(*r));
  }
  return decoded;
}

[[nodiscard]] Result<std::size_t> conflict_count(const Store& store) {
  auto c = TEDUH_TRY(store.conflicted_fields());
  return c.size();
}

}  // namespace

[[nodiscard]] Result<std::unique_ptr<Link>> connect_tcp(const std::string& address, int timeout_ms) {
  auto conn = std::make_unique<Connection>(address, timeout_ms);
  TEDUH_TRY(conn->connect());
  return std::unique_ptr<Link>(std::move(conn));
}

namespace {

// A pulled batch as the pull pipeline hands it over.
struct PulledBatch {
  wire::PullReply reply;
  std::vector<sync::EntityId> purges;  // the Purges the server sent before the reply
  std::vector<sync::Commit> commits;   // reply.commits' bodies, verified and decoded
};

// The receiving side of a pull, and the helper threads that overlap it with the writes.
//
// Three things overlap in a pull of several batches:
// - the next Pull goes out as soon as a PullReply has arrived, before that batch is
//   applied, so the server reads and encrypts batch N+1 while this store writes batch N
//   (the wire still alternates strictly: a reply, then one request);
// - the receive thread receives, decrypts, verifies and decodes batch N+1 meanwhile;
// - the BackgroundCheckpoint's thread checkpoints the WAL beside the writes.
//
// It owns the receive thread, the slot that thread leaves its result in, the device keys
// pulled commits are verified with (the receiver replaces them when a commit names a
// device they lack), and the BackgroundCheckpoint. It borrows the session, the store and
// the identity, which outlive it.
//
// Who touches the session when: request() sends a Pull on the calling thread, then starts
// the receiver. From then until take() returns, the receiver alone uses the session (it
// reads the reply and any Purges before it, and for an unknown device asks for the
// directory again) and the keys, while the calling thread uses only the store. Once
// take() has returned the session is idle and belongs to the calling thread again. The
// receiver never touches the store; the checkpoint thread only its own connection.
//
// The destructor joins a receiver still running (the calling thread failed while batch
// N+1 was in flight; it may wait up to one read timeout), so nothing uses the session once
// the pull phase has returned; then the checkpoint helper finishes (its destructor).
//
// Not threaded (SyncOptions::pipeline false, the simulation): no helper thread; take()
// receives on the calling thread. The messages and their order on the wire are the same.
class PullPipeline {
 public:
  PullPipeline(Session& session, Store& store, const Identity& id, DeviceKeys keys, bool threaded)
      : session_(session), store_(store), id_(id), keys_(std::move(keys)), threaded_(threaded) {}
  PullPipeline(const PullPipeline&) = delete;
  PullPipeline& operator=(const PullPipeline&) = delete;
  ~PullPipeline() {
    if (receiver_.joinable()) receiver_.join();
  }

  // Sends Pull{cursor, limit} and starts receiving its reply. The session must be idle
  // (no request outstanding): first use, or after take().
  [[nodiscard]] Result<void> request(std::uint64_t cursor, std::uint32_t limit) {
    if (auto s = session_.send(wire::Pull{cursor, limit}); !s) return s;
    if (threaded_) receiver_ = std::jthread([this] { received_ = receive(); });
    return {};
  }

  // The reply to the last request(), verified and decoded; waits for the receiver.
  [[nodiscard]] Result<PulledBatch> take() {
    if (!threaded_) return receive();
    receiver_.join();
    Result<PulledBatch> batch = std::move(*received_);
    received_.reset();
    return batch;
  }

  // Starts checkpointing beside the writes, if threaded and not yet started. Without it
  // the sync still works, with SQLite's own checkpoints in the commits.
  void start_checkpoints() {
    if (checkpoints_ || !threaded_) return;
    if (auto started = BackgroundCheckpoint::start(store_)) checkpoints_ = std::move(*started);
  }
  // The calling thread committed a batch.
  void committed() {
    if (checkpoints_) checkpoints_->committed();
  }
  // The last batch is applied: a last checkpoint, and the automatic ones back on.
  void finish() {
    if (checkpoints_) checkpoints_->finish();
  }

 private:
  // Runs on the receiver (or, not threaded, the calling thread) and uses only the
  // session and keys_.
  [[nodiscard]] Result<PulledBatch> receive() {
    auto pr = TEDUH_TRY(session_.expect<wire::PullReply>("pull"));
    PulledBatch batch;
    batch.purges = session_.take_purges();
    auto verified = verify_pulled(pr.commits, keys_);
    if (!verified && verified.error().code == Errc::not_found) {
      // The session is idle here (the next Pull goes out after this batch is taken).
      auto fresh = TEDUH_TRY(fetch_directory(session_));
      keys_ = device_keys(fresh, id_);
      verified = verify_pulled(pr.commits, keys_);
    }
    if (!verified) {
      return fail(verified.error().code == Errc::not_found ? Errc::refused : verified.error().code,
                  verified.error().message);
    }
    batch.commits = std::move(*verified);
    batch.reply = std::move(pr);
    return batch;
  }

  Session& session_;
  Store& store_;
  const Identity& id_;
  DeviceKeys keys_;
  const bool threaded_;
  std::optional<Result<PulledBatch>> received_;  // written by the receiver, read after join
  std::unique_ptr<BackgroundCheckpoint> checkpoints_;
  std::jthread receiver_;
};

// One sync session, phase by phase, in the order run() lists them. Every phase runs on
// the calling thread and uses the session alone (pull() lends it to its pipeline's
// receiver and has it back before returning). Every change to the store is a
// transaction that ends a step the server acknowledged, so a sync cut off in any phase
// loses nothing, and the next one resumes where this one stopped.
class SyncRun {
 public:
  SyncRun(Store& store, const SyncOptions& options)
      : store_(store), options_(options), id_(store.identity()) {}

  [[nodiscard]] Result<SyncReport> run() {
    auto before = TEDUH_TRY(conflict_count(store_));
    conflicts_before_ = before;
    for (auto phase : {&SyncRun::open_session, &SyncRun::hello_and_register, &SyncRun::verify_restored,
                       &SyncRun::push, &SyncRun::fetch_own, &SyncRun::pull, &SyncRun::fetch_keys,
                       &SyncRun::fetch_projections, &SyncRun::close}) {
      TEDUH_TRY((this->*phase)());
    }
    return std::move(report_);
  }

 private:
  [[nodiscard]] Result<void> open_session();
  [[nodiscard]] Result<void> hello_and_register();
  [[nodiscard]] Result<void> verify_restored();
  [[nodiscard]] Result<std::optional<std::uint64_t>> find_divergence();
  [[nodiscard]] Result<void> reissue_from(std::uint64_t diverged);
  [[nodiscard]] Result<void> push();
  [[nodiscard]] Result<void> fetch_own();
  [[nodiscard]] Result<void> pull();
  [[nodiscard]] Result<std::uint64_t> apply_pulled(const PulledBatch& batch);
  [[nodiscard]] Result<void> fetch_keys();
  [[nodiscard]] Result<void> fetch_projections();
  [[nodiscard]] Result<void> close();
  [[nodiscard]] Result<void> record_acked(std::uint64_t seq);
  // Counts and lists the refusals of a push reply in the report (`rejected`, exit 2).
  void note_rejections(const wire::PushReply& reply) {
    for (const auto& r : reply.rejections) {
      report_.rejections.push_back("commit " + std::to_string(r.seq) + ": " + r.detail);
    }
    report_.rejected += reply.rejections.size();
  }

  Store& store_;
  const SyncOptions& options_;
  const Identity& id_;
  SyncReport report_;
  std::size_t conflicts_before_ = 0;
  std::unique_ptr<Link> link_;
  std::optional<Session> session_;  // over *link_: declared after it, so it goes first
  // The greatest seq the server ever acknowledged to this store (meta acked_seq), as
  // read before Hello and raised by record_acked().
  std::uint64_t recorded_acked_ = 0;
  // What the server holds of this device's commits, as it said in this session.
  std::uint64_t acked_ = 0;
};

// Connects and runs the Noise_XX handshake with the pinned server key.
Result<void> SyncRun::open_session() {
  auto link = TEDUH_TRY(options_.connect ? options_.connect(id_.server_address, options_.timeout_ms)
                               : connect_tcp(id_.server_address, options_.timeout_ms));
  link_ = std::move(link);
  auto channel = TEDUH_TRY(handshake(*link_, id_));
  session_.emplace(*link_, std::move(channel));
  return {};
}

// Hello, and registration on first contact. After it acked_ is what the server holds of
// this device (0 when registered now), and report_.server_lost what it has lost of what
// it acknowledged: the push sends those again.
Result<void> SyncRun::hello_and_register() {
  auto text = TEDUH_TRY(store_.meta("acked_seq"));
  if (text) recorded_acked_ = std::strtoull(text->c_str(), nullptr, 10);
  wire::Hello hello;
  hello.versions = {wire::kProtocolVersion};
  hello.client_software = "teduh/0.1.0";
  hello.acked_seq = recorded_acked_;
  TEDUH_TRY(session_->send(hello));
  auto reply = TEDUH_TRY(session_->expect<wire::HelloReply>("greeting"));
  acked_ = reply.last_acked_seq;
  // The server holds less than it acknowledged (its store lost commits, or this
  // device's registration): the push below sends them again.
  if (recorded_acked_ > acked_) report_.server_lost = recorded_acked_ - acked_;
  if (reply.registered) return {};
  wire::RegisterDevice reg;
  reg.enrollment_code = id_.enrollment_code;
  reg.device = id_.device;
  reg.sign_key = id_.signing_key.public_key();
  TEDUH_TRY(session_->send(reg));
  auto ok = session_->expect<wire::RegisterReply>("registration");
  if (!ok) return tl::unexpected(ok.error());
  if (!ok->ok) return fail(Errc::refused, "The server did not accept this device's registration.");
  report_.registered_now = true;
  acked_ = 0;
  return {};
}

// A store restored from an older copy (PROTOCOL.md section 5B, "A store restored from
// an older copy"): the server may hold seqs of this device that this store never saw
// acknowledged. They are sent again (the server acknowledges an equal body again); a
// seq the server holds with another body, or a seq beyond this store's last, means the
// store lost work the server has: the store's commits from there on are renumbered
// after the server's last seq, and the server's are fetched back (fetch_own()).
Result<void> SyncRun::verify_restored() {
  if (report_.registered_now) return {};
  auto diverged = TEDUH_TRY(find_divergence());
  if (!diverged) return {};
  return reissue_from(*diverged);
}

// Pushes again this device's seqs that the server acknowledged but this store does not
// record as acknowledged, and returns the first seq at which the two differ, if any.
// Refusals among them are recorded like any other.
Result<std::optional<std::uint64_t>> SyncRun::find_divergence() {
  auto believed_text = TEDUH_TRY(store_.meta("acked_seq"));
  const std::uint64_t local_last = store_.last_seq();
  const std::uint64_t verify_to = std::min(local_last, acked_);
  // A store that records no acknowledgement never synced, or is a copy made before its
  // first sync: the server may still hold seqs of it (written before the copy was put
  // back), so every seq both hold is compared (found by the simulation, seed 3: the
  // copy's new seq 2 was taken for acknowledged and never pushed).
  std::uint64_t from = believed_text ? std::stoull(*believed_text) : 0;
  std::optional<std::uint64_t> diverged;
  while (from < verify_to && !diverged) {
    auto batch = TEDUH_TRY(local_commits_after(store_, from, options_.push_batch));
    while (!batch.empty() && batch.back().seq > verify_to) batch.pop_back();
    if (batch.empty()) break;
    from = batch.back().seq;
    wire::PushCommits push;
    push.commits = std::move(batch);
    TEDUH_TRY(session_->send(push));
    auto pr = TEDUH_TRY(session_->expect<wire::PushReply>("push"));
    for (const auto& r : pr.rejections) {
      if (r.reason == wire::RejectReason::seq_taken) diverged = std::min(diverged.value_or(r.seq), r.seq);
    }
    // The server acknowledged seqs this store never heard about (the reply was lost):
    // a refusal among them is reported again here, and must be kept like any other,
    // or this replica would show the refused write for good (found by the simulation,
    // seed 60).
    // The person is told, as for a refusal in this sync's own push: the write was never
    // reported refused (its reply was lost), or this is a copy that had not heard of it.
    wire::PushReply refusals = pr;
    std::erase_if(refusals.rejections,
                  [](const wire::CommitRejection& r) { return r.reason == wire::RejectReason::seq_taken; });
    TEDUH_TRY(record_refusals(store_, refusals));
    note_rejections(refusals);
  }
  if (!diverged && acked_ > local_last) diverged = local_last + 1;
  return diverged;
}

// Renumbers this store's commits from `diverged` on after the server's last seq, and
// records (in the same transaction) that the server's from there on are to be fetched.
Result<void> SyncRun::reissue_from(std::uint64_t diverged) {
  auto moved = TEDUH_TRY(store_.in_transaction([&]() -> Result<std::uint64_t> {
    auto n = store_.reissue_own_commits(diverged, acked_);
    if (!n) return n;
    // Fetched back by fetch_own() (and by a later sync if this one is cut).
    auto missing = TEDUH_TRY(store_.meta("own_missing_after"));
    std::uint64_t after = diverged - 1;
    if (missing && !missing->empty()) after = std::min<std::uint64_t>(after, std::stoull(*missing));
    TEDUH_TRY(store_.set_meta("own_missing_after", std::to_string(after)));
    TEDUH_TRY(store_.set_meta("acked_seq", std::to_string(acked_)));
    return n;
  }));
  report_.restored = true;
  report_.reissued = moved;
  report_.server_had = acked_;
  return {};
}

// The recorded acknowledgement only grows within a session.
Result<void> SyncRun::record_acked(std::uint64_t seq) {
  if (seq <= recorded_acked_) return {};
  TEDUH_TRY(store_.set_meta("acked_seq", std::to_string(seq)));
  recorded_acked_ = seq;
  return {};
}

// Push: everything after what the server acknowledged, in bounded batches, each
// acknowledgement recorded as it comes. Then the merge state without the refused
// commits, and meta acked_seq equal to what the server holds, for the next sync's check.
Result<void> SyncRun::push() {
  for (;;) {
    auto batch = TEDUH_TRY(local_commits_after(store_, acked_, options_.push_batch));
    if (batch.empty()) break;
    std::uint64_t last_sent = batch.back().seq;
    wire::PushCommits push;
    push.commits = std::move(batch);
    TEDUH_TRY(session_->send(push));
    auto pr = TEDUH_TRY(session_->expect<wire::PushReply>("push"));
    std::uint64_t consumed = 0;  // refused commits the server recorded: acked but not stored
    for (const auto& r : pr.rejections) consumed += r.seq > acked_ && r.seq <= pr.acked_seq;
    report_.pushed += pr.acked_seq > acked_ ? pr.acked_seq - acked_ - consumed : 0;
    // Refusals the server consumed stay visible on what they wrote (referral list, case show).
    TEDUH_TRY(record_refusals(store_, pr));
    note_rejections(pr);
    bool progressed = pr.acked_seq > acked_;
    acked_ = pr.acked_seq;
    TEDUH_TRY(record_acked(acked_));
    if (options_.progress) options_.progress(report_.pushed, report_.pulled);
    // A refused commit blocks the ones after it (the server accepts sequences in order):
    // stop here, keep everything locally, and report it.
    if (!progressed || acked_ < last_sent) break;
  }

  // Refused commits leave the merge: what they superseded counts again, here as on
  // every replica that never received them.
  TEDUH_TRY(store_.rebuild_merge_state());

  // What this store believes the server holds of its own, for the next sync's check.
  auto believed = TEDUH_TRY(store_.meta("acked_seq"));
  if (!believed || std::stoull(*believed) != acked_) {
    TEDUH_TRY(store_.set_meta("acked_seq", std::to_string(acked_)));
  }
  return {};
}

// This device's own commits that a restored store lacks, as the server holds them (meta
// own_missing_after, set by reissue_from() here or in a sync that was cut): each must
// carry this device's signature; the meta advances with each batch and is cleared at
// the end.
Result<void> SyncRun::fetch_own() {
  auto own_missing = TEDUH_TRY(store_.meta("own_missing_after"));
  if (!own_missing || own_missing->empty()) return {};
  std::uint64_t after = std::stoull(*own_missing);
  for (;;) {
    TEDUH_TRY(session_->send(wire::PullOwn{after, options_.pull_batch}));
    auto pr = TEDUH_TRY(session_->expect<wire::PullReply>("fetch of this device's own changes"));
    auto applied = TEDUH_TRY(store_.in_transaction([&]() -> Result<std::uint64_t> {
      std::uint64_t fresh = 0;
      for (const auto& pc : pr.commits) {
        // Every one must carry this device's own signature.
        auto commit = sync::verify_commit(pc.commit, id_.signing_key.public_key());
        if (!commit || pc.commit.device != id_.device) {
          return fail(Errc::refused,
                      "The server sent back a change of this device that this device did not sign; nothing of it "
                      "was kept.");
        }
        auto r = TEDUH_TRY(store_.apply_remote(pc.commit, *commit, static_cast<std::int64_t>(pc.server_seq)));
        fresh += r ? 1 : 0;
        after = std::max(after, pc.commit.seq);
      }
      const bool done = pr.commits.empty() || !pr.more;
      TEDUH_TRY(store_.set_meta("own_missing_after", done ? std::string() : std::to_string(after)));
      return fresh;
    }));
    report_.recovered += applied;
    if (pr.commits.empty() || !pr.more) break;
  }
  report_.restored = true;
  return {};
}

// Pull: the directory first (offices, and the device keys every pulled commit is
// verified with, PROTOCOL.md 4.3), then the commits after the cursor a batch at a time,
// each batch and its cursor in one transaction. The session is lent to the pipeline's
// receiver between request() and take(); this thread meanwhile touches only the store.
Result<void> SyncRun::pull() {
  auto cursor_text = TEDUH_TRY(store_.meta("pull_cursor"));
  const std::uint64_t cursor = cursor_text ? std::stoull(*cursor_text) : 0;
  auto directory = TEDUH_TRY(fetch_directory(*session_));
  TEDUH_TRY(store_.replace_directory(directory.offices, directory.devices));
  PullPipeline pipeline(*session_, store_, id_, device_keys(directory, id_), options_.pipeline);
  if (auto s = pipeline.request(cursor, options_.pull_batch); !s) return s;
  for (;;) {
    Result<PulledBatch> batch = pipeline.take();
    if (!batch) return tl::unexpected(batch.error());
    const bool more = batch->reply.more;
    if (more) {
      // The server prepares the next batch while this one is applied.
      if (auto s = pipeline.request(batch->reply.next_cursor, options_.pull_batch); !s) return s;
      pipeline.start_checkpoints();
    }
    auto applied = TEDUH_TRY(apply_pulled(*batch));
    pipeline.committed();
    report_.pulled += applied;
    if (options_.progress) options_.progress(report_.pushed, report_.pulled);
    if (!more) break;
  }
  pipeline.finish();
  // What fetch_own() and the pull applied may have written a record that only refused
  // commits of this device wrote before: those stop counting there (Store::apply_remote
  // flags it; a no-op otherwise).
  return store_.rebuild_merge_state();
}

// One pulled batch, its Purges and the new cursor in one transaction. Returns how many
// of its commits this replica did not hold.
Result<std::uint64_t> SyncRun::apply_pulled(const PulledBatch& batch) {
  const wire::PullReply& pr = batch.reply;
  return store_.in_transaction([&]() -> Result<std::uint64_t> {
    // The office lost these cases (consent withdrawn, referral ended, transfer): they
    // leave this store before the batch is applied, in the same transaction.
    for (const sync::EntityId& scope : batch.purges) {
      // An intake of this office that it transferred stays in its counts (issue 15.8).
      TEDUH_TRY(keep_transferred_intake(store_, scope.hex()));
      auto removed = TEDUH_TRY(store_.purge_scope(scope, acked_));
      if (removed) ++report_.purged;
    }
    std::uint64_t fresh = 0;
    for (std::size_t i = 0; i < pr.commits.size(); ++i) {
      const auto& pc = pr.commits[i];
      auto r = TEDUH_TRY(store_.apply_remote(pc.commit, batch.commits[i], static_cast<std::int64_t>(pc.server_seq)));
      fresh += r ? 1 : 0;
    }
    TEDUH_TRY(store_.set_meta("pull_cursor", std::to_string(pr.next_cursor)));
    return fresh;
  });
}

// A device with shelter clearance fetches the compartment keys the administrator
// wrapped to it (PROTOCOL.md 5D). Each wrap must carry the pinned administrator's
// signature over (compartment, generation, this device, sealed bytes) and open with
// this device's key; one that does not refuses the whole batch, and nothing is kept.
Result<void> SyncRun::fetch_keys() {
  if (!id_.grant.shelter_clearance) return {};
  TEDUH_TRY(session_->send(wire::KeyWrapsRequest{}));
  auto wraps = session_->expect<wire::KeyWraps>("shelter key request");
  if (!wraps) return tl::unexpected(wraps.error());
  if (wraps->wraps.empty()) return {};
  if (!id_.grant.admin_key) {
    // Not an error of this sync (cases synced fine): the device can never check these.
    report_.shelter_notice =
        "This device was enrolled with a code that names no administrator key, so it cannot check the shelter "
        "keys the server relays; enroll it again with a new code.";
    return {};
  }
  auto installed = TEDUH_TRY(accept_key_wraps(store_, wraps->wraps));
  report_.shelter_keys = installed;
  return {};
}

// A central office device receives de-identified projections, not cases (PROTOCOL.md
// 5C); each is verified against the pinned server key before it is stored, a batch and
// its cursor in one transaction.
Result<void> SyncRun::fetch_projections() {
  if (id_.grant.office_kind != "pusat") return {};
  auto text = TEDUH_TRY(store_.meta("projection_cursor"));
  std::uint64_t pcursor = text ? std::stoull(*text) : 0;
  for (;;) {
    TEDUH_TRY(session_->send(wire::FetchProjections{pcursor, 500}));
    auto batch = TEDUH_TRY(session_->expect<wire::ProjectionBatch>("report data request"));
    auto stored = TEDUH_TRY(store_.in_transaction([&]() -> Result<std::uint64_t> {
      for (const auto& p : batch.projections) {
        const auto* body = reinterpret_cast<const std::uint8_t*>(p.body.data());
        crypto::Bytes signed_bytes = sync::projection_signed_bytes(p.scope, p.server_seq, {body, p.body.size()});
        if (!crypto::verify_signature(id_.server_key, signed_bytes, p.signature)) {
          return fail(Errc::refused, "The server sent report data it did not sign; nothing of it was kept.");
        }
        if (auto r = store_.put_projection(p.scope, static_cast<std::int64_t>(p.server_seq), p.body, p.signature);
            !r) {
          return tl::unexpected(r.error());
        }
      }
      TEDUH_TRY(store_.set_meta("projection_cursor", std::to_string(batch.next_cursor)));
      return batch.projections.size();
    }));
    report_.projections += stored;
    pcursor = batch.next_cursor;
    if (!batch.more) break;
  }
  return {};
}

// Says Close (the session's work is done and kept whether or not it arrives), and
// fills in what the store noticed along the way.
Result<void> SyncRun::close() {
  (void)session_->send(wire::Close{});
  if (report_.purged > 0) {
    // Purged rows leave the WAL too (the pages are encrypted either way).
    (void)sqlite3_exec(store_.db(), "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  }
  for (const auto& d : store_.take_clock_warnings()) report_.clock_ahead.push_back(d.hex());
  for (const auto& c : store_.take_refused_commits())
    report_.skipped.push_back(c.device.hex().substr(0, 8) + " #" + std::to_string(c.seq) + ": " + c.reason);
  auto after = TEDUH_TRY(conflict_count(store_));
  report_.conflicts_total = after;
  report_.conflicts_new = after > conflicts_before_ ? after - conflicts_before_ : 0;
  return {};
}

}  // namespace

[[nodiscard]] Result<SyncReport> sync_with_server(Store& store, const SyncOptions& options) {
  return SyncRun(store, options).run();
}

SyncOptions sync_options_from_environment() {
  SyncOptions options;
  if (const char* t = std::getenv("TEDUH_SYNC_TIMEOUT_MS")) options.timeout_ms = std::atoi(t);
  return options;
}

nlohmann::json sync_report_json(const SyncReport& r) {
  using nlohmann::json;
  return json{{"pushed", r.pushed},
              {"pulled", r.pulled},
              {"rejected", r.rejected},
              {"purged", r.purged},
              {"shelter_keys", r.shelter_keys},
              {"shelter_notice", r.shelter_notice},
              {"rejections", r.rejections},
              {"conflicts_new", r.conflicts_new},
              {"conflicts", r.conflicts_total},
              {"projections", r.projections},
              {"registered_now", r.registered_now},
              {"server_lost", r.server_lost},
              {"restored",
               {{"detected", r.restored},
                {"server_had", r.server_had},
                {"reissued", r.reissued},
                {"recovered", r.recovered}}},
              {"clock_ahead", r.clock_ahead},
              {"skipped", r.skipped}};
}

Result<void> record_last_sync(Store& store, const SyncReport& r, std::uint64_t now_ms) {
  const nlohmann::json summary{
      {"at",
       schema::dates::format_utc(schema::dates::from_unix_ms(static_cast<std::int64_t>(now_ms)))},
      {"pushed", r.pushed},
      {"pulled", r.pulled},
      {"rejected", r.rejected},
      {"purged", r.purged},
      {"conflicts_new", r.conflicts_new},
      {"conflicts", r.conflicts_total}};
  return store.set_meta("last_sync", summary.dump());
}

Result<std::optional<nlohmann::json>> last_sync(const Store& store) {
  auto text = TEDUH_TRY(store.meta("last_sync"));
  if (!text) return std::optional<nlohmann::json>{};
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::optional<nlohmann::json>{};
  return std::optional<nlohmann::json>{std::move(doc)};
}

}  // namespace teduh::client
