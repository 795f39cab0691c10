#pragma once
// Argon2id key derivation (crypto_pwhash).
#include <array>
#include <cstdint>
#include <string_view>

#include "teduh/crypto/secure.hpp"

namespace teduh::crypto {

struct KdfParams {
  std::uint64_t opslimit;
  std::uint64_t memlimit;  // bytes
  // The production cost (crypto_pwhash_*_MODERATE: about 0.8 s here).
  static KdfParams moderate();
  // The cheap cost (crypto_pwhash_*_INTERACTIVE), for tests and demos.
  static KdfParams interactive();
  // TEDUH_KDF=interactive selects interactive(); anything else moderate().
  static KdfParams from_environment();
};

inline constexpr std::size_t kSaltSize = 16;
using Salt = std::array<std::uint8_t, kSaltSize>;

// Derives a 32-byte key from a passphrase. Fails only when the system lacks memory.
Result<SecretBytes> derive_key(std::string_view passphrase, const Salt& salt,
                               const KdfParams& params);

}  // namespace teduh::crypto
