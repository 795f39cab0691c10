// The shelter compartment end to end, through a real teduhd on 127.0.0.1 (DESIGN.md
// section 5, PROTOCOL.md section 5D): administrator-made key generations wrapped to
// cleared devices, a device cleared after shelters were written, a cleared device
// revoked (rotation), a write under the retired generation refused. Then the scans: the
// shelter markers appear nowhere outside the cleared devices: not in the server's files,
// its debug dump or its log, not on the wire, not on uncleared devices.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/fault_proxy.hpp"
#include "support/process.hpp"
#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using Ran = teduh::testing::Run;
using teduh::testing::teduh;
using teduh::testing::teduhd;

// Test passphrases pass the same strength check as real ones (crypto/passphrase.hpp).
constexpr const char* kPassphrase = "ikan-paus-terbang-sore-uji";
constexpr const char* kServerPassphrase = "lampu-jalan-berbisik-pelan-uji";
constexpr const char* kAdminPassphrase = "mangga-layang-sepeda-kabut-uji";

// Generated markers, one per secret field of one shelter.
struct ShelterMarkers {
  std::string name, address, phone, contact;
  std::vector<std::string> all() const { return {name, address, phone, contact}; }
};

ShelterMarkers make_markers() {
  auto tag = [] { return crypto::to_hex(crypto::random_bytes(6)); };
  ShelterMarkers m;
  m.name = "RUMAH-PENANDA-" + tag();
  m.address = "ALAMAT-PENANDA-" + tag();
  // Eight random digits (a phone number must be digits): from 4 random bytes, not 1, so
  // two markers of one test never share a phone (256 values made that happen).
  const crypto::Bytes r = crypto::random_bytes(4);
  const std::uint32_t n = (std::uint32_t{r[0]} << 24) | (std::uint32_t{r[1]} << 16) | (std::uint32_t{r[2]} << 8) | r[3];
  m.phone = "0812" + std::to_string(10000000 + n % 89999999);
  m.contact = "KONTAK-PENANDA-" + tag();
  return m;
}

class CompartmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::init();
    ::setenv("TEDUH_KDF", "interactive", 1);
    ::setenv("TEDUH_TEST_STORES", "1", 1);
    ::setenv("TEDUH_SERVER_PASSPHRASE", kServerPassphrase, 1);
    ::setenv("TEDUH_ADMIN_PASSPHRASE", kAdminPassphrase, 1);
    ::setenv("TEDUH_PASSPHRASE", kPassphrase, 1);
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", "5000", 1);
    data_ = (dir_ / "server").string();
    // The administrator key lives outside the data folder, as on a real server.
    std::filesystem::create_directories(dir_ / "administrator");
    admin_key_ = (dir_ / "administrator" / "admin.key").string();
    Ran init = teduhd({"init", "--data", data_, "--admin-key", admin_key_});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    server_key_ = init.last_line();
    Ran office = teduhd({"office", "add", "--data", data_, "--code", "UJI-UPTD", "--name",
                         "UPTD Uji", "--kind", "uptd_ppa"});
    ASSERT_EQ(office.exit_code, 0) << office.err;
    log_ = dir_ / "teduhd.log";
    ASSERT_TRUE(server_.start(data_, log_));
    teduh::testing::FaultPlan faithful{0.0, 0.0, 0.0, 0.0};
    proxy_ = std::make_unique<teduh::testing::FaultProxy>(server_.address(), 1, faithful);
    proxy_->set_faults(false);
    ASSERT_TRUE(proxy_->ok());
  }

  void TearDown() override {
    proxy_.reset();
    EXPECT_TRUE(server_.stop()) << "teduhd did not stop cleanly";
    if (HasFailure()) std::cerr << "teduhd.log:\n" << teduh::testing::read_file(log_) << "\n";
  }

  // Enrolls and initialises a device that syncs through the recording proxy.
  std::string device(const std::string& name, const std::string& role, bool shelter) {
    std::vector<std::string> args{"enroll", "--data",          data_,    "--office", "UJI-UPTD",
                                  "--user", "petugas-" + name, "--role", role};
    if (shelter) args.push_back("--shelter");
    Ran code = teduhd(args);
    EXPECT_EQ(code.exit_code, 0) << code.err;
    const std::string store = (dir_ / "devices" / name / "store.db").string();
    std::filesystem::create_directories(dir_ / "devices" / name);
    Ran init = teduh({"init", "--store", store, "--server", proxy_->address(), "--server-key",
                      server_key_, "--enroll", code.last_line()});
    EXPECT_EQ(init.exit_code, 0) << init.err;
    return store;
  }

  Ran sync(const std::string& store, int expected_exit = 0) {
    Ran r = teduh({"sync", "--store", store});
    EXPECT_EQ(r.exit_code, expected_exit) << store << ": " << r.out << r.err;
    return r;
  }

  std::string device_id(const std::string& user) {
    Ran list = teduhd({"device", "list", "--data", data_, "--json"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    const json doc = json::parse(list.out);
    for (const auto& d : doc["devices"]) {
      if (d["user"] == user) return d["device"].get<std::string>();
    }
    ADD_FAILURE() << "no device of " << user << ": " << list.out << list.err;
    return {};
  }

  std::string add_shelter(const std::string& store, const ShelterMarkers& m,
                          int expected_exit = 0) {
    Ran r = teduh({"shelter", "add", "--store", store, "--name", m.name, "--address", m.address,
                   "--phone", m.phone, "--contact", m.contact});
    EXPECT_EQ(r.exit_code, expected_exit) << r.err;
    return r.last_line();
  }

  std::string shelters_json(const std::string& store) {
    Ran r = teduh({"shelter", "list", "--store", store, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  teduh::testing::TempDir dir_;
  std::string data_, server_key_, admin_key_;
  std::filesystem::path log_;
  teduh::testing::ServerProcess server_;
  std::unique_ptr<teduh::testing::FaultProxy> proxy_;
};

TEST_F(CompartmentTest, ShelterDetailsReachOnlyClearedDevicesAcrossClearanceRevocationAndRotation) {
  const std::string a = device("a", "pendamping", true);  // cleared first, writes
  const std::string b = device("b", "pendamping", true);  // cleared after the first shelters
  const std::string c = device("c", "pendamping", true);  // cleared, then revoked
  const std::string waiting =
      device("menunggu", "pendamping", true);  // enrolled --shelter, never cleared
  const std::string worker = device("pekerja", "pendamping", false);  // no shelter clearance at all
  for (const auto& s : {a, b, c, waiting, worker}) sync(s);

  // Enrolled with shelter clearance, but no key until an administrator clears them.
  Ran list = teduhd({"device", "list", "--data", data_});
  EXPECT_NE(list.out.find("menunggu kunci"), std::string::npos) << list.out;
  const ShelterMarkers early = make_markers();
  Ran refused =
      teduh({"shelter", "add", "--store", a, "--name", early.name, "--address", early.address});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(
      refused.err.find(
          "This device has no shelter key yet: sync once after the administrator has cleared it "
          "(teduhd device clear)."),
      std::string::npos)
      << refused.err;

  // The first clearance makes generation 1.
  Ran clear_a = teduhd({"device", "clear", "--data", data_, device_id("petugas-a"), "--admin-key", admin_key_});
  ASSERT_EQ(clear_a.exit_code, 0) << clear_a.err;
  ASSERT_EQ(teduhd({"device", "clear", "--data", data_, device_id("petugas-c"), "--admin-key", admin_key_}).exit_code, 0);
  sync(a);
  sync(c);

  // Shelters written under generation 1, a victim placed.
  const ShelterMarkers s1 = make_markers(), s2 = make_markers();
  const std::string shelter1 = add_shelter(a, s1);
  add_shelter(a, s2);
  const std::string kasus =
      teduh({"case", "new", "--store", a, "--victim-name", "Korban Uji Satu", "--victim-sex", "P"})
          .last_line();
  Ran place = teduh({"shelter", "place", "--store", a, "--case", kasus, "--shelter", shelter1});
  ASSERT_EQ(place.exit_code, 0) << place.err;
  sync(a);
  for (const auto& s : {b, c, waiting, worker}) sync(s);
  for (const std::string& m : s1.all()) EXPECT_NE(shelters_json(c).find(m), std::string::npos) << m;

  // B is cleared after those shelters were written: it receives generation 1 too.
  ASSERT_EQ(teduhd({"device", "clear", "--data", data_, device_id("petugas-b"), "--admin-key", admin_key_}).exit_code, 0);
  sync(b);
  for (const std::string& m : s1.all()) EXPECT_NE(shelters_json(b).find(m), std::string::npos) << m;

  // A is offline and writes under generation 1 while C is revoked: the revocation starts
  // generation 2 (the administrator passphrase is at hand).
  const ShelterMarkers stale = make_markers();
  add_shelter(a, stale);
  Ran revoke = teduhd({"device", "revoke", "--data", data_, device_id("petugas-c"), "--admin-key", admin_key_});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_NE(revoke.out.find("generation 2"), std::string::npos) << revoke.out;
  Ran revoked_sync = sync(c, 2);
  EXPECT_NE(revoked_sync.err.find("revoked"), std::string::npos) << revoked_sync.err;

  // A's write under the retired generation is refused, and the server log says why.
  Ran stale_sync = sync(a, 2);
  EXPECT_NE(stale_sync.out.find("older than the current generation"), std::string::npos)
      << stale_sync.out;
  EXPECT_NE(teduh::testing::read_file(log_).find("older than the current generation 2"),
            std::string::npos);

  // Writes after the rotation, from A (which now holds generation 2) and from B.
  sync(b);
  const ShelterMarkers s3 = make_markers(), s4 = make_markers();
  add_shelter(a, s3);
  add_shelter(b, s4);
  sync(a);
  sync(b);
  sync(a);
  for (const auto& s : {waiting, worker}) sync(s);

  // The cleared devices read everything written under generations 1 and 2.
  for (const auto& store : {a, b}) {
    const std::string shown = shelters_json(store);
    for (const auto* markers : {&s1, &s2, &s3, &s4}) {
      for (const std::string& m : markers->all())
        EXPECT_NE(shown.find(m), std::string::npos) << store << " " << m;
    }
  }

  // The revoked device keeps what it read before, and nothing written since.
  const std::string revoked_view = shelters_json(c);
  for (const std::string& m : s1.all()) EXPECT_NE(revoked_view.find(m), std::string::npos) << m;
  for (const auto* markers : {&s3, &s4}) {
    for (const std::string& m : markers->all())
      EXPECT_EQ(revoked_view.find(m), std::string::npos) << m;
  }

  // The scans. Every marker ever typed, including the refused write and the early attempt.
  std::vector<std::string> markers;
  for (const auto* m : {&early, &s1, &s2, &stale, &s3, &s4}) {
    for (const std::string& text : m->all()) markers.push_back(text);
  }
  Ran dump = teduhd({"debug", "dump", "--data", data_});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("== key_wraps"), std::string::npos);
  EXPECT_NE(dump.out.find("== log"), std::string::npos);
  server_.stop();  // the log and the store are complete
  const std::string server_files = teduh::testing::read_all_files(data_);
  const std::string server_log = teduh::testing::read_file(log_);
  const std::string traffic = proxy_->recorded();
  ASSERT_GT(traffic.size(), 10000u);  // the proxy saw the syncs
  std::vector<std::pair<std::string, std::string>> uncleared;
  for (const auto& store : {waiting, worker}) {
    uncleared.emplace_back(store + " files", teduh::testing::read_all_files(
                                                 std::filesystem::path(store).parent_path()));
    uncleared.emplace_back(store + " shelter list", shelters_json(store));
    Ran show = teduh({"case", "show", "--store", store, kasus, "--json"});
    EXPECT_EQ(show.exit_code, 0) << show.err;
    uncleared.emplace_back(store + " case show", show.out + show.err);
  }
  for (const std::string& m : markers) {
    EXPECT_EQ(server_files.find(m), std::string::npos) << "server files: " << m;
    EXPECT_EQ(dump.out.find(m), std::string::npos) << "debug dump: " << m;
    EXPECT_EQ(server_log.find(m), std::string::npos) << "server log: " << m;
    EXPECT_EQ(traffic.find(m), std::string::npos) << "traffic: " << m;
    for (const auto& [where, text] : uncleared)
      EXPECT_EQ(text.find(m), std::string::npos) << where << ": " << m;
  }
  // The uncleared device with clearance is told why it sees nothing.
  Ran waiting_list = teduh({"shelter", "list", "--store", waiting});
  EXPECT_NE(waiting_list.out.find("no shelter key yet"), std::string::npos) << waiting_list.out;
  EXPECT_NE(waiting_list.out.find("rumah aman (lokasi dirahasiakan)"), std::string::npos)
      << waiting_list.out;
}

TEST_F(CompartmentTest, RevocationWithoutTheAdministratorPassphraseLeavesARotationPending) {
  const std::string a = device("a", "pendamping", true);
  const std::string c = device("c", "pendamping", true);
  sync(a);
  sync(c);
  ASSERT_EQ(teduhd({"device", "clear", "--data", data_, device_id("petugas-a"), "--admin-key", admin_key_}).exit_code, 0);
  ASSERT_EQ(teduhd({"device", "clear", "--data", data_, device_id("petugas-c"), "--admin-key", admin_key_}).exit_code, 0);
  ::setenv("TEDUH_ADMIN_PASSPHRASE", "bukan-kata-sandi-administrator-ini", 1);
  Ran revoke = teduhd({"device", "revoke", "--data", data_, device_id("petugas-c"), "--admin-key", admin_key_});
  ::setenv("TEDUH_ADMIN_PASSPHRASE", kAdminPassphrase, 1);
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_NE(revoke.out.find("teduhd compartment rotate"), std::string::npos) << revoke.out;
  Ran list = teduhd({"device", "list", "--data", data_});
  EXPECT_NE(list.out.find("run teduhd compartment rotate"), std::string::npos) << list.out;
  Ran rotate = teduhd({"compartment", "rotate", "--data", data_, "--admin-key", admin_key_});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_NE(rotate.out.find("generation 2 made and wrapped to 1 cleared device"), std::string::npos)
      << rotate.out;
  list = teduhd({"device", "list", "--data", data_});
  EXPECT_EQ(list.out.find("run teduhd compartment rotate"), std::string::npos) << list.out;
  // A uncleared device can not be cleared without the right administrator passphrase.
  ::setenv("TEDUH_ADMIN_PASSPHRASE", "bukan-kata-sandi-administrator-ini", 1);
  Ran wrong = teduhd({"compartment", "rotate", "--data", data_, "--admin-key", admin_key_});
  ::setenv("TEDUH_ADMIN_PASSPHRASE", kAdminPassphrase, 1);
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("administrator passphrase"), std::string::npos) << wrong.err;
}

TEST_F(CompartmentTest, AdministratorCommandsRefuseWhatTheyMustNotDo) {
  const std::string plain = device("biasa", "pendamping", false);
  sync(plain);
  // teduhd init made the administrator key already; it is never replaced.
  Ran again = teduhd({"admin", "init", "--data", data_, "--admin-key", (dir_ / "another.key").string()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already has an administrator key"), std::string::npos) << again.err;
  // Only a device enrolled with --shelter can be cleared; an unknown one is not found.
  Ran not_shelter = teduhd({"device", "clear", "--data", data_, device_id("petugas-biasa"), "--admin-key", admin_key_});
  EXPECT_EQ(not_shelter.exit_code, 2);
  EXPECT_NE(not_shelter.err.find("--shelter"), std::string::npos) << not_shelter.err;
  Ran unknown = teduhd({"device", "clear", "--data", data_, std::string(32, 'a'), "--admin-key", admin_key_});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.err;
  Ran bad_id = teduhd({"device", "clear", "--data", data_, "bukan-id", "--admin-key", admin_key_});
  EXPECT_EQ(bad_id.exit_code, 1);
  // The dump names the server's own secrets without printing them.
  Ran dump = teduhd({"debug", "dump", "--data", data_});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("server_signing_key\t(secret, 64 bytes, not shown)"), std::string::npos);
  EXPECT_NE(dump.out.find("admin_sign_public_key"), std::string::npos);
  // teduhd serve does without the administrator key: with the file gone it serves as before.
  ASSERT_TRUE(server_.stop());
  proxy_.reset();
  const std::filesystem::path admin_key = admin_key_;
  std::filesystem::rename(admin_key, dir_ / "admin.key.away");
  ASSERT_TRUE(server_.start(data_, log_));
  proxy_ = std::make_unique<teduh::testing::FaultProxy>(
      server_.address(), 2, teduh::testing::FaultPlan{0.0, 0.0, 0.0, 0.0});
  proxy_->set_faults(false);
  Ran direct = teduh({"case", "list", "--store", plain});
  EXPECT_EQ(direct.exit_code, 0) << direct.err;
  // A device enrolled now registers, pushes and pulls through the new proxy: no administrator key needed.
  const std::string other = device("lain", "pendamping", false);
  sync(other);
  std::filesystem::rename(dir_ / "admin.key.away", admin_key);
}

}  // namespace
}  // namespace teduh
