#include "teduh/schema/validate.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

#include "teduh/schema/codes.hpp"
#include "teduh/schema/entities.hpp"

namespace teduh::schema {
namespace {

// Made-up NIKs: region 32 01 05 (a Jawa Barat district), a birth date, a serial.
std::string make_nik(std::string_view province, std::string_view ddmmyy,
                     std::string_view serial = "0001") {
  return std::string(province) + "0105" + std::string(ddmmyy) + std::string(serial);
}

std::string refusal(EntityType type, std::string_view field, std::string_view input) {
  auto result = validate_field(type, field, input);
  if (result) return "accepted as '" + *result + "'";
  return result.error().message;
}

std::string canonical(EntityType type, std::string_view field, std::string_view input) {
  auto result = validate_field(type, field, input);
  EXPECT_TRUE(result) << result.error().message;
  return result ? *result : std::string();
}

// Labels -------------------------------------------------------------------------------

// Issue 15: a person may type a code's Indonesian label instead of the code; the code is
// stored, and the server's canonical check still refuses a label in a commit.
TEST(Validate, ALabelIsAcceptedForItsCodeAndTheCodeIsStored) {
  EXPECT_EQ(canonical(EntityType::orang, "sex", "Perempuan"), "P");
  EXPECT_EQ(canonical(EntityType::orang, "sex", "perempuan"), "P");
  EXPECT_EQ(canonical(EntityType::kasus, "forms", "Kekerasan fisik, psikis"), "fisik,psikis");
  EXPECT_FALSE(check_canonical(EntityType::orang, "sex", "Perempuan"));
  EXPECT_TRUE(check_canonical(EntityType::orang, "sex", "P"));
}

TEST(Validate, EveryLabelOfEveryCodeFieldMeansItsOwnCode) {
  for (const EntitySpec& entity : all_entity_specs()) {
    for (const FieldSpec& field : entity.fields) {
      if (field.kind != FieldKind::code) continue;
      const CodeSet* set = find_code_set(field.code_set);
      ASSERT_NE(set, nullptr) << field.name;
      for (const Code& c : set->codes) {
        EXPECT_EQ(canonical(entity.type, field.name, c.label), c.code)
            << entity.name << "." << field.name;
        EXPECT_EQ(canonical(entity.type, field.name, c.code), c.code)
            << entity.name << "." << field.name;
      }
    }
  }
}

// NIK ----------------------------------------------------------------------------------

TEST(Validate, WellFormedNikIsAccepted) {
  EXPECT_EQ(canonical(EntityType::orang, "nik", make_nik("32", "170890")),
            make_nik("32", "170890"));
}

TEST(Validate, NikWithSpacesBetweenGroupsIsCanonicalised) {
  EXPECT_EQ(canonical(EntityType::orang, "nik", " 3201 0517 0890 0001 "), "3201051708900001");
}

TEST(Validate, FifteenDigitNikIsRefusedNamingTheField) {
  const std::string nik = make_nik("32", "170890").substr(0, 15);
  auto result = validate_field(EntityType::orang, "nik", nik);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::invalid_value);
  EXPECT_EQ(result.error().message, "nik (NIK): must be 16 digits, got 15");
}

TEST(Validate, NikWithLettersIsRefused) {
  const std::string message = refusal(EntityType::orang, "nik", "32010517089000AB");
  EXPECT_NE(message.find("nik (NIK): must contain only digits"), std::string::npos) << message;
}

TEST(Validate, NikRefusalDoesNotRepeatTheNumber) {
  const std::string nik = make_nik("32", "170890", "0000");
  const std::string message = refusal(EntityType::orang, "nik", nik);
  EXPECT_EQ(message.find(nik), std::string::npos) << message;
}

TEST(Validate, NikWithUnknownProvinceIsRefused) {
  for (std::string_view province : {"00", "10", "20", "37", "97", "99"}) {
    const std::string message = refusal(EntityType::orang, "nik", make_nik(province, "170890"));
    EXPECT_NE(message.find("province"), std::string::npos) << province << ": " << message;
  }
  for (std::string_view province :
       {"11", "21", "31", "36", "53", "65", "76", "82", "91", "94", "96"}) {
    EXPECT_TRUE(validate_nik(make_nik(province, "170890"))) << province;
  }
}

TEST(Validate, NikWhoseBirthDatePartIsNotARealDateIsRefused) {
  for (std::string_view ddmmyy :
       {"000190", "320190", "311190", "300290", "011390", "010090", "290201", "720190"}) {
    auto result = validate_nik(make_nik("32", ddmmyy));
    ASSERT_FALSE(result) << ddmmyy;
    EXPECT_NE(result.error().message.find("birth date"), std::string::npos)
        << result.error().message;
  }
}

TEST(Validate, NikOfAWomanHasFortyAddedToTheDay) {
  EXPECT_TRUE(validate_nik(make_nik("35", "570890")));   // 17 + 40
  EXPECT_TRUE(validate_nik(make_nik("35", "410190")));   // 1 + 40
  EXPECT_TRUE(validate_nik(make_nik("35", "710190")));   // 31 + 40
  EXPECT_FALSE(validate_nik(make_nik("35", "710490")));  // 31 April
  EXPECT_FALSE(validate_nik(make_nik("35", "400190")));  // day 0
}

TEST(Validate, NikBornOnTwentyNinthFebruaryNeedsALeapYearInSomeCentury) {
  EXPECT_TRUE(validate_nik(make_nik("31", "290200")));  // 2000
  EXPECT_TRUE(validate_nik(make_nik("31", "690296")));  // 1996, a woman
  EXPECT_FALSE(validate_nik(make_nik("31", "290201")));
}

TEST(Validate, NikWithSerialZeroIsRefused) {
  auto result = validate_nik(make_nik("32", "170890", "0000"));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("serial"), std::string::npos);
}

// Dates --------------------------------------------------------------------------------

TEST(Validate, LeapYearsFollowTheGregorianRule) {
  EXPECT_TRUE(is_real_date(2024, 2, 29));
  EXPECT_TRUE(is_real_date(2000, 2, 29));
  EXPECT_FALSE(is_real_date(1900, 2, 29));
  EXPECT_FALSE(is_real_date(2026, 2, 29));
  EXPECT_TRUE(is_real_date(2026, 2, 28));
  EXPECT_FALSE(is_real_date(2026, 4, 31));
  EXPECT_TRUE(is_real_date(2026, 12, 31));
  EXPECT_FALSE(is_real_date(2026, 13, 1));
  EXPECT_FALSE(is_real_date(2026, 0, 1));
  EXPECT_FALSE(is_real_date(2026, 1, 0));
}

TEST(Validate, ThirtiethOfFebruaryIsRefusedNamingTheField) {
  auto result = validate_field(EntityType::orang, "birth_date", "2026-02-30");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "birth_date (Tanggal lahir): 2026-02-30 is not a real date");
}

TEST(Validate, DatesInIndonesianOrderBecomeIso) {
  EXPECT_EQ(*validate_date("17/08/2025"), "2025-08-17");
  EXPECT_EQ(*validate_date("1-3-2026"), "2026-03-01");
  EXPECT_EQ(*validate_date(" 2024-02-29 "), "2024-02-29");
  EXPECT_EQ(*validate_date("2026-3-1"), "2026-03-01");
}

TEST(Validate, ATimeWithoutAZoneIsReadAtTheGivenOffset) {
  const auto wib = dates::utc_offset(dates::Zone::wib);
  EXPECT_EQ(*validate_field(EntityType::kasus, "received_at", "2026-12-01 08:30", wib),
            "2026-12-01T01:30:00Z");
  EXPECT_EQ(*validate_field(EntityType::kasus, "received_at", "2026-12-01 08:30 WIT", wib),
            "2026-11-30T23:30:00Z");
  EXPECT_EQ(*validate_field(EntityType::kasus, "received_at", "2026-12-01 08:30"),
            "2026-12-01T08:30:00Z");  // text that claims to be canonical: UTC
}

TEST(Validate, DatesOfWhatHasHappenedAreNotInTheFuture) {
  const auto now = *dates::parse_utc("2026-12-07T16:30:00Z");  // 23:30 WIB, 00:30 WIT next day
  using dates::Zone;
  EXPECT_TRUE(check_not_future(EntityType::orang, "birth_date", "2026-12-07", now, Zone::wib));
  auto tomorrow = check_not_future(EntityType::orang, "birth_date", "2026-12-08", now, Zone::wib);
  ASSERT_FALSE(tomorrow);
  EXPECT_EQ(tomorrow.error().message,
            "tanggal lahir (birth_date) tidak boleh di masa depan: 2026-12-08");
  // Already the 8th in WIT.
  EXPECT_TRUE(check_not_future(EntityType::layanan, "date", "2026-12-08", now, Zone::wit));
  EXPECT_FALSE(check_not_future(EntityType::kasus, "incident_date", "2099-01-01", now, Zone::wit));
  // A few minutes of clock difference are tolerated.
  EXPECT_TRUE(check_not_future(EntityType::kasus, "received_at", "2026-12-07T16:34:00Z", now, Zone::wib));
  auto later = check_not_future(EntityType::kasus, "received_at", "2026-12-07T17:00:00Z", now, Zone::wib);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().message,
            "waktu pengaduan diterima (received_at) tidak boleh di masa depan: 2026-12-08 00:00 WIB");
  // Plans and empty values are not checked.
  EXPECT_TRUE(check_not_future(EntityType::penempatan, "planned_exit", "2099-01-01", now, Zone::wib));
  EXPECT_TRUE(check_not_future(EntityType::orang, "birth_date", "", now, Zone::wib));
}

TEST(Validate, MalformedDatesAreRefused) {
  for (std::string_view input : {"2026-02", "2026/02/03", "26-02-03", "2026-02-03-01", "kemarin",
                                 "2026-0a-01", "1899-12-31", "2200-01-01", "2026--01"}) {
    EXPECT_FALSE(validate_date(input)) << input;
  }
}

TEST(Validate, DateTimeCanonicalFormIsKept) {
  EXPECT_EQ(canonical(EntityType::kasus, "received_at", "2026-03-01T08:15:00Z"),
            "2026-03-01T08:15:00Z");
}

TEST(Validate, DateTimeWithoutZoneIsTakenAsUtc) {
  EXPECT_EQ(canonical(EntityType::kasus, "received_at", "2026-03-01 08:15"),
            "2026-03-01T08:15:00Z");
  EXPECT_EQ(canonical(EntityType::kasus, "received_at", "2026-03-01T08:15:30"),
            "2026-03-01T08:15:30Z");
}

TEST(Validate, DateTimeWithAnOffsetIsConvertedToUtc) {
  EXPECT_EQ(canonical(EntityType::kasus, "received_at", "2026-03-01 08:15 WIB"),
            "2026-03-01T01:15:00Z");
  EXPECT_EQ(canonical(EntityType::kasus, "received_at", "2026-03-01T05:00:00+07:00"),
            "2026-02-28T22:00:00Z");
  EXPECT_EQ(canonical(EntityType::kasus, "received_at", "2024-03-01T05:00:00+0800"),
            "2024-02-29T21:00:00Z");
  EXPECT_EQ(canonical(EntityType::kasus, "received_at", "2025-12-31T23:30:00-01:00"),
            "2026-01-01T00:30:00Z");
  EXPECT_EQ(canonical(EntityType::kasus, "received_at", "2026-03-01 09:00 WIT"),
            "2026-03-01T00:00:00Z");
}

TEST(Validate, ImpossibleDateTimesAreRefused) {
  for (std::string_view input :
       {"2026-02-30T10:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T10:60:00Z",
        "2026-03-01T10:00:60Z", "2026-03-01", "2026-03-01T10", "2026-03-01T10:00:00.5Z",
        "2026-03-01T10:00:00 CET", "2026-03-01T10:00:00+15:00"}) {
    EXPECT_FALSE(validate_field(EntityType::kasus, "received_at", input)) << input;
  }
}

// Codes --------------------------------------------------------------------------------

TEST(Validate, UnknownCodeIsRefusedListingTheKnownOnes) {
  auto result = validate_field(EntityType::kasus, "forms", "fisik, pukul");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::invalid_value);
  EXPECT_EQ(result.error().message.rfind(
                "forms (Bentuk kekerasan): unknown code 'pukul'; known codes: fisik, psikis, ", 0),
            0u)
      << result.error().message;
}

TEST(Validate, CodeListIsTrimmedLoweredDedupedAndSorted) {
  EXPECT_EQ(canonical(EntityType::kasus, "forms", " Seksual, psikis ,FISIK,psikis,, "),
            "fisik,psikis,seksual");
  EXPECT_EQ(canonical(EntityType::kasus, "forms", "psikis"), "psikis");
  EXPECT_EQ(canonical(EntityType::kasus, "forms", " , "), "");
}

TEST(Validate, SingleCodeIsMatchedIgnoringCaseAndSpelledAsTheSetSpellsIt) {
  EXPECT_EQ(canonical(EntityType::orang, "sex", "p"), "P");
  EXPECT_EQ(canonical(EntityType::orang, "sex", " L "), "L");
  EXPECT_EQ(canonical(EntityType::kasus, "channel", "WhatsApp"), "whatsapp");
  EXPECT_FALSE(validate_field(EntityType::kasus, "channel", "telepon,sms"));
}

// Text ---------------------------------------------------------------------------------

TEST(Validate, TextIsTrimmedAndLineEndsBecomeNewlines) {
  EXPECT_EQ(canonical(EntityType::kasus, "summary", "  Baris satu\r\nBaris\tdua\rtiga  \n"),
            "Baris satu\nBaris\tdua\ntiga");
  EXPECT_EQ(canonical(EntityType::kasus, "summary", "Korban-Uji-0001 (usia 14)"),
            "Korban-Uji-0001 (usia 14)");
}

TEST(Validate, TextWithControlCharactersIsRefused) {
  const std::string with_bell = std::string("Catatan") + '\a' + "uji";
  const std::string message = refusal(EntityType::kasus, "summary", with_bell);
  EXPECT_NE(message.find("summary (Ringkasan kasus): contains a control character (U+0007)"),
            std::string::npos)
      << message;
  EXPECT_FALSE(validate_field(EntityType::kasus, "summary", std::string("a") + '\0' + "b"));
  EXPECT_FALSE(validate_field(EntityType::kasus, "summary", "a\x7F"));
  EXPECT_FALSE(validate_field(EntityType::kasus, "summary", "a\xC2\x85"));  // U+0085
}

TEST(Validate, TextThatIsNotUtf8IsRefused) {
  EXPECT_FALSE(validate_field(EntityType::kasus, "summary", "caf\xE9"));
  EXPECT_FALSE(validate_field(EntityType::kasus, "summary", "\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(validate_field(EntityType::kasus, "summary", "\xED\xA0\x80"));  // a surrogate
  EXPECT_EQ(canonical(EntityType::kasus, "summary", "Kekerasan — rumah \xF0\x9F\x8F\xA0"),
            "Kekerasan — rumah \xF0\x9F\x8F\xA0");
}

TEST(Validate, TextLongerThanTheFieldAllowsIsRefused) {
  const FieldSpec* spec = entity_spec(EntityType::kasus).field("summary");
  ASSERT_NE(spec, nullptr);
  EXPECT_TRUE(validate_field(EntityType::kasus, "summary", std::string(spec->max_length, 'a')));
  const std::string message =
      refusal(EntityType::kasus, "summary", std::string(spec->max_length + 1, 'a'));
  EXPECT_NE(message.find("at most " + std::to_string(spec->max_length)), std::string::npos)
      << message;
}

TEST(Validate, LengthsAreCountedInCharacters) {
  const FieldSpec* spec = entity_spec(EntityType::orang).field("name");
  ASSERT_NE(spec, nullptr);
  std::string accented;  // "é" composed: two bytes, one character
  for (std::size_t i = 0; i < spec->max_length; ++i) accented += "\xC3\xA9";
  ASSERT_EQ(accented.size(), 2 * spec->max_length);
  EXPECT_TRUE(validate_field(EntityType::orang, "name", accented));
  // Decomposed ("e" + U+0301) is composed first, so it counts the same.
  std::string decomposed;
  for (std::size_t i = 0; i < spec->max_length; ++i) decomposed += "e\xCC\x81";
  EXPECT_EQ(canonical(EntityType::orang, "name", decomposed), accented);
  const std::string message = refusal(EntityType::orang, "name", accented + "a");
  EXPECT_NE(message.find(std::to_string(spec->max_length + 1) + " characters long; at most " +
                         std::to_string(spec->max_length)),
            std::string::npos)
      << message;
}

TEST(Validate, ALongTextIsBoundedInBytesByWhatOneVersionCarries) {
  const FieldSpec* spec = entity_spec(EntityType::kasus).field("chronology");
  ASSERT_NE(spec, nullptr);
  std::string emoji;  // four bytes, one character each
  for (std::size_t i = 0; i < spec->max_length; ++i) emoji += "\xF0\x9F\x8F\xA0";
  ASSERT_GT(emoji.size(), kMaxTextBytes);
  const std::string message = refusal(EntityType::kasus, "chronology", emoji);
  EXPECT_NE(message.find("at most " + std::to_string(kMaxTextBytes) + " can be stored"),
            std::string::npos)
      << message;
  EXPECT_TRUE(validate_field(EntityType::kasus, "chronology", emoji.substr(0, kMaxTextBytes)));
}

TEST(Validate, ALineBreakInANameIsRefusedAndAllowedInAStory) {
  for (const auto& [type, field] :
       {std::pair{EntityType::orang, "name"}, std::pair{EntityType::kasus, "number"},
        std::pair{EntityType::kasus, "kelurahan"}}) {
    const FieldSpec* spec = entity_spec(type).field(field);
    ASSERT_NE(spec, nullptr);
    EXPECT_TRUE(spec->one_line()) << field;
    for (const char* text : {"Nama Uji\nKedua", "Nama Uji\r\nKedua", "Nama Uji\rKedua"}) {
      const std::string message = refusal(type, field, text);
      EXPECT_NE(message.find("line break"), std::string::npos) << field << ": " << message;
      EXPECT_EQ(message.find("Kedua"), std::string::npos) << message;  // the value is not repeated
    }
    EXPECT_FALSE(check_canonical(type, field, "Nama Uji\nKedua")) << field;  // a forged version too
  }
  EXPECT_FALSE(entity_spec(EntityType::kasus).field("chronology")->one_line());
  EXPECT_EQ(canonical(EntityType::kasus, "chronology", "Baris satu\r\nBaris dua"),
            "Baris satu\nBaris dua");
  EXPECT_EQ(canonical(EntityType::kasus, "summary", "Baris satu\nBaris dua"),
            "Baris satu\nBaris dua");
}

TEST(Validate, IdentifyingTextIsNotRepeatedInARefusal) {
  const std::string name = std::string("Nama-Uji-") + '\x01' + "-0042";
  const std::string message = refusal(EntityType::orang, "name", name);
  EXPECT_EQ(message.find("Nama-Uji"), std::string::npos) << message;
}

// Other kinds --------------------------------------------------------------------------

TEST(Validate, EmptyInputClearsAnyField) {
  EXPECT_EQ(canonical(EntityType::orang, "nik", "   "), "");
  EXPECT_EQ(canonical(EntityType::orang, "birth_date", ""), "");
  EXPECT_EQ(canonical(EntityType::kasus, "forms", ""), "");
}

TEST(Validate, IntegersLoseLeadingZerosAndKeepTheirRange) {
  EXPECT_EQ(canonical(EntityType::orang, "age", "007"), "7");
  EXPECT_EQ(canonical(EntityType::orang, "age", "+14"), "14");
  EXPECT_EQ(canonical(EntityType::orang, "age", "-0"), "0");
  EXPECT_FALSE(validate_field(EntityType::orang, "age", "-1"));
  EXPECT_FALSE(validate_field(EntityType::orang, "age", "151"));
  EXPECT_FALSE(validate_field(EntityType::orang, "age", "14 tahun"));
  EXPECT_FALSE(validate_field(EntityType::orang, "age", "99999999999999999999"));
}

TEST(Validate, RefsAreLowercaseHex) {
  EXPECT_EQ(canonical(EntityType::peran, "case", "0123456789ABCDEF0123456789abcdef"),
            "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(canonical(EntityType::peran, "case", "01234567-89ab-cdef-0123-456789abcdef"),
            "0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(validate_field(EntityType::peran, "case", "0123456789abcdef0123456789abcde"));
  EXPECT_FALSE(validate_field(EntityType::peran, "case", "0123456789abcdef0123456789abcdeg"));
}

TEST(Validate, PhoneNumbersKeepDigitsAndALeadingPlus) {
  EXPECT_EQ(canonical(EntityType::orang, "phone", "+62 812-3456-7890"), "+6281234567890");
  EXPECT_EQ(canonical(EntityType::orang, "phone", "(021) 555 0101"), "0215550101");
  EXPECT_FALSE(validate_field(EntityType::orang, "phone", "12345"));
  EXPECT_FALSE(validate_field(EntityType::orang, "phone", "0812+3456789"));
  EXPECT_FALSE(validate_field(EntityType::orang, "phone", "0812 3456 789 ext 2"));
}

TEST(Validate, BooleansAcceptIndonesianAndEnglishWords) {
  EXPECT_EQ(canonical(EntityType::kasus, "police_report_requested", "Ya"), "1");
  EXPECT_EQ(canonical(EntityType::kasus, "police_report_requested", "tidak"), "0");
  EXPECT_EQ(canonical(EntityType::kasus, "police_report_requested", "true"), "1");
  EXPECT_FALSE(validate_field(EntityType::kasus, "police_report_requested", "mungkin"));
}

TEST(Validate, DeletedTombstoneIsABooleanOnEveryEntity) {
  for (const EntitySpec& entity : all_entity_specs()) {
    EXPECT_EQ(canonical(entity.type, kDeletedField, "1"), "1") << entity.name;
    EXPECT_FALSE(validate_field(entity.type, kDeletedField, "hapus")) << entity.name;
  }
}

TEST(Validate, SecretFieldsKeepCiphertextByteForByte) {
  const std::string ciphertext = "  v1:AbCd+/==\n";
  EXPECT_EQ(canonical(EntityType::rumah_aman, "address", ciphertext), ciphertext);
  EXPECT_TRUE(check_canonical(EntityType::rumah_aman, "address", ciphertext));
}

TEST(Validate, UnknownFieldIsRefusedNamingTheEntity) {
  auto result = validate_field(EntityType::orang, "agama", "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::unknown_field);
  EXPECT_NE(result.error().message.find("'agama' is not a field of orang (Orang)"),
            std::string::npos);
}

TEST(Validate, CheckCanonicalAcceptsOnlyCanonicalText) {
  EXPECT_TRUE(check_canonical(EntityType::kasus, "forms", "fisik,psikis"));
  EXPECT_TRUE(check_canonical(EntityType::kasus, "forms", ""));
  EXPECT_TRUE(check_canonical(EntityType::kasus, "received_at", "2026-03-01T08:15:00Z"));
  auto unsorted = check_canonical(EntityType::kasus, "forms", "psikis,fisik");
  ASSERT_FALSE(unsorted);
  EXPECT_EQ(unsorted.error().code, Errc::invalid_value);
  EXPECT_FALSE(check_canonical(EntityType::kasus, "summary", " padded "));
  EXPECT_FALSE(check_canonical(EntityType::kasus, "received_at", "2026-03-01 08:15"));
  EXPECT_FALSE(check_canonical(EntityType::orang, "sex", "p"));
  EXPECT_FALSE(check_canonical(EntityType::orang, "age", "07"));
  EXPECT_EQ(check_canonical(EntityType::orang, "agama", "x").error().code, Errc::unknown_field);
}

// Every value validate_field produces is canonical: validating it again changes nothing.
TEST(Validate, CanonicalTextIsAFixedPoint) {
  const std::pair<EntityType, std::pair<std::string_view, std::string_view>> samples[] = {
      {EntityType::kasus, {"forms", "Seksual,fisik"}},
      {EntityType::kasus, {"received_at", "2026-03-01 08:15 WITA"}},
      {EntityType::kasus, {"summary", " a\r\nb "}},
      {EntityType::orang, {"nik", "3201 0517 0890 0001"}},
      {EntityType::orang, {"phone", "+62 812 3456 7890"}},
      {EntityType::orang, {"birth_date", "17/08/2010"}},
      {EntityType::orang, {"age", "012"}},
      {EntityType::peran, {"person", "01234567-89AB-cdef-0123-456789abcdef"}},
      {EntityType::kasus, {"police_report_requested", "ya"}},
  };
  for (const auto& [type, sample] : samples) {
    const auto& [field, input] = sample;
    auto once = validate_field(type, field, input);
    ASSERT_TRUE(once) << field;
    EXPECT_TRUE(check_canonical(type, field, *once)) << field << ": " << *once;
  }
}

}  // namespace
}  // namespace teduh::schema
