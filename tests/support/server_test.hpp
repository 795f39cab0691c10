#pragma once
// Test support: the base of the integration tests that run a real teduhd on 127.0.0.1 and
// drive real `teduh` devices through it. SetUp makes the server's data folder (with
// `teduhd init`); a test adds offices, starts the server, enrolls devices, syncs them, and
// reads their stores. TearDown stops the server and prints its log if the test failed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"
#include "teduh/client/store.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh::testing {

// Test passphrases pass the same strength check as real ones (crypto/passphrase.hpp).
inline constexpr const char* kOfficePassphrase = "ikan-paus-terbang-sore-uji";
inline constexpr const char* kServerPassphrase = "lampu-jalan-berbisik-pelan-uji";
inline constexpr const char* kAdminPassphrase = "mangga-layang-sepeda-kabut-uji";

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TEDUH_KDF", "interactive", 1);
    ::setenv("TEDUH_TEST_STORES", "1", 1);
    ::setenv("TEDUH_SERVER_PASSPHRASE", kServerPassphrase, 1);
    ::setenv("TEDUH_ADMIN_PASSPHRASE", kAdminPassphrase, 1);
    ::setenv("TEDUH_PASSPHRASE", kOfficePassphrase, 1);
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", "20000", 1);
    data_ = (dir_ / "server").string();
    log_ = dir_ / "teduhd.log";
    // The administrator key lives outside the data folder (server/README.md).
    std::filesystem::create_directories(dir_ / "administrator");
    admin_key_ = (dir_ / "administrator" / "admin.key").string();
    testing::Run init = teduhd({"init", "--data", data_, "--admin-key", admin_key_});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    server_key_ = init.last_line();
  }

  void TearDown() override {
    if (!started_) return;
    EXPECT_TRUE(server_.stop()) << "teduhd did not stop cleanly";
    if (HasFailure()) std::cerr << "teduhd.log:\n" << read_file(log_) << "\n";
  }

  void add_office(const std::string& code, const std::string& kind, const std::string& region = "") {
    std::vector<std::string> args{"office", "add", "--data", data_, "--code", code, "--name", "Kantor " + code,
                                  "--kind", kind};
    if (!region.empty()) args.insert(args.end(), {"--region", region});
    testing::Run r = teduhd(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  void start_server() {
    ASSERT_TRUE(server_.start(data_, log_));
    started_ = true;
  }

  // Enrolls user "petugas-NAME" of `office` with `role` and sets up its store NAME.db
  // with `teduh init`, pointed at the running server; returns the store's path.
  std::string device(const std::string& name, const std::string& office, const std::string& role,
                     bool shelter = false) {
    std::vector<std::string> args{"enroll", "--data", data_, "--office", office, "--user", "petugas-" + name,
                                  "--role", role};
    if (shelter) args.push_back("--shelter");
    testing::Run code = teduhd(args);
    EXPECT_EQ(code.exit_code, 0) << code.err;
    std::string store = (dir_ / (name + ".db")).string();
    testing::Run init = teduh({"init", "--store", store, "--server", server_.address(), "--server-key", server_key_,
                      "--enroll", code.last_line()});
    EXPECT_EQ(init.exit_code, 0) << init.err;
    return store;
  }

  // `teduh sync --json` of a store, checked against the exit code expected.
  nlohmann::json sync(const std::string& store, int expected_exit = 0) {
    testing::Run r = teduh({"sync", "--store", store, "--json"});
    EXPECT_EQ(r.exit_code, expected_exit) << store << ": " << r.err;
    return r.out.empty() ? nlohmann::json() : nlohmann::json::parse(r.out, nullptr, false);
  }

  // Runs `teduh ARGS`, expects success, returns the last line printed.
  std::string run_ok(const std::vector<std::string>& args) {
    testing::Run r = teduh(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << (args.size() > 1 ? " " + args[1] : "") << ": " << r.err;
    return r.last_line();
  }

  // Rows anywhere a store keeps values (field versions, shown fields, projections, commit
  // bodies) that contain `text`: for scans of what a device holds.
  std::int64_t rows_containing(const std::string& store, const std::string& text) {
    auto s = client::Store::open(store, kOfficePassphrase);
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return -1;
    std::int64_t n = 0;
    for (const char* sql : {"SELECT count(*) FROM versions WHERE instr(value, ?1) > 0",
                            "SELECT count(*) FROM fields WHERE instr(value, ?1) > 0",
                            "SELECT count(*) FROM projections WHERE instr(body, ?1) > 0",
                            "SELECT count(*) FROM commits WHERE instr(body, CAST(?1 AS BLOB)) > 0"}) {
      auto st = schema::Statement::prepare(s->db(), sql);
      st->bind(1, text);
      (void)st->step();
      n += st->column_int(0);
    }
    return n;
  }

  // The case scopes a store's raw tables hold anything of (commits or entities): what
  // a device still holds of a case after a purge, whatever its lists show.
  std::set<std::string> held(const std::string& store) {
    auto s = client::Store::open(store, kOfficePassphrase);
    EXPECT_TRUE(s) << s.error().message;
    std::set<std::string> out;
    if (!s) return out;
    for (const char* sql : {"SELECT DISTINCT scope FROM commits WHERE scope_type = 'kasus'",
                            "SELECT DISTINCT scope FROM entities WHERE type <> 'rumah_aman'"}) {
      auto st = schema::Statement::prepare(s->db(), sql);
      while (*st->step()) {
        auto blob = st->column_blob(0);
        sync::Id128 id;
        std::copy(blob.begin(), blob.end(), id.bytes.begin());
        out.insert(id.hex());
      }
    }
    return out;
  }

  std::string log() { return read_file(log_); }

  TempDir dir_;
  std::string data_, server_key_, admin_key_;
  std::filesystem::path log_;
  ServerProcess server_;
  bool started_ = false;
};

}  // namespace teduh::testing
