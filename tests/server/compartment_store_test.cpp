// The shelter compartment at the server store: administrator-made generations, wraps
// only for cleared devices, signatures that verify, revocation marks a rotation, and
// commits under a retired generation refused (PROTOCOL.md section 5D).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "teduh/crypto/aead.hpp"
#include "support/temp_dir.hpp"
#include "teduh/crypto/kdf.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/server/admin_key.hpp"
#include "teduh/server/server_store.hpp"
#include "teduh/sync/compartment.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::server {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPass = "kata sandi server";
constexpr std::string_view kAdminPass = "kata sandi admin";

// A c1. value whose clear header names `generation` (the body is not a real seal: the
// server reads only the header).
std::string sealed_value(std::uint32_t generation) {
  crypto::Bytes blob{1, 10};
  const std::string c = "rumah_aman";
  blob.insert(blob.end(), c.begin(), c.end());
  for (int shift = 24; shift >= 0; shift -= 8)
    blob.push_back(static_cast<std::uint8_t>(generation >> shift));
  const crypto::Bytes body = crypto::random_bytes(24 + 16 + 12);
  blob.insert(blob.end(), body.begin(), body.end());
  return "c1." + crypto::to_base64url(blob);
}

class CompartmentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(temp_.path().empty());
    root_ = temp_.path();
    dir_ = root_ / "data";
    auto store = ServerStore::create(dir_, kPass, crypto::KdfParams::interactive());
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
    admin_file_ = root_ / "administrator.key";  // outside the data folder
    auto admin = create_admin_key(admin_file_, kAdminPass, crypto::KdfParams::interactive());
    ASSERT_TRUE(admin) << admin.error().message;
    admin_.emplace(std::move(*admin));
    ASSERT_TRUE(store_->set_admin_public(admin_->public_keys()));
    ASSERT_TRUE(store_->add_office({"BKS-UPTD", "UPTD Uji", "uptd_ppa", "32.75", ""}));
  }
  void TearDown() override { store_.reset(); }

  DeviceRecord enroll(const crypto::SigningKey& key, bool shelter) {
    auto issued =
        store_->issue_enrollment({"BKS-UPTD", "Petugas", "petugas_rumah_aman", shelter, 14});
    EXPECT_TRUE(issued);
    auto grant = sync::verify_enrollment_code(issued->code, store_->signing_key().public_key(), 0);
    EXPECT_TRUE(grant && grant->admin_key && *grant->admin_key == admin_->sign.public_key());
    auto device = store_->register_device(issued->code, sync::Id128::random(), key.public_key());
    EXPECT_TRUE(device) << device.error().message;
    return *device;
  }

  DeviceRecord reload(const DeviceRecord& d) { return **store_->find_device(d.device_id); }

  // The keys a device can open from its wraps, after checking every signature.
  std::map<std::uint32_t, crypto::Bytes> open_wraps(const DeviceRecord& d,
                                                    const crypto::SigningKey& key) {
    std::map<std::uint32_t, crypto::Bytes> out;
    auto wraps = store_->key_wraps_for(reload(d));
    EXPECT_TRUE(wraps);
    for (const KeyWrapRecord& w : *wraps) {
      EXPECT_TRUE(crypto::verify_signature(
          admin_->sign.public_key(),
          sync::wrap_signed_bytes(w.compartment, w.generation, d.device_id, w.sealed),
          w.signature));
      auto k = crypto::open_sealed(key.to_dh(), w.sealed);
      EXPECT_TRUE(k);
      if (k) out[w.generation] = crypto::Bytes(k->data(), k->data() + k->size());
    }
    return out;
  }

  sync::SignedCommit shelter_commit(const DeviceRecord& d, const crypto::SigningKey& key,
                                    std::uint64_t seq, std::uint32_t generation,
                                    std::string value = {}) {
    sync::Commit c;
    c.device = d.device_id;
    c.seq = seq;
    c.scope = sync::Id128::time_ordered(static_cast<std::uint64_t>(now_ms()));
    c.scope_type = "rumah_aman";
    c.hlc = sync::make_hlc(static_cast<std::uint64_t>(now_ms()), static_cast<std::uint16_t>(seq));
    sync::Version v;
    v.entity = c.scope;
    v.entity_type = "rumah_aman";
    v.field = "address";
    v.value = value.empty() ? sealed_value(generation) : value;
    v.hlc = c.hlc;
    c.versions.push_back(v);
    return sync::sign_commit(c, key);
  }

  teduh::testing::TempDir temp_;  // removed after the store is closed
  fs::path root_, dir_, admin_file_;
  std::optional<ServerStore> store_;
  std::optional<AdminKey> admin_;
};

TEST_F(CompartmentStoreTest, AdminKeyFileOpensOnlyWithItsPassphrase) {
  auto again = open_admin_key(admin_file_, kAdminPass);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->sign.public_key(), admin_->sign.public_key());
  EXPECT_EQ(again->box.public_key(), admin_->box.public_key());
  auto wrong = open_admin_key(admin_file_, kPass);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::refused);
  auto twice = create_admin_key(admin_file_, kAdminPass, crypto::KdfParams::interactive());
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::already_exists);
  auto missing = open_admin_key(root_ / "nowhere", kAdminPass);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_F(CompartmentStoreTest, AnAdminKeyPathThatResolvesIntoTheDataFolderIsRefused) {
  fs::create_directories(root_ / "luar");
  fs::create_directory_symlink(dir_, root_ / "tautan");
  for (const fs::path& inside : {dir_ / "admin.key", dir_ / "x" / ".." / "admin.key",
                                 root_ / "luar" / ".." / "data" / "k", root_ / "tautan" / "k", dir_}) {
    auto refused = admin_key_path_outside(inside, dir_);
    ASSERT_FALSE(refused) << inside;
    EXPECT_EQ(refused.error().code, Errc::invalid_input);
  }
  EXPECT_FALSE(admin_key_path_outside(dir_ / "k", root_ / "tautan"));  // the folder named by its symlink
  for (const fs::path& outside : {root_ / "luar" / "admin.key", root_ / "data-lain" / "k", admin_file_}) {
    auto ok = admin_key_path_outside(outside, dir_);
    EXPECT_TRUE(ok) << outside;
  }
  // A second name (hard link) of the key file is refused when it is opened.
  fs::create_hard_link(admin_file_, root_ / "luar" / "kedua.key");
  auto linked = open_admin_key(admin_file_, kAdminPass);
  ASSERT_FALSE(linked);
  EXPECT_EQ(linked.error().code, Errc::refused);
}

TEST_F(CompartmentStoreTest, ARenewedBoxKeyTakesOverEveryAdministratorWrapAndTheOldOneOpensNone) {
  const auto ka = crypto::SigningKey::generate();
  const DeviceRecord a = enroll(ka, true);
  ASSERT_TRUE(store_->clear_device(*admin_, a.device_id, "rumah_aman"));
  ASSERT_TRUE(store_->rotate_compartment(*admin_, "rumah_aman"));
  auto sign = crypto::SigningKey::from_secret(admin_->sign.secret_key().view());
  ASSERT_TRUE(sign);
  AdminKey renewed{std::move(*sign), crypto::DhKeyPair::generate()};
  auto moved = store_->renew_admin_box(*admin_, renewed);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(*moved, 2u);
  EXPECT_EQ(*store_->renew_admin_box(*admin_, renewed), 0u);  // again: nothing left to do
  // The old key no longer passes for the store's; the renewed one clears a new device
  // with both past generations, opened from the administrator's wraps sealed again.
  EXPECT_FALSE(store_->rotate_compartment(*admin_, "rumah_aman"));
  const auto kb = crypto::SigningKey::generate();
  const DeviceRecord b = enroll(kb, true);
  auto g = store_->clear_device(renewed, b.device_id, "rumah_aman");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(*g, 2u);
  EXPECT_EQ(open_wraps(a, ka), open_wraps(b, kb));
}

TEST_F(CompartmentStoreTest, ClearanceWrapsEveryGenerationAndOnlyToClearedDevices) {
  const auto ka = crypto::SigningKey::generate(), kb = crypto::SigningKey::generate(),
             kn = crypto::SigningKey::generate();
  const DeviceRecord a = enroll(ka, true), b = enroll(kb, true), plain = enroll(kn, false);
  EXPECT_TRUE(open_wraps(a, ka).empty());  // enrolled --shelter: waits for a key

  auto g = store_->clear_device(*admin_, a.device_id, "rumah_aman");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(*g, 1u);  // the first clearance made generation 1
  auto rotated = store_->rotate_compartment(*admin_, "rumah_aman");
  ASSERT_TRUE(rotated);
  EXPECT_EQ(rotated->generation, 2u);
  EXPECT_EQ(rotated->devices, 1u);
  auto gb = store_->clear_device(*admin_, b.device_id, "rumah_aman");
  ASSERT_TRUE(gb);
  EXPECT_EQ(*gb, 2u);
  auto keys_a = open_wraps(a, ka), keys_b = open_wraps(b, kb);
  ASSERT_EQ(keys_a.size(), 2u);
  EXPECT_EQ(keys_a, keys_b);  // B received the past generation too, the same key
  EXPECT_NE(keys_a[1], keys_a[2]);

  auto refused = store_->clear_device(*admin_, plain.device_id, "rumah_aman");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::refused);
  EXPECT_TRUE(open_wraps(plain, kn).empty());

  // Another administrator key is refused.
  auto other = create_admin_key(root_ / "other.key", kAdminPass, crypto::KdfParams::interactive());
  ASSERT_TRUE(other);
  auto foreign = store_->rotate_compartment(*other, "rumah_aman");
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, Errc::refused);
}

TEST_F(CompartmentStoreTest, RevokingAClearedDeviceMarksARotationAndItsWrapsStop) {
  const auto ka = crypto::SigningKey::generate(), kc = crypto::SigningKey::generate();
  const DeviceRecord a = enroll(ka, true), c = enroll(kc, true);
  ASSERT_TRUE(store_->clear_device(*admin_, a.device_id, "rumah_aman"));
  ASSERT_TRUE(store_->clear_device(*admin_, c.device_id, "rumah_aman"));
  ASSERT_TRUE(store_->revoke_device(c.device_id));
  auto state = store_->compartment_state("rumah_aman");
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->rotation_pending);
  EXPECT_TRUE(store_->key_wraps_for(reload(c))->empty());
  auto rotated = store_->rotate_compartment(*admin_, "rumah_aman");
  ASSERT_TRUE(rotated);
  EXPECT_EQ(rotated->devices, 1u);  // A only
  EXPECT_FALSE(store_->compartment_state("rumah_aman")->rotation_pending);
  EXPECT_EQ(open_wraps(a, ka).size(), 2u);
}

TEST_F(CompartmentStoreTest, CommitsUnderARetiredOrUnmadeGenerationAreRefusedAndDoNotBlock) {
  const auto ka = crypto::SigningKey::generate();
  const DeviceRecord a = enroll(ka, true);
  ASSERT_TRUE(store_->clear_device(*admin_, a.device_id, "rumah_aman"));
  ASSERT_TRUE(store_->rotate_compartment(*admin_, "rumah_aman"));  // current: 2
  const std::vector<sync::SignedCommit> commits = {
      shelter_commit(a, ka, 1, 1), shelter_commit(a, ka, 2, 3), shelter_commit(a, ka, 3, 2)};
  auto results = store_->push(reload(a), commits);
  ASSERT_TRUE(results) << results.error().message;
  ASSERT_EQ(results->size(), 3u);
  EXPECT_FALSE((*results)[0].accepted);
  EXPECT_EQ((*results)[0].reason, RejectReason::not_authorized);
  EXPECT_NE((*results)[0].message.find("older than the current generation 2"), std::string::npos);
  EXPECT_FALSE((*results)[1].accepted);
  EXPECT_NE((*results)[1].message.find("has not made"), std::string::npos);
  EXPECT_TRUE((*results)[2].accepted) << (*results)[2].message;
  EXPECT_FALSE((*results)[0].purge_scope);  // the device may still read shelters
}

TEST_F(CompartmentStoreTest, ClearTextInASecretFieldIsRefused) {
  const auto ka = crypto::SigningKey::generate();
  const DeviceRecord a = enroll(ka, true);
  ASSERT_TRUE(store_->clear_device(*admin_, a.device_id, "rumah_aman"));
  const std::vector<sync::SignedCommit> commits = {
      shelter_commit(a, ka, 1, 1, "ALAMAT-PENANDA-TERBUKA"), shelter_commit(a, ka, 2, 0)};
  auto results = store_->push(reload(a), commits);
  ASSERT_TRUE(results);
  EXPECT_FALSE((*results)[0].accepted);
  EXPECT_NE((*results)[0].message.find("not sealed"), std::string::npos);
  EXPECT_FALSE((*results)[1].accepted);  // generation 0 is never made
  auto dump = store_->dump_text();
  ASSERT_TRUE(dump);
  EXPECT_EQ(dump->find("ALAMAT-PENANDA-TERBUKA"), std::string::npos);
}

TEST_F(CompartmentStoreTest, DebugDumpShowsTablesButNotTheServerSecrets) {
  const auto ka = crypto::SigningKey::generate();
  const DeviceRecord a = enroll(ka, true);
  ASSERT_TRUE(store_->clear_device(*admin_, a.device_id, "rumah_aman"));
  auto dump = store_->dump_text();
  ASSERT_TRUE(dump) << dump.error().message;
  for (const char* table : {"== devices", "== key_wraps", "== compartments", "== log", "== meta"}) {
    EXPECT_NE(dump->find(table), std::string::npos) << table;
  }
  EXPECT_NE(dump->find("(secret, 64 bytes, not shown)"), std::string::npos);
  EXPECT_EQ(dump->find(crypto::to_hex(store_->signing_key().secret_key().view())),
            std::string::npos);
  EXPECT_NE(dump->find(a.device_id.hex()), std::string::npos);
}

}  // namespace
}  // namespace teduh::server
