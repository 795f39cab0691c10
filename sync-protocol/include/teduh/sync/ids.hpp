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
  // 32 lowercase hex digits; nullopt for anything else.
  static std::optional<Id128> from_hex(std::string_view hex);
  std::string hex() const;
  bool is_zero() const;
  auto operator<=>(const Id128&) const = default;
};

using DeviceId = Id128;
using EntityId = Id128;

struct Id128Hash {
  std::size_t operator()(const Id128& id) const noexcept;
};

}  // namespace teduh::sync
