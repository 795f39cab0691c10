#pragma once
// Small derivations from stored field values, shared by the office report
// (client/src/report.cpp), the server's projection for the central office
// (server/src/projection.cpp) and the workflow, so that every place counts a case the
// same way.
#include <string>
#include <string_view>
#include <vector>

namespace teduh::schema {

// A comma-separated code list ("fisik,psikis") as its codes, empty parts dropped.
std::vector<std::string> split_codes(std::string_view codes);

// Whole years from `birth` (YYYY-MM-DD) to `at` (a date or a datetime that starts with
// one); -1 when either is missing or not a date.
int age_in_years(std::string_view birth, std::string_view at);

// The SIMFONI-PPA age group of a victim at `at`: from the birth date, else from the
// recorded age in years; "tidak_diketahui" when neither is known. Groups: 0-5, 6-12,
// 13-17, 18-24, 25-44, 45-59, 60+.
std::string victim_age_group(std::string_view birth, std::string_view age_years, std::string_view at);

}  // namespace teduh::schema
