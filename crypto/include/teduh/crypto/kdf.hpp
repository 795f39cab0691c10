#pragma once
// Argon2id key derivation (crypto_pwhash).
#include <array>
#include <cstdint>
#include <string_view>

#include "teduh/crypto/error.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh::crypto {

struct KdfParams {
  std::uint64_t opslimit;
  std::uint64_t memlimit;  // bytes
  // The production cost (crypto_pwhash_*_MODERATE: about 0.8 s here).
  static KdfParams moderate();
  // The cheap cost (crypto_pwhash_*_INTERACTIVE), for stores the test suite and the demo make.
  static KdfParams interactive();
  // The cost of a new store or a new passphrase: moderate(), unless TEDUH_KDF=interactive
  // together with the test marker TEDUH_TEST_STORES=1 (interactive()). TEDUH_KDF=interactive
  // without the marker is refused (bad_input), never silently honoured: a real store must
  // not be made cheap by a variable left set in a shell.
  [[nodiscard]] static Result<KdfParams> from_environment();
  // True when these parameters are below the moderate cost (a store made for tests).
  [[nodiscard]] bool cheap() const;
};

// True when TEDUH_TEST_STORES=1: this process makes and opens stores of the test suite.
bool test_stores_marked();

inline constexpr std::size_t kSaltSize = 16;
using Salt = std::array<std::uint8_t, kSaltSize>;

// Derives a 32-byte key from a passphrase. Fails only when the system lacks memory.
[[nodiscard]] Result<SecretBytes> derive_key(std::string_view passphrase, const Salt& salt,
                               const KdfParams& params);

}  // namespace teduh::crypto
