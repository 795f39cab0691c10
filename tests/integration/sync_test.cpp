// Offices that sync through a real teduhd on 127.0.0.1 converge, keep concurrent edits as
// conflicts, move nothing when nothing changed, and lose nothing when cut off or killed.
// Every office here is the real `teduh` program on a real encrypted store.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "support/process.hpp"
#include "support/server_test.hpp"
#include "support/store_fixture.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/dates.hpp"

namespace teduh {
namespace {

using nlohmann::json;

using teduh::testing::teduh;
using teduh::testing::teduhd;

class SyncTest : public teduh::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", "5000", 1);
    add_office("UJI-DP3A", "dinas");
    add_office("UJI-UPTD", "uptd_ppa");
    add_office("UJI-KEL", "kelurahan");
    start_server();
  }

  // Enrolls a case worker of `office_code` and creates its store; returns the store path.
  std::string office(const std::string& name, const std::string& office_code, bool shelter = false) {
    return device(name, office_code, "pendamping", shelter);
  }

  std::string show(const std::string& store, const std::string& id) {
    teduh::testing::Run r = teduh({"case", "show", "--store", store, id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  std::string new_case(const std::string& store, std::vector<std::string> extra) {
    std::vector<std::string> args{"case", "new", "--store", store};
    args.insert(args.end(), extra.begin(), extra.end());
    teduh::testing::Run r = teduh(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.last_line();
  }

  // Shares a case with another office: a referral under the victim's consent (an office
  // sees only the cases it owns and those referred to it, PERMISSIONS.md).
  void refer(const std::string& store, const std::string& id, const std::string& to_office) {
    teduh::testing::Run r = teduh({"refer", "--store", store, "--case", id, "--to", to_office, "--reason",
                                   "Penanganan lanjutan", "--consent", "yes"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }

};

TEST_F(SyncTest, OfficesThatEditDifferentCasesAndFieldsConverge) {
  std::string dinas = office("dinas", "UJI-DP3A");
  std::string uptd = office("uptd", "UJI-UPTD");
  std::string kel = office("kel", "UJI-KEL");
  std::string c1 = new_case(
      kel, {"--channel", "datang_langsung", "--victim-name", "Warga Uji", "--victim-sex", "P"});
  std::string c2 = new_case(dinas, {"--channel", "telepon", "--forms", "fisik"});
  refer(kel, c1, "UJI-DP3A");
  refer(kel, c1, "UJI-UPTD");
  refer(dinas, c2, "UJI-UPTD");
  refer(dinas, c2, "UJI-KEL");
  for (const auto& s : {kel, dinas, uptd, kel, dinas}) sync(s);
  ASSERT_EQ(teduh({"case", "set", "--store", uptd, c1, "status=asesmen"}).exit_code, 0);
  ASSERT_EQ(teduh({"case", "set", "--store", dinas, c1, "risk_level=tinggi"}).exit_code, 0);
  ASSERT_EQ(
      teduh({"service", "add", "--store", kel, "--case", c2, "--kind", "konseling"}).exit_code, 0);
  for (const auto& s : {uptd, dinas, kel, uptd, dinas}) sync(s);

  for (const auto& id : {c1, c2}) {
    std::string a = show(dinas, id), b = show(uptd, id), c = show(kel, id);
    EXPECT_EQ(a, b);
    EXPECT_EQ(b, c);
  }
  json doc = json::parse(show(kel, c1));
  EXPECT_EQ(doc["case"]["status"], "asesmen");
  EXPECT_EQ(doc["case"]["risk_level"], "tinggi");
  EXPECT_TRUE(doc["conflicts"].empty());
  json list = json::parse(teduh({"case", "list", "--store", uptd, "--json"}).out);
  EXPECT_EQ(list["cases"].size(), 2u);
}

TEST_F(SyncTest, ConcurrentEditsOfOneFieldEndWithTheSameWinnerAndConflictEverywhere) {
  std::string dinas = office("dinas", "UJI-DP3A");
  std::string uptd = office("uptd", "UJI-UPTD");
  std::string id = new_case(dinas, {});
  refer(dinas, id, "UJI-UPTD");
  sync(dinas);
  sync(uptd);
  ASSERT_EQ(teduh({"case", "set", "--store", dinas, id, "risk_level=sedang"}).exit_code, 0);
  ASSERT_EQ(teduh({"case", "set", "--store", uptd, id, "risk_level=tinggi"}).exit_code, 0);
  sync(dinas);
  json r = sync(uptd);
  EXPECT_EQ(r["conflicts_new"], 1);
  sync(dinas);
  teduh::testing::Run ca = teduh({"conflicts", "--store", dinas, "--json"});
  teduh::testing::Run cb = teduh({"conflicts", "--store", uptd, "--json"});
  EXPECT_EQ(ca.out, cb.out);
  json conflicts = json::parse(ca.out)["conflicts"];
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0]["field"], "risk_level");
  EXPECT_EQ(conflicts[0]["values"].size(), 2u);
  // Read by a person, each value's time is in the office's zone, named (JSON keeps UTC).
  ASSERT_EQ(teduh({"config", "set", "--store", dinas, "zona_waktu", "WITA"}).exit_code, 0);
  const std::string text = teduh({"conflicts", "--store", dinas}).out;
  for (const auto& v : conflicts[0]["values"]) {
    const auto at = teduh::schema::dates::parse_utc(v["at"].get<std::string>());
    ASSERT_TRUE(at) << v["at"];
    const std::string local = teduh::schema::dates::format_local(*at, teduh::schema::dates::Zone::wita);
    EXPECT_NE(text.find("(" + local + ", "), std::string::npos) << local << "\n" << text;
  }
  EXPECT_EQ(json::parse(show(dinas, id))["case"]["risk_level"],
            json::parse(show(uptd, id))["case"]["risk_level"]);

  // A person settles it once; after syncing, no replica lists it any more.
  ASSERT_EQ(teduh({"resolve", "--store", uptd, id, "risk_level", "--value", "tinggi"}).exit_code,
            0);
  sync(uptd);
  sync(dinas);
  EXPECT_EQ(json::parse(teduh({"conflicts", "--store", dinas, "--json"}).out)["conflicts"].size(),
            0u);
  json history = json::parse(teduh({"history", "--store", dinas, id, "--json"}).out);
  int risk = 0;
  for (const auto& v : history["versions"]) risk += v["field"] == "risk_level";
  EXPECT_EQ(risk, 3);
}

// Issue 15: after a sync, what arrived that needs a person: a referral to answer (new only
// in the sync that brought it), and the late deadlines once a sync brought commits.
TEST_F(SyncTest, ASyncSaysWhatArrivedThatNeedsAPerson) {
  const std::string kel = office("kel", "UJI-KEL");
  const std::string uptd = office("uptd", "UJI-UPTD");
  const std::string k =
      new_case(kel, {"--victim-name", "Warga Perlu Tindakan", "--received-at", "2026-11-02 09:00"});
  refer(kel, k, "UJI-UPTD");
  nlohmann::json sent = sync(kel);
  EXPECT_EQ(sent["attention"]["referrals_to_answer"], 0) << sent.dump();  // sent, not received

  nlohmann::json first = sync(uptd);
  ASSERT_TRUE(first["attention"].is_object()) << first.dump();
  EXPECT_EQ(first["attention"]["referrals_to_answer"], 1) << first.dump();
  EXPECT_EQ(first["attention"]["referrals_new"], 1) << first.dump();
  // The case the referral brought is late (received a month ago): read after a sync that
  // brought commits.
  ASSERT_TRUE(first["attention"]["late"].is_number()) << first.dump();
  EXPECT_GE(first["attention"]["late"].get<int>(), 1) << first.dump();

  teduh::testing::Run again = teduh({"sync", "--store", uptd});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(
      again.out.find(
          "Perlu tindakan: 1 rujukan menunggu jawaban kantor ini; lihat `teduh referral list`"),
      std::string::npos)
      << again.out;  // still waiting, nothing new

  teduh::testing::Run list = teduh({"referral", "list", "--store", uptd, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const nlohmann::json rows = nlohmann::json::parse(list.out);
  ASSERT_EQ(rows.size(), 1u) << list.out;
  ASSERT_EQ(
      teduh({"referral", "accept", "--store", uptd, rows[0]["id"].get<std::string>()}).exit_code,
      0);
  nlohmann::json answered = sync(uptd);
  EXPECT_EQ(answered["attention"]["referrals_to_answer"], 0) << answered.dump();
  EXPECT_EQ(answered["attention"]["referrals_new"], 0) << answered.dump();
}

TEST_F(SyncTest, ASyncAfterNothingChangedMovesNothing) {
  std::string dinas = office("dinas", "UJI-DP3A");
  std::string uptd = office("uptd", "UJI-UPTD");
  new_case(dinas, {});
  sync(dinas);
  sync(uptd);
  sync(dinas);
  json again = sync(dinas);
  EXPECT_EQ(again["pushed"], 0);
  EXPECT_EQ(again["pulled"], 0);
  json other = sync(uptd);
  EXPECT_EQ(other["pushed"], 0);
  EXPECT_EQ(other["pulled"], 0);
}

TEST_F(SyncTest, UnreachableServerExitsWithThreeAndKeepsLocalWork) {
  std::string dinas = office("dinas", "UJI-DP3A");
  std::string id = new_case(dinas, {"--summary", "Tetap tersimpan"});
  ASSERT_TRUE(server_.stop());
  teduh::testing::Run r = teduh({"sync", "--store", dinas});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("cannot be reached"), std::string::npos) << r.err;
  EXPECT_EQ(json::parse(show(dinas, id))["case"]["summary"], "Tetap tersimpan");
  ASSERT_TRUE(server_.start(data_, dir_ / "teduhd.log"));
  // The store still names the old port; the server came back on a new one. Point a fresh
  // office at it to show the case was never pushed and nothing was lost locally.
  EXPECT_EQ(json::parse(teduh({"case", "list", "--store", dinas, "--json"}).out)["cases"].size(),
            1u);
}

TEST_F(SyncTest, RevokedDeviceIsRefusedWithExitTwo) {
  std::string dinas = office("dinas", "UJI-DP3A");
  sync(dinas);
  teduh::testing::Run list = teduhd({"device", "list", "--data", data_, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  json devices = json::parse(list.out);
  ASSERT_FALSE(devices.empty());
  const json& first = devices.is_array() ? devices[0] : devices["devices"][0];
  std::string device = first.contains("device_id") ? first["device_id"].get<std::string>()
                                                   : first["device"].get<std::string>();
  teduh::testing::Run revoke = teduhd({"device", "revoke", "--data", data_, "--device", device});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  teduh::testing::Run r = teduh({"sync", "--store", dinas});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("revoked"), std::string::npos) << r.err;
}

TEST_F(SyncTest, ServerWithAnotherKeyIsRefusedBeforeAnythingIsSent) {
  // A second server (its own key) listening where the office expects its server.
  std::string dinas = office("dinas", "UJI-DP3A");
  teduh::testing::TempDir other;
  std::string other_data = (other / "server").string();
  ASSERT_EQ(teduhd({"init", "--data", other_data}).exit_code, 0);
  teduh::testing::ServerProcess impostor;
  ASSERT_TRUE(impostor.start(other_data, other / "log"));
  // Re-point the office at the impostor by creating a new office store there with the
  // genuine key but the impostor's address.
  teduh::testing::Run code = teduhd({"enroll", "--data", data_, "--office", "UJI-DP3A", "--user",
                                     "petugas-x", "--role", "operator"});
  std::string store = (dir_ / "x.db").string();
  ASSERT_EQ(teduh({"init", "--store", store, "--server", impostor.address(), "--server-key",
                   server_key_, "--enroll", code.last_line()})
                .exit_code,
            0);
  teduh::testing::Run r = teduh({"sync", "--store", store});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not the server this device was enrolled with"), std::string::npos) << r.err;
  EXPECT_TRUE(impostor.stop());
}

// The scenario of the conflicts issue, end to end: the Dinas raises the risk level and
// records a counselling session while the UPTD PPA closes the case; the kelurahan post and
// the Dinas both correct the victim's birth date. Nothing is lost, both disagreements are
// listed with who and which office, one resolution each settles them everywhere, and the
// history keeps every version.
TEST_F(SyncTest, RiskTerminationAndTwoBirthDateCorrectionsAreReviewedAndSettledEverywhere) {
  std::string dinas = office("dinas", "UJI-DP3A");
  std::string uptd = office("uptd", "UJI-UPTD");
  std::string kel = office("kel", "UJI-KEL");
  std::string id = new_case(
      kel, {"--victim-name", "Warga Uji", "--victim-sex", "P", "--victim-birth", "2011-05-01"});
  refer(kel, id, "UJI-DP3A");
  refer(kel, id, "UJI-UPTD");
  for (const auto& s : {kel, dinas, uptd}) sync(s);

  // Apart: each office works offline.
  ASSERT_EQ(teduh({"case", "set", "--store", dinas, id, "risk_level=tinggi",
                   "korban.birth_date=2011-05-10"})
                .exit_code,
            0);
  ASSERT_EQ(
      teduh({"service", "add", "--store", dinas, "--case", id, "--kind", "konseling"}).exit_code,
      0);
  ASSERT_EQ(teduh({"case", "close", "--store", uptd, id, "--reason", "Dirujuk selesai"}).exit_code,
            0);
  ASSERT_EQ(teduh({"case", "set", "--store", kel, id, "korban.birth_date=2011-06-01"}).exit_code,
            0);
  for (const auto& s : {dinas, uptd, kel, dinas, uptd}) sync(s);

  std::string listed = teduh({"conflicts", "--store", dinas, "--json"}).out;
  EXPECT_EQ(listed, teduh({"conflicts", "--store", uptd, "--json"}).out);
  EXPECT_EQ(listed, teduh({"conflicts", "--store", kel, "--json"}).out);
  json conflicts = json::parse(listed)["conflicts"];
  ASSERT_EQ(conflicts.size(), 2u) << listed;
  std::map<std::string, json> by_field;
  for (const auto& c : conflicts) by_field[c["field"]] = c;
  ASSERT_TRUE(by_field.count("birth_date"));
  ASSERT_TRUE(by_field.count("status"));
  EXPECT_EQ(by_field["status"]["rule"], "closed_while_service_recorded");
  std::set<std::string> dates, offices;
  for (const auto& v : by_field["birth_date"]["values"]) {
    dates.insert(v["value"]);
    offices.insert(v["office"]);
  }
  EXPECT_EQ(dates, (std::set<std::string>{"2011-05-10", "2011-06-01"}));
  EXPECT_EQ(offices, (std::set<std::string>{"UJI-DP3A", "UJI-KEL"}));
  // The risk level and the closure are different fields: both kept, no conflict between them.
  json shown = json::parse(show(kel, id));
  EXPECT_EQ(shown["case"]["risk_level"], "tinggi");
  EXPECT_EQ(shown["case"]["status"], "terminasi");

  // One person settles each, on one office; after syncing, no replica lists either.
  std::string keep = by_field["birth_date"]["values"][1]["version"];
  std::string kept_value = by_field["birth_date"]["values"][1]["value"];
  ASSERT_EQ(teduh({"resolve", "--store", uptd, id, "korban.birth_date", "--keep", keep}).exit_code,
            0);
  ASSERT_EQ(teduh({"resolve", "--store", uptd, id, "status", "--value", "pemantauan"}).exit_code,
            0);
  for (const auto& s : {uptd, dinas, kel}) sync(s);
  for (const auto& s : {dinas, uptd, kel}) {
    EXPECT_TRUE(json::parse(teduh({"conflicts", "--store", s, "--json"}).out)["conflicts"].empty())
        << s;
  }
  json after = json::parse(show(dinas, id));
  EXPECT_EQ(after["case"]["status"], "pemantauan");
  EXPECT_EQ(after["case"]["risk_level"], "tinggi");
  EXPECT_EQ(after["services"].size(), 2u);  // pengaduan + konseling: nothing lost
  for (const auto& p : after["persons"]) EXPECT_EQ(p["fields"]["birth_date"], kept_value);
  EXPECT_EQ(show(dinas, id), show(kel, id));

  // History: the original date, both corrections and the resolution; three statuses.
  json history = json::parse(teduh({"history", "--store", kel, id, "--json"}).out);
  std::vector<std::string> births;
  int statuses = 0;
  for (const auto& v : history["versions"]) {
    if (v["field"] == "birth_date") births.push_back(v["value"]);
    statuses += v["field"] == "status" && v["entity"] == id;  // the case's, not the referrals'
  }
  EXPECT_EQ(births.size(), 4u);
  EXPECT_EQ(statuses, 3);
}

// A person removed on one office while another edited them: the removal holds, and the
// edit is listed as a conflict on the removed record instead of bringing it back silently.
TEST_F(SyncTest, EditOfARemovedPersonBecomesAConflictNotAResurrection) {
  std::string dinas = office("dinas", "UJI-DP3A");
  std::string uptd = office("uptd", "UJI-UPTD");
  std::string id = new_case(dinas, {});
  teduh::testing::Run person = teduh({"person", "add", "--store", dinas, "--case", id, "--role",
                                      "pelapor", "--name", "Pelapor Uji"});
  ASSERT_EQ(person.exit_code, 0) << person.err;
  refer(dinas, id, "UJI-UPTD");
  sync(dinas);
  sync(uptd);
  ASSERT_EQ(
      teduh({"person", "remove", "--store", dinas, "--case", id, person.last_line()}).exit_code, 0);
  ASSERT_EQ(teduh({"case", "set", "--store", uptd, id, "summary=x"}).exit_code, 0);
  // The UPTD edits the person through resolve on the entity (any field of any record).
  ASSERT_EQ(teduh({"resolve", "--store", uptd, id, person.last_line() + ".name", "--value",
                   "Pelapor Uji Diperbaiki"})
                .exit_code,
            0);
  for (const auto& s : {dinas, uptd, dinas}) sync(s);
  json conflicts = json::parse(teduh({"conflicts", "--store", dinas, "--json"}).out)["conflicts"];
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0]["rule"], "edited_while_removed");
  EXPECT_EQ(conflicts[0]["field"], "name");
  json doc = json::parse(show(uptd, id));
  for (const auto& p : doc["persons"]) EXPECT_NE(p["id"], person.last_line());
}

// A client killed with SIGKILL at random points during a sync loses nothing: the next sync
// completes, and every commit is present exactly once on both sides.
TEST_F(SyncTest, ClientKilledMidSyncLosesNothingOverManySeeds) {
  // Two devices of one office: both hold every case of that office.
  std::string dinas = office("dinas", "UJI-DP3A");
  std::string uptd = office("dinas-2", "UJI-DP3A");
  // Many commits, written in-process on the office's real store (fast setup).
  constexpr int kCases = 400;
  {
    auto store = client::Store::open(dinas, teduh::testing::kOfficePassphrase);
    ASSERT_TRUE(store) << store.error().message;
    client::Workflow wf(*store);
    auto r = store->in_transaction([&]() -> client::Result<bool> {
      for (int i = 0; i < kCases; ++i) {
        TEDUH_TRY(wf.new_case({{"summary", "Kasus uji " + std::to_string(i)}},
                              {{"name", "Orang Uji " + std::to_string(i)}}));
      }
      return true;
    });
    ASSERT_TRUE(r) << r.error().message;
    auto cases = store->entities("kasus");
    ASSERT_TRUE(cases) << cases.error().message;
    ASSERT_EQ(cases->size(), static_cast<std::size_t>(kCases));
  }
  ASSERT_EQ(json::parse(teduh({"case", "list", "--store", dinas, "--json"}).out)["cases"].size(),
            static_cast<std::size_t>(kCases));
  std::mt19937 rng(20261122);
  const int seeds =
      std::getenv("TEDUH_KILL_SEEDS") ? std::atoi(std::getenv("TEDUH_KILL_SEEDS")) : 8;
  for (int round = 0; round < seeds; ++round) {
    unsigned delay_us = std::uniform_int_distribution<unsigned>(20000, 400000)(rng);
    const std::string& victim = round % 2 ? uptd : dinas;
    SCOPED_TRACE("round " + std::to_string(round) + " delay_us " + std::to_string(delay_us));
    pid_t pid = ::fork();
    if (pid == 0) {
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, STDOUT_FILENO);
      ::dup2(devnull, STDERR_FILENO);
      ::execl(teduh::testing::kTeduh.c_str(), teduh::testing::kTeduh.c_str(), "sync", "--store",
              victim.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::usleep(delay_us);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  // Clean syncs until nothing moves.
  sync(dinas);
  sync(uptd);
  json again = sync(uptd);
  EXPECT_EQ(again["pulled"], 0);
  json la = json::parse(teduh({"case", "list", "--store", dinas, "--json"}).out);
  json lb = json::parse(teduh({"case", "list", "--store", uptd, "--json"}).out);
  EXPECT_EQ(la["cases"].size(), static_cast<std::size_t>(kCases));
  EXPECT_EQ(la, lb);
  // Exactly once: the replica holds each (device, seq) once, and as many commits as the
  // writer made (the commits table's primary key is (device, seq)).
  auto a = client::Store::open(dinas, teduh::testing::kOfficePassphrase);
  auto b = client::Store::open(uptd, teduh::testing::kOfficePassphrase);
  ASSERT_TRUE(a && b);
  auto count = [](const client::Store& s, const sync::DeviceId& d) {
    auto st = schema::Statement::prepare(
        s.db(), "SELECT count(*), count(DISTINCT seq), max(seq) FROM commits WHERE device = ?1");
    st->bind_blob(1, d.bytes);
    (void)st->step();
    return std::tuple{st->column_int(0), st->column_int(1), st->column_int(2)};
  };
  auto [n, distinct, max_seq] = count(*b, a->identity().device);
  EXPECT_EQ(n, distinct);
  EXPECT_EQ(n, max_seq);
  EXPECT_EQ(n, static_cast<std::int64_t>(a->last_seq()));
}

}  // namespace
}  // namespace teduh
