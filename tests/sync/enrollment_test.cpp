#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "sync/sync_test_util.hpp"
#include "teduh/sync/enrollment.hpp"

namespace teduh::sync {
namespace {

constexpr std::uint64_t kNow = 1767225600000;

EnrollmentGrant sample_grant() {
  EnrollmentGrant g;
  g.code_id = test::id_of(0x5a);
  g.office_code = "BKS-DP3A";
  g.office_name = "DP3A Kota Bekasi";
  g.office_kind = "dinas";
  g.office_region = "3275";
  g.user = "siti";
  g.role = "pendamping";
  g.shelter_clearance = true;
  g.expires_at_ms = kNow + 7ull * 24 * 3600 * 1000;
  return g;
}

// Splits "TDH1.<body>.<sig>" into its three parts.
std::vector<std::string> parts(const std::string& code) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= code.size(); ++i) {
    if (i == code.size() || code[i] == '.') {
      out.push_back(code.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string sign_raw(const crypto::Bytes& body, const crypto::SigningKey& key) {
  crypto::Bytes msg(16, 0);
  const char* ctx = "teduh-enroll-v1";
  std::copy(ctx, ctx + 15, msg.begin());
  msg.insert(msg.end(), body.begin(), body.end());
  const auto sig = key.sign(msg);
  return "TDH1." + crypto::to_base64url(body) + "." + crypto::to_base64url(sig);
}

TEST(Enrollment, CodeRoundTrips) {
  auto key = crypto::SigningKey::generate();
  const std::string code = issue_enrollment_code(sample_grant(), key);
  EXPECT_TRUE(code.starts_with("TDH1."));
  EXPECT_EQ(code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
            std::string::npos);
  auto g = verify_enrollment_code(code, key.public_key(), kNow);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(*g, sample_grant());
}

TEST(Enrollment, EmptyRegionAndNoClearanceRoundTrip) {
  auto key = crypto::SigningKey::generate();
  EnrollmentGrant grant = sample_grant();
  grant.office_region.clear();
  grant.shelter_clearance = false;
  auto g = verify_enrollment_code(issue_enrollment_code(grant, key), key.public_key(), kNow);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(*g, grant);
}

TEST(Enrollment, CodeOfAnotherServerIsRefused) {
  auto key = crypto::SigningKey::generate();
  auto other = crypto::SigningKey::generate();
  auto g = verify_enrollment_code(issue_enrollment_code(sample_grant(), key), other.public_key(), kNow);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::bad_signature);
}

TEST(Enrollment, ExpiredCodeIsRefused) {
  auto key = crypto::SigningKey::generate();
  const std::string code = issue_enrollment_code(sample_grant(), key);
  const std::uint64_t exp = sample_grant().expires_at_ms;
  EXPECT_TRUE(verify_enrollment_code(code, key.public_key(), exp - 1));
  auto g = verify_enrollment_code(code, key.public_key(), exp);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::expired);
}

TEST(Enrollment, TamperedBodyIsRefused) {
  auto key = crypto::SigningKey::generate();
  const std::string code = issue_enrollment_code(sample_grant(), key);
  // Same signature over a body that grants shelter clearance to someone else.
  EnrollmentGrant forged = sample_grant();
  forged.user = "mallory";
  const auto p = parts(code);
  const auto forged_parts = parts(issue_enrollment_code(forged, crypto::SigningKey::generate()));
  auto g = verify_enrollment_code("TDH1." + forged_parts[1] + "." + p[2], key.public_key(), kNow);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::bad_signature);
  // Every single character changed: refused, never accepted as another grant.
  for (std::size_t i = 5; i < code.size(); ++i) {
    if (code[i] == '.') continue;
    std::string t = code;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    auto r = verify_enrollment_code(t, key.public_key(), kNow);
    EXPECT_FALSE(r && *r != sample_grant()) << "position " << i;
  }
}

TEST(Enrollment, TamperedSignatureIsRefused) {
  auto key = crypto::SigningKey::generate();
  const auto p = parts(issue_enrollment_code(sample_grant(), key));
  auto sig = crypto::from_base64url(p[2]);
  ASSERT_TRUE(sig);
  (*sig)[0] ^= 1;
  auto g = verify_enrollment_code("TDH1." + p[1] + "." + crypto::to_base64url(*sig), key.public_key(), kNow);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::bad_signature);
}

TEST(Enrollment, TextThatIsNotACodeIsMalformed) {
  auto key = crypto::SigningKey::generate();
  const std::string code = issue_enrollment_code(sample_grant(), key);
  const auto p = parts(code);
  for (const std::string& bad : {std::string(""), std::string("TDH1."), std::string("TDH1.abc"),
                                std::string("hello"), "TDH1." + p[1], "TDH1." + p[1] + "." + p[2] + ".x",
                                "TDH1." + p[1] + "." + p[2].substr(1), "TDH1.!!!." + p[2],
                                " " + code, "TDHx." + p[1] + "." + p[2], std::string(10000, 'A')}) {
    auto g = verify_enrollment_code(bad, key.public_key(), kNow);
    ASSERT_FALSE(g) << bad;
    EXPECT_EQ(g.error().code, Errc::malformed) << bad;
  }
}

TEST(Enrollment, CodeOfAnotherFormatVersionIsUnsupported) {
  auto key = crypto::SigningKey::generate();
  const auto p = parts(issue_enrollment_code(sample_grant(), key));
  auto g = verify_enrollment_code("TDH2." + p[1] + "." + p[2], key.public_key(), kNow);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::unsupported_version);

  // A correctly signed body that says version 3 (1 and 2 are known).
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(&buf);
  pk.pack_map(1);
  pk.pack(std::string("v"));
  pk.pack(3);
  const crypto::Bytes body(reinterpret_cast<const std::uint8_t*>(buf.data()),
                           reinterpret_cast<const std::uint8_t*>(buf.data()) + buf.size());
  g = verify_enrollment_code(sign_raw(body, key), key.public_key(), kNow);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::unsupported_version);
}

TEST(Enrollment, VersionTwoCarriesTheAdministratorKeyAndVersionOneStillVerifies) {
  auto key = crypto::SigningKey::generate();
  auto admin = crypto::SigningKey::generate();
  EnrollmentGrant with_admin = sample_grant();
  with_admin.admin_key = admin.public_key();
  auto g2 = verify_enrollment_code(issue_enrollment_code(with_admin, key), key.public_key(), kNow);
  ASSERT_TRUE(g2) << g2.error().message;
  EXPECT_EQ(*g2, with_admin);
  ASSERT_TRUE(g2->admin_key);
  EXPECT_EQ(*g2->admin_key, admin.public_key());
  auto g1 = verify_enrollment_code(issue_enrollment_code(sample_grant(), key), key.public_key(), kNow);
  ASSERT_TRUE(g1) << g1.error().message;
  EXPECT_FALSE(g1->admin_key);
  // Version 1 body plus "adm", or version 2 without it: refused.
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(&buf);
  pk.pack_map(1);
  pk.pack(std::string("v"));
  pk.pack(2);
  const crypto::Bytes body(reinterpret_cast<const std::uint8_t*>(buf.data()),
                           reinterpret_cast<const std::uint8_t*>(buf.data()) + buf.size());
  auto bad = verify_enrollment_code(sign_raw(body, key), key.public_key(), kNow);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::malformed);
}

TEST(Enrollment, SignedButMalformedBodiesAreRefused) {
  auto key = crypto::SigningKey::generate();
  const auto p = parts(issue_enrollment_code(sample_grant(), key));
  auto body = crypto::from_base64url(p[1]);
  ASSERT_TRUE(body);
  // Truncated, trailing byte, and garbage: all correctly signed, all refused.
  crypto::Bytes truncated(body->begin(), body->end() - 1);
  crypto::Bytes trailing = *body;
  trailing.push_back(0);
  for (const auto& b : {truncated, trailing, crypto::Bytes{0xc1}, crypto::Bytes{0x80}}) {
    auto g = verify_enrollment_code(sign_raw(b, key), key.public_key(), kNow);
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().code, Errc::malformed);
  }
  EnrollmentGrant empty_user = sample_grant();
  empty_user.user.clear();
  auto g = verify_enrollment_code(issue_enrollment_code(empty_user, key), key.public_key(), kNow);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::malformed);
}

}  // namespace
}  // namespace teduh::sync
