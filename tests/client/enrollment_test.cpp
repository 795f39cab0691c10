// Enrolling a device (client/enrollment.hpp): what `teduh init`, the office app and
// bench_sync share.
#include "teduh/client/enrollment.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh::client {
namespace {

constexpr const char* kStrong = "sepatu-biru-menghitung-awan-pagi";

std::string key_text(const testing::FakeServerKey& server) {
  const auto pk = server.key.public_key();
  return crypto::to_base64url({pk.data(), pk.size()});
}

TEST(EnrollmentTest, AVerifiedCodeCreatesAStoreWithItsGrantAndANewDevice) {
  crypto::init();
  testing::FakeServerKey server;
  testing::TempDir dir;
  const std::string code = server.code("BKS-DP3A", "dinas", "petugas-1", "pendamping", false);
  auto enrollment = check_enrollment("127.0.0.1:7443", key_text(server), code, sync::system_now_ms());
  ASSERT_TRUE(enrollment) << enrollment.error().message;
  EXPECT_EQ(enrollment->grant.office_code, "BKS-DP3A");
  EXPECT_EQ(enrollment->grant.user, "petugas-1");
  EXPECT_EQ(enrollment->server_key, server.key.public_key());

  auto first = enroll_device(*enrollment, StoreOptions{dir / "a.db", kStrong, crypto::KdfParams::interactive()});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->identity().grant, enrollment->grant);
  EXPECT_EQ(first->identity().enrollment_code, code);
  EXPECT_EQ(first->identity().server_address, "127.0.0.1:7443");
  auto second = enroll_device(*enrollment, StoreOptions{dir / "b.db", kStrong, crypto::KdfParams::interactive()});
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(first->identity().device, second->identity().device);
  EXPECT_NE(first->identity().signing_key.public_key(), second->identity().signing_key.public_key());
}

TEST(EnrollmentTest, AStoreAlreadyThereIsNeverOverwritten) {
  crypto::init();
  testing::FakeServerKey server;
  testing::TempDir dir;
  auto enrollment = check_enrollment("127.0.0.1:7443", key_text(server),
                                     server.code("BKS-DP3A", "dinas", "petugas-1", "pendamping", false),
                                     sync::system_now_ms());
  ASSERT_TRUE(enrollment);
  const StoreOptions options{dir / "a.db", kStrong, crypto::KdfParams::interactive()};
  auto first = enroll_device(*enrollment, options);
  ASSERT_TRUE(first) << first.error().message;
  const auto device = first->identity().device;
  first = tl::unexpected(Error{Errc::internal, "closed"});
  auto again = enroll_device(*enrollment, options);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::refused);
  auto opened = Store::open(dir / "a.db", kStrong);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->identity().device, device);
}

TEST(EnrollmentTest, TextThatIsNotAServerKeyIsAUsageError) {
  testing::FakeServerKey server;
  const std::string code = server.code("BKS-DP3A", "dinas", "petugas-1", "pendamping", false);
  for (const std::string& bad : std::vector<std::string>{"", "x", "AAAA", key_text(server) + "AA"}) {
    auto r = check_enrollment("h:1", bad, code, sync::system_now_ms());
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::usage);
    EXPECT_NE(r.error().message.find("--server-key"), std::string::npos);
  }
}

TEST(EnrollmentTest, AnExpiredForeignOrMalformedCodeIsRefusedSayingWhich) {
  testing::FakeServerKey server, other;
  const std::string code = server.code("BKS-DP3A", "dinas", "petugas-1", "pendamping", false);
  auto expired = check_enrollment("h:1", key_text(server), code, sync::system_now_ms() + 15ull * 24 * 3600 * 1000);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, Errc::refused);
  EXPECT_EQ(expired.error().message, "The enrollment code has expired; ask the administrator for a new one.");
  auto foreign = check_enrollment("h:1", key_text(other), code, sync::system_now_ms());
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, Errc::refused);
  EXPECT_EQ(foreign.error().message, "The enrollment code was not signed by this server's key.");
  auto malformed = check_enrollment("h:1", key_text(server), "bukan-kode", sync::system_now_ms());
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, Errc::refused);
  EXPECT_EQ(malformed.error().message, "The enrollment code is not an enrollment code.");
}

TEST(EnrollmentTest, APassphraseMadeOfTheOfficeAndUserIsTooWeak) {
  testing::FakeServerKey server;
  auto enrollment = check_enrollment("h:1", key_text(server),
                                     server.code("BKS-DP3A", "dinas", "petugas-1", "pendamping", false),
                                     sync::system_now_ms());
  ASSERT_TRUE(enrollment);
  auto weak = check_enrollment_passphrase(*enrollment, "BKS-DP3A petugas-1");
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code, Errc::usage);
  EXPECT_TRUE(check_enrollment_passphrase(*enrollment, kStrong));
}

TEST(EnrollmentTest, APassphraseChangeToTheSameOrAWeakPassphraseIsRefused) {
  auto same = check_passphrase_change(kStrong, kStrong);
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, Errc::usage);
  EXPECT_EQ(same.error().message, "Kata sandi baru sama dengan yang lama; tidak ada yang diubah.");
  auto weak = check_passphrase_change(kStrong, "1234");
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code, Errc::usage);
  EXPECT_TRUE(check_passphrase_change(kStrong, "jendela-hijau-bernyanyi-pelan-sekali"));
}

}  // namespace
}  // namespace teduh::client
