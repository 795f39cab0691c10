#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "sync/sync_test_util.hpp"
#include "teduh/sync/merge.hpp"

namespace teduh::sync {
namespace {

using test::id_of;

constexpr std::uint64_t kT = 1767225600000;
const EntityId kCase = id_of(0xc1);

// A one-version commit writing `field` of `entity`.
Commit write(std::uint8_t device, std::uint64_t seq, Hlc hlc, const std::string& field, const std::string& value,
             std::vector<VersionId> supersedes = {}, EntityId entity = kCase) {
  Commit c;
  c.device = id_of(device);
  c.seq = seq;
  c.scope = kCase;
  c.scope_type = "kasus";
  c.hlc = hlc;
  c.versions.push_back(Version{entity, "kasus", field, value, hlc, std::move(supersedes)});
  return c;
}

VersionId vid(const Commit& c, std::uint32_t index = 0) { return c.version_id(index); }

std::vector<std::string> live_values(const Replica& r, const std::string& field, EntityId entity = kCase) {
  std::vector<std::string> out;
  const Register* reg = r.field(entity, field);
  if (reg == nullptr) return out;
  for (const auto& v : reg->live()) out.push_back(v.value);
  return out;
}

TEST(Merge, WriteThatSawTheLiveVersionReplacesIt) {
  Replica r;
  const Commit a = write(1, 1, make_hlc(kT, 0), "status", "diterima");
  const Commit b = write(1, 2, make_hlc(kT + 1, 0), "status", "asesmen", {vid(a)});
  r.apply(a);
  r.apply(b);
  EXPECT_EQ(live_values(r, "status"), std::vector<std::string>{"asesmen"});
  EXPECT_EQ(r.conflict_count(), 0u);
}

TEST(Merge, ConcurrentWritesToOneFieldAreBothKept) {
  const Commit base = write(1, 1, make_hlc(kT, 0), "summary", "awal");
  const Commit x = write(1, 2, make_hlc(kT + 10, 0), "summary", "dari kantor A", {vid(base)});
  const Commit y = write(2, 1, make_hlc(kT + 20, 0), "summary", "dari kantor B", {vid(base)});
  Replica r1, r2;
  for (const auto* c : {&base, &x, &y}) r1.apply(*c);
  for (const auto* c : {&y, &base, &x}) r2.apply(*c);
  const Register* reg = r1.field(kCase, "summary");
  ASSERT_NE(reg, nullptr);
  EXPECT_TRUE(reg->in_conflict());
  EXPECT_EQ(live_values(r1, "summary"), (std::vector<std::string>{"dari kantor B", "dari kantor A"}));
  EXPECT_EQ(reg->shown()->value, "dari kantor B");  // the greater hlc
  EXPECT_EQ(r1.conflict_count(), 1u);
  EXPECT_EQ(r1.canonical_state(), r2.canonical_state());
}

TEST(Merge, ResolutionSupersedesAllAndClearsTheConflict) {
  const Commit x = write(1, 1, make_hlc(kT, 0), "channel", "telepon");
  const Commit y = write(2, 1, make_hlc(kT, 0), "channel", "whatsapp");
  Replica r;
  r.apply(x);
  r.apply(y);
  ASSERT_TRUE(r.field(kCase, "channel")->in_conflict());
  const auto ids = r.field(kCase, "channel")->live_ids();
  EXPECT_EQ(ids, (std::vector<VersionId>{vid(x), vid(y)}));  // sorted by id
  const Commit resolve = write(3, 1, make_hlc(kT + 1, 0), "channel", "whatsapp", ids);
  r.apply(resolve);
  EXPECT_FALSE(r.field(kCase, "channel")->in_conflict());
  EXPECT_EQ(r.field(kCase, "channel")->shown()->value, "whatsapp");
  EXPECT_EQ(r.field(kCase, "channel")->shown()->id, vid(resolve));
  // The resolution arriving first at another replica gives the same state.
  Replica other;
  for (const auto* c : {&resolve, &y, &x}) other.apply(*c);
  EXPECT_EQ(other.canonical_state(), r.canonical_state());
  EXPECT_EQ(other.conflict_count(), 0u);
}

TEST(Merge, WriteConcurrentWithAResolutionStaysAConflict) {
  const Commit x = write(1, 1, make_hlc(kT, 0), "status", "asesmen");
  const Commit y = write(2, 1, make_hlc(kT, 0), "status", "penanganan");
  const Commit resolve = write(1, 2, make_hlc(kT + 5, 0), "status", "penanganan", {vid(x), vid(y)});
  const Commit late = write(3, 1, make_hlc(kT + 1, 0), "status", "dirujuk", {vid(x)});  // saw only x
  Replica r;
  for (const auto* c : {&x, &y, &resolve, &late}) r.apply(*c);
  EXPECT_EQ(live_values(r, "status"), (std::vector<std::string>{"penanganan", "dirujuk"}));
}

TEST(Merge, SupersedesNamingAnotherFieldOrEntityEraseNothingThere) {
  const EntityId other = id_of(0xe2);
  const Commit summary = write(1, 1, make_hlc(kT, 0), "summary", "ringkasan");
  const Commit name = write(1, 2, make_hlc(kT + 1, 0), "name", "Nama Uji", {}, other);
  // A version of `status` listing the ids above and the writer's next, future, id.
  const Commit hostile = write(2, 1, make_hlc(kT + 2, 0), "status", "x",
                               {vid(summary), vid(name), VersionId{id_of(1), 3, 0}});
  const Commit future = write(1, 3, make_hlc(kT + 3, 0), "place", "sekolah");
  for (const auto& order : {std::vector<const Commit*>{&summary, &name, &hostile, &future},
                            std::vector<const Commit*>{&hostile, &future, &name, &summary}}) {
    Replica r;
    for (const Commit* c : order) r.apply(*c);
    EXPECT_EQ(live_values(r, "summary"), std::vector<std::string>{"ringkasan"});
    EXPECT_EQ(live_values(r, "name", other), std::vector<std::string>{"Nama Uji"});
    EXPECT_EQ(live_values(r, "place"), std::vector<std::string>{"sekolah"});
  }
}

TEST(Merge, ACommitNamingAnEntityOfAnotherScopeIsNotApplied) {
  const EntityId person = id_of(0xe3);
  const Commit owner = write(1, 1, make_hlc(kT, 0), "name", "Nama Uji", {}, person);
  Commit forged = write(2, 1, make_hlc(kT + 1, 0), "name", "palsu", {vid(owner)}, person);
  forged.scope = id_of(0xc2);  // the forger's own case
  forged.versions.push_back(Version{id_of(0xc2), "kasus", "summary", "milik sendiri", make_hlc(kT + 1, 0), {}});
  Replica r;
  EXPECT_TRUE(r.apply(owner));
  EXPECT_FALSE(r.apply(forged));
  EXPECT_EQ(live_values(r, "name", person), std::vector<std::string>{"Nama Uji"});
  EXPECT_EQ(r.field(id_of(0xc2), "summary"), nullptr);  // nothing of the commit is applied
  Commit retyped = write(2, 2, make_hlc(kT + 2, 0), "summary", "lain", {}, person);
  retyped.versions[0].entity_type = "orang";
  EXPECT_FALSE(r.apply(retyped));  // same scope, another type
}

TEST(Merge, EditsToDifferentFieldsMergeWithoutConflict) {
  const Commit a = write(1, 1, make_hlc(kT, 0), "summary", "ringkasan");
  const Commit b = write(2, 1, make_hlc(kT, 0), "place", "rumah_tangga");
  Replica r;
  r.apply(a);
  r.apply(b);
  EXPECT_EQ(r.conflict_count(), 0u);
  EXPECT_EQ(r.field(kCase, "summary")->shown()->value, "ringkasan");
  EXPECT_EQ(r.field(kCase, "place")->shown()->value, "rumah_tangga");
}

TEST(Merge, EqualHlcsAreOrderedByDeviceId) {
  const Commit low = write(1, 9, make_hlc(kT, 0), "status", "rendah");
  const Commit high = write(2, 1, make_hlc(kT, 0), "status", "tinggi");
  Replica r;
  r.apply(high);
  r.apply(low);
  EXPECT_EQ(r.field(kCase, "status")->shown()->value, "tinggi");
}

TEST(Merge, SupersederArrivingFirstStillHidesTheOldVersion) {
  const Commit old_write = write(1, 1, make_hlc(kT + 100, 0), "status", "lama");  // greater hlc, still hidden
  const Commit new_write = write(2, 1, make_hlc(kT, 0), "status", "baru", {vid(old_write)});
  Register reg;
  EXPECT_TRUE(reg.add(StoredVersion{vid(new_write), "baru", new_write.hlc, new_write.versions[0].supersedes}));
  EXPECT_FALSE(reg.add(StoredVersion{vid(old_write), "lama", old_write.hlc, {}}));
  ASSERT_EQ(reg.live().size(), 1u);
  EXPECT_EQ(reg.shown()->value, "baru");
  EXPECT_EQ(reg.history().size(), 2u);
}

TEST(Merge, DuplicateDeliveryChangesNothing) {
  const Commit a = write(1, 1, make_hlc(kT, 0), "status", "diterima");
  Replica r;
  r.apply(a);
  const std::string before = r.canonical_state();
  r.apply(a);
  r.apply(a);
  EXPECT_EQ(r.canonical_state(), before);
  EXPECT_EQ(r.version_count(), 1u);
  Register reg;
  const StoredVersion v{vid(a), "diterima", a.hlc, {}};
  EXPECT_TRUE(reg.add(v));
  EXPECT_FALSE(reg.add(v));
}

TEST(Merge, HistoryKeepsEveryVersionOldestFirst) {
  const Commit a = write(1, 1, make_hlc(kT, 0), "status", "diterima");
  const Commit b = write(1, 2, make_hlc(kT + 1, 0), "status", "asesmen", {vid(a)});
  const Commit c = write(1, 3, make_hlc(kT + 2, 0), "status", "penanganan", {vid(b)});
  Replica r;
  for (const auto* x : {&c, &a, &b}) r.apply(*x);
  const auto history = r.field(kCase, "status")->history();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].value, "diterima");
  EXPECT_EQ(history[1].value, "asesmen");
  EXPECT_EQ(history[2].value, "penanganan");
  EXPECT_EQ(r.field(kCase, "status")->live().size(), 1u);
}

TEST(Merge, SupersedesOnlyActWithinTheirField) {
  const Commit a = write(1, 1, make_hlc(kT, 0), "status", "diterima");
  // A (buggy) write of another field naming a's id hides nothing.
  const Commit b = write(2, 1, make_hlc(kT, 0), "summary", "x", {vid(a)});
  Replica r;
  r.apply(b);
  r.apply(a);
  EXPECT_EQ(live_values(r, "status"), std::vector<std::string>{"diterima"});
}

TEST(Merge, TombstoneIsAFieldLikeAnyOther) {
  const Commit del = write(1, 1, make_hlc(kT, 0), "_deleted", "1");
  const Commit undelete = write(2, 1, make_hlc(kT + 1, 0), "_deleted", "0", {vid(del)});
  Replica r;
  r.apply(del);
  EXPECT_EQ(r.field(kCase, "_deleted")->shown()->value, "1");
  r.apply(undelete);
  EXPECT_EQ(r.field(kCase, "_deleted")->shown()->value, "0");
  EXPECT_EQ(r.field(kCase, "_deleted")->history().size(), 2u);
}

TEST(Merge, AppendOnlyEntitiesNeverConflict) {
  // Two offices record a service for the same case at once: two new entities.
  Replica r;
  const Commit s1 = write(1, 1, make_hlc(kT, 0), "kind", "konseling", {}, id_of(0xa1));
  const Commit s2 = write(2, 1, make_hlc(kT, 0), "kind", "mediasi", {}, id_of(0xa2));
  r.apply(s2);
  r.apply(s1);
  EXPECT_EQ(r.conflict_count(), 0u);
  EXPECT_EQ(r.field(id_of(0xa1), "kind")->shown()->value, "konseling");
  EXPECT_EQ(r.field(id_of(0xa2), "kind")->shown()->value, "mediasi");
}

TEST(Merge, UnknownFieldHasNoRegister) {
  Replica r;
  EXPECT_EQ(r.field(kCase, "status"), nullptr);
  EXPECT_EQ(r.canonical_state(), "");
  Register reg;
  EXPECT_FALSE(reg.shown());
  EXPECT_FALSE(reg.in_conflict());
}

TEST(Merge, CanonicalStateKeepsAwkwardValuesOnOneLine) {
  Replica r;
  r.apply(write(1, 1, make_hlc(kT, 0), "summary", "baris \"satu\"\nbaris\\dua\t"));
  EXPECT_EQ(r.canonical_state(), kCase.hex() +
                                     " summary shown=\"baris \\\"satu\\\"\\u000abaris\\\\dua\\u0009\" live=1 "
                                     "values=[\"baris \\\"satu\\\"\\u000abaris\\\\dua\\u0009\"]\n");
}

// Six commits touching two fields, with chains, concurrency and a partial resolution:
// every one of the 720 delivery orders (each also followed by a redelivery) ends in the
// same state.
TEST(Merge, EveryDeliveryOrderGivesTheSameState) {
  const Commit c1 = write(1, 1, make_hlc(kT, 0), "status", "x");
  const Commit c2 = write(2, 1, make_hlc(kT, 0), "status", "y");
  const Commit c3 = write(1, 2, make_hlc(kT + 1, 0), "status", "z", {vid(c1)});
  const Commit c4 = write(3, 1, make_hlc(kT + 1, 0), "place", "sekolah");
  const Commit c5 = write(2, 2, make_hlc(kT + 3, 0), "status", "r", {vid(c2), vid(c3)});
  const Commit c6 = write(3, 2, make_hlc(kT + 2, 0), "status", "q", {vid(c1)});
  const std::vector<const Commit*> commits = {&c1, &c2, &c3, &c4, &c5, &c6};

  std::vector<std::size_t> order(commits.size());
  std::iota(order.begin(), order.end(), 0);
  std::string expected;
  int permutations = 0;
  do {
    Replica r;
    for (auto i : order) r.apply(*commits[i]);
    r.apply(*commits[order[permutations % order.size()]]);  // a duplicate
    const std::string state = r.canonical_state();
    if (expected.empty()) expected = state;
    ASSERT_EQ(state, expected) << "permutation " << permutations;
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 720);

  Replica r;
  for (const auto* c : commits) r.apply(*c);
  EXPECT_EQ(live_values(r, "status"), (std::vector<std::string>{"r", "q"}));
  EXPECT_EQ(r.conflict_count(), 1u);
}

TEST(Merge, ShowsBeforeIsAStrictTotalOrder) {
  const StoredVersion a{{id_of(1), 1, 0}, "a", make_hlc(kT, 0), {}};
  const StoredVersion b{{id_of(2), 1, 0}, "b", make_hlc(kT, 0), {}};
  const StoredVersion c{{id_of(1), 1, 1}, "c", make_hlc(kT, 0), {}};
  EXPECT_TRUE(shows_before(b, a));
  EXPECT_FALSE(shows_before(a, b));
  EXPECT_TRUE(shows_before(c, a));
  EXPECT_FALSE(shows_before(a, a));
}

}  // namespace
}  // namespace teduh::sync
