// `teduh check` and `teduhd check`: every page read and verified, SQLite's integrity check,
// a verdict in Indonesian, exit 0 when intact and 2 when damaged (crypto/FORMATS.md
// section 8, "Checking a store").
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.hpp"
#include "support/server_test.hpp"
#include "support/store_fixture.hpp"

namespace teduh {
namespace {

using teduh::testing::teduh;
using teduh::testing::teduhd;
namespace fs = std::filesystem;

constexpr std::size_t kPage = 4096;

void flip_byte(const fs::path& p, std::size_t offset) {
  std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
  ASSERT_TRUE(f);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x01);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

// A server data folder and an office store made by the real programs, both closed.
class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TEDUH_KDF", "interactive", 1);
    ::setenv("TEDUH_SERVER_PASSPHRASE", teduh::testing::kServerPassphrase, 1);
    ::setenv("TEDUH_PASSPHRASE", teduh::testing::kOfficePassphrase, 1);
    data_ = (dir_ / "server").string();
    auto init = teduhd({"init", "--data", data_});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    ASSERT_EQ(teduhd({"office", "add", "--data", data_, "--code", "UJI-DP3A", "--name", "Dinas Uji", "--kind",
                      "dinas"})
                  .exit_code,
              0);
    auto code = teduhd({"enroll", "--data", data_, "--office", "UJI-DP3A", "--user", "petugas-uji", "--role",
                        "pendamping"});
    ASSERT_EQ(code.exit_code, 0) << code.err;
    store_ = (dir_ / "kantor.db").string();
    auto r = teduh({"init", "--store", store_, "--server", "127.0.0.1:9", "--server-key", init.last_line(),
                    "--enroll", code.last_line()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (int i = 0; i < 3; ++i) {
      auto c = teduh({"case", "new", "--store", store_, "--channel", "telepon", "--victim-name",
                      "Korban Uji " + std::to_string(i), "--victim-sex", "P"});
      ASSERT_EQ(c.exit_code, 0) << c.err;
    }
  }

  // The last whole page of a closed store (no WAL left beside it).
  static std::size_t last_page(const fs::path& db) {
    EXPECT_FALSE(fs::exists(db.string() + "-wal") && fs::file_size(db.string() + "-wal") > 0)
        << "the store should be closed and checkpointed";
    return fs::file_size(db) / kPage;
  }

  teduh::testing::TempDir dir_;
  std::string data_, store_;
};

TEST_F(CheckTest, AnIntactOfficeStorePassesWithItsPagesCounted) {
  auto r = teduh({"check", "--store", store_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("Penyimpanan utuh: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" halaman diperiksa"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("RUSAK"), std::string::npos) << r.out;
}

TEST_F(CheckTest, AFlippedByteInAnOfficeStorePageIsDamageNamingThePage) {
  const std::size_t page = last_page(store_);
  ASSERT_GE(page, 3u);
  flip_byte(store_, (page - 1) * kPage + 1000);
  auto r = teduh({"check", "--store", store_});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("RUSAK: halaman " + std::to_string(page) + " tidak lolos pemeriksaan"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Penyimpanan RUSAK"), std::string::npos) << r.out;
}

TEST_F(CheckTest, AWrongPassphraseCannotCheckAndExitsTwo) {
  ::setenv("TEDUH_PASSPHRASE", "bukan-sandinya", 1);
  auto r = teduh({"check", "--store", store_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("passphrase"), std::string::npos) << r.err;
}

TEST_F(CheckTest, AnIntactServerStorePasses) {
  auto r = teduhd({"check", "--data", data_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("Penyimpanan utuh: ", 0), 0u) << r.out;
}

TEST_F(CheckTest, AFlippedByteInTheServerStoreIsDamageNamingThePage) {
  const fs::path db = fs::path(data_) / "server.db";
  const std::size_t page = last_page(db);
  ASSERT_GE(page, 3u);
  flip_byte(db, (page - 1) * kPage + 2000);
  auto r = teduhd({"check", "--data", data_});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("RUSAK: halaman " + std::to_string(page) + " tidak lolos pemeriksaan"), std::string::npos)
      << r.out;
}

TEST_F(CheckTest, BothCheckCommandsHaveHelp) {
  EXPECT_EQ(teduh({"check", "--help"}).exit_code, 0);
  EXPECT_EQ(teduhd({"check", "--help"}).exit_code, 0);
}

}  // namespace
}  // namespace teduh
