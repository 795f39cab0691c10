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

// version | db id | kind | pgno | offset | wal salts | page-1 header bytes 16..23
std::array<std::uint8_t, kAdSize> make_ad(const StoreKeys& keys, const PagePlace& place) {
  std::array<std::uint8_t, kAdSize> ad{};
  std::uint8_t* p = ad.data();
  *p++ = kAdVersion;
  std::memcpy(p, keys.db_id.data(), kDbIdSize);
  p += kDbIdSize;
  *p++ = static_cast<std::uint8_t>(place.kind);
  put_be32(p, place.pgno);
  p += 4;
  put_be64(p, place.offset);
  p += 8;
  std::memcpy(p, place.wal_salt.data(), 8);
  p += 8;
  std::memcpy(p, place.page1_header.data(), 8);
  return ad;
}

bool is_db_page1(const PagePlace& place) { return place.kind == FileKind::db && place.pgno == 1; }

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
  const auto ad = make_ad(keys, place);
  randombytes_buf(out + kNonceOff, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long tag_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out + begin, out + kTagOff, &tag_len,
                                                      plain + begin, kUsable - begin, ad.data(),
                                                      ad.size(), nullptr, out + kNonceOff,
                                                      keys.key.data());
}

bool open_page(const StoreKeys& keys, const PagePlace& place_in, const std::uint8_t* stored,
               std::uint8_t* out) {
  PagePlace place = place_in;
  std::size_t begin = 0;
  if (is_db_page1(place)) {
    begin = kPage1ClearEnd;
    std::memcpy(place.page1_header.data(), stored + kDbIdSize, 8);
  }
  const auto ad = make_ad(keys, place);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out + begin, nullptr, stored + begin,
                                                          kUsable - begin, stored + kTagOff,
                                                          ad.data(), ad.size(), stored + kNonceOff,
                                                          keys.key.data()) != 0) {
    std::memset(out, 0, kPage);
    return false;
  }
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

WalVerdict check_wal(const StoreKeys& keys, std::uint64_t wal_size, const RawReader& read,
                     std::uint32_t after_frame) {
  std::uint8_t hdr[kWalHeaderSize];
  if (wal_size < kWalHeaderSize || read(hdr, kWalHeaderSize, 0) < kWalHeaderSize) {
    return WalVerdict::fine;
  }
  const std::uint32_t magic = get_be32(hdr);
  if ((magic & 0xFFFFFFFEu) != 0x377f0682u || get_be32(hdr + 4) != 3007000u ||
      get_be32(hdr + 8) != kPage) {
    return WalVerdict::fine;  // SQLite ignores such a WAL altogether (FORMATS.md, limits)
  }
  const bool big_endian = (magic & 1u) != 0;
  WalChecksum sum;
  sum.add(big_endian, hdr, 24);
  if (sum.s1 != get_be32(hdr + 24) || sum.s2 != get_be32(hdr + 28)) return WalVerdict::fine;

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
    const bool authentic = open_page(keys, place, fh + kWalFrameHeaderSize, plain.data());
    if (chain_intact) {
      // The test walDecodeFrame applies: same salts, a page number, the running checksum.
      bool valid = authentic && same_generation && place.pgno != 0;
      if (valid) {
        WalChecksum next = sum;
        next.add(big_endian, fh, 8);
        next.add(big_endian, plain.data(), kPage);
        valid = next.s1 == get_be32(fh + 16) && next.s2 == get_be32(fh + 20);
        if (valid) sum = next;
      }
      if (!valid) chain_intact = false;
      continue;
    }
    const bool commits = get_be32(fh + 4) != 0;
    if (authentic && same_generation && commits && place.pgno != 0) return WalVerdict::damaged;
  }
  return WalVerdict::fine;
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
