#pragma once
// Validation: turns what a person typed into a field's canonical text, or an error
// that names the field (Errc::invalid_value / unknown_field). Nothing is written by
// these functions; callers validate every field before they write any.
#include <string>
#include <string_view>

#include "teduh/schema/dates.hpp"
#include "teduh/schema/entities.hpp"
#include "teduh/schema/error.hpp"

namespace teduh::schema {

// Canonicalises `input` for entity.field. Examples of refusals (message in English,
// naming the field by its name and Indonesian label):
//   "nik (NIK): must be 16 digits, got 15"
//   "forms (Bentuk kekerasan): unknown code 'pukul'; known codes: fisik, psikis, ..."
//   "birth_date (Tanggal lahir): 2026-02-30 is not a real date"
Result<std::string> validate_field(EntityType type, std::string_view field, std::string_view input);
// Same check for a value that claims to be canonical already (received in a commit):
// succeeds only if validate_field(input) == input. Secret fields accept any text.
Result<void> check_canonical(EntityType type, std::string_view field, std::string_view value);

// NIK: 16 digits; digits 1-6 a region code whose province (digits 1-2) is one of
// Dukcapil's (11-19, 21, 31-36, 51-53, 61-65, 71-76, 81-82, 91-96), digits 7-12 the birth
// date as DDMMYY with 40 added to DD for women, digits 13-16 a serial not 0000.
// Spaces, dots and hyphens between digit groups are dropped.
Result<std::string> validate_nik(std::string_view input);
using dates::is_real_date;
// YYYY-MM-DD out; what dates::parse_date accepts in (DD-MM-YYYY and DD/MM/YYYY too; years
// 1900..2199).
Result<std::string> validate_date(std::string_view input);
// Datetimes (dates::parse_datetime) without a zone are taken as UTC; callers holding local
// time add the office's zone (WIB, WITA, WIT or +07:00) first. See SCHEMA.md "Dates".

}  // namespace teduh::schema
