// XChaCha20-Poly1305 (IETF) with a random nonce, combined layout nonce || ct || tag.
#include "teduh/crypto/aead.hpp"

#include <sodium.h>

#include <cstdlib>

namespace teduh::crypto {

static_assert(kAeadKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);

Bytes aead_seal(const SecretBytes& key, ByteView plaintext, ByteView associated_data) {
  init();
  if (key.size() != kAeadKeySize) std::abort();  // a wrong-sized key is a bug
  Bytes out(kAeadNonceSize + plaintext.size() + kAeadTagSize);
  randombytes_buf(out.data(), kAeadNonceSize);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kAeadNonceSize, &clen, plaintext.data(),
                                             plaintext.size(), associated_data.data(),
                                             associated_data.size(), nullptr, out.data(), key.data());
  return out;
}

namespace {
// Decrypts into dst (sealed.size() - overhead bytes). Returns false on any failure.
bool open_into(const SecretBytes& key, ByteView sealed, ByteView ad, std::uint8_t* dst) {
  if (key.size() != kAeadKeySize || sealed.size() < kAeadNonceSize + kAeadTagSize) return false;
  unsigned long long mlen = 0;
  return crypto_aead_xchacha20poly1305_ietf_decrypt(
             dst, &mlen, nullptr, sealed.data() + kAeadNonceSize, sealed.size() - kAeadNonceSize,
             ad.data(), ad.size(), sealed.data(), key.data()) == 0;
}
}  // namespace

[[nodiscard]] Result<Bytes> aead_open(const SecretBytes& key, ByteView sealed, ByteView associated_data) {
  init();
  if (sealed.size() < kAeadNonceSize + kAeadTagSize) return fail(Errc::damaged, "authentication failed");
  Bytes out(sealed.size() - kAeadNonceSize - kAeadTagSize + 1);  // +1: never a null data()
  if (!open_into(key, sealed, associated_data, out.data())) {
    sodium_memzero(out.data(), out.size());
    return fail(Errc::damaged, "authentication failed");
  }
  out.pop_back();
  return out;
}

[[nodiscard]] Result<SecretBytes> aead_open_secret(const SecretBytes& key, ByteView sealed,
                                     ByteView associated_data) {
  init();
  if (sealed.size() < kAeadNonceSize + kAeadTagSize) return fail(Errc::damaged, "authentication failed");
  SecretBytes out(sealed.size() - kAeadNonceSize - kAeadTagSize);
  if (!open_into(key, sealed, associated_data, out.data())) {
    return fail(Errc::damaged, "authentication failed");
  }
  return out;
}

}  // namespace teduh::crypto
