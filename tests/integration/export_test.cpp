// `teduh case export` (issue 13, defect 6): shelter addresses stay out of an export unless
// asked for by name on a cleared device, and the export's audit event reaches the owner
// office even when the exporting office lost the case before it synced (PROTOCOL.md
// section 5B, "Accesses recorded while a case was held").
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/hostile_device.hpp"
#include "support/server_test.hpp"

namespace teduh {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using teduh::testing::read_file;
using teduh::testing::teduh;
using teduh::testing::teduhd;
using Ran = teduh::testing::Run;

class ExportTest : public teduh::testing::ServerTest {
 protected:
  std::string device_id(const std::string& user) {
    Ran list = teduhd({"device", "list", "--data", data_, "--json"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    const json doc = json::parse(list.out);
    for (const auto& d : doc["devices"]) {
      if (d["user"] == user) return d["device"].get<std::string>();
    }
    ADD_FAILURE() << "no device of " << user << ": " << list.out << list.err;
    return {};
  }

  // The audit events of a case on a device, as "action device" lines.
  std::vector<std::pair<std::string, std::string>> audit(const std::string& store, const std::string& kasus) {
    Ran r = teduh({"audit", "--store", store, "--case", kasus, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::pair<std::string, std::string>> out;
    const json doc = json::parse(r.out);
    for (const auto& e : doc["events"]) out.emplace_back(e["action"], e["device"]);
    return out;
  }
};

TEST_F(ExportTest, ShelterAddressesAreLeftOutUnlessAskedForByNameOnAClearedDevice) {
  add_office("UJI-UPTD", "uptd_ppa");
  start_server();
  const std::string cleared = device("rumah", "UJI-UPTD", "petugas_rumah_aman", true);
  const std::string waiting = device("tunggu", "UJI-UPTD", "petugas_rumah_aman", true);
  const std::string worker = device("biasa", "UJI-UPTD", "pendamping");
  for (const auto& s : {cleared, waiting, worker}) sync(s);
  Ran clear = teduhd({"device", "clear", "--data", data_, device_id("petugas-rumah"), "--admin-key", admin_key_});
  ASSERT_EQ(clear.exit_code, 0) << clear.err;
  sync(cleared);
  const std::string address = "ALAMAT-EKSPOR-" + crypto::to_hex(crypto::random_bytes(5));
  const std::string shelter =
      run_ok({"shelter", "add", "--store", cleared, "--name", "Rumah Ekspor Uji", "--address", address});
  const std::string kasus =
      run_ok({"case", "new", "--store", cleared, "--victim-name", "Korban Ekspor", "--victim-sex", "P"});
  run_ok({"shelter", "place", "--store", cleared, "--case", kasus, "--shelter", shelter});
  sync(cleared);
  for (const auto& s : {waiting, worker}) sync(s);

  // By default: no address, and the file and the screen say so.
  const fs::path plain = dir_ / "ekspor.json";
  Ran exported = teduh({"case", "export", "--store", cleared, kasus, "--out", plain.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("Alamat rumah aman tidak disertakan"), std::string::npos) << exported.out;
  const std::string text = read_file(plain);
  EXPECT_EQ(text.find(address), std::string::npos) << "the shelter address is in a default export";
  const json doc = json::parse(text);
  EXPECT_NE(doc["rumah_aman"].get<std::string>().find("tidak disertakan"), std::string::npos);
  ASSERT_EQ(doc["shelter_stays"].size(), 1u);
  EXPECT_FALSE(doc["shelter_stays"][0].contains("shelter_address"));
  EXPECT_EQ(doc["persons"].size() > 0, true);  // the rest of the case is there

  // Asked for by name on the cleared device: included, and said so.
  const fs::path full = dir_ / "ekspor-lengkap.json";
  Ran with_shelter =
      teduh({"case", "export", "--store", cleared, kasus, "--out", full.string(), "--sertakan-rumah-aman"});
  ASSERT_EQ(with_shelter.exit_code, 0) << with_shelter.err;
  EXPECT_NE(with_shelter.out.find("DISERTAKAN"), std::string::npos) << with_shelter.out;
  EXPECT_NE(read_file(full).find(address), std::string::npos);

  // A device without clearance, or with clearance but no key yet, may not ask.
  for (const auto& store : {worker, waiting}) {
    const fs::path out = dir_ / ("ekspor-" + fs::path(store).stem().string() + ".json");
    Ran refused = teduh({"case", "export", "--store", store, kasus, "--out", out.string(), "--sertakan-rumah-aman"});
    EXPECT_EQ(refused.exit_code, 2) << store << ": " << refused.err;
    EXPECT_FALSE(fs::exists(out));
  }
}

TEST_F(ExportTest, AnExportsAuditEventReachesTheOwnerAfterTheExportingOfficeLostTheCase) {
  add_office("UJI-DP3A", "dinas");
  add_office("UJI-UPTD", "uptd_ppa");
  start_server();
  const std::string owner = device("dinas", "UJI-DP3A", "supervisor");  // may read the audit trail
  const std::string partner = device("uptd", "UJI-UPTD", "pendamping");
  const std::string kasus =
      run_ok({"case", "new", "--store", owner, "--victim-name", "Korban Dirujuk", "--victim-sex", "P"});
  const std::string referral = run_ok({"refer", "--store", owner, "--case", kasus, "--to", "UJI-UPTD", "--reason",
                                       "Pendampingan", "--consent", "yes"});
  sync(owner);
  sync(partner);

  // The partner exports the case while offline; meanwhile the owner ends the referral.
  const fs::path out = dir_ / "ekspor-mitra.json";
  Ran exported = teduh({"case", "export", "--store", partner, kasus, "--out", out.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::string partner_device = device_id("petugas-uptd");
  run_ok({"referral", "end", "--store", owner, referral});
  sync(owner);

  // The partner syncs after losing the case: its audit commit is accepted, then the case
  // leaves its store.
  const json pushed = sync(partner);
  EXPECT_EQ(pushed["rejected"], 0) << pushed.dump();
  EXPECT_EQ(pushed["purged"], 1) << pushed.dump();
  EXPECT_EQ(rows_containing(partner, "Korban Dirujuk"), 0);

  // The owner learns of the export.
  sync(owner);
  const auto events = audit(owner, kasus);
  EXPECT_NE(std::find(events.begin(), events.end(), std::make_pair(std::string("diekspor"), partner_device)),
            events.end())
      << "the owner office never learned of the export";
}

// The exception is narrow: after losing the case, a commit that changes the case, or an
// audit event that names another device, is still refused.
TEST_F(ExportTest, AfterLosingACaseOnlyAuditEventsOfTheDeviceItselfAreAccepted) {
  add_office("UJI-DP3A", "dinas");
  add_office("UJI-UPTD", "uptd_ppa");
  start_server();
  const std::string owner = device("dinas", "UJI-DP3A", "supervisor");  // may read the audit trail
  const std::string partner = device("uptd", "UJI-UPTD", "pendamping");
  const std::string kasus =
      run_ok({"case", "new", "--store", owner, "--victim-name", "Korban Dibatasi", "--victim-sex", "P"});
  const std::string referral = run_ok({"refer", "--store", owner, "--case", kasus, "--to", "UJI-UPTD", "--reason",
                                       "Pendampingan", "--consent", "yes"});
  sync(owner);
  sync(partner);
  run_ok({"case", "set", "--store", partner, kasus, "risk_level=tinggi"});  // a change, with its audit event
  run_ok({"referral", "end", "--store", owner, referral});
  sync(owner);
  const json pushed = sync(partner, 2);
  EXPECT_EQ(pushed["rejected"], 1) << pushed.dump();
  sync(owner);
  Ran shown = teduh({"case", "show", "--store", owner, kasus, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(json::parse(shown.out)["case"]["risk_level"], "tinggi");

  // A modified client of the partner forges audit events after the loss: one naming
  // another device is refused, one naming itself is accepted (and changes nothing else).
  teduh::testing::HostileDevice evil(partner);
  const std::string owner_device = device_id("petugas-dinas");
  const std::string own_device = evil.device_id().hex();
  auto case_id = sync::Id128::from_hex(kasus);
  ASSERT_TRUE(case_id);
  auto forge_audit = [&](const std::string& named_device) {
    sync::Commit c = evil.commit(*case_id, "kasus");
    const sync::EntityId event = sync::Id128::random();
    for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
             {"action", "diekspor"}, {"entity", kasus}, {"device", named_device}, {"user", "petugas-uptd"},
             {"at", "2026-01-02T03:04:05Z"}, {"office", "UJI-UPTD"}}) {
      c.versions.push_back(teduh::testing::HostileDevice::version(c, event, "audit", field, value));
    }
    evil.forge(c);
  };
  forge_audit(owner_device);
  forge_audit(own_device);
  const json forged = sync(partner, 2);
  EXPECT_EQ(forged["rejected"], 1) << forged.dump();
  EXPECT_EQ(forged["pushed"], 1) << forged.dump();
  sync(owner);
  const auto events = audit(owner, kasus);
  EXPECT_EQ(std::count(events.begin(), events.end(), std::make_pair(std::string("diekspor"), owner_device)), 0);
  EXPECT_EQ(std::count(events.begin(), events.end(), std::make_pair(std::string("diekspor"), own_device)), 1);
}

}  // namespace
}  // namespace teduh
