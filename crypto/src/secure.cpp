// Locked key buffers, constant-time comparison and encodings on libsodium.
#include "teduh/crypto/secure.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace teduh::crypto {

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Without a working CSPRNG and primitives nothing in Teduh is safe: stop here.
    if (sodium_init() < 0) std::abort();
  });
}

SecretBytes::SecretBytes(std::size_t n) : size_(n) {
  init();
  // sodium_malloc(0) is allowed but gives a guarded region we never touch; keep it
  // anyway so data() is never null for a constructed buffer.
  data_ = static_cast<std::uint8_t*>(sodium_malloc(n == 0 ? 1 : n));
  if (data_ == nullptr) std::abort();
  sodium_memzero(data_, n == 0 ? 1 : n);
}

SecretBytes SecretBytes::random(std::size_t n) {
  SecretBytes s(n);
  randombytes_buf(s.data_, n);
  return s;
}

SecretBytes SecretBytes::copy_of(ByteView bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data_, bytes.data(), bytes.size());
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  if (data_ != nullptr) sodium_free(data_);  // wipes before release
}

bool equal_ct(ByteView a, ByteView b) {
  init();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Bytes random_bytes(std::size_t n) {
  init();
  Bytes out(n);
  if (n != 0) randombytes_buf(out.data(), n);
  return out;
}

std::string to_hex(ByteView bytes) {
  init();
  if (bytes.empty()) return {};
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.resize(bytes.size() * 2);
  return out;
}

[[nodiscard]] Result<Bytes> from_hex(std::string_view hex) {
  init();
  if (hex.size() % 2 != 0) return fail(Errc::bad_input, "hex text has an odd length");
  if (hex.empty()) return Bytes{};  // libsodium's buffers must not be null
  Bytes out(hex.size() / 2);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, &end) != 0 ||
      end != hex.data() + hex.size() || len != out.size()) {
    return fail(Errc::bad_input, "text is not valid hex");
  }
  return out;
}

namespace {
constexpr int kB64Variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

std::string to_base64url(ByteView bytes) {
  init();
  if (bytes.empty()) return {};
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kB64Variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), kB64Variant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

[[nodiscard]] Result<Bytes> from_base64url(std::string_view text) {
  init();
  if (text.empty()) return Bytes{};
  Bytes out(text.size() * 3 / 4 + 1);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        kB64Variant) != 0 ||
      end != text.data() + text.size()) {
    return fail(Errc::bad_input, "text is not valid unpadded URL-safe base64");
  }
  out.resize(len);
  return out;
}

Bytes blake2b(ByteView message, std::size_t out_len, ByteView key) {
  init();
  // Sizes outside libsodium's bounds are programming errors, not input errors.
  if (out_len < crypto_generichash_BYTES_MIN || out_len > crypto_generichash_BYTES_MAX) std::abort();
  if (!key.empty() &&
      (key.size() < crypto_generichash_KEYBYTES_MIN || key.size() > crypto_generichash_KEYBYTES_MAX)) {
    std::abort();
  }
  Bytes out(out_len);
  crypto_generichash(out.data(), out.size(), message.data(), message.size(),
                     key.empty() ? nullptr : key.data(), key.size());
  return out;
}

}  // namespace teduh::crypto
