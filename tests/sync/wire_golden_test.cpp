// Golden bytes of the wire messages: the encodings of a fixed sample of every message type,
// captured from the encoder as it stood before the message table (wire.cpp) replaced the
// per-type switches. A message's bytes never change within protocol version 1 (WIRE.md
// section 4): a failure here is a wire format change, not a test to update.
//
// A sample with no golden yet fails and prints the line to add, so a new message type is
// captured the day it is written; an existing golden is never rewritten.
#include "teduh/sync/wire.hpp"

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "teduh/crypto/secure.hpp"

namespace teduh::sync::wire {
namespace {

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

// name -> message. Every type at least once; the integer, str, bin and array headers in
// each of their sizes somewhere; every RejectReason and ErrorCode.
std::vector<std::pair<std::string, Message>> samples() {
  std::vector<std::pair<std::string, Message>> out;
  auto add = [&](std::string name, Message m) { out.emplace_back(std::move(name), std::move(m)); };

  add("hello", Hello{{1, 2}, "teduh/0.1.0"});
  add("hello_acked", Hello{{1}, "t", 7});
  add("hello_acked_u64", Hello{{1, 2, 3}, "", std::numeric_limits<std::uint64_t>::max()});
  add("hello_acked_u32", Hello{{1, 300, 70000}, std::string(31, 's'), 1ull << 31});
  add("hello_reply", HelloReply{1, id_of(0x5e), true, 41});
  add("hello_reply_unregistered", HelloReply{1, id_of(0x01), false, 0});
  RegisterDevice reg{"TDH1.body.sig", id_of(0x42), {}};
  reg.sign_key.fill(0x17);
  add("register", reg);
  RegisterDevice long_code{"TDH1." + std::string(300, 'k'), id_of(0x43), {}};
  long_code.sign_key.fill(0x18);
  add("register_str16", long_code);
  add("register_reply_ok", RegisterReply{true});
  add("register_reply_refused", RegisterReply{false});
  add("push_commits", PushCommits{{commit_of(1), commit_of(2, 0x10000), commit_of(3, 300)}});
  add("push_reply_none", PushReply{5, {}});
  PushReply every_reason{9, {}};
  every_reason.rejections = {
      {1, RejectReason::bad_signature, "tanda tangan"},
      {2, RejectReason::invalid_commit, "the commit breaks a protocol rule"},
      {3, RejectReason::not_authorized, "scope not granted"},
      {4, RejectReason::out_of_order, "gap"},
      {5, RejectReason::wrong_device, ""},
      {6, RejectReason::seq_taken, "this device seq is already stored with a different body"},
  };
  add("push_reply_every_reason", every_reason);
  PushReply many{70000, {}};
  for (std::uint64_t s = 1; s <= 16; ++s) many.rejections.push_back({s * 1000, RejectReason::out_of_order, "x"});
  add("push_reply_array16", many);
  add("pull", Pull{99, 500});
  add("pull_limits", Pull{(1ull << 63) - 1, 4096});
  add("pull_token", Pull{1ull << 62, 1});
  PullReply pull_reply;
  pull_reply.commits = {{10, commit_of(1)}, {12, commit_of(2)}};
  pull_reply.next_cursor = 12;
  pull_reply.more = true;
  add("pull_reply", pull_reply);
  add("pull_reply_empty", PullReply{{}, 0, false});
  add("purge", Purge{{id_of(1), id_of(2)}});
  Purge purge16;
  for (std::uint8_t i = 1; i <= 16; ++i) purge16.scopes.push_back(id_of(i));
  add("purge_array16", purge16);
  const std::pair<const char*, ErrorCode> codes[] = {
      {"error_protocol_violation", ErrorCode::protocol_violation},
      {"error_unsupported_version", ErrorCode::unsupported_version},
      {"error_not_registered", ErrorCode::not_registered},
      {"error_device_revoked", ErrorCode::device_revoked},
      {"error_enrollment_refused", ErrorCode::enrollment_refused},
      {"error_not_authorized", ErrorCode::not_authorized},
      {"error_too_large", ErrorCode::too_large},
      {"error_server_busy", ErrorCode::server_busy},
      {"error_internal", ErrorCode::internal},
  };
  for (const auto& [name, code] : codes) add(name, ErrorMessage{code, "perangkat dicabut"});
  add("error_str8", ErrorMessage{ErrorCode::internal, std::string(32, 'e')});
  add("error_str16", ErrorMessage{ErrorCode::internal, std::string(1024, 'e')});
  add("close", Close{});
  add("fetch_projections", FetchProjections{7, 500});
  ProjectionBatch projections;
  SignedProjection projection{id_of(0x33), 17, R"({"case":"x","forms":["fisik"]})", {}};
  projection.signature.fill(0x9a);
  projections.projections = {projection};
  projections.next_cursor = 17;
  projections.more = true;
  add("projection_batch", projections);
  add("projection_batch_empty", ProjectionBatch{{}, 3, false});
  add("key_wraps_request", KeyWrapsRequest{});
  KeyWraps wraps;
  KeyWrap wrap{"rumah_aman", 2, Bytes(80, 0x5c), {}};
  wrap.signature.fill(0x6d);
  wraps.wraps = {wrap, KeyWrap{"rumah_aman", 0xffffffffu, Bytes(256, 0x01), {}}};
  add("key_wraps", wraps);
  add("key_wraps_empty", KeyWraps{});
  add("directory_request", DirectoryRequest{3});
  add("directory_request_zero", DirectoryRequest{0});
  Directory directory;
  directory.offices = {{"UPTD-A", "Kantor A", "uptd_ppa", "33.74"}, {"PUSAT", "", "pusat", ""}};
  DirectoryDevice device{id_of(0x44), {}, "UPTD-A"};
  device.sign_key.fill(0x45);
  directory.devices = {device};
  directory.next_cursor = 3;
  directory.more = true;
  add("directory", directory);
  add("directory_empty", Directory{{}, {}, 0, false});
  add("pull_own", PullOwn{5, 100});
  add("pull_own_from_zero", PullOwn{0, 4096});
  return out;
}

// The encoding, as hex when it is short and as its size and BLAKE2b-256 otherwise.
std::string fingerprint(const Bytes& bytes) {
  if (bytes.size() <= 160) return crypto::to_hex(bytes);
  return std::to_string(bytes.size()) + " bytes, blake2b " + crypto::to_hex(crypto::blake2b(bytes));
}

// Captured from main at f7a0299 (before the message table), by the print below.
const std::map<std::string, std::string>& goldens() {
  static const std::map<std::string, std::string> g = {
      {"hello", "9301920102ab74656475682f302e312e30"},
      {"hello_acked", "94019101a17407"},
      {"hello_acked_u64", "940193010203a0cfffffffffffffffff"},
      {"hello_acked_u32", "94019301cd012cce00011170bf73737373737373737373737373737373737373737373737373737373737373ce80000000"},
      {"hello_reply", "950201c4105e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5ec329"},
      {"hello_reply_unregistered", "950201c41001010101010101010101010101010101c200"},
      {"register", "9403ad544448312e626f64792e736967c41042424242424242424242424242424242c4201717171717171717171717171717171717171717171717171717171717171717"},
      {"register_str16", "362 bytes, blake2b 3228aa132e332fd3bf120c4ecc07d41394eb28fe111bfe23bf7d4ffd4fbb1d4d"},
      {"register_reply_ok", "9204c3"},
      {"register_reply_refused", "9204c2"},
      {"push_commits", "66147 bytes, blake2b 1d009567cf65cfffec17eb4cbaf4a71d820121f53b09cd5727bb7ba9e74a076a"},
      {"push_reply_none", "93060590"},
      {"push_reply_every_reason", "93060996930101ac74616e64612074616e67616e930202d92174686520636f6d6d697420627265616b7320612070726f746f636f6c2072756c65930303b173636f7065206e6f74206772616e746564930404a3676170930505a0930607d93774686973206465766963652073657120697320616c72656164792073746f7265642077697468206120646966666572656e7420626f6479"},
      {"push_reply_array16", "9306ce00011170dc001093cd03e804a17893cd07d004a17893cd0bb804a17893cd0fa004a17893cd138804a17893cd177004a17893cd1b5804a17893cd1f4004a17893cd232804a17893cd271004a17893cd2af804a17893cd2ee004a17893cd32c804a17893cd36b004a17893cd3a9804a17893cd3e8004a178"},
      {"pull", "930763cd01f4"},
      {"pull_limits", "9307cf7fffffffffffffffcd1000"},
      {"pull_token", "9307cf400000000000000001"},
      {"pull_reply", "265 bytes, blake2b a67a819a8a838c649d832847b3e5f8a21686978b42081f0b26306b307223a6af"},
      {"pull_reply_empty", "94089000c2"},
      {"purge", "920992c41001010101010101010101010101010101c41002020202020202020202020202020202"},
      {"purge_array16", "293 bytes, blake2b 0d65b9d85e5c91885453c5650fd0c136ec3f56236b5d2abb90638ebc35bd1316"},
      {"error_protocol_violation", "930a01b1706572616e676b61742064696361627574"},
      {"error_unsupported_version", "930a02b1706572616e676b61742064696361627574"},
      {"error_not_registered", "930a03b1706572616e676b61742064696361627574"},
      {"error_device_revoked", "930a04b1706572616e676b61742064696361627574"},
      {"error_enrollment_refused", "930a05b1706572616e676b61742064696361627574"},
      {"error_not_authorized", "930a06b1706572616e676b61742064696361627574"},
      {"error_too_large", "930a07b1706572616e676b61742064696361627574"},
      {"error_server_busy", "930a08b1706572616e676b61742064696361627574"},
      {"error_internal", "930a09b1706572616e676b61742064696361627574"},
      {"error_str8", "930a09d9206565656565656565656565656565656565656565656565656565656565656565"},
      {"error_str16", "1030 bytes, blake2b 1d12ad4e3712505efd3c32d261164ca22104dd31f43c4708bc15163330af2a33"},
      {"close", "910b"},
      {"fetch_projections", "930c07cd01f4"},
      {"projection_batch", "940d9194c4103333333333333333333333333333333311be7b2263617365223a2278222c22666f726d73223a5b22666973696b225d7dc4409a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a11c3"},
      {"projection_batch_empty", "940d9003c2"},
      {"key_wraps_request", "910e"},
      {"key_wraps", "506 bytes, blake2b ff2452473d099a56448a34aa3cdab2336ba04925297879bc5dfdebf6f1acf0ba"},
      {"key_wraps_empty", "920f90"},
      {"directory_request", "921003"},
      {"directory_request_zero", "921000"},
      {"directory", "95119294a6555054442d41a84b616e746f722041a8757074645f707061a533332e373494a55055534154a0a57075736174a09193c41044444444444444444444444444444444c4204545454545454545454545454545454545454545454545454545454545454545a6555054442d4103c3"},
      {"directory_empty", "9511909000c2"},
      {"pull_own", "93120564"},
      {"pull_own_from_zero", "931200cd1000"},
  };
  return g;
}

TEST(WireGoldenTest, EverySampleEncodesToTheBytesOfBefore) {
  const auto all = samples();
  std::vector<bool> covered(std::variant_size_v<Message>, false);
  for (const auto& [name, message] : all) {
    SCOPED_TRACE(name);
    covered[message.index()] = true;
    auto bytes = encode(message);
    ASSERT_TRUE(bytes) << bytes.error().message;
    const std::string got = fingerprint(*bytes);
    auto it = goldens().find(name);
    if (it == goldens().end()) {
      ADD_FAILURE() << "no golden; add: {\"" << name << "\", \"" << got << "\"},";
      continue;
    }
    EXPECT_EQ(got, it->second);
    // And back: the bytes decode to the same message, which encodes to the same bytes.
    auto decoded = decode(*bytes);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded->index(), message.index());
    EXPECT_EQ(type_of(*decoded), type_of(message));
    EXPECT_EQ(encode(*decoded).value(), *bytes);
  }
  for (std::size_t i = 0; i < covered.size(); ++i) EXPECT_TRUE(covered[i]) << "no sample of alternative " << i;
}


// The fuzz seeds of tests/fuzz/corpus/wire were written by earlier encoders: each message
// seed still decodes, and re-encodes to its own bytes.
TEST(WireGoldenTest, EveryFuzzSeedMessageDecodesAndReencodesToItsBytes) {
  const std::filesystem::path dir = std::filesystem::path(TEDUH_TEST_DATA_DIR) / ".." / "fuzz" / "corpus" / "wire";
  const std::set<std::string> not_messages = {"frames", "frames_oversize", "commit_body"};
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (not_messages.contains(name)) continue;
    SCOPED_TRACE(name);
    std::ifstream in(entry.path(), std::ios::binary);
    const Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto decoded = decode(bytes);
    ASSERT_TRUE(decoded) << decoded.error().message << ": " << crypto::to_hex(bytes);
    EXPECT_EQ(encode(*decoded).value(), bytes);
    ++seen;
  }
  EXPECT_GE(seen, 17);  // every type but RegisterReply has a seed
}

// Every number a message type does not have (0, the retired ones, the ones to come, and
// numbers past 8 bits that must not alias a type) is refused as malformed, whatever
// fields follow it; the types the table has are exactly the ones of the samples.
TEST(WireTableTest, UnknownAndRetiredTypeNumbersAreRefused) {
  std::set<std::uint64_t> types;
  for (const auto& [name, message] : samples()) types.insert(static_cast<std::uint64_t>(type_of(message)));
  ASSERT_EQ(types.size(), std::variant_size_v<Message>) << "two alternatives share a type";
  std::vector<std::uint64_t> numbers;
  for (std::uint64_t n = 0; n <= 300; ++n) numbers.push_back(n);
  for (std::uint64_t base : {0x10000ull, 0x100000000ull}) {
    for (std::uint64_t t : types) numbers.push_back(base + t);  // truncation must not alias t
  }
  numbers.push_back(std::numeric_limits<std::uint64_t>::max());
  int refused = 0;
  for (std::uint64_t n : numbers) {
    SCOPED_TRACE(n);
    const bool known_type = types.contains(n);
    EXPECT_EQ(!name_of(static_cast<MessageType>(n & 0xff)).empty(), types.contains(n & 0xff));
    if (known_type) continue;
    // The type, then 0 to 4 fields that would fit many a message: [n], [n, 0], [n, 0, 0] ...
    for (std::size_t fields = 0; fields <= 4; ++fields) {
      msgpack::sbuffer buffer;
      msgpack::packer<msgpack::sbuffer> pk(buffer);
      pk.pack_array(static_cast<std::uint32_t>(1 + fields));
      pk.pack_uint64(n);
      for (std::size_t i = 0; i < fields; ++i) pk.pack_uint64(0);
      const auto* p = reinterpret_cast<const std::uint8_t*>(buffer.data());
      auto r = decode(Bytes(p, p + buffer.size()));
      ASSERT_FALSE(r) << "type " << n << " with " << fields << " fields";
      EXPECT_EQ(r.error().code, Errc::malformed);
      EXPECT_EQ(r.error().message, "malformed message: unknown message type");
      ++refused;
    }
  }
  EXPECT_GT(refused, 1000);
}

// WIRE.md: RejectReason 6 (clock_too_far) is retired, never sent; like any unknown reason
// or error code it is neither sent nor accepted.
TEST(WireTableTest, RetiredAndUnknownReasonsAndCodesAreRefused) {
  for (std::uint32_t n : {0u, 6u, 8u, 99u}) {
    SCOPED_TRACE(n);
    const auto reason = static_cast<RejectReason>(n);
    EXPECT_FALSE(known(reason));
    EXPECT_TRUE(to_string(reason).empty());
    EXPECT_FALSE(encode(PushReply{1, {{1, reason, ""}}}));
    // The bytes a sender of that number would write: [6, 1, [[1, n, ""]]].
    auto r = decode(Bytes{0x93, 0x06, 0x01, 0x91, 0x93, 0x01, static_cast<std::uint8_t>(n), 0xa0});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::malformed);
  }
  for (std::uint32_t n : {1u, 2u, 3u, 4u, 5u, 7u}) {
    EXPECT_TRUE(known(static_cast<RejectReason>(n))) << n;
    EXPECT_TRUE(decode(Bytes{0x93, 0x06, 0x01, 0x91, 0x93, 0x01, static_cast<std::uint8_t>(n), 0xa0})) << n;
  }
  for (std::uint32_t n : {0u, 10u, 99u}) {
    EXPECT_FALSE(known(static_cast<ErrorCode>(n))) << n;
    EXPECT_FALSE(decode(Bytes{0x93, 0x0a, static_cast<std::uint8_t>(n), 0xa0})) << n;
  }
  for (std::uint32_t n = 1; n <= 9; ++n) EXPECT_TRUE(known(static_cast<ErrorCode>(n))) << n;
}

// The names the table gives are WIRE.md's (section 4's table).
TEST(WireTableTest, EveryTypeHasItsWireName) {
  const std::map<MessageType, std::string_view> expected = {
      {MessageType::hello, "Hello"},
      {MessageType::hello_reply, "HelloReply"},
      {MessageType::register_device, "Register"},
      {MessageType::register_reply, "RegisterReply"},
      {MessageType::push_commits, "PushCommits"},
      {MessageType::push_reply, "PushReply"},
      {MessageType::pull, "Pull"},
      {MessageType::pull_reply, "PullReply"},
      {MessageType::purge, "Purge"},
      {MessageType::error, "Error"},
      {MessageType::close, "Close"},
      {MessageType::fetch_projections, "FetchProjections"},
      {MessageType::projection_batch, "ProjectionBatch"},
      {MessageType::key_wraps_request, "KeyWrapsRequest"},
      {MessageType::key_wraps, "KeyWraps"},
      {MessageType::directory_request, "DirectoryRequest"},
      {MessageType::directory, "Directory"},
      {MessageType::pull_own, "PullOwn"},
  };
  ASSERT_EQ(expected.size(), std::variant_size_v<Message>);
  for (const auto& [type, name] : expected) EXPECT_EQ(name_of(type), name) << static_cast<int>(type);
}

}  // namespace
}  // namespace teduh::sync::wire
