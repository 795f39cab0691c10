// The directory of offices and device keys (WIRE.md "Directory", issue 12 points 6 and 8),
// end to end through a real teduhd on 127.0.0.1: a referral or transfer to an office code
// that does not exist is refused by the server and by a client that knows the directory,
// a code created later inherits nothing, and a device verifies every commit it pulls.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/hostile_device.hpp"
#include "support/server_test.hpp"
#include "teduh/client/store.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using teduh::testing::teduh;
using teduh::testing::teduhd;

class DirectoryTest : public teduh::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", "5000", 1);
    add_office("UJI-KEL", "kelurahan", "33.74");
    add_office("UJI-UPTD", "uptd_ppa", "33.74");
    start_server();
    kel_ = device("kel", "UJI-KEL", "operator");
    worker_ = device("worker", "UJI-UPTD", "pendamping");
  }

  std::string new_case(const std::string& store, const std::string& victim) {
    return run_ok({"case", "new", "--store", store, "--victim-name", victim, "--victim-sex", "P"});
  }

  teduh::testing::Run refer(const std::string& store, const std::string& id, const std::string& office) {
    return teduh({"refer", "--store", store, "--case", id, "--to", office, "--reason", "Lanjutan", "--consent",
                  "yes"});
  }

  std::string meta(const std::string& store, const std::string& key) {
    auto s = client::Store::open(store, teduh::testing::kOfficePassphrase);
    EXPECT_TRUE(s) << s.error().message;
    auto v = s->meta(key);
    return v && *v ? **v : std::string();
  }

  // Stops teduhd, runs `sql` on its store (opened with the server passphrase, as an
  // attacker who holds the server machine could), and starts it again on the same address.
  void tamper_with_server_store(const std::string& sql, const sync::DeviceId& device, std::uint64_t seq) {
    const std::string address = server_.address();
    ASSERT_TRUE(server_.stop());
    {
      const std::filesystem::path db_path = std::filesystem::path(data_) / "server.db";
      auto key = crypto::unlock_store_key(db_path, teduh::testing::kServerPassphrase);
      ASSERT_TRUE(key);
      auto db = crypto::open_encrypted(db_path, *key, crypto::OpenMode::existing);
      ASSERT_TRUE(db);
      auto st = schema::Statement::prepare(db->get(), sql);
      ASSERT_TRUE(st) << st.error().message;
      st->bind_blob(1, device.bytes).bind(2, static_cast<std::int64_t>(seq));
      ASSERT_TRUE(st->run());
      ASSERT_GE(sqlite3_changes(db->get()), 1);
    }
    ASSERT_TRUE(server_.start(data_, log_, address));
  }

  std::string kel_, worker_;
};

TEST_F(DirectoryTest, AReferralToAnUnknownOfficeIsRefusedAndTheSenderSeesItRefused) {
  const std::string k1 = new_case(kel_, "Warga Rujuk Salah");
  // Never synced: the device has no directory yet and lets the server decide.
  teduh::testing::Run sent = refer(kel_, k1, "UJI-NOPE");
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  const std::string referral = sent.last_line();

  json report = sync(kel_, 2);
  EXPECT_EQ(report["rejected"], 1);
  ASSERT_EQ(report["rejections"].size(), 1u);
  EXPECT_NE(report["rejections"][0].get<std::string>().find("kantor tidak dikenal"), std::string::npos)
      << report.dump();
  EXPECT_NE(log().find("kantor tidak dikenal"), std::string::npos);

  // The sender sees the referral refused, in the list and in the case.
  json refs = json::parse(teduh({"referral", "list", "--store", kel_, "--json"}).out);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0]["id"], referral);
  EXPECT_EQ(refs[0]["status"], "ditolak: kantor tidak dikenal");
  teduh::testing::Run listed = teduh({"referral", "list", "--store", kel_});
  EXPECT_NE(listed.out.find("ditolak: kantor tidak dikenal"), std::string::npos) << listed.out;
  teduh::testing::Run shown = teduh({"case", "show", "--store", kel_, k1});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("ditolak: kantor tidak dikenal"), std::string::npos) << shown.out;

  // The refused commit is consumed: the next sync goes through, the case stays the sender's.
  json again = sync(kel_);
  EXPECT_EQ(again["rejected"], 0);
  EXPECT_EQ(held(kel_), (std::set<std::string>{k1}));

  // An office created later with that code inherits nothing.
  add_office("UJI-NOPE", "uptd_ppa");
  const std::string nope = device("nope", "UJI-NOPE", "pendamping");
  sync(nope);
  EXPECT_TRUE(held(nope).empty());
  run_ok({"case", "show", "--store", kel_, k1});  // the case goes on changing (an audit commit)
  sync(kel_);
  sync(nope);
  EXPECT_TRUE(held(nope).empty());
}

TEST_F(DirectoryTest, AForgedReferralToAnUnknownOfficeIsRefusedAndGrantsNothing) {
  const std::string k1 = new_case(kel_, "Warga Rujuk Palsu");
  sync(kel_);
  const sync::EntityId scope = *sync::Id128::from_hex(k1);

  // A hand-made referral under a valid consent, to a code no office has.
  teduh::testing::HostileDevice evil(kel_);
  sync::Commit c = evil.commit(scope, "kasus");
  const sync::EntityId consent = sync::Id128::random();
  const sync::EntityId referral = sync::Id128::random();
  using H = teduh::testing::HostileDevice;
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"case", k1}, {"given_by", "korban"}, {"scope", "rujukan"}, {"scope_office", "UJI-NOPE"},
           {"recorded_how", "dicatat petugas"}, {"given_at", "2026-01-05T10:00:00Z"}}) {
    c.versions.push_back(H::version(c, consent, "persetujuan", field, value));
  }
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"case", k1}, {"from_office", "UJI-KEL"}, {"reason", "Lanjutan"}, {"consent", consent.hex()},
           {"status", "dikirim"}, {"to_office", "UJI-NOPE"}}) {
    c.versions.push_back(H::version(c, referral, "rujukan", field, value));
  }
  evil.forge(c);
  json report = sync(kel_, 2);
  EXPECT_EQ(report["rejected"], 1);
  ASSERT_EQ(report["rejections"].size(), 1u);
  EXPECT_NE(report["rejections"][0].get<std::string>().find("kantor tidak dikenal"), std::string::npos)
      << report.dump();
  // The device's later work is not blocked.
  run_ok({"case", "show", "--store", kel_, k1});
  EXPECT_EQ(sync(kel_)["pushed"], 1);

  // No office was granted the case: not the existing ones, not one made later with that code.
  sync(worker_);
  EXPECT_TRUE(held(worker_).empty());
  add_office("UJI-NOPE", "uptd_ppa");
  const std::string nope = device("nope", "UJI-NOPE", "pendamping");
  sync(nope);
  EXPECT_TRUE(held(nope).empty());
  run_ok({"case", "show", "--store", kel_, k1});
  sync(kel_);
  sync(nope);
  EXPECT_TRUE(held(nope).empty());
}

TEST_F(DirectoryTest, AfterOneSyncTheClientRefusesAnUnknownOfficeOffline) {
  const std::string k1 = new_case(kel_, "Warga Luring");
  sync(kel_);
  // The directory arrived with the sync: both offices, with name, kind and region.
  {
    auto s = client::Store::open(kel_, teduh::testing::kOfficePassphrase);
    ASSERT_TRUE(s) << s.error().message;
    auto offices = s->directory_offices();
    ASSERT_TRUE(offices && *offices);
    ASSERT_EQ((*offices)->size(), 2u);
    EXPECT_EQ((**offices)[1].code, "UJI-UPTD");
    EXPECT_EQ((**offices)[1].name, "Kantor UJI-UPTD");
    EXPECT_EQ((**offices)[1].kind, "uptd_ppa");
    EXPECT_EQ((**offices)[1].region, "3374");  // stored as digits
  }
  ::setenv("TEDUH_SYNC_TIMEOUT_MS", "500", 1);
  ASSERT_TRUE(server_.stop());  // offline from here on
  started_ = false;

  teduh::testing::Run bad = refer(kel_, k1, "UJI-UPTX");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("tidak dikenal"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("UJI-UPTD"), std::string::npos) << bad.err;  // the nearest known code
  teduh::testing::Run moved =
      teduh({"transfer", "--store", kel_, "--case", k1, "--to", "NOPE", "--consent", "yes"});
  EXPECT_EQ(moved.exit_code, 1);
  EXPECT_NE(moved.err.find("tidak dikenal"), std::string::npos) << moved.err;
  json refs = json::parse(teduh({"referral", "list", "--store", kel_, "--json"}).out);
  EXPECT_TRUE(refs.empty());  // nothing was recorded
  // A known office and an external partner are still fine offline.
  EXPECT_EQ(refer(kel_, k1, "UJI-UPTD").exit_code, 0);
  EXPECT_EQ(teduh({"refer", "--store", kel_, "--case", k1, "--to", "Polsek Uji", "--reason", "Lapor", "--consent",
                   "yes", "--external"})
                .exit_code,
            0);
}

TEST_F(DirectoryTest, APulledCommitWithABadSignatureStopsThePullAndAppliesNothing) {
  sync(worker_);
  const std::string cursor_before = meta(worker_, "pull_cursor");
  const std::string k1 = new_case(kel_, "Warga Tanda Tangan");
  ASSERT_EQ(refer(kel_, k1, "UJI-UPTD").exit_code, 0);
  sync(kel_);
  const sync::DeviceId writer = teduh::testing::HostileDevice(kel_).device_id();

  // The server relays what it stores: the writer's stored signatures are altered.
  tamper_with_server_store(
      "UPDATE log SET signature = substr(signature, 1, 63) || "
      "CAST(CASE WHEN substr(signature, 64, 1) = x'00' THEN x'01' ELSE x'00' END AS BLOB) "
      "WHERE device = ?1 AND seq >= ?2",
      writer, 1);

  teduh::testing::Run r = teduh({"sync", "--store", worker_});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("signature"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing of this batch was applied"), std::string::npos) << r.err;
  EXPECT_TRUE(held(worker_).empty());                       // not one commit of the batch
  EXPECT_EQ(meta(worker_, "pull_cursor"), cursor_before);  // the cursor did not move
}

TEST_F(DirectoryTest, APulledCommitOfADeviceTheDirectoryDoesNotListStopsThePull) {
  sync(worker_);
  const std::string k1 = new_case(kel_, "Warga Tanpa Kunci");
  ASSERT_EQ(refer(kel_, k1, "UJI-UPTD").exit_code, 0);
  sync(kel_);
  const sync::DeviceId writer = teduh::testing::HostileDevice(kel_).device_id();
  tamper_with_server_store("DELETE FROM devices WHERE device_id = ?1 AND ?2 > 0", writer, 1);

  teduh::testing::Run r = teduh({"sync", "--store", worker_});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("directory does not list"), std::string::npos) << r.err;
  EXPECT_TRUE(held(worker_).empty());
}

}  // namespace
}  // namespace teduh
