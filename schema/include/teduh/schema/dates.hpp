#pragma once
// Dates and times, in one place (SCHEMA.md "Dates"). Everything that reads, checks, shows
// or counts a date calls these functions; nothing else in the tree parses one.
//
// Two kinds of text come in:
//   * typed by a person (parse_date, parse_datetime, parse_date_or_datetime): the forms
//     an Indonesian office writes, checked strictly (a real calendar day, a real time, a
//     year in kMinYear..kMaxYear), with a sentence saying what is wrong;
//   * stored in canonical form (parse_iso_date, parse_utc): exactly what format_iso and
//     format_utc write, nothing looser; nullopt otherwise.
// Instants are UTC with millisecond resolution (the clock of sync::system_now_ms);
// canonical text keeps whole seconds. An office's zone is one of Indonesia's three fixed
// offsets (WIB +7, WITA +8, WIT +9; no daylight saving), which is all an office needs and
// all libstdc++ 12 offers without a time zone database.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "teduh/schema/error.hpp"

namespace teduh::schema::dates {

using Date = std::chrono::year_month_day;
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

// Years accepted in typed dates and datetimes. Nobody alive was born before 1900, and a
// year past 2199 is a typing slip.
inline constexpr int kMinYear = 1900;
inline constexpr int kMaxYear = 2199;

// True when year-month-day is a day of the proleptic Gregorian calendar (years 1..9999).
bool is_real_date(int year, int month, int day);

// ---------------------------------------------------------------------------------------
// Typed by a person. Refusals are Errc::invalid_value with a sentence that repeats the
// text (dates are not personal data) and says how to write it; the caller adds the field.

// YYYY-MM-DD, or the Indonesian order DD-MM-YYYY or DD/MM/YYYY; day and month may have one
// digit, and the four-digit year tells the orders apart. No surrounding spaces.
[[nodiscard]] Result<Date> parse_date(std::string_view text);
// A date as parse_date takes it, then 'T', 't' or a space, HH:MM or HH:MM:SS, then an
// optional zone (parse_zone; spaces before it allowed). Without a zone the time is at
// `zone_when_absent` east of UTC. Fractions of a second are refused. The instant, moved to
// UTC, must still fall in kMinYear..kMaxYear.
[[nodiscard]] Result<Instant> parse_datetime(std::string_view text,
                                             std::chrono::minutes zone_when_absent);
// A date alone is the start of that day at `zone`; anything else is parse_datetime with
// `zone` for a time written without one.
[[nodiscard]] Result<Instant> parse_date_or_datetime(std::string_view text,
                                                     std::chrono::minutes zone);
// Z, UTC (any case) or nothing: 0. WIB, WITA, WIT (any case): +7, +8, +9 hours.
// +HH:MM, +HHMM, +HH or the same with '-', up to 14:59. nullopt for anything else.
// Spaces around it are ignored.
std::optional<std::chrono::minutes> parse_zone(std::string_view text);

// ---------------------------------------------------------------------------------------
// Canonical text, as stored.

// Exactly YYYY-MM-DD naming a real day; nullopt otherwise.
std::optional<Date> parse_iso_date(std::string_view text);
// Exactly YYYY-MM-DDTHH:MM:SSZ, or YYYY-MM-DD (its 00:00:00Z); nullopt otherwise.
std::optional<Instant> parse_utc(std::string_view text);
// YYYY-MM-DD (the year with at least four digits).
std::string format_iso(Date date);
// YYYY-MM-DDTHH:MM:SSZ; milliseconds are dropped (rounded towards the past).
std::string format_utc(Instant at);

// Milliseconds since 1970-01-01T00:00:00Z, as the sync layer counts time.
Instant from_unix_ms(std::int64_t ms);
std::int64_t unix_ms(Instant at);

// ---------------------------------------------------------------------------------------
// The office's zone (setting zona_waktu).

enum class Zone { wib, wita, wit };

// "WIB", "WITA" or "WIT", exactly as the setting is written; nullopt otherwise.
std::optional<Zone> zone_named(std::string_view name);
std::string_view zone_name(Zone zone);
std::chrono::minutes utc_offset(Zone zone);

// The calendar day of `at` in the office's zone; today is local_date(now, zone).
Date local_date(Instant at, Zone zone);
// The instant of a wall-clock time of day on `date` in the office's zone.
Instant local_time(Date date, std::chrono::seconds time_of_day, Zone zone);
// "YYYY-MM-DD HH:MM WIB": an instant as an office reads it.
std::string format_local(Instant at, Zone zone);

// ---------------------------------------------------------------------------------------
// Counting days.

// Saturday or Sunday.
bool is_weekend(Date date);
// The `n`-th working day after `date` (n >= 1): Monday to Friday, skipping `holidays`.
// n = 0 is `date` itself, whatever day it is.
Date add_working_days(Date date, int n, std::span<const Date> holidays = {});
// Whole years from `birth` to `at` (one more on each birthday; a birthday on 29 February
// comes on 1 March in other years). Negative when `at` is before `birth`.
int age_in_years(Date birth, Date at);

}  // namespace teduh::schema::dates
