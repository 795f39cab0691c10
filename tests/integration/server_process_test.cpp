// Drives the real teduhd binary on 127.0.0.1 (port 0) with good and hostile peers: a bad
// peer loses its connection, and the server keeps answering good handshakes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/process.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/crypto/noise.hpp"
#include "teduh/sync/frame.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/version.hpp"
#include "teduh/sync/wire.hpp"

namespace {

namespace fs = std::filesystem;
namespace wire = teduh::sync::wire;
namespace crypto = teduh::crypto;
namespace sync = teduh::sync;
using Bytes = std::vector<std::uint8_t>;

using teduh::testing::kTeduhd;

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

CommandResult run(const std::string& args) {
  CommandResult r;
  FILE* p = ::popen((kTeduhd + " " + args + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

bool send_all(int fd, const Bytes& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly n bytes; false on EOF, reset or timeout.
bool read_exact(int fd, std::uint8_t* out, std::size_t n) {
  std::size_t off = 0;
  while (off < n) {
    const ssize_t got = ::recv(fd, out + off, n - off, 0);
    if (got <= 0) return false;
    off += static_cast<std::size_t>(got);
  }
  return true;
}

std::optional<Bytes> read_frame(int fd) {
  std::array<std::uint8_t, 4> header{};
  if (!read_exact(fd, header.data(), header.size())) return std::nullopt;
  const std::size_t len = (std::size_t{header[0]} << 24) | (std::size_t{header[1]} << 16) |
                          (std::size_t{header[2]} << 8) | std::size_t{header[3]};
  if (len == 0 || len > wire::kMaxFrameSize) return std::nullopt;
  Bytes payload(len);
  if (!read_exact(fd, payload.data(), len)) return std::nullopt;
  return payload;
}

// True when the server ends the connection (EOF or reset) before the receive timeout.
bool server_hangs_up(int fd) {
  std::array<std::uint8_t, 4096> buf{};
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

// A test client: a blocking socket with a Noise_XX initiator and single-chunk messages.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }
  bool connected() const { return connected_; }

  bool send_raw(const Bytes& bytes) { return send_all(fd_, bytes); }

  bool handshake(const crypto::DhPublicKey& server_static, const crypto::SigningKey& device_key) {
    const auto dh = device_key.to_dh();
    const std::string_view prologue = wire::kNoisePrologue;
    auto hs = crypto::HandshakeState::initiator(
        dh, crypto::ByteView(reinterpret_cast<const std::uint8_t*>(prologue.data()), prologue.size()),
        server_static);
    if (!hs) return false;
    auto m1 = hs->write_message({});
    if (!m1 || !send_all(fd_, *wire::encode_frame(*m1))) return false;
    auto m2 = read_frame(fd_);
    if (!m2 || !hs->read_message(*m2)) return false;
    auto m3 = hs->write_message({});
    if (!m3 || !send_all(fd_, *wire::encode_frame(*m3))) return false;
    sent_handshake_ = {*m1, *m3};
    auto t = std::move(*hs).split();
    if (!t) return false;
    transport_.emplace(std::move(*t));
    return true;
  }

  // One chunk (final) with these bytes as its data, encrypted and framed.
  bool send_plaintext_chunk(const Bytes& data) {
    Bytes chunk{wire::kChunkFinal};
    chunk.insert(chunk.end(), data.begin(), data.end());
    auto sealed = transport_->encrypt(chunk);
    return sealed && send_all(fd_, *wire::encode_frame(*sealed));
  }

  bool send(const wire::Message& m) {
    auto bytes = wire::encode(m);
    return bytes && send_plaintext_chunk(*bytes);
  }

  // The initiator's handshake messages 1 and 3 as sent, for replay tests.
  const std::vector<Bytes>& sent_handshake() const { return sent_handshake_; }

  std::optional<wire::Message> receive() {
    auto frame = read_frame(fd_);
    if (!frame) return std::nullopt;
    auto plain = transport_->decrypt(*frame);
    if (!plain || plain->empty() || (*plain)[0] != wire::kChunkFinal) return std::nullopt;
    auto m = wire::decode(wire::ByteView(plain->data() + 1, plain->size() - 1));
    if (!m) return std::nullopt;
    return *m;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::optional<crypto::Transport> transport_;
  std::vector<Bytes> sent_handshake_;
};

class ServerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TEDUH_KDF", "interactive", 1);
    ::setenv("TEDUH_TEST_STORES", "1", 1);
    ::setenv("TEDUH_SERVER_PASSPHRASE", "lampu-jalan-berbisik-pelan-uji", 1);
    ::setenv("TEDUH_IDLE_TIMEOUT_MS", "3000", 1);
    char templ[] = "/tmp/teduh-serverproc-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    root_ = templ;
    data_ = (root_ / "data").string();

    auto init = run("init --data " + data_);
    ASSERT_EQ(init.exit_code, 0);
    auto key = crypto::from_base64url(last_line(init.out));
    ASSERT_TRUE(key && key->size() == crypto::kSignPublicKeySize);
    std::copy(key->begin(), key->end(), server_key_.begin());
    auto dh = crypto::to_dh_public(server_key_);
    ASSERT_TRUE(dh);
    server_dh_ = *dh;
    ASSERT_EQ(run("office add --data " + data_ + " --code BKS-DP3A --name Bekasi --kind dinas").exit_code, 0);
    start_server();
  }

  void TearDown() override {
    stop_server();
    if (HasFailure()) {
      // The server's log (ids and codes only) explains a failure.
      std::ifstream log(root_ / "teduhd.log");
      std::cerr << "teduhd.log:\n" << log.rdbuf() << "\n";
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  void start_server() {
    ASSERT_TRUE(server_.start(data_, root_ / "teduhd.log")) << "teduhd serve did not start";
    port_ = server_.port();
    ASSERT_GT(port_, 0);
  }

  void stop_server() { EXPECT_TRUE(server_.stop()) << "teduhd did not stop cleanly"; }

  std::string enroll_code() {
    auto r = run("enroll --data " + data_ + " --office BKS-DP3A --user Sari --role pendamping");
    EXPECT_EQ(r.exit_code, 0);
    return last_line(r.out);
  }

  // A fresh device completes a handshake and a Hello.
  void expect_server_answers() {
    Client c(port_);
    ASSERT_TRUE(c.connected());
    const auto key = crypto::SigningKey::generate();
    ASSERT_TRUE(c.handshake(server_dh_, key)) << "the server no longer answers a good handshake";
    ASSERT_TRUE(c.send(wire::Hello{{wire::kProtocolVersion}, "teduh-test"}));
    auto reply = c.receive();
    ASSERT_TRUE(reply && std::holds_alternative<wire::HelloReply>(*reply));
    EXPECT_FALSE(std::get<wire::HelloReply>(*reply).registered);
    ASSERT_TRUE(c.send(wire::Close{}));
    auto closed = c.receive();
    EXPECT_TRUE(closed && std::holds_alternative<wire::Close>(*closed));
  }

  static sync::SignedCommit make_commit(const sync::DeviceId& device, const crypto::SigningKey& key,
                                        std::uint64_t seq) {
    sync::Commit c;
    c.device = device;
    c.seq = seq;
    c.scope = sync::Id128::random();
    c.scope_type = "kasus";
    c.hlc = sync::make_hlc(sync::system_now_ms(), 0);
    c.versions.push_back(sync::Version{c.scope, "kasus", "summary", "Ringkasan", c.hlc, {}});
    return sync::sign_commit(c, key);
  }

  fs::path root_;
  std::string data_;
  crypto::SignPublicKey server_key_{};
  crypto::DhPublicKey server_dh_{};
  teduh::testing::ServerProcess server_;
  std::uint16_t port_ = 0;
};

TEST_F(ServerProcessTest, RandomBytesLoseTheConnectionNotTheServer) {
  {
    Client c(port_);
    ASSERT_TRUE(c.connected());
    c.send_raw(crypto::random_bytes(300));
    EXPECT_TRUE(server_hangs_up(c.fd()));
  }
  expect_server_answers();
}

TEST_F(ServerProcessTest, TruncatedFrameIsDropped) {
  {
    Client c(port_);
    ASSERT_TRUE(c.connected());
    Bytes partial = {0x00, 0x00, 0x00, 0x40, 1, 2, 3, 4, 5};
    c.send_raw(partial);
    ::shutdown(c.fd(), SHUT_WR);
    EXPECT_TRUE(server_hangs_up(c.fd()));
  }
  expect_server_answers();
}

TEST_F(ServerProcessTest, OversizedLengthPrefixIsDroppedAtOnce) {
  {
    Client c(port_);
    ASSERT_TRUE(c.connected());
    c.send_raw(Bytes{0xff, 0xff, 0xff, 0xff, 0x00});
    EXPECT_TRUE(server_hangs_up(c.fd()));  // well before the 3 s read timeout
  }
  expect_server_answers();
}

TEST_F(ServerProcessTest, SilentPeerIsDroppedByTheWatchdog) {
  {
    Client c(port_);
    ASSERT_TRUE(c.connected());
    EXPECT_TRUE(server_hangs_up(c.fd()));  // TEDUH_IDLE_TIMEOUT_MS=3000 < the 10 s receive timeout
  }
  expect_server_answers();
}

TEST_F(ServerProcessTest, MalformedMsgpackAfterHandshakeIsDropped) {
  {
    Client c(port_);
    ASSERT_TRUE(c.handshake(server_dh_, crypto::SigningKey::generate()));
    ASSERT_TRUE(c.send_plaintext_chunk(Bytes{0xc1, 0x93, 0xff}));
    // The secure channel is final after a failure (WIRE.md): the server just hangs up.
    EXPECT_TRUE(server_hangs_up(c.fd()));
  }
  expect_server_answers();
}

TEST_F(ServerProcessTest, UnknownMessageTypeIsDropped) {
  {
    Client c(port_);
    ASSERT_TRUE(c.handshake(server_dh_, crypto::SigningKey::generate()));
    ASSERT_TRUE(c.send_plaintext_chunk(Bytes{0x91, 0x63}));  // [99]
    EXPECT_TRUE(server_hangs_up(c.fd()));
  }
  expect_server_answers();
}

TEST_F(ServerProcessTest, HandshakeWithTheWrongServerKeyFails) {
  {
    Client c(port_);
    const auto impostor = crypto::SigningKey::generate().to_dh();
    EXPECT_FALSE(c.handshake(impostor.public_key(), crypto::SigningKey::generate()));
  }
  expect_server_answers();
}

TEST_F(ServerProcessTest, ReplayedHandshakeIsDropped) {
  const auto key = crypto::SigningKey::generate();
  std::vector<Bytes> recorded;
  {
    Client c(port_);
    ASSERT_TRUE(c.handshake(server_dh_, key));
    recorded = c.sent_handshake();
  }
  ASSERT_EQ(recorded.size(), 2u);
  // An eavesdropper replays messages 1 and 3: the server's fresh ephemeral key makes the
  // old message 3 fail, so no session opens.
  Client replay(port_);
  ASSERT_TRUE(replay.connected());
  ASSERT_TRUE(replay.send_raw(*wire::encode_frame(recorded[0])));
  auto m2 = read_frame(replay.fd());
  ASSERT_TRUE(m2);
  ASSERT_TRUE(replay.send_raw(*wire::encode_frame(recorded[1])));
  EXPECT_TRUE(server_hangs_up(replay.fd()));
  expect_server_answers();
}

TEST_F(ServerProcessTest, UnknownDeviceKeyCannotPullOrPush) {
  const auto stranger = crypto::SigningKey::generate();
  Client c(port_);
  ASSERT_TRUE(c.handshake(server_dh_, stranger));
  ASSERT_TRUE(c.send(wire::Hello{{wire::kProtocolVersion}, "teduh-test"}));
  auto hello = c.receive();
  ASSERT_TRUE(hello && std::holds_alternative<wire::HelloReply>(*hello));
  EXPECT_FALSE(std::get<wire::HelloReply>(*hello).registered);
  ASSERT_TRUE(c.send(wire::Pull{0, 10}));
  auto refused = c.receive();
  ASSERT_TRUE(refused && std::holds_alternative<wire::ErrorMessage>(*refused));
  EXPECT_EQ(std::get<wire::ErrorMessage>(*refused).code, wire::ErrorCode::not_registered);
  EXPECT_TRUE(server_hangs_up(c.fd()));
  expect_server_answers();
}

TEST_F(ServerProcessTest, DeviceRegistersPushesAndPulls) {
  const auto key = crypto::SigningKey::generate();
  const auto device = sync::Id128::random();
  const std::string code = enroll_code();
  {
    Client c(port_);
    ASSERT_TRUE(c.handshake(server_dh_, key));
    ASSERT_TRUE(c.send(wire::Hello{{wire::kProtocolVersion}, "teduh-test"}));
    auto hello = c.receive();
    ASSERT_TRUE(hello && std::holds_alternative<wire::HelloReply>(*hello));
    EXPECT_FALSE(std::get<wire::HelloReply>(*hello).registered);

    ASSERT_TRUE(c.send(wire::RegisterDevice{code, device, key.public_key()}));
    auto reg = c.receive();
    ASSERT_TRUE(reg && std::holds_alternative<wire::RegisterReply>(*reg));
    EXPECT_TRUE(std::get<wire::RegisterReply>(*reg).ok);

    wire::PushCommits push;
    push.commits = {make_commit(device, key, 1), make_commit(device, key, 2)};
    ASSERT_TRUE(c.send(push));
    auto pushed = c.receive();
    ASSERT_TRUE(pushed && std::holds_alternative<wire::PushReply>(*pushed));
    EXPECT_EQ(std::get<wire::PushReply>(*pushed).acked_seq, 2u);
    EXPECT_TRUE(std::get<wire::PushReply>(*pushed).rejections.empty());

    // Its own commits are not sent back; the cursor still moves past them.
    ASSERT_TRUE(c.send(wire::Pull{0, 10}));
    auto pulled = c.receive();
    ASSERT_TRUE(pulled && std::holds_alternative<wire::PullReply>(*pulled));
    const auto& batch = std::get<wire::PullReply>(*pulled);
    EXPECT_TRUE(batch.commits.empty());
    EXPECT_FALSE(batch.more);
    EXPECT_EQ(batch.next_cursor, 2u);

    ASSERT_TRUE(c.send(wire::Close{}));
    auto closed = c.receive();
    EXPECT_TRUE(closed && std::holds_alternative<wire::Close>(*closed));
  }
  {
    // A reconnecting device is recognised by its key and told where to push from.
    Client c(port_);
    ASSERT_TRUE(c.handshake(server_dh_, key));
    ASSERT_TRUE(c.send(wire::Hello{{wire::kProtocolVersion}, "teduh-test"}));
    auto hello = c.receive();
    ASSERT_TRUE(hello && std::holds_alternative<wire::HelloReply>(*hello));
    EXPECT_TRUE(std::get<wire::HelloReply>(*hello).registered);
    EXPECT_EQ(std::get<wire::HelloReply>(*hello).last_acked_seq, 2u);
  }
  {
    // The same code from another device is refused and the peer loses its connection.
    const auto other = crypto::SigningKey::generate();
    Client c(port_);
    ASSERT_TRUE(c.handshake(server_dh_, other));
    ASSERT_TRUE(c.send(wire::Hello{{wire::kProtocolVersion}, "teduh-test"}));
    ASSERT_TRUE(c.receive());
    ASSERT_TRUE(c.send(wire::RegisterDevice{code, sync::Id128::random(), other.public_key()}));
    auto refused = c.receive();
    ASSERT_TRUE(refused && std::holds_alternative<wire::ErrorMessage>(*refused));
    EXPECT_EQ(std::get<wire::ErrorMessage>(*refused).code, wire::ErrorCode::enrollment_refused);
    EXPECT_TRUE(server_hangs_up(c.fd()));
  }
  expect_server_answers();

  // A revoked device is refused at Hello.
  stop_server();
  ASSERT_EQ(run("device revoke --data " + data_ + " --device " + device.hex()).exit_code, 0);
  auto listed = run("device list --data " + data_ + " --json");
  EXPECT_NE(listed.out.find("\"revoked\""), std::string::npos);
  start_server();
  {
    Client c(port_);
    ASSERT_TRUE(c.handshake(server_dh_, key));
    ASSERT_TRUE(c.send(wire::Hello{{wire::kProtocolVersion}, "teduh-test"}));
    auto refused = c.receive();
    ASSERT_TRUE(refused && std::holds_alternative<wire::ErrorMessage>(*refused));
    EXPECT_EQ(std::get<wire::ErrorMessage>(*refused).code, wire::ErrorCode::device_revoked);
    EXPECT_TRUE(server_hangs_up(c.fd()));
  }
  expect_server_answers();
}

TEST_F(ServerProcessTest, CliExitCodes) {
  EXPECT_EQ(run("init --data " + data_).exit_code, 2);
  EXPECT_EQ(run("office add --data " + data_ + " --code X --name X --kind bukan").exit_code, 1);
  EXPECT_EQ(run("device revoke --data " + data_ + " --device zz").exit_code, 1);
  EXPECT_EQ(run("enroll --data " + data_ + " --office BKS-DP3A --user A").exit_code, 1);  // --role missing
  ::setenv("TEDUH_SERVER_PASSPHRASE", "salah", 1);
  EXPECT_EQ(run("device list --data " + data_).exit_code, 2);
  ::setenv("TEDUH_SERVER_PASSPHRASE", "lampu-jalan-berbisik-pelan-uji", 1);
  EXPECT_EQ(run("device list --help").exit_code, 0);
}

}  // namespace
