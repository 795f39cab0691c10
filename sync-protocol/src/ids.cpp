#include "teduh/sync/ids.hpp"

#include <cstdlib>
#include <cstring>

#include <sodium.h>

namespace teduh::sync {

Id128 Id128::random() {
  // sodium_init is idempotent and thread-safe; nothing here is safe without it.
  if (sodium_init() < 0) std::abort();
  Id128 id;
  randombytes_buf(id.bytes.data(), id.bytes.size());
  return id;
}

Id128 Id128::time_ordered(std::uint64_t unix_ms) {
  Id128 id = random();
  for (int i = 0; i < 6; ++i) id.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(unix_ms >> (8 * (5 - i)));
  return id;
}

std::optional<Id128> Id128::from_hex(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // uppercase, whitespace and everything else are refused
  };
  Id128 id;
  for (std::size_t i = 0; i < 16; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.bytes[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return id;
}

std::string Id128::hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
  return out;
}

bool Id128::is_zero() const {
  for (auto b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::size_t Id128Hash::operator()(const Id128& id) const noexcept {
  // Ids are random, so any 8 of their bytes are already a good hash.
  std::uint64_t h = 0;
  std::memcpy(&h, id.bytes.data(), sizeof h);
  return static_cast<std::size_t>(h);
}

}  // namespace teduh::sync
