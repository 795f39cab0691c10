// Validation and canonical text (SCHEMA.md "Validation"). Every function here is pure:
// what a person typed goes in, canonical text or a sentence naming the field comes out.
//
// Error messages never repeat the value of a text, NIK or phone field: they may end up
// in a log, and such values identify a victim. Dates, numbers and codes are repeated,
// because a person needs to see which one was refused.
#include "teduh/schema/validate.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <optional>
#include <vector>

#include "teduh/schema/codes.hpp"
#include "teduh/schema/dates.hpp"
#include "teduh/schema/region.hpp"
#include "teduh/schema/utf8.hpp"
#include "ascii.hpp"

namespace teduh::schema {
namespace {

constexpr FieldSpec kDeletedSpec{
    .name = kDeletedField, .label = "Dihapus", .kind = FieldKind::boolean};

// A refusal without its subject; wrapped by field_error() or a public function.
using Problem = std::optional<std::string>;

using ascii::all_digits;
using ascii::equals_ignoring_case;
using ascii::is_digit;
using ascii::small_number;
using ascii::to_lower;
using ascii::trim;

Error field_error(const FieldSpec& spec, std::string_view problem) {
  std::string message;
  message.append(spec.name).append(" (").append(spec.label).append("): ").append(problem);
  return Error{Errc::invalid_value, std::move(message)};
}

// Dates and datetimes are read by dates.hpp; here they only get their canonical text.
Problem canonical_date(std::string_view s, std::string& out) {
  auto date = dates::parse_date(s);
  if (!date) return date.error().message;
  out = dates::format_iso(*date);
  return std::nullopt;
}

// A time without a zone is at `zone_when_absent` east of UTC (0 for text that claims to be
// canonical; the office's zone for what a person typed).
Problem canonical_datetime(std::string_view s, std::chrono::minutes zone_when_absent,
                           std::string& out) {
  auto at = dates::parse_datetime(s, zone_when_absent);
  if (!at) return at.error().message;
  out = dates::format_utc(*at);
  return std::nullopt;
}

Problem canonical_integer(const FieldSpec& spec, std::string_view s, std::string& out) {
  const std::string shown(s);
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
  if (!all_digits(digits)) return "'" + shown + "' is not a whole number";
  std::int64_t value = 0;
  const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
  const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size())
    return "'" + shown + "' is too large a number";
  if (value < spec.min_value || value > spec.max_value) {
    return std::to_string(value) + " is out of range; it must be between " +
           std::to_string(spec.min_value) + " and " + std::to_string(spec.max_value);
  }
  out = std::to_string(value);
  return std::nullopt;
}

// Text: line ends become "\n"; control characters other than newline and tab are
// refused, as is text that is not UTF-8.
Problem canonical_text(const FieldSpec& spec, std::string_view s, std::string& out) {
  std::string text;
  text.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      text.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      text.push_back(s[i]);
    }
  }
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(text, i, cp);
    if (len == 0) return "is not valid UTF-8 text (byte " + std::to_string(i + 1) + ")";
    const bool control = (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp <= 0x9F);
    if (control) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      std::string code = "U+00";
      code.push_back(kHex[cp >> 4]);
      code.push_back(kHex[cp & 0xF]);
      return "contains a control character (" + code + ") at byte " + std::to_string(i + 1) +
             "; only letters, digits, punctuation, spaces, tabs and new lines are allowed";
    }
    i += len;
  }
  // One spelling of each accented letter in the store: what a phone sends decomposed is
  // stored composed (NFC), so two records of "Wéntèn" hold the same bytes.
  text = to_nfc(text);
  if (spec.one_line() && text.find('\n') != std::string::npos) {
    return "has a line break; it is one line (remove the new line)";
  }
  // Counted in characters, as a person counts them; the bytes are bounded too, by what
  // one version may carry (four bytes a character at most, so only a long text of
  // emoji or rare scripts can reach it).
  const std::size_t length = utf8_length(text);
  if (length > spec.max_length) {
    return "is " + std::to_string(length) + " characters long; at most " +
           std::to_string(spec.max_length) + " are allowed";
  }
  if (text.size() > kMaxTextBytes) {
    return "takes " + std::to_string(text.size()) + " bytes; at most " +
           std::to_string(kMaxTextBytes) + " can be stored (fewer emoji or symbols would fit)";
  }
  out = std::move(text);
  return std::nullopt;
}

std::string known_codes(const CodeSet& set) {
  std::string list;
  for (const Code& c : set.codes) {
    if (!list.empty()) list += ", ";
    list += c.code;
  }
  return list;
}

// The code of `set` equal to `s` ignoring case, as the set spells it.
Problem canonical_code(const CodeSet& set, std::string_view s, std::string_view& out) {
  for (const Code& c : set.codes) {
    if (equals_ignoring_case(c.code, s)) {
      out = c.code;
      return std::nullopt;
    }
  }
  // A person may write the label ("Perempuan", "kekerasan fisik") instead of the code;
  // the code is what is stored (issue 15: commands accept a label or a code).
  for (const Code& c : set.codes) {
    if (equals_ignoring_case(c.label, s)) {
      out = c.code;
      return std::nullopt;
    }
  }
  return "unknown code '" + std::string(s) + "'; known codes: " + known_codes(set);
}

Problem canonical_codes(const CodeSet& set, std::string_view s, std::string& out) {
  std::vector<std::string_view> found;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ',') {
      const std::string_view item = trim(s.substr(start, i - start));
      start = i + 1;
      if (item.empty()) continue;
      std::string_view code;
      if (auto problem = canonical_code(set, item, code)) return problem;
      found.push_back(code);
    }
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  out.clear();
  for (std::string_view code : found) {
    if (!out.empty()) out.push_back(',');
    out.append(code);
  }
  return std::nullopt;
}

bool is_hex(char c) { return is_digit(c) || (to_lower(c) >= 'a' && to_lower(c) <= 'f'); }

// 32 hex digits, any case; the 8-4-4-4-12 form with hyphens is accepted too.
Problem canonical_ref(std::string_view s, std::string& out) {
  std::string hex;
  const bool uuid_form =
      s.size() == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-';
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (uuid_form && (i == 8 || i == 13 || i == 18 || i == 23)) continue;
    if (!is_hex(s[i]))
      return "'" + std::string(s) + "' is not an entity id (32 hexadecimal digits)";
    hex.push_back(to_lower(s[i]));
  }
  if (hex.size() != 32) {
    return "'" + std::string(s) +
           "' is not an entity id: it must have 32 hexadecimal digits, not " +
           std::to_string(hex.size());
  }
  out = std::move(hex);
  return std::nullopt;
}

// Spaces, dots and hyphens between digit groups are dropped ("3201 0150 0790 0001").
Problem canonical_nik(std::string_view s, std::string& out) {
  std::string digits;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ' ' || c == '.' || c == '-') continue;
    if (!is_digit(c))
      return "must contain only digits; character " + std::to_string(i + 1) + " is not a digit";
    digits.push_back(c);
  }
  if (digits.size() != 16) return "must be 16 digits, got " + std::to_string(digits.size());
  const std::string_view nik = digits;
  const int province = small_number(nik.substr(0, 2));
  if (!is_province_code(province)) {
    return "digits 1-2 (" + std::string(nik.substr(0, 2)) + ") are not an Indonesian province code";
  }
  int day = small_number(nik.substr(6, 2));
  const int month = small_number(nik.substr(8, 2));
  const int yy = small_number(nik.substr(10, 2));
  if (day > 40) day -= 40;  // women: 40 is added to the day of birth
  // The century is not in the NIK: 29 February of "00" is real (2000).
  if (!dates::is_real_date(1900 + yy, month, day) && !dates::is_real_date(2000 + yy, month, day)) {
    return "digits 7-12 must be the birth date as DDMMYY (with 40 added to the day for women), "
           "and they are not a real date";
  }
  if (nik.substr(12, 4) == "0000") return "digits 13-16 (the serial number) cannot be 0000";
  out = std::move(digits);
  return std::nullopt;
}

// Digits with an optional leading '+'; spaces, hyphens, dots and brackets between digit
// groups are dropped. The number is not rewritten otherwise ("08..." stays "08...").
Problem canonical_phone(std::string_view s, std::string& out) {
  std::string phone;
  std::size_t digits = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') continue;
    if (c == '+' && phone.empty()) {
      phone.push_back(c);
      continue;
    }
    if (!is_digit(c)) {
      return "must be a phone number of digits with an optional leading '+'; character " +
             std::to_string(i + 1) + " is not a digit";
    }
    phone.push_back(c);
    ++digits;
  }
  if (digits < 6 || digits > 16) return "must have 6 to 16 digits, got " + std::to_string(digits);
  out = std::move(phone);
  return std::nullopt;
}

Problem canonical_boolean(std::string_view s, std::string& out) {
  static constexpr std::string_view kTrue[] = {"1", "true", "ya", "y", "yes", "benar"};
  static constexpr std::string_view kFalse[] = {"0", "false", "tidak", "n", "no", "salah"};
  const auto matches = [s](std::string_view word) { return equals_ignoring_case(s, word); };
  if (std::any_of(std::begin(kTrue), std::end(kTrue), matches)) {
    out = "1";
    return std::nullopt;
  }
  if (std::any_of(std::begin(kFalse), std::end(kFalse), matches)) {
    out = "0";
    return std::nullopt;
  }
  return "'" + std::string(s) + "' is not yes or no; use 1 (ya) or 0 (tidak)";
}

[[nodiscard]] Result<std::string> canonical(const FieldSpec& spec, std::string_view input,
                              std::chrono::minutes zone_when_absent = std::chrono::minutes{0}) {
  if (spec.kind == FieldKind::secret) {
    // Ciphertext from the shelter compartment: opaque, kept byte for byte.
    if (input.size() > spec.max_length) {
      return tl::unexpected(
          field_error(spec, "is " + std::to_string(input.size()) + " bytes long; at most " +
                                std::to_string(spec.max_length) + " are allowed"));
    }
    return std::string(input);
  }
  const std::string_view s = trim(input);
  if (s.empty()) return std::string();
  std::string out;
  Problem problem;
  switch (spec.kind) {
    case FieldKind::text:
      problem = canonical_text(spec, s, out);
      break;
    case FieldKind::integer:
      problem = canonical_integer(spec, s, out);
      break;
    case FieldKind::date:
      problem = canonical_date(s, out);
      break;
    case FieldKind::datetime:
      problem = canonical_datetime(s, zone_when_absent, out);
      break;
    case FieldKind::code:
    case FieldKind::codes: {
      const CodeSet* set = find_code_set(spec.code_set);
      if (set == nullptr) {
        problem = "has no code set '" + std::string(spec.code_set) + "' (a bug in the schema)";
      } else if (spec.kind == FieldKind::code) {
        std::string_view code;
        problem = canonical_code(*set, s, code);
        out = code;
      } else {
        problem = canonical_codes(*set, s, out);
      }
      break;
    }
    case FieldKind::ref:
      problem = canonical_ref(s, out);
      break;
    case FieldKind::nik:
      problem = canonical_nik(s, out);
      break;
    case FieldKind::phone:
      problem = canonical_phone(s, out);
      break;
    case FieldKind::boolean:
      problem = canonical_boolean(s, out);
      break;
    case FieldKind::secret:
      break;  // handled above
  }
  if (problem) return tl::unexpected(field_error(spec, *problem));
  return out;
}

[[nodiscard]] Result<const FieldSpec*> find_field(EntityType type, std::string_view field) {
  if (field == kDeletedField) return &kDeletedSpec;
  const EntitySpec& entity = entity_spec(type);
  if (const FieldSpec* spec = entity.field(field)) return spec;
  std::string known;
  for (const FieldSpec& f : entity.fields) {
    if (!known.empty()) known += ", ";
    known += f.name;
  }
  return fail(Errc::unknown_field, "'" + std::string(field) + "' is not a field of " +
                                       std::string(entity.name) + " (" + std::string(entity.label) +
                                       "); known fields: " + known);
}

}  // namespace

[[nodiscard]] Result<std::string> validate_date(std::string_view input) {
  const std::string_view s = trim(input);
  std::string out;
  if (auto problem = canonical_date(s, out)) return fail(Errc::invalid_value, "date: " + *problem);
  return out;
}

[[nodiscard]] Result<std::string> validate_nik(std::string_view input) {
  std::string out;
  if (auto problem = canonical_nik(trim(input), out))
    return fail(Errc::invalid_value, "NIK " + *problem);
  return out;
}

[[nodiscard]] Result<std::string> validate_field(EntityType type, std::string_view field,
                                   std::string_view input) {
  return validate_field(type, field, input, std::chrono::minutes{0});
}

[[nodiscard]] Result<std::string> validate_field(EntityType type, std::string_view field, std::string_view input,
                                   std::chrono::minutes zone_when_absent) {
  auto spec = TEDUH_TRY(find_field(type, field));
  return canonical(*spec, input, zone_when_absent);
}

bool records_the_past(EntityType type, std::string_view field) {
  switch (type) {
    case EntityType::kasus:
      return field == "received_at" || field == "incident_date" ||
             field == "police_report_requested_at";
    case EntityType::orang:
      return field == "birth_date";
    case EntityType::layanan:
      return field == "date";
    case EntityType::rujukan:
      return field == "answered_on";
    case EntityType::rencana:
      return field == "done_on";
    case EntityType::pemantauan:
      return field == "visited_on";
    case EntityType::diversi:
      return field == "agreed_on";
    default:
      return false;
  }
}

[[nodiscard]] Result<void> check_not_future(EntityType type, std::string_view field, std::string_view value,
                              dates::Instant now, dates::Zone zone) {
  if (value.empty() || !records_the_past(type, field)) return {};
  auto spec = TEDUH_TRY(find_field(type, field));
  const dates::Instant latest = now + kClockTolerance;
  std::string shown;
  if (spec->kind == FieldKind::date) {
    auto day = dates::parse_iso_date(value);
    if (!day || std::chrono::sys_days{*day} <= std::chrono::sys_days{dates::local_date(latest, zone)})
      return {};
    shown = std::string(value);
  } else {
    auto at = dates::parse_utc(value);
    if (!at || *at <= latest) return {};
    shown = dates::format_local(*at, zone);
  }
  std::string label(spec->label);
  if (!label.empty()) label[0] = ascii::to_lower(label[0]);
  return fail(Errc::invalid_value, label + " (" + std::string(field) +
                                       ") tidak boleh di masa depan: " + shown);
}

[[nodiscard]] Result<void> check_canonical(EntityType type, std::string_view field, std::string_view value) {
  auto spec = TEDUH_TRY(find_field(type, field));
  if (spec->kind == FieldKind::secret) return {};
  auto canonical_value = TEDUH_TRY(canonical(*spec, value));
  // Devices of before NFC (2026-12) wrote text as it was typed: still accepted.
  if (canonical_value != value && !(spec->kind == FieldKind::text && canonical_value == to_nfc(value))) {
    return tl::unexpected(field_error(*spec, "the value is valid but not in canonical form"));
  }
  return {};
}

}  // namespace teduh::schema
