// Argon2id key derivation.
#include "teduh/crypto/kdf.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace teduh::crypto {

KdfParams KdfParams::moderate() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

KdfParams KdfParams::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

bool test_stores_marked() {
  const char* v = std::getenv("TEDUH_TEST_STORES");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

Result<KdfParams> KdfParams::from_environment() {
  const char* v = std::getenv("TEDUH_KDF");
  if (v == nullptr || std::strcmp(v, "interactive") != 0) return moderate();
  if (!test_stores_marked()) {
    return fail(Errc::bad_input,
                "TEDUH_KDF=interactive membuat kata sandi jauh lebih mudah ditebak dan hanya boleh untuk "
                "penyimpanan uji: setel juga TEDUH_TEST_STORES=1 bila ini memang penyimpanan uji, atau "
                "hapus TEDUH_KDF untuk data sungguhan.");
  }
  return interactive();
}

bool KdfParams::cheap() const {
  const KdfParams m = moderate();
  return opslimit < m.opslimit || memlimit < m.memlimit;
}

[[nodiscard]] Result<SecretBytes> derive_key(std::string_view passphrase, const Salt& salt,
                               const KdfParams& params) {
  init();
  static_assert(kSaltSize == crypto_pwhash_SALTBYTES);
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > crypto_pwhash_OPSLIMIT_MAX ||
      params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > crypto_pwhash_MEMLIMIT_MAX) {
    return fail(Errc::bad_input, "Argon2id cost parameters are out of range");
  }
  SecretBytes key(32);
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(),
                    params.opslimit, static_cast<std::size_t>(params.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return fail(Errc::io, "not enough memory to derive the key from the passphrase");
  }
  return key;
}

}  // namespace teduh::crypto
