#pragma once
// ASCII helpers shared by validate.cpp and dates.cpp (private to the schema library):
// typed values are checked byte by byte, whatever the process's locale.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <string_view>

namespace teduh::schema::ascii {

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower(x) == to_lower(y);
         });
}

// `s` without ASCII whitespace at either end.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// 1..max_digits decimal digits as a number; -1 otherwise.
inline int small_number(std::string_view s, std::size_t max_digits = 9) {
  if (!all_digits(s) || s.size() > max_digits) return -1;
  int value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  return value;
}

}  // namespace teduh::schema::ascii
