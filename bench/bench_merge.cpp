// Merge benchmark: applying N versions to an in-memory Replica (sync-protocol/merge.hpp),
// against a baseline of N last-writer-wins assignments into a std::map.
//
// Workload: commits of 10 versions, each writing one field (of 8) of an entity drawn from
// N/8 entities; every write supersedes the version it replaces, as a writer that saw the
// live value does. Commits are generated in chunks outside the timed region, so the
// figures are the cost of the merge alone. Usage: bench_merge [max_versions]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "teduh/sync/merge.hpp"

namespace {

using teduh::sync::Commit;
using teduh::sync::EntityId;
using teduh::sync::Replica;
using teduh::sync::Version;
using teduh::sync::VersionId;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kVersionsPerCommit = 10;
constexpr std::size_t kChunkCommits = 10'000;
const char* const kFields[] = {"status", "summary", "place", "channel", "forms", "owner", "worker", "kecamatan"};

class Workload {
 public:
  explicit Workload(std::size_t versions) : entities_(versions / 8 + 1), rng_(12345) {
    device_.bytes.fill(0x11);
  }

  // The next chunk of at most kChunkCommits commits; empty when all versions are out.
  std::vector<Commit> next_chunk(std::size_t remaining_versions) {
    std::vector<Commit> out;
    while (remaining_versions > 0 && out.size() < kChunkCommits) {
      Commit c;
      c.device = device_;
      c.seq = ++seq_;
      c.scope_type = "kasus";
      c.hlc = teduh::sync::make_hlc(1767225600000 + seq_, 0);
      const std::size_t n = std::min(kVersionsPerCommit, remaining_versions);
      for (std::size_t i = 0; i < n; ++i) {
        EntityId e;
        const std::uint64_t k = rng_() % entities_;
        for (int b = 0; b < 8; ++b) e.bytes[b] = static_cast<std::uint8_t>(k >> (8 * b));
        e.bytes[15] = 1;
        const std::string field = kFields[rng_() % 8];
        std::vector<VersionId> sup;
        auto [it, fresh] = last_.try_emplace(std::make_pair(k, field), VersionId{});
        if (!fresh) sup.push_back(it->second);
        it->second = c.version_id(static_cast<std::uint32_t>(i));
        c.scope = e;
        c.versions.push_back(Version{e, "kasus", field, "nilai-" + std::to_string(rng_() % 100000), c.hlc, sup});
      }
      remaining_versions -= n;
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  struct KeyHash {
    std::size_t operator()(const std::pair<std::uint64_t, std::string>& k) const {
      return std::hash<std::uint64_t>()(k.first) ^ std::hash<std::string>()(k.second);
    }
  };
  std::uint64_t entities_;
  std::mt19937_64 rng_;
  teduh::sync::DeviceId device_;
  std::uint64_t seq_ = 0;
  std::unordered_map<std::pair<std::uint64_t, std::string>, VersionId, KeyHash> last_;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Figures {
  double replica_s = 0;
  double map_s = 0;
  std::size_t conflicts = 0;
};

Figures run(std::size_t n) {
  Figures f;
  {
    Workload w(n);
    Replica replica;
    std::size_t left = n;
    while (left > 0) {
      auto chunk = w.next_chunk(left);
      const auto t0 = Clock::now();
      for (const auto& c : chunk) replica.apply(c);
      f.replica_s += seconds_since(t0);
      for (const auto& c : chunk) left -= c.versions.size();
    }
    f.conflicts = replica.conflict_count();
  }
  {
    Workload w(n);
    std::map<std::pair<EntityId, std::string>, std::string> baseline;
    std::size_t left = n;
    while (left > 0) {
      auto chunk = w.next_chunk(left);
      const auto t0 = Clock::now();
      for (const auto& c : chunk) {
        for (const auto& v : c.versions) baseline[{v.entity, v.field}] = v.value;
      }
      f.map_s += seconds_since(t0);
      for (const auto& c : chunk) left -= c.versions.size();
    }
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t max_n = 1'000'000;
  if (argc > 1) max_n = std::strtoull(argv[1], nullptr, 10);
  std::printf("%12s %12s %14s %12s %8s %10s\n", "versions", "replica_ms", "versions/s", "std_map_ms", "ratio",
              "conflicts");
  for (std::size_t n : {std::size_t{10'000}, std::size_t{100'000}, std::size_t{1'000'000}}) {
    if (n > max_n) break;
    const Figures f = run(n);
    std::printf("%12zu %12.1f %14.0f %12.1f %8.2f %10zu\n", n, f.replica_s * 1e3, n / f.replica_s, f.map_s * 1e3,
                f.replica_s / f.map_s, f.conflicts);
  }
  std::printf("ratio = replica time / std::map last-writer-wins time for the same versions\n");
  return 0;
}
