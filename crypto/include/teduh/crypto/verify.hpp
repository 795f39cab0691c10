#pragma once
// Verifying a whole encrypted store: `teduh check` and `teduhd check` (crypto/FORMATS.md
// section 8, "Checking a store"). One function, verify_store, for both programs (and for
// `teduhd serve` before it serves).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/crypto/error.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh::crypto {

// One page that failed verification.
struct PageFault {
  enum class File { main, wal };
  File file = File::main;
  std::uint32_t page = 0;   // the database page number (in the WAL: the page the frame holds)
  std::uint32_t frame = 0;  // WAL only: the frame, counted from 1
};

// What verify_store found. Damage is reported here, never as an error.
struct StoreCheck {
  std::uint64_t main_pages = 0;  // pages of the main file that authenticated
  std::uint64_t wal_frames = 0;  // frames of the WAL's valid chain (what SQLite reads) that authenticated
  std::vector<PageFault> faults;  // pages that failed authentication and that the store needs
  std::uint64_t cut_main_bytes = 0;  // bytes of a last page cut short by the end of the main file
  // PRAGMA integrity_check's lines ({"ok"} when fine), or empty when it could not run.
  std::vector<std::string> integrity;
  std::string sqlite_failure;  // why SQLite could not open the store or finish the check ("" if it did)
  // Findings that are not damage (a torn WAL tail, a main-file page superseded by the WAL).
  std::vector<std::string> notes;

  [[nodiscard]] bool intact() const;
  [[nodiscard]] std::uint64_t pages_checked() const { return main_pages + wal_frames; }  // that authenticated
  // The verdict for a person, in Indonesian, one finding per line. Intact: the first line
  // is "Penyimpanan utuh: N halaman diperiksa ..."; damaged: one line per finding, each
  // starting "RUSAK: " (a page names its number: "RUSAK: halaman 17 tidak lolos
  // pemeriksaan ..."), then a summary line. Notes follow, each starting "Catatan: ".
  [[nodiscard]] std::vector<std::string> verdict() const;
};

// Reads and authenticates every page of the main file and every frame of the WAL that
// SQLite would read (a page that fails is read again up to twice, in case it was being
// written at that instant), then opens the store through the encrypting VFS (as any
// command does, which recovers and, for a store of format 1, upgrades it) and runs
// PRAGMA integrity_check. Fails (an error, not a report) only when the store cannot be
// examined at all: no file (not_a_store), not a Teduh store (not_a_store), a key that
// opens no page of it (not_a_store), or the system refusing a read (io).
// Safe to run while another process has the store open (a page read while being written is
// read again). It writes nothing itself; opening the store writes what any open writes
// (WAL recovery; a checkpoint when it is the last connection to close; the one-time
// upgrade of a store of format 1).
[[nodiscard]] Result<StoreCheck> verify_store(const std::filesystem::path& db_path, const SecretBytes& store_key);

// The same with the store's passphrase (unlocks PATH.key first: wrong_passphrase,
// missing_key_file).
[[nodiscard]] Result<StoreCheck> verify_store(const std::filesystem::path& db_path, std::string_view passphrase);

}  // namespace teduh::crypto
