#include "teduh/schema/facts.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

#include "teduh/schema/codes.hpp"
#include "teduh/schema/dates.hpp"

namespace teduh::schema {
namespace {

// The number in text[pos, pos + len), or -1.
int number_at(std::string_view text, std::size_t pos, std::size_t len) {
  int value = 0;
  const char* first = text.data() + pos;
  auto [end, ec] = std::from_chars(first, first + len, value);
  return ec == std::errc() && end == first + len ? value : -1;
}

}  // namespace

std::vector<std::string> split_codes(std::string_view codes) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < codes.size()) {
    auto comma = codes.find(',', start);
    if (comma == std::string_view::npos) comma = codes.size();
    if (comma > start) out.emplace_back(codes.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string codes_label(std::string_view set, std::string_view codes) {
  std::string out;
  const CodeSet* cs = find_code_set(set);
  for (const std::string& code : split_codes(codes)) {
    auto l = cs ? cs->label(code) : std::nullopt;
    out += (out.empty() ? "" : ", ") + (l ? std::string(*l) : code);
  }
  return out;
}

int age_in_years(std::string_view birth, std::string_view at) {
  const auto born = dates::parse_iso_date(birth);
  const auto day = dates::parse_iso_date(at.substr(0, std::min<std::size_t>(at.size(), 10)));
  if (!born || !day) return -1;
  return dates::age_in_years(*born, *day);
}

bool counts_as_response(std::string_view service_kind) {
  static constexpr std::string_view kResponses[] = {
      "penjangkauan", "asesmen_awal", "konseling",       "pendampingan_hukum", "mediasi",
      "kesehatan_visum", "kunjungan_rumah", "klarifikasi", "rumah_aman",         "diversi",
  };
  return std::find(std::begin(kResponses), std::end(kResponses), service_kind) != std::end(kResponses);
}

int person_age(std::string_view birth, std::string_view age_years, std::string_view at) {
  int age = age_in_years(birth, at);
  if (age < 0 && !age_years.empty()) age = number_at(age_years, 0, age_years.size());
  return age;
}

std::string victim_age_group(std::string_view birth, std::string_view age_years, std::string_view at) {
  const int age = person_age(birth, age_years, at);
  if (age < 0) return "tidak_diketahui";
  if (age <= 5) return "0-5";
  if (age <= 12) return "6-12";
  if (age <= 17) return "13-17";
  if (age <= 24) return "18-24";
  if (age <= 44) return "25-44";
  if (age <= 59) return "45-59";
  return "60+";
}

}  // namespace teduh::schema
