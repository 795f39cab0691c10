#include "teduh/schema/identity_match.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace teduh::schema {
namespace {

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
  // Doubled letters: "muhammad" and "muhamad", "anna" and "ana".
  w.erase(std::unique(w.begin(), w.end()), w.end());
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
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(reduce_word(std::move(current)));
    current.clear();
  };
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      current += static_cast<char>(c - 'A' + 'a');
    } else if (c >= 'a' && c <= 'z') {
      current += c;
    } else if (c == '\'' || c == '`') {
      continue;  // Ma'ruf and Maruf
    } else {
      flush();
    }
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

}  // namespace teduh::schema
