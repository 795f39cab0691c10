// A device accepts compartment keys only as the administrator it pinned at enrollment
// wrapped them for it (PROTOCOL.md section 5D): all of a batch or nothing.
#include <gtest/gtest.h>

#include "support/store_fixture.hpp"
#include "teduh/client/compartment.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/sync/compartment.hpp"

namespace teduh::client {
namespace {

using testing::TempDir;
namespace wire = sync::wire;

class KeyWrapsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.admin_key = admin_.public_key();
    auto store = testing::make_bare_store(dir_ / "rumah.db", server_, "BKS-UPTD", true,
                                          "petugas-rumah", "petugas_rumah_aman", "uptd_ppa");
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
  }

  // A wrap of `key` as the administrator makes it for `recipient`.
  wire::KeyWrap wrap(std::uint32_t generation, const crypto::Bytes& key,
                     const crypto::SigningKey& signer, const sync::Id128& recipient) {
    wire::KeyWrap w;
    w.compartment = "rumah_aman";
    w.generation = generation;
    const crypto::DhKeyPair dh = store_->identity().signing_key.to_dh();
    w.sealed = crypto::seal_to(dh.public_key(), key);
    w.signature =
        signer.sign(sync::wrap_signed_bytes(w.compartment, generation, recipient, w.sealed));
    return w;
  }
  wire::KeyWrap wrap(std::uint32_t generation, const crypto::Bytes& key) {
    return wrap(generation, key, admin_, store_->identity().device);
  }

  TempDir dir_;
  crypto::SigningKey admin_ = crypto::SigningKey::generate();
  testing::FakeServerKey server_;
  std::optional<Store> store_;
};

TEST_F(KeyWrapsTest, WrapsFromThePinnedAdministratorAreOpenedAndTheHighestIsCurrent) {
  const crypto::Bytes k1 = crypto::random_bytes(32), k2 = crypto::random_bytes(32);
  const std::vector<wire::KeyWrap> wraps = {wrap(1, k1), wrap(2, k2)};
  auto fresh = accept_key_wraps(*store_, wraps);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(*fresh, 2u);
  EXPECT_EQ(*current_generation(*store_, "rumah_aman"), std::optional<std::uint32_t>(2));
  EXPECT_EQ(**store_->meta("compartment:rumah_aman:1"), crypto::to_hex(k1));
  // The same batch again changes nothing and brings nothing new.
  auto again = accept_key_wraps(*store_, wraps);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
  auto shelter = Workflow(*store_).add_shelter(
      {{"name", "RUMAH-PENANDA-e5"}, {"address", "ALAMAT-PENANDA-e5"}});
  ASSERT_TRUE(shelter) << shelter.error().message;
  EXPECT_EQ(sync::parse_sealed_header((*store_->entity(*shelter))->get("address"))->generation, 2u);
}

TEST_F(KeyWrapsTest, OneWrapNotSignedByThePinnedAdministratorRefusesTheWholeBatch) {
  const crypto::SigningKey stranger = crypto::SigningKey::generate();
  const crypto::Bytes k1 = crypto::random_bytes(32), k2 = crypto::random_bytes(32);
  for (const wire::KeyWrap& bad :
       {wrap(2, k2, stranger, store_->identity().device),  // another signer
        wrap(2, k2, admin_, sync::Id128::random())}) {     // meant for another device
    const std::vector<wire::KeyWrap> wraps = {wrap(1, k1), bad};
    auto r = accept_key_wraps(*store_, wraps);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::refused);
    EXPECT_NE(r.error().message.find("did not sign"), std::string::npos) << r.error().message;
    EXPECT_FALSE(*current_generation(*store_, "rumah_aman"));  // not even generation 1 was kept
    EXPECT_FALSE(*store_->meta("compartment:rumah_aman:1"));
  }
  // A relabelled generation breaks the signature too.
  wire::KeyWrap relabelled = wrap(1, k1);
  relabelled.generation = 3;
  const std::vector<wire::KeyWrap> wraps = {relabelled};
  EXPECT_FALSE(accept_key_wraps(*store_, wraps));
}

TEST_F(KeyWrapsTest, ASignedWrapThatDoesNotOpenIsRefused) {
  wire::KeyWrap w;
  w.compartment = "rumah_aman";
  w.generation = 1;
  w.sealed = crypto::seal_to(crypto::DhKeyPair::generate().public_key(),
                             crypto::random_bytes(32));  // not to us
  w.signature =
      admin_.sign(sync::wrap_signed_bytes(w.compartment, 1, store_->identity().device, w.sealed));
  const std::vector<wire::KeyWrap> wraps = {w};
  auto r = accept_key_wraps(*store_, wraps);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not open"), std::string::npos);
  EXPECT_FALSE(*current_generation(*store_, "rumah_aman"));
}

TEST(KeyWrapsLegacyTest, ADeviceEnrolledWithoutAnAdministratorKeyCannotAcceptWraps) {
  TempDir dir;
  testing::FakeServerKey server;  // version-1 codes
  auto store = testing::make_bare_store(dir / "lama.db", server, "BKS-UPTD", true);
  ASSERT_TRUE(store);
  const std::vector<wire::KeyWrap> none;
  auto r = accept_key_wraps(*store, none);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("enroll it again"), std::string::npos);
}

}  // namespace
}  // namespace teduh::client
