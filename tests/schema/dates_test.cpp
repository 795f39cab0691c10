// The one date module (schema/dates.hpp): typed and canonical forms, zones, working days.
#include "teduh/schema/dates.hpp"

#include <gtest/gtest.h>

#include <array>

namespace teduh::schema::dates {
namespace {

using namespace std::chrono_literals;
using std::chrono::December;

constexpr Date ymd(int y, unsigned m, unsigned d) {
  return Date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
}

Instant utc(std::string_view text) { return *parse_utc(text); }

// is_real_date's own cases are in validate_test.cpp (Validate.LeapYears...).
TEST(Dates, LeapYearsFollowTheGregorianRuleInEveryForm) {
  EXPECT_EQ(*parse_date("29-02-2024"), ymd(2024, 2, 29));
  EXPECT_EQ(*parse_date("29/2/2000"), ymd(2000, 2, 29));
  EXPECT_FALSE(parse_date("29-02-2026"));
  EXPECT_FALSE(parse_date("1900-02-29"));
  EXPECT_FALSE(parse_iso_date("2100-02-29"));
  EXPECT_TRUE(parse_utc("2028-02-29T23:59:59Z"));
  EXPECT_FALSE(parse_utc("2027-02-29T00:00:00Z"));
}

TEST(Dates, ThirtyFirstOfFebruaryIsRefusedInEveryForm) {
  for (std::string_view text : {"2026-02-31", "31-02-2026", "31/02/2026", "2024-2-30"}) {
    auto date = parse_date(text);
    ASSERT_FALSE(date) << text;
    EXPECT_EQ(date.error().code, Errc::invalid_value);
    EXPECT_NE(date.error().message.find("is not a real date"), std::string::npos) << text;
  }
  EXPECT_FALSE(parse_iso_date("2026-02-31"));
  EXPECT_FALSE(parse_utc("2026-02-31T00:00:00Z"));
  EXPECT_FALSE(is_real_date(2026, 4, 31));
  EXPECT_FALSE(is_real_date(2026, 1, 32));
}

TEST(Dates, TheAcceptedTypedFormsAreIsoAndTheIndonesianOrder) {
  EXPECT_EQ(*parse_date("2026-12-07"), ymd(2026, 12, 7));
  EXPECT_EQ(*parse_date("07-12-2026"), ymd(2026, 12, 7));
  EXPECT_EQ(*parse_date("7/12/2026"), ymd(2026, 12, 7));
  EXPECT_EQ(*parse_date(" 2026-3-1 "), ymd(2026, 3, 1));
  for (std::string_view text : {"2026/12/07", "12-2026-07", "26-12-07", "7 Desember 2026",
                                "2026-12-07T00:00", "", "2026-12", "2026-012-07"}) {
    EXPECT_FALSE(parse_date(text)) << text;
  }
}

TEST(Dates, YearsOutsideTheBoundsAreRefusedNamingTheBounds) {
  EXPECT_EQ(*parse_date("1900-01-01"), ymd(1900, 1, 1));
  EXPECT_EQ(*parse_date("2199-12-31"), ymd(2199, 12, 31));
  auto early = parse_date("1899-12-31");
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().message,
            "'1899-12-31' has year 1899; the year must be between 1900 and 2199");
  EXPECT_FALSE(parse_date("2200-01-01"));
  // The zone can move an instant out of the bounds: 1 January 1900 00:30 WIB is 1899 in UTC.
  EXPECT_FALSE(parse_datetime("1900-01-01 00:30 WIB", 0min));
  EXPECT_FALSE(parse_date_or_datetime("1900-01-01", 7h));
  EXPECT_TRUE(parse_datetime("2199-12-31 23:59:59 WIT", 0min));
  EXPECT_FALSE(parse_datetime("2199-12-31 23:59 -01:00", 0min));
}

TEST(Dates, DatetimesTakeTheGivenZoneOrTheOneForTextWithout) {
  EXPECT_EQ(format_utc(*parse_datetime("2026-12-01 08:30", 0min)), "2026-12-01T08:30:00Z");
  EXPECT_EQ(format_utc(*parse_datetime("2026-12-01 08:30", 7h)), "2026-12-01T01:30:00Z");
  EXPECT_EQ(format_utc(*parse_datetime("2026-12-01 08:30 Z", 7h)), "2026-12-01T08:30:00Z");
  EXPECT_EQ(format_utc(*parse_datetime("01/12/2026 08:30 wita", 0min)), "2026-12-01T00:30:00Z");
  EXPECT_EQ(format_utc(*parse_datetime("2026-12-01T08:30:15+09:00", 0min)),
            "2026-11-30T23:30:15Z");
  EXPECT_EQ(format_utc(*parse_date_or_datetime("01-12-2026", 9h)), "2026-11-30T15:00:00Z");
  EXPECT_FALSE(parse_datetime("2026-12-01 24:00", 0min));
  EXPECT_FALSE(parse_datetime("2026-12-01 08:30:00.5Z", 0min));
  EXPECT_FALSE(parse_datetime("2026-12-01 08:30 WET", 0min));
  EXPECT_FALSE(parse_datetime("2026-12-01", 0min));
}

TEST(Dates, ZonesAreTheThreeIndonesianOffsets) {
  EXPECT_EQ(*zone_named("WIB"), Zone::wib);
  EXPECT_EQ(*zone_named("WITA"), Zone::wita);
  EXPECT_EQ(*zone_named("WIT"), Zone::wit);
  EXPECT_FALSE(zone_named("wib"));
  EXPECT_FALSE(zone_named("UTC"));
  for (Zone z : {Zone::wib, Zone::wita, Zone::wit}) EXPECT_EQ(zone_named(zone_name(z)), z);
  EXPECT_EQ(utc_offset(Zone::wib), 7h);
  EXPECT_EQ(utc_offset(Zone::wita), 8h);
  EXPECT_EQ(utc_offset(Zone::wit), 9h);
  EXPECT_EQ(*parse_zone("+0530"), 330min);
  EXPECT_EQ(*parse_zone("-01"), -60min);
  EXPECT_FALSE(parse_zone("+15:00"));
}

TEST(Dates, TheOfficesDayChangesAtItsOwnMidnight) {
  // 16:59:59Z is 23:59:59 WIB; one second later it is the next day in WIB.
  EXPECT_EQ(local_date(utc("2026-12-06T16:59:59Z"), Zone::wib), ymd(2026, 12, 6));
  EXPECT_EQ(local_date(utc("2026-12-06T17:00:00Z"), Zone::wib), ymd(2026, 12, 7));
  // WIT turns two hours earlier: at 15:00Z Jayapura is in 7 December while Jakarta is not.
  EXPECT_EQ(local_date(utc("2026-12-06T14:59:59Z"), Zone::wit), ymd(2026, 12, 6));
  EXPECT_EQ(local_date(utc("2026-12-06T15:00:00Z"), Zone::wit), ymd(2026, 12, 7));
  EXPECT_EQ(local_date(utc("2026-12-06T15:00:00Z"), Zone::wib), ymd(2026, 12, 6));
  // The year turns in the zone before it turns in UTC.
  EXPECT_EQ(local_date(utc("2026-12-31T17:00:00Z"), Zone::wib), ymd(2027, 1, 1));
  EXPECT_EQ(format_utc(local_time(ymd(2026, 12, 7), 0s, Zone::wib)), "2026-12-06T17:00:00Z");
  EXPECT_EQ(format_utc(local_time(ymd(2026, 12, 7), 23h + 59min + 59s, Zone::wit)),
            "2026-12-07T14:59:59Z");
  EXPECT_EQ(format_local(utc("2026-12-06T17:00:00Z"), Zone::wib), "2026-12-07 00:00 WIB");
  EXPECT_EQ(format_local(utc("2026-12-06T17:00:00Z"), Zone::wita), "2026-12-07 01:00 WITA");
}

TEST(Dates, CanonicalTextIsExactAndRoundTrips) {
  EXPECT_EQ(format_utc(utc("2026-12-07T09:05:03Z")), "2026-12-07T09:05:03Z");
  EXPECT_EQ(format_utc(utc("2026-12-07")), "2026-12-07T00:00:00Z");
  EXPECT_EQ(format_iso(*parse_iso_date("0999-01-02")), "0999-01-02");
  for (std::string_view text : {"2026-12-07T09:05:03", "2026-12-07 09:05:03Z", "2026-12-7",
                                "07-12-2026", "2026-12-07T09:05:03+07:00", "2026-12-07T24:00:00Z",
                                " 2026-12-07"}) {
    EXPECT_FALSE(parse_utc(text)) << text;
  }
  // Milliseconds are dropped towards the past, also before 1970.
  EXPECT_EQ(format_utc(from_unix_ms(1999)), "1970-01-01T00:00:01Z");
  EXPECT_EQ(format_utc(from_unix_ms(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(unix_ms(utc("1970-01-02T00:00:00Z")), 86'400'000);
}

TEST(Dates, WorkingDaysSkipWeekendsAndHolidays) {
  const Date friday = ymd(2026, 12, 4);
  EXPECT_FALSE(is_weekend(friday));
  EXPECT_TRUE(is_weekend(ymd(2026, 12, 5)));
  EXPECT_TRUE(is_weekend(ymd(2026, 12, 6)));
  EXPECT_EQ(add_working_days(friday, 0), friday);
  EXPECT_EQ(add_working_days(friday, 1), ymd(2026, 12, 7));  // Monday
  EXPECT_EQ(add_working_days(ymd(2026, 12, 5), 1), ymd(2026, 12, 7));  // from Saturday
  EXPECT_EQ(add_working_days(friday, 6), ymd(2026, 12, 14));
  // Christmas on a Friday, and the cuti bersama after it.
  const std::array holidays{ymd(2026, 12, 25), ymd(2026, 12, 28)};
  EXPECT_EQ(add_working_days(ymd(2026, 12, 24), 1, holidays), ymd(2026, 12, 29));
  EXPECT_EQ(add_working_days(ymd(2026, 12, 31), 1), ymd(2027, 1, 1));
}

TEST(Dates, AgeCountsWholeYearsAndLeapBirthdaysComeOnTheFirstOfMarch) {
  EXPECT_EQ(age_in_years(ymd(2010, 6, 15), ymd(2026, 6, 14)), 15);
  EXPECT_EQ(age_in_years(ymd(2010, 6, 15), ymd(2026, 6, 15)), 16);
  EXPECT_EQ(age_in_years(ymd(2008, 2, 29), ymd(2027, 2, 28)), 18);
  EXPECT_EQ(age_in_years(ymd(2008, 2, 29), ymd(2027, 3, 1)), 19);
  EXPECT_EQ(age_in_years(ymd(2008, 2, 29), ymd(2028, 2, 29)), 20);
  EXPECT_LT(age_in_years(ymd(2026, 12, 7), ymd(2026, 12, 6)), 0);
  EXPECT_EQ(ymd(2026, 12, 7), Date{std::chrono::year{2026} / December / 7});
}

}  // namespace
}  // namespace teduh::schema::dates
