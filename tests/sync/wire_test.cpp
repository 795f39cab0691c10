// The wire layer: framing, chunking, message encoding, and the secure channel over Noise.
#include "teduh/sync/wire.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "teduh/crypto/noise.hpp"

namespace teduh::sync::wire {
namespace {

Bytes as_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

Id128 id_of(std::uint8_t fill) {
  Id128 id;
  id.bytes.fill(fill);
  return id;
}

SignedCommit commit_of(std::uint64_t seq, std::size_t body_size = 40) {
  SignedCommit c;
  c.device = id_of(0xd1);
  c.seq = seq;
  c.body.resize(body_size);
  for (std::size_t i = 0; i < body_size; ++i) c.body[i] = static_cast<std::uint8_t>(i * 7 + seq);
  c.signature.fill(static_cast<std::uint8_t>(seq));
  return c;
}

bool same(const SignedCommit& a, const SignedCommit& b) {
  return a.device == b.device && a.seq == b.seq && a.body == b.body && a.signature == b.signature;
}

// One valid example of every message type, in type-number order.
std::vector<Message> examples() {
  RegisterDevice reg{"TDH1.body.sig", id_of(0x42), {}};
  reg.sign_key.fill(0x17);
  PullReply pull_reply;
  pull_reply.commits = {{10, commit_of(1)}, {12, commit_of(2)}};
  pull_reply.next_cursor = 12;
  pull_reply.more = true;
  ProjectionBatch projections;
  SignedProjection projection{id_of(0x33), 17, R"({"case":"x","forms":["fisik"]})", {}};
  projection.signature.fill(0x9a);
  projections.projections = {projection};
  projections.next_cursor = 17;
  projections.more = true;
  KeyWraps wraps;
  KeyWrap wrap{"rumah_aman", 2, Bytes(80, 0x5c), {}};
  wrap.signature.fill(0x6d);
  wraps.wraps = {wrap};
  Directory directory;
  directory.offices = {{"UPTD-A", "Kantor A", "uptd_ppa", "33.74"}, {"PUSAT", "", "pusat", ""}};
  DirectoryDevice device{id_of(0x44), {}, "UPTD-A"};
  device.sign_key.fill(0x45);
  directory.devices = {device};
  directory.next_cursor = 3;
  directory.more = true;
  return {
      Hello{{1, 2}, "teduh/0.1.0"},
      HelloReply{1, id_of(0x5e), true, 41},
      reg,
      RegisterReply{true},
      PushCommits{{commit_of(1), commit_of(2, 0x10000), commit_of(3, 300)}},
      PushReply{2, {{3, RejectReason::not_authorized, "scope not granted"}}},
      Pull{99, 500},
      pull_reply,
      Purge{{id_of(1), id_of(2)}},
      ErrorMessage{ErrorCode::device_revoked, "perangkat dicabut"},
      Close{},
      FetchProjections{7, 500},
      projections,
      KeyWrapsRequest{},
      wraps,
      DirectoryRequest{3},
      directory,
      PullOwn{5, 100},
  };
}

void expect_same_message(const Message& a, const Message& b) {
  ASSERT_EQ(a.index(), b.index());
  if (const auto* pa = std::get_if<PushCommits>(&a)) {
    const auto& pb = std::get<PushCommits>(b);
    ASSERT_EQ(pa->commits.size(), pb.commits.size());
    for (std::size_t i = 0; i < pa->commits.size(); ++i) {
      EXPECT_TRUE(same(pa->commits[i], pb.commits[i]));
    }
  } else if (const auto* ra = std::get_if<PullReply>(&a)) {
    const auto& rb = std::get<PullReply>(b);
    EXPECT_EQ(ra->next_cursor, rb.next_cursor);
    EXPECT_EQ(ra->more, rb.more);
    ASSERT_EQ(ra->commits.size(), rb.commits.size());
    for (std::size_t i = 0; i < ra->commits.size(); ++i) {
      EXPECT_EQ(ra->commits[i].server_seq, rb.commits[i].server_seq);
      EXPECT_TRUE(same(ra->commits[i].commit, rb.commits[i].commit));
    }
  } else {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (!std::is_same_v<T, PushCommits> && !std::is_same_v<T, PullReply>) {
            EXPECT_EQ(x, std::get<T>(b));
          }
        },
        a);
  }
}

// -------------------------------------------------------------------------------------
// Messages

TEST(WireMessageTest, EveryMessageTypeRoundTrips) {
  const auto all = examples();
  ASSERT_EQ(all.size(), std::variant_size_v<Message>);
  for (std::size_t i = 0; i < all.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(static_cast<std::size_t>(type_of(all[i])), i + 1);
    auto bytes = encode(all[i]);
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto decoded = decode(*bytes);
    ASSERT_TRUE(decoded) << decoded.error().message;
    expect_same_message(all[i], *decoded);
    EXPECT_EQ(encode(*decoded).value(), *bytes);
  }
}

TEST(WireMessageTest, V1EncodingsAreStable) {
  // Golden bytes: version 1 of the wire format must keep decoding.
  EXPECT_EQ(encode(Close{}).value(), (Bytes{0x91, 0x0b}));
  EXPECT_EQ(encode(Pull{5, 100}).value(), (Bytes{0x93, 0x07, 0x05, 0x64}));
  EXPECT_EQ(encode(RegisterReply{true}).value(), (Bytes{0x92, 0x04, 0xc3}));
  EXPECT_EQ(encode(Hello{{1}, "t"}).value(), (Bytes{0x93, 0x01, 0x91, 0x01, 0xa1, 't'}));
  EXPECT_EQ(encode(ErrorMessage{ErrorCode::too_large, ""}).value(),
            (Bytes{0x93, 0x0a, 0x07, 0xa0}));
  Bytes hello_reply = {0x95, 0x02, 0x01, 0xc4, 0x10};
  hello_reply.insert(hello_reply.end(), 16, 0x5e);
  hello_reply.insert(hello_reply.end(), {0xc3, 0xcc, 0xc8});  // true, 200
  EXPECT_EQ(encode(HelloReply{1, id_of(0x5e), true, 200}).value(), hello_reply);
  EXPECT_EQ(encode(KeyWrapsRequest{}).value(), (Bytes{0x91, 0x0e}));
  // KeyWraps of one wrap (WIRE.md section 4; the fuzz seed tests/fuzz/corpus/wire/key_wraps).
  Bytes key_wraps = {0x92, 0x0f, 0x91, 0x94, 0xaa};
  for (char c : std::string_view("rumah_aman")) key_wraps.push_back(static_cast<std::uint8_t>(c));
  key_wraps.insert(key_wraps.end(), {0x02, 0xc4, 0x50});
  key_wraps.insert(key_wraps.end(), 80, 0x5c);
  key_wraps.insert(key_wraps.end(), {0xc4, 0x40});
  key_wraps.insert(key_wraps.end(), 64, 0x6d);
  KeyWrap wrap{"rumah_aman", 2, Bytes(80, 0x5c), {}};
  wrap.signature.fill(0x6d);
  EXPECT_EQ(encode(KeyWraps{{wrap}}).value(), key_wraps);
  // The directory (WIRE.md section 4; the fuzz seeds directory_request and directory).
  EXPECT_EQ(encode(DirectoryRequest{0}).value(), (Bytes{0x92, 0x10, 0x00}));
  Bytes directory = {0x95, 0x11, 0x91, 0x94, 0xa1, 'A', 0xa0, 0xa5, 'p', 'u', 's', 'a', 't', 0xa0, 0x91, 0x93, 0xc4, 0x10};
  directory.insert(directory.end(), 16, 0x44);
  directory.insert(directory.end(), {0xc4, 0x20});
  directory.insert(directory.end(), 32, 0x45);
  directory.insert(directory.end(), {0xa1, 'A', 0x02, 0xc2});
  DirectoryDevice device{id_of(0x44), {}, "A"};
  device.sign_key.fill(0x45);
  EXPECT_EQ(encode(Directory{{{"A", "", "pusat", ""}}, {device}, 2, false}).value(), directory);
}

TEST(WireMessageTest, EveryTruncationIsRefused) {
  for (const auto& m : examples()) {
    const Bytes bytes = encode(m).value();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto r = decode(ByteView(bytes).first(n));
      ASSERT_FALSE(r) << "type " << static_cast<int>(type_of(m)) << " prefix " << n;
      EXPECT_EQ(r.error().code, Errc::malformed);
    }
  }
}

TEST(WireMessageTest, TrailingBytesAreRefused) {
  for (const auto& m : examples()) {
    Bytes bytes = encode(m).value();
    bytes.push_back(0xc0);
    EXPECT_FALSE(decode(bytes));
  }
}

TEST(WireMessageTest, RandomBytesNeverCrashAndOnlyCanonicalMessagesDecode) {
  const unsigned seed = 20260101;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes bytes(rng() % 64);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    // Half the time start like a message, so that the body readers are exercised.
    if (!bytes.empty() && round % 2 == 0) bytes[0] = static_cast<std::uint8_t>(0x90 | (rng() % 6));
    if (bytes.size() > 1 && round % 2 == 0) bytes[1] = static_cast<std::uint8_t>(rng() % 13);
    auto decoded = decode(bytes);
    if (decoded) {
      ++accepted;
      EXPECT_EQ(encode(*decoded).value(), bytes);
    }
  }
  EXPECT_LT(accepted, 200);
}

TEST(WireMessageTest, UnknownTypesAreRefused) {
  EXPECT_FALSE(decode(Bytes{0x91, 0x00}));                    // 0 is no type
  EXPECT_FALSE(decode(Bytes{0x92, 0x13, 0x00}));              // 19 is not (yet) a type
  EXPECT_FALSE(decode(Bytes{0x91, 0x7f}));                    // 127 is not (yet) a type
  EXPECT_FALSE(decode(Bytes{0x92, 0xcd, 0x01, 0x01, 0xc3}));  // 257 must not alias 1
  EXPECT_FALSE(decode(Bytes{0x91, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x0b}));
}

TEST(WireMessageTest, ValidMsgpackOfTheWrongShapeIsRefused) {
  const std::vector<Bytes> cases = {
      {0x80},                                   // a map, not an array
      {0x90},                                   // an empty array
      {0x0b},                                   // a bare integer
      {0x92, 0x0b, 0xc0},                       // Close with a field
      {0x91, 0x07},                             // Pull without its fields
      {0x93, 0x07, 0x05},                       // Pull, one field short (array says 3)
      {0x93, 0x07, 0xa1, '5', 0x64},            // cursor as a string
      {0x93, 0x07, 0xff, 0x64},                 // negative cursor
      {0x93, 0x07, 0xcc, 0x05, 0x64},           // non-canonical integer (uint8 for 5)
      {0x93, 0x07, 0x05, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0},  // a float
      {0x93, 0x07, 0x05, 0x00},                 // max_commits 0
      {0x93, 0x07, 0x05, 0xce, 0, 0x01, 0, 0},  // max_commits over the limit
      {0x92, 0x04, 0x01},                       // RegisterReply with an integer for bool
      {0x93, 0x01, 0x90, 0xa0},                 // Hello offering no version
      {0x93, 0x01, 0x92, 0x02, 0x01, 0xa0},     // versions not ascending
      {0x93, 0x01, 0x91, 0x01, 0xa2, 0xc3, 0x28},  // client software not UTF-8
      {0x93, 0x01, 0x91, 0x01, 0xd9, 0x01, 't'},   // non-canonical str8 of length 1
      {0x93, 0x0a, 0x63, 0xa0},                 // unknown error code 99
      {0x92, 0x09, 0x90},                       // Purge of nothing
      {0x92, 0x05, 0x90},                       // PushCommits of nothing
      {0x92, 0x05, 0xdd, 0xff, 0xff, 0xff, 0xff},  // claims 4G commits
      {0x93, 0x0c, 0x05, 0x00},                 // FetchProjections of none
      {0x93, 0x0c, 0x05, 0xcd, 0x03, 0xe9},     // FetchProjections over the limit (1001)
      {0x94, 0x0d, 0x91, 0x94, 0x0d},           // ProjectionBatch cut inside a projection
      {0x92, 0x0e, 0xc0},                       // KeyWrapsRequest with a field
      {0x92, 0x0f, 0x91, 0x94, 0xa1, 'x', 0x00},  // KeyWraps cut inside a wrap
      {0x92, 0x0f, 0xdd, 0xff, 0xff, 0xff, 0xff},  // claims 4G key wraps
  };
  for (const auto& bytes : cases) {
    auto r = decode(bytes);
    EXPECT_FALSE(r) << crypto::to_hex(bytes);
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::malformed);
    }
  }
}

TEST(WireMessageTest, HelloCarriesTheDevicesAckedSeqOnlyWhenItIsNotZero) {
  // The optional third field (WIRE.md, Hello): left out for 0, so a message keeps one
  // encoding and a device that never pushed sends what version 1 always sent.
  EXPECT_EQ(encode(Hello{{1}, "t", 0}).value(), (Bytes{0x93, 0x01, 0x91, 0x01, 0xa1, 't'}));
  const Bytes with_acked{0x94, 0x01, 0x91, 0x01, 0xa1, 't', 0x07};
  EXPECT_EQ(encode(Hello{{1}, "t", 7}).value(), with_acked);
  auto decoded = decode(with_acked);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<Hello>(*decoded).acked_seq, 7u);
  auto plain = decode(Bytes{0x93, 0x01, 0x91, 0x01, 0xa1, 't'});
  ASSERT_TRUE(plain);
  EXPECT_EQ(std::get<Hello>(*plain).acked_seq, 0u);
  EXPECT_FALSE(decode(Bytes{0x94, 0x01, 0x91, 0x01, 0xa1, 't', 0x00})) << "0 is said by leaving the field out";
  EXPECT_FALSE(decode(Bytes{0x95, 0x01, 0x91, 0x01, 0xa1, 't', 0x07, 0x07})) << "one optional field only";
  EXPECT_FALSE(decode(Bytes{0x94, 0x07, 0x05, 0x64, 0x01})) << "only Hello has an optional field";
}

TEST(WireMessageTest, IdsAndKeysMustHaveTheirExactSize) {
  Bytes bytes = encode(Purge{{id_of(3)}}).value();  // 92 09 91 c4 10 <16 bytes>
  ASSERT_EQ(bytes[4], 0x10);
  bytes[4] = 0x0f;
  bytes.pop_back();
  EXPECT_FALSE(decode(bytes));
}

TEST(WireMessageTest, EncodeRefusesInvalidMessages) {
  EXPECT_FALSE(encode(Hello{{}, "x"}));
  EXPECT_FALSE(encode(Pull{0, 0}));
  EXPECT_FALSE(encode(HelloReply{1, Id128{}, false, 0}));      // zero server id
  EXPECT_FALSE(encode(HelloReply{1, id_of(1), false, 7}));     // acked seq of unknown device
  EXPECT_FALSE(encode(ErrorMessage{static_cast<ErrorCode>(42), "x"}));
  EXPECT_FALSE(encode(ErrorMessage{ErrorCode::internal, std::string(2000, 'x')}));
  EXPECT_FALSE(encode(PushCommits{{commit_of(2), commit_of(1)}}));  // out of seq order
  EXPECT_FALSE(encode(PushCommits{{commit_of(0)}}));                // seq 0
  PullReply backwards;
  backwards.commits = {{5, commit_of(1)}, {4, commit_of(2)}};
  backwards.next_cursor = 5;
  EXPECT_FALSE(encode(backwards));
  ProjectionBatch empty_body;
  empty_body.projections = {SignedProjection{id_of(2), 3, "", {}}};
  EXPECT_FALSE(encode(empty_body));
  ProjectionBatch zero_scope;
  zero_scope.projections = {SignedProjection{Id128{}, 3, "{}", {}}};
  EXPECT_FALSE(encode(zero_scope));
  EXPECT_FALSE(encode(FetchProjections{0, 0}));
  EXPECT_FALSE(encode(KeyWraps{{KeyWrap{"rumah_aman", 0, Bytes(80, 1), {}}}}));   // generation 0
  EXPECT_FALSE(encode(KeyWraps{{KeyWrap{"Rumah Aman", 1, Bytes(80, 1), {}}}}));   // not an id
  EXPECT_FALSE(encode(KeyWraps{{KeyWrap{"rumah_aman", 1, Bytes(), {}}}}));        // nothing sealed
  EXPECT_FALSE(encode(KeyWraps{{KeyWrap{"rumah_aman", 1, Bytes(300, 1), {}}}}));  // too large
  EXPECT_FALSE(encode(Directory{{{"", "x", "pusat", ""}}, {}, 1, false}));               // empty office code
  EXPECT_FALSE(encode(Directory{{{"A", "x", "", ""}}, {}, 1, false}));                   // empty kind
  EXPECT_FALSE(encode(Directory{{{std::string(65, 'A'), "", "pusat", ""}}, {}, 1, false}));  // long code
  EXPECT_FALSE(encode(Directory{{}, {DirectoryDevice{Id128{}, {}, "A"}}, 1, false}));     // zero device id
  EXPECT_FALSE(encode(Directory{{}, {DirectoryDevice{id_of(1), {}, ""}}, 1, false}));     // no office
  Directory too_many;
  too_many.offices.assign(kMaxDirectoryEntries, DirectoryOffice{"A", "", "pusat", ""});
  too_many.devices.push_back(DirectoryDevice{id_of(1), {}, "A"});
  EXPECT_FALSE(encode(too_many));
  PullReply behind;
  behind.commits = {{5, commit_of(1)}};
  behind.next_cursor = 4;
  EXPECT_FALSE(encode(behind));
}

TEST(WireMessageTest, LargestCommitBodyFits) {
  auto bytes = encode(PushCommits{{commit_of(1, kMaxCommitBodySize)}});
  ASSERT_TRUE(bytes);
  EXPECT_TRUE(decode(*bytes));
  EXPECT_FALSE(encode(PushCommits{{commit_of(1, kMaxCommitBodySize + 1)}}));
}

// -------------------------------------------------------------------------------------
// Frames

TEST(FrameTest, FramesFedByteByByteComeOutWhole) {
  const std::vector<Bytes> payloads = {Bytes{1}, Bytes(300, 2), Bytes(kMaxFrameSize, 3),
                                       as_bytes("teduh")};
  Bytes stream;
  for (const auto& p : payloads) {
    const Bytes f = encode_frame(p).value();
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameDecoder decoder;
  std::vector<Bytes> out;
  for (std::uint8_t b : stream) {
    ASSERT_TRUE(decoder.feed(ByteView(&b, 1)));
    while (auto f = decoder.next()) out.push_back(std::move(*f));
  }
  EXPECT_EQ(out, payloads);
  EXPECT_TRUE(decoder.at_frame_boundary());
}

TEST(FrameTest, FramesFedInRandomPiecesComeOutWhole) {
  const unsigned seed = 7;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::vector<Bytes> payloads;
  Bytes stream;
  for (int i = 0; i < 50; ++i) {
    Bytes p(1 + rng() % 5000);
    for (auto& b : p) b = static_cast<std::uint8_t>(rng());
    const Bytes f = encode_frame(p).value();
    stream.insert(stream.end(), f.begin(), f.end());
    payloads.push_back(std::move(p));
  }
  FrameDecoder decoder;
  std::vector<Bytes> out;
  for (std::size_t pos = 0; pos < stream.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 9000, stream.size() - pos);
    ASSERT_TRUE(decoder.feed(ByteView(stream).subspan(pos, n)));
    pos += n;
    while (auto f = decoder.next()) out.push_back(std::move(*f));
  }
  EXPECT_EQ(out, payloads);
}

TEST(FrameTest, OversizedOrEmptyLengthPrefixFailsAtOnce) {
  for (const Bytes& header : {Bytes{0, 1, 0, 0}, Bytes{0xff, 0xff, 0xff, 0xff}, Bytes{0, 0, 0, 0}}) {
    FrameDecoder decoder;
    auto r = decoder.feed(header);  // no payload yet: refused on the header alone
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::malformed);
    EXPECT_TRUE(decoder.failed());
    EXPECT_FALSE(decoder.feed(Bytes{0, 0, 0, 1, 9}));  // stays failed
    EXPECT_FALSE(decoder.next());
  }
  EXPECT_FALSE(encode_frame(Bytes(kMaxFrameSize + 1, 0)));
  EXPECT_FALSE(encode_frame(Bytes{}));
}

TEST(FrameTest, TruncatedStreamIsNotAtABoundary) {
  FrameDecoder decoder;
  const Bytes f = encode_frame(Bytes(10, 1)).value();
  ASSERT_TRUE(decoder.feed(ByteView(f).first(7)));
  EXPECT_FALSE(decoder.next());
  EXPECT_FALSE(decoder.at_frame_boundary());
}

// -------------------------------------------------------------------------------------
// Chunks

TEST(ChunkTest, LargeMessagesSplitCanonicallyAndReassemble) {
  const std::size_t sizes[] = {1, kMaxChunkDataSize, kMaxChunkDataSize + 1,
                               3 * kMaxChunkDataSize, 200000};
  for (std::size_t size : sizes) {
    SCOPED_TRACE(size);
    Bytes message(size);
    for (std::size_t i = 0; i < size; ++i) message[i] = static_cast<std::uint8_t>(i);
    auto chunks = split_into_chunks(message).value();
    EXPECT_EQ(chunks.size(), (size + kMaxChunkDataSize - 1) / kMaxChunkDataSize);
    ChunkAssembler assembler;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      EXPECT_LE(chunks[i].size(), crypto::kNoiseMaxPlaintextSize);
      auto r = assembler.add(chunks[i]);
      ASSERT_TRUE(r);
      if (i + 1 < chunks.size()) {
        EXPECT_FALSE(*r);
      } else {
        ASSERT_TRUE(*r);
        EXPECT_EQ(**r, message);
      }
    }
    EXPECT_TRUE(assembler.idle());
  }
}

TEST(ChunkTest, BadChunksAreRefused) {
  EXPECT_FALSE(ChunkAssembler().add(Bytes{}));
  EXPECT_FALSE(ChunkAssembler().add(Bytes{kChunkFinal}));           // no data
  EXPECT_FALSE(ChunkAssembler().add(Bytes{0x02, 1}));               // unknown flag
  EXPECT_FALSE(ChunkAssembler().add(Bytes{kChunkMore, 1, 2, 3}));   // short non-final
  ChunkAssembler small(kMaxChunkDataSize);
  Bytes full(1 + kMaxChunkDataSize, 0);
  full[0] = kChunkMore;
  ASSERT_TRUE(small.add(full));
  EXPECT_FALSE(small.add(Bytes{kChunkFinal, 1}));  // over the message limit
  EXPECT_FALSE(small.add(Bytes{kChunkFinal, 1}));  // and stays failed
  EXPECT_FALSE(split_into_chunks(Bytes{}));
}

// -------------------------------------------------------------------------------------
// The channel over a real Noise session

struct ChannelPair {
  SecureChannel client;
  SecureChannel server;
};

ChannelPair connect() {
  crypto::init();
  const auto client_key = crypto::DhKeyPair::generate();
  const auto server_key = crypto::DhKeyPair::generate();
  const Bytes prologue = as_bytes(kNoisePrologue);
  auto i = crypto::HandshakeState::initiator(client_key, prologue, server_key.public_key());
  auto r = crypto::HandshakeState::responder(server_key, prologue);
  EXPECT_TRUE(i && r);
  auto m1 = i->write_message({}).value();
  EXPECT_TRUE(r->read_message(m1));
  auto m2 = r->write_message({}).value();
  EXPECT_TRUE(i->read_message(m2));
  auto m3 = i->write_message({}).value();
  EXPECT_TRUE(r->read_message(m3));
  return ChannelPair{SecureChannel(std::move(*i).split().value()),
                     SecureChannel(std::move(*r).split().value())};
}

std::vector<Message> receive_all(SecureChannel& channel, ByteView stream) {
  FrameDecoder decoder;
  std::vector<Message> out;
  EXPECT_TRUE(decoder.feed(stream));
  while (auto frame = decoder.next()) {
    auto opened = channel.open(*frame);
    EXPECT_TRUE(opened) << opened.error().message;
    if (opened && *opened) out.push_back(std::move(**opened));
  }
  EXPECT_TRUE(decoder.at_frame_boundary());
  return out;
}

TEST(SecureChannelTest, LargeMessageCrossesInSeveralFramesAndCloseIsSeen) {
  auto [client, server] = connect();
  const PushCommits push{{commit_of(1, 100000), commit_of(2, 70000), commit_of(3)}};
  Bytes stream = client.seal(push).value();
  EXPECT_GT(stream.size(), 2 * kMaxFrameSize);
  const Bytes close = client.seal(Close{}).value();
  stream.insert(stream.end(), close.begin(), close.end());

  auto received = receive_all(server, stream);
  ASSERT_EQ(received.size(), 2u);
  expect_same_message(push, received[0]);
  EXPECT_TRUE(std::holds_alternative<Close>(received[1]));
  EXPECT_TRUE(server.close_received());
}

TEST(SecureChannelTest, AnyAlteredFrameKillsTheChannel) {
  auto [client, server] = connect();
  Bytes stream = client.seal(Pull{0, 100}).value();
  stream.back() ^= 0x01;
  FrameDecoder decoder;
  ASSERT_TRUE(decoder.feed(stream));
  auto opened = server.open(decoder.next().value());
  EXPECT_FALSE(opened);
  // The next, genuine message does not open either.
  const Bytes next = client.seal(Close{}).value();
  ASSERT_TRUE(decoder.feed(next));
  EXPECT_FALSE(server.open(decoder.next().value()));
}

TEST(SecureChannelTest, DroppedFrameIsDetected) {
  auto [client, server] = connect();
  const Bytes first = client.seal(Pull{0, 100}).value();
  const Bytes second = client.seal(Close{}).value();
  FrameDecoder decoder;
  ASSERT_TRUE(decoder.feed(second));  // the first never arrives
  EXPECT_FALSE(server.open(decoder.next().value()));
  (void)first;
}

TEST(SecureChannelTest, FramesAfterCloseAreRefused) {
  auto [client, server] = connect();
  Bytes stream = client.seal(Close{}).value();
  const Bytes extra = client.seal(Pull{0, 1}).value();
  FrameDecoder decoder;
  ASSERT_TRUE(decoder.feed(stream));
  ASSERT_TRUE(decoder.feed(extra));
  ASSERT_TRUE(server.open(decoder.next().value()));
  EXPECT_TRUE(server.close_received());
  EXPECT_FALSE(server.open(decoder.next().value()));
}

TEST(SecureChannelTest, RepliesFlowTheOtherWay) {
  auto [client, server] = connect();
  auto received = receive_all(client, server.seal(HelloReply{1, id_of(9), false, 0}).value());
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(std::get<HelloReply>(received[0]).server_id, id_of(9));
}

}  // namespace
}  // namespace teduh::sync::wire
