// Who sees what, end to end through a real teduhd on 127.0.0.1 (PERMISSIONS.md,
// PROTOCOL.md section 5B): five enrolled devices, referrals under consent, a consent
// withdrawn, a referral ended, a transfer, and devices that try what they may not.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/server_test.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using teduh::testing::teduh;
using teduh::testing::teduhd;

class AccessTest : public teduh::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", "5000", 1);
    add_office("UJI-UPTD", "uptd_ppa");
    add_office("UJI-KEL", "kelurahan");
    add_office("UJI-MITRA", "mitra");
    add_office("UJI-PUSAT", "pusat");
    start_server();
    shelter_ = device("shelter", "UJI-UPTD", "petugas_rumah_aman", true);
    worker_ = device("worker", "UJI-UPTD", "pendamping");
    kel_ = device("kel", "UJI-KEL", "operator");
    mitra_ = device("mitra", "UJI-MITRA", "pendamping");
    pusat_ = device("pusat", "UJI-PUSAT", "analis");
  }

  void sync_all() {
    for (const auto& s : {kel_, worker_, shelter_, mitra_, pusat_}) sync(s);
  }

  std::string new_case(const std::string& store, const std::string& victim) {
    return run_ok({"case", "new", "--store", store, "--victim-name", victim, "--victim-sex", "P"});
  }

  std::string refer(const std::string& store, const std::string& id, const std::string& office) {
    return run_ok({"refer", "--store", store, "--case", id, "--to", office, "--reason", "Lanjutan",
                   "--consent", "yes"});
  }

  // The cases `case list --json` shows on a device, as ids.
  std::set<std::string> listed(const std::string& store) {
    teduh::testing::Run r = teduh({"case", "list", "--store", store, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> ids;
    const json doc = json::parse(r.out);
    for (const auto& c : doc["cases"]) ids.insert(c["id"].get<std::string>());
    return ids;
  }

  std::string shelter_, worker_, kel_, mitra_, pusat_;
};

TEST_F(AccessTest, EachDeviceSeesExactlyItsOfficeCasesAndThoseReferredWithConsent) {
  const std::string k1 = new_case(kel_, "Warga Pos Saja");       // stays at the post
  const std::string k2 = new_case(kel_, "Warga Dirujuk Uptd");   // referred to the UPTD PPA
  refer(kel_, k2, "UJI-UPTD");
  const std::string u1 = new_case(worker_, "Warga Uptd Mitra");  // UPTD's own, referred on
  refer(worker_, u1, "UJI-MITRA");
  sync_all();
  sync_all();

  EXPECT_EQ(listed(kel_), (std::set<std::string>{k1, k2}));
  EXPECT_EQ(listed(worker_), (std::set<std::string>{k2, u1}));
  EXPECT_EQ(listed(shelter_), (std::set<std::string>{k2, u1}));  // same office, cleared or not
  EXPECT_EQ(listed(mitra_), (std::set<std::string>{u1}));
  // The raw stores agree with the lists: nothing of a case is held where it is not listed.
  EXPECT_EQ(held(kel_), (std::set<std::string>{k1, k2}));
  EXPECT_EQ(held(worker_), (std::set<std::string>{k2, u1}));
  EXPECT_EQ(held(mitra_), (std::set<std::string>{u1}));
  EXPECT_EQ(rows_containing(mitra_, "Warga Pos Saja"), 0);
  // The central office receives no case; its analyst may not even list them.
  EXPECT_TRUE(held(pusat_).empty());
  teduh::testing::Run pusat_list = teduh({"case", "list", "--store", pusat_, "--json"});
  EXPECT_EQ(pusat_list.exit_code, 2);
  EXPECT_NE(pusat_list.err.find("pusat"), std::string::npos) << pusat_list.err;
  EXPECT_NE(log().find("withheld"), std::string::npos);  // the server says what it held back

  // The UPTD PPA accepts the referral; the post sees the answer.
  json refs = json::parse(teduh({"referral", "list", "--store", worker_, "--json"}).out);
  std::string from_kel;
  for (const auto& r : refs) {
    if (r["case"] == k2) from_kel = r["id"];
  }
  ASSERT_FALSE(from_kel.empty());
  EXPECT_EQ(teduh({"referral", "accept", "--store", kel_, from_kel}).exit_code, 2);  // not the receiver
  run_ok({"referral", "accept", "--store", worker_, from_kel});
  sync(worker_);
  sync(kel_);
  json kel_refs = json::parse(teduh({"referral", "list", "--store", kel_, "--json"}).out);
  ASSERT_EQ(kel_refs.size(), 1u);
  EXPECT_EQ(kel_refs[0]["status"], "diterima");

  // The victim withdraws the consent behind the partner's referral: the partner's store
  // no longer holds the case after its next sync (checked on its raw tables).
  json worker_refs = json::parse(teduh({"referral", "list", "--store", worker_, "--json"}).out);
  std::string consent_for_mitra;
  for (const auto& r : worker_refs) {
    if (r["case"] == u1) consent_for_mitra = r["consent"];
  }
  ASSERT_FALSE(consent_for_mitra.empty());
  run_ok({"consent", "withdraw", "--store", worker_, consent_for_mitra});
  sync(worker_);
  json purged = sync(mitra_);
  EXPECT_EQ(purged["purged"], 1);
  EXPECT_TRUE(listed(mitra_).empty());
  EXPECT_TRUE(held(mitra_).empty());
  EXPECT_EQ(rows_containing(mitra_, "Warga Uptd Mitra"), 0);
  EXPECT_EQ(listed(worker_), (std::set<std::string>{k2, u1}));  // the owner keeps it

  // The post ends its referral: the UPTD PPA's devices lose the case.
  run_ok({"referral", "end", "--store", kel_, from_kel});
  sync(kel_);
  EXPECT_EQ(sync(worker_)["purged"], 1);
  EXPECT_EQ(sync(shelter_)["purged"], 1);
  EXPECT_EQ(held(worker_), (std::set<std::string>{u1}));
  EXPECT_EQ(rows_containing(worker_, "Warga Dirujuk Uptd"), 0);
  EXPECT_EQ(listed(kel_), (std::set<std::string>{k1, k2}));
}

TEST_F(AccessTest, ATransferMovesTheCaseOnlyWhenAccepted) {
  const std::string k1 = new_case(kel_, "Warga Dipindah");
  teduh::testing::Run no_consent =
      teduh({"transfer", "--store", kel_, "--case", k1, "--to", "UJI-UPTD", "--consent", "no"});
  EXPECT_EQ(no_consent.exit_code, 2);
  const std::string t = run_ok({"transfer", "--store", kel_, "--case", k1, "--to", "UJI-UPTD", "--consent", "yes"});
  sync(kel_);
  sync(worker_);
  // Proposed: the UPTD PPA reads the case to decide; the post still owns it.
  EXPECT_EQ(listed(worker_), (std::set<std::string>{k1}));
  EXPECT_EQ(listed(kel_), (std::set<std::string>{k1}));
  run_ok({"transfer", "accept", "--store", worker_, t});
  sync(worker_);
  json moved = sync(kel_);
  EXPECT_EQ(moved["purged"], 1);  // the post no longer holds a case it handed over
  EXPECT_TRUE(held(kel_).empty());
  json doc = json::parse(teduh({"case", "show", "--store", worker_, k1, "--json"}).out);
  EXPECT_EQ(doc["case"]["owner_office"], "UJI-UPTD");
  // The new owner's other device receives the whole case.
  sync(shelter_);
  EXPECT_EQ(listed(shelter_), (std::set<std::string>{k1}));
}

// Found by the deterministic simulation (seed 32): the server gave no grant of its own to
// an owner that handed the case over while the new owner had referred it back, so the
// former owner read nothing more, and got no Purge either: a stale copy for good.
TEST_F(AccessTest, AFormerOwnerStillReferredKeepsReceivingTheCaseAfterATransfer) {
  const std::string k1 = new_case(kel_, "Warga Bolak Balik");
  refer(kel_, k1, "UJI-UPTD");
  sync(kel_);
  sync(worker_);
  json refs = json::parse(teduh({"referral", "list", "--store", worker_, "--json"}).out);
  ASSERT_EQ(refs.size(), 1u);
  run_ok({"referral", "accept", "--store", worker_, refs[0]["id"].get<std::string>()});
  refer(worker_, k1, "UJI-KEL");  // the UPTD PPA refers it back to the post, with consent
  sync(worker_);
  const std::string t = run_ok({"transfer", "--store", kel_, "--case", k1, "--to", "UJI-UPTD", "--consent", "yes"});
  sync(kel_);
  sync(worker_);
  run_ok({"transfer", "accept", "--store", worker_, t});
  run_ok({"case", "set", "--store", worker_, k1, "summary=Ditangani UPTD setelah alih kelola"});
  sync(worker_);
  json after = sync(kel_);
  EXPECT_EQ(after["purged"], 0);  // still referred: the post keeps the case
  json doc = json::parse(teduh({"case", "show", "--store", kel_, k1, "--json"}).out);
  EXPECT_EQ(doc["case"]["owner_office"], "UJI-UPTD");
  EXPECT_EQ(doc["case"]["summary"], "Ditangani UPTD setelah alih kelola");
}

TEST_F(AccessTest, WritesWhereADeviceMayNotAreRefusedLoggedAndDoNotBlockItsLaterWork) {
  const std::string k1 = new_case(kel_, "Warga Pos");
  sync(kel_);
  sync(mitra_);
  ASSERT_TRUE(listed(mitra_).empty());
  auto k1_id = *sync::Id128::from_hex(k1);

  // A partner office writes into the post's case, bypassing its own client's checks.
  {
    auto s = client::Store::open(mitra_, teduh::testing::kOfficePassphrase);
    ASSERT_TRUE(s) << s.error().message;
    auto c = s->write(k1_id, "kasus", {{k1_id, "kasus", "risk_level", "tinggi"}});
    ASSERT_TRUE(c) << c.error().message;
  }
  const std::string m1 = new_case(mitra_, "Warga Mitra");  // its next, legitimate work
  json refused = sync(mitra_, 2);
  EXPECT_EQ(refused["rejected"], 1);
  EXPECT_EQ(refused["pushed"], 1);  // the refused commit does not block the case after it
  EXPECT_NE(log().find("neither owned by nor referred"), std::string::npos);

  // The post refers its case without a consent for the receiving office.
  {
    auto s = client::Store::open(kel_, teduh::testing::kOfficePassphrase);
    ASSERT_TRUE(s) << s.error().message;
    auto r = sync::Id128::random();
    auto c = s->write(k1_id, "kasus",
                      {{r, "rujukan", "case", k1}, {r, "rujukan", "to_office", "UJI-MITRA"},
                       {r, "rujukan", "status", "dikirim"}});
    ASSERT_TRUE(c) << c.error().message;
  }
  json no_consent = sync(kel_, 2);
  EXPECT_EQ(no_consent["rejected"], 1);
  EXPECT_NE(log().find("without a recorded consent"), std::string::npos);
  sync(mitra_);
  EXPECT_EQ(listed(mitra_), (std::set<std::string>{m1}));  // the case did not reach the partner
  EXPECT_EQ(rows_containing(mitra_, "Warga Pos"), 0);

  // The central office's analyst device may not write cases at all.
  {
    auto s = client::Store::open(pusat_, teduh::testing::kOfficePassphrase);
    ASSERT_TRUE(s) << s.error().message;
    auto id = sync::Id128::random();
    ASSERT_TRUE(s->write(id, "kasus", {{id, "kasus", "summary", "uji"}}));
  }
  EXPECT_EQ(sync(pusat_, 2)["rejected"], 1);
  EXPECT_NE(log().find("may not write cases"), std::string::npos);
}

}  // namespace
}  // namespace teduh
