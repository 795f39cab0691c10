#pragma once
// XChaCha20-Poly1305 (IETF) authenticated encryption with a random 24-byte nonce.
#include "teduh/crypto/secure.hpp"

namespace teduh::crypto {

inline constexpr std::size_t kAeadKeySize = 32;
inline constexpr std::size_t kAeadNonceSize = 24;
inline constexpr std::size_t kAeadTagSize = 16;

// Returns nonce || ciphertext || tag. key must be 32 bytes.
Bytes aead_seal(const SecretBytes& key, ByteView plaintext, ByteView associated_data);
// Inverse of aead_seal. Fails with Errc::damaged, and says nothing more, when the
// key, the associated data or any byte differ.
[[nodiscard]] Result<Bytes> aead_open(const SecretBytes& key, ByteView sealed, ByteView associated_data);
// Same, for plaintexts that are themselves keys.
[[nodiscard]] Result<SecretBytes> aead_open_secret(const SecretBytes& key, ByteView sealed,
                                     ByteView associated_data);

}  // namespace teduh::crypto
