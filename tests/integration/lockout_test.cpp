// No office is ever locked out of sync (issue 12, defects 1 and 7), end to end through a
// real teduhd on 127.0.0.1 (PROTOCOL.md section 5B rules 6, 9 and 10):
// - an office that gains cases after its first sync receives their history in pages,
//   within the wire's limits, resumable after a cut: several cases in one window, a case
//   of more than 5,000 commits, a referral ended and granted again;
// - a store restored from an older copy renumbers its new work, gets back what the copy
//   lacked, and says so; also when the server refused the commit the copy's next seq
//   was used for (rule 10: another body under a refused seq is seq_taken, the same
//   body is refused again).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/fault_proxy.hpp"
#include "support/hostile_device.hpp"
#include "support/server_test.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using teduh::testing::teduh;
using teduh::testing::teduhd;

class LockoutTest : public teduh::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    add_office("UJI-ASAL", "uptd_ppa");
    add_office("UJI-TUJUAN", "uptd_ppa");
  }

  std::string new_case(const std::string& store, const std::string& victim) {
    return run_ok({"case", "new", "--store", store, "--victim-name", victim, "--victim-sex", "P"});
  }

  void refer(const std::string& store, const std::string& id, const std::string& office) {
    run_ok({"refer", "--store", store, "--case", id, "--to", office, "--reason", "Lanjutan", "--consent", "yes"});
  }

  void set(const std::string& store, const std::string& id, const std::string& assignment) {
    run_ok({"case", "set", "--store", store, id, assignment});
  }

  // What `case show --json` prints: the same bytes on two replicas that hold the same case.
  std::string show(const std::string& store, const std::string& id) {
    testing::Run r = teduh({"case", "show", "--store", store, id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  // Commits of one case a store holds, every device's.
  std::int64_t commits_of(const std::string& store, const std::string& id) {
    auto s = client::Store::open(store, testing::kOfficePassphrase);
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return -1;
    auto st = schema::Statement::prepare(s->db(), "SELECT count(*) FROM commits WHERE scope = ?1");
    auto scope = sync::Id128::from_hex(id);
    st->bind_blob(1, scope->bytes);
    (void)st->step();
    return st->column_int(0);
  }

  // `case show` in-process, `times` times: each records an audit commit in the case,
  // as a person opening it would (much faster than as many `teduh` runs).
  void open_many_times(const std::string& store, const std::string& id, int times) {
    auto s = client::Store::open(store, testing::kOfficePassphrase);
    ASSERT_TRUE(s) << s.error().message;
    client::Workflow wf(*s);
    const auto case_id = *sync::Id128::from_hex(id);
    for (int i = 0; i < times; ++i) {
      auto shown = wf.show_case(case_id);
      ASSERT_TRUE(shown) << shown.error().message;
    }
  }

  // Copies a closed store with its key file (and its WAL, if one is left), replacing
  // whatever is at `to`: a backup taken, or a backup restored.
  static void copy_store(const std::filesystem::path& from, const std::filesystem::path& to) {
    for (const char* suffix : {"", ".key", "-wal", "-shm"}) {
      const std::filesystem::path src = from.string() + suffix, dst = to.string() + suffix;
      std::filesystem::remove(dst);
      if (std::filesystem::exists(src)) std::filesystem::copy_file(src, dst);
    }
  }

  // Enrolls a device whose store talks to `address` (a proxy) instead of the server.
  std::string device_via(const std::string& name, const std::string& office, const std::string& address) {
    testing::Run code = teduhd({"enroll", "--data", data_, "--office", office, "--user", "petugas-" + name,
                                "--role", "pendamping"});
    EXPECT_EQ(code.exit_code, 0) << code.err;
    std::string store = (dir_ / (name + ".db")).string();
    testing::Run init = teduh({"init", "--store", store, "--server", address, "--server-key", server_key_,
                               "--enroll", code.last_line()});
    EXPECT_EQ(init.exit_code, 0) << init.err;
    return store;
  }
};

TEST_F(LockoutTest, AnOfficeThatGainsTwoCasesInOneWindowStillSyncs) {
  start_server();
  const std::string asal = device("asal", "UJI-ASAL", "pendamping");
  const std::string tujuan = device("tujuan", "UJI-TUJUAN", "pendamping");
  const std::string own = new_case(tujuan, "Warga Tujuan Sendiri");
  sync(tujuan);

  // Two cases whose histories interleave in the log, and a third gained at another
  // position of the same window.
  const std::string k1 = new_case(asal, "Warga Satu");
  const std::string k2 = new_case(asal, "Warga Dua");
  const std::string k3 = new_case(asal, "Warga Tiga");
  for (int i = 0; i < 3; ++i) {
    set(asal, k1, "summary=Catatan satu " + std::to_string(i));
    set(asal, k2, "summary=Catatan dua " + std::to_string(i));
    set(asal, k3, "summary=Catatan tiga " + std::to_string(i));
  }
  sync(asal);
  sync(tujuan);  // its cursor moves past the cases it may not read yet

  refer(asal, k1, "UJI-TUJUAN");
  refer(asal, k2, "UJI-TUJUAN");
  sync(asal);
  refer(asal, k3, "UJI-TUJUAN");
  sync(asal);

  json r = sync(tujuan);
  EXPECT_GE(r["pulled"].get<int>(), 3 * 4);
  for (const std::string& k : {k1, k2, k3}) {
    EXPECT_EQ(commits_of(tujuan, k), commits_of(asal, k)) << k;
    EXPECT_EQ(show(tujuan, k), show(asal, k)) << k;
  }
  EXPECT_EQ(show(tujuan, own).empty(), false);
  EXPECT_EQ(log().find("cannot encode a reply"), std::string::npos);
  // And the next sync finds nothing more, with nothing refused.
  json again = sync(tujuan);
  EXPECT_EQ(again["rejected"], 0);
}

TEST_F(LockoutTest, ACaseOfMoreThan5000CommitsArrivesInPagesAndResumesAfterCuts) {
  start_server();
  testing::FaultPlan plan;
  plan.cut_probability = 1.0;
  plan.stall_probability = 0;
  plan.delay_probability = 0;
  plan.split_probability = 0;
  plan.max_cut_bytes = 1'200'000;
  plan.reset_on_cut = false;
  testing::FaultProxy proxy(server_.address(), 20261202, plan);
  proxy.set_faults(false);
  const std::string asal = device("asal", "UJI-ASAL", "pendamping");
  const std::string tujuan = device_via("tujuan", "UJI-TUJUAN", proxy.address());
  sync(tujuan);

  const std::string k = new_case(asal, "Warga Panjang");
  open_many_times(asal, k, 5100);
  sync(asal);
  sync(tujuan);
  refer(asal, k, "UJI-TUJUAN");
  sync(asal);
  const std::int64_t total = commits_of(asal, k);
  ASSERT_GT(total, 5100);

  // Cut connections somewhere in their first 1.2 MB (the case is about 2 MB), until the
  // case has arrived in part.
  proxy.set_faults(true);
  bool partial = false;
  for (int attempt = 0; attempt < 12 && !partial; ++attempt) {
    testing::Run r = teduh({"sync", "--store", tujuan, "--json"});
    if (r.exit_code == 0) break;
    EXPECT_EQ(r.exit_code, 3) << r.err;
    const std::int64_t held = commits_of(tujuan, k);
    partial = held > 0 && held < total;
  }
  EXPECT_TRUE(partial) << "no cut landed inside the backfill";
  proxy.set_faults(false);
  json r = sync(tujuan);
  EXPECT_EQ(r["rejected"], 0);
  EXPECT_EQ(commits_of(tujuan, k), total);
  EXPECT_EQ(show(tujuan, k), show(asal, k));
  EXPECT_EQ(log().find("cannot encode a reply"), std::string::npos);
  EXPECT_EQ(log().find("breaks the wire limits"), std::string::npos);
}

TEST_F(LockoutTest, AReferralEndedAndGrantedAgainBringsTheCaseBackWholeWithItsOwnWork) {
  start_server();
  const std::string asal = device("asal", "UJI-ASAL", "pendamping");
  const std::string tujuan = device("tujuan", "UJI-TUJUAN", "pendamping");
  const std::string k1 = new_case(asal, "Warga Kembali");
  const std::string k2 = new_case(asal, "Warga Baru");
  refer(asal, k1, "UJI-TUJUAN");
  sync(asal);
  sync(tujuan);
  // The receiving office works on the case; then the referral ends and it loses it.
  set(tujuan, k1, "summary=Ditulis kantor tujuan");
  sync(tujuan);
  sync(asal);
  json refs = json::parse(teduh({"referral", "list", "--store", asal, "--json"}).out);
  std::string referral;
  for (const auto& x : refs) {
    if (x["case"] == k1) referral = x["id"];
  }
  ASSERT_FALSE(referral.empty()) << refs.dump();
  run_ok({"referral", "end", "--store", asal, referral});
  sync(asal);
  json purged = sync(tujuan);
  EXPECT_EQ(purged["purged"], 1);
  EXPECT_EQ(commits_of(tujuan, k1), 0);

  // More work on both cases, interleaved, then both are referred in one window.
  for (int i = 0; i < 3; ++i) {
    set(asal, k1, "chronology=Kronologi " + std::to_string(i));
    set(asal, k2, "chronology=Kronologi " + std::to_string(i));
  }
  refer(asal, k1, "UJI-TUJUAN");
  refer(asal, k2, "UJI-TUJUAN");
  sync(asal);
  sync(tujuan);
  for (const std::string& k : {k1, k2}) {
    EXPECT_EQ(commits_of(tujuan, k), commits_of(asal, k)) << k;
    EXPECT_EQ(show(tujuan, k), show(asal, k)) << k;
  }
  // Its own edit, purged with the case, came back with it.
  EXPECT_NE(show(tujuan, k1).find("Ditulis kantor tujuan"), std::string::npos);
}

TEST_F(LockoutTest, ARestoredStoreRenumbersItsNewWorkTellsThePersonAndLosesNothing) {
  start_server();
  const std::string asal = device("asal", "UJI-ASAL", "pendamping");
  const std::string rekan = device("rekan", "UJI-ASAL", "pendamping");
  const std::string k1 = new_case(asal, "Warga Pertama");
  sync(asal);

  // A copy of the store (and its key file), as a backup would take it.
  const std::filesystem::path copy = dir_ / "cadangan";
  std::filesystem::create_directories(copy);
  copy_store(asal, copy / "asal.db");

  // Work after the copy, synced: the server holds it, the copy does not.
  const std::string k2 = new_case(asal, "Warga Setelah Salinan");
  set(asal, k1, "summary=Sebelum pemulihan");
  sync(asal);

  // The store is restored from the copy, and new work is written on it.
  copy_store(copy / "asal.db", asal);
  const std::string k3 = new_case(asal, "Warga Setelah Pemulihan");
  set(asal, k1, "chronology=Setelah pemulihan");

  testing::Run r = teduh({"sync", "--store", asal});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("restored from an older copy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Nothing was lost"), std::string::npos) << r.out;
  json again = sync(asal);
  EXPECT_FALSE(again["restored"]["detected"].get<bool>()) << again.dump();

  // Another device of the office receives everything, old and new.
  sync(rekan);
  for (const std::string& k : {k1, k2, k3}) {
    EXPECT_EQ(show(rekan, k), show(asal, k)) << k;
    EXPECT_EQ(commits_of(rekan, k), commits_of(asal, k)) << k;
  }
  const std::string shown = show(rekan, k1);
  EXPECT_NE(shown.find("Sebelum pemulihan"), std::string::npos);
  EXPECT_NE(shown.find("Setelah pemulihan"), std::string::npos);
}

// Found by the deterministic simulation (seed 3): a copy taken before the store's first
// sync records no acknowledgement, and was taken for one that had everything the server
// holds: its new work under a seq the server already held was never pushed.
TEST_F(LockoutTest, ACopyTakenBeforeTheFirstSyncAndRestoredLosesNothing) {
  start_server();
  const std::string asal = device("asal", "UJI-ASAL", "pendamping");
  const std::string rekan = device("rekan", "UJI-ASAL", "pendamping");
  const std::string k1 = new_case(asal, "Warga Sebelum Sinkron");
  const std::filesystem::path copy = dir_ / "salinan-awal.db";
  copy_store(asal, copy);  // never synced: no acknowledgement recorded
  const std::string k2 = new_case(asal, "Warga Kedua");
  sync(asal);  // the server holds seqs 1 and 2
  copy_store(copy, asal);
  const std::string k3 = new_case(asal, "Warga Setelah Pemulihan");  // seq 2 again, another body

  json r = sync(asal);
  EXPECT_TRUE(r["restored"]["detected"].get<bool>()) << r.dump();
  EXPECT_EQ(r["restored"]["reissued"], 1) << r.dump();
  sync(rekan);
  for (const std::string& k : {k1, k2, k3}) {
    EXPECT_EQ(show(rekan, k), show(asal, k)) << k;
    EXPECT_EQ(commits_of(rekan, k), commits_of(asal, k)) << k;
  }
}

TEST_F(LockoutTest, TheJsonReportOfARestoredStoreCountsWhatMovedAndWhatCameBack) {
  start_server();
  const std::string asal = device("asal", "UJI-ASAL", "pendamping");
  const std::string k1 = new_case(asal, "Warga Json");
  sync(asal);
  const std::filesystem::path copy = dir_ / "salinan.db";
  copy_store(asal, copy);
  set(asal, k1, "summary=Satu");
  set(asal, k1, "summary=Dua");
  sync(asal);
  copy_store(copy, asal);
  set(asal, k1, "chronology=Baru");  // takes a seq the server already holds

  json r = sync(asal);
  EXPECT_TRUE(r["restored"]["detected"].get<bool>()) << r.dump();
  EXPECT_EQ(r["restored"]["reissued"], 1);
  EXPECT_EQ(r["restored"]["recovered"], 2);
  EXPECT_EQ(r["pushed"], 1);
  const std::string shown = show(asal, k1);
  EXPECT_NE(shown.find("Dua"), std::string::npos);
  EXPECT_NE(shown.find("Baru"), std::string::npos);
}

// Found by the deterministic simulation (seed 39629), here through a real teduhd: the
// server refused a forged commit under seq N; the store is restored from a copy made
// before it, and a new case takes seq N again. The server answers that body seq_taken
// (it keeps the digest of the body it refused), the device numbers it anew, and the case
// reaches the office's other device; the refused body itself, pushed again under N, is
// refused again and stored nowhere.
TEST_F(LockoutTest, ANewCaseUnderTheSeqOfARefusedCommitIsStoredAndTheRefusedBodyStaysRefused) {
  start_server();
  const std::string asal = device("asal", "UJI-ASAL", "pendamping");
  const std::string rekan = device("rekan", "UJI-ASAL", "pendamping");
  const std::string tujuan = device("tujuan", "UJI-TUJUAN", "pendamping");
  const std::string foreign = new_case(tujuan, "Warga Kantor Lain");
  sync(tujuan);
  const std::string k1 = new_case(asal, "Warga Sebelum Salinan");
  sync(asal);
  const std::filesystem::path copy = dir_ / "sebelum-tolak.db";
  copy_store(asal, copy);

  // A write into another office's case, signed by this device: refused under seq N.
  teduh::testing::HostileDevice evil(asal);
  sync::Commit forged = evil.commit(*sync::Id128::from_hex(foreign), "kasus");
  forged.versions.push_back(teduh::testing::HostileDevice::version(
      forged, *sync::Id128::from_hex(foreign), "kasus", "summary", "Ditulis kantor lain"));
  evil.forge(forged);
  json refused = sync(asal, 2);
  ASSERT_EQ(refused["rejected"], 1) << refused.dump();

  // Restored from the copy: the new case is written under the same seq N.
  copy_store(copy, asal);
  const std::string k2 = new_case(asal, "Warga Setelah Pemulihan");
  json r = sync(asal);
  EXPECT_EQ(r["rejected"], 0) << r.dump();
  EXPECT_GE(r["pushed"].get<int>(), 1) << r.dump();
  json again = sync(asal);
  EXPECT_EQ(again["pushed"], 0) << again.dump();
  EXPECT_EQ(again["rejected"], 0) << again.dump();

  sync(rekan);
  for (const std::string& k : {k1, k2}) {
    EXPECT_EQ(show(rekan, k), show(asal, k)) << k;
    EXPECT_EQ(commits_of(rekan, k), commits_of(asal, k)) << k;
  }

  // Restored from the copy once more, the refused body itself is pushed again under N
  // (the push sends only seqs past the last acknowledged one, so only a restore reaches
  // back): refused again, never stored; the device gets its new case back.
  copy_store(copy, asal);
  evil.forge(forged);
  json replay = sync(asal, 2);
  EXPECT_EQ(replay["rejected"], 1) << replay.dump();
  EXPECT_TRUE(replay["restored"]["detected"].get<bool>()) << replay.dump();
  json after = sync(asal);
  EXPECT_EQ(after["rejected"], 0) << after.dump();
  EXPECT_EQ(show(rekan, k2), show(asal, k2));
  sync(tujuan);
  EXPECT_EQ(show(tujuan, foreign).find("Ditulis kantor lain"), std::string::npos);
  EXPECT_EQ(commits_of(rekan, foreign), 0);
}

}  // namespace
}  // namespace teduh
