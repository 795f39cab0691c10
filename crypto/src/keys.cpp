// Ed25519 signing keys, X25519 key pairs and sealed boxes.
#include "teduh/crypto/keys.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace teduh::crypto {

static_assert(kSignPublicKeySize == crypto_sign_PUBLICKEYBYTES);
static_assert(kSignSecretKeySize == crypto_sign_SECRETKEYBYTES);
static_assert(kSignatureSize == crypto_sign_BYTES);
static_assert(kDhKeySize == crypto_box_PUBLICKEYBYTES && kDhKeySize == crypto_box_SECRETKEYBYTES);

SigningKey SigningKey::generate() {
  init();
  SigningKey k;
  k.secret_ = SecretBytes(kSignSecretKeySize);
  crypto_sign_keypair(k.public_key_.data(), k.secret_.data());
  return k;
}

Result<SigningKey> SigningKey::from_secret(ByteView secret_key) {
  init();
  if (secret_key.size() != kSignSecretKeySize) {
    return fail(Errc::bad_input, "an Ed25519 secret key is 64 bytes");
  }
  // Recompute the public half from the seed so a mismatched seed || pk is refused.
  SigningKey k;
  k.secret_ = SecretBytes(kSignSecretKeySize);
  crypto_sign_seed_keypair(k.public_key_.data(), k.secret_.data(), secret_key.data());
  if (!equal_ct(ByteView(k.public_key_), secret_key.subspan(crypto_sign_SEEDBYTES))) {
    return fail(Errc::bad_input, "the Ed25519 secret key's public half does not match its seed");
  }
  return k;
}

Signature SigningKey::sign(ByteView message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

DhKeyPair SigningKey::to_dh() const {
  DhKeyPair kp;
  kp.secret_ = SecretBytes(kDhKeySize);
  crypto_sign_ed25519_sk_to_curve25519(kp.secret_.data(), secret_.data());
  crypto_scalarmult_base(kp.public_key_.data(), kp.secret_.data());
  return kp;
}

bool verify_signature(const SignPublicKey& public_key, ByteView message, const Signature& sig) {
  init();
  return crypto_sign_verify_detached(sig.data(), message.data(), message.size(),
                                     public_key.data()) == 0;
}

[[nodiscard]] Result<DhPublicKey> to_dh_public(const SignPublicKey& public_key) {
  init();
  DhPublicKey out{};
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), public_key.data()) != 0) {
    return fail(Errc::bad_input, "not a valid Ed25519 public key");
  }
  return out;
}

DhKeyPair DhKeyPair::generate() {
  init();
  DhKeyPair kp;
  kp.secret_ = SecretBytes(kDhKeySize);
  crypto_box_keypair(kp.public_key_.data(), kp.secret_.data());
  return kp;
}

Result<DhKeyPair> DhKeyPair::from_secret(ByteView secret_key) {
  init();
  if (secret_key.size() != kDhKeySize) return fail(Errc::bad_input, "an X25519 secret key is 32 bytes");
  DhKeyPair kp;
  kp.secret_ = SecretBytes::copy_of(secret_key);
  crypto_scalarmult_base(kp.public_key_.data(), kp.secret_.data());
  return kp;
}

Bytes seal_to(const DhPublicKey& recipient, ByteView message) {
  init();
  Bytes out(message.size() + crypto_box_SEALBYTES);
  crypto_box_seal(out.data(), message.data(), message.size(), recipient.data());
  return out;
}

[[nodiscard]] Result<SecretBytes> open_sealed(const DhKeyPair& recipient, ByteView sealed) {
  init();
  if (sealed.size() < crypto_box_SEALBYTES) return fail(Errc::verify_failed, "sealed box did not open");
  SecretBytes out(sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(out.data(), sealed.data(), sealed.size(), recipient.public_key().data(),
                           recipient.secret_key().data()) != 0) {
    return fail(Errc::verify_failed, "sealed box did not open");
  }
  return out;
}

}  // namespace teduh::crypto
