#pragma once
// Normal forms for finding the same victim recorded twice (issue "the same victim in two
// offices", DESIGN.md section 4). The server hashes these with a key the central office
// never holds; the central office compares hashes, never NIK or names.
#include <string>
#include <string_view>

namespace teduh::schema {

// The 16 digits of a NIK, with spaces, dots and dashes removed; "" unless exactly 16
// digits remain.
std::string normalize_nik(std::string_view nik);

// A name in a form that survives the usual variations of writing one Indonesian name:
// accents and how they are encoded (NFC or NFD: "Wéntèn" and "Wenten"), case, compatibility
// forms (fold_for_matching in utf8.hpp), apostrophes, punctuation and spacing; the old spelling (oe -> u, dj -> j, tj -> c, sj -> sy,
// nj -> ny, ch -> kh); doubled letters (Muhammad / Muhamad); the order of the words.
// Words are reduced separately, then sorted and joined with one space. "" for a name
// with no letters.
std::string normalize_name(std::string_view name);

// The second match key of a victim (the first is the NIK): normalize_name(name), "|", the
// birth date (YYYY-MM-DD); "" unless both are known. The same key serves the duplicate list
// of an office, the warning at intake and, hashed, the central office's projections.
std::string name_birth_key(std::string_view name, std::string_view birth_date);

}  // namespace teduh::schema
