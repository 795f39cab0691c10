#pragma once
// The embedded storage backend: the server's encrypted SQLite store (crypto's VFS shim,
// schema's server DDL). Files: DIR/server.db, its WAL, and the key file DIR/server.db.key.
#include <filesystem>
#include <memory>
#include <string_view>

#include "teduh/crypto/kdf.hpp"
#include "teduh/server/storage.hpp"

namespace teduh::server {

inline constexpr std::string_view kServerDbName = "server.db";

// Creates DIR (mode 0700) if needed and a new store in it. Fails with already_exists
// when DIR already holds a store or a key file.
[[nodiscard]] Result<std::unique_ptr<Storage>> create_sqlite_storage(const std::filesystem::path& dir,
                                                                     std::string_view passphrase,
                                                                     const crypto::KdfParams& params);
// Opens the store in DIR, migrating an older schema. Fails with refused for a missing
// store, a wrong passphrase, a file that is not a Teduh server store, or a store written
// by a newer Teduh; nothing is modified in those cases.
[[nodiscard]] Result<std::unique_ptr<Storage>> open_sqlite_storage(const std::filesystem::path& dir,
                                                                   std::string_view passphrase);

}  // namespace teduh::server
