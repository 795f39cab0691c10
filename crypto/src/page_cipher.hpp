#pragma once
// Internal: the page layout shared by the VFS shim and the pre-open checks
// (crypto/FORMATS.md, "Pages"). Not a public header.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

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
// Associated-data layouts (FORMATS.md section 3). Format 2 binds a WAL frame's commit size;
// it seals WAL frames and page 1 of the main file (which thereby records that the store's
// WAL frames are format 2). Every other page keeps layout 1, which it always had.
inline constexpr std::uint8_t kAdVersion1 = 1;
inline constexpr std::uint8_t kAdVersion2 = 2;

using DbId = std::array<std::uint8_t, kDbIdSize>;

enum class FileKind : std::uint8_t { db = 1, wal = 2, journal = 3 };

// The key and identity of one open store, shared by its db, WAL and journal files.
struct StoreKeys {
  SecretBytes key;
  DbId db_id{};
  // True while the main file's page 1 is still sealed by format 1 (a store written by an
  // older Teduh): WAL frames sealed by format 1 (without the commit size) are accepted
  // too, until open_encrypted has checkpointed them away (FORMATS.md section 4).
  std::atomic<bool> accept_format1_wal{false};
};

// Where a page sits, all of which goes into the associated data.
struct PagePlace {
  FileKind kind = FileKind::db;
  std::uint32_t pgno = 0;
  std::uint64_t offset = 0;                    // byte offset of the page in its file
  std::array<std::uint8_t, 8> wal_salt{};      // WAL frames: salt-1 || salt-2 of the frame
  std::uint32_t wal_commit = 0;                // WAL frames: the commit size (frame header bytes 4..7)
  std::array<std::uint8_t, 8> page1_header{};  // db page 1: header bytes 16..23
};

// Encrypts a plaintext page (as SQLite wrote it) into out, a separate buffer of kPage
// bytes. For db page 1 the first 16 bytes become the database id.
void seal_page(const StoreKeys& keys, const PagePlace& place, const std::uint8_t* plain,
               std::uint8_t* out);
// Decrypts a stored page into out (kPage bytes), restoring what SQLite expects: the
// reserved area zeroed and, on db page 1, the "SQLite format 3" magic. False when the
// page does not authenticate; out is then zero-filled. version, when given, receives the
// associated-data layout the page opened under (db page 1: 2, or 1 for a store not yet
// upgraded; WAL frames: 2, or 1 when keys.accept_format1_wal).
bool open_page(const StoreKeys& keys, const PagePlace& place, const std::uint8_t* stored,
               std::uint8_t* out, std::uint8_t* version = nullptr);

std::uint32_t get_be32(const std::uint8_t* p);

// Reads n bytes at offset; returns the number of bytes actually available (short at EOF).
using RawReader = std::function<std::size_t(std::uint8_t* buf, std::size_t n, std::uint64_t offset)>;

// What a walk of the WAL as SQLite's recovery would read it found.
struct WalWalk {
  enum class Stop { end_of_file, no_wal, older_generation, not_authentic, bad_checksum };
  std::uint32_t chain = 0;        // frames in the valid chain (same salts, authentic, checksums)
  std::uint32_t last_commit = 0;  // the last commit frame within the chain (0: none)
  Stop stop = Stop::end_of_file;  // why the chain ends
  std::uint32_t stop_pgno = 0;    // the page number in the header of the frame that ends it
  // A frame after the chain's end that authenticates, belongs to the same generation and
  // commits: the chain was broken inside committed data (0: none).
  std::uint32_t later_commit = 0;
};
// Walks the WAL as SQLite's recovery would. With after_frame set, the caller already knows
// frame after_frame (1-based) fails: only the search for a later commit runs. chain_pgnos,
// when given, receives the page number of every frame of the chain, in order.
WalWalk walk_wal(const StoreKeys& keys, std::uint64_t wal_size, const RawReader& read,
                 std::uint32_t after_frame = 0, std::vector<std::uint32_t>* chain_pgnos = nullptr);

enum class WalVerdict { fine, damaged };
// "damaged" when a frame of the current generation stops the checksum chain (or fails
// authentication) while a later frame of the same generation authenticates and commits:
// that is damage to committed data, not a torn tail.
WalVerdict check_wal(const StoreKeys& keys, std::uint64_t wal_size, const RawReader& read,
                     std::uint32_t after_frame = 0);

// The registry that hands a store's keys to the VFS by a handle carried in the URI.
std::uint64_t register_store(const std::shared_ptr<StoreKeys>& keys);
std::shared_ptr<StoreKeys> find_store(std::uint64_t handle);

// After an open of a store whose page 1 is still format 1: checkpoints the WAL away and has
// page 1 rewritten under format 2, so later opens accept format-2 WAL frames only. Best
// effort (another connection may hold the WAL); never fails the open.
void upgrade_to_format2(sqlite3* db, StoreKeys& keys);

// Registers the shim once; returns its name.
const char* ensure_vfs_registered();
inline constexpr const char* kUriKeyParam = "teduh_store";

}  // namespace teduh::crypto::detail
