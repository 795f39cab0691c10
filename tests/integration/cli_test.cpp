// The `teduh` program tried as a new user would: help everywhere, clear refusals with the
// right exit codes, and JSON that is stable across runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/store_fixture.hpp"

namespace teduh {
namespace {

// Strong enough for the passphrase check (crypto/passphrase.hpp), like every real one.
constexpr const char* kOfficePassphrase = "ikan-paus-terbang-sore-uji";
constexpr const char* kServerPassphrase = "lampu-jalan-berbisik-pelan-uji";
constexpr const char* kAdminPassphrase = "mangga-layang-sepeda-kabut-uji";

using nlohmann::json;
using teduh::testing::teduh;
using teduh::testing::teduhd;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TEDUH_KDF", "interactive", 1);
    ::setenv("TEDUH_TEST_STORES", "1", 1);
    ::setenv("TEDUH_SERVER_PASSPHRASE", kServerPassphrase, 1);
    ::setenv("TEDUH_ADMIN_PASSPHRASE", kAdminPassphrase, 1);
    ::setenv("TEDUH_PASSPHRASE", kOfficePassphrase, 1);
    std::string data = (dir_ / "server").string();
    auto init = teduhd({"init", "--data", data, "--admin-key", (dir_ / "admin.key").string()});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    ASSERT_EQ(teduhd({"office", "add", "--data", data, "--code", "UJI-DP3A", "--name", "Dinas Uji",
                      "--kind", "dinas"})
                  .exit_code,
              0);
    auto code = teduhd({"enroll", "--data", data, "--office", "UJI-DP3A", "--user", "petugas-uji",
                        "--role", "pendamping", "--shelter"});
    ASSERT_EQ(code.exit_code, 0) << code.err;
    store_ = (dir_ / "kantor.db").string();
    auto r = teduh({"init", "--store", store_, "--server", "127.0.0.1:9", "--server-key",
                    init.last_line(), "--enroll", code.last_line()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    server_key_ = init.last_line();
    code_ = code.last_line();
  }

  teduh::testing::TempDir dir_;
  std::string store_, server_key_, code_;
};

TEST_F(CliTest, EveryCommandHasHelp) {
  const std::vector<std::vector<std::string>> commands = {{},
                                                          {"init"},
                                                          {"case"},
                                                          {"case", "new"},
                                                          {"case", "list"},
                                                          {"case", "show"},
                                                          {"case", "export"},
                                                          {"case", "set"},
                                                          {"case", "close"},
                                                          {"person", "add"},
                                                          {"service", "add"},
                                                          {"refer"},
                                                          {"shelter", "add"},
                                                          {"shelter", "list"},
                                                          {"shelter", "place"},
                                                          {"conflicts"},
                                                          {"resolve"},
                                                          {"history"},
                                                          {"audit"},
                                                          {"due"},
                                                          {"report"},
                                                          {"config", "set"},
                                                          {"config", "show"},
                                                          {"import"},
                                                          {"kode"},
                                                          {"cari"},
                                                          {"sync"}};
  for (auto args : commands) {
    args.push_back("--help");
    auto r = teduh(args);
    EXPECT_EQ(r.exit_code, 0) << args.front();
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << args.front() << ": " << r.out;
  }
  for (auto args : std::vector<std::vector<std::string>>{{},
                                                         {"init"},
                                                         {"office", "add"},
                                                         {"enroll"},
                                                         {"serve"},
                                                         {"device", "list"},
                                                         {"device", "revoke"}}) {
    args.push_back("--help");
    EXPECT_EQ(teduhd(args).exit_code, 0);
  }
}

TEST_F(CliTest, AnExportWritesAPrivateFileOnceAndIsAudited) {
  auto created = teduh({"case", "new", "--store", store_, "--victim-name", "Orang Ekspor Uji"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = created.last_line();
  const std::string out = (dir_ / "kasus.json").string();
  auto exported = teduh({"case", "export", id, "--store", store_, "--out", out});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const json doc = json::parse(teduh::testing::read_file(out));
  EXPECT_EQ(doc["id"], id);
  EXPECT_EQ(std::filesystem::status(out).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // A second export never overwrites a file.
  auto again = teduh({"case", "export", id, "--store", store_, "--out", out});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  // A case worker may not read the audit log (PERMISSIONS.md), so read the store.
  auto store = client::Store::open(store_, kOfficePassphrase);
  ASSERT_TRUE(store) << store.error().message;
  auto events = store->entities("audit");
  ASSERT_TRUE(events);
  int exports = 0;
  for (const auto& e : *events) exports += e.get("action") == "diekspor" ? 1 : 0;
  EXPECT_EQ(exports, 1);
}

// Issue 15: `teduh import --template` writes an empty register to start from (a new file
// only), which imports once a row is filled in; /dev/zero is refused in words.
TEST_F(CliTest, ARegisterTemplateIsWrittenOnceAndImportsWhenFilled) {
  const std::string path = (dir_ / "register.csv").string();
  auto written = teduh({"import", "--template", path});
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_NE(written.out.find("Templat register kosong"), std::string::npos) << written.out;
  const std::string header = teduh::testing::read_file(path);
  EXPECT_NE(header.find("no_register,tanggal_pengaduan,"), std::string::npos) << header;
  auto again = teduh({"import", "--template", path});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("sudah ada"), std::string::npos) << again.err;
  EXPECT_EQ(teduh::testing::read_file(path), header);  // nothing overwritten
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << "1/I/2026,2026-01-05" << std::string(24, ',') << "\r\n";
  }
  auto imported = teduh({"import", "--store", store_, "--csv", path});
  EXPECT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(imported.last_line(), "1");
  auto zero = teduh({"import", "--store", store_, "--csv", "/dev/zero"});
  EXPECT_EQ(zero.exit_code, 1);
  EXPECT_NE(zero.err.find("binary data"), std::string::npos) << zero.err;
  EXPECT_EQ(teduh({"import", "--store", store_}).exit_code, 1);  // neither --csv nor --template
}

// Issue 15: teduh kode lists the code lists with their labels; teduh cari finds a case by
// its victim's name without printing the name; a label is accepted where a code is.
TEST_F(CliTest, KodeListsCodesAndCariFindsACaseByTheVictimsName) {
  auto sex = teduh({"kode", "jenis_kelamin"});
  ASSERT_EQ(sex.exit_code, 0) << sex.err;
  EXPECT_NE(sex.out.find("  P  Perempuan\n"), std::string::npos) << sex.out;
  auto all = teduh({"kode", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const json lists = json::parse(all.out);
  EXPECT_TRUE(lists.contains("bentuk_kekerasan")) << all.out;
  EXPECT_NE(std::find(lists["jenis_kelamin"].begin(), lists["jenis_kelamin"].end(),
                      json{{"code", "P"}, {"label", "Perempuan"}}),
            lists["jenis_kelamin"].end())
      << all.out;
  auto unknown = teduh({"kode", "tidak_ada"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("Daftar yang ada"), std::string::npos) << unknown.err;

  auto created = teduh({"case", "new", "--store", store_, "--victim-name", "Sekar Wening Uji",
                        "--victim-sex", "Perempuan", "--forms", "Kekerasan fisik"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto found = teduh({"cari", "--store", store_, "wening"});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_NE(found.out.find("1 case(s)"), std::string::npos) << found.out;
  EXPECT_EQ(found.out.find("Wening"), std::string::npos) << found.out;  // victims by code
  // case list filters (a label for the status; a wrong day is said, exit 1).
  auto received = teduh({"case", "list", "--store", store_, "--status", "Diterima"});
  ASSERT_EQ(received.exit_code, 0) << received.err;
  EXPECT_NE(received.out.find("1 case(s)"), std::string::npos) << received.out;
  auto closed = teduh({"case", "list", "--store", store_, "--status", "terminasi", "--json"});
  ASSERT_EQ(closed.exit_code, 0) << closed.err;
  EXPECT_TRUE(json::parse(closed.out)["cases"].empty()) << closed.out;
  auto wrong_day = teduh({"case", "list", "--store", store_, "--dari", "31/02/2026"});
  EXPECT_EQ(wrong_day.exit_code, 1);
  EXPECT_NE(wrong_day.err.find("--dari"), std::string::npos) << wrong_day.err;
  auto none = teduh({"cari", "--store", store_, "Tidak Ada Orang Ini", "--json"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_TRUE(json::parse(none.out)["cases"].empty()) << none.out;
}

TEST_F(CliTest, BadUsageExitsWithOne) {
  EXPECT_EQ(teduh({}).exit_code, 1);
  EXPECT_EQ(teduh({"case", "frobnicate"}).exit_code, 1);
  EXPECT_EQ(teduh({"case", "show", "--store", store_}).exit_code, 1);
}

// Issue 15.5: the same victim recorded again is recorded, with a warning that names the
// earlier case; accents and their encoding do not hide a name.
TEST_F(CliTest, IntakeWarnsWhenTheSameNikOrNameAndBirthDateIsAlreadyRecorded) {
  const std::string nik = "3275044101900001";  // made up: 327504, 01-01-1990 (P), 0001
  auto first = teduh({"case", "new", "--store", store_, "--victim-name", "Ayu W\u00e9nt\u00e8n", "--victim-nik", nik,
                      "--victim-birth", "1990-01-01"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.err.find("Peringatan"), std::string::npos) << first.err;
  const std::string first_id = first.last_line();
  auto show = teduh({"case", "show", "--store", store_, first_id, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("Ayu W\u00e9nt\u00e8n"), std::string::npos);  // stored as typed, in NFC

  // The same NIK written with spaces.
  auto same_nik = teduh({"case", "new", "--store", store_, "--victim-name", "Orang Lain Uji", "--victim-nik",
                         "3275 0441 0190 0001"});
  ASSERT_EQ(same_nik.exit_code, 0) << same_nik.err;
  EXPECT_NE(same_nik.err.find("Peringatan: korban dengan NIK yang sama sudah tercatat di kasus UJI-DP3A/"),
            std::string::npos)
      << same_nik.err;
  EXPECT_NE(same_nik.err.find(first_id), std::string::npos) << same_nik.err;

  // The name decomposed (as a phone may send it), in capitals, with the same birth date.
  auto same_name = teduh({"case", "new", "--store", store_, "--victim-name", "AYU WE\u0301NTE\u0300N",
                          "--victim-birth", "01-01-1990"});
  ASSERT_EQ(same_name.exit_code, 0) << same_name.err;
  EXPECT_NE(same_name.err.find("nama dan tanggal lahir yang sama"), std::string::npos) << same_name.err;
  // A decomposed name is stored composed.
  auto shown = teduh({"case", "show", "--store", store_, same_name.last_line(), "--json"});
  EXPECT_NE(shown.out.find("AYU W\u00c9NT\u00c8N"), std::string::npos) << shown.out;

  // Another birth date, no NIK: nothing to warn about.
  auto other = teduh({"case", "new", "--store", store_, "--victim-name", "Ayu Wenten", "--victim-birth",
                      "1991-01-01"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(other.err.find("Peringatan"), std::string::npos) << other.err;
}

// Issue 15, words and habits: `case show` names each person by role and name, shows
// labels instead of codes and no internal field; `person remove` takes the short code
// it prints.
TEST_F(CliTest, CaseShowNamesPeopleByRoleAndPersonRemoveTakesTheShortCode) {
  auto made = teduh({"case", "new", "--store", store_, "--victim-name", "Korban Uji Satu",
                     "--victim-sex", "P", "--forms", "fisik,psikis", "--channel", "telepon"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string id = made.last_line();
  auto reporter = teduh({"person", "add", "--store", store_, "--case", id, "--role", "pelapor",
                         "--name", "Pelapor Uji Dua", "--relationship", "orang_tua"});
  ASSERT_EQ(reporter.exit_code, 0) << reporter.err;
  const std::string reporter_id = reporter.last_line();

  auto shown = teduh({"case", "show", "--store", store_, id});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("Korban: Korban Uji Satu   [kode "), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("Pelapor: Pelapor Uji Dua   [kode " + reporter_id.substr(24) + "]"),
            std::string::npos)
      << shown.out;
  EXPECT_NE(shown.out.find("Hubungan dengan korban: "), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("Jenis kelamin: Perempuan"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("Bentuk kekerasan: Kekerasan fisik, Kekerasan psikis"),
            std::string::npos)
      << shown.out;
  // No ids of linked records, no counters the system keeps, no "Peran:" list of ids.
  EXPECT_EQ(shown.out.find("Peran:"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("Kasus: "), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("Orang: "), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("closed_services_seen"), std::string::npos) << shown.out;

  // A code that is not hex, or too short, is refused in words; nothing is removed.
  auto bad = teduh({"person", "remove", "--store", store_, "--case", id, "Pelapor"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("bukan kode orang atau catatan"), std::string::npos) << bad.err;
  auto missing = teduh({"person", "remove", "--store", store_, "--case", id, "ffffffff"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("Tidak ada orang atau catatan berkode 'ffffffff'"), std::string::npos)
      << missing.err;

  auto removed =
      teduh({"person", "remove", "--store", store_, "--case", id, reporter_id.substr(24)});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  auto after = teduh({"case", "show", "--store", store_, id});
  EXPECT_EQ(after.out.find("Pelapor Uji Dua"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("Korban: Korban Uji Satu"), std::string::npos) << after.out;
}

// `teduh audit` names each case by its number: an id's first hex digits are its creation
// time, the same for two cases made within a minute.
TEST_F(CliTest, TheAuditNamesCasesByTheirNumbers) {
  auto code = teduhd({"enroll", "--data", (dir_ / "server").string(), "--office", "UJI-DP3A",
                      "--user", "penyelia-uji", "--role", "supervisor"});
  ASSERT_EQ(code.exit_code, 0) << code.err;
  const std::string store = (dir_ / "penyelia.db").string();
  ASSERT_EQ(teduh({"init", "--store", store, "--server", "127.0.0.1:9", "--server-key", server_key_,
                   "--enroll", code.last_line()})
                .exit_code,
            0);
  std::vector<std::string> numbers;
  for (int i = 0; i < 2; ++i) {
    auto made = teduh({"case", "new", "--store", store, "--victim-name", "Korban Audit Uji"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    numbers.push_back(
        json::parse(teduh({"case", "show", "--store", store, made.last_line(), "--json"})
                        .out)["case"]["number"]);
  }
  auto audit = teduh({"audit", "--store", store});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  for (const std::string& number : numbers) {
    EXPECT_NE(audit.out.find("dibuat  kasus " + number + "  oleh penyelia-uji"), std::string::npos)
        << audit.out;
  }
  EXPECT_EQ(audit.out.find("Korban Audit Uji"), std::string::npos) << audit.out;
}

TEST_F(CliTest, InvalidFieldValuesAreRefusedNamingTheFieldAndNothingIsWritten) {
  auto nik = teduh({"case", "new", "--store", store_, "--victim-name", "Orang Uji", "--victim-nik",
                    "327504010190000"});
  EXPECT_EQ(nik.exit_code, 1);
  EXPECT_NE(nik.err.find("nik"), std::string::npos) << nik.err;
  auto form = teduh({"case", "new", "--store", store_, "--forms", "pukul"});
  EXPECT_EQ(form.exit_code, 1);
  EXPECT_NE(form.err.find("forms"), std::string::npos) << form.err;
  auto date = teduh({"case", "new", "--store", store_, "--incident-date", "2026-02-30"});
  EXPECT_EQ(date.exit_code, 1);
  EXPECT_NE(date.err.find("incident_date"), std::string::npos) << date.err;
  auto list = teduh({"case", "list", "--store", store_, "--json"});
  EXPECT_TRUE(json::parse(list.out)["cases"].empty());
}

// Issue 15 points 1 and 11: typed times are the office's, shown in its zone; JSON keeps UTC.
TEST_F(CliTest, TimesAreTypedAndShownInTheOfficesZoneAndTheFutureIsRefused) {
  ASSERT_EQ(teduh({"config", "set", "--store", store_, "zona_waktu", "WITA"}).exit_code, 0);
  auto id = teduh({"case", "new", "--store", store_, "--received-at", "2026-12-01 08:30"});
  ASSERT_EQ(id.exit_code, 0) << id.err;
  auto list = teduh({"case", "list", "--store", store_, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out)["cases"][0]["received_at"], "2026-12-01T00:30:00Z");
  auto text = teduh({"case", "list", "--store", store_});
  EXPECT_NE(text.out.find("2026-12-01 08:30 WITA"), std::string::npos) << text.out;
  auto set = teduh({"case", "set", "--store", store_, id.last_line(), "received_at=2026-12-01 07:15"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto show = teduh({"case", "show", "--store", store_, id.last_line()});
  EXPECT_NE(show.out.find("Waktu pengaduan diterima: 2026-12-01 07:15 WITA"), std::string::npos)
      << show.out;
  auto shown = teduh({"case", "show", "--store", store_, id.last_line(), "--json"});
  EXPECT_EQ(json::parse(shown.out)["case"]["received_at"], "2026-11-30T23:15:00Z");
  auto history = teduh({"history", "--store", store_, id.last_line()});
  EXPECT_NE(history.out.find("kasus.received_at = 2026-12-01 07:15 WITA"), std::string::npos)
      << history.out;
  EXPECT_EQ(history.out.find("Z  "), std::string::npos) << history.out;

  auto future = teduh({"case", "new", "--store", store_, "--victim-birth", "2099-01-01"});
  EXPECT_EQ(future.exit_code, 1);
  EXPECT_NE(future.err.find("tanggal lahir (birth_date) tidak boleh di masa depan: 2099-01-01"),
            std::string::npos)
      << future.err;
  auto later = teduh({"case", "set", "--store", store_, id.last_line(), "incident_date=2099-01-01"});
  EXPECT_EQ(later.exit_code, 1);
  EXPECT_NE(later.err.find("(incident_date) tidak boleh di masa depan"), std::string::npos)
      << later.err;
  EXPECT_EQ(json::parse(teduh({"case", "list", "--store", store_, "--json"}).out)["cases"].size(), 1u);
}

TEST_F(CliTest, WrongPassphraseAndMissingStoreAreRefusedWithExitTwo) {
  ::setenv("TEDUH_PASSPHRASE", "bukan-sandinya", 1);
  auto wrong = teduh({"case", "list", "--store", store_});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_FALSE(wrong.err.empty());
  ::setenv("TEDUH_PASSPHRASE", kOfficePassphrase, 1);
  auto missing = teduh({"case", "list", "--store", (dir_ / "tidak-ada.db").string()});
  EXPECT_EQ(missing.exit_code, 2);
  std::filesystem::remove(std::filesystem::path(store_ + ".key"));
  auto no_key = teduh({"case", "list", "--store", store_});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_FALSE(no_key.err.empty());
}

TEST_F(CliTest, ATamperedEnrollmentCodeIsRefusedAndNoStoreIsCreated) {
  std::string bad = code_;
  bad[bad.size() / 2] = bad[bad.size() / 2] == 'A' ? 'B' : 'A';
  std::string store = (dir_ / "lain.db").string();
  auto r = teduh({"init", "--store", store, "--server", "127.0.0.1:9", "--server-key", server_key_,
                  "--enroll", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(store));
}

TEST_F(CliTest, JsonOutputIsStableAcrossRuns) {
  auto id = teduh({"case", "new", "--store", store_, "--forms", "psikis", "--victim-name",
                   "Orang Uji", "--victim-sex", "L"});
  ASSERT_EQ(id.exit_code, 0) << id.err;
  ASSERT_EQ(
      teduh({"service", "add", "--store", store_, "--case", id.last_line(), "--kind", "konseling"})
          .exit_code,
      0);
  for (const auto& cmd : std::vector<std::vector<std::string>>{{"case", "list"},
                                                               {"case", "show", id.last_line()},
                                                               {"report"},
                                                               {"due"},
                                                               {"conflicts"}}) {
    auto args = cmd;
    args.insert(args.end(), {"--store", store_, "--json"});
    auto a = teduh(args);
    auto b = teduh(args);
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.out, b.out) << cmd.front();
    EXPECT_TRUE(json::accept(a.out)) << a.out;
  }
}

// Issue 15, point 9: four `teduh` processes writing to one store at once (and listing
// between writes) take turns at the store's lock instead of failing with "database is
// locked" (exit 4): every command succeeds and the store holds exactly what they made.
TEST_F(CliTest, ManyTeduhProcessesOnOneStoreAllSucceed) {
  constexpr int kWriters = 4;
  constexpr int kCasesEach = 25;
  std::vector<std::vector<std::string>> failures(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto& mine = failures[static_cast<std::size_t>(w)];
      for (int i = 0; i < kCasesEach; ++i) {
        auto r = teduh({"case", "new", "--store", store_, "--forms", "psikis"});
        if (r.exit_code != 0) mine.push_back("case new: exit " + std::to_string(r.exit_code) + " " + r.err);
        if (i % 5 == 4) {
          auto l = teduh({"case", "list", "--store", store_, "--json"});
          if (l.exit_code != 0) mine.push_back("case list: exit " + std::to_string(l.exit_code) + " " + l.err);
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f.size() << " failed, first: " << f.front();
  auto list = teduh({"case", "list", "--store", store_, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const json cases = json::parse(list.out)["cases"];
  EXPECT_EQ(cases.size(), static_cast<std::size_t>(kWriters * kCasesEach));
  std::set<std::string> numbers;
  for (const auto& c : cases) numbers.insert(c["number"].get<std::string>());
  EXPECT_EQ(numbers.size(), static_cast<std::size_t>(kWriters * kCasesEach)) << "a case number given twice";
}

TEST_F(CliTest, ShelterAddressNeverAppearsInTheRawStore) {
  // Without a key from the administrator, a cleared device says so and writes nothing.
  auto early = teduh({"shelter", "add", "--store", store_, "--name", "RUMAH-PENANDA-31",
                      "--address", "ALAMAT-PENANDA-77"});
  EXPECT_EQ(early.exit_code, 2);
  EXPECT_NE(early.err.find("no shelter key yet"), std::string::npos) << early.err;
  {
    auto s = client::Store::open(store_, kOfficePassphrase);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE(
        teduh::testing::provide_shelter_key(*s));  // as a sync after `teduhd device clear` would
  }
  auto id = teduh({"shelter", "add", "--store", store_, "--name", "RUMAH-PENANDA-31", "--address",
                   "ALAMAT-PENANDA-77"});
  ASSERT_EQ(id.exit_code, 0) << id.err;
  auto list = teduh({"shelter", "list", "--store", store_, "--json"});
  EXPECT_NE(list.out.find("ALAMAT-PENANDA-77"), std::string::npos);
  std::string raw = teduh::testing::read_all_files(dir_.path());
  EXPECT_EQ(raw.find("ALAMAT-PENANDA-77"), std::string::npos);
  EXPECT_EQ(raw.find("RUMAH-PENANDA-31"), std::string::npos);
}

}  // namespace
}  // namespace teduh
