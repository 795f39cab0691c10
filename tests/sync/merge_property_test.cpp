// Randomized convergence tests of the merge rule (PROTOCOL.md "Merge rule").
//
// Several simulated devices write random fields of a few shared entities, each from its
// own view (supersedes = the live ids it sees), with skewed clocks, and gossip commits to
// each other in random order with duplicates. At the end every device receives every
// commit (again in random order, with duplicates) and all must show the same state, which
// must also equal a direct computation of the rule from the set of versions.
// Seeds are printed (SCOPED_TRACE); TEDUH_PROPERTY_SEEDS=N runs seeds 1..N.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "sync/sync_test_util.hpp"
#include "teduh/sync/merge.hpp"

namespace teduh::sync {
namespace {

constexpr std::uint64_t kT0 = 1767225600000;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  // Uniform enough for tests, and identical on every standard library (unlike
  // std::uniform_int_distribution).
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(gen_() % n); }
  bool chance(std::size_t percent) { return below(100) < percent; }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::mt19937_64 gen_;
};

struct Device {
  DeviceId id;
  std::uint64_t seq = 0;
  std::int64_t skew_ms = 0;
  HlcClock clock;
  Replica replica;
};

struct Simulation {
  Rng rng;
  std::vector<Device> devices;
  std::vector<EntityId> entities;
  std::vector<std::string> fields = {"status", "summary", "place", "_deleted"};
  std::vector<Commit> log;
  std::uint64_t now = kT0;

  Simulation(std::uint64_t seed, std::size_t n_devices) : rng(seed) {
    for (std::size_t i = 0; i < n_devices; ++i) {
      Device d;
      d.id = test::id_of(static_cast<std::uint8_t>(0x10 + i));
      // Some offices run minutes ahead or behind, one sometimes far ahead.
      d.skew_ms = static_cast<std::int64_t>(rng.below(240'000)) - 120'000;
      if (rng.chance(20)) d.skew_ms += 3 * 3600 * 1000;
      devices.push_back(std::move(d));
    }
    for (std::uint8_t e = 0; e < 3; ++e) entities.push_back(test::id_of(static_cast<std::uint8_t>(0xe0 + e)));
  }

  std::uint64_t physical(const Device& d) const { return static_cast<std::uint64_t>(static_cast<std::int64_t>(now) + d.skew_ms); }

  void deliver(Device& d, const Commit& c) {
    (void)d.clock.observe(c.hlc, physical(d));
    d.replica.apply(c);
  }

  void write(Device& d) {
    Commit c;
    c.device = d.id;
    c.seq = ++d.seq;
    c.scope = entities[0];
    c.scope_type = "kasus";
    const Hlc hlc = d.clock.tick(physical(d));
    c.hlc = hlc;
    std::set<std::pair<EntityId, std::string>> used;
    const std::size_t n = 1 + rng.below(3);
    for (std::size_t i = 0; i < n; ++i) {
      const EntityId e = entities[rng.below(entities.size())];
      const std::string f = fields[rng.below(fields.size())];
      if (!used.emplace(e, f).second) continue;
      std::vector<VersionId> sup;
      if (const Register* reg = d.replica.field(e, f)) {
        sup = reg->live_ids();
        // Now and then a writer that saw only part of the live set.
        if (sup.size() > 1 && rng.chance(20)) sup.resize(1);
      }
      c.versions.push_back(Version{e, "kasus", f, "v" + std::to_string(rng.below(1000)), hlc, std::move(sup)});
    }
    // Every generated commit is a valid one on the wire.
    auto decoded = decode_commit_body(encode_commit_body(c));
    ASSERT_TRUE(decoded) << decoded.error().message;
    ASSERT_EQ(*decoded, c);
    d.replica.apply(c);
    log.push_back(std::move(c));
  }

  void run(std::size_t steps) {
    for (std::size_t s = 0; s < steps; ++s) {
      now += rng.below(50);
      Device& d = devices[rng.below(devices.size())];
      if (log.empty() || rng.chance(40)) {
        write(d);
      } else {
        // Partial gossip: a few random commits, possibly ones already seen.
        const std::size_t k = 1 + rng.below(4);
        for (std::size_t i = 0; i < k; ++i) deliver(d, log[rng.below(log.size())]);
      }
    }
  }

  void deliver_everything() {
    for (auto& d : devices) {
      std::vector<std::size_t> order(log.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      for (std::size_t i = 0; i < log.size() / 4; ++i) order.push_back(rng.below(log.size()));  // duplicates
      rng.shuffle(order);
      for (auto i : order) deliver(d, log[i]);
    }
  }
};

// The rule computed directly from the set of versions: live = not named by any
// supersedes of the same field; shown = greatest (hlc, device, seq, index).
std::map<std::pair<EntityId, std::string>, std::vector<VersionId>> expected_live(const std::vector<Commit>& log) {
  std::map<std::pair<EntityId, std::string>, std::set<VersionId>> all, superseded;
  for (const auto& c : log) {
    for (std::uint32_t i = 0; i < c.versions.size(); ++i) {
      const auto key = std::make_pair(c.versions[i].entity, c.versions[i].field);
      all[key].insert(c.version_id(i));
      for (const auto& s : c.versions[i].supersedes) superseded[key].insert(s);
    }
  }
  std::map<std::pair<EntityId, std::string>, std::vector<VersionId>> out;
  for (const auto& [key, ids] : all) {
    auto& live = out[key];
    for (const auto& id : ids) {
      if (!superseded[key].contains(id)) live.push_back(id);
    }
  }
  return out;
}

TEST(MergeProperty, AllReplicasConvergeWhateverTheDeliveryOrder) {
  std::size_t conflicts_seen = 0;  // the workload must actually produce conflicts
  std::size_t superseded_seen = 0;
  for (const std::uint64_t seed : test::property_seeds()) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rng pick(seed * 7919);
    Simulation sim(seed, 2 + pick.below(4));
    sim.run(100 + pick.below(200));
    sim.deliver_everything();

    Replica in_order;
    for (const auto& c : sim.log) in_order.apply(c);
    Replica reversed;
    for (auto it = sim.log.rbegin(); it != sim.log.rend(); ++it) reversed.apply(*it);
    const std::string state = in_order.canonical_state();
    EXPECT_EQ(reversed.canonical_state(), state);
    for (const auto& d : sim.devices) {
      EXPECT_EQ(d.replica.canonical_state(), state) << "device " << d.id.hex();
      EXPECT_EQ(d.replica.conflict_count(), in_order.conflict_count());
    }

    const auto live = expected_live(sim.log);
    for (const auto& [key, ids] : live) {
      const Register* reg = in_order.field(key.first, key.second);
      ASSERT_NE(reg, nullptr);
      EXPECT_EQ(reg->live_ids(), ids);
      EXPECT_EQ(reg->in_conflict(), ids.size() > 1);
      superseded_seen += reg->size() - ids.size();
    }
    conflicts_seen += in_order.conflict_count();
  }
  EXPECT_GT(conflicts_seen, 0u);
  EXPECT_GT(superseded_seen, 0u);
}

TEST(MergeProperty, ResolvingEveryConflictClearsItEverywhere) {
  for (const std::uint64_t seed : test::property_seeds()) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Simulation sim(seed, 4);
    // Concurrent writes only: everyone writes before anyone hears of anyone.
    for (int round = 0; round < 3; ++round) {
      for (auto& d : sim.devices) sim.write(d);
    }
    sim.deliver_everything();
    const Replica& view = sim.devices[0].replica;
    const std::size_t conflicts = view.conflict_count();

    // Device 0 resolves every conflict in one commit.
    Device& resolver = sim.devices[0];
    Commit c;
    c.device = resolver.id;
    c.seq = ++resolver.seq;
    c.scope = sim.entities[0];
    c.scope_type = "kasus";
    c.hlc = resolver.clock.tick(sim.physical(resolver));
    for (const auto& [entity, fields] : view.fields()) {
      for (const auto& [name, reg] : fields) {
        if (!reg.in_conflict()) continue;
        c.versions.push_back(Version{entity, "kasus", name, "resolved", c.hlc, reg.live_ids()});
      }
    }
    EXPECT_EQ(c.versions.size(), conflicts);
    if (c.versions.empty()) continue;
    ASSERT_TRUE(decode_commit_body(encode_commit_body(c)));
    sim.log.push_back(c);
    sim.deliver_everything();
    for (const auto& d : sim.devices) {
      EXPECT_EQ(d.replica.conflict_count(), 0u);
      EXPECT_EQ(d.replica.canonical_state(), view.canonical_state());
    }
    for (const auto& v : c.versions) EXPECT_EQ(view.field(v.entity, v.field)->shown()->value, "resolved");
  }
}

TEST(MergeProperty, SequentialWritersNeverConflict) {
  for (const std::uint64_t seed : test::property_seeds()) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Simulation sim(seed, 3);
    // Each write is delivered everywhere before the next: no concurrency, no conflict.
    for (int i = 0; i < 60; ++i) {
      Device& d = sim.devices[sim.rng.below(sim.devices.size())];
      sim.write(d);
      for (auto& other : sim.devices) sim.deliver(other, sim.log.back());
    }
    for (const auto& d : sim.devices) EXPECT_EQ(d.replica.conflict_count(), 0u);
  }
}

}  // namespace
}  // namespace teduh::sync
