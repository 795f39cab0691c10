// The merge rule exists twice: as SQL in the office store (Store::apply_commit, with a
// fast path for new entities) and in memory (sync::Replica, which the property tests
// check). Random commit sets, shuffled and duplicated, applied through both must give the
// same live versions, shown values and conflicts (issue 18 item 6). The sets hold what a
// hostile device may send: supersedes lists naming other entities' and fields' versions
// and other devices' future ids, tombstones, and commits naming an entity of another
// scope (PROTOCOL.md section 5, "Entities and scopes" and "Merge rule").
//
// A few fixed seeds run by default; TEDUH_PROPERTY_SEEDS=N runs seeds 1..N.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "support/store_fixture.hpp"
#include "sync/sync_test_util.hpp"
#include "teduh/client/store.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/merge.hpp"

namespace teduh::client {
namespace {

using sync::Commit;
using sync::EntityId;
using sync::Replica;
using sync::Version;
using sync::VersionId;
using testing::FakeServerKey;
using testing::TempDir;

constexpr std::uint64_t kT0 = 1767225600000;  // 2026-01-01

sync::SignedCommit signed_of(const Commit& c) {
  sync::SignedCommit sc;
  sc.device = c.device;
  sc.seq = c.seq;
  sc.body = sync::encode_commit_body(c);
  return sc;  // apply_remote stores the signature; the pull verified it (not under test here)
}

sync::Id128 id_from(const std::vector<std::uint8_t>& blob) {
  sync::Id128 id;
  std::copy(blob.begin(), blob.end(), id.bytes.begin());
  return id;
}

// What a replica shows: per (entity, field) with a live version, the shown value, the
// live version ids and their count (more than one: a conflict).
struct FieldState {
  std::string shown;
  std::set<VersionId> live;
  bool operator==(const FieldState&) const = default;
};
using State = std::map<std::pair<EntityId, std::string>, FieldState>;

std::string describe(const State& s) {
  std::string out;
  for (const auto& [key, f] : s) {
    out += key.first.hex().substr(0, 6) + "." + key.second + " shown=" + f.shown + " live=";
    for (const auto& id : f.live) out += id.device.hex().substr(0, 4) + ":" + std::to_string(id.seq) + ":" +
                                         std::to_string(id.index) + " ";
    out += "\n";
  }
  return out;
}

State state_of(const Replica& r) {
  State out;
  for (const auto& [entity, fields] : r.fields()) {
    for (const auto& [name, reg] : fields) {
      auto shown = reg.shown();
      if (!shown) continue;  // no live version: the store keeps no `fields` row
      FieldState f;
      f.shown = shown->value;
      for (const auto& id : reg.live_ids()) f.live.insert(id);
      out.emplace(std::make_pair(entity, name), std::move(f));
    }
  }
  return out;
}

State state_of(const Store& s) {
  State out;
  auto fields = schema::Statement::prepare(s.db(), "SELECT entity, field, value, live_count FROM fields");
  EXPECT_TRUE(fields);
  std::map<std::pair<EntityId, std::string>, std::int64_t> counts;
  while (*fields->step()) {
    auto key = std::make_pair(id_from(fields->column_blob(0)), fields->column_text(1));
    out[key].shown = fields->column_text(2);
    counts[key] = fields->column_int(3);
  }
  auto live = schema::Statement::prepare(s.db(), "SELECT entity, field, device, seq, idx FROM versions WHERE live = 1");
  EXPECT_TRUE(live);
  while (*live->step()) {
    auto key = std::make_pair(id_from(live->column_blob(0)), live->column_text(1));
    out[key].live.insert(VersionId{id_from(live->column_blob(2)), static_cast<std::uint64_t>(live->column_int(3)),
                                   static_cast<std::uint32_t>(live->column_int(4))});
  }
  for (const auto& [key, f] : out) {
    EXPECT_EQ(counts[key], static_cast<std::int64_t>(f.live.size()))
        << "fields.live_count disagrees with the live versions of " << key.second;
  }
  return out;
}

// A random history: devices that see part of each other's work, write one to three
// fields per commit over entities of two cases, and now and then behave as an attacker.
class History {
 public:
  explicit History(std::uint64_t seed) : rng_(seed) {
    for (std::uint8_t d = 0; d < 4; ++d) {
      devices_.push_back(Device{sync::test::id_of(static_cast<std::uint8_t>(0x10 + d)), 0,
                                kT0 + rng_() % 100'000, {}});
    }
    for (std::uint8_t s = 0; s < 2; ++s) {
      const EntityId scope = sync::test::id_of(static_cast<std::uint8_t>(0xc0 + s));
      scopes_.push_back(scope);
      entities_.push_back(Entity{scope, scope, "kasus"});
    }
  }

  std::vector<Commit> generate(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) write(devices_[rng_() % devices_.size()]);
    return commits_;
  }

  std::size_t hostile_scope_commits() const { return hostile_scope_; }

 private:
  struct Device {
    sync::DeviceId id;
    std::uint64_t seq;
    std::uint64_t wall;
    Replica seen;
  };
  struct Entity {
    EntityId id;
    EntityId scope;
    std::string type;
  };

  bool chance(unsigned percent) { return rng_() % 100 < percent; }

  void write(Device& d) {
    // Catch up on part of what the others wrote (a sync that saw some of it).
    for (const Commit& c : commits_) {
      if (chance(60)) d.seen.apply(c);
    }
    Commit c;
    c.device = d.id;
    c.seq = ++d.seq;
    const std::size_t scope_index = rng_() % scopes_.size();
    c.scope = scopes_[scope_index];
    c.scope_type = "kasus";
    d.wall += 1 + rng_() % 5000;
    c.hlc = sync::make_hlc(d.wall, 0);
    if (chance(30)) {  // a new entity of this case, sometimes only through a tombstone
      sync::Id128 fresh;
      for (auto& b : fresh.bytes) b = static_cast<std::uint8_t>(rng_());
      entities_.push_back(Entity{fresh, c.scope, "orang"});
    }
    std::vector<const Entity*> mine;
    for (const Entity& e : entities_) {
      if (e.scope == c.scope) mine.push_back(&e);
    }
    std::set<std::pair<EntityId, std::string>> used;
    const std::size_t writes = 1 + rng_() % 3;
    for (std::size_t w = 0; w < writes; ++w) {
      const Entity* e = mine[rng_() % mine.size()];
      if (chance(6)) {  // an entity of the other case, written inside this one
        e = &entities_[rng_() % entities_.size()];
        if (e->scope != c.scope) ++hostile_scope_;
      }
      static const char* const kFields[] = {"name", "summary", "status", "_deleted"};
      const std::string field = kFields[rng_() % 4];
      if (!used.emplace(e->id, field).second) continue;
      Version v;
      v.entity = e->id;
      v.entity_type = e->type;
      v.field = field;
      v.value = field == "_deleted" ? (chance(50) ? "1" : "0") : "v" + std::to_string(rng_() % 1000);
      v.hlc = c.hlc;
      if (const sync::Register* reg = d.seen.field(e->id, field)) {
        v.supersedes = reg->live_ids();
        if (v.supersedes.size() > 1 && chance(20)) v.supersedes.resize(1);  // saw only part
      }
      if (chance(25)) hostile_supersedes(c, v);
      c.versions.push_back(std::move(v));
    }
    auto decoded = sync::decode_commit_body(sync::encode_commit_body(c));
    ASSERT_TRUE(decoded) << decoded.error().message;  // every commit is valid on the wire
    d.seen.apply(c);
    commits_.push_back(std::move(c));
  }

  // Ids of other entities' and fields' versions, and other devices' future ids.
  void hostile_supersedes(const Commit& c, Version& v) {
    std::set<VersionId> have(v.supersedes.begin(), v.supersedes.end());
    auto add = [&](const VersionId& id) {
      if (id.device == c.device && id.seq == c.seq) return;  // a commit may not name its own
      if (have.size() < sync::kMaxSupersedes && have.insert(id).second) v.supersedes.push_back(id);
    };
    for (int k = 0; k < 4 && !commits_.empty(); ++k) {
      const Commit& old = commits_[rng_() % commits_.size()];
      add(old.version_id(static_cast<std::uint32_t>(rng_() % old.versions.size())));
    }
    for (const Device& other : devices_) {
      for (std::uint64_t ahead = 1; ahead <= 3; ++ahead) {
        for (std::uint32_t idx = 0; idx < 3; ++idx) {
          if (chance(50)) add(VersionId{other.id, other.seq + ahead, idx});
        }
      }
    }
  }

  std::mt19937_64 rng_;
  std::vector<Device> devices_;
  std::vector<EntityId> scopes_;
  std::vector<Entity> entities_;
  std::vector<Commit> commits_;
  std::size_t hostile_scope_ = 0;
};

TEST(MergeDifferential, StoreAndReplicaAgreeOnShuffledDuplicatedHostileHistories) {
  std::size_t hostile_scope = 0;
  for (std::uint64_t seed : sync::test::property_seeds()) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with TEDUH_PROPERTY_SEEDS=N for seeds 1..N)");
    History history(seed);
    std::vector<Commit> commits = history.generate(120);
    hostile_scope += history.hostile_scope_commits();
    // Delivered shuffled, a third of them twice.
    std::mt19937_64 rng(seed ^ 0x5eed);
    std::vector<Commit> delivery = commits;
    for (const Commit& c : commits) {
      if (rng() % 3 == 0) delivery.push_back(c);
    }
    std::shuffle(delivery.begin(), delivery.end(), rng);

    TempDir dir;
    FakeServerKey server;
    auto store = testing::make_store(dir / "office.db", server);
    ASSERT_TRUE(store) << store.error().message;
    Replica replica;
    std::size_t refused_by_replica = 0;
    for (std::size_t first = 0; first < delivery.size(); first += 50) {  // pulled batches
      auto tx = store->in_transaction([&]() -> Result<bool> {
        for (std::size_t i = first; i < std::min(delivery.size(), first + 50); ++i) {
          TEDUH_TRY(store->apply_remote(signed_of(delivery[i]), delivery[i], static_cast<std::int64_t>(i + 1)));
        }
        return true;
      });
      ASSERT_TRUE(tx) << tx.error().message;
      for (std::size_t i = first; i < std::min(delivery.size(), first + 50); ++i) {
        if (!replica.apply(delivery[i])) ++refused_by_replica;
      }
    }
    const State in_store = state_of(*store);
    const State in_memory = state_of(replica);
    EXPECT_EQ(in_store, in_memory) << "store:\n" << describe(in_store) << "replica:\n" << describe(in_memory);
    auto conflicts = store->conflicted_fields();
    ASSERT_TRUE(conflicts);
    EXPECT_EQ(conflicts->size(), replica.conflict_count());
    EXPECT_EQ(store->take_refused_commits().size(), refused_by_replica);
    auto held = schema::Statement::prepare(store->db(), "SELECT count(*) FROM versions");
    ASSERT_TRUE(held && *held->step());
    EXPECT_EQ(static_cast<std::size_t>(held->column_int(0)), replica.version_count());
  }
  // The generator does produce the attacks it is meant to (over all seeds).
  EXPECT_GT(hostile_scope, 0u);
}

// --- The store's own refusals -------------------------------------------------------

class StoreEntityRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::make_store(dir_ / "office.db", server_);
    ASSERT_TRUE(s) << s.error().message;
    store_.emplace(std::move(*s));
  }

  Commit commit(std::uint8_t device, std::uint64_t seq, const EntityId& scope, std::uint64_t at_ms) {
    Commit c;
    c.device = sync::test::id_of(device);
    c.seq = seq;
    c.scope = scope;
    c.scope_type = "kasus";
    c.hlc = sync::make_hlc(at_ms, 0);
    return c;
  }
  static Version version(const Commit& c, const EntityId& entity, std::string type, std::string field,
                         std::string value, std::vector<VersionId> supersedes = {}) {
    return Version{entity, std::move(type), std::move(field), std::move(value), c.hlc, std::move(supersedes)};
  }
  bool pull(const Commit& c, std::int64_t server_seq) {
    auto r = store_->apply_remote(signed_of(c), c, server_seq);
    EXPECT_TRUE(r) << r.error().message;
    return r && *r;
  }
  std::pair<std::string, int> shown(const EntityId& entity, const std::string& field) {
    auto e = store_->entity(entity);
    EXPECT_TRUE(e);
    if (!e || !*e) return {"", 0};
    auto it = (*e)->fields.find(field);
    if (it == (*e)->fields.end()) return {"", 0};
    return {it->second.value, it->second.live_count};
  }
  std::int64_t count(const std::string& sql) {
    auto st = schema::Statement::prepare(store_->db(), sql);
    EXPECT_TRUE(st && *st->step());
    return st->column_int(0);
  }

  TempDir dir_;
  FakeServerKey server_;
  std::optional<Store> store_;
  const EntityId case_a_ = sync::test::id_of(0xca);
  const EntityId case_b_ = sync::test::id_of(0xcb);
  const EntityId person_ = sync::test::id_of(0xe1);
};

TEST_F(StoreEntityRulesTest, APulledCommitNamingAnEntityOfAnotherCaseIsSkippedWholeAndReported) {
  Commit owner = commit(0x11, 1, case_a_, kT0);
  owner.versions.push_back(version(owner, person_, "orang", "name", "Nama Asli"));
  ASSERT_TRUE(pull(owner, 1));
  Commit forged = commit(0x22, 1, case_b_, kT0 + 10);
  forged.versions.push_back(version(forged, case_b_, "kasus", "summary", "Ringkasan Lain"));
  forged.versions.push_back(version(forged, person_, "orang", "name", "Nama Palsu", {owner.version_id(0)}));
  EXPECT_FALSE(pull(forged, 2));  // not an error: the pull goes on
  EXPECT_EQ(shown(person_, "name"), (std::pair<std::string, int>{"Nama Asli", 1}));
  auto b = store_->entity(case_b_);
  ASSERT_TRUE(b);
  EXPECT_FALSE(*b);  // nothing of the commit was applied, not even its own case's field
  EXPECT_EQ(count("SELECT count(*) FROM commits WHERE seq = 1 AND device = x'22222222222222222222222222222222'"), 0);
  auto refused = store_->take_refused_commits();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].device, forged.device);
  EXPECT_EQ(refused[0].seq, 1u);
  EXPECT_NE(refused[0].reason.find("another scope"), std::string::npos) << refused[0].reason;
  // The same entity under another type, in its own case, is refused too.
  Commit retyped = commit(0x22, 2, case_a_, kT0 + 20);
  retyped.versions.push_back(version(retyped, person_, "layanan", "kind", "pengaduan"));
  EXPECT_FALSE(pull(retyped, 3));
  // And this device cannot write it there either.
  auto local = store_->write(case_b_, "kasus", {FieldWrite{person_, "orang", "name", "Nama Lokal"}});
  ASSERT_FALSE(local);
  EXPECT_EQ(local.error().code, Errc::refused);
  EXPECT_EQ(shown(person_, "name"), (std::pair<std::string, int>{"Nama Asli", 1}));
}

TEST_F(StoreEntityRulesTest, SupersedesNamingAnotherFieldOrAnotherDevicesFutureIdsEraseNothing) {
  Commit owner = commit(0x11, 1, case_a_, kT0);
  owner.versions.push_back(version(owner, person_, "orang", "name", "Nama Asli"));
  ASSERT_TRUE(pull(owner, 1));
  Commit hostile = commit(0x22, 1, case_a_, kT0 + 10);
  hostile.versions.push_back(version(hostile, case_a_, "kasus", "summary", "x",
                                     {owner.version_id(0), VersionId{owner.device, 2, 0},
                                      VersionId{owner.device, 3, 0}}));
  ASSERT_TRUE(pull(hostile, 2));
  EXPECT_EQ(shown(person_, "name"), (std::pair<std::string, int>{"Nama Asli", 1}));
  // The owner's next commits carry the listed ids: one for an existing entity, one
  // creating a new entity (the fast path of apply_commit).
  Commit edit = commit(0x11, 2, case_a_, kT0 + 20);
  edit.versions.push_back(version(edit, person_, "orang", "name", "Nama Baru", {owner.version_id(0)}));
  ASSERT_TRUE(pull(edit, 3));
  const EntityId later = sync::test::id_of(0xe9);
  Commit create = commit(0x11, 3, case_a_, kT0 + 30);
  create.versions.push_back(version(create, later, "orang", "name", "Orang Baru"));
  ASSERT_TRUE(pull(create, 4));
  EXPECT_EQ(shown(person_, "name"), (std::pair<std::string, int>{"Nama Baru", 1}));
  EXPECT_EQ(shown(later, "name"), (std::pair<std::string, int>{"Orang Baru", 1}));
  // Within its own (entity, field) a supersedes list still works, even ahead of time.
  Commit ahead = commit(0x22, 2, case_a_, kT0 + 40);
  ahead.versions.push_back(version(ahead, later, "orang", "name", "Orang Ganti",
                                   {create.version_id(0), VersionId{owner.device, 4, 0}}));
  ASSERT_TRUE(pull(ahead, 5));
  Commit late = commit(0x11, 4, case_a_, kT0 + 50);
  late.versions.push_back(version(late, later, "orang", "name", "Tertimpa"));
  ASSERT_TRUE(pull(late, 6));
  EXPECT_EQ(shown(later, "name"), (std::pair<std::string, int>{"Orang Ganti", 1}));
}

TEST_F(StoreEntityRulesTest, AStoreFromBeforeScopedSupersedesIsRepairedWhenOpened) {
  Commit owner = commit(0x11, 1, case_a_, kT0);
  owner.versions.push_back(version(owner, person_, "orang", "name", "Nama Asli"));
  Commit hostile = commit(0x22, 1, case_a_, kT0 + 10);
  hostile.versions.push_back(version(hostile, case_a_, "kasus", "summary", "x", {owner.version_id(0)}));
  ASSERT_TRUE(pull(owner, 1));
  ASSERT_TRUE(pull(hostile, 2));
  // Put the store back as schema version 3 left it: `superseded` keyed by id alone, the
  // hostile list applied across fields, and none of the later steps' tables.
  ASSERT_TRUE(schema::exec(store_->db(),
                           "DROP TABLE superseded;"
                           "CREATE TABLE superseded (device BLOB NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT "
                           "NULL, PRIMARY KEY (device, seq, idx)) WITHOUT ROWID;"
                           "INSERT INTO superseded VALUES (x'11111111111111111111111111111111', 1, 0);"
                           "UPDATE versions SET live = 0 WHERE device = x'11111111111111111111111111111111';"
                           "DELETE FROM fields WHERE field = 'name';"
                           "DROP TABLE directory_offices; DROP TABLE directory_devices; DROP TABLE refused_commits;"
                           "DELETE FROM meta WHERE key IN ('migration.0004', 'migration.0005', 'merge_rebuild');"
                           "UPDATE meta SET value = 1 WHERE key = 'min_readable';"
                           "PRAGMA user_version = 3;"));
  EXPECT_EQ(shown(person_, "name").second, 0);  // erased, as the old rule had it
  store_.reset();
  auto reopened = Store::open(dir_ / "office.db", testing::kTestPassphrase);
  ASSERT_TRUE(reopened) << reopened.error().message;
  store_.emplace(std::move(*reopened));
  EXPECT_EQ(shown(person_, "name"), (std::pair<std::string, int>{"Nama Asli", 1}));
  EXPECT_EQ(shown(case_a_, "summary"), (std::pair<std::string, int>{"x", 1}));
  EXPECT_EQ(count("SELECT count(*) FROM superseded"), 1);  // under (case, summary)
  EXPECT_EQ(count("SELECT count(*) FROM meta WHERE key = 'merge_rebuild'"), 0);
}

}  // namespace
}  // namespace teduh::client
