// The administrator key's operations (server/admin.hpp): creating it, taking up a run that
// stopped between writing the key file and recording its keys, moving an older Teduh's
// DIR/admin.key out of the data folder, and resuming that move after a crash.
#include "teduh/server/admin.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "teduh/crypto/kdf.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh::server {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kServerPass = "bangku-taman-menguap-lambat-sekali";
constexpr std::string_view kAdminPass = "payung-ungu-melompati-sungai-pagi";

Result<crypto::KdfParams> cheap() { return crypto::KdfParams::interactive(); }

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::init();
    dir_ = (temp_.path() / "data").string();
    auto store = ServerStore::create(dir_, kServerPass, crypto::KdfParams::interactive());
    ASSERT_TRUE(store) << store.error().message;
    fs::create_directories(temp_.path() / "admin");
  }
  // The administrator passphrase source: counts how often it was asked.
  AdminPassphraseSource source(std::string_view pass = kAdminPass) {
    return [this, pass = std::string(pass)](bool) -> Result<std::string> {
      ++asked_;
      return pass;
    };
  }
  std::optional<AdminPublic> recorded() {
    auto store = ServerStore::open(dir_, kServerPass);
    EXPECT_TRUE(store) << store.error().message;
    auto known = store->admin_public();
    EXPECT_TRUE(known);
    return *known;
  }
  fs::path key_file(const std::string& name) { return temp_.path() / "admin" / name; }

  testing::TempDir temp_;
  std::string dir_;
  int asked_ = 0;
};

TEST_F(AdminTest, InitCreatesTheKeyFileAndRecordsItsPublicKeys) {
  auto done = init_admin_key(dir_, key_file("a.key").string(), kServerPass, source(), cheap);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_FALSE(done->recorded_existing);
  EXPECT_EQ(done->path, key_file("a.key"));
  auto key = open_admin_key(key_file("a.key"), kAdminPass);
  ASSERT_TRUE(key) << key.error().message;
  auto known = recorded();
  ASSERT_TRUE(known);
  EXPECT_EQ(known->sign_key, key->public_keys().sign_key);
  EXPECT_EQ(known->box_key, key->public_keys().box_key);
}

TEST_F(AdminTest, InitTakesUpAKeyFileWrittenByARunThatStoppedBeforeRecordingIt) {
  // The crash: the file is written, the store never learnt its keys.
  auto written = create_admin_key(key_file("a.key"), kAdminPass, crypto::KdfParams::interactive());
  ASSERT_TRUE(written) << written.error().message;
  ASSERT_FALSE(recorded());
  auto done = init_admin_key(dir_, key_file("a.key").string(), kServerPass, source(), cheap);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_TRUE(done->recorded_existing);
  auto known = recorded();
  ASSERT_TRUE(known);
  EXPECT_EQ(known->sign_key, written->public_keys().sign_key);
  EXPECT_EQ(known->box_key, written->public_keys().box_key);
  // A file that does not open with the passphrase given is not recorded.
  testing::TempDir other_temp;
  const std::string other = (other_temp.path() / "data").string();
  ASSERT_TRUE(ServerStore::create(other, kServerPass, crypto::KdfParams::interactive()));
  auto wrong = init_admin_key(other, key_file("a.key").string(), kServerPass,
                              source("jerapah-kuning-tidur-di-atap-rumah"), cheap);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::refused);
}

TEST_F(AdminTest, InitNeverReplacesAnAdministratorKey) {
  ASSERT_TRUE(init_admin_key(dir_, key_file("a.key").string(), kServerPass, source(), cheap));
  const auto before = recorded();
  asked_ = 0;
  auto again = init_admin_key(dir_, key_file("b.key").string(), kServerPass, source(), cheap);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::refused);
  EXPECT_EQ(asked_, 0) << "refused before the passphrase is asked";
  EXPECT_FALSE(fs::exists(key_file("b.key")));
  EXPECT_EQ(recorded()->sign_key, before->sign_key);
}

TEST_F(AdminTest, TheAdministratorPassphraseMayNotBeTheServersOrWeak) {
  for (std::string_view pass : {kServerPass, std::string_view("1234")}) {
    auto done = init_admin_key(dir_, key_file("a.key").string(), kServerPass, source(pass), cheap);
    ASSERT_FALSE(done) << pass;
    EXPECT_EQ(done.error().code, Errc::invalid_input);
    EXPECT_FALSE(fs::exists(key_file("a.key")));
  }
  EXPECT_FALSE(recorded());
}

TEST_F(AdminTest, InitRefusesAKeyFileInsideTheDataFolder) {
  auto done = init_admin_key(dir_, (fs::path(dir_) / "a.key").string(), kServerPass, source(), cheap);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, Errc::invalid_input);
}

TEST_F(AdminTest, AShelterDeviceIsNotEnrolledBeforeTheStoreHasAnAdministratorKey) {
  {
    auto store = ServerStore::open(dir_, kServerPass);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->add_office({"BKS-DP3A", "DP3A Kota Bekasi", "dinas", "32.75", ""}));
    auto shelter = issue_device_enrollment(*store, dir_, {"BKS-DP3A", "petugas-1", "petugas_rumah_aman", true, 14});
    ASSERT_FALSE(shelter);
    EXPECT_EQ(shelter.error().code, Errc::refused);
    EXPECT_NE(shelter.error().message.find("teduhd admin init --data " + dir_), std::string::npos);
    EXPECT_TRUE(issue_device_enrollment(*store, dir_, {"BKS-DP3A", "petugas-2", "pendamping", false, 14}));
  }
  ASSERT_TRUE(init_admin_key(dir_, key_file("a.key").string(), kServerPass, source(), cheap));
  auto store = ServerStore::open(dir_, kServerPass);
  ASSERT_TRUE(store);
  auto cleared = issue_device_enrollment(*store, dir_, {"BKS-DP3A", "petugas-1", "petugas_rumah_aman", true, 14});
  EXPECT_TRUE(cleared) << cleared.error().message;
}

TEST_F(AdminTest, TheServerPassphraseChangesOnlyToANewStrongOneAndOnlyWithTheOldOne) {
  constexpr std::string_view kNew = "kereta-malam-membawa-bintang-jatuh";
  auto same = change_server_passphrase(dir_, kServerPass, kServerPass, cheap);
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, Errc::invalid_input);
  auto weak = change_server_passphrase(dir_, kServerPass, "1234", cheap);
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code, Errc::invalid_input);
  auto wrong = change_server_passphrase(dir_, "jerapah-kuning-tidur-di-atap-rumah", kNew, cheap);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::refused);
  auto none = change_server_passphrase((temp_.path() / "kosong").string(), kServerPass, kNew, cheap);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::refused);
  auto changed = change_server_passphrase(dir_, kServerPass, kNew, cheap);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_FALSE(ServerStore::open(dir_, kServerPass));
  EXPECT_TRUE(ServerStore::open(dir_, kNew));
}

class MoveKeyTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    // What `teduhd init` of an older Teduh left: the key in the folder, under the server passphrase.
    auto key = create_admin_key(legacy_admin_key_path(dir_), kServerPass, crypto::KdfParams::interactive());
    ASSERT_TRUE(key) << key.error().message;
    sign_key_ = key->public_keys().sign_key;
    old_box_ = key->public_keys().box_key;
    auto store = ServerStore::open(dir_, kServerPass);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->set_admin_public(key->public_keys()));
    ASSERT_TRUE(store->rotate_compartment(*key, "rumah_aman"));
  }
  Result<void> move(const MoveKeyProgress& progress = {}) {
    return move_legacy_admin_key(dir_, key_file("moved.key").string(), kServerPass, {}, source(), cheap, progress);
  }
  crypto::SignPublicKey sign_key_{};
  crypto::DhPublicKey old_box_{};
};

TEST_F(MoveKeyTest, MovingKeepsTheSigningKeyRenewsTheBoxKeyAndRotates) {
  std::vector<std::string> steps;
  MoveKeyProgress progress;
  progress.moved = [&](const fs::path& to, std::size_t rewrapped, const fs::path& removed) {
    steps.push_back("moved " + to.filename().string() + " " + std::to_string(rewrapped) + " " +
                    removed.filename().string());
  };
  progress.rotated = [&](const std::string& compartment, const ServerStore::Rotation& r) {
    steps.push_back(compartment + " " + std::to_string(r.generation));
  };
  auto moved = move(progress);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(steps, (std::vector<std::string>{"moved moved.key 1 admin.key", "rumah_aman 2"}));
  EXPECT_FALSE(fs::exists(legacy_admin_key_path(dir_)));
  auto key = open_admin_key(key_file("moved.key"), kAdminPass);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->public_keys().sign_key, sign_key_);
  EXPECT_NE(key->public_keys().box_key, old_box_);
  EXPECT_EQ(recorded()->box_key, key->public_keys().box_key);
  // Nothing left to move.
  auto again = move();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::invalid_input);
}

TEST_F(MoveKeyTest, AMoveThatStoppedAfterWritingTheNewFileIsTakenUp) {
  // The crash: the new file (same signing key, new box key) is written, nothing else.
  auto old = open_admin_key(legacy_admin_key_path(dir_), kServerPass);
  ASSERT_TRUE(old);
  auto sign = crypto::SigningKey::from_secret(old->sign.secret_key().view());
  ASSERT_TRUE(sign);
  AdminKey fresh{std::move(*sign), crypto::DhKeyPair::generate()};
  const auto fresh_box = fresh.public_keys().box_key;
  ASSERT_TRUE(write_admin_key(key_file("moved.key"), fresh, kAdminPass, crypto::KdfParams::interactive()));
  auto moved = move();
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_FALSE(fs::exists(legacy_admin_key_path(dir_)));
  EXPECT_EQ(recorded()->box_key, fresh_box);
}

TEST_F(MoveKeyTest, ANewFileHoldingAnotherKeyIsRefusedAndTheOldFileKept) {
  ASSERT_TRUE(create_admin_key(key_file("moved.key"), kAdminPass, crypto::KdfParams::interactive()));
  auto moved = move();
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code, Errc::refused);
  EXPECT_TRUE(fs::exists(legacy_admin_key_path(dir_)));
  EXPECT_EQ(recorded()->box_key, old_box_);
}

TEST_F(MoveKeyTest, AnOldFileUnderAnotherPassphraseOpensOnlyWithTheOneStated) {
  fs::remove(legacy_admin_key_path(dir_));
  constexpr std::string_view kOld = "kereta-malam-membawa-bintang-jatuh";
  ASSERT_TRUE(create_admin_key(legacy_admin_key_path(dir_), kOld, crypto::KdfParams::interactive()));
  auto refused = move();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::refused);
  EXPECT_NE(refused.error().message.find("TEDUH_ADMIN_PASSPHRASE_LAMA"), std::string::npos);
  auto opened = move_legacy_admin_key(dir_, key_file("moved.key").string(), kServerPass,
                                      LegacyAdminPassphrases{std::string(kOld), ""}, source(), cheap, {});
  // Stated, it opens: whatever follows, it is not refused for the passphrase.
  if (!opened) {
    EXPECT_EQ(opened.error().message.find("TEDUH_ADMIN_PASSPHRASE_LAMA"), std::string::npos);
  }
}

}  // namespace
}  // namespace teduh::server
