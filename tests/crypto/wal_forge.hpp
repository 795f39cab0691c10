#pragma once
// What an attacker without the key can do to a WAL: change a frame header's commit-size
// field and fix up SQLite's frame checksums so that SQLite's recovery accepts the frame.
//
// SQLite's WAL checksum is not keyed, and it is linear: per 8 bytes (x0, x1),
// s1 += x0 + s2; s2 += x1 + s1 (mod 2^32). Changing one word of a frame header changes the
// frame's checksum by an amount that depends only on that change, never on the page: run
// the same recurrence over zero words from the difference. So the attacker does not need
// the plaintext page (which the encrypting VFS hides) to make the chain valid again.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "store_test_support.hpp"

namespace teduh::crypto::testing {

inline constexpr std::size_t kWalHeader = 32;
inline constexpr std::size_t kFrameHeader = 24;
inline constexpr std::size_t kFrame = kFrameHeader + 4096;

inline std::uint32_t be32_at(const std::vector<std::uint8_t>& b, std::size_t off) {
  return (std::uint32_t{b[off]} << 24) | (std::uint32_t{b[off + 1]} << 16) | (std::uint32_t{b[off + 2]} << 8) |
         std::uint32_t{b[off + 3]};
}

inline void put_be32_at(std::vector<std::uint8_t>& b, std::size_t off, std::uint32_t v) {
  b[off] = static_cast<std::uint8_t>(v >> 24);
  b[off + 1] = static_cast<std::uint8_t>(v >> 16);
  b[off + 2] = static_cast<std::uint8_t>(v >> 8);
  b[off + 3] = static_cast<std::uint8_t>(v);
}

inline std::size_t frame_offset(std::size_t frame) { return kWalHeader + (frame - 1) * kFrame; }

inline std::size_t frame_count(const std::vector<std::uint8_t>& wal) {
  return wal.size() < kWalHeader ? 0 : (wal.size() - kWalHeader) / kFrame;
}

// The word SQLite's checksum reads from 4 bytes: big-endian when the WAL magic's low bit
// is set, else the machine's (little-endian here) order.
inline std::uint32_t checksum_word(const std::vector<std::uint8_t>& wal, std::size_t off) {
  if ((be32_at(wal, 0) & 1u) != 0) return be32_at(wal, off);
  return std::uint32_t{wal[off]} | (std::uint32_t{wal[off + 1]} << 8) | (std::uint32_t{wal[off + 2]} << 16) |
         (std::uint32_t{wal[off + 3]} << 24);
}

// Runs the checksum recurrence over `pairs` zero word pairs from a difference (d1, d2).
inline void propagate(std::uint32_t& d1, std::uint32_t& d2, std::size_t pairs) {
  for (std::size_t i = 0; i < pairs; ++i) {
    d1 += d2;
    d2 += d1;
  }
}

// Sets the commit-size field (frame header bytes 4..7) of `frame` (1-based) and fixes the
// stored checksums of that frame and every later frame, using the file's bytes only.
inline void forge_commit_size(std::vector<std::uint8_t>& wal, std::size_t frame, std::uint32_t commit_size) {
  const std::size_t off = frame_offset(frame);
  const std::uint32_t before = checksum_word(wal, off + 4);
  put_be32_at(wal, off + 4, commit_size);
  const std::uint32_t delta = checksum_word(wal, off + 4) - before;
  // The header pair (page number, commit size): s1 is unchanged, s2 moves by delta;
  // then the page's 512 pairs.
  std::uint32_t d1 = 0;
  std::uint32_t d2 = delta;
  propagate(d1, d2, 4096 / 8);
  for (std::size_t f = frame; f <= frame_count(wal); ++f) {
    if (f > frame) propagate(d1, d2, 1 + 4096 / 8);  // the next frame's header pair and page
    const std::size_t fo = frame_offset(f);
    put_be32_at(wal, fo + 16, be32_at(wal, fo + 16) + d1);
    put_be32_at(wal, fo + 20, be32_at(wal, fo + 20) + d2);
  }
}

inline void forge_commit_size(const std::filesystem::path& wal_path, std::size_t frame, std::uint32_t commit_size) {
  auto wal = read_file(wal_path);
  forge_commit_size(wal, frame, commit_size);
  write_file(wal_path, wal);
}

}  // namespace teduh::crypto::testing
