#include <gtest/gtest.h>

#include <msgpack.hpp>
#include <random>

#include "sync/sync_test_util.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::sync {
namespace {

using test::id_of;
using Bytes = std::vector<std::uint8_t>;

const std::string kGoldenBody = std::string(TEDUH_TEST_DATA_DIR) + "/sync/commit-v1.bin";
const std::string kGoldenSig = std::string(TEDUH_TEST_DATA_DIR) + "/sync/commit-v1.sig";

Errc decode_error(const Bytes& body) {
  auto r = decode_commit_body(body);
  EXPECT_FALSE(r.has_value());
  return r ? Errc::malformed : r.error().code;
}

// Encodes `c` after `mutate` changed it; expects decode to refuse with `code`.
template <class F>
void expect_refused(F mutate, Errc code) {
  Commit c = test::sample_commit();
  mutate(c);
  EXPECT_EQ(decode_error(encode_commit_body(c)), code);
}

TEST(Commit, EncodeDecodeRoundTrips) {
  const Commit c = test::sample_commit();
  auto decoded = decode_commit_body(encode_commit_body(c));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, c);
}

TEST(Commit, EqualCommitsEncodeToEqualBytes) {
  EXPECT_EQ(encode_commit_body(test::sample_commit()), encode_commit_body(test::sample_commit()));
}

// The v1 golden body was written once from sample_commit() (set TEDUH_WRITE_GOLDEN=1 to
// rewrite it, which must only ever happen together with a new format version).
TEST(Commit, GoldenV1BodyDecodesAndIsStable) {
  if (std::getenv("TEDUH_WRITE_GOLDEN") != nullptr) {
    test::write_file_bytes(kGoldenBody, encode_commit_body(test::sample_commit()));
    auto key = test::key_from_seed(0x42);
    auto s = sign_commit(test::sample_commit(), key);
    test::write_file_bytes(kGoldenSig, Bytes(s.signature.begin(), s.signature.end()));
  }
  const Bytes golden = test::read_file_bytes(kGoldenBody);
  ASSERT_FALSE(golden.empty()) << "missing " << kGoldenBody;
  auto decoded = decode_commit_body(golden);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, test::sample_commit());
  EXPECT_EQ(encode_commit_body(*decoded), golden);
  // The first bytes as PROTOCOL.md describes them: array of 7, format 1, bin8 of 16.
  ASSERT_GE(golden.size(), 4u);
  EXPECT_EQ(golden[0], 0x97);
  EXPECT_EQ(golden[1], 0x01);
  EXPECT_EQ(golden[2], 0xc4);
  EXPECT_EQ(golden[3], 0x10);
}

TEST(Commit, GoldenV1SignatureIsStable) {
  const Bytes golden_sig = test::read_file_bytes(kGoldenSig);
  ASSERT_EQ(golden_sig.size(), crypto::kSignatureSize);
  auto key = test::key_from_seed(0x42);
  const SignedCommit s = sign_commit(test::sample_commit(), key);
  EXPECT_EQ(Bytes(s.signature.begin(), s.signature.end()), golden_sig);
  EXPECT_EQ(s.body, test::read_file_bytes(kGoldenBody));
}

TEST(Commit, SignedCommitVerifies) {
  auto key = crypto::SigningKey::generate();
  const SignedCommit s = sign_commit(test::sample_commit(), key);
  EXPECT_EQ(s.device, test::sample_commit().device);
  EXPECT_EQ(s.seq, test::sample_commit().seq);
  auto c = verify_commit(s, key.public_key());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c, test::sample_commit());
}

TEST(Commit, SignatureCoversTheDomainPrefix) {
  auto key = crypto::SigningKey::generate();
  const SignedCommit s = sign_commit(test::sample_commit(), key);
  EXPECT_FALSE(crypto::verify_signature(key.public_key(), s.body, s.signature));
  Bytes msg(16, 0);
  const char* ctx = "teduh-commit-v1";
  std::copy(ctx, ctx + 15, msg.begin());
  msg.insert(msg.end(), s.body.begin(), s.body.end());
  EXPECT_TRUE(crypto::verify_signature(key.public_key(), msg, s.signature));
}

TEST(Commit, TamperedBodyIsRefused) {
  auto key = crypto::SigningKey::generate();
  const SignedCommit good = sign_commit(test::sample_commit(), key);
  for (std::size_t i = 0; i < good.body.size(); ++i) {
    SignedCommit s = good;
    s.body[i] ^= 0x01;
    auto r = verify_commit(s, key.public_key());
    ASSERT_FALSE(r) << "byte " << i;
    EXPECT_EQ(r.error().code, Errc::bad_signature);
  }
  SignedCommit truncated = good;
  truncated.body.pop_back();
  EXPECT_FALSE(verify_commit(truncated, key.public_key()));
}

TEST(Commit, TamperedSignatureIsRefused) {
  auto key = crypto::SigningKey::generate();
  SignedCommit s = sign_commit(test::sample_commit(), key);
  s.signature[10] ^= 0x80;
  auto r = verify_commit(s, key.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_signature);
}

TEST(Commit, SignatureOfAnotherDeviceIsRefused) {
  auto key = crypto::SigningKey::generate();
  auto other = crypto::SigningKey::generate();
  auto r = verify_commit(sign_commit(test::sample_commit(), key), other.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_signature);
}

TEST(Commit, EnvelopeThatNamesAnotherCommitIsRefused) {
  auto key = crypto::SigningKey::generate();
  SignedCommit s = sign_commit(test::sample_commit(), key);
  s.seq += 1;  // a replay of commit 7 presented as commit 8
  auto r = verify_commit(s, key.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_commit);

  SignedCommit d = sign_commit(test::sample_commit(), key);
  d.device = id_of(0x77);
  r = verify_commit(d, key.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_commit);
}

TEST(Commit, MalformedBytesAreRefusedWithoutThrowing) {
  const Bytes good = encode_commit_body(test::sample_commit());
  EXPECT_EQ(decode_error({}), Errc::malformed);
  // Every truncation.
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_NO_THROW({
      auto r = decode_commit_body(std::span(good.data(), n));
      EXPECT_FALSE(r) << "length " << n;
    });
  }
  // Trailing bytes.
  Bytes trailing = good;
  trailing.push_back(0xc0);
  EXPECT_EQ(decode_error(trailing), Errc::malformed);
  // Every single-byte change: refused, or (rarely) another valid canonical commit.
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes b = good;
      b[i] ^= static_cast<std::uint8_t>(1u << bit);
      Result<Commit> r = fail(Errc::malformed, "");
      EXPECT_NO_THROW(r = decode_commit_body(b));
      if (r) {
        EXPECT_EQ(encode_commit_body(*r), b);
      }
    }
  }
  // Random garbage, seeded.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    Bytes b(rng() % 200);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    if (!b.empty() && i % 2 == 0) b[0] = 0x97;  // looks like a commit array
    EXPECT_NO_THROW((void)decode_commit_body(b));
  }
  // Containers that claim more elements than exist or than the limits allow.
  EXPECT_EQ(decode_error({0xdd, 0xff, 0xff, 0xff, 0xff}), Errc::malformed);
  EXPECT_EQ(decode_error({0xdc, 0xff, 0xff}), Errc::malformed);
  EXPECT_EQ(decode_error({0xc6, 0xff, 0xff, 0xff, 0xff}), Errc::malformed);
  // Deep nesting.
  Bytes deep(10000, 0x91);
  deep.push_back(0x01);
  EXPECT_EQ(decode_error(deep), Errc::malformed);
}

TEST(Commit, NonCanonicalEncodingIsRefused) {
  // Same commit, but seq (7) written as a uint64 instead of a positive fixint.
  const Commit c = test::sample_commit();
  Bytes good = encode_commit_body(c);
  // Position of seq: 1 (array) + 1 (format) + 18 (device bin8).
  ASSERT_EQ(good[20], 0x07);
  Bytes b(good.begin(), good.begin() + 20);
  const std::uint8_t u64[] = {0xcf, 0, 0, 0, 0, 0, 0, 0, 7};
  b.insert(b.end(), std::begin(u64), std::end(u64));
  b.insert(b.end(), good.begin() + 21, good.end());
  EXPECT_EQ(decode_error(b), Errc::malformed);
}

TEST(Commit, RawWriterWritesTheCanonicalBodyWhenAskedForNoOtherForm) {
  EXPECT_EQ(test::raw_commit_body(test::sample_commit(), {}), encode_commit_body(test::sample_commit()));
}

// Exactly one encoding is accepted: every header and integer in its shortest form. Each
// item below written in a longer (or signed) form than the shortest is refused, even
// though a lenient msgpack reader would read the same commit from it.
TEST(Commit, EveryLongerFormOfAnItemIsRefused) {
  const Commit c = test::sample_commit();
  const Bytes canonical = encode_commit_body(c);
  const std::vector<std::pair<std::string, std::uint8_t>> cases = {
      {"root", 0xdc},           {"root", 0xdd},           {"format", 0xcc},
      {"format", 0xd0},         {"format", 0xcf},         {"device", 0xc5},
      {"device", 0xc6},         {"seq", 0xcc},            {"seq", 0xcd},
      {"seq", 0xce},            {"seq", 0xcf},            {"seq", 0xd0},
      {"seq", 0xd3},            {"scope", 0xc5},          {"scope_type", 0xd9},
      {"scope_type", 0xda},     {"scope_type", 0xdb},     {"hlc", 0xd3},
      {"versions", 0xdc},       {"versions", 0xdd},       {"version", 0xdc},
      {"version", 0xdd},        {"entity", 0xc5},         {"entity_type", 0xd9},
      {"field", 0xd9},          {"field", 0xda},          {"value", 0xd9},
      {"value", 0xda},          {"value", 0xdb},          {"version_hlc", 0xd3},
      {"supersedes", 0xdc},     {"supersedes", 0xdd},     {"version_id", 0xdc},
      {"superseded_device", 0xc5}, {"superseded_seq", 0xcc}, {"superseded_seq", 0xd0},
      {"superseded_index", 0xcc}, {"superseded_index", 0xcd}, {"superseded_index", 0xd0},
  };
  for (const auto& [item, tag] : cases) {
    const Bytes b = test::raw_commit_body(c, {{item, tag}});
    ASSERT_NE(b, canonical) << item;
    EXPECT_EQ(decode_error(b), Errc::malformed) << item << " as 0x" << std::hex << int{tag};
  }
  // The shortest form of a large number is accepted (hlc needs all 8 bytes).
  EXPECT_TRUE(decode_commit_body(test::raw_commit_body(c, {{"hlc", 0xcf}})));
}

// Items of another msgpack type than the one the format names are refused, also where a
// lenient reader would convert them (nil, negative, float, map, str for bin and back).
TEST(Commit, ItemsOfAnotherTypeAreRefused) {
  const Bytes good = encode_commit_body(test::sample_commit());
  ASSERT_EQ(good[20], 0x07);  // seq: 1 (array) + 1 (format) + 18 (device)
  auto with_seq = [&](Bytes item) {
    Bytes b(good.begin(), good.begin() + 20);
    b.insert(b.end(), item.begin(), item.end());
    b.insert(b.end(), good.begin() + 21, good.end());
    return b;
  };
  for (const Bytes& item : {Bytes{0xc0}, Bytes{0xc2}, Bytes{0xff}, Bytes{0xca, 0x40, 0xe0, 0, 0},
                            Bytes{0xcb, 0x40, 0x1c, 0, 0, 0, 0, 0, 0}, Bytes{0x80}, Bytes{0x90},
                            Bytes{0xa1, '7'}, Bytes{0xc4, 0x01, 0x07}, Bytes{0xd4, 0x01, 0x07}}) {
    EXPECT_EQ(decode_error(with_seq(item)), Errc::malformed) << int{item[0]};
  }
  // The device id as a str of 16 bytes instead of a bin.
  Bytes str_device = good;
  str_device.erase(str_device.begin() + 2);
  str_device[2] = 0xb0;
  EXPECT_EQ(decode_error(str_device), Errc::malformed);
  // The body as a map of 7.
  Bytes as_map = good;
  as_map[0] = 0x87;
  EXPECT_EQ(decode_error(as_map), Errc::malformed);
}

TEST(Commit, FutureFormatVersionIsUnsupported) {
  Bytes b = encode_commit_body(test::sample_commit());
  b[1] = 0x02;
  EXPECT_EQ(decode_error(b), Errc::unsupported_version);
}

TEST(Commit, BrokenRulesAreRefused) {
  expect_refused([](Commit& c) { c.device = {}; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.seq = 0; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.scope = {}; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.scope_type = "orang"; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions.clear(); }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.hlc += 1; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.hlc -= 1; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].entity = {}; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].entity_type = "Kasus"; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].entity_type = ""; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].field = "status code"; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].field = std::string(65, 'a'); }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].value = "\xff\xfe"; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].value = "\xc0\xaf"; }, Errc::invalid_commit);  // overlong '/'
  expect_refused([](Commit& c) { c.versions[0].value = "\xed\xa0\x80"; }, Errc::invalid_commit);  // surrogate
  expect_refused([](Commit& c) { c.versions[0].hlc = 0; }, Errc::invalid_commit);
  // The same field of the same entity twice in one commit.
  expect_refused([](Commit& c) { c.versions.push_back(c.versions[0]); }, Errc::invalid_commit);
  // Supersedes: own commit, duplicates, zero device, seq 0, index out of range, too many.
  expect_refused([](Commit& c) { c.versions[0].supersedes.push_back(c.version_id(1)); }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].supersedes.push_back(c.versions[0].supersedes[0]); },
                 Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].supersedes[0].device = {}; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].supersedes[0].seq = 0; }, Errc::invalid_commit);
  expect_refused([](Commit& c) { c.versions[0].supersedes[0].index = kMaxVersionsPerCommit; },
                 Errc::invalid_commit);
  expect_refused(
      [](Commit& c) {
        c.versions[0].supersedes.clear();
        for (std::uint32_t i = 0; i <= kMaxSupersedes; ++i) c.versions[0].supersedes.push_back({id_of(9), 1, i});
      },
      Errc::invalid_commit);
  // Over the value limit (refused while parsing).
  expect_refused([](Commit& c) { c.versions[0].value = std::string(kMaxValueBytes + 1, 'x'); }, Errc::malformed);
}

TEST(Commit, LimitsThemselvesAreAccepted) {
  Commit c = test::sample_commit();
  c.versions[0].value = std::string(kMaxValueBytes, 'x');
  c.versions[0].supersedes.clear();
  for (std::uint32_t i = 0; i < kMaxSupersedes; ++i) c.versions[0].supersedes.push_back({id_of(9), 1, i});
  auto r = decode_commit_body(encode_commit_body(c));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, c);
}

TEST(Commit, LargestCommitIsAccepted) {
  Commit c;
  c.device = id_of(1);
  c.seq = 1;
  c.scope = id_of(2);
  c.scope_type = "office";
  for (std::uint32_t i = 0; i < kMaxVersionsPerCommit; ++i) {
    Id128 e = id_of(3);
    e.bytes[0] = static_cast<std::uint8_t>(i);
    e.bytes[1] = static_cast<std::uint8_t>(i >> 8);
    c.versions.push_back(Version{e, "audit", "action", "viewed", make_hlc(1000, 1), {}});
  }
  c.hlc = make_hlc(1000, 1);
  auto r = decode_commit_body(encode_commit_body(c));
  ASSERT_TRUE(r) << r.error().message;
  c.versions.push_back(Version{id_of(4), "audit", "action", "viewed", make_hlc(1000, 1), {}});
  EXPECT_FALSE(decode_commit_body(encode_commit_body(c)));
}

TEST(Commit, VersionIdNamesCommitAndIndex) {
  const Commit c = test::sample_commit();
  EXPECT_EQ(c.version_id(2), (VersionId{c.device, c.seq, 2}));
}

}  // namespace
}  // namespace teduh::sync
