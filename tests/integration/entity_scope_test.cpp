// Entities stay in their case, and supersedes stay in their field, end to end through a
// real teduhd on 127.0.0.1 (issue 12, defects 2 and 3; PROTOCOL.md section 5, "Entities
// and scopes" and "Merge rule"). A hostile device of another office, which refers its own
// case to the victim's office so that office's devices pull what it writes there, forges
// commits with the project's own libraries (HostileDevice).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/hostile_device.hpp"
#include "support/server_test.hpp"
#include "teduh/client/store.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using teduh::testing::HostileDevice;
using teduh::testing::kOfficePassphrase;
using teduh::testing::teduh;

class EntityScopeTest : public teduh::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", "5000", 1);
    add_office("UJI-UPTD", "uptd_ppa");
    add_office("UJI-KEL", "kelurahan");
    start_server();
    owner_ = device("owner", "UJI-UPTD", "pendamping");
    colleague_ = device("colleague", "UJI-UPTD", "pendamping");
    // A role that may settle conflicts: a forged supersedes list of many ids is then
    // judged by the merge rule, not refused as an operator's settlement (write rules).
    evil_ = device("evil", "UJI-KEL", "pendamping");
  }

  client::Store open(const std::string& store) {
    auto s = client::Store::open(store, kOfficePassphrase);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return std::move(*s);
  }

  std::string new_case(const std::string& store, const std::string& victim) {
    return run_ok({"case", "new", "--store", store, "--victim-name", victim, "--victim-sex", "P"});
  }

  // The hostile office's own case, referred (with consent) to the victim's office, so the
  // UPTD's devices pull every commit written in it.
  sync::EntityId evil_case_referred_to_uptd() {
    const std::string id = new_case(evil_, "Warga Kelurahan Uji");
    run_ok({"refer", "--store", evil_, "--case", id, "--to", "UJI-UPTD", "--reason", "Lanjutan", "--consent",
            "yes"});
    sync(evil_);
    return *sync::Id128::from_hex(id);
  }

  // The victim (an `orang` entity) of a case, as a store holds it.
  sync::EntityId victim_of(const std::string& store, const sync::EntityId& case_id) {
    auto s = open(store);
    auto st = schema::Statement::prepare(
        s.db(), "SELECT id FROM entities WHERE scope = ?1 AND type = 'orang' ORDER BY created_hlc LIMIT 1");
    st->bind_blob(1, std::span<const std::uint8_t>(case_id.bytes.data(), case_id.bytes.size()));
    auto row = st->step();
    EXPECT_TRUE(row && *row);
    sync::EntityId id;
    auto blob = st->column_blob(0);
    std::copy(blob.begin(), blob.end(), id.bytes.begin());
    return id;
  }

  std::vector<sync::VersionId> live_ids(const std::string& store, const sync::EntityId& entity,
                                        const std::string& field) {
    auto s = open(store);
    auto live = s.live_versions(entity, field);
    EXPECT_TRUE(live);
    std::vector<sync::VersionId> out;
    for (const auto& v : *live) out.push_back(v.id);
    return out;
  }

  // What a store shows for a field, and how many live versions it holds.
  std::pair<std::string, int> shown(const std::string& store, const sync::EntityId& entity,
                                    const std::string& field) {
    auto s = open(store);
    auto e = s.entity(entity);
    EXPECT_TRUE(e && *e);
    if (!e || !*e) return {"", 0};
    auto it = (*e)->fields.find(field);
    if (it == (*e)->fields.end()) return {"", 0};
    return {it->second.value, it->second.live_count};
  }

  std::uint64_t last_seq(const std::string& store) { return open(store).last_seq(); }

  std::string owner_, colleague_, evil_;
};

TEST_F(EntityScopeTest, AVersionOfAnotherOfficesEntityForgedInsideOnesOwnCaseIsRefusedAndNeverApplied) {
  const sync::EntityId k1 = *sync::Id128::from_hex(new_case(owner_, "Warga Uptd Asli"));
  sync(owner_);
  sync(colleague_);
  const sync::EntityId victim = victim_of(owner_, k1);
  const std::vector<sync::VersionId> seen = live_ids(owner_, victim, "name");
  ASSERT_EQ(seen.size(), 1u);
  const sync::EntityId k2 = evil_case_referred_to_uptd();

  // The hostile office learned the victim's entity id (say, from a referral since ended)
  // and writes her name inside its own case, replacing the live version it knows.
  HostileDevice evil(evil_);
  sync::Commit forged = evil.commit(k2, "kasus");
  forged.versions.push_back(HostileDevice::version(forged, victim, "orang", "name", "Nama Palsu Uji", seen));
  forged.versions.push_back(HostileDevice::version(forged, k2, "kasus", "summary", "Ringkasan Kelurahan"));
  evil.forge(forged);
  json refused = sync(evil_, 2);
  EXPECT_EQ(refused["rejected"], 1) << refused.dump();
  EXPECT_NE(log().find("belongs to another case"), std::string::npos);

  // The refusal consumes the sequence number: the device's later work goes through.
  run_ok({"case", "set", "--store", evil_, k2.hex(), "summary=Lanjutan Uji"});
  json later = sync(evil_);
  EXPECT_EQ(later["pushed"], 1) << later.dump();
  EXPECT_EQ(later["rejected"], 0) << later.dump();

  for (const std::string& store : {owner_, colleague_}) {
    sync(store);
    EXPECT_EQ(shown(store, victim, "name"), (std::pair<std::string, int>{"Warga Uptd Asli", 1})) << store;
    EXPECT_EQ(rows_containing(store, "Nama Palsu Uji"), 0) << store;
    EXPECT_EQ(shown(store, k2, "summary").first, "Lanjutan Uji") << store;  // the referral itself works
    auto s = open(store);
    auto place = s.entity(victim);
    ASSERT_TRUE(place && *place);
    EXPECT_EQ((*place)->scope, k1);
  }
}

TEST_F(EntityScopeTest, AVersionCreatingAnEntityIsRefusedWhenAnEarlierCommitOfTheSamePushPutItElsewhere) {
  const sync::EntityId k2 = evil_case_referred_to_uptd();
  const sync::EntityId k3 = *sync::Id128::from_hex(new_case(evil_, "Warga Kelurahan Kedua"));
  // Two commits in one push: the first creates a person in k2, the second writes the
  // same person inside k3. Only the first is stored.
  HostileDevice evil(evil_);
  const sync::EntityId person = sync::Id128::random();
  sync::Commit first = evil.commit(k2, "kasus");
  first.versions.push_back(HostileDevice::version(first, person, "orang", "name", "Orang Satu Uji"));
  evil.forge(first);
  sync::Commit second = evil.commit(k3, "kasus");
  second.versions.push_back(HostileDevice::version(second, person, "orang", "name", "Orang Dua Uji"));
  evil.forge(second);
  json r = sync(evil_, 2);
  EXPECT_EQ(r["rejected"], 1) << r.dump();
  sync(owner_);
  EXPECT_EQ(shown(owner_, person, "name").first, "Orang Satu Uji");
  EXPECT_EQ(rows_containing(owner_, "Orang Dua Uji"), 0);
}

TEST_F(EntityScopeTest, AForgedVersionListingAnotherDevicesFutureIdsOfAnotherEntityErasesNothing) {
  const sync::EntityId k1 = *sync::Id128::from_hex(new_case(owner_, "Warga Uptd Tiga"));
  run_ok({"case", "set", "--store", owner_, k1.hex(), "summary=Ringkasan Awal"});
  sync(owner_);
  sync(colleague_);
  const sync::EntityId k2 = evil_case_referred_to_uptd();

  // Version ids are predictable: the owner's live summary, and its next commits' ids.
  std::vector<sync::VersionId> targets = live_ids(owner_, k1, "summary");
  ASSERT_EQ(targets.size(), 1u);
  const sync::DeviceId owner_device = open(owner_).identity().device;
  const std::uint64_t next = last_seq(owner_) + 1;
  for (std::uint64_t seq = next; seq < next + 8; ++seq) {
    for (std::uint32_t idx = 0; idx < 24; ++idx) targets.push_back(sync::VersionId{owner_device, seq, idx});
  }
  // Written in the hostile office's own case, to its own case's summary: accepted, and
  // pulled by the UPTD's devices through the referral.
  HostileDevice evil(evil_);
  sync::Commit forged = evil.commit(k2, "kasus");
  forged.versions.push_back(HostileDevice::version(forged, k2, "kasus", "summary", "Ringkasan Kelurahan", targets));
  evil.forge(forged);
  json pushed = sync(evil_);
  EXPECT_EQ(pushed["rejected"], 0) << pushed.dump();

  sync(owner_);
  EXPECT_EQ(shown(owner_, k1, "summary"), (std::pair<std::string, int>{"Ringkasan Awal", 1}));
  EXPECT_EQ(shown(owner_, k2, "summary").first, "Ringkasan Kelurahan");
  // The owner's next edits carry the ids the forged version listed.
  run_ok({"case", "set", "--store", owner_, k1.hex(), "summary=Ringkasan Baru"});
  run_ok({"case", "set", "--store", owner_, k1.hex(), "status=asesmen"});
  EXPECT_EQ(shown(owner_, k1, "summary"), (std::pair<std::string, int>{"Ringkasan Baru", 1}));
  sync(owner_);
  sync(colleague_);
  for (const std::string& store : {owner_, colleague_}) {
    EXPECT_EQ(shown(store, k1, "summary"), (std::pair<std::string, int>{"Ringkasan Baru", 1})) << store;
    EXPECT_EQ(shown(store, k1, "status"), (std::pair<std::string, int>{"asesmen", 1})) << store;
    EXPECT_EQ(shown(store, k2, "summary").first, "Ringkasan Kelurahan") << store;
  }
}

}  // namespace
}  // namespace teduh
