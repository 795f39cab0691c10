// The key file: creation, unlocking, passphrase change, refusal of foreign files.
#include <gtest/gtest.h>

#include "store_test_support.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"

namespace teduh::crypto {
namespace {

using namespace teduh::crypto::testing;

TEST(StoreKey, UnlocksWithTheRightPassphraseOnly) {
  TempDir dir;
  const fs::path p = dir / "s.db";
  const auto created = create_store_key(p, "benar", KdfParams::interactive());
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->size(), kStoreKeySize);
  const auto unlocked = unlock_store_key(p, "benar");
  ASSERT_TRUE(unlocked);
  EXPECT_TRUE(equal_ct(created->view(), unlocked->view()));
  const auto wrong = unlock_store_key(p, "salah");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::wrong_passphrase);
  EXPECT_EQ(fs::status(key_file_path(p)).permissions() & fs::perms::group_all, fs::perms::none);
}

TEST(StoreKey, MissingKeyFileIsReportedAsSuch) {
  TempDir dir;
  EXPECT_EQ(unlock_store_key(dir / "s.db", "x").error().code, Errc::missing_key_file);
}

TEST(StoreKey, CreateRefusesToOverwrite) {
  TempDir dir;
  const fs::path p = dir / "s.db";
  ASSERT_TRUE(create_store_key(p, "a", KdfParams::interactive()));
  EXPECT_EQ(create_store_key(p, "b", KdfParams::interactive()).error().code, Errc::already_exists);
  EXPECT_TRUE(unlock_store_key(p, "a"));
}

TEST(StoreKey, ChangedPassphraseKeepsTheSameStoreKey) {
  TempDir dir;
  const fs::path p = dir / "s.db";
  const auto key = create_store_key(p, "lama", KdfParams::interactive());
  ASSERT_TRUE(key);
  EXPECT_EQ(change_passphrase(p, "keliru", "baru", KdfParams::interactive()).error().code,
            Errc::wrong_passphrase);
  ASSERT_TRUE(change_passphrase(p, "lama", "baru", KdfParams::interactive()));
  EXPECT_EQ(unlock_store_key(p, "lama").error().code, Errc::wrong_passphrase);
  const auto again = unlock_store_key(p, "baru");
  ASSERT_TRUE(again);
  EXPECT_TRUE(equal_ct(key->view(), again->view()));
  // No temporary files are left beside the store.
  for (const auto& e : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename(), "s.db.key");
  }
}

TEST(StoreKey, ForeignOrNewerKeyFilesAreNotAStore) {
  TempDir dir;
  const fs::path p = dir / "s.db";
  write_file(key_file_path(p), random_bytes(114));
  EXPECT_EQ(unlock_store_key(p, "x").error().code, Errc::not_a_store);
  ASSERT_TRUE(fs::remove(key_file_path(p)));
  ASSERT_TRUE(create_store_key(p, "x", KdfParams::interactive()));
  auto b = read_file(key_file_path(p));
  b[8] = 2;  // a future format version
  write_file(key_file_path(p), b);
  const auto r = unlock_store_key(p, "x");
  EXPECT_EQ(r.error().code, Errc::not_a_store);
  EXPECT_NE(r.error().message.find("version"), std::string::npos);
}

TEST(StoreKey, AlteredHeaderOrWrappedKeyDoesNotUnlock) {
  TempDir dir;
  const fs::path p = dir / "s.db";
  ASSERT_TRUE(create_store_key(p, "x", KdfParams::interactive()));
  const auto good = read_file(key_file_path(p));
  for (std::size_t offset : {std::size_t{30}, std::size_t{50}, std::size_t{80}, good.size() - 1}) {
    auto b = good;
    b[offset] ^= 1;
    write_file(key_file_path(p), b);
    EXPECT_FALSE(unlock_store_key(p, "x")) << offset;
  }
}

}  // namespace
}  // namespace teduh::crypto
