// Unit tests of the small primitives: encodings, AEAD, Argon2id, signatures, sealed boxes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "teduh/crypto/aead.hpp"
#include "teduh/crypto/kdf.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh::crypto {
namespace {

ByteView bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Encoding, HexRoundTripsAndRejectsGarbage) {
  const Bytes b = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(to_hex(b), "0001abff");
  EXPECT_EQ(from_hex("0001abff").value(), b);
  EXPECT_EQ(from_hex("0001ABFF").value(), b);
  EXPECT_EQ(from_hex("abc").error().code, Errc::bad_input);
  EXPECT_EQ(from_hex("zz").error().code, Errc::bad_input);
  EXPECT_TRUE(from_hex("").value().empty());
}

TEST(Encoding, Base64UrlRoundTripsWithoutPadding) {
  const Bytes b = {0xfb, 0xff, 0x01};
  EXPECT_EQ(to_base64url(b), "-_8B");
  EXPECT_EQ(from_base64url("-_8B").value(), b);
  for (std::size_t n = 0; n < 40; ++n) {
    const Bytes r = random_bytes(n);
    const std::string t = to_base64url(r);
    EXPECT_EQ(t.find('='), std::string::npos);
    EXPECT_EQ(from_base64url(t).value(), r);
  }
  EXPECT_EQ(from_base64url("ab+/").error().code, Errc::bad_input);
  EXPECT_EQ(from_base64url("ab==").error().code, Errc::bad_input);
}

TEST(SecretBytes, CopiesCompareAndMoveOut) {
  SecretBytes a = SecretBytes::random(32);
  SecretBytes b = a.clone();
  EXPECT_TRUE(equal_ct(a.view(), b.view()));
  SecretBytes c = std::move(a);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_TRUE(equal_ct(c.view(), b.view()));
  EXPECT_FALSE(equal_ct(c.view(), SecretBytes::random(32).view()));
  EXPECT_FALSE(equal_ct(c.view(), SecretBytes::random(31).view()));
}

TEST(Blake2b, KnownAnswerForEmptyInput) {
  EXPECT_EQ(to_hex(blake2b({}, 32)),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST(Aead, OpensWhatItSealed) {
  const SecretBytes key = SecretBytes::random(kAeadKeySize);
  const Bytes sealed = aead_seal(key, bytes_of("surat rujukan"), bytes_of("ad"));
  EXPECT_EQ(sealed.size(), 13 + kAeadNonceSize + kAeadTagSize);
  const auto opened = aead_open(key, sealed, bytes_of("ad"));
  ASSERT_TRUE(opened);
  EXPECT_EQ(std::string(opened->begin(), opened->end()), "surat rujukan");
  EXPECT_TRUE(aead_open(key, aead_seal(key, {}, {}), {}).has_value());
}

TEST(Aead, AnyChangedByteKeyOrAssociatedDataFails) {
  const SecretBytes key = SecretBytes::random(kAeadKeySize);
  const Bytes sealed = aead_seal(key, bytes_of("data"), bytes_of("ad"));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes t = sealed;
    t[i] ^= 0x01;
    EXPECT_EQ(aead_open(key, t, bytes_of("ad")).error().code, Errc::damaged) << i;
  }
  EXPECT_FALSE(aead_open(key, sealed, bytes_of("ae")));
  EXPECT_FALSE(aead_open(SecretBytes::random(32), sealed, bytes_of("ad")));
  EXPECT_FALSE(aead_open(key, ByteView(sealed).first(10), bytes_of("ad")));
  EXPECT_FALSE(aead_open_secret(key, ByteView(sealed).first(sealed.size() - 1), bytes_of("ad")));
}

TEST(Aead, NoncesAreFreshPerSeal) {
  const SecretBytes key = SecretBytes::random(kAeadKeySize);
  EXPECT_NE(aead_seal(key, bytes_of("x"), {}), aead_seal(key, bytes_of("x"), {}));
}

TEST(Kdf, SameInputsGiveSameKeyAndSaltOrPassphraseChangesIt) {
  const KdfParams p = KdfParams::interactive();
  Salt salt{};
  salt[0] = 1;
  const auto a = derive_key("kata sandi", salt, p);
  const auto b = derive_key("kata sandi", salt, p);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_TRUE(equal_ct(a->view(), b->view()));
  EXPECT_FALSE(equal_ct(a->view(), derive_key("kata sandi!", salt, p)->view()));
  salt[0] = 2;
  EXPECT_FALSE(equal_ct(a->view(), derive_key("kata sandi", salt, p)->view()));
}

TEST(Kdf, EnvironmentSelectsInteractiveCostOnlyForStoresMarkedAsTestStores) {
  const char* marker = std::getenv("TEDUH_TEST_STORES");
  const std::string saved = marker ? marker : "";
  ::setenv("TEDUH_KDF", "interactive", 1);
  ::setenv("TEDUH_TEST_STORES", "1", 1);
  EXPECT_EQ(KdfParams::from_environment()->memlimit, KdfParams::interactive().memlimit);
  EXPECT_TRUE(KdfParams::from_environment()->cheap());
  // Without the marker the cheap cost is refused, never silently used for a real store.
  ::unsetenv("TEDUH_TEST_STORES");
  auto refused = KdfParams::from_environment();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::bad_input);
  EXPECT_NE(refused.error().message.find("TEDUH_TEST_STORES=1"), std::string::npos);
  ::setenv("TEDUH_KDF", "other", 1);
  EXPECT_EQ(KdfParams::from_environment()->memlimit, KdfParams::moderate().memlimit);
  ::unsetenv("TEDUH_KDF");
  EXPECT_EQ(KdfParams::from_environment()->opslimit, KdfParams::moderate().opslimit);
  EXPECT_FALSE(KdfParams::from_environment()->cheap());
  if (marker) ::setenv("TEDUH_TEST_STORES", saved.c_str(), 1);
}

TEST(Kdf, OutOfRangeCostIsBadInput) {
  EXPECT_EQ(derive_key("x", Salt{}, KdfParams{0, 0}).error().code, Errc::bad_input);
}

TEST(Signing, SignaturesVerifyAndAlteredMessagesDoNot) {
  const SigningKey k = SigningKey::generate();
  const Signature sig = k.sign(bytes_of("kode pendaftaran"));
  EXPECT_TRUE(verify_signature(k.public_key(), bytes_of("kode pendaftaran"), sig));
  EXPECT_FALSE(verify_signature(k.public_key(), bytes_of("kode pendaftaraN"), sig));
  Signature bad = sig;
  bad[5] ^= 1;
  EXPECT_FALSE(verify_signature(k.public_key(), bytes_of("kode pendaftaran"), bad));
  EXPECT_FALSE(verify_signature(SigningKey::generate().public_key(), bytes_of("kode pendaftaran"), sig));
}

TEST(Signing, SecretKeyRoundTripsAndMismatchedHalvesAreRefused) {
  const SigningKey k = SigningKey::generate();
  const auto again = SigningKey::from_secret(k.secret_key().view());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key(), k.public_key());
  EXPECT_TRUE(verify_signature(k.public_key(), bytes_of("m"), again->sign(bytes_of("m"))));
  EXPECT_EQ(SigningKey::from_secret(random_bytes(10)).error().code, Errc::bad_input);
  SecretBytes mixed = k.secret_key().clone();
  mixed.data()[40] ^= 1;
  EXPECT_EQ(SigningKey::from_secret(mixed.view()).error().code, Errc::bad_input);
}

TEST(Signing, DhKeyOfSigningKeyMatchesPublicConversion) {
  const SigningKey k = SigningKey::generate();
  const DhKeyPair dh = k.to_dh();
  const auto pub = to_dh_public(k.public_key());
  ASSERT_TRUE(pub);
  EXPECT_EQ(*pub, dh.public_key());
  const auto from = DhKeyPair::from_secret(dh.secret_key().view());
  ASSERT_TRUE(from);
  EXPECT_EQ(from->public_key(), dh.public_key());
}

TEST(SealedBox, OnlyTheRecipientOpens) {
  const DhKeyPair alice = DhKeyPair::generate();
  const DhKeyPair eve = DhKeyPair::generate();
  const Bytes sealed = seal_to(alice.public_key(), bytes_of("kunci kompartemen"));
  const auto opened = open_sealed(alice, sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(std::string(opened->data(), opened->data() + opened->size()), "kunci kompartemen");
  EXPECT_EQ(open_sealed(eve, sealed).error().code, Errc::verify_failed);
  Bytes bad = sealed;
  bad.back() ^= 1;
  EXPECT_EQ(open_sealed(alice, bad).error().code, Errc::verify_failed);
  EXPECT_EQ(open_sealed(alice, ByteView(sealed).first(5)).error().code, Errc::verify_failed);
}

}  // namespace
}  // namespace teduh::crypto
