// Passphrases (issue 13, defect 5; crypto/FORMATS.md section 1): weak passphrases are
// refused for new stores and new passphrases, a passphrase changes without rewriting the
// store, and the cheap Argon2id cost is for test stores only, said so when one is opened.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "support/server_test.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/crypto/passphrase.hpp"

namespace teduh {
namespace {

namespace fs = std::filesystem;
using teduh::testing::kOfficePassphrase;
using teduh::testing::kServerPassphrase;
using teduh::testing::read_file;
using teduh::testing::teduh;
using teduh::testing::teduhd;
using Ran = teduh::testing::Run;

// Restores an environment variable when the scope ends.
class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) saved_ = v;
  }
  ~EnvGuard() {
    if (saved_) {
      ::setenv(name_, saved_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

class PassphraseTest : public teduh::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    add_office("UJI-UPTD", "uptd_ppa");
  }

  std::string code() {
    Ran r = teduhd({"enroll", "--data", data_, "--office", "UJI-UPTD", "--user", "petugas-sandi", "--role",
                    "pendamping"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.last_line();
  }

  Ran init_store(const std::string& store) {
    return teduh({"init", "--store", store, "--server", "127.0.0.1:9", "--server-key", server_key_, "--enroll",
                  code()});
  }
};

TEST(PassphraseStrength, TheThresholdRefusesCommonAndIndonesianPasswordWordsAndAcceptsLongPhrases) {
  for (const char* weak : {"", "rahasia123", "sandi-kantor-uji", "Bismillah123!", "password-password", "teduh2026"}) {
    EXPECT_LT(crypto::passphrase_bits(weak), crypto::kMinPassphraseBits) << weak;
    auto why = crypto::weak_passphrase_reason(weak);
    ASSERT_TRUE(why) << weak;
    EXPECT_NE(why->find("data korban"), std::string::npos);
  }
  for (const char* strong : {kOfficePassphrase, kServerPassphrase, "kucing oranye menyanyi keras di atap"}) {
    EXPECT_GE(crypto::passphrase_bits(strong), crypto::kMinPassphraseBits) << strong;
    EXPECT_FALSE(crypto::weak_passphrase_reason(strong)) << strong;
  }
  // Words of the office or the user count as guessed first.
  EXPECT_LT(crypto::passphrase_bits("BKS-DP3A-petugas-sari", {"BKS-DP3A", "petugas-sari"}),
            crypto::passphrase_bits("BKS-DP3A-petugas-sari"));
}

TEST_F(PassphraseTest, WeakPassphrasesAreRefusedForEveryNewStore) {
  EnvGuard office("TEDUH_PASSPHRASE");
  const std::string store = (dir_ / "lemah.db").string();
  for (const char* weak : {"", "rahasia123", "sandi-kantor-uji"}) {
    ::setenv("TEDUH_PASSPHRASE", weak, 1);
    Ran r = init_store(store);
    EXPECT_EQ(r.exit_code, 1) << weak << ": " << r.err;
    EXPECT_NE(r.err.find(*weak ? "terlalu lemah" : "kosong"), std::string::npos) << r.err;
    if (*weak) {
      EXPECT_NE(r.err.find("minimal 60 bit"), std::string::npos) << r.err;
    }
    EXPECT_FALSE(fs::exists(store));
    EXPECT_FALSE(fs::exists(store + ".key"));
  }
  EnvGuard server("TEDUH_SERVER_PASSPHRASE");
  ::setenv("TEDUH_SERVER_PASSPHRASE", "server123", 1);
  Ran weak_server = teduhd({"init", "--data", (dir_ / "lemah").string()});
  EXPECT_EQ(weak_server.exit_code, 1) << weak_server.err;
  EXPECT_NE(weak_server.err.find("terlalu lemah"), std::string::npos) << weak_server.err;
  EXPECT_FALSE(fs::exists(dir_ / "lemah" / "server.db"));
}

TEST_F(PassphraseTest, PassphraseChangeKeepsTheDataAndTheOldPassphraseStopsOpeningTheStore) {
  const std::string store = (dir_ / "kantor.db").string();
  ASSERT_EQ(init_store(store).exit_code, 0);
  const std::string kasus = run_ok({"case", "new", "--store", store, "--victim-name", "Korban Sandi", "--victim-sex", "P"});
  run_ok({"case", "set", "--store", store, kasus, "risk_level=tinggi"});
  const std::string before = read_file(store);
  const std::string key_before = read_file(store + ".key");
  const std::string fresh = "jendela biru menari pelan di pagi hari";

  EnvGuard next("TEDUH_NEW_PASSPHRASE");
  ::setenv("TEDUH_NEW_PASSPHRASE", "rahasia123", 1);
  Ran weak = teduh({"passphrase", "change", "--store", store});
  EXPECT_EQ(weak.exit_code, 1);
  EXPECT_NE(weak.err.find("terlalu lemah"), std::string::npos) << weak.err;
  EXPECT_EQ(read_file(store + ".key"), key_before);

  ::setenv("TEDUH_NEW_PASSPHRASE", fresh.c_str(), 1);
  Ran changed = teduh({"passphrase", "change", "--store", store});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(read_file(store), before) << "the store itself was rewritten";
  EXPECT_NE(read_file(store + ".key"), key_before);

  Ran old = teduh({"case", "list", "--store", store});
  EXPECT_EQ(old.exit_code, 2) << old.out;
  EnvGuard office("TEDUH_PASSPHRASE");
  ::setenv("TEDUH_PASSPHRASE", fresh.c_str(), 1);
  Ran shown = teduh({"case", "show", "--store", store, kasus, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("Korban Sandi"), std::string::npos);
  EXPECT_NE(shown.out.find("tinggi"), std::string::npos);
}

TEST_F(PassphraseTest, TheServerPassphraseChangesWithoutRewritingTheServerStore) {
  const std::string before = read_file(fs::path(data_) / "server.db");
  EnvGuard next("TEDUH_NEW_SERVER_PASSPHRASE");
  const std::string fresh = "perahu kertas berlayar di selokan sore";
  ::setenv("TEDUH_NEW_SERVER_PASSPHRASE", fresh.c_str(), 1);
  Ran changed = teduhd({"passphrase", "change", "--data", data_});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(read_file(fs::path(data_) / "server.db"), before);
  EXPECT_EQ(teduhd({"office", "list", "--data", data_}).exit_code, 2);  // the old one no longer opens it
  EnvGuard server("TEDUH_SERVER_PASSPHRASE");
  ::setenv("TEDUH_SERVER_PASSPHRASE", fresh.c_str(), 1);
  Ran listed = teduhd({"office", "list", "--data", data_});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("UJI-UPTD"), std::string::npos);
}

TEST_F(PassphraseTest, TheCheapKdfIsRefusedWithoutTheTestMarkerAndAStoreMadeWithItSaysSo) {
  const std::string cheap = (dir_ / "murah.db").string();
  ASSERT_EQ(init_store(cheap).exit_code, 0);  // made with the marker: a test store
  EnvGuard marker("TEDUH_TEST_STORES");
  ::unsetenv("TEDUH_TEST_STORES");
  const std::string store = (dir_ / "nyata.db").string();
  Ran refused = init_store(store);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("TEDUH_TEST_STORES=1"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(store));
  Ran server = teduhd({"init", "--data", (dir_ / "murah-server").string()});
  EXPECT_EQ(server.exit_code, 1) << server.err;
  EXPECT_NE(server.err.find("TEDUH_TEST_STORES=1"), std::string::npos) << server.err;

  // Opened outside the test suite, the cheap store warns; a passphrase change without
  // the marker rewraps it at the full cost, and the warning is gone.
  Ran opened = teduh({"case", "list", "--store", cheap});
  EXPECT_EQ(opened.exit_code, 0) << opened.err;
  EXPECT_NE(opened.err.find("biaya Argon2id murah"), std::string::npos) << opened.err;
  EnvGuard kdf("TEDUH_KDF");
  ::unsetenv("TEDUH_KDF");
  EnvGuard next("TEDUH_NEW_PASSPHRASE");
  ::setenv("TEDUH_NEW_PASSPHRASE", "kucing oranye menyanyi keras di atap", 1);
  Ran changed = teduh({"passphrase", "change", "--store", cheap});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  auto params = crypto::store_kdf_params(cheap);
  ASSERT_TRUE(params);
  EXPECT_FALSE(params->cheap());
  EnvGuard office("TEDUH_PASSPHRASE");
  ::setenv("TEDUH_PASSPHRASE", "kucing oranye menyanyi keras di atap", 1);
  Ran again = teduh({"case", "list", "--store", cheap});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("biaya Argon2id murah"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace teduh
