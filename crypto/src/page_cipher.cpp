// Page encryption and WAL checking for the encrypting VFS (crypto/FORMATS.md).
#include "page_cipher.hpp"

#include <sodium.h>

#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace teduh::crypto::detail {

namespace {

constexpr std::uint8_t kSqliteMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                           'o', 'r', 'm', 'a', 't', ' ', '3', 0};
constexpr std::size_t kAdSize = 1 + kDbIdSize + 1 + 4 + 8 + 8 + 8;  // 46

void put_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

void put_be64(std::uint8_t* p, std::uint64_t v) {
  put_be32(p, static_cast<std::uint32_t>(v >> 32));
  put_be32(p + 4, static_cast<std::uint32_t>(v));
}

// version | db id | kind | pgno | offset | wal salts | last 8 bytes (FORMATS.md section 3):
// db page 1: header bytes 16..23; WAL frames, layout 2: the commit size, then 4 zeros.
std::array<std::uint8_t, kAdSize> make_ad(const StoreKeys& keys, const PagePlace& place, std::uint8_t version) {
  std::array<std::uint8_t, kAdSize> ad{};
  std::uint8_t* p = ad.data();
  *p++ = version;
  std::memcpy(p, keys.db_id.data(), kDbIdSize);
  p += kDbIdSize;
  *p++ = static_cast<std::uint8_t>(place.kind);
  put_be32(p, place.pgno);
  p += 4;
  put_be64(p, place.offset);
  p += 8;
  std::memcpy(p, place.wal_salt.data(), 8);
  p += 8;
  if (place.kind == FileKind::wal) {
    if (version >= kAdVersion2) put_be32(p, place.wal_commit);
  } else {
    std::memcpy(p, place.page1_header.data(), 8);
  }
  return ad;
}

bool is_db_page1(const PagePlace& place) { return place.kind == FileKind::db && place.pgno == 1; }

// The layout a page is sealed under today: 2 for WAL frames and db page 1, else 1.
std::uint8_t sealing_version(const PagePlace& place) {
  return place.kind == FileKind::wal || is_db_page1(place) ? kAdVersion2 : kAdVersion1;
}

}  // namespace

std::uint32_t get_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void seal_page(const StoreKeys& keys, const PagePlace& place_in, const std::uint8_t* plain,
               std::uint8_t* out) {
  PagePlace place = place_in;
  std::size_t begin = 0;
  if (is_db_page1(place)) {
    begin = kPage1ClearEnd;
    std::memcpy(out, keys.db_id.data(), kDbIdSize);
    std::memcpy(out + kDbIdSize, plain + kDbIdSize, 8);
    std::memcpy(place.page1_header.data(), plain + kDbIdSize, 8);
  }
  const auto ad = make_ad(keys, place, sealing_version(place));
  randombytes_buf(out + kNonceOff, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long tag_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out + begin, out + kTagOff, &tag_len,
                                                      plain + begin, kUsable - begin, ad.data(),
                                                      ad.size(), nullptr, out + kNonceOff,
                                                      keys.key.data());
}

bool open_page(const StoreKeys& keys, const PagePlace& place_in, const std::uint8_t* stored,
               std::uint8_t* out, std::uint8_t* version) {
  PagePlace place = place_in;
  std::size_t begin = 0;
  if (is_db_page1(place)) {
    begin = kPage1ClearEnd;
    std::memcpy(place.page1_header.data(), stored + kDbIdSize, 8);
  }
  auto opens_under = [&](std::uint8_t v) {
    const auto ad = make_ad(keys, place, v);
    return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out + begin, nullptr, stored + begin,
                                                               kUsable - begin, stored + kTagOff, ad.data(),
                                                               ad.size(), stored + kNonceOff,
                                                               keys.key.data()) == 0;
  };
  std::uint8_t v = sealing_version(place);
  bool ok = opens_under(v);
  // Layout 1 is still valid for db page 1 (a store not yet upgraded), and for WAL frames
  // only while the store's page 1 is (FORMATS.md section 4, "Stores of format 1").
  if (!ok && v == kAdVersion2 &&
      (place.kind == FileKind::db || keys.accept_format1_wal.load(std::memory_order_relaxed))) {
    v = kAdVersion1;
    ok = opens_under(v);
  }
  if (!ok) {
    std::memset(out, 0, kPage);
    return false;
  }
  if (version != nullptr) *version = v;
  if (begin != 0) {
    std::memcpy(out, kSqliteMagic, sizeof kSqliteMagic);
    std::memcpy(out + kDbIdSize, stored + kDbIdSize, 8);
  }
  // SQLite never writes the reserved area (the shim refuses WAL pages that carry
  // anything there), so zeros are exactly what it wrote: the WAL checksums depend on it.
  std::memset(out + kUsable, 0, kPage - kUsable);
  return true;
}

namespace {

struct WalChecksum {
  std::uint32_t s1 = 0;
  std::uint32_t s2 = 0;
  void add(bool big_endian, const std::uint8_t* a, std::size_t n) {
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      std::uint32_t x0 = 0;
      std::uint32_t x1 = 0;
      if (big_endian) {
        x0 = get_be32(a + i);
        x1 = get_be32(a + i + 4);
      } else {
        std::memcpy(&x0, a + i, 4);  // the machine is little-endian (x86-64, arm64)
        std::memcpy(&x1, a + i + 4, 4);
      }
      s1 += x0 + s2;
      s2 += x1 + s1;
    }
  }
};

}  // namespace

WalWalk walk_wal(const StoreKeys& keys, std::uint64_t wal_size, const RawReader& read,
                 std::uint32_t after_frame, std::vector<std::uint32_t>* chain_pgnos) {
  WalWalk walk;
  std::uint8_t hdr[kWalHeaderSize];
  if (wal_size < kWalHeaderSize || read(hdr, kWalHeaderSize, 0) < kWalHeaderSize) {
    walk.stop = WalWalk::Stop::no_wal;
    return walk;
  }
  const std::uint32_t magic = get_be32(hdr);
  if ((magic & 0xFFFFFFFEu) != 0x377f0682u || get_be32(hdr + 4) != 3007000u ||
      get_be32(hdr + 8) != kPage) {
    walk.stop = WalWalk::Stop::no_wal;  // SQLite ignores such a WAL altogether (FORMATS.md, limits)
    return walk;
  }
  const bool big_endian = (magic & 1u) != 0;
  WalChecksum sum;
  sum.add(big_endian, hdr, 24);
  if (sum.s1 != get_be32(hdr + 24) || sum.s2 != get_be32(hdr + 28)) {
    walk.stop = WalWalk::Stop::no_wal;
    return walk;
  }

  std::vector<std::uint8_t> frame(kWalFrameSize);
  std::vector<std::uint8_t> plain(kPage);
  // With after_frame set, the caller already knows frame after_frame failed: only look
  // for a later commit of the same generation.
  bool chain_intact = after_frame == 0;
  for (std::uint32_t i = after_frame + 1;; ++i) {
    const std::uint64_t off = kWalHeaderSize + std::uint64_t{i - 1} * kWalFrameSize;
    if (off + kWalFrameSize > wal_size) break;
    if (read(frame.data(), kWalFrameSize, off) < kWalFrameSize) break;
    const std::uint8_t* fh = frame.data();
    const bool same_generation = std::memcmp(fh + 8, hdr + 16, 8) == 0;
    PagePlace place;
    place.kind = FileKind::wal;
    place.pgno = get_be32(fh);
    place.offset = off + kWalFrameHeaderSize;
    std::memcpy(place.wal_salt.data(), fh + 8, 8);
    place.wal_commit = get_be32(fh + 4);
    const bool commits = place.wal_commit != 0;
    if (chain_intact) {
      // The test walDecodeFrame applies: same salts, a page number, the running checksum.
      // A frame of an older generation ends the chain without being opened.
      if (!same_generation || place.pgno == 0) {
        walk.stop = WalWalk::Stop::older_generation;
      } else if (!open_page(keys, place, fh + kWalFrameHeaderSize, plain.data())) {
        walk.stop = WalWalk::Stop::not_authentic;
      } else {
        WalChecksum next = sum;
        next.add(big_endian, fh, 8);
        next.add(big_endian, plain.data(), kPage);
        if (next.s1 == get_be32(fh + 16) && next.s2 == get_be32(fh + 20)) {
          sum = next;
          walk.chain = i;
          if (commits) walk.last_commit = i;
          if (chain_pgnos != nullptr) chain_pgnos->push_back(place.pgno);
          continue;
        }
        walk.stop = WalWalk::Stop::bad_checksum;
      }
      walk.stop_pgno = place.pgno;
      chain_intact = false;
      continue;
    }
    if (same_generation && commits && place.pgno != 0 &&
        open_page(keys, place, fh + kWalFrameHeaderSize, plain.data())) {
      walk.later_commit = i;
      return walk;
    }
  }
  return walk;
}

WalVerdict check_wal(const StoreKeys& keys, std::uint64_t wal_size, const RawReader& read,
                     std::uint32_t after_frame) {
  return walk_wal(keys, wal_size, read, after_frame).later_commit != 0 ? WalVerdict::damaged : WalVerdict::fine;
}

namespace {
struct Registry {
  std::mutex mu;
  std::uint64_t next = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<StoreKeys>> stores;
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

std::uint64_t register_store(const std::shared_ptr<StoreKeys>& keys) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  for (auto it = r.stores.begin(); it != r.stores.end();) {
    it = it->second.expired() ? r.stores.erase(it) : std::next(it);
  }
  const std::uint64_t handle = r.next++;
  r.stores.emplace(handle, keys);
  return handle;
}

std::shared_ptr<StoreKeys> find_store(std::uint64_t handle) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.stores.find(handle);
  return it == r.stores.end() ? nullptr : it->second.lock();
}

}  // namespace teduh::crypto::detail
