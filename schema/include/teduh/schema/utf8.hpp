#pragma once
// The one UTF-8 check of the project (RFC 3629: no overlong forms, no surrogates, nothing
// past U+10FFFF). Used by the schema's text validation and by every sync codec.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace teduh::schema {

// Length in bytes of the UTF-8 sequence at s[i] (i < s.size()), with its code point in
// `cp`; 0 when the bytes there are not well-formed UTF-8.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp);

// Whether all of `s` is well-formed UTF-8.
bool is_utf8(std::string_view s);

}  // namespace teduh::schema
