// The server store does not fail quietly (issue 13.8), and every file teduh and teduhd
// create is readable by its owner only (issue 13.7). All against the real programs.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/server_test.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"

namespace teduh {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::teduh;
using testing::teduhd;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 07777;
  return st.st_mode & 0777;
}

// Flips bytes in the middle of page `page` (1-based, 4096-byte pages) of a file.
void damage_page(const fs::path& file, std::uintmax_t page) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f);
  const std::streamoff at = static_cast<std::streamoff>((page - 1) * 4096 + 2000);
  f.seekg(at);
  char bytes[8];
  f.read(bytes, sizeof bytes);
  for (char& b : bytes) b = static_cast<char>(~b);
  f.seekp(at);
  f.write(bytes, sizeof bytes);
  ASSERT_TRUE(f);
}

class ServerStoreSafetyTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", "20000", 1);
    add_office("UJI-DP3A", "dinas");
  }

  void new_case(const std::string& store, const std::string& form) {
    run_ok({"case", "new", "--store", store, "--channel", "telepon", "--forms", form});
  }

  // Writes `n` cases into a device store in-process (fast setup for a big sync).
  void many_cases(const std::string& store, int n) {
    auto s = client::Store::open(store, testing::kOfficePassphrase);
    ASSERT_TRUE(s) << s.error().message;
    client::Workflow wf(*s);
    auto r = s->in_transaction([&]() -> client::Result<bool> {
      for (int i = 0; i < n; ++i) {
        TEDUH_TRY(wf.new_case({{"summary", "Kasus uji " + std::to_string(i)}}, {{"name", "Orang Uji " + std::to_string(i)}}));
      }
      return true;
    });
    ASSERT_TRUE(r) << r.error().message;
  }

  fs::path db() const { return fs::path(data_) / "server.db"; }

  // Starts teduhd again on the port the devices know.
  void restart_on_the_same_port(std::uint16_t port) {
    ASSERT_TRUE(server_.start(data_, log_, "127.0.0.1:" + std::to_string(port)));
    started_ = true;
  }
};

TEST_F(ServerStoreSafetyTest, ADamagedPageKeepsServeFromStarting) {
  start_server();
  const std::string store = device("sari", "UJI-DP3A", "pendamping");
  many_cases(store, 200);
  sync(store);
  ASSERT_TRUE(server_.stop());
  started_ = false;
  ASSERT_FALSE(fs::exists(fs::path(db().string() + "-wal")) && fs::file_size(db().string() + "-wal") > 0)
      << "a clean stop leaves everything in server.db";
  // One damaged page of the commit log (the last page of the file holds its newest rows).
  const std::uintmax_t pages = fs::file_size(db()) / 4096;
  ASSERT_GT(pages, 10u);
  damage_page(db(), pages);

  const fs::path log = dir_ / "damaged.log";
  testing::ServerProcess second;
  EXPECT_FALSE(second.start(data_, log)) << "teduhd serve started on a damaged store";
  const std::string text = testing::read_file(log);
  EXPECT_NE(text.find("is damaged"), std::string::npos) << text;
  EXPECT_NE(text.find("restore the folder from a backup"), std::string::npos) << text;
  EXPECT_FALSE(second.stop()) << "exit code 0 on a damaged store";
}

TEST_F(ServerStoreSafetyTest, ASecondServeOnTheSameFolderIsRefused) {
  start_server();
  const fs::path log = dir_ / "second.log";
  testing::ServerProcess second;
  EXPECT_FALSE(second.start(data_, log)) << "two teduhd serve on one store";
  EXPECT_FALSE(second.stop());
  const std::string text = testing::read_file(log);
  EXPECT_NE(text.find("another teduhd serve is already serving"), std::string::npos) << text;
  // The first still serves.
  const std::string store = device("sari", "UJI-DP3A", "pendamping");
  new_case(store, "fisik");
  EXPECT_EQ(sync(store).value("pushed", 0), 1);
}

TEST_F(ServerStoreSafetyTest, AdminCommandsRunWhileTheServerServesABigSync) {
  start_server();
  const std::string store = device("sari", "UJI-DP3A", "pendamping");
  many_cases(store, 1500);
  std::atomic<bool> done{false};
  int sync_exit = -1;
  std::thread big([&] {
    testing::Run r = teduh({"sync", "--store", store, "--json"});
    sync_exit = r.exit_code;
    done = true;
  });
  int runs = 0;
  std::vector<std::string> failures;
  while (!done || runs < 3) {
    ++runs;
    testing::Run e = teduhd({"enroll", "--data", data_, "--office", "UJI-DP3A", "--user", "petugas-" + std::to_string(runs),
                             "--role", "operator"});
    if (e.exit_code != 0) failures.push_back("enroll: " + e.err);
    testing::Run o = teduhd({"office", "add", "--data", data_, "--code", "UJI-K" + std::to_string(runs), "--name",
                             "Kantor uji", "--kind", "kelurahan"});
    if (o.exit_code != 0) failures.push_back("office add: " + o.err);
    testing::Run l = teduhd({"device", "list", "--data", data_, "--json"});
    if (l.exit_code != 0) failures.push_back("device list: " + l.err);
    if (runs > 200) break;
  }
  big.join();
  EXPECT_EQ(sync_exit, 0);
  EXPECT_TRUE(failures.empty()) << failures.size() << " admin commands failed in " << runs << " rounds; first: "
                                << failures.front();
  EXPECT_EQ(log().find("database is locked"), std::string::npos);
}

// The worst case of the test above, made certain: a write transaction of the server held
// for a second and a half. An admin command waits for it instead of failing with
// "database is locked".
TEST_F(ServerStoreSafetyTest, AnAdminCommandWaitsForTheServersWriteInsteadOfFailing) {
  start_server();
  auto key = crypto::unlock_store_key(db(), teduh::testing::kServerPassphrase);
  ASSERT_TRUE(key) << key.error().message;
  auto writer = crypto::open_encrypted(db(), *key, crypto::OpenMode::existing);
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_EQ(sqlite3_exec(writer->get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    (void)sqlite3_exec(writer->get(), "COMMIT", nullptr, nullptr, nullptr);
  });
  testing::Run e = teduhd({"enroll", "--data", data_, "--office", "UJI-DP3A", "--user", "petugas-tunggu", "--role",
                           "operator"});
  release.join();
  EXPECT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(e.err.find("database is locked"), std::string::npos) << e.err;
}

TEST_F(ServerStoreSafetyTest, AServerRolledBackBehindItsAcknowledgementsSaysSoAndGetsThemAgain) {
  start_server();
  const std::string store = device("sari", "UJI-DP3A", "pendamping");
  new_case(store, "fisik");
  EXPECT_EQ(sync(store).value("pushed", 0), 1);
  // A clean stop: the registration and the first commit are in server.db itself.
  const std::uint16_t port = server_.port();
  ASSERT_TRUE(server_.stop());
  started_ = false;
  restart_on_the_same_port(port);
  new_case(store, "psikis");
  new_case(store, "seksual");
  EXPECT_EQ(sync(store).value("pushed", 0), 2);
  // Killed, and its WAL (the two acknowledged commits) deleted: the store rolls back.
  server_.kill_hard();
  started_ = false;
  fs::remove(db().string() + "-wal");
  fs::remove(db().string() + "-shm");
  restart_on_the_same_port(port);
  json again = sync(store);
  EXPECT_EQ(again.value("server_lost", 0), 2) << again.dump();
  EXPECT_EQ(again.value("pushed", 0), 2) << "the device pushes them again";
  EXPECT_NE(log().find("the store lost acknowledged commits of device"), std::string::npos) << log();
  EXPECT_NE(log().find(" error "), std::string::npos) << "logged as an error";
  // Once pushed again, nothing is missing any more.
  EXPECT_EQ(sync(store).value("server_lost", 0), 0);
}

TEST_F(ServerStoreSafetyTest, AServerThatLostADeviceRegistrationSaysSo) {
  start_server();
  const std::string store = device("sari", "UJI-DP3A", "pendamping");
  new_case(store, "fisik");
  EXPECT_EQ(sync(store).value("pushed", 0), 1);
  const std::uint16_t port = server_.port();
  server_.kill_hard();
  started_ = false;
  fs::remove(db().string() + "-wal");
  fs::remove(db().string() + "-shm");
  restart_on_the_same_port(port);
  // The enrollment code went with the WAL too, so the device cannot register again by
  // itself (exit 2, refused); the server says why in its log.
  sync(store, 2);
  EXPECT_NE(log().find("the store lost the registration and acknowledged commits"), std::string::npos) << log();
}

TEST_F(ServerStoreSafetyTest, FilesThatTeduhAndTeduhdCreateAreTheOwnersOnly) {
  const mode_t old_mask = ::umask(022);  // what a default login shell gives
  start_server();
  const std::string store = device("sari", "UJI-DP3A", "pendamping");
  const std::string id = run_ok({"case", "new", "--store", store, "--channel", "telepon", "--forms", "fisik"});
  sync(store);
  // The server's folder and every file in it, while it serves (the WAL exists then).
  EXPECT_EQ(mode_of(data_), 0700u);
  bool saw_wal = false;
  for (const auto& entry : fs::directory_iterator(data_)) {
    saw_wal |= entry.path().filename() == "server.db-wal";
    EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path().filename();
  }
  EXPECT_TRUE(saw_wal);
  // The device's store, key file and WAL (kept open here so the WAL stays).
  {
    auto s = client::Store::open(store, testing::kOfficePassphrase);
    ASSERT_TRUE(s) << s.error().message;
    client::Workflow wf(*s);
    ASSERT_TRUE(wf.new_case({{"summary", "Kasus uji"}}, {{"name", "Orang Uji"}}));
    for (const std::string suffix : {"", ".key", "-wal"}) {
      ASSERT_TRUE(fs::exists(store + suffix)) << suffix;
      EXPECT_EQ(mode_of(store + suffix), 0600u) << "store" << suffix;
    }
  }
  // An export and a chart.
  const std::string out = (dir_ / "ekspor.json").string();
  ASSERT_EQ(teduh({"case", "export", id, "--store", store, "--out", out}).exit_code, 0);
  EXPECT_EQ(mode_of(out), 0600u);
  const std::string chart = (dir_ / "grafik.svg").string();
  ASSERT_EQ(teduh({"report", "--store", store, "--chart", chart}).exit_code, 0);
  EXPECT_EQ(mode_of(chart), 0600u);
  // The report as an Excel workbook (a zip).
  const std::string book = (dir_ / "laporan.xlsx").string();
  ASSERT_EQ(teduh({"report", "--store", store, "--xlsx", book}).exit_code, 0);
  EXPECT_EQ(mode_of(book), 0600u);
  EXPECT_EQ(testing::read_file(book).rfind("PK\x03\x04", 0), 0u);
  ::umask(old_mask);
}

}  // namespace
}  // namespace teduh
