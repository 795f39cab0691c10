// The central office's view (PROTOCOL.md section 5C): de-identified, signed projections.
#include "teduh/server/projection.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/temp_dir.hpp"
#include "teduh/crypto/kdf.hpp"
#include "teduh/schema/identity_match.hpp"
#include "teduh/server/server_store.hpp"
#include "teduh/sync/hlc.hpp"

namespace teduh::server {
namespace {

using nlohmann::json;

struct Field {
  sync::EntityId entity;
  std::string type, field, value;
};

class ProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ServerStore::create(dir_ / "data", "sandi", crypto::KdfParams::interactive());
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
    ASSERT_TRUE(store_->add_office({"UJI-KEL", "Pos Uji", "kelurahan", "3275010", ""}));
    ASSERT_TRUE(store_->add_office({"UJI-UPTD", "UPTD Uji", "uptd_ppa", "32.75", ""}));
    ASSERT_TRUE(store_->add_office({"UJI-PUSAT", "Pusat Uji", "pusat", "", ""}));
    kel_ = device("UJI-KEL", "operator", kel_key_);
    uptd_ = device("UJI-UPTD", "pendamping", uptd_key_);
    pusat_ = device("UJI-PUSAT", "analis", pusat_key_);
  }

  DeviceRecord device(const std::string& office, const std::string& role, const crypto::SigningKey& key) {
    auto issued = store_->issue_enrollment({office, "petugas-" + role, role, false, 14});
    EXPECT_TRUE(issued) << issued.error().message;
    auto d = store_->register_device(issued->code, sync::Id128::random(), key.public_key());
    EXPECT_TRUE(d) << d.error().message;
    return *d;
  }

  // A case with its victim (name, NIK, birth date), an alleged perpetrator and a service.
  sync::EntityId record_case(const DeviceRecord& d, const crypto::SigningKey& key, std::uint64_t seq,
                             const std::string& name, const std::string& nik) {
    const sync::EntityId c = sync::Id128::random(), victim = sync::Id128::random(), role = sync::Id128::random(),
                         other = sync::Id128::random(), other_role = sync::Id128::random(),
                         service = sync::Id128::random();
    std::vector<Field> fields{
        {c, "kasus", "received_at", "2026-03-04T05:06:07Z"}, {c, "kasus", "channel", "telepon"},
        {c, "kasus", "forms", "fisik,psikis"},               {c, "kasus", "status", "diterima"},
        {c, "kasus", "summary", "RINGKASAN-RAHASIA"},        {c, "kasus", "chronology", "KRONOLOGI-RAHASIA"},
        {victim, "orang", "name", name},                     {victim, "orang", "nik", nik},
        {victim, "orang", "sex", "P"},                       {victim, "orang", "birth_date", "2012-01-02"},
        {victim, "orang", "address", "ALAMAT-RAHASIA"},      {victim, "orang", "phone", "081234567890"},
        {role, "peran", "case", c.hex()},                    {role, "peran", "person", victim.hex()},
        {role, "peran", "role", "korban"},                   {other, "orang", "name", "TERLAPOR-RAHASIA"},
        {other_role, "peran", "case", c.hex()},              {other_role, "peran", "person", other.hex()},
        {other_role, "peran", "role", "terlapor"},           {other_role, "peran", "relationship", "orang_tua"},
        {service, "layanan", "case", c.hex()},               {service, "layanan", "kind", "konseling"},
        {service, "layanan", "notes", "CATATAN-RAHASIA"}};
    sync::Commit commit;
    commit.device = d.device_id;
    commit.seq = seq;
    commit.scope = c;
    commit.scope_type = "kasus";
    commit.hlc = sync::make_hlc(static_cast<std::uint64_t>(now_ms()), static_cast<std::uint16_t>(seq));
    for (const Field& f : fields) {
      commit.versions.push_back(sync::Version{f.entity, f.type, f.field, f.value, commit.hlc, {}});
    }
    auto pushed = store_->push(d, std::vector{sync::sign_commit(commit, key)});
    EXPECT_TRUE(pushed && (*pushed)[0].accepted) << (pushed ? (*pushed)[0].message : pushed.error().message);
    return c;
  }

  teduh::testing::TempDir dir_;
  std::optional<ServerStore> store_;
  crypto::SigningKey kel_key_ = crypto::SigningKey::generate();
  crypto::SigningKey uptd_key_ = crypto::SigningKey::generate();
  crypto::SigningKey pusat_key_ = crypto::SigningKey::generate();
  DeviceRecord kel_, uptd_, pusat_;
};

TEST_F(ProjectionTest, ACentralOfficeDeviceGetsSignedProjectionsWithoutIdentity) {
  const auto a = record_case(kel_, kel_key_, 1, "Siti Nurhaliza", "3275014101120001");
  const auto b = record_case(uptd_, uptd_key_, 1, "Sitti Noerhaliza", "3275014101120001");  // same victim
  const auto c = record_case(uptd_, uptd_key_, 2, "Dewi Lestari", "3275014101120002");
  auto page = store_->projections(pusat_, 0, 10);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_FALSE(page->more);
  std::map<std::string, json> by_case;
  for (const ProjectionItem& item : page->items) {
    for (const char* secret : {"RAHASIA", "Siti", "Sitti", "Dewi", "3275014101120001", "0812", "2012-01-02"}) {
      EXPECT_EQ(item.body.find(secret), std::string::npos) << secret << " in " << item.body;
    }
    const auto signed_bytes = projection_signed_bytes(
        item.scope, static_cast<std::uint64_t>(item.server_seq),
        {reinterpret_cast<const std::uint8_t*>(item.body.data()), item.body.size()});
    EXPECT_TRUE(crypto::verify_signature(store_->signing_key().public_key(), signed_bytes, item.signature));
    by_case[item.scope.hex()] = json::parse(item.body);
  }
  const json& pa = by_case.at(a.hex());
  EXPECT_EQ(pa["office"], "UJI-KEL");
  EXPECT_EQ(pa["region"], "3275010");
  EXPECT_EQ(pa["forms"], json({"fisik", "psikis"}));
  EXPECT_EQ(pa["victim"]["sex"], "P");
  EXPECT_EQ(pa["victim"]["age_group"], "13-17");  // 14 when the complaint came
  EXPECT_EQ(pa["perpetrator_relationships"], json({"orang_tua"}));
  EXPECT_EQ(pa["services"][0]["kind"], "konseling");
  // The same NIK and the same name in another spelling give the same keys; another does not.
  const json& pb = by_case.at(b.hex());
  const json& pc = by_case.at(c.hex());
  EXPECT_EQ(pa["match"]["nik"], pb["match"]["nik"]);
  EXPECT_EQ(pa["match"]["name_birth"], pb["match"]["name_birth"]);
  EXPECT_NE(pa["match"]["nik"], pc["match"]["nik"]);
  EXPECT_EQ(pa["match"]["nik"].get<std::string>().size(), 32u);

  // Other devices are refused; a later page starts after the cursor.
  EXPECT_FALSE(store_->projections(uptd_, 0, 10));
  auto next = store_->projections(pusat_, page->cursor, 10);
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->items.empty());
}

// The response deadline needs when the status moved past "diterima"; a case recorded
// directly in a later status (an imported register) has no such time.
TEST_F(ProjectionTest, TheFirstStatusChangeAfterRecordingIsProjectedWithoutAnythingElseNew) {
  const auto a = record_case(kel_, kel_key_, 1, "Siti Penanda", "3275014101120001");
  sync::Commit later;
  later.device = kel_.device_id;
  later.seq = 2;
  later.scope = a;
  later.scope_type = "kasus";
  later.hlc = sync::make_hlc(static_cast<std::uint64_t>(now_ms()) + 5000, 0);
  later.versions.push_back(sync::Version{a, "kasus", "status", "asesmen", later.hlc, {}});
  auto pushed = store_->push(kel_, std::vector{sync::sign_commit(later, kel_key_)});
  ASSERT_TRUE(pushed && (*pushed)[0].accepted) << (pushed ? (*pushed)[0].message : pushed.error().message);

  const auto b = record_case(uptd_, uptd_key_, 1, "Dewi Penanda", "3275014101120002");
  auto page = store_->projections(pusat_, 0, 10);
  ASSERT_TRUE(page) << page.error().message;
  std::map<std::string, json> by_case;
  for (const ProjectionItem& item : page->items) {
    by_case[item.scope.hex()] = json::parse(item.body);
    EXPECT_EQ(item.body.find("Penanda"), std::string::npos);
  }
  const json& pa = by_case.at(a.hex());
  EXPECT_EQ(pa["v"], 1);
  EXPECT_EQ(pa["status"], "asesmen");
  const std::string changed = pa["status_changed_at"];
  ASSERT_EQ(changed.size(), 20u) << changed;
  EXPECT_EQ(changed.back(), 'Z');
  EXPECT_EQ(by_case.at(b.hex())["status_changed_at"], "");  // recorded as diterima, never moved
}

TEST(IdentityMatch, NormalFormsSurviveTheUsualVariations) {
  EXPECT_EQ(schema::normalize_nik("3275.0141-0112 0001"), "3275014101120001");
  EXPECT_EQ(schema::normalize_nik("32750141011200"), "");
  EXPECT_EQ(schema::normalize_nik("3275x14101120001"), "");
  EXPECT_EQ(schema::normalize_name("Soekarno Djojo"), schema::normalize_name("djojo sukarno"));
  EXPECT_EQ(schema::normalize_name("Muhammad Ma'ruf"), schema::normalize_name("MUHAMAD  MARUF"));
  EXPECT_EQ(schema::normalize_name("Tjahja"), schema::normalize_name("Cahja"));
  EXPECT_NE(schema::normalize_name("Siti Aminah"), schema::normalize_name("Siti Amina"));
  EXPECT_EQ(schema::normalize_name("123 !"), "");
}

}  // namespace
}  // namespace teduh::server
