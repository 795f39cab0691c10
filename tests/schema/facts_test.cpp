// Derivations shared by the report, the projection and the workflow (schema/facts.hpp).
#include "teduh/schema/facts.hpp"
#include "teduh/schema/codes.hpp"

#include <gtest/gtest.h>

namespace teduh::schema {
namespace {

TEST(Facts, CodeListsSplitOnCommasWithoutEmptyParts) {
  EXPECT_EQ(split_codes("fisik,psikis"), (std::vector<std::string>{"fisik", "psikis"}));
  EXPECT_EQ(split_codes(",fisik,,"), (std::vector<std::string>{"fisik"}));
  EXPECT_TRUE(split_codes("").empty());
}

TEST(Facts, AgeCountsWholeYearsUpToTheBirthday) {
  EXPECT_EQ(age_in_years("2010-06-15", "2026-06-14T23:59:59Z"), 15);
  EXPECT_EQ(age_in_years("2010-06-15", "2026-06-15"), 16);
  EXPECT_EQ(age_in_years("", "2026-06-15"), -1);
  EXPECT_EQ(age_in_years("2010-xx-15", "2026-06-15"), -1);
}

TEST(Facts, AgeGroupsFollowSimfoniFromTheBirthDateElseTheRecordedAge) {
  EXPECT_EQ(victim_age_group("2021-01-01", "", "2026-12-31"), "0-5");
  EXPECT_EQ(victim_age_group("2020-01-01", "", "2026-01-01"), "6-12");
  EXPECT_EQ(victim_age_group("2009-01-02", "", "2026-01-01"), "13-17");
  EXPECT_EQ(victim_age_group("2008-01-01", "", "2026-01-01"), "18-24");
  EXPECT_EQ(victim_age_group("", "44", "2026-01-01"), "25-44");
  EXPECT_EQ(victim_age_group("", "45", "2026-01-01"), "45-59");
  EXPECT_EQ(victim_age_group("", "60", "2026-01-01"), "60+");
  EXPECT_EQ(victim_age_group("1950-01-01", "9", "2026-01-01"), "60+");  // the birth date wins
  EXPECT_EQ(victim_age_group("", "", "2026-01-01"), "tidak_diketahui");
  EXPECT_EQ(victim_age_group("", "banyak", "2026-01-01"), "tidak_diketahui");
}

TEST(Facts, APersonsAgeIsFromTheBirthDateElseTheRecordedAge) {
  EXPECT_EQ(person_age("2011-06-01", "", "2026-11-20"), 15);
  EXPECT_EQ(person_age("2008-11-21", "", "2026-11-20T10:00:00Z"), 17);  // 18 the next day
  EXPECT_EQ(person_age("", "11", "2026-11-20"), 11);
  EXPECT_EQ(person_age("", "", "2026-11-20"), -1);
}

// SCHEMA.md section 3, "jenis_layanan": every code is on one side of the response rule.
TEST(Facts, TheServicesThatAnswerAComplaintAreTheOnesSchemaMdNames) {
  for (std::string_view kind : {"penjangkauan", "asesmen_awal", "konseling", "pendampingan_hukum", "mediasi",
                                "kesehatan_visum", "kunjungan_rumah", "klarifikasi", "rumah_aman", "diversi"}) {
    EXPECT_TRUE(counts_as_response(kind)) << kind;
  }
  for (std::string_view kind : {"pengaduan", "pemulangan", "rehabilitasi_sosial", "reintegrasi",
                                "pemberdayaan_ekonomi", "", "tidak_dikenal"}) {
    EXPECT_FALSE(counts_as_response(kind)) << kind;
  }
  EXPECT_EQ(find_code_set("jenis_layanan")->codes.size(), 15u)  // a new code: decide its side above
      << "a new jenis_layanan code must be placed on one side of counts_as_response";
}

}  // namespace
}  // namespace teduh::schema
