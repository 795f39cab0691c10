// Benchmark: importing a generated paper register (Buku Register) of 10,000 rows
// (`teduh import --csv`, client/IMPORT.md) into a fresh encrypted office store, against a
// baseline measured in the same run: plain SQLite inserts of the same rows, one row per
// insert, in one transaction, on SQLite's plain VFS (what storing the bare rows costs).
// Usage: bench_import [ROWS]. Prints rows/s both ways and the ratio; wall and CPU seconds.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "case_workload.hpp"
#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"
#include "teduh/client/import.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/schema/sqlite.hpp"

namespace {

using namespace teduh;
using Clock = std::chrono::steady_clock;

using bench::Stopwatch;
using bench::Timing;

const char* const kHeader[] = {
    "no_register",   "tanggal_pengaduan", "saluran",       "bentuk_kekerasan", "tempat_kejadian",
    "nama_korban",   "nik_korban",        "jenis_kelamin", "tanggal_lahir",    "hubungan_terlapor",
    "nama_terlapor", "layanan",           "ringkasan"};

// Generated rows (made-up names and NIKs), seeded so that every run imports the same file.
std::vector<std::vector<std::string>> make_rows(int n) {
  std::mt19937 rng(42);
  const char* channels[] = {"telepon", "whatsapp", "datang_langsung", "media_sosial"};
  const char* forms[] = {"fisik", "psikis;fisik", "seksual", "penelantaran"};
  const char* places[] = {"rumah_tangga", "sekolah", "fasilitas_umum", ""};
  const char* relations[] = {"orang_tua", "pacar", "tetangga", ""};
  const char* services[] = {"konseling", "pendampingan_hukum;kesehatan_visum", ""};
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < n; ++i) {
    const bool woman = rng() % 4 != 0;
    const int year = 1960 + static_cast<int>(rng() % 60), month = 1 + static_cast<int>(rng() % 12),
              day = 1 + static_cast<int>(rng() % 28);
    char received[32], birth[16], nik[24];
    std::snprintf(received, sizeof received, "2026-%02d-%02d 09:30", 1 + i % 9, 1 + i % 28);
    std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", year, month, day);
    std::snprintf(nik, sizeof nik, "3275%02d%02d%02d%02d%04d", static_cast<int>(rng() % 40 + 1),
                  day + (woman ? 40 : 0), month, year % 100, i % 9999 + 1);
    const std::string relation = relations[rng() % 4];
    rows.push_back({std::to_string(i + 1), received, channels[rng() % 4], forms[rng() % 4],
                    places[rng() % 4], "Korban Bangku " + std::to_string(i), nik, woman ? "P" : "L",
                    birth, relation, relation.empty() ? "" : "Terlapor Bangku " + std::to_string(i),
                    services[rng() % 3], "Ringkasan, dengan koma"});
  }
  return rows;
}

std::string csv_of(const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (std::size_t i = 0; i < std::size(kHeader); ++i)
    out += (i ? "," : "") + std::string(kHeader[i]);
  out += "\r\n";
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      const bool quote = r[i].find(',') != std::string::npos;
      out += (i ? "," : "") + (quote ? "\"" + r[i] + "\"" : r[i]);
    }
    out += "\r\n";
  }
  return out;
}

Timing run_baseline(const std::filesystem::path& path,
                    const std::vector<std::vector<std::string>>& rows) {
  std::string create = "CREATE TABLE register(";
  std::string insert = "INSERT INTO register VALUES(";
  for (std::size_t i = 0; i < std::size(kHeader); ++i) {
    create += (i ? ", " : "") + std::string(kHeader[i]) + " TEXT";
    insert += (i ? ", ?" : "?") + std::to_string(i + 1);
  }
  return bench::time_bare_inserts(path, create + ")", insert + ")", [&](schema::Statement& st) {
    for (const auto& r : rows) {
      st.reset();
      for (std::size_t i = 0; i < r.size(); ++i) st.bind(static_cast<int>(i + 1), r[i]);
      (void)st.run();
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  crypto::init();
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  teduh::testing::TempDir dir;
  teduh::testing::FakeServerKey server;
  const auto rows = make_rows(n);
  const std::string csv = csv_of(rows);

  std::optional<client::Store> store;
  {
    auto made = teduh::testing::make_store(dir / "office.db", server, "BENCH-DP3A", false, "bench",
                                           "pendamping");
    if (!made) {
      std::fprintf(stderr, "bench_import: %s\n", made.error().message.c_str());
      return 1;
    }
    store.emplace(std::move(*made));
  }
  client::Workflow wf(*store);
  if (const char* kb = std::getenv("TEDUH_BENCH_CACHE_KB"))  // experiments (BENCHMARKS.md)
    (void)schema::exec(store->db(), "PRAGMA cache_size=-" + std::to_string(std::atol(kb)));
  Stopwatch t0;
  auto summary = client::import_register(*store, wf, csv);
  const Timing imported = t0.stop();
  if (!summary || summary->cases != rows.size()) {
    std::fprintf(stderr, "bench_import: %s\n",
                 summary ? "wrong count" : summary.error().message.c_str());
    return 1;
  }
  // What an office waits for afterwards: its report and its deadlines over those cases.
  Stopwatch t1;
  auto report = wf.report();
  const Timing reported = t1.stop();
  Stopwatch t2;
  auto due = wf.due(sync::system_now_ms());
  const Timing listed = t2.stop();
  if (!report || !due) {
    std::fprintf(stderr, "bench_import: report or due failed\n");
    return 1;
  }
  std::printf(
      "bench_import: teduh report over %d cases %.2f s wall; teduh due %.2f s wall (%zu open "
      "steps)\n",
      n, reported.wall, listed.wall, (*due)["due"].size());
  // A transaction this large spills out of the page cache into the WAL before COMMIT:
  // check that every case is there after closing and reopening the store.
  store.reset();
  {
    auto reopened = client::Store::open(dir / "office.db", teduh::testing::kTestPassphrase);
    std::size_t kept = 0;
    if (reopened) {
      auto cases = reopened->entities("kasus");
      kept = cases ? cases->size() : 0;
    }
    if (kept != rows.size()) {
      std::fprintf(
          stderr,
          "bench_import: WARNING: the store does not hold every imported case after reopening\n");
      return 1;
    }
    std::printf("bench_import: reopened: %zu cases kept\n", kept);
  }
  std::error_code ignored;
  const auto db_bytes = std::filesystem::file_size(dir / "office.db", ignored);
  const auto wal_bytes = std::filesystem::file_size(dir.path() / "office.db-wal", ignored);
  const Timing bare = run_baseline(dir / "bare.sqlite", rows);
  std::printf("bench_import: store after import %.1f MB, WAL %.1f MB\n", db_bytes / 1e6,
              wal_bytes == static_cast<std::uintmax_t>(-1) ? 0.0 : wal_bytes / 1e6);
  std::printf("bench_import: %d register rows (%zu cases, %zu persons, %zu services)\n", n,
              summary->cases, summary->persons, summary->services);
  std::printf(
      "  teduh import (encrypted store, via Workflow): %.2f s wall, %.2f s CPU, %.0f rows/s\n",
      imported.wall, imported.cpu, n / imported.wall);
  std::printf(
      "  baseline plain SQLite inserts, one transaction: %.3f s wall, %.3f s CPU, %.0f rows/s\n",
      bare.wall, bare.cpu, n / bare.wall);
  std::printf("  ratio (baseline rows/s / import rows/s): %.1f\n",
              bare.wall > 0 ? imported.wall / bare.wall : 0.0);
  return 0;
}
