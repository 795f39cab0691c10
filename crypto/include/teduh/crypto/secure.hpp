#pragma once
// Key material in locked, wiped memory, and the small primitives around it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/crypto/error.hpp"

namespace teduh::crypto {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Initialises libsodium once; aborts the process if the library cannot start
// (nothing in Teduh is safe without it). Safe to call many times and from any thread.
void init();

// A buffer from sodium_malloc: guarded, mlock'ed where the OS allows, and wiped
// (sodium_free) when destroyed. Move-only. size() may be 0 for an empty key.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t n);  // zero-filled; aborts on allocation failure
  static SecretBytes random(std::size_t n);
  static SecretBytes copy_of(ByteView bytes);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  std::uint8_t* data() { return data_; }
  [[nodiscard]] const std::uint8_t* data() const { return data_; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] ByteView view() const { return {data_, size_}; }
  [[nodiscard]] SecretBytes clone() const { return copy_of(view()); }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Constant-time comparison of two equal-length buffers (false when lengths differ).
bool equal_ct(ByteView a, ByteView b);

Bytes random_bytes(std::size_t n);

std::string to_hex(ByteView bytes);
[[nodiscard]] Result<Bytes> from_hex(std::string_view hex);
// URL-safe base64 without padding (sodium_base64_VARIANT_URLSAFE_NO_PADDING).
std::string to_base64url(ByteView bytes);
[[nodiscard]] Result<Bytes> from_base64url(std::string_view text);

// BLAKE2b, unkeyed or keyed (key of 16..64 bytes), output 16..64 bytes.
Bytes blake2b(ByteView message, std::size_t out_len = 32, ByteView key = {});

}  // namespace teduh::crypto
