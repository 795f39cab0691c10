// Derivations shared by the report, the projection and the workflow (schema/facts.hpp).
#include "teduh/schema/facts.hpp"

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

}  // namespace
}  // namespace teduh::schema
