#pragma once
// The encrypting SQLite VFS shim and the store's key file (see crypto/FORMATS.md).
//
// Every page of the main database and of its WAL is encrypted with XChaCha20-Poly1305
// under a random 32-byte store key, a fresh nonce per write, nonce and tag in the page's
// 40 reserved bytes, and the database id, file kind and page number as associated data.
// The store key is wrapped in a sidecar key file (PATH + ".key") by a key derived from a
// passphrase with Argon2id. Temp files never reach the disk (temp_store=MEMORY, and the
// shim refuses to open them). A page that fails authentication is reported by SQLite as
// SQLITE_IOERR_DATA: damage is never returned as data.
#include <filesystem>
#include <memory>
#include <string_view>

#include <sqlite3.h>

#include "teduh/crypto/kdf.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh::crypto {

struct SqliteCloser {
  void operator()(sqlite3* db) const noexcept;  // sqlite3_close_v2
};
using DbHandle = std::unique_ptr<sqlite3, SqliteCloser>;

inline constexpr std::size_t kStoreKeySize = 32;
inline constexpr int kPageSize = 4096;
inline constexpr int kReservedBytes = 40;
// How long a connection waits for a lock another connection (or process) holds before a
// statement fails with SQLITE_BUSY: two commands on one store take turns instead of failing.
inline constexpr int kBusyTimeoutMs = 10000;

enum class OpenMode { create, existing };

// The key file of a database: db_path with ".key" appended.
std::filesystem::path key_file_path(const std::filesystem::path& db_path);

// Creates the key file with a fresh random store key wrapped by Argon2id(passphrase).
// Fails with already_exists if a key file or database is already there; writes
// the file atomically (temp file, fsync, rename). Returns the store key.
[[nodiscard]] Result<SecretBytes> create_store_key(const std::filesystem::path& db_path,
                                     std::string_view passphrase, const KdfParams& params);

// Unwraps the store key. Fails with missing_key_file, not_a_store (not a Teduh key
// file, or an unknown format version) or wrong_passphrase. Never modifies anything.
[[nodiscard]] Result<SecretBytes> unlock_store_key(const std::filesystem::path& db_path,
                                     std::string_view passphrase);

// The Argon2id cost recorded in the key file (no passphrase needed): lets a caller warn
// about a store made with the cheap test cost (KdfParams::cheap). Same failures as unlock.
[[nodiscard]] Result<KdfParams> store_kdf_params(const std::filesystem::path& db_path);

// Rewraps the same store key under a new passphrase (atomic replace of the key file).
[[nodiscard]] Result<void> change_passphrase(const std::filesystem::path& db_path, std::string_view old_passphrase,
                               std::string_view new_passphrase, const KdfParams& params);

// Opens (or creates) the database through the encrypting shim, with page_size 4096,
// 40 reserved bytes, journal_mode=WAL, synchronous=FULL, temp_store=MEMORY, mmap_size=0,
// foreign_keys=ON, and a busy timeout of kBusyTimeoutMs (set before any of the settings, so
// opening also waits for a lock held by another process). The key is checked against page 1 before any WAL recovery runs: a key
// that does not open page 1 fails with not_a_store ("this key does not belong to this
// store") or damaged, and leaves the files untouched. create fails with already_exists
// when the database file exists and is not empty.
[[nodiscard]] Result<DbHandle> open_encrypted(const std::filesystem::path& db_path, const SecretBytes& store_key,
                                OpenMode mode);

// The same database settings on SQLite's default VFS, in clear. For the benchmark's
// baseline and the differential test only; never for real data.
[[nodiscard]] Result<DbHandle> open_plain(const std::filesystem::path& db_path, OpenMode mode);

// True for the SQLite result codes that the shim uses to report damage.
bool is_damage(int sqlite_extended_code);

// The error code for a failed SQLite call on db: damaged, full (SQLITE_FULL, or an I/O error
// whose errno is ENOSPC/EDQUOT), busy (SQLITE_BUSY/SQLITE_LOCKED after the busy timeout), else io.
Errc classify_sqlite_error(sqlite3* db);

}  // namespace teduh::crypto
