#pragma once
// Internal: the page layout shared by the VFS shim and the pre-open checks
// (crypto/FORMATS.md, "Pages"). Not a public header.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "teduh/crypto/encrypted_vfs.hpp"

namespace teduh::crypto::detail {

inline constexpr std::size_t kPage = static_cast<std::size_t>(kPageSize);
inline constexpr std::size_t kUsable = kPage - static_cast<std::size_t>(kReservedBytes);  // 4056
inline constexpr std::size_t kNonceOff = kUsable;                                          // 4056
inline constexpr std::size_t kTagOff = kUsable + 24;                                       // 4080
inline constexpr std::size_t kDbIdSize = 16;
inline constexpr std::size_t kPage1ClearEnd = 24;  // page 1 bytes [0,24) stay in clear
inline constexpr std::size_t kWalHeaderSize = 32;
inline constexpr std::size_t kWalFrameHeaderSize = 24;
inline constexpr std::size_t kWalFrameSize = kWalFrameHeaderSize + kPage;
inline constexpr std::uint8_t kAdVersion = 1;

using DbId = std::array<std::uint8_t, kDbIdSize>;

enum class FileKind : std::uint8_t { db = 1, wal = 2, journal = 3 };

// The key and identity of one open store, shared by its db, WAL and journal files.
struct StoreKeys {
  SecretBytes key;
  DbId db_id{};
};

// Where a page sits, all of which goes into the associated data.
struct PagePlace {
  FileKind kind = FileKind::db;
  std::uint32_t pgno = 0;
  std::uint64_t offset = 0;                    // byte offset of the page in its file
  std::array<std::uint8_t, 8> wal_salt{};      // WAL frames: salt-1 || salt-2 of the frame
  std::array<std::uint8_t, 8> page1_header{};  // db page 1: header bytes 16..23
};

// Encrypts a plaintext page (as SQLite wrote it) into out, a separate buffer of kPage
// bytes. For db page 1 the first 16 bytes become the database id.
void seal_page(const StoreKeys& keys, const PagePlace& place, const std::uint8_t* plain,
               std::uint8_t* out);
// Decrypts a stored page into out (kPage bytes), restoring what SQLite expects: the
// reserved area zeroed and, on db page 1, the "SQLite format 3" magic. False when the
// page does not authenticate; out is then zero-filled.
bool open_page(const StoreKeys& keys, const PagePlace& place, const std::uint8_t* stored,
               std::uint8_t* out);

std::uint32_t get_be32(const std::uint8_t* p);

// Reads n bytes at offset; returns the number of bytes actually available (short at EOF).
using RawReader = std::function<std::size_t(std::uint8_t* buf, std::size_t n, std::uint64_t offset)>;

enum class WalVerdict { fine, damaged };
// Walks the WAL as SQLite's recovery would. "damaged" when a frame of the current
// generation stops the checksum chain (or fails authentication) while a later frame of the
// same generation authenticates and commits: that is damage to committed data, not a torn
// tail. start_frame (1-based) limits the search for a later commit to frames after it.
WalVerdict check_wal(const StoreKeys& keys, std::uint64_t wal_size, const RawReader& read,
                     std::uint32_t after_frame = 0);

// The registry that hands a store's keys to the VFS by a handle carried in the URI.
std::uint64_t register_store(const std::shared_ptr<StoreKeys>& keys);
std::shared_ptr<StoreKeys> find_store(std::uint64_t handle);

// Registers the shim once; returns its name.
const char* ensure_vfs_registered();
inline constexpr const char* kUriKeyParam = "teduh_store";

}  // namespace teduh::crypto::detail
