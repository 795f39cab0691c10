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

// A code list ("fisik,psikis") as people read it: each code's label in `set`
// ("Kekerasan fisik, Kekerasan psikis"), a code without one as itself; "" for none.
std::string codes_label(std::string_view set, std::string_view codes);

// Whole years from `birth` (YYYY-MM-DD) to `at` (a date or a datetime that starts with
// one); -1 when either is missing or not a date.
int age_in_years(std::string_view birth, std::string_view at);

// Whether a service of this kind (jenis_layanan) answers the complaint, for the response
// deadline (SCHEMA.md section 3, "jenis_layanan"): the work of an office with the victim or
// on the case (outreach, assessment, counselling, legal aid, mediation, health care, a home
// visit, clarification, a shelter, diversion). The complaint itself (pengaduan) is not, nor
// are the services that come after handling (return home, social rehabilitation and
// reintegration, economic empowerment): recorded at intake (a register row, the intake
// form) they say nothing about whether the complaint was answered. Unknown kinds are not.
bool counts_as_response(std::string_view service_kind);

// A person's age in whole years at `at` (a date or a datetime): from the birth date, else
// from the recorded age in years; -1 when neither is known.
int person_age(std::string_view birth, std::string_view age_years, std::string_view at);

// The SIMFONI-PPA age group of a victim at `at`: from the birth date, else from the
// recorded age in years; "tidak_diketahui" when neither is known. Groups: 0-5, 6-12,
// 13-17, 18-24, 25-44, 45-59, 60+.
std::string victim_age_group(std::string_view birth, std::string_view age_years, std::string_view at);

}  // namespace teduh::schema
