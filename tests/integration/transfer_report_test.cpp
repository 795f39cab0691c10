// Issue 15.8 through the programs: a kelurahan post transfers an intake to the UPTD PPA; once
// accepted, the case leaves the post's store at its next sync, yet the post's own report
// still counts the intake it handled (from a de-identified record), and the UPTD PPA's too.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/server_test.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using teduh::testing::teduh;

class TransferReportTest : public teduh::testing::ServerTest {
 protected:
  json report(const std::string& store) {
    testing::Run r = teduh({"report", "--store", store, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  std::string transfer_of(const std::string& store) {
    testing::Run r = teduh({"referral", "list", "--store", store, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const auto& row : json::parse(r.out)) {
      if (row["kind"] == "alih_kelola") return row["id"];
    }
    ADD_FAILURE() << "no transfer on " << store;
    return {};
  }
};

TEST_F(TransferReportTest, TheSendingPostKeepsItsTransferredIntakeInItsCounts) {
  add_office("UJI-KEL", "kelurahan", "3275010001");
  add_office("UJI-UPTD", "uptd_ppa", "3275");
  start_server();
  const std::string kel = device("kel", "UJI-KEL", "pendamping");
  const std::string uptd = device("uptd", "UJI-UPTD", "pendamping");
  const std::string kasus = run_ok({"case", "new", "--store", kel, "--channel", "whatsapp", "--forms", "psikis",
                                    "--victim-name", "Nama Penanda Pindah", "--victim-sex", "L"});
  run_ok({"case", "new", "--store", kel, "--channel", "telepon", "--victim-name", "Nama Penanda Tetap"});
  run_ok({"transfer", "--store", kel, "--case", kasus, "--to", "UJI-UPTD", "--consent", "yes"});
  sync(kel);
  sync(uptd);
  run_ok({"transfer", "accept", "--store", uptd, transfer_of(uptd)});
  sync(uptd);
  EXPECT_EQ(sync(kel)["purged"], 1);

  // The case has left the post's store; the post's report still counts both intakes.
  EXPECT_EQ(rows_containing(kel, "Nama Penanda Pindah"), 0);
  const json post = report(kel);
  EXPECT_EQ(post["total_cases"], 2) << post.dump();
  EXPECT_EQ(post["by_channel"]["whatsapp"], 1);
  EXPECT_EQ(post["by_office"], json({{"UJI-KEL", 2}}));
  EXPECT_EQ(teduh({"report", "--store", kel, "--json"}).out.find("Penanda"), std::string::npos);
  // The UPTD PPA, now the owner, counts it too: each office reports what it handled.
  const json receiver = report(uptd);
  EXPECT_EQ(receiver["total_cases"], 1) << receiver.dump();
  // Another sync changes nothing.
  sync(kel);
  EXPECT_EQ(report(kel)["total_cases"], 2);
}

}  // namespace
}  // namespace teduh
