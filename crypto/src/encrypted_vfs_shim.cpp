// The encrypting VFS shim over SQLite's default VFS (crypto/FORMATS.md, "VFS").
//
// Every sqlite3_file the shim opens wraps one of the default VFS. The main database,
// its WAL and its rollback journal are encrypted page by page; every other kind of file
// (temp databases, statement journals, sorter spills, super-journals) is refused, so a
// spill that would put plaintext on disk fails closed instead.
#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <vector>

#include "page_cipher.hpp"

namespace teduh::crypto::detail {
namespace {

constexpr const char* kVfsName = "teduh-enc";

struct FileState {
  FileKind kind = FileKind::db;
  std::shared_ptr<StoreKeys> keys;
  std::vector<std::uint8_t> scratch = std::vector<std::uint8_t>(kWalFrameSize);
  std::vector<std::uint8_t> plain = std::vector<std::uint8_t>(kPage);
  // WAL only, to spare reading back what this handle just wrote (FORMATS.md, "WAL"):
  // the last frame header it wrote (SQLite writes a frame as its header, then its page),
  // and the frames whose header it wrote with zero salts (the only ones whose page may
  // need re-sealing when their real salts arrive, see wal_reseal_for_header).
  std::uint64_t last_header_off = 0;  // 0: none (no frame starts at offset 0)
  std::array<std::uint8_t, kWalFrameHeaderSize> last_header{};
  std::set<std::uint64_t> zero_salt_frames;
};

struct ShimFile {
  sqlite3_file base;
  FileState* state;
  sqlite3_file* real;  // lives in the same allocation, after this struct
};

sqlite3_vfs* real_vfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
ShimFile* shim(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f); }

// Reads raw bytes; returns how many were on disk (the rest is zero-filled).
std::size_t raw_read(sqlite3_file* real, std::uint8_t* buf, std::size_t n, std::uint64_t off,
                     int* rc_out = nullptr) {
  const int rc = real->pMethods->xRead(real, buf, static_cast<int>(n), static_cast<sqlite3_int64>(off));
  if (rc_out != nullptr) *rc_out = rc;
  if (rc == SQLITE_OK) return n;
  if (rc != SQLITE_IOERR_SHORT_READ) return 0;
  // Short read: SQLite's contract zero-fills the tail; find where data ends.
  sqlite3_int64 size = 0;
  if (real->pMethods->xFileSize(real, &size) != SQLITE_OK || size <= static_cast<sqlite3_int64>(off)) {
    return 0;
  }
  const auto avail = static_cast<std::uint64_t>(size) - off;
  return avail < n ? static_cast<std::size_t>(avail) : n;
}

bool all_zero(const std::uint8_t* p, std::size_t n) {
  std::uint8_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc |= p[i];
  return acc == 0;
}

// ---- main database file: pages at (pgno-1)*4096 ----

int db_read(ShimFile* f, std::uint8_t* out, int amt, sqlite3_int64 off) {
  FileState& st = *f->state;
  const auto start = static_cast<std::uint64_t>(off);
  const auto end = start + static_cast<std::uint64_t>(amt);
  bool short_read = false;
  for (std::uint64_t page_off = start - start % kPage; page_off < end; page_off += kPage) {
    int rc = SQLITE_OK;
    const std::size_t got = raw_read(f->real, st.scratch.data(), kPage, page_off, &rc);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
    const std::uint64_t lo = std::max(start, page_off);
    const std::uint64_t hi = std::min(end, page_off + kPage);
    std::uint8_t* dst = out + (lo - start);
    if (got == 0) {  // beyond the end of the file: zeros pass through
      std::memset(dst, 0, hi - lo);
      short_read = true;
      continue;
    }
    if (got < kPage) return SQLITE_IOERR_DATA;  // a cut page is damage, not a short read
    PagePlace place;
    place.kind = FileKind::db;
    place.pgno = static_cast<std::uint32_t>(page_off / kPage + 1);
    place.offset = page_off;
    if (!open_page(*st.keys, place, st.scratch.data(), st.plain.data())) return SQLITE_IOERR_DATA;
    std::memcpy(dst, st.plain.data() + (lo - page_off), hi - lo);
  }
  return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

int db_write(ShimFile* f, const std::uint8_t* in, int amt, sqlite3_int64 off) {
  FileState& st = *f->state;
  // With a fixed page size SQLite writes the main file a whole page at a time.
  if (amt <= 0 || off < 0 || static_cast<std::size_t>(amt) % kPage != 0 ||
      static_cast<std::uint64_t>(off) % kPage != 0) {
    return SQLITE_IOERR_WRITE;
  }
  for (std::size_t done = 0; done < static_cast<std::size_t>(amt); done += kPage) {
    const std::uint64_t page_off = static_cast<std::uint64_t>(off) + done;
    PagePlace place;
    place.kind = FileKind::db;
    place.pgno = static_cast<std::uint32_t>(page_off / kPage + 1);
    place.offset = page_off;
    seal_page(*st.keys, place, in + done, st.scratch.data());
    const int rc = f->real->pMethods->xWrite(f->real, st.scratch.data(), static_cast<int>(kPage),
                                             static_cast<sqlite3_int64>(page_off));
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

// ---- WAL: 32-byte header, then frames of a 24-byte header and a page ----

// The frame (1-based) whose page region contains byte offset, or 0.
std::uint32_t wal_frame_of_page_byte(std::uint64_t offset) {
  if (offset < kWalHeaderSize) return 0;
  const std::uint64_t rel = offset - kWalHeaderSize;
  if (rel % kWalFrameSize < kWalFrameHeaderSize) return 0;
  return static_cast<std::uint32_t>(rel / kWalFrameSize + 1);
}

std::uint64_t wal_frame_offset(std::uint32_t frame) {
  return kWalHeaderSize + std::uint64_t{frame - 1} * kWalFrameSize;
}

PagePlace wal_place(const std::uint8_t* frame_header, std::uint64_t frame_off) {
  PagePlace place;
  place.kind = FileKind::wal;
  place.pgno = get_be32(frame_header);
  place.offset = frame_off + kWalFrameHeaderSize;
  std::memcpy(place.wal_salt.data(), frame_header + 8, 8);
  place.wal_commit = get_be32(frame_header + 4);  // bound to the page: FORMATS.md section 4
  return place;
}

int wal_read(ShimFile* f, std::uint8_t* out, int amt, sqlite3_int64 off) {
  FileState& st = *f->state;
  const auto start = static_cast<std::uint64_t>(off);
  const auto end = start + static_cast<std::uint64_t>(amt);
  // The common read, one whole page of a frame (a page lookup, a checkpoint): one read of
  // the frame, header included, and its page opened. Anything else, or a frame that is
  // cut short or does not open, takes the general path below.
  if (amt == static_cast<int>(kPage) && start >= kWalHeaderSize &&
      (start - kWalHeaderSize) % kWalFrameSize == kWalFrameHeaderSize) {
    const std::uint64_t frame_off = start - kWalFrameHeaderSize;
    if (raw_read(f->real, st.scratch.data(), kWalFrameSize, frame_off) == kWalFrameSize &&
        open_page(*st.keys, wal_place(st.scratch.data(), frame_off), st.scratch.data() + kWalFrameHeaderSize,
                  st.plain.data())) {
      std::memcpy(out, st.plain.data(), kPage);
      return SQLITE_OK;
    }
  }
  int rc = f->real->pMethods->xRead(f->real, out, amt, off);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
  // Replace every page region the read touches by its plaintext.
  std::uint32_t first = start < kWalHeaderSize ? 1 : static_cast<std::uint32_t>((start - kWalHeaderSize) / kWalFrameSize + 1);
  for (std::uint32_t frame = first;; ++frame) {
    const std::uint64_t frame_off = wal_frame_offset(frame);
    const std::uint64_t page_lo = frame_off + kWalFrameHeaderSize;
    const std::uint64_t page_hi = page_lo + kPage;
    if (frame_off >= end) break;
    if (page_hi <= start || page_lo >= end) continue;
    const std::uint64_t lo = std::max(start, page_lo);
    const std::uint64_t hi = std::min(end, page_hi);
    std::uint8_t* dst = out + (lo - start);
    const std::size_t got = raw_read(f->real, st.scratch.data(), kWalFrameSize, frame_off);
    if (got < kWalFrameSize) {
      // A frame cut by the end of the file: SQLite's recovery never reads it; give zeros.
      std::memset(dst, 0, hi - lo);
      continue;
    }
    const PagePlace place = wal_place(st.scratch.data(), frame_off);
    if (open_page(*st.keys, place, st.scratch.data() + kWalFrameHeaderSize, st.plain.data())) {
      std::memcpy(dst, st.plain.data() + (lo - page_lo), hi - lo);
      continue;
    }
    // Authentication failed. A read that starts at the frame header is WAL recovery
    // (walIndexRecover reads whole frames). If no later frame of this generation
    // commits, this is the torn tail of a transaction that never committed: give SQLite
    // zeros, which fail its frame checksum, so recovery stops here. Anything else is
    // damage to committed data (FORMATS.md, "WAL").
    const bool recovery_read = start <= frame_off;
    if (recovery_read) {
      sqlite3_int64 size = 0;
      if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK) return SQLITE_IOERR_FSTAT;
      auto reader = [f](std::uint8_t* buf, std::size_t n, std::uint64_t o) {
        return raw_read(f->real, buf, n, o);
      };
      if (check_wal(*st.keys, static_cast<std::uint64_t>(size), reader, frame) == WalVerdict::fine) {
        std::memset(dst, 0, hi - lo);
        continue;
      }
    }
    return SQLITE_IOERR_DATA;
  }
  return rc;
}

// A transaction that overwrote one of its own frames (a page spilled from the cache and
// written again) makes SQLite write its later frames with zero salts and checksums, and
// fill both in just before the commit frame (walRewriteChecksums: a 24-byte header write
// per frame). The page of such a frame was sealed with the zero salts in its associated
// data; when its header gets its real salts, the page is re-sealed to match, before the
// header is written. Only headers whose salts on disk are zero take this path, so fresh
// frames written over an older WAL generation cost nothing extra.
int wal_reseal_for_header(ShimFile* f, const std::uint8_t* new_header, std::uint64_t frame_off) {
  FileState& st = *f->state;
  std::uint8_t old_header[kWalFrameHeaderSize];
  if (raw_read(f->real, old_header, kWalFrameHeaderSize, frame_off) < kWalFrameHeaderSize) return SQLITE_OK;
  if (!all_zero(old_header + 8, 8) || all_zero(new_header + 8, 8)) return SQLITE_OK;
  if (get_be32(old_header) != get_be32(new_header)) return SQLITE_OK;  // not a rewrite of this frame
  const std::uint64_t page_off = frame_off + kWalFrameHeaderSize;
  if (raw_read(f->real, st.scratch.data(), kPage, page_off) < kPage) return SQLITE_OK;
  if (!open_page(*st.keys, wal_place(old_header, frame_off), st.scratch.data(), st.plain.data())) {
    return SQLITE_OK;  // not a page sealed under this header: leave it to fail on read
  }
  seal_page(*st.keys, wal_place(new_header, frame_off), st.plain.data(), st.scratch.data());
  return f->real->pMethods->xWrite(f->real, st.scratch.data(), static_cast<int>(kPage),
                                   static_cast<sqlite3_int64>(page_off));
}

int wal_write(ShimFile* f, const std::uint8_t* in, int amt, sqlite3_int64 off) {
  FileState& st = *f->state;
  const auto start = static_cast<std::uint64_t>(off);
  const auto end = start + static_cast<std::uint64_t>(amt);
  // Which page regions does this write touch?
  std::uint32_t first = start < kWalHeaderSize ? 1 : static_cast<std::uint32_t>((start - kWalHeaderSize) / kWalFrameSize + 1);
  bool touches_page = false;
  for (std::uint32_t frame = first; wal_frame_offset(frame) < end; ++frame) {
    const std::uint64_t page_lo = wal_frame_offset(frame) + kWalFrameHeaderSize;
    if (page_lo < end && page_lo + kPage > start) touches_page = true;
  }
  if (!touches_page) {
    if (amt == static_cast<int>(kWalFrameHeaderSize) && start >= kWalHeaderSize &&
        (start - kWalHeaderSize) % kWalFrameSize == 0) {
      // Only a frame this handle wrote with zero salts can need its page re-sealed.
      if (st.zero_salt_frames.erase(start) > 0) {
        if (int rc = wal_reseal_for_header(f, in, start); rc != SQLITE_OK) return rc;
      }
      if (all_zero(in + 8, 8)) st.zero_salt_frames.insert(start);
      st.last_header_off = start;
      std::memcpy(st.last_header.data(), in, kWalFrameHeaderSize);
    }
    return f->real->pMethods->xWrite(f->real, in, amt, off);  // headers: clear
  }

  // SQLite writes a frame as its header, then its page (walWriteOneFrame), or the page
  // alone when it overwrites a frame of the open transaction. Accept exactly those.
  std::uint64_t frame_off = 0;
  const std::uint8_t* page = nullptr;
  if (wal_frame_of_page_byte(start) != 0 && amt == static_cast<int>(kPage) &&
      (start - kWalHeaderSize) % kWalFrameSize == kWalFrameHeaderSize) {
    frame_off = start - kWalFrameHeaderSize;
    page = in;
    // The page number and salts come from the frame header already on disk: the one
    // this handle has just written, or else read back.
    if (st.last_header_off == frame_off) {
      std::memcpy(st.scratch.data(), st.last_header.data(), kWalFrameHeaderSize);
    } else if (raw_read(f->real, st.scratch.data(), kWalFrameHeaderSize, frame_off) < kWalFrameHeaderSize) {
      return SQLITE_IOERR_WRITE;
    }
  } else if (start >= kWalHeaderSize && (start - kWalHeaderSize) % kWalFrameSize == 0 &&
             amt == static_cast<int>(kWalFrameSize)) {
    frame_off = start;
    page = in + kWalFrameHeaderSize;
    std::memcpy(st.scratch.data(), in, kWalFrameHeaderSize);
    if (all_zero(in + 8, 8)) {
      st.zero_salt_frames.insert(start);
    } else {
      st.zero_salt_frames.erase(start);
    }
    st.last_header_off = start;
    std::memcpy(st.last_header.data(), in, kWalFrameHeaderSize);
  } else {
    return SQLITE_IOERR_WRITE;  // a split page write; fail closed (FORMATS.md)
  }
  // Reads give back zeros in the reserved area; a page that carried anything else there
  // would fail its WAL checksum on recovery and silently drop commits. Refuse it now.
  if (!all_zero(page + kUsable, kPage - kUsable)) return SQLITE_IOERR_WRITE;
  const PagePlace place = wal_place(st.scratch.data(), frame_off);
  if (place.pgno == 0) return SQLITE_IOERR_WRITE;
  seal_page(*st.keys, place, page, st.scratch.data() + kWalFrameHeaderSize);
  if (page == in) {
    return f->real->pMethods->xWrite(f->real, st.scratch.data() + kWalFrameHeaderSize,
                                     static_cast<int>(kPage), off);
  }
  return f->real->pMethods->xWrite(f->real, st.scratch.data(), static_cast<int>(kWalFrameSize), off);
}

// ---- rollback journal: headers at sector boundaries, records pgno(4) page checksum(4) ----
//
// Page records never start at a multiple of 512 (offset = header + 4 + 4104*n), and
// SQLite writes and reads the page of a record as one call of exactly a page, right after
// its 4-byte page number. Everything else in the journal (headers, page numbers,
// checksums) is kept in clear.

bool journal_page_call(int amt, sqlite3_int64 off) {
  return amt == static_cast<int>(kPage) && off >= 4 && off % 512 != 0;
}

int journal_read(ShimFile* f, std::uint8_t* out, int amt, sqlite3_int64 off) {
  FileState& st = *f->state;
  if (!journal_page_call(amt, off)) return f->real->pMethods->xRead(f->real, out, amt, off);
  std::uint8_t pgno_be[4];
  if (raw_read(f->real, pgno_be, 4, static_cast<std::uint64_t>(off) - 4) < 4) return SQLITE_IOERR_SHORT_READ;
  int rc = SQLITE_OK;
  const std::size_t got = raw_read(f->real, st.scratch.data(), kPage, static_cast<std::uint64_t>(off), &rc);
  if (got == 0) {
    std::memset(out, 0, kPage);
    return SQLITE_IOERR_SHORT_READ;
  }
  if (got < kPage) return SQLITE_IOERR_DATA;
  PagePlace place;
  place.kind = FileKind::journal;
  place.pgno = get_be32(pgno_be);
  place.offset = static_cast<std::uint64_t>(off);
  if (!open_page(*st.keys, place, st.scratch.data(), out)) return SQLITE_IOERR_DATA;
  return SQLITE_OK;
}

int journal_write(ShimFile* f, const std::uint8_t* in, int amt, sqlite3_int64 off) {
  FileState& st = *f->state;
  if (!journal_page_call(amt, off)) {
    if (amt >= static_cast<int>(kPage) && off % 512 != 0) return SQLITE_IOERR_WRITE;
    return f->real->pMethods->xWrite(f->real, in, amt, off);
  }
  std::uint8_t pgno_be[4];
  if (raw_read(f->real, pgno_be, 4, static_cast<std::uint64_t>(off) - 4) < 4) return SQLITE_IOERR_WRITE;
  PagePlace place;
  place.kind = FileKind::journal;
  place.pgno = get_be32(pgno_be);
  place.offset = static_cast<std::uint64_t>(off);
  if (place.pgno == 0 || !all_zero(in + kUsable, kPage - kUsable)) return SQLITE_IOERR_WRITE;
  seal_page(*st.keys, place, in, st.scratch.data());
  return f->real->pMethods->xWrite(f->real, st.scratch.data(), static_cast<int>(kPage), off);
}

// ---- sqlite3_io_methods ----

int x_close(sqlite3_file* file) {
  ShimFile* f = shim(file);
  int rc = SQLITE_OK;
  if (f->real->pMethods != nullptr) rc = f->real->pMethods->xClose(f->real);
  delete f->state;
  f->state = nullptr;
  return rc;
}

int x_read(sqlite3_file* file, void* buf, int amt, sqlite3_int64 off) {
  ShimFile* f = shim(file);
  auto* out = static_cast<std::uint8_t*>(buf);
  switch (f->state->kind) {
    case FileKind::db: return db_read(f, out, amt, off);
    case FileKind::wal: return wal_read(f, out, amt, off);
    case FileKind::journal: return journal_read(f, out, amt, off);
  }
  return SQLITE_IOERR_READ;
}

int x_write(sqlite3_file* file, const void* buf, int amt, sqlite3_int64 off) {
  ShimFile* f = shim(file);
  const auto* in = static_cast<const std::uint8_t*>(buf);
  switch (f->state->kind) {
    case FileKind::db: return db_write(f, in, amt, off);
    case FileKind::wal: return wal_write(f, in, amt, off);
    case FileKind::journal: return journal_write(f, in, amt, off);
  }
  return SQLITE_IOERR_WRITE;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  ShimFile* f = shim(file);
  f->state->last_header_off = 0;
  f->state->zero_salt_frames.clear();
  sqlite3_file* r = f->real;
  return r->pMethods->xTruncate(r, size);
}
int x_sync(sqlite3_file* file, int flags) {
  sqlite3_file* r = shim(file)->real;
  return r->pMethods->xSync(r, flags);
}
int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  sqlite3_file* r = shim(file)->real;
  return r->pMethods->xFileSize(r, size);
}
int x_lock(sqlite3_file* file, int lock) {
  sqlite3_file* r = shim(file)->real;
  return r->pMethods->xLock(r, lock);
}
int x_unlock(sqlite3_file* file, int lock) {
  sqlite3_file* r = shim(file)->real;
  return r->pMethods->xUnlock(r, lock);
}
int x_check_reserved_lock(sqlite3_file* file, int* out) {
  sqlite3_file* r = shim(file)->real;
  return r->pMethods->xCheckReservedLock(r, out);
}
int x_file_control(sqlite3_file* file, int op, void* arg) {
  sqlite3_file* r = shim(file)->real;
  if (op == SQLITE_FCNTL_MMAP_SIZE) {
    // Memory-mapped reads would bypass decryption: keep the limit at zero.
    *static_cast<sqlite3_int64*>(arg) = 0;
    return SQLITE_OK;
  }
  return r->pMethods->xFileControl(r, op, arg);
}
int x_sector_size(sqlite3_file* file) {
  sqlite3_file* r = shim(file)->real;
  return r->pMethods->xSectorSize(r);
}
int x_device_characteristics(sqlite3_file* file) {
  sqlite3_file* r = shim(file)->real;
  // Atomic batch writes would bypass the journal; the shim never claims them.
  return r->pMethods->xDeviceCharacteristics(r) & ~SQLITE_IOCAP_BATCH_ATOMIC;
}
int x_shm_map(sqlite3_file* file, int pg, int pgsz, int extend, void volatile** pp) {
  sqlite3_file* r = shim(file)->real;
  return r->pMethods->xShmMap(r, pg, pgsz, extend, pp);
}
int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  sqlite3_file* r = shim(file)->real;
  return r->pMethods->xShmLock(r, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* file) {
  sqlite3_file* r = shim(file)->real;
  r->pMethods->xShmBarrier(r);
}
int x_shm_unmap(sqlite3_file* file, int del) {
  sqlite3_file* r = shim(file)->real;
  return r->pMethods->xShmUnmap(r, del);
}
int x_fetch(sqlite3_file*, sqlite3_int64, int, void** pp) {
  *pp = nullptr;  // no memory-mapped pages: every read goes through x_read
  return SQLITE_OK;
}
int x_unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

const sqlite3_io_methods kShimMethods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

// ---- sqlite3_vfs ----

constexpr int kRefusedKinds = SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL |
                              SQLITE_OPEN_SUBJOURNAL | SQLITE_OPEN_TRANSIENT_DB |
                              SQLITE_OPEN_SUPER_JOURNAL;

int x_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  ShimFile* f = shim(file);
  f->base.pMethods = nullptr;
  f->state = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->real->pMethods = nullptr;
  if (name == nullptr || (flags & kRefusedKinds) != 0) return SQLITE_CANTOPEN;
  FileKind kind;
  if ((flags & SQLITE_OPEN_MAIN_DB) != 0) {
    kind = FileKind::db;
  } else if ((flags & SQLITE_OPEN_WAL) != 0) {
    kind = FileKind::wal;
  } else if ((flags & SQLITE_OPEN_MAIN_JOURNAL) != 0) {
    kind = FileKind::journal;
  } else {
    return SQLITE_CANTOPEN;
  }
  // The URI parameter works on WAL and journal names too (they point back at the db name).
  const sqlite3_int64 handle = sqlite3_uri_int64(name, kUriKeyParam, 0);
  std::shared_ptr<StoreKeys> keys = handle > 0 ? find_store(static_cast<std::uint64_t>(handle)) : nullptr;
  if (keys == nullptr) return SQLITE_CANTOPEN;  // no key: nothing is opened in clear
  sqlite3_vfs* real = real_vfs(vfs);
  const int rc = real->xOpen(real, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->real->pMethods = nullptr;
    return rc;
  }
  f->state = new (std::nothrow) FileState();
  if (f->state == nullptr) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_NOMEM;
  }
  f->state->kind = kind;
  f->state->keys = std::move(keys);
  f->base.pMethods = &kShimMethods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return real_vfs(vfs)->xDelete(real_vfs(vfs), name, sync_dir);
}
int x_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return real_vfs(vfs)->xAccess(real_vfs(vfs), name, flags, out);
}
int x_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return real_vfs(vfs)->xFullPathname(real_vfs(vfs), name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char*) { return nullptr; }  // no extensions
void x_dl_error(sqlite3_vfs*, int n, char* msg) {
  if (n > 0) std::snprintf(msg, static_cast<std::size_t>(n), "extensions are disabled");
}
void (*x_dl_sym(sqlite3_vfs*, void*, const char*))(void) { return nullptr; }
void x_dl_close(sqlite3_vfs*, void*) {}
int x_randomness(sqlite3_vfs* vfs, int n, char* out) {
  return real_vfs(vfs)->xRandomness(real_vfs(vfs), n, out);
}
int x_sleep(sqlite3_vfs* vfs, int us) { return real_vfs(vfs)->xSleep(real_vfs(vfs), us); }
int x_current_time(sqlite3_vfs* vfs, double* out) {
  return real_vfs(vfs)->xCurrentTime(real_vfs(vfs), out);
}
int x_get_last_error(sqlite3_vfs* vfs, int n, char* out) {
  return real_vfs(vfs)->xGetLastError(real_vfs(vfs), n, out);
}
int x_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  sqlite3_vfs* r = real_vfs(vfs);
  if (r->iVersion >= 2 && r->xCurrentTimeInt64 != nullptr) return r->xCurrentTimeInt64(r, out);
  double now = 0;
  const int rc = r->xCurrentTime(r, &now);
  *out = static_cast<sqlite3_int64>(now * 86400000.0);
  return rc;
}

}  // namespace

const char* ensure_vfs_registered() {
  static std::once_flag once;
  static sqlite3_vfs vfs{};
  std::call_once(once, [] {
    init();
    sqlite3_initialize();
    sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
    if (real == nullptr) std::abort();
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(sizeof(ShimFile)) + real->szOsFile;
    vfs.mxPathname = real->mxPathname;
    vfs.zName = kVfsName;
    vfs.pAppData = real;
    vfs.xOpen = x_open;
    vfs.xDelete = x_delete;
    vfs.xAccess = x_access;
    vfs.xFullPathname = x_full_pathname;
    vfs.xDlOpen = x_dl_open;
    vfs.xDlError = x_dl_error;
    vfs.xDlSym = x_dl_sym;
    vfs.xDlClose = x_dl_close;
    vfs.xRandomness = x_randomness;
    vfs.xSleep = x_sleep;
    vfs.xCurrentTime = x_current_time;
    vfs.xGetLastError = x_get_last_error;
    vfs.xCurrentTimeInt64 = x_current_time_int64;
    if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) std::abort();
  });
  return kVfsName;
}

}  // namespace teduh::crypto::detail
