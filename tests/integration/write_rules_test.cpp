// The server enforces every write rule (issue 12 defects 4 and 5, issue 13 defect 2),
// end to end through a real teduhd on 127.0.0.1: hostile devices (HostileDevice) sign and
// push commits that the honest client would never write, and each is refused with its
// reason while the offices keep syncing; the honest client refuses the same writes first
// (PERMISSIONS.md section 3, PROTOCOL.md section 5B).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "support/hostile_device.hpp"
#include "support/server_test.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using teduh::testing::HostileDevice;
using teduh::testing::teduh;
using teduh::testing::teduhd;

class WriteRulesTest : public teduh::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", "5000", 1);
    add_office("UJI-KEL", "kelurahan");
    add_office("UJI-UPTD", "uptd_ppa");
    add_office("UJI-DINAS", "dinas");
    start_server();
  }

  std::string new_case(const std::string& store, const std::string& victim) {
    return run_ok({"case", "new", "--store", store, "--victim-name", victim, "--victim-sex", "P"});
  }

  // The cases `case list --json` shows on a device, as ids.
  std::set<std::string> listed(const std::string& store) {
    teduh::testing::Run r = teduh({"case", "list", "--store", store, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> ids;
    if (r.exit_code != 0) return ids;
    const json doc = json::parse(r.out);
    for (const auto& c : doc["cases"]) ids.insert(c["id"].get<std::string>());
    return ids;
  }

  json show(const std::string& store, const std::string& id) {
    teduh::testing::Run r = teduh({"case", "show", "--store", store, id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }

  // The owner office the server records for a scope (`teduhd debug dump`, table scopes).
  std::string server_owner(const std::string& scope) {
    teduh::testing::Run dump = teduhd({"debug", "dump", "--data", data_});
    EXPECT_EQ(dump.exit_code, 0) << dump.err;
    const std::string row = "\nx'" + scope + "'\tkasus\t";
    const auto table = dump.out.find("== scopes\n");
    if (table == std::string::npos) return {};
    const auto at = dump.out.find(row, table);
    if (at == std::string::npos || at > dump.out.find("\n== ", table + 1)) return {};
    const auto begin = at + row.size();
    return dump.out.substr(begin, dump.out.find('\t', begin) - begin);
  }

  // A forged commit is refused at the next sync (exit 2), with a reason that says `why`.
  void expect_refused(const std::string& store, const std::string& why) {
    json r = sync(store, 2);
    EXPECT_EQ(r["rejected"], 1) << r.dump();
    ASSERT_TRUE(r["rejections"].is_array()) << r.dump();
    ASSERT_EQ(r["rejections"].size(), 1u) << r.dump();
    EXPECT_NE(r["rejections"][0].get<std::string>().find(why), std::string::npos) << r.dump();
  }

  // The id of the first referral or transfer a device lists for a case.
  std::string referral_of(const std::string& store, const std::string& case_id, const std::string& kind) {
    teduh::testing::Run r = teduh({"referral", "list", "--store", store, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const auto& row : json::parse(r.out)) {
      if (row["case"] == case_id && row["kind"] == kind) return row["id"];
    }
    ADD_FAILURE() << "no " << kind << " of case " << case_id << " on " << store;
    return {};
  }

  std::string device_id(const std::string& user) {
    teduh::testing::Run list = teduhd({"device", "list", "--data", data_, "--json"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    const json doc = json::parse(list.out);
    for (const auto& d : doc["devices"]) {
      if (d["user"] == user) return d["device"].get<std::string>();
    }
    ADD_FAILURE() << "no device of " << user;
    return {};
  }

  // The administrator clears a registered --shelter device; its next sync brings the key.
  void clear(const std::string& name, const std::string& store) {
    teduh::testing::Run r =
        teduhd({"device", "clear", "--data", data_, device_id("petugas-" + name), "--admin-key", admin_key_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    sync(store);
  }

  static sync::EntityId id(const std::string& hex) { return *sync::Id128::from_hex(hex); }
};

TEST_F(WriteRulesTest, AReferredOfficeThatForgesAnAcceptedTransferDoesNotTakeTheCase) {
  const std::string kel = device("kel", "UJI-KEL", "operator");
  const std::string uptd = device("uptd", "UJI-UPTD", "pendamping");
  const std::string k1 = new_case(kel, "Warga Dirujuk");
  run_ok({"refer", "--store", kel, "--case", k1, "--to", "UJI-UPTD", "--reason", "Lanjutan", "--consent", "yes"});
  sync(kel);
  sync(uptd);
  run_ok({"referral", "accept", "--store", uptd, referral_of(uptd, k1, "rujukan")});
  sync(uptd);
  sync(kel);
  ASSERT_EQ(listed(uptd), (std::set<std::string>{k1}));

  // The referred office writes a consent and a transfer to itself, already accepted,
  // and the case's owner field: everything an accepted transfer would hold.
  HostileDevice evil(uptd);
  sync::Commit c = evil.commit(id(k1), "kasus");
  const sync::EntityId consent = sync::Id128::random(), transfer = sync::Id128::random();
  for (auto [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"case", k1}, {"given_by", "korban"}, {"scope", "rujukan"}, {"scope_office", "UJI-UPTD"}}) {
    c.versions.push_back(HostileDevice::version(c, consent, "persetujuan", field, value));
  }
  c.versions.push_back(HostileDevice::version(c, transfer, "alih_kelola", "case", k1));
  c.versions.push_back(HostileDevice::version(c, transfer, "alih_kelola", "to_office", "UJI-UPTD"));
  c.versions.push_back(HostileDevice::version(c, transfer, "alih_kelola", "status", "diterima"));
  c.versions.push_back(HostileDevice::version(c, id(k1), "kasus", "owner_office", "UJI-UPTD"));
  evil.forge(c);
  expect_refused(uptd, "owns the case");
  EXPECT_NE(log().find("owns the case"), std::string::npos);

  // Ownership is unchanged on the server and on every device, which keep syncing.
  EXPECT_EQ(server_owner(k1), "UJI-KEL");
  EXPECT_EQ(sync(kel)["purged"], 0);
  sync(uptd);
  EXPECT_EQ(listed(kel), (std::set<std::string>{k1}));
  EXPECT_EQ(show(kel, k1)["case"]["owner_office"], "UJI-KEL");
  EXPECT_EQ(show(uptd, k1)["case"]["owner_office"], "UJI-KEL");
  sync(uptd);  // its audit of that opening reaches the owner while it still holds the case
  // The post still decides: it ends the referral and the UPTD PPA loses the case.
  run_ok({"referral", "end", "--store", kel, referral_of(kel, k1, "rujukan")});
  sync(kel);
  EXPECT_EQ(sync(uptd)["purged"], 1);
  EXPECT_TRUE(listed(uptd).empty());
  EXPECT_EQ(listed(kel), (std::set<std::string>{k1}));
  EXPECT_EQ(server_owner(k1), "UJI-KEL");
}

TEST_F(WriteRulesTest, ATransferMovesTheCaseOnlyByTheOwnersProposalAndTheReceiversAcceptance) {
  const std::string kel = device("kel", "UJI-KEL", "pendamping");  // a role that may answer transfers
  const std::string uptd = device("uptd", "UJI-UPTD", "pendamping");
  const std::string uptd_operator = device("uptd-op", "UJI-UPTD", "operator");
  const std::string k1 = new_case(kel, "Warga Dipindah");
  for (const auto& s : {kel, uptd, uptd_operator}) sync(s);
  const std::string t =
      run_ok({"transfer", "--store", kel, "--case", k1, "--to", "UJI-UPTD", "--consent", "yes"});
  sync(kel);
  sync(uptd);
  sync(uptd_operator);
  ASSERT_EQ(listed(uptd), (std::set<std::string>{k1}));

  // The owner cannot answer for the receiving office: its forged acceptance is refused.
  {
    HostileDevice evil(kel);
    sync::Commit c = evil.commit(id(k1), "kasus");
    c.versions.push_back(HostileDevice::version(c, id(t), "alih_kelola", "status", "diterima"));
    evil.forge(c);
  }
  expect_refused(kel, "accepted or declined only by a device of the office it is sent to");
  // A device of the receiving office whose role may not answer transfers is refused too,
  // by its client and, forged, by the server.
  teduh::testing::Run op = teduh({"transfer", "accept", "--store", uptd_operator, t});
  EXPECT_EQ(op.exit_code, 2) << op.err;
  {
    HostileDevice evil(uptd_operator);
    sync::Commit c = evil.commit(id(k1), "kasus");
    c.versions.push_back(HostileDevice::version(c, id(t), "alih_kelola", "status", "diterima"));
    evil.forge(c);
  }
  expect_refused(uptd_operator, "jawab_rujukan");
  EXPECT_EQ(server_owner(k1), "UJI-KEL");
  EXPECT_EQ(sync(kel)["purged"], 0);
  EXPECT_EQ(listed(kel), (std::set<std::string>{k1}));

  // The receiving office's case worker accepts: the case moves, and both offices keep
  // syncing afterwards.
  run_ok({"transfer", "accept", "--store", uptd, t});
  sync(uptd);
  EXPECT_EQ(sync(kel)["purged"], 1);
  EXPECT_TRUE(listed(kel).empty());
  EXPECT_EQ(server_owner(k1), "UJI-UPTD");
  EXPECT_EQ(show(uptd, k1)["case"]["owner_office"], "UJI-UPTD");
  run_ok({"service", "add", "--store", uptd, "--case", k1, "--kind", "konseling"});
  sync(uptd);
  sync(kel);
  sync(uptd_operator);
  EXPECT_TRUE(listed(kel).empty());
  EXPECT_EQ(listed(uptd_operator), (std::set<std::string>{k1}));
}

// Issue 15.7: an external referral is answered by the partner on paper or by phone; the
// office that sent it records the answer, and the server lets no other office do so.
TEST_F(WriteRulesTest, TheSendingOfficeRecordsAnExternalPartnersAnswerAndNoOtherOfficeCan) {
  const std::string kel = device("kel", "UJI-KEL", "pendamping");
  const std::string uptd = device("uptd", "UJI-UPTD", "pendamping");
  const std::string k1 = new_case(kel, "Warga Dirujuk Keluar");
  const std::string polres = run_ok({"refer", "--store", kel, "--case", k1, "--to", "Unit PPA Polres Uji",
                                     "--reason", "Laporan polisi", "--consent", "yes", "--external"});
  run_ok({"refer", "--store", kel, "--case", k1, "--to", "UJI-UPTD", "--reason", "Lanjutan", "--consent", "yes"});
  sync(kel);
  sync(uptd);

  // An office that did not send it is refused by the client first...
  teduh::testing::Run not_sender =
      teduh({"referral", "answer", "--store", uptd, polres, "--status", "diterima"});
  EXPECT_EQ(not_sender.exit_code, 2) << not_sender.err;
  EXPECT_NE(not_sender.err.find("hanya dicatat oleh kantor yang mengirimnya"), std::string::npos) << not_sender.err;
  // ...and by the server when it forges the answer anyway.
  HostileDevice evil(uptd);
  sync::Commit c = evil.commit(id(k1), "kasus");
  c.versions.push_back(HostileDevice::version(c, id(polres), "rujukan", "status", "ditolak"));
  c.versions.push_back(HostileDevice::version(c, id(polres), "rujukan", "answered_on", "2026-12-02"));
  evil.forge(c);
  expect_refused(uptd, "only by the office that sent it");

  // The sending office records the answer; it reaches the server and the other office.
  run_ok({"referral", "answer", "--store", kel, polres, "--status", "diterima", "--date", "2026-12-03", "--notes",
          "Diterima petugas piket"});
  EXPECT_EQ(sync(kel)["rejected"], 0);
  sync(uptd);
  for (const std::string& store : {kel, uptd}) {
    teduh::testing::Run list = teduh({"referral", "list", "--store", store, "--json"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    bool found = false;
    for (const auto& row : json::parse(list.out)) {
      if (row["id"] != polres) continue;
      found = true;
      EXPECT_EQ(row["status"], "diterima") << store;
      EXPECT_EQ(row["answered_on"], "2026-12-03") << store;
      EXPECT_EQ(row["external"], true) << store;
    }
    EXPECT_TRUE(found) << store;
  }
  run_ok({"referral", "answer", "--store", kel, polres, "--status", "selesai", "--date", "2026-12-05"});
  EXPECT_EQ(sync(kel)["rejected"], 0);
}

TEST_F(WriteRulesTest, AnOperatorClosesNoCaseByAnyPath) {
  const std::string kel = device("kel", "UJI-KEL", "operator");
  const std::string k1 = new_case(kel, "Warga Pos");
  sync(kel);
  teduh::testing::Run close = teduh({"case", "close", "--store", kel, k1, "--reason", "Selesai"});
  EXPECT_EQ(close.exit_code, 2) << close.err;
  teduh::testing::Run set = teduh({"case", "set", "--store", kel, k1, "status=terminasi"});
  EXPECT_EQ(set.exit_code, 2) << set.err;
  EXPECT_NE(set.err.find("tutup_kasus"), std::string::npos) << set.err;
  EXPECT_NE(set.err.find("operator"), std::string::npos) << set.err;
  EXPECT_EQ(show(kel, k1)["case"]["status"], "diterima");
  // Other fields the operator may change.
  run_ok({"case", "set", "--store", kel, k1, "status=asesmen"});

  HostileDevice evil(kel);
  sync::Commit c = evil.commit(id(k1), "kasus");
  c.versions.push_back(HostileDevice::version(c, id(k1), "kasus", "status", "terminasi"));
  evil.forge(c);
  expect_refused(kel, "tutup_kasus");
  EXPECT_NE(log().find("tutup_kasus"), std::string::npos);
}

// Issue 15: a person may type a code's label (Asesmen for asesmen), and the client stores
// the code. A commit that carries the label itself is not canonical: the server refuses
// it, and no replica shows it; the honest client's write of the same label syncs as code.
TEST_F(WriteRulesTest, ALabelInPlaceOfACodeIsRefusedByTheServerAndTheHonestClientStoresTheCode) {
  const std::string worker = device("worker", "UJI-UPTD", "pendamping");
  const std::string peer = device("peer", "UJI-UPTD", "pendamping");
  const std::string k = new_case(worker, "Warga Label");
  sync(worker);
  HostileDevice evil(worker);
  sync::Commit c = evil.commit(id(k), "kasus");
  c.versions.push_back(HostileDevice::version(c, id(k), "kasus", "status", "Asesmen"));
  evil.forge(c);
  expect_refused(worker, "non-canonical value for kasus.status");
  sync(peer);
  EXPECT_EQ(show(peer, k)["case"]["status"], "diterima") << show(peer, k).dump();

  run_ok({"case", "set", "--store", worker, k, "status=Asesmen"});
  sync(worker);
  sync(peer);
  EXPECT_EQ(show(peer, k)["case"]["status"], "asesmen") << show(peer, k).dump();
}

// Issue 15: a line break in a one-line field (here the kelurahan) is refused by the server
// in a forged commit, as the client refuses it at entry; a text counted in characters
// passes where its bytes are over the limit (200 "e" with an accent: 400 bytes).
TEST_F(WriteRulesTest, ALineBreakInAOneLineFieldIsRefusedAndLengthsCountCharacters) {
  const std::string worker = device("worker", "UJI-UPTD", "pendamping");
  const std::string peer = device("peer", "UJI-UPTD", "pendamping");
  const std::string k = new_case(worker, "Warga Baris");
  sync(worker);
  {
    HostileDevice evil(worker);
    sync::Commit c = evil.commit(id(k), "kasus");
    c.versions.push_back(HostileDevice::version(c, id(k), "kasus", "kelurahan", "Satu\nDua"));
    evil.forge(c);
  }
  expect_refused(worker, "non-canonical value for kasus.kelurahan");
  std::string accented;
  for (int i = 0; i < 200; ++i) accented += "\xC3\xA9";
  {
    HostileDevice evil(worker);
    sync::Commit c = evil.commit(id(k), "kasus");
    c.versions.push_back(HostileDevice::version(c, id(k), "kasus", "kelurahan", accented));
    evil.forge(c);
  }
  sync(worker);
  sync(peer);
  EXPECT_EQ(show(peer, k)["case"]["kelurahan"], accented);
}

TEST_F(WriteRulesTest, EachRoleRuleIsEnforcedByTheServerOnForgedCommits) {
  const std::string kel = device("kel", "UJI-KEL", "pendamping");
  const std::string worker = device("worker", "UJI-UPTD", "pendamping");
  const std::string op = device("op", "UJI-UPTD", "operator");
  const std::string head = device("head", "UJI-UPTD", "kepala");
  const std::string staff = device("staff", "UJI-UPTD", "petugas_rumah_aman", true);
  const std::string waiting = device("waiting", "UJI-UPTD", "pendamping", true);  // never cleared
  const std::string u1 = new_case(worker, "Warga Uptd");
  const std::string k1 = new_case(kel, "Warga Pos");
  run_ok({"refer", "--store", kel, "--case", k1, "--to", "UJI-UPTD", "--reason", "Lanjutan", "--consent", "yes"});
  sync(worker);
  sync(kel);
  for (const auto& s : {op, head, staff, waiting}) sync(s);
  const std::string referral = referral_of(op, k1, "rujukan");
  auto forge = [&](const std::string& store, const std::string& scope,
                   std::vector<std::tuple<sync::EntityId, std::string, std::string, std::string>> writes,
                   std::vector<sync::VersionId> supersedes = {}) {
    HostileDevice evil(store);
    sync::Commit c = evil.commit(id(scope), "kasus");
    for (auto& [entity, type, field, value] : writes) {
      c.versions.push_back(HostileDevice::version(c, entity, type, field, value, supersedes));
    }
    evil.forge(c);
  };

  // buat_kasus: a head of office (kepala) does not record new complaints.
  const std::string fresh = sync::Id128::random().hex();
  forge(head, fresh, {{id(fresh), "kasus", "status", "diterima"}});
  expect_refused(head, "buat_kasus");

  // rujuk: shelter staff do not refer cases.
  const sync::EntityId consent = sync::Id128::random(), referral_new = sync::Id128::random();
  forge(staff, u1,
        {{consent, "persetujuan", "case", u1},
         {consent, "persetujuan", "scope", "rujukan"},
         {consent, "persetujuan", "scope_office", "UJI-DINAS"},
         {referral_new, "rujukan", "case", u1},
         {referral_new, "rujukan", "to_office", "UJI-DINAS"},
         {referral_new, "rujukan", "consent", consent.hex()},
         {referral_new, "rujukan", "status", "dikirim"}});
  expect_refused(staff, "rujuk");

  // jawab_rujukan: an operator of the receiving office does not accept referrals...
  forge(op, k1, {{id(referral), "rujukan", "status", "diterima"}});
  expect_refused(op, "jawab_rujukan");
  // ...and the sending office does not accept its own referral.
  forge(kel, k1, {{id(referral), "rujukan", "status", "diterima"}});
  expect_refused(kel, "only by a device of the office it is sent to");

  // tarik_persetujuan: shelter staff do not record a withdrawn consent.
  const std::string consent_of_k1 =
      json::parse(teduh({"referral", "list", "--store", kel, "--json"}).out)[0]["consent"];
  forge(staff, k1, {{id(consent_of_k1), "persetujuan", "withdrawn_at", "2026-03-01T00:00:00Z"}});
  expect_refused(staff, "tarik_persetujuan");

  // selesaikan_konflik: an operator does not settle a conflict (a version superseding two
  // versions of its field, here the two the case worker wrote).
  run_ok({"case", "set", "--store", worker, u1, "risk_level=rendah"});
  run_ok({"case", "set", "--store", worker, u1, "risk_level=sedang"});
  sync(worker);
  sync(op);
  std::vector<sync::VersionId> both;
  const json history = json::parse(teduh({"history", "--store", op, u1, "--json"}).out);
  for (const auto& v : history["versions"]) {
    if (v["field"] != "risk_level") continue;
    const std::string text = v["version"];
    const auto a = text.find(':'), b = text.rfind(':');
    both.push_back(sync::VersionId{id(text.substr(0, a)), std::stoull(text.substr(a + 1, b - a - 1)),
                                   static_cast<std::uint32_t>(std::stoul(text.substr(b + 1)))});
  }
  ASSERT_EQ(both.size(), 2u);
  forge(op, u1, {{id(u1), "kasus", "risk_level", "tinggi"}}, both);
  expect_refused(op, "selesaikan_konflik");

  // tempatkan: a shelter stay needs a device the administrator has cleared, not only the
  // enrollment flag.
  const sync::EntityId stay = sync::Id128::random();
  forge(waiting, u1, {{stay, "penempatan", "case", u1}, {stay, "penempatan", "shelter", sync::Id128::random().hex()}});
  expect_refused(waiting, "cleared by the administrator");

  // Nothing of it reached anyone: the referral is still only sent, the case still open.
  sync(worker);
  sync(kel);
  EXPECT_EQ(json::parse(teduh({"referral", "list", "--store", kel, "--json"}).out)[0]["status"], "dikirim");
  EXPECT_EQ(show(worker, u1)["referrals"].size(), 0u);
  EXPECT_EQ(show(worker, u1)["shelter_stays"].size(), 0u);
  EXPECT_EQ(server_owner(fresh), "");
  // The devices' honest work after the refusals still goes through.
  run_ok({"service", "add", "--store", op, "--case", u1, "--kind", "konseling"});
  EXPECT_EQ(sync(op)["rejected"], 0);
}

TEST_F(WriteRulesTest, AShelterIsChangedOnlyByClearedDevicesOfItsOfficeAndIsNeverBlanked) {
  const std::string keeper = device("keeper", "UJI-UPTD", "petugas_rumah_aman", true);
  const std::string waiting = device("waiting", "UJI-UPTD", "petugas_rumah_aman", true);  // never cleared
  const std::string other = device("other", "UJI-DINAS", "pendamping", true);
  for (const auto& s : {keeper, waiting, other}) sync(s);
  clear("keeper", keeper);
  clear("other", other);
  const std::string tag = crypto::to_hex(crypto::random_bytes(4));
  const std::string name = "RUMAH-PENANDA-" + tag, address = "ALAMAT-PENANDA-" + tag;
  const std::string shelter = run_ok({"shelter", "add", "--store", keeper, "--name", name, "--address", address,
                                      "--code-name", "RA-UJI-" + tag});
  sync(keeper);
  for (const auto& s : {waiting, other}) sync(s);

  // The uncleared device of the same office may not even add a shelter of its own...
  teduh::testing::Run add = teduh({"shelter", "add", "--store", waiting, "--name", "X", "--address", "Y"});
  EXPECT_EQ(add.exit_code, 2) << add.err;
  auto forge = [&](const std::string& store, const std::string& field, const std::string& value) {
    HostileDevice evil(store);
    sync::Commit c = evil.commit(id(shelter), "rumah_aman");
    c.versions.push_back(HostileDevice::version(c, id(shelter), "rumah_aman", field, value));
    evil.forge(c);
  };
  // ...nor rename or blank the office's shelter.
  forge(waiting, "code_name", "RA-DIGANTI");
  expect_refused(waiting, "cleared by the administrator");
  forge(waiting, "address", "");
  expect_refused(waiting, "cleared by the administrator");
  // A cleared device of another office reads the shelter but does not change it.
  forge(other, "code_name", "RA-DIGANTI");
  expect_refused(other, "office that recorded it");
  // The office's own cleared device never replaces a sealed field by an empty one.
  forge(keeper, "address", "");
  expect_refused(keeper, "never replaced by an empty one");

  for (const auto& s : {keeper, other, waiting}) sync(s);
  for (const auto& s : {keeper, other}) {
    teduh::testing::Run list = teduh({"shelter", "list", "--store", s, "--json"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    const json rows = json::parse(list.out)["shelters"];
    ASSERT_EQ(rows.size(), 1u) << list.out;
    EXPECT_EQ(rows[0]["code_name"], "RA-UJI-" + tag);
    EXPECT_EQ(rows[0]["name"], name);
    EXPECT_EQ(rows[0]["address"], address);
  }
}

}  // namespace
}  // namespace teduh
