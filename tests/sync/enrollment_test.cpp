#include <gtest/gtest.h>

#include <map>
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

// A grant body written by RawWriter: keys in `order` (the canonical order when empty),
// forms[key] the tag of that key's value, forms["key"] of every key, forms["map"] of the
// map header. With no forms and no order this is exactly the issued body.
crypto::Bytes raw_grant_body(const EnrollmentGrant& g, const std::map<std::string, std::uint8_t>& forms,
                             std::vector<std::string> order = {}) {
  auto f = [&](const std::string& name) -> std::uint8_t {
    auto it = forms.find(name);
    return it == forms.end() ? 0 : it->second;
  };
  if (order.empty()) {
    order = {"v", "id", "oc", "on", "ok", "or", "u", "r", "sh", "exp"};
    if (g.admin_key) order.push_back("adm");
  }
  test::RawWriter w;
  w.map(order.size(), f("map"));
  for (const auto& k : order) {
    w.str(k, f("key"));
    if (k == "v") w.uint(g.admin_key ? 2 : 1, f(k));
    if (k == "id") w.bin(g.code_id.bytes, f(k));
    if (k == "oc") w.str(g.office_code, f(k));
    if (k == "on") w.str(g.office_name, f(k));
    if (k == "ok") w.str(g.office_kind, f(k));
    if (k == "or") w.str(g.office_region, f(k));
    if (k == "u") w.str(g.user, f(k));
    if (k == "r") w.str(g.role, f(k));
    if (k == "sh") w.out.push_back(g.shelter_clearance ? 0xc3 : 0xc2);
    if (k == "exp") w.uint(g.expires_at_ms, f(k));
    if (k == "adm") w.bin(*g.admin_key, f(k));
  }
  return w.out;
}

// Exactly one encoding of a grant is accepted: keys in the one order, every header and
// integer in its shortest form. Each body below is correctly signed and still refused.
TEST(Enrollment, OnlyTheCanonicalBodyIsAccepted) {
  auto key = crypto::SigningKey::generate();
  auto admin = crypto::SigningKey::generate();
  EnrollmentGrant v1 = sample_grant();
  EnrollmentGrant v2 = sample_grant();
  v2.admin_key = admin.public_key();
  for (const auto* g : {&v1, &v2}) {
    const auto issued = crypto::from_base64url(parts(issue_enrollment_code(*g, key))[1]);
    ASSERT_TRUE(issued);
    const crypto::Bytes canonical = raw_grant_body(*g, {});
    ASSERT_EQ(canonical, *issued);
    auto ok = verify_enrollment_code(sign_raw(canonical, key), key.public_key(), kNow);
    ASSERT_TRUE(ok) << ok.error().message;

    std::vector<std::pair<std::string, std::uint8_t>> forms = {
        {"map", 0xde}, {"map", 0xdf}, {"key", 0xd9}, {"key", 0xda}, {"v", 0xcc},  {"v", 0xd0},
        {"id", 0xc5},  {"oc", 0xd9},  {"on", 0xda},  {"ok", 0xd9},  {"or", 0xdb}, {"u", 0xd9},
        {"r", 0xd9},   {"exp", 0xd3},
    };
    if (g->admin_key) forms.push_back({"adm", 0xc5});
    for (const auto& [item, tag] : forms) {
      const crypto::Bytes b = raw_grant_body(*g, {{item, tag}});
      ASSERT_NE(b, canonical) << item;
      auto r = verify_enrollment_code(sign_raw(b, key), key.public_key(), kNow);
      ASSERT_FALSE(r) << item;
      EXPECT_EQ(r.error().code, Errc::malformed) << item << " as 0x" << std::hex << int{tag};
    }

    std::vector<std::string> order = {"v", "id", "oc", "on", "ok", "or", "u", "r", "sh", "exp"};
    if (g->admin_key) order.push_back("adm");
    std::vector<std::vector<std::string>> orders;
    for (std::size_t i = 0; i + 1 < order.size(); ++i) {  // every pair of neighbours swapped
      auto o = order;
      std::swap(o[i], o[i + 1]);
      orders.push_back(o);
    }
    auto dup = order;  // a key twice in place of another
    dup[3] = "oc";
    orders.push_back(dup);
    auto unknown = order;  // an extra key
    unknown.push_back("zz");
    orders.push_back(unknown);
    auto missing = order;  // a key left out
    missing.erase(missing.begin() + 6);
    orders.push_back(missing);
    for (const auto& o : orders) {
      auto r = verify_enrollment_code(sign_raw(raw_grant_body(*g, {}, o), key), key.public_key(), kNow);
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, Errc::malformed);
    }
  }
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
  // Maps that claim more entries than there are bytes, and a str key that does.
  for (const auto& b : {truncated, trailing, crypto::Bytes{0xc1}, crypto::Bytes{0x80},
                        crypto::Bytes{0xdf, 0xff, 0xff, 0xff, 0xff}, crypto::Bytes{0xde, 0xff, 0xff, 0xa1, 'v', 0x01},
                        crypto::Bytes{0x8a, 0xdb, 0xff, 0xff, 0xff, 0xff, 'v'}}) {
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
