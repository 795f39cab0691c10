// Verifying every page of a store (crypto/FORMATS.md section 10).
#include "teduh/crypto/verify.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <system_error>
#include <thread>
#include <tuple>

#include "page_cipher.hpp"
#include "raw_file.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"

namespace teduh::crypto {

namespace {

namespace fs = std::filesystem;
using detail::kPage;

constexpr int kReadAttempts = 3;  // a page being written at the instant it is read is read again
constexpr auto kRetryPause = std::chrono::milliseconds(30);

using Fd = detail::RawFile;

std::uint64_t size_of(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

fs::path wal_path(const fs::path& db_path) {
  fs::path p = db_path;
  p += "-wal";
  return p;
}

// Opens page pgno of the main file, reading it again if it fails (a checkpoint may be
// writing it at this instant). Returns whether it authenticated, and its layout version.
bool main_page_opens(const Fd& db, const detail::StoreKeys& keys, std::uint32_t pgno, std::uint8_t* stored,
                     std::uint8_t* plain, std::uint8_t* version) {
  detail::PagePlace place;
  place.kind = detail::FileKind::db;
  place.pgno = pgno;
  place.offset = std::uint64_t{pgno - 1} * kPage;
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(kRetryPause);
    if (db.read_at(stored, kPage, place.offset) == kPage && detail::open_page(keys, place, stored, plain, version)) {
      return true;
    }
  }
  return false;
}

void run_integrity_check(const fs::path& db_path, const SecretBytes& key, StoreCheck& report) {
  auto db = open_encrypted(db_path, key, OpenMode::existing);
  if (!db) {
    report.sqlite_failure = db.error().code == Errc::damaged
                                ? "log WAL rusak: ada transaksi tersimpan yang tidak lolos pemeriksaan"
                                : "penyimpanan tidak dapat dibuka (" + db.error().message + ")";
    return;
  }
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db->get(), "PRAGMA integrity_check", -1, &st, nullptr);
  std::vector<std::string> lines;
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    lines.emplace_back(t != nullptr ? reinterpret_cast<const char*>(t) : "");
    rc = SQLITE_OK;
  }
  const int ext = sqlite3_extended_errcode(db->get());
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    report.sqlite_failure = is_damage(ext) ? "ada halaman yang tidak lolos pemeriksaan"
                                           : std::string("SQLite: ") + sqlite3_errstr(ext);
    return;
  }
  report.integrity = std::move(lines);
}

}  // namespace

bool StoreCheck::intact() const {
  return faults.empty() && cut_main_bytes == 0 && sqlite_failure.empty() && integrity.size() == 1 &&
         integrity.front() == "ok";
}

std::vector<std::string> StoreCheck::verdict() const {
  std::vector<std::string> out;
  const std::string counted = std::to_string(pages_checked()) + " halaman diperiksa (" + std::to_string(main_pages) +
                              " di berkas utama, " + std::to_string(wal_frames) + " di log WAL)";
  if (intact()) {
    out.push_back("Penyimpanan utuh: " + counted + "; pemeriksaan integritas SQLite: ok.");
  } else {
    for (const PageFault& f : faults) {
      if (f.file == PageFault::File::main) {
        out.push_back("RUSAK: halaman " + std::to_string(f.page) +
                      " tidak lolos pemeriksaan (berkas utama): isinya diubah atau rusak.");
      } else {
        out.push_back("RUSAK: halaman " + std::to_string(f.page) + " tidak lolos pemeriksaan (log WAL, bingkai " +
                      std::to_string(f.frame) + "), padahal transaksi sesudahnya sudah tersimpan.");
      }
    }
    if (cut_main_bytes != 0) {
      out.push_back("RUSAK: berkas utama terpotong: halaman terakhirnya hanya " + std::to_string(cut_main_bytes) +
                    " dari " + std::to_string(kPage) + " bita.");
    }
    if (!sqlite_failure.empty()) {
      out.push_back("RUSAK: pemeriksaan integritas SQLite tidak selesai: " + sqlite_failure + ".");
    } else if (!(integrity.size() == 1 && integrity.front() == "ok")) {
      for (const std::string& line : integrity) out.push_back("RUSAK: pemeriksaan integritas SQLite: " + line);
    }
    const std::uint64_t examined = pages_checked() + faults.size();
    const std::string what = faults.empty()
                                 ? std::to_string(examined) + " halaman diperiksa dan lolos, tetapi SQLite menemukan masalah"
                                 : std::to_string(faults.size()) + " dari " + std::to_string(examined) +
                                       " halaman yang diperiksa tidak lolos pemeriksaan";
    out.push_back("Penyimpanan RUSAK: " + what +
                  ". Data yang rusak tidak pernah ditampilkan sebagai data. Jangan hapus atau timpa berkasnya; "
                  "pulihkan dari cadangan.");
  }
  for (const std::string& n : notes) out.push_back("Catatan: " + n);
  return out;
}

[[nodiscard]] Result<StoreCheck> verify_store(const fs::path& db_path, const SecretBytes& store_key) {
  init();
  if (store_key.size() != kStoreKeySize) return fail(Errc::bad_input, "a store key is 32 bytes");
  const std::uint64_t db_size = size_of(db_path);
  if (db_size == 0) return fail(Errc::not_a_store, "there is no store at this path");
  Fd db(db_path);
  if (db.fd < 0) return fail(Errc::io, "cannot read the store: " + std::generic_category().message(errno));

  StoreCheck report;
  detail::StoreKeys keys;
  keys.key = store_key.clone();
  std::vector<std::uint8_t> stored(kPage);
  std::vector<std::uint8_t> plain(kPage);
  if (db.read_at(stored.data(), kPage, 0) < kPage || stored[16] != (kPageSize >> 8) ||
      stored[17] != (kPageSize & 0xff) || stored[20] != kReservedBytes) {
    return fail(Errc::not_a_store, "this file is not a Teduh store");
  }
  std::memcpy(keys.db_id.data(), stored.data(), detail::kDbIdSize);

  // Page 1 first: its layout says which WAL frames are valid (FORMATS.md section 4).
  std::uint8_t version = 0;
  const bool page1_ok = main_page_opens(db, keys, 1, stored.data(), plain.data(), &version);
  // A damaged page 1 says nothing about the format: accept both layouts in the WAL then.
  keys.accept_format1_wal = !page1_ok || version == detail::kAdVersion1;

  // The WAL: the frames SQLite's recovery keeps, and whether committed data is damaged.
  std::set<std::uint32_t> in_wal;  // pages whose newer copy the WAL holds, committed
  const fs::path wal = wal_path(db_path);
  if (const std::uint64_t wal_size = size_of(wal); wal_size > 0) {
    Fd wal_fd(wal);
    if (wal_fd.fd < 0) return fail(Errc::io, "cannot read the store's log: " + std::generic_category().message(errno));
    auto reader = [&wal_fd](std::uint8_t* buf, std::size_t n, std::uint64_t off) { return wal_fd.read_at(buf, n, off); };
    std::vector<std::uint32_t> pgnos;
    detail::WalWalk walk;
    for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(kRetryPause);
      pgnos.clear();
      walk = detail::walk_wal(keys, size_of(wal), reader, 0, &pgnos);
      if (walk.later_commit == 0) break;
    }
    report.wal_frames = walk.chain;
    for (std::uint32_t i = 0; i < walk.last_commit; ++i) in_wal.insert(pgnos[i]);
    const std::uint32_t stop_frame = walk.chain + 1;
    if (walk.later_commit != 0) {
      report.faults.push_back({PageFault::File::wal, walk.stop_pgno, stop_frame});
    } else if (walk.stop == detail::WalWalk::Stop::not_authentic) {
      report.notes.push_back("bingkai " + std::to_string(stop_frame) + " (halaman " + std::to_string(walk.stop_pgno) +
                             ") di ujung log WAL tidak lolos pemeriksaan dan tidak diikuti transaksi yang "
                             "tersimpan: itu sisa tulisan yang terputus (misalnya saat komputer mati mendadak), "
                             "dan diabaikan seperti oleh SQLite.");
    }
  }

  // Every page of the main file; the pages that fail are read again (twice, together) in
  // case a checkpoint was writing them at that instant.
  const std::uint64_t whole_pages = db_size / kPage;
  std::vector<std::uint32_t> failing;
  if (page1_ok) {
    ++report.main_pages;
  } else {
    failing.push_back(1);
  }
  auto opens = [&](std::uint32_t pgno) {
    detail::PagePlace place;
    place.kind = detail::FileKind::db;
    place.pgno = pgno;
    place.offset = std::uint64_t{pgno - 1} * kPage;
    return db.read_at(stored.data(), kPage, place.offset) == kPage &&
           detail::open_page(keys, place, stored.data(), plain.data());
  };
  for (std::uint64_t n = 2; n <= whole_pages; ++n) {
    if (opens(static_cast<std::uint32_t>(n))) {
      ++report.main_pages;
    } else {
      failing.push_back(static_cast<std::uint32_t>(n));
    }
  }
  if (report.pages_checked() == 0) {
    return fail(Errc::not_a_store, "this key does not belong to this store");
  }
  for (int attempt = 1; attempt < kReadAttempts && !failing.empty(); ++attempt) {
    std::this_thread::sleep_for(kRetryPause);
    std::vector<std::uint32_t> still;
    for (std::uint32_t pgno : failing) {
      if (opens(pgno)) {
        ++report.main_pages;
      } else {
        still.push_back(pgno);
      }
    }
    failing = std::move(still);
  }
  // A page that fails while the WAL holds a committed newer copy is not needed: the next
  // checkpoint overwrites it (as after a checkpoint's write torn by a power loss).
  std::uint64_t superseded = 0;
  for (std::uint32_t pgno : failing) {
    if (in_wal.count(pgno) != 0) {
      ++superseded;
    } else {
      report.faults.push_back({PageFault::File::main, pgno, 0});
    }
  }
  report.cut_main_bytes = db_size % kPage;
  if (superseded != 0) {
    report.notes.push_back(std::to_string(superseded) +
                           " halaman lama di berkas utama tidak lolos pemeriksaan, tetapi salinan terbarunya ada "
                           "di log WAL dan utuh; checkpoint berikutnya menimpanya.");
  }
  // Sorted by file, then page, so the first line names the first damaged page.
  std::sort(report.faults.begin(), report.faults.end(), [](const PageFault& a, const PageFault& b) {
    return std::tie(a.file, a.page, a.frame) < std::tie(b.file, b.page, b.frame);
  });

  run_integrity_check(db_path, store_key, report);
  return report;
}

[[nodiscard]] Result<StoreCheck> verify_store(const fs::path& db_path, std::string_view passphrase) {
  auto key = TEDUH_TRY(unlock_store_key(db_path, passphrase));
  return verify_store(db_path, key);
}

}  // namespace teduh::crypto
