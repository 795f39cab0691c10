#pragma once
// Helpers shared by the msgpack codecs of this library (commit bodies, enrollment codes).
// Internal: not installed, not part of the public contract.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "teduh/sync/ids.hpp"

namespace teduh::sync::detail {

using Packer = msgpack::packer<msgpack::sbuffer>;

// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
bool is_utf8(std::string_view s);

// A schema name (entity type, field, scope type): 1..kMaxNameBytes of [a-z0-9_],
// not starting with a digit.
inline constexpr std::size_t kMaxNameBytes = 64;
bool is_name(std::string_view s);

inline void pack_id(Packer& pk, const Id128& id) {
  pk.pack_bin(static_cast<std::uint32_t>(id.bytes.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(id.bytes.data()),
                   static_cast<std::uint32_t>(id.bytes.size()));
}

inline void pack_string(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

inline std::vector<std::uint8_t> to_bytes(const msgpack::sbuffer& buf) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(buf.data());
  return {p, p + buf.size()};
}

// Readers: nullopt when the object is not of the expected msgpack type.
inline std::optional<std::uint64_t> read_uint(const msgpack::object& o) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return std::nullopt;
  return o.via.u64;
}

inline std::optional<Id128> read_id(const msgpack::object& o) {
  if (o.type != msgpack::type::BIN || o.via.bin.size != 16) return std::nullopt;
  Id128 id;
  for (std::size_t i = 0; i < 16; ++i) id.bytes[i] = static_cast<std::uint8_t>(o.via.bin.ptr[i]);
  return id;
}

inline std::optional<std::string> read_str(const msgpack::object& o) {
  if (o.type != msgpack::type::STR) return std::nullopt;
  return std::string(o.via.str.ptr, o.via.str.size);
}

inline std::optional<bool> read_bool(const msgpack::object& o) {
  if (o.type != msgpack::type::BOOLEAN) return std::nullopt;
  return o.via.boolean;
}

inline std::span<const msgpack::object> read_array(const msgpack::object& o) {
  if (o.type != msgpack::type::ARRAY) return {};
  return {o.via.array.ptr, o.via.array.size};
}

}  // namespace teduh::sync::detail
