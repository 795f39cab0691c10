#include "teduh/schema/identity_match.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "teduh/schema/utf8.hpp"

namespace teduh::schema {
namespace {

bool is_apostrophe(std::uint32_t cp) {
  return cp == '\'' || cp == '`' || cp == 0x2018 || cp == 0x2019 || cp == 0x02BC;
}

bool is_letter(std::uint32_t cp) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

std::string reduce_word(std::string w) {
  // Old (pre-1972 EYD) spellings still found in names, longest first.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kSpelling = {{
      {"oe", "u"}, {"dj", "j"}, {"tj", "c"}, {"sj", "sy"}, {"nj", "ny"}, {"ch", "kh"},
  }};
  for (const auto& [from, to] : kSpelling) {
    std::string out;
    out.reserve(w.size());
    for (std::size_t i = 0; i < w.size();) {
      if (w.compare(i, from.size(), from) == 0) {
        out += to;
        i += from.size();
      } else {
        out += w[i++];
      }
    }
    w = std::move(out);
  }
  // Doubled letters: "muhammad" and "muhamad", "anna" and "ana" (by code point: a letter
  // outside ASCII is several bytes).
  std::string single;
  std::uint32_t previous = 0;
  for (std::size_t i = 0; i < w.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = std::max<std::size_t>(utf8_sequence(w, i, cp), 1);
    if (i == 0 || cp != previous) single.append(w, i, len);
    previous = cp;
    i += len;
  }
  w = std::move(single);
  return w;
}

}  // namespace

std::string normalize_nik(std::string_view nik) {
  std::string digits;
  for (char c : nik) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != ' ' && c != '.' && c != '-') {
      return {};
    }
  }
  return digits.size() == 16 ? digits : std::string();
}

std::string normalize_name(std::string_view name) {
  // Accents, case and compatibility forms first, with the project's one folding
  // (utf8.hpp): "Wéntèn" in NFC or NFD and "WENTEN" are one word.
  const std::string folded = fold_for_matching(name);
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(reduce_word(std::move(current)));
    current.clear();
  };
  for (std::size_t i = 0; i < folded.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(folded, i, cp);
    if (len == 0) break;  // utf8proc writes well-formed UTF-8; never taken
    if (is_apostrophe(cp)) {
      // Ma'ruf and Maruf
    } else if (is_letter(cp)) {
      current.append(folded, i, len);
    } else {
      flush();
    }
    i += len;
  }
  flush();
  std::sort(words.begin(), words.end());
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

std::string name_birth_key(std::string_view name, std::string_view birth_date) {
  std::string key = normalize_name(name);
  if (key.empty() || birth_date.empty()) return {};
  key += '|';
  key += birth_date;
  return key;
}

}  // namespace teduh::schema
