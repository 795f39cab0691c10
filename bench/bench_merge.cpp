// Merge benchmark: applying N versions (10,000, 100,000, 1,000,000)
//   1. to an in-memory Replica (sync-protocol/merge.hpp), against a baseline of N
//      last-writer-wins assignments into a std::map;
//   2. into an encrypted office store, through Store::apply_remote in transactions of
//      1,000 commits (what a pull does with a PullReply), against a baseline of N bare
//      SQLite inserts of the same versions in transactions of the same size.
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

#include "case_workload.hpp"
#include "support/temp_dir.hpp"
#include "teduh/client/store.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/enrollment.hpp"
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

constexpr std::size_t kCommitsPerTransaction = 1000;


struct StoreFigures {
  double store_s = 0;
  double bare_s = 0;
};

// The same versions into an encrypted store (signed outside the timed region) and, as the
// local limit, bare SQLite inserts in transactions of the same number of commits.
StoreFigures run_store(std::size_t n, const std::filesystem::path& dir) {
  using namespace teduh;
  StoreFigures f;
  const crypto::SigningKey device_key = crypto::SigningKey::generate();
  {
    client::Store store = bench::make_store(dir / ("merge-" + std::to_string(n) + ".db"));
    Workload w(n);
    std::size_t left = n;
    std::int64_t server_seq = 0;
    while (left > 0) {
      auto chunk = w.next_chunk(left);
      for (const auto& c : chunk) left -= c.versions.size();
      for (std::size_t start = 0; start < chunk.size(); start += kCommitsPerTransaction) {
        const std::size_t end = std::min(chunk.size(), start + kCommitsPerTransaction);
        std::vector<sync::SignedCommit> signed_commits;
        for (std::size_t i = start; i < end; ++i) signed_commits.push_back(sync::sign_commit(chunk[i], device_key));
        const auto t0 = Clock::now();
        auto r = store.in_transaction([&]() -> client::Result<bool> {
          for (std::size_t i = start; i < end; ++i) {
            TEDUH_TRY(store.apply_remote(signed_commits[i - start], chunk[i], ++server_seq));
          }
          return true;
        });
        f.store_s += seconds_since(t0);
        if (!r) {
          std::fprintf(stderr, "bench_merge: %s\n", r.error().message.c_str());
          std::exit(1);
        }
      }
    }
  }
  {
    auto db = crypto::open_plain(dir / ("bare-" + std::to_string(n) + ".db"), crypto::OpenMode::create);
    if (!db) std::exit(1);
    (void)schema::exec(db->get(), "CREATE TABLE v(entity BLOB, field TEXT, value TEXT, hlc INTEGER)");
    auto st = schema::Statement::prepare(db->get(), "INSERT INTO v VALUES(?1, ?2, ?3, ?4)");
    Workload w(n);
    std::size_t left = n;
    while (left > 0) {
      auto chunk = w.next_chunk(left);
      for (const auto& c : chunk) left -= c.versions.size();
      const auto t0 = Clock::now();
      for (std::size_t start = 0; start < chunk.size(); start += kCommitsPerTransaction) {
        (void)schema::exec(db->get(), "BEGIN");
        for (std::size_t i = start; i < std::min(chunk.size(), start + kCommitsPerTransaction); ++i) {
          for (const auto& v : chunk[i].versions) {
            st->reset();
            st->bind_blob(1, v.entity.bytes).bind(2, v.field).bind(3, v.value).bind(4, static_cast<std::int64_t>(v.hlc));
            (void)st->run();
          }
        }
        (void)schema::exec(db->get(), "COMMIT");
      }
      f.bare_s += seconds_since(t0);
    }
  }
  return f;
}

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
  std::printf("ratio = replica time / std::map last-writer-wins time for the same versions\n\n");

  // Into a store: the encrypting VFS, indexes, the superseded table, one transaction per
  // 1,000 commits. Skip with --memory-only.
  if (argc > 2 && std::string(argv[2]) == "--memory-only") return 0;
  teduh::crypto::init();
  teduh::testing::TempDir dir;
  std::printf("%12s %12s %14s %12s %8s\n", "versions", "store_ms", "versions/s", "bare_ms", "ratio");
  for (std::size_t n : {std::size_t{10'000}, std::size_t{100'000}, std::size_t{1'000'000}}) {
    if (n > max_n) break;
    const StoreFigures f = run_store(n, dir.path());
    std::printf("%12zu %12.1f %14.0f %12.1f %8.2f\n", n, f.store_s * 1e3, n / f.store_s, f.bare_s * 1e3,
                f.store_s / f.bare_s);
    std::fflush(stdout);
  }
  std::printf("ratio = encrypted store time (Store::apply_remote, 1,000 commits per transaction) / bare SQLite "
              "inserts of the same versions\n");
  return 0;
}
