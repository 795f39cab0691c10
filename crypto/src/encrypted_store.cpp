// The store's key file and opening a store through the encrypting shim.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "raw_file.hpp"
#include "page_cipher.hpp"
#include "teduh/crypto/aead.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"

namespace teduh::crypto {

void SqliteCloser::operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }

bool is_damage(int code) {
  const int primary = code & 0xff;
  return code == SQLITE_IOERR_DATA || primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

Errc classify_sqlite_error(sqlite3* db) {
  const int ext = sqlite3_extended_errcode(db);
  const int primary = ext & 0xff;
  if (is_damage(ext)) return Errc::damaged;
  const int sys = primary == SQLITE_IOERR ? sqlite3_system_errno(db) : 0;
  if (primary == SQLITE_FULL || sys == ENOSPC || sys == EDQUOT) return Errc::full;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Errc::busy;
  return Errc::io;
}

std::filesystem::path key_file_path(const std::filesystem::path& db_path) {
  std::filesystem::path p = db_path;
  p += ".key";
  return p;
}

namespace {

namespace fs = std::filesystem;

// ---- key file, format version 1 (FORMATS.md, "Key file") ----
constexpr std::uint8_t kKeyMagic[8] = {'T', 'E', 'D', 'U', 'H', 'K', 'E', 'Y'};
constexpr std::uint8_t kKeyFormatVersion = 1;
constexpr std::uint8_t kKeyAlgArgon2idXChaCha = 1;
constexpr std::size_t kKeyHeaderSize = 8 + 1 + 1 + 8 + 8 + kSaltSize;  // 42
constexpr std::size_t kKeyFileSize = kKeyHeaderSize + kAeadNonceSize + kStoreKeySize + kAeadTagSize;

void put_be64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
std::uint64_t get_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

std::string errno_text(int e) { return std::generic_category().message(e); }

[[nodiscard]] Result<Bytes> read_whole(const fs::path& path, std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return fail(Errc::missing_key_file, "the store's key file is missing");
    return fail(Errc::io, "cannot read the key file: " + errno_text(e));
  }
  Bytes out(limit + 1);
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return fail(Errc::io, "cannot read the key file: " + errno_text(e));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

[[nodiscard]] Result<void> fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(Errc::io, "cannot open the store's folder: " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return fail(Errc::io, "cannot sync the store's folder: " + errno_text(e));
  return {};
}

// A write refused for lack of space is a full disk (said so to the person), not an I/O error.
Errc io_or_full(int e) { return e == ENOSPC || e == EDQUOT ? Errc::full : Errc::io; }

// Writes bytes to a temporary file beside target, syncs it, then puts it in place:
// link() when the target must not exist yet (no clobbering, even in a race),
// rename() when replacing. Finally syncs the folder so the new name is durable.
[[nodiscard]] Result<void> write_atomically(const fs::path& target, ByteView bytes, bool replace) {
  const fs::path dir = target.parent_path();
  std::string tmpl = (dir.empty() ? fs::path(".") : dir).string() + "/.teduh-key-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return fail(io_or_full(errno), "cannot create a temporary key file: " + errno_text(errno));
  ::fchmod(fd, 0600);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmpl.c_str());
      return fail(io_or_full(e), "cannot write the key file: " + errno_text(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    return fail(io_or_full(e), "cannot sync the key file: " + errno_text(e));
  }
  ::close(fd);
  if (replace) {
    if (::rename(tmpl.c_str(), target.c_str()) != 0) {
      const int e = errno;
      ::unlink(tmpl.c_str());
      return fail(io_or_full(e), "cannot replace the key file: " + errno_text(e));
    }
  } else {
    const int rc = ::link(tmpl.c_str(), target.c_str());
    const int e = errno;
    ::unlink(tmpl.c_str());
    if (rc != 0) {
      if (e == EEXIST) return fail(Errc::already_exists, "a key file already exists for this store");
      return fail(io_or_full(e), "cannot create the key file: " + errno_text(e));
    }
  }
  return fsync_dir(dir);
}

[[nodiscard]] Result<Bytes> wrap_store_key(const SecretBytes& store_key, std::string_view passphrase,
                             const KdfParams& params) {
  Salt salt{};
  randombytes_buf(salt.data(), salt.size());
  auto kek = TEDUH_TRY(derive_key(passphrase, salt, params));
  Bytes file(kKeyHeaderSize);
  std::memcpy(file.data(), kKeyMagic, sizeof kKeyMagic);
  file[8] = kKeyFormatVersion;
  file[9] = kKeyAlgArgon2idXChaCha;
  put_be64(file.data() + 10, params.opslimit);
  put_be64(file.data() + 18, params.memlimit);
  std::memcpy(file.data() + 26, salt.data(), salt.size());
  const Bytes sealed = aead_seal(kek, store_key.view(), file);  // AD: the whole header
  file.insert(file.end(), sealed.begin(), sealed.end());
  return file;
}

[[nodiscard]] Result<SecretBytes> unwrap_store_key(const fs::path& db_path, std::string_view passphrase) {
  auto file = TEDUH_TRY(read_whole(key_file_path(db_path), kKeyFileSize));
  const Bytes& b = file;
  if (b.size() < 10 || std::memcmp(b.data(), kKeyMagic, sizeof kKeyMagic) != 0) {
    return fail(Errc::not_a_store, "this is not a Teduh key file");
  }
  if (b[8] != kKeyFormatVersion || b[9] != kKeyAlgArgon2idXChaCha) {
    return fail(Errc::not_a_store, "the key file has an unknown format version " + std::to_string(b[8]) +
                                       " (made by a newer Teduh?)");
  }
  if (b.size() != kKeyFileSize) return fail(Errc::not_a_store, "the key file has the wrong size");
  KdfParams params{get_be64(b.data() + 10), get_be64(b.data() + 18)};
  // A hostile key file must not make us burn unbounded memory or time.
  if (params.opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
      params.memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE) {
    return fail(Errc::not_a_store, "the key file asks for an unsupported Argon2id cost");
  }
  Salt salt{};
  std::memcpy(salt.data(), b.data() + 26, salt.size());
  auto kek = derive_key(passphrase, salt, params);
  if (!kek) {
    if (kek.error().code == Errc::bad_input) {
      return fail(Errc::not_a_store, "the key file asks for an unsupported Argon2id cost");
    }
    return tl::unexpected(kek.error());
  }
  auto key = aead_open_secret(*kek, ByteView(b).subspan(kKeyHeaderSize),
                              ByteView(b).first(kKeyHeaderSize));
  if (!key) return fail(Errc::wrong_passphrase, "the passphrase is wrong");
  return key;
}

bool exists_nonempty(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  return !ec && size > 0;
}

fs::path sidecar(const fs::path& db_path, const char* suffix) {
  fs::path p = db_path;
  p += suffix;
  return p;
}

}  // namespace

[[nodiscard]] Result<SecretBytes> create_store_key(const fs::path& db_path, std::string_view passphrase,
                                     const KdfParams& params) {
  init();
  std::error_code ec;
  if (fs::exists(key_file_path(db_path), ec)) {
    return fail(Errc::already_exists, "a key file already exists for this store");
  }
  if (exists_nonempty(db_path)) return fail(Errc::already_exists, "a database already exists at this path");
  SecretBytes store_key = SecretBytes::random(kStoreKeySize);
  auto file = TEDUH_TRY(wrap_store_key(store_key, passphrase, params));
  TEDUH_TRY(write_atomically(key_file_path(db_path), file, /*replace=*/false));
  return store_key;
}

[[nodiscard]] Result<SecretBytes> unlock_store_key(const fs::path& db_path, std::string_view passphrase) {
  init();
  return unwrap_store_key(db_path, passphrase);
}

[[nodiscard]] Result<KdfParams> store_kdf_params(const fs::path& db_path) {
  auto file = TEDUH_TRY(read_whole(key_file_path(db_path), kKeyFileSize));
  const Bytes& b = file;
  if (b.size() != kKeyFileSize || std::memcmp(b.data(), kKeyMagic, sizeof kKeyMagic) != 0 ||
      b[8] != kKeyFormatVersion || b[9] != kKeyAlgArgon2idXChaCha) {
    return fail(Errc::not_a_store, "this is not a Teduh key file of a known version");
  }
  return KdfParams{get_be64(b.data() + 10), get_be64(b.data() + 18)};
}

[[nodiscard]] Result<void> change_passphrase(const fs::path& db_path, std::string_view old_passphrase,
                               std::string_view new_passphrase, const KdfParams& params) {
  init();
  auto key = TEDUH_TRY(unwrap_store_key(db_path, old_passphrase));
  auto file = TEDUH_TRY(wrap_store_key(key, new_passphrase, params));
  return write_atomically(key_file_path(db_path), file, /*replace=*/true);
}

// ---- opening ----

namespace {

using detail::DbId;
using detail::StoreKeys;

std::string uri_escape(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) != 0 || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

[[nodiscard]] Result<void> exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  std::string msg = std::string("cannot set up the store (") + sql + "): " + (err != nullptr ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return fail(classify_sqlite_error(db), msg);
}

[[nodiscard]] Result<std::string> query_text(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
  std::string out;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out = t != nullptr ? reinterpret_cast<const char*>(t) : "";
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK && rc != SQLITE_DONE) {
    return fail(classify_sqlite_error(db), std::string("cannot set up the store: ") + sqlite3_errmsg(db));
  }
  return out;
}

// ATTACH (and VACUUM INTO, which attaches its target) could write a copy of the data
// through another VFS in clear. VACUUM itself attaches "" (an in-memory temp database
// under temp_store=MEMORY), which stays allowed.
int deny_attach(void*, int action, const char* arg1, const char*, const char*, const char*) {
  if (action == SQLITE_ATTACH && (arg1 == nullptr || arg1[0] != '\0')) return SQLITE_DENY;
  return SQLITE_OK;
}

[[nodiscard]] Result<void> apply_settings(sqlite3* db, bool fresh) {
  if (fresh) {
    if (auto r = exec(db, "PRAGMA page_size=4096"); !r) return r;
    int reserve = kReservedBytes;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK) {
      return fail(Errc::io, "cannot reserve the page bytes for nonce and tag");
    }
  }
  // Reading the settings below also reads page 1 through the shim.
  for (const char* sql : {"PRAGMA temp_store=MEMORY", "PRAGMA mmap_size=0", "PRAGMA synchronous=FULL",
                          "PRAGMA foreign_keys=ON", "PRAGMA cell_size_check=ON"}) {
    if (auto r = exec(db, sql); !r) return r;
  }
  auto mode = TEDUH_TRY(query_text(db, "PRAGMA journal_mode=WAL"));
  if (mode != "wal") return fail(Errc::io, "the store cannot use write-ahead logging");
  auto page_size = TEDUH_TRY(query_text(db, "PRAGMA page_size"));
  int reserve = -1;  // -1 queries without changing
  sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  if (page_size != std::to_string(kPageSize) || reserve != kReservedBytes) {
    return fail(Errc::not_a_store, "the database does not have the store's page layout");
  }
  return {};
}

constexpr std::uint8_t kSqliteMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                           'o', 'r', 'm', 'a', 't', ' ', '3', 0};

using detail::RawFile;

// Checks the key against page 1 of the main file, and the WAL for damage to committed
// frames, before SQLite (and its WAL recovery) sees anything. Fills keys.db_id.
[[nodiscard]] Result<void> check_existing(const fs::path& db_path, StoreKeys& keys) {
  RawFile db(db_path);
  if (db.fd < 0) return fail(Errc::io, "cannot read the store: " + errno_text(errno));
  std::uint8_t page[detail::kPage];
  const std::size_t got = db.read_at(page, sizeof page, 0);
  if (got >= 16 && std::memcmp(page, kSqliteMagic, 16) == 0) {
    return fail(Errc::not_a_store, "this is a plain SQLite database, not an encrypted Teduh store");
  }
  if (got < detail::kPage || page[16] != (kPageSize >> 8) || page[17] != (kPageSize & 0xff) ||
      page[20] != kReservedBytes) {
    return fail(Errc::not_a_store, "this file is not a Teduh store");
  }
  std::memcpy(keys.db_id.data(), page, detail::kDbIdSize);
  detail::PagePlace place;
  place.kind = detail::FileKind::db;
  place.pgno = 1;
  std::uint8_t plain[detail::kPage];
  std::uint8_t version = 0;
  if (!detail::open_page(keys, place, page, plain, &version)) {
    return fail(Errc::not_a_store,
                "this key does not belong to this store (or the store's first page is damaged)");
  }
  // Page 1 still sealed by format 1: the WAL may hold format-1 frames (FORMATS.md section 4).
  keys.accept_format1_wal = version == detail::kAdVersion1;
  const fs::path wal_path = sidecar(db_path, "-wal");
  std::error_code ec;
  const auto wal_size = fs::file_size(wal_path, ec);
  if (!ec && wal_size > 0) {
    RawFile wal(wal_path);
    if (wal.fd < 0) return fail(Errc::io, "cannot read the store's log: " + errno_text(errno));
    auto reader = [&wal](std::uint8_t* buf, std::size_t n, std::uint64_t off) {
      return wal.read_at(buf, n, off);
    };
    if (detail::check_wal(keys, wal_size, reader) == detail::WalVerdict::damaged) {
      return fail(Errc::damaged, "the store's write-ahead log is damaged: a committed change fails authentication");
    }
  }
  return {};
}

[[nodiscard]] Result<DbHandle> open_with(const std::string& filename, const char* vfs, int flags, bool fresh) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(filename.c_str(), &raw, flags, vfs);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    return fail(Errc::io, std::string("cannot open the store: ") +
                              (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  TEDUH_TRY(apply_settings(db.get(), fresh));
  return db;
}

}  // namespace

[[nodiscard]] Result<DbHandle> open_encrypted(const fs::path& db_path, const SecretBytes& store_key, OpenMode mode) {
  init();
  if (store_key.size() != kStoreKeySize) return fail(Errc::bad_input, "a store key is 32 bytes");
  auto keys = std::make_shared<StoreKeys>();
  keys->key = store_key.clone();
  const bool has_data = exists_nonempty(db_path);
  if (mode == OpenMode::create) {
    if (has_data) return fail(Errc::already_exists, "a database already exists at this path");
    if (exists_nonempty(sidecar(db_path, "-wal")) || exists_nonempty(sidecar(db_path, "-journal"))) {
      return fail(Errc::already_exists, "an old log of another database is still at this path");
    }
    randombytes_buf(keys->db_id.data(), keys->db_id.size());
  } else {
    if (!has_data) {
      std::error_code ec;
      if (!fs::exists(db_path, ec)) return fail(Errc::not_a_store, "there is no store at this path");
      return fail(Errc::not_a_store, "the store file is empty");
    }
    TEDUH_TRY(check_existing(db_path, *keys));
  }
  const std::uint64_t handle = detail::register_store(keys);
  const std::string uri = uri_escape(db_path.string()) + "?" + detail::kUriKeyParam + "=" + std::to_string(handle);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI;
  if (mode == OpenMode::create) flags |= SQLITE_OPEN_CREATE;
  auto db = open_with(uri, detail::ensure_vfs_registered(), flags, mode == OpenMode::create);
  if (!db) return db;
  sqlite3_set_authorizer(db->get(), deny_attach, nullptr);
  if (keys->accept_format1_wal) detail::upgrade_to_format2(db->get(), *keys);
  return db;
}

[[nodiscard]] Result<DbHandle> open_plain(const fs::path& db_path, OpenMode mode) {
  if (mode == OpenMode::create && exists_nonempty(db_path)) {
    return fail(Errc::already_exists, "a database already exists at this path");
  }
  if (mode == OpenMode::existing && !exists_nonempty(db_path)) {
    return fail(Errc::not_a_store, "there is no database at this path");
  }
  int flags = SQLITE_OPEN_READWRITE;
  if (mode == OpenMode::create) flags |= SQLITE_OPEN_CREATE;
  return open_with(db_path.string(), nullptr, flags, mode == OpenMode::create);
}

}  // namespace teduh::crypto
