#pragma once
// 128-bit identifiers: devices and entities.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace teduh::sync {

struct Id128 {
  std::array<std::uint8_t, 16> bytes{};
  static Id128 random();
  // An entity id whose first 6 bytes are the creation time in milliseconds since the Unix
  // epoch (big-endian) and whose other 10 bytes are random (PROTOCOL.md section 1): ids
  // made one after another sort together, so the stores' B-trees grow at their right
  // edge instead of touching a random page per insert.
  static Id128 time_ordered(std::uint64_t unix_ms);
  // 32 lowercase hex digits; nullopt for anything else.
  static std::optional<Id128> from_hex(std::string_view hex);
  [[nodiscard]] std::string hex() const;
  [[nodiscard]] bool is_zero() const;
  auto operator<=>(const Id128&) const = default;
};

using DeviceId = Id128;
using EntityId = Id128;

struct Id128Hash {
  std::size_t operator()(const Id128& id) const noexcept;
};

}  // namespace teduh::sync
