#pragma once
// The one UTF-8 check of the project (RFC 3629: no overlong forms, no surrogates, nothing
// past U+10FFFF). Used by the schema's text validation and by every sync codec. And the
// project's two Unicode normal forms (utf8proc, Unicode 15): NFC for what is stored and
// shown, a folded form for matching one person's name written two ways.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace teduh::schema {

// Length in bytes of the UTF-8 sequence at s[i] (i < s.size()), with its code point in
// `cp`; 0 when the bytes there are not well-formed UTF-8.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp);

// Whether all of `s` is well-formed UTF-8.
bool is_utf8(std::string_view s);

// How many characters (code points) well-formed UTF-8 text holds: what a field's length
// limit counts. After NFC an accented letter ("\u00e9") is one.
std::size_t utf8_length(std::string_view s);

// `s` in Normalization Form C: "We\u0301nte\u0300n" (decomposed, as some keyboards and
// phones send it) and "W\u00e9nt\u00e8n" become the same bytes. Text that is not
// well-formed UTF-8 is returned unchanged (validation refuses it elsewhere).
[[nodiscard]] std::string to_nfc(std::string_view s);

// `s` for matching, never for showing: compatibility decomposition (NFKD), combining marks
// removed, case folded. "Ayu W\u00e9nt\u00e8n", "AYU WENTEN" and the decomposed spelling all give
// "ayu wenten"; the ligature "\ufb01" gives "fi". "" for text that is not well-formed UTF-8.
[[nodiscard]] std::string fold_for_matching(std::string_view s);

}  // namespace teduh::schema
