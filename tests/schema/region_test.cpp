#include <gtest/gtest.h>

#include <string>

#include "teduh/schema/region.hpp"

namespace teduh::schema {
namespace {

TEST(NormalizeRegion, EachLevelOfTheHierarchyIsItsDigits) {
  EXPECT_EQ(normalize_region("32").value(), "32");                    // provinsi
  EXPECT_EQ(normalize_region("3276").value(), "3276");                // kabupaten/kota
  EXPECT_EQ(normalize_region("3276010").value(), "3276010");          // kecamatan
  EXPECT_EQ(normalize_region("3276010001").value(), "3276010001");    // desa/kelurahan
  EXPECT_EQ(normalize_region("32.76").value(), "3276");               // dots between levels
  EXPECT_EQ(normalize_region("32.76.010.001").value(), "3276010001");
  EXPECT_EQ(normalize_region("").value(), "");                        // no region
}

TEST(NormalizeRegion, MalformedCodesAreRefusedWithAnIndonesianSentence) {
  for (const char* bad : {"3", "327", "32760", "327601", "32760100", "32760100011", "32.7.6", "3.276",
                          "32..76", "32.76.", "3276a", " 32", "99", "00", "20"}) {
    auto r = normalize_region(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_value);
    EXPECT_NE(r.error().message.find("Kode wilayah '" + std::string(bad) + "' tidak dapat dipakai"),
              std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("10 angka (desa/kelurahan"), std::string::npos);
  }
  EXPECT_NE(normalize_region("327601").error().message.find("memiliki 6 angka"), std::string::npos);
  EXPECT_NE(normalize_region("9901").error().message.find("(99) bukan kode provinsi"), std::string::npos);
}

TEST(RegionWithin, APrefixCountsOnlyAtTheHierarchysBoundaries) {
  EXPECT_TRUE(region_within("3276", "32"));
  EXPECT_TRUE(region_within("3276010001", "3276010"));
  EXPECT_TRUE(region_within("3276", "3276"));
  EXPECT_TRUE(region_within("3276", ""));
  EXPECT_FALSE(region_within("3275", "3276"));
  EXPECT_FALSE(region_within("32", "3276"));  // a province is not in one of its cities
  EXPECT_FALSE(region_within("", "32"));
  // Dotted codes written by older stores are read as their digits.
  EXPECT_TRUE(region_within("32.76", "32"));
  EXPECT_TRUE(region_within("32.76.01", "3276"));
  EXPECT_EQ(region_digits("32.76.01"), "327601");
  EXPECT_EQ(region_digits("tidak-tahu"), "tidak-tahu");
}

}  // namespace
}  // namespace teduh::schema
