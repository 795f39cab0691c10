// Noise_XX_25519_ChaChaPoly_BLAKE2b: published vectors replayed byte for byte, HMAC-BLAKE2b
// and HKDF against an independent implementation, and the failures that must happen.
#include "teduh/crypto/noise.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace teduh::crypto {

// The only way to choose an ephemeral key (see noise.hpp). Defined here, in the tests.
struct NoiseTestAccess {
  static Result<HandshakeState> initiator(const DhKeyPair& s, ByteView prologue,
                                          const DhPublicKey& pinned, DhKeyPair e) {
    return HandshakeState::make(HandshakeState::Role::initiator, s, prologue, pinned,
                                std::move(e));
  }
  static Result<HandshakeState> responder(const DhKeyPair& s, ByteView prologue, DhKeyPair e) {
    return HandshakeState::make(HandshakeState::Role::responder, s, prologue, std::nullopt,
                                std::move(e));
  }
};

namespace {

Bytes hex(std::string_view text) {
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes.has_value()) << text;
  return bytes.value_or(Bytes{});
}

std::string hex_of(ByteView bytes) { return to_hex(bytes); }

Bytes as_bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

DhKeyPair key_from_hex(std::string_view secret_hex) {
  auto key = DhKeyPair::from_secret(hex(secret_hex));
  EXPECT_TRUE(key.has_value());
  return std::move(key).value();
}

class NoiseTest : public ::testing::Test {
 protected:
  void SetUp() override { init(); }
};

// -------------------------------------------------------------------------------------
// HMAC-BLAKE2b and HKDF. Expected values: Python 3 hmac.new(key, msg, hashlib.blake2b)
// (tests/data/noise/PROVENANCE.md).

struct HmacCase {
  std::string key_hex;
  std::string message_hex;
  std::string mac_hex;
};

TEST_F(NoiseTest, HmacBlake2bMatchesIndependentImplementation) {
  const std::vector<HmacCase> cases = {
      {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
       "358a6a184924894fc34bee5680eedf57d84a37bb38832f288e3b27dc63a98cc8c91e76da476b508bc6b2d4"
       "08a248857452906e4a20b48c6b4b55d2df0fe1dd24"},
      {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
       "6ff884f8ddc2a6586b3c98a4cd6ebdf14ec10204b6710073eb5865ade37a2643b8807c1335d107ecdb9ffe"
       "aeb6828c4625ba172c66379efcd222c2de11727ab4"},
      {std::string(40, 'a'), std::string(100, 'd'),
       "f43bc62c7a99353c3b2c60e8ef24fbbd42e9547866dc9c5be4edc6f4a7d4bc0ac620c2c60034d040f0dbaf"
       "86f9e9cd7891a095595eed55e2a996215f0c15c018"},
      // A key longer than the 128-byte block is hashed first.
      {std::string(262, 'a'),
       "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d20486173"
       "68204b6579204669727374",
       "a54b2943b2a20227d41ca46c0945af09bc1faefb2f49894c23aebc557fb79c4889dca74408dc865086667a"
       "edee4a3185c53a49c80b814c4c5813ea0c8b38a8f8"},
      {"", "",
       "198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a68466775177424f58286886cb"
       "ae8229644cec747237d4b721735485e17372fdf59c"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key_hex);
    EXPECT_EQ(hex_of(hmac_blake2b(hex(c.key_hex), hex(c.message_hex))), c.mac_hex);
  }
  // A key of exactly one block is used as is.
  Bytes block_key(128);
  for (std::size_t i = 0; i < block_key.size(); ++i) block_key[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(hex_of(hmac_blake2b(block_key, as_bytes("exactly one block key"))),
            "5ab8ef4c3cbe4a3059ce695fea82aa68ef62eadfe58e2df3eb4d100c7d345f370ea1efbb3345416402263c"
            "3e8944919fef396ab0fed01e4507788ec1bc0ea382");
}

TEST_F(NoiseTest, HkdfMatchesIndependentImplementation) {
  Bytes ck(64);
  for (std::size_t i = 0; i < ck.size(); ++i) ck[i] = static_cast<std::uint8_t>(i);
  const HkdfOutputs three = hkdf_blake2b(ck, as_bytes("input key material"), 3);
  EXPECT_EQ(hex_of(three.out1.view()),
            "a94ec1ceaa5ac0280eafc97980003e4019176e4bf7c914c45fb0bbda0b22a9954d01f3697bbf32817ed0fc"
            "cbf6dd1ebd24c0b05611051e63dc56e131af4f7c10");
  EXPECT_EQ(hex_of(three.out2.view()),
            "f9d83f6c5d34695529eb8e35c8a2ed78658092e7c3b38fdf0cea2a2096b6f6e542af644e298508f37da088"
            "60db285a8ad4b604c1f160f23356df6b28c183508d");
  EXPECT_EQ(hex_of(three.out3.view()),
            "bb6f14b645bac5dd79c98ce583e3357b43b431c22400c9b79d690c1d2fe2d391ab8372b0b08553b56e802d"
            "c6badace75398c1b8a973d0aab18d857d431c3a48f");

  const HkdfOutputs two = hkdf_blake2b(ck, {}, 2);
  EXPECT_EQ(hex_of(two.out1.view()),
            "03be0946afb62e33dcc2e8cb76dfad47663d284d81c0bde963f32a283dede221be2b9e3a86fa82934234d2"
            "a6ed331fb664a3e670252b9454da9ed2567b435e11");
  EXPECT_EQ(hex_of(two.out2.view()),
            "8481b385940ea1ddc1e37243d34e6a00d9e35fe86844b75be2f9d084efcbf4a9d18c764645baf5262707ef"
            "cb490c9ddfcc81c78ff75e1e727428f05b9fee857f");
  EXPECT_TRUE(two.out3.empty());
}

// -------------------------------------------------------------------------------------
// The published vectors.

nlohmann::json load_vectors() {
  std::ifstream in(std::string(TEDUH_TEST_DATA_DIR) + "/noise/subset-25519-ChaChaPoly-BLAKE2b.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

TEST_F(NoiseTest, ReplaysEveryXxVectorByteForByte) {
  const nlohmann::json vectors = load_vectors();
  int replayed = 0;
  for (const auto& v : vectors["vectors"]) {
    if (v["protocol_name"] != std::string(kNoiseProtocolName)) continue;
    SCOPED_TRACE(v.dump());
    const DhKeyPair init_static = key_from_hex(v["init_static"].get<std::string>());
    const DhKeyPair resp_static = key_from_hex(v["resp_static"].get<std::string>());

    auto initiator = NoiseTestAccess::initiator(
        init_static, hex(v["init_prologue"].get<std::string>()), resp_static.public_key(),
        key_from_hex(v["init_ephemeral"].get<std::string>()));
    auto responder = NoiseTestAccess::responder(
        resp_static, hex(v["resp_prologue"].get<std::string>()),
        key_from_hex(v["resp_ephemeral"].get<std::string>()));
    ASSERT_TRUE(initiator && responder);

    const auto& messages = v["messages"];
    ASSERT_GE(messages.size(), 3u);
    std::optional<Transport> init_transport;
    std::optional<Transport> resp_transport;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      SCOPED_TRACE("message " + std::to_string(i));
      const Bytes payload = hex(messages[i]["payload"].get<std::string>());
      const std::string expected = messages[i]["ciphertext"].get<std::string>();
      const bool from_initiator = i % 2 == 0;
      if (i < 3) {
        HandshakeState& sender = from_initiator ? *initiator : *responder;
        HandshakeState& receiver = from_initiator ? *responder : *initiator;
        auto written = sender.write_message(payload);
        ASSERT_TRUE(written) << written.error().message;
        EXPECT_EQ(hex_of(*written), expected);
        auto read = receiver.read_message(*written);
        ASSERT_TRUE(read) << read.error().message;
        EXPECT_EQ(*read, payload);
        if (i == 2) {
          ASSERT_TRUE(initiator->is_complete() && responder->is_complete());
          EXPECT_EQ(hex_of(initiator->handshake_hash()), v["handshake_hash"].get<std::string>());
          EXPECT_EQ(hex_of(responder->handshake_hash()), v["handshake_hash"].get<std::string>());
          EXPECT_EQ(*initiator->remote_static(), resp_static.public_key());
          EXPECT_EQ(*responder->remote_static(), init_static.public_key());
          auto it = std::move(*initiator).split();
          auto rt = std::move(*responder).split();
          ASSERT_TRUE(it && rt);
          init_transport.emplace(std::move(*it));
          resp_transport.emplace(std::move(*rt));
        }
      } else {
        Transport& sender = from_initiator ? *init_transport : *resp_transport;
        Transport& receiver = from_initiator ? *resp_transport : *init_transport;
        auto written = sender.encrypt(payload);
        ASSERT_TRUE(written);
        EXPECT_EQ(hex_of(*written), expected);
        auto read = receiver.decrypt(*written);
        ASSERT_TRUE(read);
        EXPECT_EQ(*read, payload);
      }
    }
    ++replayed;
  }
  EXPECT_GE(replayed, 1);
}

// -------------------------------------------------------------------------------------
// Behaviour with fresh keys.

const Bytes kPrologue = as_bytes("teduh-sync/1");

struct Peers {
  HandshakeState initiator;
  HandshakeState responder;
};

Peers make_peers(const DhKeyPair& client, const DhKeyPair& server, const DhPublicKey& pinned,
                 ByteView client_prologue = kPrologue, ByteView server_prologue = kPrologue) {
  auto i = HandshakeState::initiator(client, client_prologue, pinned);
  auto r = HandshakeState::responder(server, server_prologue);
  EXPECT_TRUE(i && r);
  return Peers{std::move(*i), std::move(*r)};
}

// Runs the three messages; `tamper` may alter message k (0..2) on the wire. Returns the
// first error, or the two transports.
struct HandshakeOutcome {
  std::optional<Error> error;
  int failed_at_message = -1;
  bool failed_on_read = false;
  std::optional<Transport> initiator;
  std::optional<Transport> responder;
};

HandshakeOutcome run_handshake(Peers peers, const std::function<void(int, Bytes&)>& tamper = {}) {
  HandshakeOutcome outcome;
  for (int k = 0; k < 3; ++k) {
    HandshakeState& sender = k % 2 == 0 ? peers.initiator : peers.responder;
    HandshakeState& receiver = k % 2 == 0 ? peers.responder : peers.initiator;
    auto written = sender.write_message(as_bytes("payload " + std::to_string(k)));
    if (!written) {
      outcome.error = written.error();
      outcome.failed_at_message = k;
      return outcome;
    }
    if (tamper) tamper(k, *written);
    auto read = receiver.read_message(*written);
    if (!read) {
      outcome.error = read.error();
      outcome.failed_at_message = k;
      outcome.failed_on_read = true;
      return outcome;
    }
  }
  auto i = std::move(peers.initiator).split();
  auto r = std::move(peers.responder).split();
  EXPECT_TRUE(i && r);
  outcome.initiator.emplace(std::move(*i));
  outcome.responder.emplace(std::move(*r));
  return outcome;
}

TEST_F(NoiseTest, FreshHandshakeAuthenticatesBothSidesAndCarriesTraffic) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  auto outcome = run_handshake(make_peers(client, server, server.public_key()));
  ASSERT_FALSE(outcome.error) << outcome.error->message;
  EXPECT_EQ(outcome.initiator->remote_static(), server.public_key());
  EXPECT_EQ(outcome.responder->remote_static(), client.public_key());
  EXPECT_EQ(outcome.initiator->handshake_hash(), outcome.responder->handshake_hash());

  const Bytes largest(kNoiseMaxPlaintextSize, 0x5a);
  auto c = outcome.initiator->encrypt(largest);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->size(), kNoiseMaxMessageSize);
  auto p = outcome.responder->decrypt(*c);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, largest);

  auto back = outcome.responder->encrypt(as_bytes("reply"));
  ASSERT_TRUE(back);
  EXPECT_EQ(outcome.initiator->decrypt(*back).value(), as_bytes("reply"));

  const Bytes too_large(kNoiseMaxPlaintextSize + 1, 0);
  EXPECT_EQ(outcome.initiator->encrypt(too_large).error().code, Errc::bad_input);
}

TEST_F(NoiseTest, TwoSessionsWithTheSameKeysUseDifferentTrafficKeys) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  auto a = run_handshake(make_peers(client, server, server.public_key()));
  auto b = run_handshake(make_peers(client, server, server.public_key()));
  ASSERT_FALSE(a.error || b.error);
  EXPECT_NE(a.initiator->handshake_hash(), b.initiator->handshake_hash());
  EXPECT_NE(a.initiator->encrypt(as_bytes("same")).value(),
            b.initiator->encrypt(as_bytes("same")).value());
}

TEST_F(NoiseTest, ClientPinningAnotherServerKeyFailsBeforeSendingMessage3) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  const DhKeyPair expected_server = DhKeyPair::generate();
  Peers peers = make_peers(client, server, expected_server.public_key());

  auto m1 = peers.initiator.write_message({});
  ASSERT_TRUE(m1);
  ASSERT_TRUE(peers.responder.read_message(*m1));
  auto m2 = peers.responder.write_message({});
  ASSERT_TRUE(m2);
  auto read = peers.initiator.read_message(*m2);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, Errc::peer_not_pinned);
  EXPECT_TRUE(peers.initiator.failed());
  // The client's static key is never sent: message 3 cannot be written.
  auto m3 = peers.initiator.write_message({});
  ASSERT_FALSE(m3);
  EXPECT_EQ(m3.error().code, Errc::handshake_failed);
  EXPECT_FALSE(std::move(peers.initiator).split());
}

TEST_F(NoiseTest, PrologueMismatchFailsTheHandshake) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  const Bytes other = as_bytes("teduh-sync/2");
  auto outcome =
      run_handshake(make_peers(client, server, server.public_key(), kPrologue, other));
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, Errc::handshake_failed);
  EXPECT_EQ(outcome.failed_at_message, 1);  // the first authenticated message
  EXPECT_TRUE(outcome.failed_on_read);
}

TEST_F(NoiseTest, FlippedByteInAnyHandshakeMessageFailsTheHandshake) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  // Message sizes with the payloads of run_handshake ("payload k", 9 bytes):
  // 32 + 9, 32 + 48 + 25, 48 + 25.
  const std::size_t sizes[3] = {41, 105, 73};
  for (int target = 0; target < 3; ++target) {
    for (std::size_t pos = 0; pos < sizes[target]; ++pos) {
      for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
        SCOPED_TRACE("message " + std::to_string(target) + " byte " + std::to_string(pos) +
                     " mask " + std::to_string(mask));
        auto outcome = run_handshake(make_peers(client, server, server.public_key()),
                                     [&](int k, Bytes& message) {
                                       if (k != target) return;
                                       ASSERT_EQ(message.size(), sizes[target]);
                                       message[pos] ^= mask;
                                     });
        ASSERT_TRUE(outcome.error);
        EXPECT_EQ(outcome.error->code, Errc::handshake_failed);
        EXPECT_TRUE(outcome.failed_on_read);
        // Message 1 is not authenticated by itself; the next message then fails.
        EXPECT_EQ(outcome.failed_at_message, target == 0 ? 1 : target);
      }
    }
  }
}

TEST_F(NoiseTest, TruncatedOrExtendedHandshakeMessageFails) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  for (int target = 0; target < 3; ++target) {
    for (int change : {-1, +1}) {
      auto outcome = run_handshake(make_peers(client, server, server.public_key()),
                                   [&](int k, Bytes& message) {
                                     if (k != target) return;
                                     if (change < 0) message.pop_back();
                                     else message.push_back(0);
                                   });
      EXPECT_TRUE(outcome.error) << target << " " << change;
    }
  }
}

TEST_F(NoiseTest, LowOrderEphemeralKeyIsRefused) {
  const DhKeyPair server = DhKeyPair::generate();
  auto responder = HandshakeState::responder(server, kPrologue);
  ASSERT_TRUE(responder);
  const Bytes zero_point(32, 0);  // DH with it gives the all-zero secret
  ASSERT_TRUE(responder->read_message(zero_point));
  auto m2 = responder->write_message({});
  ASSERT_FALSE(m2);
  EXPECT_EQ(m2.error().code, Errc::handshake_failed);
}

TEST_F(NoiseTest, MessagesOutOfTurnAreRefused) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  {
    Peers peers = make_peers(client, server, server.public_key());
    EXPECT_FALSE(peers.responder.write_message({}));  // the initiator speaks first
    EXPECT_TRUE(peers.responder.failed());
  }
  {
    Peers peers = make_peers(client, server, server.public_key());
    EXPECT_FALSE(peers.initiator.read_message(Bytes(32, 1)));
  }
  {
    Peers peers = make_peers(client, server, server.public_key());
    EXPECT_FALSE(std::move(peers.initiator).split());  // not complete
  }
  {
    Peers peers = make_peers(client, server, server.public_key());
    EXPECT_FALSE(peers.responder.read_message(Bytes(kNoiseMaxMessageSize + 1, 0)));
  }
}

TEST_F(NoiseTest, FlippedByteInAnyTransportMessageFailsAndPoisonsTheSession) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  const Bytes payload = as_bytes("kasus K-7F3A");
  for (std::size_t pos = 0; pos < payload.size() + kNoiseTagSize; ++pos) {
    auto outcome = run_handshake(make_peers(client, server, server.public_key()));
    ASSERT_FALSE(outcome.error);
    Bytes message = outcome.initiator->encrypt(payload).value();
    message[pos] ^= 0x01;
    auto read = outcome.responder->decrypt(message);
    ASSERT_FALSE(read) << pos;
    EXPECT_EQ(read.error().code, Errc::damaged);
    message[pos] ^= 0x01;  // the original no longer opens either: the session is dead
    EXPECT_FALSE(outcome.responder->decrypt(message));
  }
}

TEST_F(NoiseTest, ReplayedReorderedOrTruncatedTransportMessagesFail) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  {
    auto s = run_handshake(make_peers(client, server, server.public_key()));
    const Bytes first = s.initiator->encrypt(as_bytes("one")).value();
    ASSERT_TRUE(s.responder->decrypt(first));
    EXPECT_FALSE(s.responder->decrypt(first));  // replay
  }
  {
    auto s = run_handshake(make_peers(client, server, server.public_key()));
    const Bytes first = s.initiator->encrypt(as_bytes("one")).value();
    const Bytes second = s.initiator->encrypt(as_bytes("two")).value();
    EXPECT_FALSE(s.responder->decrypt(second));  // reorder
    (void)first;
  }
  {
    auto s = run_handshake(make_peers(client, server, server.public_key()));
    Bytes first = s.initiator->encrypt(as_bytes("one")).value();
    first.resize(kNoiseTagSize - 1);
    EXPECT_FALSE(s.responder->decrypt(first));  // shorter than a tag
  }
  {
    // A message sent in one direction does not open in the other.
    auto s = run_handshake(make_peers(client, server, server.public_key()));
    const Bytes first = s.initiator->encrypt(as_bytes("one")).value();
    EXPECT_FALSE(s.initiator->decrypt(first));
  }
}

TEST_F(NoiseTest, RekeyOnBothSidesKeepsTheSessionAndOnOneSideBreaksIt) {
  const DhKeyPair client = DhKeyPair::generate();
  const DhKeyPair server = DhKeyPair::generate();
  auto s = run_handshake(make_peers(client, server, server.public_key()));
  s.initiator->rekey_send();
  s.responder->rekey_receive();
  EXPECT_EQ(s.responder->decrypt(s.initiator->encrypt(as_bytes("after")).value()).value(),
            as_bytes("after"));
  s.initiator->rekey_send();
  EXPECT_FALSE(s.responder->decrypt(s.initiator->encrypt(as_bytes("x")).value()));
}

}  // namespace
}  // namespace teduh::crypto
