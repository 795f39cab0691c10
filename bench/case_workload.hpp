#pragma once
// The benchmarks' unit of work: one commit as `teduh case new` with a victim writes it,
// 15 versions over a case, its victim, the victim's role and the first service, with
// generated values and entity ids made as the workflow makes them (time-ordered,
// sync-protocol/PROTOCOL.md section 1).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "teduh/client/store.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/crypto/kdf.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/enrollment.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/ids.hpp"

namespace teduh::bench {

inline constexpr int kVersionsPerCommit = 15;

// The writes of commit number i; `scope` receives the case id (the commit's scope).
inline std::vector<client::FieldWrite> case_commit(int i, sync::EntityId& scope) {
  const std::uint64_t now = sync::system_now_ms();
  sync::EntityId kasus = sync::Id128::time_ordered(now), orang = sync::Id128::time_ordered(now),
                 peran = sync::Id128::time_ordered(now), layanan = sync::Id128::time_ordered(now);
  const std::string n = std::to_string(i);
  scope = kasus;
  return {
      {kasus, "kasus", "number", "BENCH/2026/0001-" + n},
      {kasus, "kasus", "received_at", "2026-03-01T08:00:00Z"},
      {kasus, "kasus", "channel", "telepon"},
      {kasus, "kasus", "forms", "fisik,psikis"},
      {kasus, "kasus", "status", "diterima"},
      {kasus, "kasus", "summary", "Ringkasan kasus uji nomor " + n},
      {kasus, "kasus", "owner_office", "BENCH"},
      {orang, "orang", "name", "Orang Uji " + n},
      {orang, "orang", "sex", "P"},
      {orang, "orang", "birth_date", "2001-02-03"},
      {peran, "peran", "case", kasus.hex()},
      {peran, "peran", "person", orang.hex()},
      {peran, "peran", "role", "korban"},
      {layanan, "layanan", "case", kasus.hex()},
      {layanan, "layanan", "kind", "pengaduan"},
  };
}

// A fresh office store (a dinas operator) for a benchmark, on the encrypting VFS or, with
// `plain`, on SQLite's own; exits on failure.
inline client::Store make_store(const std::filesystem::path& path, bool plain = false) {
  crypto::SigningKey server = crypto::SigningKey::generate();
  sync::EnrollmentGrant g;
  g.code_id = sync::Id128::random();
  g.office_code = "BENCH";
  g.office_kind = "dinas";
  g.user = "bench";
  g.role = "operator";
  g.expires_at_ms = sync::system_now_ms() + 86400000ull;
  client::Identity id;
  id.device = sync::Id128::random();
  id.signing_key = crypto::SigningKey::generate();
  id.enrollment_code = sync::issue_enrollment_code(g, server);
  id.grant = g;
  id.server_address = "127.0.0.1:1";
  id.server_key = server.public_key();
  client::StoreOptions o{path, "bench-passphrase", crypto::KdfParams::interactive(), plain};
  auto s = client::Store::create(o, std::move(id));
  if (!s) {
    std::fprintf(stderr, "bench: %s\n", s.error().message.c_str());
    std::exit(1);
  }
  return std::move(*s);
}

// CPU seconds (user + system) of this process: steadier than wall time on a shared
// machine, and what the benches' ratios use. Wall time is printed beside it.
inline double cpu_now() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Timing {
  double wall = 0;
  double cpu = 0;
};

// Wall and CPU time since construction.
struct Stopwatch {
  std::chrono::steady_clock::time_point wall0 = std::chrono::steady_clock::now();
  double cpu0 = cpu_now();
  Timing stop() const {
    return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count(), cpu_now() - cpu0};
  }
};

// The baseline the store benchmarks measure against: bare SQLite inserts into a plain file
// (no encryption, no merge), one statement a row, in one transaction. `create` makes the
// table; insert_rows(st) binds and runs the prepared `insert` once for every row. Timed
// from the BEGIN to the COMMIT; exits when the file cannot be made.
template <class InsertRows>
Timing time_bare_inserts(const std::filesystem::path& path, const std::string& create,
                         const std::string& insert, InsertRows insert_rows) {
  auto db = crypto::open_plain(path, crypto::OpenMode::create);
  if (!db) std::exit(1);
  (void)schema::exec(db->get(), create);
  Stopwatch t0;
  (void)schema::exec(db->get(), "BEGIN");
  auto st = schema::Statement::prepare(db->get(), insert);
  insert_rows(*st);
  (void)schema::exec(db->get(), "COMMIT");
  return t0.stop();
}

}  // namespace teduh::bench
