// Issue 17, items 3 and 5, end to end through a real teduhd on 127.0.0.1: an office records
// a case plan, a monitoring visit and a diversion's agreement, syncs, and the other holder of
// the case (a second device of the office, and an office the case is referred to) sees them;
// forged commits that write them from a role that may not, or from an office without the
// case, are refused by the server and reach no replica (PERMISSIONS.md sections 1-3).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/hostile_device.hpp"
#include "support/server_test.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using teduh::testing::HostileDevice;
using teduh::testing::teduh;

class CasePlanSyncTest : public teduh::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", "5000", 1);
    add_office("UJI-DINAS", "dinas");
    add_office("UJI-UPTD", "uptd_ppa");
    add_office("UJI-LAIN", "dinas");
    start_server();
  }

  json show(const std::string& store, const std::string& id) {
    teduh::testing::Run r = teduh({"case", "show", "--store", store, id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }

  json due(const std::string& store) {
    teduh::testing::Run r = teduh({"due", "--store", store, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }

  static std::size_t steps(const json& due_doc, const std::string& case_id,
                           const std::string& step) {
    std::size_t n = 0;
    for (const auto& d : due_doc["due"]) n += d["case"] == case_id && d["step"] == step ? 1 : 0;
    return n;
  }

  void expect_refused(const std::string& store, const std::string& why) {
    json r = sync(store, 2);
    EXPECT_EQ(r["rejected"], 1) << r.dump();
    ASSERT_TRUE(r["rejections"].is_array()) << r.dump();
    ASSERT_EQ(r["rejections"].size(), 1u) << r.dump();
    EXPECT_NE(r["rejections"][0].get<std::string>().find(why), std::string::npos) << r.dump();
  }

  static sync::EntityId id(const std::string& hex) { return *sync::Id128::from_hex(hex); }
};

TEST_F(CasePlanSyncTest, APlanAVisitAndADiversionReachTheOtherHoldersOfTheCase) {
  const std::string worker = device("worker", "UJI-DINAS", "pendamping");
  const std::string kabid = device("kabid", "UJI-DINAS", "supervisor");
  const std::string uptd = device("uptd", "UJI-UPTD", "pendamping");
  const std::string k = run_ok({"case", "new", "--store", worker, "--victim-name",
                                "Anak Korban Sinkron", "--victim-sex", "P", "--victim-birth",
                                "2017-02-02", "--incident-date", "2026-11-30"});
  const std::string child =
      run_ok({"person", "add", "--store", worker, "--case", k, "--role", "terlapor", "--name",
              "Anak Terlapor Sinkron", "--birth", "2012-08-08", "--relationship", "teman"});
  const std::string item = run_ok({"rencana", "tambah", "--store", worker, "--case", k,
                                   "--kebutuhan", "Pemulihan psikis anak", "--layanan", "konseling",
                                   "--oleh", "Psikolog UPTD", "--target", "2099-01-31"});
  const std::string visit = run_ok({"pantau", "jadwal", "--store", worker, "--case", k, "--tanggal",
                                    "2099-01-15", "--petugas", "Pendamping Uji"});
  run_ok({"pantau", "catat", "--store", worker, "--case", k, "--jadwal", visit, "--hasil",
          "Anak sudah kembali bersekolah"});
  // Before the agreement, both the prompt and the deadline are there.
  EXPECT_EQ(steps(due(worker), k, "diversi"), 1u);
  json before = show(worker, k);
  ASSERT_EQ(before["notices"].size(), 2u) << before.dump();
  teduh::testing::Run text = teduh({"case", "show", "--store", worker, k});
  EXPECT_NE(text.out.find("      Anak berhadapan dengan hukum (terlapor anak)"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("PERHATIAN: Korban berusia di bawah 12 tahun"), std::string::npos)
      << text.out << text.err;
  // Another device of the office is told at its sync that the case needs a diversion.
  EXPECT_EQ(sync(worker)["rejected"], 0);
  json told = sync(kabid);
  EXPECT_EQ(told["attention"]["diversions"], 1) << told.dump();
  const std::string diversion = run_ok(
      {"diversi", "catat", "--store", worker, "--case", k, "--tanggal", "2026-12-03", "--tempat",
       "Kantor DPPPA Uji", "--pihak", "Anak, orang tua, pembimbing kemasyarakatan", "--hasil",
       "sepakat", "--kesepakatan", "Permintaan maaf", "--anak", child});
  run_ok({"refer", "--store", worker, "--case", k, "--to", "UJI-UPTD", "--reason",
          "Pemulihan psikis", "--consent", "yes"});
  EXPECT_EQ(sync(worker)["rejected"], 0);
  sync(kabid);
  sync(uptd);

  for (const std::string& store : {worker, kabid, uptd}) {
    SCOPED_TRACE(store);
    json doc = show(store, k);
    ASSERT_EQ(doc["plan"].size(), 1u) << doc.dump();
    EXPECT_EQ(doc["plan"][0]["id"], item);
    EXPECT_EQ(doc["plan"][0]["fields"]["needs"], "Pemulihan psikis anak");
    EXPECT_EQ(doc["plan"][0]["fields"]["due_date"], "2099-01-31");
    ASSERT_EQ(doc["monitoring"].size(), 1u);
    EXPECT_EQ(doc["monitoring"][0]["fields"]["result"], "Anak sudah kembali bersekolah");
    EXPECT_FALSE(doc["monitoring"][0]["fields"]["visited_on"].get<std::string>().empty());
    ASSERT_EQ(doc["diversions"].size(), 1u);
    EXPECT_EQ(doc["diversions"][0]["id"], diversion);
    EXPECT_EQ(doc["diversions"][0]["fields"]["outcome"], "sepakat");
    EXPECT_EQ(doc["diversions"][0]["fields"]["child"], child);
    ASSERT_EQ(doc["notices"].size(), 1u) << doc.dump();  // ABH, and no more diversion prompt
    int abh = 0;
    for (const auto& r : doc["roles"]) abh += r.value("abh", false) ? 1 : 0;
    EXPECT_EQ(abh, 1);
    json d = due(store);
    EXPECT_EQ(steps(d, k, "rencana"), 1u) << d.dump();
    EXPECT_EQ(steps(d, k, "pemantauan"), 0u);
    EXPECT_EQ(steps(d, k, "diversi"), 0u);
  }

  // The supervisor marks the plan done; the worker sees it after the next sync.
  run_ok({"rencana", "selesai", "--store", kabid, item});
  EXPECT_EQ(sync(kabid)["rejected"], 0);
  sync(worker);
  EXPECT_FALSE(show(worker, k)["plan"][0]["fields"]["done_on"].get<std::string>().empty());
  EXPECT_EQ(steps(due(worker), k, "rencana"), 0u);
}

TEST_F(CasePlanSyncTest,
       APlanOrDiversionForgedByARoleThatMayNotOrByAnOfficeWithoutTheCaseIsRefused) {
  const std::string worker = device("worker", "UJI-DINAS", "pendamping");
  const std::string op = device("op", "UJI-DINAS", "operator");
  const std::string other = device("other", "UJI-LAIN", "pendamping");
  const std::string k =
      run_ok({"case", "new", "--store", worker, "--victim-name", "Korban Uji Palsu"});
  sync(worker);
  sync(op);
  sync(other);

  // The operator's client refuses first...
  teduh::testing::Run refused = teduh({"rencana", "tambah", "--store", op, "--case", k,
                                       "--kebutuhan", "Konseling", "--target", "2099-01-01"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("rencana intervensi"), std::string::npos) << refused.err;
  // ...and the server refuses the operator's forged plan item and diversion.
  {
    HostileDevice evil(op);
    sync::Commit c = evil.commit(id(k), "kasus");
    const sync::EntityId item = sync::Id128::random();
    for (auto [field, value] : std::vector<std::pair<std::string, std::string>>{
             {"case", k}, {"needs", "Rencana palsu"}, {"due_date", "2099-01-01"}}) {
      c.versions.push_back(HostileDevice::version(c, item, "rencana", field, value));
    }
    evil.forge(c);
  }
  expect_refused(op, "rencana_pemantauan");
  {
    HostileDevice evil(op);
    sync::Commit c = evil.commit(id(k), "kasus");
    const sync::EntityId d = sync::Id128::random();
    for (auto [field, value] : std::vector<std::pair<std::string, std::string>>{
             {"case", k}, {"agreed_on", "2026-12-01"}, {"outcome", "sepakat"}}) {
      c.versions.push_back(HostileDevice::version(c, d, "diversi", field, value));
    }
    evil.forge(c);
  }
  expect_refused(op, "rencana_pemantauan");
  EXPECT_NE(log().find("rencana_pemantauan"), std::string::npos);

  // A case worker of an office that neither owns the case nor has it referred.
  {
    HostileDevice evil(other);
    sync::Commit c = evil.commit(id(k), "kasus");
    const sync::EntityId v = sync::Id128::random();
    for (auto [field, value] :
         std::vector<std::pair<std::string, std::string>>{{"case", k},
                                                          {"scheduled_on", "2026-12-01"},
                                                          {"visited_on", "2026-12-01"},
                                                          {"result", "Kunjungan palsu"}}) {
      c.versions.push_back(HostileDevice::version(c, v, "pemantauan", field, value));
    }
    evil.forge(c);
  }
  expect_refused(other, "neither owned by nor referred to");

  // Nothing of it reached the owner office, which keeps syncing.
  EXPECT_EQ(sync(worker)["rejected"], 0);
  json doc = show(worker, k);
  EXPECT_TRUE(doc["plan"].empty()) << doc.dump();
  EXPECT_TRUE(doc["monitoring"].empty());
  EXPECT_TRUE(doc["diversions"].empty());
  EXPECT_EQ(rows_containing(worker, "palsu"), 0);
}

}  // namespace
}  // namespace teduh
