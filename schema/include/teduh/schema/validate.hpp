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
[[nodiscard]] Result<std::string> validate_field(EntityType type, std::string_view field, std::string_view input);
// The same for what a person typed in an office: a datetime written without a zone is at
// `zone_when_absent` (dates::utc_offset of the office's zona_waktu), as SCHEMA.md "Dates".
[[nodiscard]] Result<std::string> validate_field(EntityType type, std::string_view field, std::string_view input,
                                   std::chrono::minutes zone_when_absent);

// Fields that record what has already happened: a case's received_at, incident_date and
// police_report_requested_at, a person's birth_date, a service's date.
bool records_the_past(EntityType type, std::string_view field);
// Clocks of an office's devices differ by a few minutes: a time up to this much after now
// is not "in the future".
inline constexpr std::chrono::minutes kClockTolerance{5};
// Refuses a canonical value (validate_field's output) of such a field that is later than
// `now` (plus kClockTolerance): a date after the office's today, a time after now. The
// sentence is Indonesian and names the field, e.g. "tanggal lahir (birth_date) tidak boleh
// di masa depan: 2099-01-01" (a time is shown in `zone`). Other fields and empty values
// pass. Typed input only: commits from other devices are not checked against this clock.
[[nodiscard]] Result<void> check_not_future(EntityType type, std::string_view field, std::string_view value,
                              dates::Instant now, dates::Zone zone);
// Same check for a value that claims to be canonical already (received in a commit):
// succeeds only if validate_field(input) == input. Secret fields accept any text.
[[nodiscard]] Result<void> check_canonical(EntityType type, std::string_view field, std::string_view value);

// NIK: 16 digits; digits 1-6 a region code whose province (digits 1-2) is one of
// Dukcapil's (11-19, 21, 31-36, 51-53, 61-65, 71-76, 81-82, 91-96), digits 7-12 the birth
// date as DDMMYY with 40 added to DD for women, digits 13-16 a serial not 0000.
// Spaces, dots and hyphens between digit groups are dropped.
[[nodiscard]] Result<std::string> validate_nik(std::string_view input);
using dates::is_real_date;
// YYYY-MM-DD out; what dates::parse_date accepts in (DD-MM-YYYY and DD/MM/YYYY too; years
// 1900..2199).
[[nodiscard]] Result<std::string> validate_date(std::string_view input);
// Datetimes (dates::parse_datetime) without a zone are taken as UTC by the three-argument
// validate_field and by check_canonical; what a person typed goes through the four-argument
// validate_field with the office's zone. See SCHEMA.md "Dates".

}  // namespace teduh::schema
