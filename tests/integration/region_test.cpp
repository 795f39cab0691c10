// Region codes as a BPS hierarchy through the programs (issue 15.4): `teduhd office add`
// refuses a malformed code in Indonesian, `teduh report --region 32` takes an office of
// 3276, and a region no known office lies in is said on stderr instead of a silent 0.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/server_test.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using teduh::testing::teduh;
using teduh::testing::teduhd;

class RegionTest : public teduh::testing::ServerTest {};

TEST_F(RegionTest, OfficeAddRefusesAMalformedRegionCode) {
  testing::Run bad = teduhd({"office", "add", "--data", data_, "--code", "UJI-X", "--name", "Kantor X", "--kind",
                             "dinas", "--region", "32.76.01"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("Kode wilayah '32.76.01' tidak dapat dipakai: kode ini memiliki 6 angka"),
            std::string::npos)
      << bad.err;
  testing::Run list = teduhd({"office", "list", "--data", data_, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(json::parse(list.out)["offices"].empty());
}

TEST_F(RegionTest, AProvinceTakesItsCitiesAndAnUnknownRegionIsWarnedAbout) {
  add_office("UJI-DPK", "dinas", "32.76");  // stored as 3276
  add_office("UJI-BKS", "dinas", "3275");
  start_server();
  const std::string store = device("dpk", "UJI-DPK", "pendamping");
  run_ok({"case", "new", "--store", store, "--victim-name", "Korban Wilayah Uji", "--victim-sex", "P"});
  sync(store);  // brings the directory: both offices

  for (const char* wanted : {"32", "3276", "32.76"}) {
    testing::Run r = teduh({"report", "--store", store, "--json", "--region", wanted});
    ASSERT_EQ(r.exit_code, 0) << wanted << ": " << r.err;
    EXPECT_EQ(json::parse(r.out)["total_cases"], 1) << wanted;
    EXPECT_EQ(r.err.find("Peringatan"), std::string::npos) << wanted << ": " << r.err;
  }
  // A neighbour the directory knows: an honest 0, no warning.
  testing::Run bks = teduh({"report", "--store", store, "--json", "--region", "3275"});
  ASSERT_EQ(bks.exit_code, 0) << bks.err;
  EXPECT_EQ(json::parse(bks.out)["total_cases"], 0);
  EXPECT_EQ(bks.err.find("Peringatan"), std::string::npos) << bks.err;
  // A region no known office lies in: 0, and a warning on stderr (stdout stays JSON).
  testing::Run none = teduh({"report", "--store", store, "--json", "--region", "3374"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(json::parse(none.out)["total_cases"], 0);
  EXPECT_NE(none.err.find("Peringatan: tidak ada kantor yang dikenal di wilayah 3374"), std::string::npos)
      << none.err;
  // A code between two levels is refused before anything is counted.
  testing::Run refused = teduh({"report", "--store", store, "--region", "327"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("--region: Kode wilayah '327' tidak dapat dipakai"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace teduh
