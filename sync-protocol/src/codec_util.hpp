#pragma once
// The one msgpack reader and the one msgpack writer of this library, shared by every
// codec in it (wire messages, commit bodies, enrollment codes). Internal: not installed,
// not part of the public contract. WIRE.md section 4 and PROTOCOL.md "Commit body" say
// what they accept.
//
// Writing uses msgpack-c's packer, which always writes the smallest form. Reading does
// not use msgpack-c's unpacker: that one allocates a msgpack::object (24 bytes) for every
// element an array header claims, so 16 MiB of nested one-byte arrays would cost some
// 400 MB, and it throws. Reader is a pull reader over the bytes: it allocates nothing,
// never throws, accepts only the canonical (smallest) form of every item and only the
// msgpack types the formats use (positive integers, booleans, str, bin, arrays, maps).
// With it, "decodes" implies "re-encodes to the same bytes" without re-encoding.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "teduh/schema/utf8.hpp"
#include "teduh/sync/ids.hpp"

namespace teduh::sync::detail {

using teduh::schema::is_utf8;

// A schema name (entity type, field, scope type): 1..kMaxNameBytes of [a-z0-9_],
// not starting with a digit.
inline constexpr std::size_t kMaxNameBytes = 64;
bool is_name(std::string_view s);

// ---------------------------------------------------------------------------------------
// Reading. Every method consumes one item and returns nullopt when the next item is not
// of the type asked for, not in its smallest form, or runs past the end; after a nullopt
// the reader's position is unspecified and the caller gives up.

class Reader {
 public:
  using View = std::span<const std::uint8_t>;

  explicit Reader(View in) : in_(in) {}

  [[nodiscard]] bool at_end() const { return in_.empty(); }

  std::optional<std::uint64_t> uint() {
    auto tag = byte();
    if (!tag) return std::nullopt;
    if (*tag <= 0x7f) return *tag;
    std::optional<std::uint64_t> v;
    std::uint64_t min = 0;
    switch (*tag) {
      case 0xcc: v = big_endian(1); min = 0x80; break;
      case 0xcd: v = big_endian(2); min = 0x100; break;
      case 0xce: v = big_endian(4); min = 0x10000; break;
      case 0xcf: v = big_endian(8); min = 0x100000000ull; break;
      default: return std::nullopt;
    }
    if (!v || *v < min) return std::nullopt;  // not the smallest form
    return v;
  }

  std::optional<bool> boolean() {
    auto tag = byte();
    if (tag == 0xc2) return false;
    if (tag == 0xc3) return true;
    return std::nullopt;
  }

  // The number of elements of an array.
  std::optional<std::size_t> array() {
    auto tag = byte();
    if (!tag) return std::nullopt;
    if ((*tag & 0xf0) == 0x90) return std::size_t{*tag & 0x0fu};
    return container(*tag, 0xdc, 1);
  }

  // The number of key-value pairs of a map.
  std::optional<std::size_t> map() {
    auto tag = byte();
    if (!tag) return std::nullopt;
    if ((*tag & 0xf0) == 0x80) return std::size_t{*tag & 0x0fu};
    return container(*tag, 0xde, 2);
  }

  // A str of at most max_bytes (not checked for UTF-8: see text()).
  std::optional<std::string_view> str(std::size_t max_bytes = SIZE_MAX) {
    auto tag = byte();
    if (!tag) return std::nullopt;
    std::optional<std::uint64_t> n;
    if ((*tag & 0xe0) == 0xa0) n = *tag & 0x1fu;
    else if (*tag == 0xd9) n = checked_length(1, 32);
    else if (*tag == 0xda) n = checked_length(2, 0x100);
    else if (*tag == 0xdb) n = checked_length(4, 0x10000);
    if (!n || *n > max_bytes) return std::nullopt;
    auto body = take(*n);
    if (!body) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(body->data()), body->size());
  }

  // A str of at most max_bytes of well-formed UTF-8.
  std::optional<std::string_view> text(std::size_t max_bytes) {
    auto s = str(max_bytes);
    if (!s || !is_utf8(*s)) return std::nullopt;
    return s;
  }

  std::optional<View> bin(std::size_t max_bytes = SIZE_MAX) {
    auto tag = byte();
    std::optional<std::uint64_t> n;
    if (tag == 0xc4) n = checked_length(1, 0);
    else if (tag == 0xc5) n = checked_length(2, 0x100);
    else if (tag == 0xc6) n = checked_length(4, 0x10000);
    if (!n || *n > max_bytes) return std::nullopt;
    return take(*n);
  }

  // A bin of exactly N bytes.
  template <std::size_t N>
  std::optional<std::array<std::uint8_t, N>> fixed() {
    auto b = bin(N);
    if (!b || b->size() != N) return std::nullopt;
    std::array<std::uint8_t, N> out{};
    std::copy(b->begin(), b->end(), out.begin());
    return out;
  }

  std::optional<Id128> id() {
    auto b = fixed<16>();
    if (!b) return std::nullopt;
    Id128 out;
    out.bytes = *b;
    return out;
  }

 private:
  std::optional<std::uint8_t> byte() {
    if (in_.empty()) return std::nullopt;
    const std::uint8_t b = in_[0];
    in_ = in_.subspan(1);
    return b;
  }
  std::optional<std::uint64_t> big_endian(std::size_t n) {
    if (in_.size() < n) return std::nullopt;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | in_[i];
    in_ = in_.subspan(n);
    return v;
  }
  std::optional<std::uint64_t> checked_length(std::size_t width, std::uint64_t min) {
    auto n = big_endian(width);
    if (!n || *n < min) return std::nullopt;
    return n;
  }
  // array 16/32 (tag16 = 0xdc) or map 16/32 (0xde); `items` per element (2 for a map).
  std::optional<std::size_t> container(std::uint8_t tag, std::uint8_t tag16, std::uint64_t items) {
    std::optional<std::uint64_t> n;
    std::uint64_t min = 0;
    if (tag == tag16) { n = big_endian(2); min = 16; }
    else if (tag == tag16 + 1) { n = big_endian(4); min = 0x10000; }
    if (!n || *n < min) return std::nullopt;
    // Every item takes at least one byte: a count beyond what is left is a lie.
    if (*n > in_.size() / items) return std::nullopt;
    return static_cast<std::size_t>(*n);
  }
  std::optional<View> take(std::uint64_t n) {
    if (n > in_.size()) return std::nullopt;
    View out = in_.first(static_cast<std::size_t>(n));
    in_ = in_.subspan(static_cast<std::size_t>(n));
    return out;
  }

  View in_;
};

// ---------------------------------------------------------------------------------------
// Writing: msgpack-c's packer (smallest forms) and these helpers for the types above.

using Packer = msgpack::packer<msgpack::sbuffer>;

inline void pack_bytes(Packer& pk, std::span<const std::uint8_t> b) {
  pk.pack_bin(static_cast<std::uint32_t>(b.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<std::uint32_t>(b.size()));
}

inline void pack_id(Packer& pk, const Id128& id) { pack_bytes(pk, id.bytes); }

inline void pack_string(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

inline void pack_bool(Packer& pk, bool b) {
  if (b) pk.pack_true();
  else pk.pack_false();
}

inline std::vector<std::uint8_t> to_bytes(const msgpack::sbuffer& buf) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(buf.data());
  return {p, p + buf.size()};
}

}  // namespace teduh::sync::detail
