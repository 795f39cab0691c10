#include "teduh/schema/region.hpp"

#include <algorithm>
#include <array>

namespace teduh::schema {
namespace {

// Digits of each level of the hierarchy, and the digits each level adds to its parent.
constexpr std::array<std::size_t, 4> kLevelDigits = {2, 4, 7, 10};
constexpr std::array<std::size_t, 4> kSegmentDigits = {2, 2, 3, 3};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string refusal(std::string_view input, std::string_view why) {
  return "Kode wilayah '" + std::string(input) + "' tidak dapat dipakai: " + std::string(why) +
         ". Kode wilayah BPS terdiri atas 2 angka (provinsi, mis. 32), 4 angka (kabupaten/kota, "
         "mis. 3276), 7 angka (kecamatan, mis. 3276010) atau 10 angka (desa/kelurahan, mis. "
         "3276010001); titik boleh dipakai di antara tingkat (32.76.010).";
}

}  // namespace

bool is_province_code(int code) {
  return (code >= 11 && code <= 19) || code == 21 || (code >= 31 && code <= 36) ||
         (code >= 51 && code <= 53) || (code >= 61 && code <= 65) || (code >= 71 && code <= 76) ||
         (code >= 81 && code <= 82) || (code >= 91 && code <= 96);
}

Result<std::string> normalize_region(std::string_view input) {
  if (input.empty()) return std::string();
  std::string digits;
  bool dotted = false;
  for (char c : input) {
    if (c == '.') {
      dotted = true;
    } else if (is_digit(c)) {
      digits += c;
    } else {
      return fail(Errc::invalid_value, refusal(input, "hanya angka dan titik yang boleh dipakai"));
    }
  }
  const auto level = std::find(kLevelDigits.begin(), kLevelDigits.end(), digits.size());
  if (level == kLevelDigits.end()) {
    return fail(Errc::invalid_value,
                refusal(input, "kode ini memiliki " + std::to_string(digits.size()) + " angka"));
  }
  if (dotted) {
    // The dots must fall between the levels: "32.76.010", not "327.6".
    std::size_t segment = 0;
    std::size_t run = 0;
    for (std::size_t i = 0; i <= input.size(); ++i) {
      if (i < input.size() && input[i] != '.') {
        ++run;
        continue;
      }
      if (segment >= kSegmentDigits.size() || run != kSegmentDigits.at(segment)) {
        return fail(Errc::invalid_value, refusal(input, "titik hanya boleh berada di antara tingkat wilayah"));
      }
      ++segment;
      run = 0;
    }
  }
  const int province = (digits[0] - '0') * 10 + (digits[1] - '0');
  if (!is_province_code(province)) {
    return fail(Errc::invalid_value,
                refusal(input, "dua angka pertama (" + digits.substr(0, 2) + ") bukan kode provinsi"));
  }
  return digits;
}

std::string region_digits(std::string_view stored) {
  const bool digits_and_dots =
      std::all_of(stored.begin(), stored.end(), [](char c) { return is_digit(c) || c == '.'; });
  if (!digits_and_dots) return std::string(stored);
  std::string out;
  for (char c : stored) {
    if (c != '.') out += c;
  }
  return out;
}

bool region_within(std::string_view stored, std::string_view wanted) {
  if (wanted.empty()) return true;
  const std::string region = region_digits(stored);
  return region.size() >= wanted.size() && region.compare(0, wanted.size(), wanted) == 0;
}

}  // namespace teduh::schema
