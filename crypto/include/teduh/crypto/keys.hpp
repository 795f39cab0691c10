#pragma once
// Device and server identity: Ed25519 signing keys and X25519 keys, and sealed boxes.
#include <array>

#include "teduh/crypto/secure.hpp"

namespace teduh::crypto {

inline constexpr std::size_t kSignPublicKeySize = 32;
inline constexpr std::size_t kSignSecretKeySize = 64;
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kDhKeySize = 32;

using SignPublicKey = std::array<std::uint8_t, kSignPublicKeySize>;
using Signature = std::array<std::uint8_t, kSignatureSize>;
using DhPublicKey = std::array<std::uint8_t, kDhKeySize>;

// An Ed25519 key pair; the secret half lives in SecretBytes.
class SigningKey {
 public:
  static SigningKey generate();
  // From the 64-byte libsodium secret key (seed || public key).
  [[nodiscard]] static Result<SigningKey> from_secret(ByteView secret_key);
  [[nodiscard]] const SignPublicKey& public_key() const { return public_key_; }
  [[nodiscard]] const SecretBytes& secret_key() const { return secret_; }
  [[nodiscard]] Signature sign(ByteView message) const;
  // The X25519 key pair that belongs to this Ed25519 key (crypto_sign_ed25519_*_to_curve25519).
  // Used as the Noise static key, so one published key names a server or device.
  [[nodiscard]] class DhKeyPair to_dh() const;

 private:
  SecretBytes secret_;
  SignPublicKey public_key_{};
};

bool verify_signature(const SignPublicKey& public_key, ByteView message, const Signature& sig);
// The X25519 public key of an Ed25519 public key; fails for an invalid point.
[[nodiscard]] Result<DhPublicKey> to_dh_public(const SignPublicKey& public_key);

// An X25519 key pair.
class DhKeyPair {
 public:
  static DhKeyPair generate();
  [[nodiscard]] static Result<DhKeyPair> from_secret(ByteView secret_key);  // 32 bytes
  [[nodiscard]] const DhPublicKey& public_key() const { return public_key_; }
  [[nodiscard]] const SecretBytes& secret_key() const { return secret_; }

 private:
  friend class SigningKey;
  SecretBytes secret_;
  DhPublicKey public_key_{};
};

// crypto_box_seal: anyone may seal to a public key; only its owner opens.
Bytes seal_to(const DhPublicKey& recipient, ByteView message);
[[nodiscard]] Result<SecretBytes> open_sealed(const DhKeyPair& recipient, ByteView sealed);

}  // namespace teduh::crypto
