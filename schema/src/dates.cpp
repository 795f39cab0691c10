// Dates and times (dates.hpp, SCHEMA.md "Dates"): the one parser and formatter of the tree,
// on the calendar types of C++20 <chrono>.
#include "teduh/schema/dates.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "ascii.hpp"

namespace teduh::schema::dates {
namespace {

using namespace std::chrono_literals;
using std::chrono::days;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;

using ascii::equals_ignoring_case;
using ascii::small_number;
using ascii::trim;

Date make_date(int y, int m, int d) {
  return Date{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
              std::chrono::day{static_cast<unsigned>(d)}};
}

std::string iso_text(int y, int m, int d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

int year_of(Date date) { return static_cast<int>(date.year()); }

Error invalid(std::string message) { return Error{Errc::invalid_value, std::move(message)}; }

// The instant of a wall time at `offset` east of UTC, refused when its UTC day falls
// outside the accepted years (a time zone can move 1 January 1900 into 1899).
[[nodiscard]] Result<Instant> in_range(sys_days day, seconds time_of_day, minutes offset,
                         const std::string& shown) {
  const auto utc = std::chrono::sys_seconds{day} + time_of_day - offset;
  const int year = year_of(Date{std::chrono::floor<days>(utc)});
  if (year < kMinYear || year > kMaxYear) {
    return tl::unexpected(invalid("'" + shown + "': the year must be between " +
                                  std::to_string(kMinYear) + " and " + std::to_string(kMaxYear)));
  }
  return Instant{utc};
}

}  // namespace

bool is_real_date(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31) return false;
  return make_date(year, month, day).ok();
}

[[nodiscard]] Result<Date> parse_date(std::string_view text) {
  const std::string_view s = trim(text);
  const std::string shown(s);
  const std::string usage = "'" + shown + "' is not a date; write it as YYYY-MM-DD";
  const char sep = s.find('/') != std::string_view::npos ? '/' : '-';
  std::array<std::string_view, 3> parts;
  std::size_t n = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      if (n == parts.size()) return tl::unexpected(invalid(usage));
      parts[n++] = s.substr(start, i - start);
      start = i + 1;
    }
  }
  if (n != 3) return tl::unexpected(invalid(usage));
  std::string_view year = parts[0], month = parts[1], day = parts[2];
  if (parts[2].size() == 4 && parts[0].size() <= 2) {
    year = parts[2];
    day = parts[0];
  } else if (sep == '/') {
    return tl::unexpected(invalid(usage + " or DD/MM/YYYY"));
  }
  const int y = year.size() == 4 ? small_number(year) : -1;
  const int m = small_number(month, 2);
  const int d = small_number(day, 2);
  if (y < 0 || m < 0 || d < 0) return tl::unexpected(invalid(usage));
  if (y < kMinYear || y > kMaxYear) {
    return tl::unexpected(invalid("'" + shown + "' has year " + std::to_string(y) +
                                  "; the year must be between " + std::to_string(kMinYear) +
                                  " and " + std::to_string(kMaxYear)));
  }
  if (!is_real_date(y, m, d)) return tl::unexpected(invalid(iso_text(y, m, d) + " is not a real date"));
  return make_date(y, m, d);
}

std::optional<minutes> parse_zone(std::string_view text) {
  const std::string_view zone = trim(text);
  if (zone.empty() || zone == "Z" || zone == "z" || equals_ignoring_case(zone, "UTC")) return 0min;
  if (equals_ignoring_case(zone, "WIB")) return utc_offset(Zone::wib);
  if (equals_ignoring_case(zone, "WITA")) return utc_offset(Zone::wita);
  if (equals_ignoring_case(zone, "WIT")) return utc_offset(Zone::wit);
  if (zone[0] != '+' && zone[0] != '-') return std::nullopt;
  const int sign = zone[0] == '-' ? -1 : 1;
  std::string digits;
  for (char c : zone.substr(1)) {
    if (c != ':') digits.push_back(c);
  }
  if (digits.size() != 2 && digits.size() != 4) return std::nullopt;
  const int hh = small_number(std::string_view(digits).substr(0, 2));
  const int mm = digits.size() == 4 ? small_number(std::string_view(digits).substr(2)) : 0;
  if (hh < 0 || mm < 0 || hh > 14 || mm > 59) return std::nullopt;
  return minutes{sign * (hh * 60 + mm)};
}

[[nodiscard]] Result<Instant> parse_datetime(std::string_view text, minutes zone_when_absent) {
  const std::string_view s = trim(text);
  const std::string shown(s);
  const auto usage = [&] {
    return tl::unexpected(
        invalid("'" + shown + "' is not a date and time; write it as YYYY-MM-DDTHH:MM:SSZ"));
  };
  const std::size_t sep = s.find_first_of("Tt ");
  if (sep == std::string_view::npos) return usage();
  auto date = TEDUH_TRY(parse_date(s.substr(0, sep)));
  std::string_view rest = trim(s.substr(sep + 1));
  // HH:MM[:SS] then the zone.
  if (rest.size() < 5 || rest[2] != ':') return usage();
  const int hh = small_number(rest.substr(0, 2));
  const int mi = small_number(rest.substr(3, 2));
  rest.remove_prefix(5);
  int ss = 0;
  if (!rest.empty() && rest[0] == ':') {
    if (rest.size() < 3) return usage();
    ss = small_number(rest.substr(1, 2));
    rest.remove_prefix(3);
  }
  if (!rest.empty() && rest[0] == '.') {
    return tl::unexpected(
        invalid("'" + shown + "' has fractions of a second; Teduh keeps whole seconds"));
  }
  if (hh < 0 || mi < 0 || ss < 0) return usage();
  if (hh > 23 || mi > 59 || ss > 59)
    return tl::unexpected(invalid("'" + shown + "' is not a real time of day"));
  std::optional<minutes> offset = zone_when_absent;
  if (!trim(rest).empty()) offset = parse_zone(rest);
  if (!offset) {
    return tl::unexpected(
        invalid("'" + shown + "' has an unknown time zone; use Z, +07:00, WIB, WITA or WIT"));
  }
  return in_range(sys_days{date}, std::chrono::hours{hh} + minutes{mi} + seconds{ss}, *offset,
                  shown);
}

[[nodiscard]] Result<Instant> parse_date_or_datetime(std::string_view text, minutes zone) {
  if (auto date = parse_date(text)) return in_range(sys_days{*date}, 0s, zone, std::string(trim(text)));
  return parse_datetime(text, zone);
}

std::optional<Date> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const int y = small_number(text.substr(0, 4));
  const int m = small_number(text.substr(5, 2));
  const int d = small_number(text.substr(8, 2));
  if (y < 0 || m < 0 || d < 0 || !is_real_date(y, m, d)) return std::nullopt;
  return make_date(y, m, d);
}

std::optional<Instant> parse_utc(std::string_view text) {
  if (text.size() == 10) {
    auto date = parse_iso_date(text);
    if (!date) return std::nullopt;
    return Instant{sys_days{*date}};
  }
  if (text.size() != 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z') {
    return std::nullopt;
  }
  auto date = parse_iso_date(text.substr(0, 10));
  const int hh = small_number(text.substr(11, 2));
  const int mi = small_number(text.substr(14, 2));
  const int ss = small_number(text.substr(17, 2));
  if (!date || hh < 0 || mi < 0 || ss < 0 || hh > 23 || mi > 59 || ss > 59) return std::nullopt;
  return Instant{sys_days{*date} + std::chrono::hours{hh} + minutes{mi} + seconds{ss}};
}

std::string format_iso(Date date) {
  return iso_text(year_of(date), static_cast<int>(static_cast<unsigned>(date.month())),
                  static_cast<int>(static_cast<unsigned>(date.day())));
}

std::string format_utc(Instant at) {
  const auto day = std::chrono::floor<days>(at);
  const std::chrono::hh_mm_ss time{std::chrono::floor<seconds>(at - day)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "T%02d:%02d:%02dZ", static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return format_iso(Date{day}) + buf;
}

Instant from_unix_ms(std::int64_t ms) { return Instant{std::chrono::milliseconds{ms}}; }
std::int64_t unix_ms(Instant at) { return at.time_since_epoch().count(); }

std::optional<Zone> zone_named(std::string_view name) {
  if (name == "WIB") return Zone::wib;
  if (name == "WITA") return Zone::wita;
  if (name == "WIT") return Zone::wit;
  return std::nullopt;
}

std::string_view zone_name(Zone zone) {
  switch (zone) {
    case Zone::wita:
      return "WITA";
    case Zone::wit:
      return "WIT";
    case Zone::wib:
      break;
  }
  return "WIB";
}

minutes utc_offset(Zone zone) {
  switch (zone) {
    case Zone::wita:
      return 8h;
    case Zone::wit:
      return 9h;
    case Zone::wib:
      break;
  }
  return 7h;
}

Date local_date(Instant at, Zone zone) {
  return Date{std::chrono::floor<days>(at + utc_offset(zone))};
}

Instant local_time(Date date, seconds time_of_day, Zone zone) {
  return Instant{sys_days{date} + time_of_day - utc_offset(zone)};
}

std::string format_local(Instant at, Zone zone) {
  const Instant wall = at + utc_offset(zone);
  const auto day = std::chrono::floor<days>(wall);
  const std::chrono::hh_mm_ss time{std::chrono::floor<minutes>(wall - day)};
  char buf[16];
  std::snprintf(buf, sizeof buf, " %02d:%02d ", static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()));
  return format_iso(Date{day}) + buf + std::string(zone_name(zone));
}

bool is_weekend(Date date) {
  const std::chrono::weekday wd{sys_days{date}};
  return wd == std::chrono::Saturday || wd == std::chrono::Sunday;
}

Date add_working_days(Date date, int n, std::span<const Date> holidays) {
  sys_days day{date};
  const auto is_holiday = [&](sys_days d) {
    return std::any_of(holidays.begin(), holidays.end(),
                       [&](const Date& h) { return sys_days{h} == d; });
  };
  while (n > 0) {
    day += days{1};
    if (!is_weekend(Date{day}) && !is_holiday(day)) --n;
  }
  return Date{day};
}

int age_in_years(Date birth, Date at) {
  int years = year_of(at) - year_of(birth);
  if (std::chrono::month_day{at.month(), at.day()} <
      std::chrono::month_day{birth.month(), birth.day()}) {
    --years;
  }
  return years;
}

}  // namespace teduh::schema::dates
