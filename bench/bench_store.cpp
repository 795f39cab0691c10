// Benchmark: writing 100,000 case-field versions, in commits of 15 versions (a new case
// with its victim and first service), three ways in one run:
//   1. through the office store on the encrypting VFS (what an office does),
//   2. through the same code on SQLite's plain VFS (the cost of encryption),
//   3. bare SQLite inserts of the same values in one transaction (the local limit).
// Plus the store with all commits in one transaction (how a sync applies a pulled batch).
// Prints seconds and ratios; machines here are shared, so only the ratios mean much.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "case_workload.hpp"
#include "teduh/client/store.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/enrollment.hpp"

namespace {

using namespace teduh;
using Clock = std::chrono::steady_clock;

using bench::kVersionsPerCommit;

struct Workload {
  std::vector<std::vector<client::FieldWrite>> commits;
  std::vector<sync::EntityId> scopes;
};

// Deterministic generated values (no real names): a case with its victim and service.
Workload make_workload(int total_versions) {
  Workload w;
  int n_commits = total_versions / kVersionsPerCommit;
  for (int i = 0; i < n_commits; ++i) {
    sync::EntityId scope;
    w.commits.push_back(bench::case_commit(i, scope));
    w.scopes.push_back(scope);
  }
  return w;
}


using bench::Stopwatch;
using bench::Timing;

Timing run_store(const std::filesystem::path& path, bool plain, const Workload& w,
                 bool one_transaction) {
  client::Store store = bench::make_store(path, plain);
  Stopwatch t0;
  auto body = [&]() -> client::Result<bool> {
    for (std::size_t i = 0; i < w.commits.size(); ++i) {
      TEDUH_TRY(store.write(w.scopes[i], "kasus", w.commits[i]));
    }
    return true;
  };
  auto r = one_transaction ? store.in_transaction(body) : body();
  if (!r) {
    std::fprintf(stderr, "bench: %s\n", r.error().message.c_str());
    std::exit(1);
  }
  return t0.stop();
}

Timing run_bare(const std::filesystem::path& path, const Workload& w) {
  return bench::time_bare_inserts(
      path, "CREATE TABLE v(entity BLOB, field TEXT, value TEXT, hlc INTEGER)",
      "INSERT INTO v VALUES(?1, ?2, ?3, ?4)", [&](schema::Statement& st) {
        std::int64_t hlc = 0;
        for (const auto& c : w.commits) {
          for (const auto& f : c) {
            st.reset();
            st.bind_blob(1, f.entity.bytes).bind(2, f.field).bind(3, f.value).bind(4, ++hlc);
            (void)st.run();
          }
        }
      });
}

}  // namespace

int main(int argc, char** argv) {
  crypto::init();
  int total = argc > 1 ? std::atoi(argv[1]) : 100000;
  auto dir = std::filesystem::temp_directory_path() / ("teduh-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Workload w = make_workload(total);
  int versions = static_cast<int>(w.commits.size()) * kVersionsPerCommit;
  std::printf("bench_store: %d versions in %zu commits of %d\n", versions, w.commits.size(),
              kVersionsPerCommit);

  Timing bare = run_bare(dir / "bare.db", w);
  Timing plain = run_store(dir / "plain.db", true, w, false);
  Timing encrypted = run_store(dir / "enc.db", false, w, false);
  Timing encrypted_batch = run_store(dir / "enc-batch.db", false, w, true);

  auto row = [&](const char* what, Timing t) {
    std::printf("%-44s wall %8.3f s  cpu %8.3f s  %9.0f versions/cpu-s\n", what, t.wall, t.cpu,
                versions / t.cpu);
  };
  row("bare SQLite inserts, one transaction", bare);
  row("store, plain VFS, a transaction per commit", plain);
  row("store, encrypted, a transaction per commit", encrypted);
  row("store, encrypted, one transaction", encrypted_batch);
  std::printf("ratios of CPU time:\n");
  std::printf("cost of encryption (encrypted / plain store):   %.2fx  (target <= 1.5x)\n",
              encrypted.cpu / plain.cpu);
  std::printf("store vs local limit (encrypted / bare SQLite): %.2fx  (target <= 5x)\n",
              encrypted.cpu / bare.cpu);
  std::printf("batched store vs local limit:                   %.2fx\n",
              encrypted_batch.cpu / bare.cpu);
  std::filesystem::remove_all(dir);
  return 0;
}
