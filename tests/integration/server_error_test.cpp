// A server that answers with Error is reported as what it said, not as "cannot be
// reached" (PROTOCOL.md section 5B rule 9, WIRE.md "ErrorCode"): `teduh sync` against a
// stand-in server on 127.0.0.1 that speaks the real protocol (Noise_XX, frames, messages)
// and answers the pull with Error{internal}, as teduhd now does when a reply would break
// the wire's limits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "support/process.hpp"
#include "support/server_test.hpp"
#include "support/temp_dir.hpp"
#include "teduh/client/store.hpp"
#include "teduh/crypto/noise.hpp"
#include "teduh/crypto/secure.hpp"
#include "teduh/sync/enrollment.hpp"
#include "teduh/sync/frame.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/wire.hpp"

namespace teduh {
namespace {

namespace wire = sync::wire;

// One connection: handshake as the responder, then answer Hello as for a registered
// device, a DirectoryRequest with an empty directory, and the first Pull (or PullOwn)
// with `error`.
class ErrorServer {
 public:
  ErrorServer(const crypto::SigningKey& key, wire::ErrorMessage error) : key_(key), error_(std::move(error)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 1);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    thread_ = std::thread([this] { serve(); });
  }
  ~ErrorServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  const std::string& address() const { return address_; }
  bool sent_error() const { return sent_error_; }

 private:
  std::optional<wire::Bytes> read_frame(int c, wire::FrameDecoder& decoder) {
    for (;;) {
      if (auto f = decoder.next()) return f;
      std::uint8_t buf[4096];
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;
      if (!decoder.feed({buf, static_cast<std::size_t>(n)})) return std::nullopt;
    }
  }
  static void write_all(int c, const wire::Bytes& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(c, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  void serve() {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    wire::FrameDecoder decoder;
    const std::string_view prologue = wire::kNoisePrologue;
    auto hs = crypto::HandshakeState::responder(
        key_.to_dh(), crypto::ByteView(reinterpret_cast<const std::uint8_t*>(prologue.data()), prologue.size()));
    auto m1 = read_frame(c, decoder);
    if (!hs || !m1 || !hs->read_message(*m1)) return (void)::close(c);
    auto m2 = hs->write_message({});
    write_all(c, *wire::encode_frame(*m2));
    auto m3 = read_frame(c, decoder);
    if (!m3 || !hs->read_message(*m3)) return (void)::close(c);
    auto transport = std::move(*hs).split();
    if (!transport) return (void)::close(c);
    wire::SecureChannel channel(std::move(*transport));
    for (;;) {
      auto frame = read_frame(c, decoder);
      if (!frame) break;
      auto opened = channel.open(*frame);
      if (!opened) break;
      if (!*opened) continue;
      const wire::Message& m = **opened;
      if (std::holds_alternative<wire::Hello>(m)) {
        const wire::Message reply = wire::HelloReply{1, sync::Id128::random(), true, 0};
        write_all(c, *channel.seal(reply));
      } else if (std::holds_alternative<wire::DirectoryRequest>(m)) {
        const wire::Message reply = wire::Directory{};  // an empty directory, one page
        write_all(c, *channel.seal(reply));
      } else if (std::holds_alternative<wire::Pull>(m) || std::holds_alternative<wire::PullOwn>(m)) {
        const wire::Message reply = error_;
        write_all(c, *channel.seal(reply));
        const wire::Message close = wire::Close{};
        write_all(c, *channel.seal(close));
        sent_error_ = true;
        break;
      } else {
        break;
      }
    }
    ::close(c);
  }

  const crypto::SigningKey& key_;
  wire::ErrorMessage error_;
  int fd_ = -1;
  std::string address_;
  std::thread thread_;
  bool sent_error_ = false;
};

// A store enrolled with a code signed by `server_key`, pointed at `address`.
std::string enrolled_store(const testing::TempDir& dir, const crypto::SigningKey& server_key,
                           const std::string& address) {
  sync::EnrollmentGrant grant;
  grant.code_id = sync::Id128::random();
  grant.office_code = "UJI-KANTOR";
  grant.office_name = "Kantor Uji";
  grant.office_kind = "uptd_ppa";
  grant.user = "petugas-uji";
  grant.role = "pendamping";
  grant.expires_at_ms = sync::system_now_ms() + 3'600'000;
  client::Identity id;
  id.device = sync::Id128::random();
  id.signing_key = crypto::SigningKey::generate();
  id.enrollment_code = sync::issue_enrollment_code(grant, server_key);
  id.grant = grant;
  id.server_address = address;
  id.server_key = server_key.public_key();
  const std::string path = (dir / "kantor.db").string();
  client::StoreOptions options;
  options.path = path;
  options.passphrase = teduh::testing::kOfficePassphrase;
  options.kdf = crypto::KdfParams::interactive();
  auto store = client::Store::create(options, std::move(id));
  EXPECT_TRUE(store) << store.error().message;
  return path;
}

TEST(ServerErrorTest, AServerErrorIsReportedAsAFailureOfTheServerNotAsUnreachable) {
  crypto::init();
  testing::TempDir dir;
  const crypto::SigningKey server_key = crypto::SigningKey::generate();
  ErrorServer server(server_key, wire::ErrorMessage{wire::ErrorCode::internal,
                                                    "the server could not fit its reply within the protocol's "
                                                    "limits; nothing was half applied"});
  const std::string store = enrolled_store(dir, server_key, server.address());
  ::setenv("TEDUH_PASSPHRASE", teduh::testing::kOfficePassphrase, 1);
  ::setenv("TEDUH_SYNC_TIMEOUT_MS", "5000", 1);
  testing::Run r = testing::run_program(testing::kTeduh, {"sync", "--store", store});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("The server failed while answering the pull"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("limits"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cannot be reached"), std::string::npos) << r.err;
  EXPECT_TRUE(server.sent_error());
}

}  // namespace
}  // namespace teduh
