// The administrator key lives off the server (issue 13, defect 1; PROTOCOL.md section 5D,
// server/README.md "The administrator key"): an attacker who holds the server's whole data
// folder, the passphrase `teduhd serve` runs with, and its log opens no shelter field of
// any key generation. Also: where the key may be kept, with which passphrase, and how a
// data folder of an older Teduh that still holds admin.key is moved out.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/server_test.hpp"
#include "teduh/crypto/aead.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/schema/entities.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/server/admin_key.hpp"
#include "teduh/server/server_store.hpp"
#include "teduh/sync/version.hpp"

namespace teduh {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using teduh::testing::kServerPassphrase;
using teduh::testing::read_all_files;
using teduh::testing::read_file;
using teduh::testing::teduh;
using teduh::testing::teduhd;
using Ran = teduh::testing::Run;

struct Markers {
  std::string name, address, phone, contact;
  std::vector<std::string> all() const { return {name, address, phone, contact}; }
};

Markers make_markers(int n) {
  const std::string tag = crypto::to_hex(crypto::random_bytes(5)) + "-" + std::to_string(n);
  return {"RUMAH-PENANDA-" + tag, "ALAMAT-PENANDA-" + tag, "0813" + std::to_string(20000000 + n), "KONTAK-" + tag};
}

// A secret field value as the server stores it (crypto/FORMATS.md section 7).
struct Sealed {
  std::string compartment;
  std::uint32_t generation = 0;
  std::string entity_type, field;
  sync::EntityId entity;
  crypto::Bytes ciphertext;  // nonce || ciphertext || tag
};

std::optional<Sealed> parse_sealed(const sync::Version& v) {
  if (v.value.rfind("c1.", 0) != 0) return std::nullopt;
  auto blob = crypto::from_base64url(v.value.substr(3));
  if (!blob || blob->size() < 2) return std::nullopt;
  const std::size_t n = (*blob)[1];
  if (blob->size() < 2 + n + 4) return std::nullopt;
  Sealed s;
  s.compartment.assign(blob->begin() + 2, blob->begin() + 2 + static_cast<std::ptrdiff_t>(n));
  for (std::size_t i = 0; i < 4; ++i) s.generation = (s.generation << 8) | (*blob)[2 + n + i];
  s.ciphertext.assign(blob->begin() + static_cast<std::ptrdiff_t>(2 + n + 4), blob->end());
  s.entity_type = v.entity_type;
  s.field = v.field;
  s.entity = v.entity;
  return s;
}

// The associated data of a sealed field, as crypto/FORMATS.md section 7 states it.
crypto::Bytes field_ad(const Sealed& s) {
  crypto::Bytes ad;
  auto put = [&](std::string_view t) {
    ad.push_back(static_cast<std::uint8_t>(t.size()));
    ad.insert(ad.end(), t.begin(), t.end());
  };
  put("teduh-field-v1");
  put(s.compartment);
  for (int shift = 24; shift >= 0; shift -= 8) ad.push_back(static_cast<std::uint8_t>(s.generation >> shift));
  put(s.entity_type);
  put(s.field);
  ad.insert(ad.end(), s.entity.bytes.begin(), s.entity.bytes.end());
  return ad;
}

class AdminKeyTest : public teduh::testing::ServerTest {
 protected:
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

  void add_shelter(const std::string& store, const Markers& m) {
    run_ok({"shelter", "add", "--store", store, "--name", m.name, "--address", m.address, "--phone", m.phone,
            "--contact", m.contact});
  }
};

TEST_F(AdminKeyTest, TheDataFolderTheServingPassphraseAndTheLogOpenNoShelterFieldOfAnyGeneration) {
  add_office("UJI-UPTD", "uptd_ppa");
  start_server();
  const std::string a = device("a", "UJI-UPTD", "pendamping", true);  // cleared throughout, writes
  const std::string b = device("b", "UJI-UPTD", "pendamping", true);  // cleared late
  const std::string c = device("c", "UJI-UPTD", "pendamping", true);  // cleared, then revoked
  for (const auto& s : {a, b, c}) sync(s);
  auto admin = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--data", data_, "--admin-key", admin_key_});
    Ran r = teduhd(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
    return r;
  };
  std::vector<Markers> written;
  // Generation 1: clearance of A and C.
  admin({"device", "clear", device_id("petugas-a")});
  admin({"device", "clear", device_id("petugas-c")});
  sync(a);
  written.push_back(make_markers(1));
  add_shelter(a, written.back());
  sync(a);
  // Generation 2: C revoked, the revocation rotates.
  Ran revoked = admin({"device", "revoke", device_id("petugas-c")});
  EXPECT_NE(revoked.out.find("generation 2"), std::string::npos) << revoked.out;
  sync(a);
  written.push_back(make_markers(2));
  add_shelter(a, written.back());
  sync(a);
  // Generation 3: a rotation, then B cleared (it receives all three).
  admin({"compartment", "rotate"});
  admin({"device", "clear", device_id("petugas-b")});
  sync(a);
  sync(b);
  written.push_back(make_markers(3));
  add_shelter(b, written.back());
  sync(b);
  sync(a);
  const std::string shown = teduh({"shelter", "list", "--store", a, "--json"}).out;
  for (const auto& m : written) {
    for (const std::string& text : m.all()) ASSERT_NE(shown.find(text), std::string::npos) << text;
  }
  server_.stop();
  started_ = false;

  // The attacker: the whole data folder, the serving passphrase, the log.
  const std::string folder = read_all_files(data_);
  const std::string server_log = log();
  for (const auto& m : written) {
    for (const std::string& text : m.all()) {
      EXPECT_EQ(folder.find(text), std::string::npos) << "data folder: " << text;
      EXPECT_EQ(server_log.find(text), std::string::npos) << "log: " << text;
    }
  }
  EXPECT_EQ(folder.find("TEDUHADM"), std::string::npos) << "an administrator key file is in the data folder";
  const fs::path db_path = fs::path(data_) / "server.db";
  auto store_key = crypto::unlock_store_key(db_path, kServerPassphrase);
  ASSERT_TRUE(store_key) << store_key.error().message;
  auto db = crypto::open_encrypted(db_path, *store_key, crypto::OpenMode::existing);
  ASSERT_TRUE(db) << db.error().message;

  // Every key the attacker can reach: the store key, every secret of the store's meta
  // table (the server signing key, in its X25519 form too), and every file of the folder
  // tried as an administrator key file under the serving passphrase.
  std::vector<crypto::SecretBytes> symmetric;
  std::vector<crypto::DhKeyPair> box;
  symmetric.push_back(crypto::SecretBytes::copy_of(store_key->view()));
  {
    auto st = schema::Statement::prepare(db->get(), "SELECT key, value FROM meta");
    ASSERT_TRUE(st);
    while (*st->step()) {
      auto value = st->column_blob(1);
      if (value.size() == 32) {
        symmetric.push_back(crypto::SecretBytes::copy_of(value));
        if (auto dh = crypto::DhKeyPair::from_secret(value)) box.push_back(std::move(*dh));
      }
      if (value.size() == crypto::kSignSecretKeySize) {
        if (auto sign = crypto::SigningKey::from_secret(value)) box.push_back(sign->to_dh());
      }
    }
  }
  ASSERT_FALSE(box.empty());  // at least the server's own key
  for (const auto& entry : fs::recursive_directory_iterator(data_)) {
    if (!entry.is_regular_file()) continue;
    EXPECT_FALSE(server::open_admin_key(entry.path(), kServerPassphrase)) << entry.path();
  }

  // Every wrap of every generation, to devices and to the administrator: none opens.
  std::set<std::uint32_t> generations;
  std::size_t wraps = 0;
  {
    auto st = schema::Statement::prepare(db->get(), "SELECT generation, sealed FROM key_wraps");
    ASSERT_TRUE(st);
    while (*st->step()) {
      generations.insert(static_cast<std::uint32_t>(st->column_int(0)));
      auto sealed = st->column_blob(1);
      const crypto::Bytes bytes(sealed.begin(), sealed.end());
      for (const auto& k : box) EXPECT_FALSE(crypto::open_sealed(k, bytes)) << "a wrap opened";
      ++wraps;
    }
  }
  EXPECT_EQ(generations, (std::set<std::uint32_t>{1, 2, 3}));
  EXPECT_GE(wraps, 3u * 2u);

  // Every sealed value in the log: none opens with any reachable key.
  std::vector<Sealed> values;
  {
    auto st = schema::Statement::prepare(db->get(), "SELECT body FROM log");
    ASSERT_TRUE(st);
    while (*st->step()) {
      auto body = st->column_blob(0);
      auto commit = sync::decode_commit_body(crypto::Bytes(body.begin(), body.end()));
      ASSERT_TRUE(commit);
      for (const sync::Version& v : commit->versions) {
        if (auto s = parse_sealed(v)) values.push_back(std::move(*s));
      }
    }
  }
  std::set<std::uint32_t> sealed_generations;
  for (const Sealed& s : values) sealed_generations.insert(s.generation);
  EXPECT_EQ(sealed_generations, (std::set<std::uint32_t>{1, 2, 3}));
  for (const Sealed& s : values) {
    for (const auto& k : symmetric) EXPECT_FALSE(crypto::aead_open(k, s.ciphertext, field_ad(s))) << "a value opened";
  }

  // The control: the same reading, with the keys a cleared device holds, opens them all,
  // so the attempts above were made the right way.
  auto device_store = client::Store::open(a, teduh::testing::kOfficePassphrase);
  ASSERT_TRUE(device_store) << device_store.error().message;
  std::size_t opened = 0;
  for (const Sealed& s : values) {
    auto hex = device_store->meta("compartment:rumah_aman:" + std::to_string(s.generation));
    ASSERT_TRUE(hex && *hex);
    auto key = crypto::from_hex(**hex);
    ASSERT_TRUE(key);
    if (crypto::aead_open(crypto::SecretBytes::copy_of(*key), s.ciphertext, field_ad(s))) ++opened;
  }
  EXPECT_EQ(opened, values.size());
  EXPECT_GE(values.size(), 3u * 4u);
}

TEST_F(AdminKeyTest, AnAdministratorKeyInsideTheDataFolderIsRefusedHoweverItIsNamed) {
  const fs::path fresh = dir_ / "baru";
  fs::create_directories(fresh);
  fs::create_directory_symlink(fresh, dir_ / "pintas");
  fs::create_directories(dir_ / "luar");
  for (const fs::path& inside : {fresh / "admin.key", fresh / "sub" / ".." / "admin.key",
                                 dir_ / "luar" / ".." / "baru" / "admin.key", dir_ / "pintas" / "admin.key",
                                 fresh}) {
    Ran init = teduhd({"init", "--data", fresh.string(), "--admin-key", inside.string()});
    EXPECT_EQ(init.exit_code, 1) << inside << ": " << init.out << init.err;
    EXPECT_NE(init.err.find("must not be kept in the server's data folder"), std::string::npos) << init.err;
    EXPECT_FALSE(fs::exists(fresh / "server.db")) << "a refused init created the store";
  }
  // The data folder named through the symlink, the key in the real folder: refused too.
  Ran via_link = teduhd({"init", "--data", (dir_ / "pintas").string(), "--admin-key", (fresh / "a.key").string()});
  EXPECT_EQ(via_link.exit_code, 1) << via_link.err;
  // Commands that open the key refuse a path inside the folder before reading it.
  fs::copy_file(admin_key_, fs::path(data_) / "salinan.key");
  Ran clear = teduhd({"device", "clear", "--data", data_, std::string(32, 'a'), "--admin-key",
                      (fs::path(data_) / "salinan.key").string()});
  EXPECT_EQ(clear.exit_code, 1) << clear.err;
  EXPECT_NE(clear.err.find("data folder"), std::string::npos) << clear.err;
  // Admin commands need the key named explicitly.
  Ran no_key = teduhd({"compartment", "rotate", "--data", data_});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find("--admin-key"), std::string::npos) << no_key.err;
}

TEST_F(AdminKeyTest, TheAdministratorPassphraseMustDifferFromTheServers) {
  const std::string data = (dir_ / "lain").string();
  ::setenv("TEDUH_ADMIN_PASSPHRASE", kServerPassphrase, 1);
  Ran same = teduhd({"init", "--data", data, "--admin-key", (dir_ / "lain.key").string()});
  ::setenv("TEDUH_ADMIN_PASSPHRASE", teduh::testing::kAdminPassphrase, 1);
  EXPECT_EQ(same.exit_code, 1) << same.err;
  EXPECT_NE(same.err.find("harus berbeda dari kata sandi server"), std::string::npos) << same.err;
  EXPECT_FALSE(fs::exists(dir_ / "lain.key"));
  EXPECT_FALSE(fs::exists(fs::path(data) / "server.db"));
  // Opening the existing key with the server passphrase is refused the same way.
  ::setenv("TEDUH_ADMIN_PASSPHRASE", kServerPassphrase, 1);
  Ran rotate = teduhd({"compartment", "rotate", "--data", data_, "--admin-key", admin_key_});
  ::setenv("TEDUH_ADMIN_PASSPHRASE", teduh::testing::kAdminPassphrase, 1);
  EXPECT_EQ(rotate.exit_code, 1) << rotate.err;
  // A weak administrator passphrase is refused at creation.
  ::setenv("TEDUH_ADMIN_PASSPHRASE", "admin123", 1);
  Ran weak = teduhd({"init", "--data", data, "--admin-key", (dir_ / "lain.key").string()});
  ::setenv("TEDUH_ADMIN_PASSPHRASE", teduh::testing::kAdminPassphrase, 1);
  EXPECT_EQ(weak.exit_code, 1);
  EXPECT_NE(weak.err.find("terlalu lemah"), std::string::npos) << weak.err;
}

// A data folder made by an older Teduh holds admin.key, sealed under the server
// passphrase. It is not served and not used until moved; moving it renews the box key and
// rotates, so an old copy of the folder opens nothing written after the move.
TEST_F(AdminKeyTest, ALegacyAdminKeyIsMovedOutAndAnOldCopyOfItOpensNothingWrittenAfter) {
  const std::string data = (dir_ / "lama").string();
  Ran init = teduhd({"init", "--data", data});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  const fs::path legacy = fs::path(data) / "admin.key";
  {
    // What `teduhd init` of an older Teduh left: the key in the folder, under the server passphrase.
    auto store = server::ServerStore::open(data, kServerPassphrase);
    ASSERT_TRUE(store) << store.error().message;
    auto key = server::create_admin_key(legacy, kServerPassphrase, crypto::KdfParams::interactive());
    ASSERT_TRUE(key) << key.error().message;
    ASSERT_TRUE(store->set_admin_public(key->public_keys()));
  }
  Ran office = teduhd({"office", "add", "--data", data, "--code", "UJI-UPTD", "--name", "UPTD", "--kind", "uptd_ppa"});
  ASSERT_EQ(office.exit_code, 0) << office.err;
  const fs::path moved = dir_ / "administrator" / "pindahan.key";
  Ran serve = teduhd({"serve", "--data", data, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_NE(serve.err.find("teduhd admin move-key"), std::string::npos) << serve.err;
  Ran rotate = teduhd({"compartment", "rotate", "--data", data, "--admin-key", moved.string()});
  EXPECT_EQ(rotate.exit_code, 2);
  EXPECT_NE(rotate.err.find("teduhd admin move-key"), std::string::npos) << rotate.err;
  // One generation made while the key was still in the folder (by an older Teduh).
  {
    auto store = server::ServerStore::open(data, kServerPassphrase);
    ASSERT_TRUE(store);
    auto key = server::open_admin_key(legacy, kServerPassphrase);
    ASSERT_TRUE(key);
    ASSERT_TRUE(store->rotate_compartment(*key, "rumah_aman"));
  }
  const std::string backup = read_file(legacy);  // the attacker's old copy of the folder

  Ran move = teduhd({"admin", "move-key", "--data", data, "--admin-key", moved.string()});
  ASSERT_EQ(move.exit_code, 0) << move.err;
  EXPECT_NE(move.out.find("generation 2"), std::string::npos) << move.out;
  EXPECT_FALSE(fs::exists(legacy));
  // The moved key opens under the administrator passphrase and works.
  Ran rotated = teduhd({"compartment", "rotate", "--data", data, "--admin-key", moved.string()});
  EXPECT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_NE(rotated.out.find("generation 3"), std::string::npos) << rotated.out;
  // The old copy opens with the server passphrase, but no wrap of a generation made after
  // the move, and not the administrator's wrap of the old one either (sealed again).
  const fs::path old_copy = dir_ / "cadangan.key";
  {
    std::ofstream(old_copy, std::ios::binary) << backup;
  }
  auto old_key = server::open_admin_key(old_copy, kServerPassphrase);
  ASSERT_TRUE(old_key) << old_key.error().message;
  auto store_key = crypto::unlock_store_key(fs::path(data) / "server.db", kServerPassphrase);
  ASSERT_TRUE(store_key);
  auto db = crypto::open_encrypted(fs::path(data) / "server.db", *store_key, crypto::OpenMode::existing);
  ASSERT_TRUE(db);
  auto st = schema::Statement::prepare(db->get(), "SELECT generation, sealed FROM key_wraps");
  ASSERT_TRUE(st);
  std::size_t wraps = 0;
  while (*st->step()) {
    auto sealed = st->column_blob(1);
    EXPECT_FALSE(crypto::open_sealed(old_key->box, crypto::Bytes(sealed.begin(), sealed.end())))
        << "generation " << st->column_int(0);
    ++wraps;
  }
  EXPECT_EQ(wraps, 3u);  // the administrator's wrap of generations 1, 2 and 3
  // Moving twice is refused: there is nothing left to move.
  EXPECT_EQ(teduhd({"admin", "move-key", "--data", data, "--admin-key", moved.string()}).exit_code, 1);
}

}  // namespace
}  // namespace teduh
