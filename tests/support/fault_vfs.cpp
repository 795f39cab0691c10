// The fault-injecting VFS (fault_vfs.hpp says what it models and what it does not).
//
// Bookkeeping, all under one mutex:
//  - handles_: every open FaultFile's state (its path, whether a crash killed it);
//  - files_:   per path, the undo log of a file with unsynced changes: the size it had at
//              its last sync and the pre-image of every 4 KiB chunk below that size that
//              an unsynced write or truncate touched, saved before the first such touch.
//              A crash writes the chunks back and truncates the file to that size; a
//              sync drops the entry. Bytes past the synced size need no pre-image: the
//              truncation removes them.
//  - downs_:   prefixes crashed while handles were open, with how many are still open.
#include "support/fault_vfs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <vector>

namespace teduh::testing {
namespace {

constexpr std::uint64_t kChunk = 4096;

struct HandleState {
  std::string path;  // full path as SQLite opened it; empty for anonymous temp files
  bool dead = false;
  std::string down_key;  // the crash prefix that killed it
};

struct FaultFile {
  sqlite3_file base;
  HandleState* state;
  sqlite3_file* real;  // lives in the same allocation, after this struct
};

struct UndoLog {
  std::uint64_t synced_size = 0;
  std::map<std::uint64_t, std::vector<std::uint8_t>> chunks;  // chunk index -> pre-image
};

struct State {
  mutable std::mutex mutex;
  sqlite3_vfs vfs{};
  sqlite3_vfs* unix_vfs = nullptr;
  bool is_default = false;

  std::uint64_t rng = 0;
  std::string error_prefix;
  IoErrorRates rates;
  std::string budget_prefix;
  std::optional<std::uint64_t> budget;
  std::string crash_prefix;
  std::optional<std::uint64_t> crash_countdown;  // write/truncate/sync calls left before it
  CrashKind crash_kind = CrashKind::power_loss;

  std::set<HandleState*> handles;
  std::map<std::string, UndoLog> files;
  std::map<std::string, std::size_t> downs;
  FaultCounts counts;
};

State& state() {
  static State* s = new State();  // never destroyed: SQLite may hold the VFS to the end
  return *s;
}

FaultFile* fault(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f); }

// An empty prefix holds every named file; anonymous temp files are under none.
bool under(const std::string& path, const std::string& prefix) {
  return !path.empty() && path.compare(0, prefix.size(), prefix) == 0;
}

// splitmix64: small, good enough, and the same everywhere.
std::uint64_t next_random(State& s) {
  std::uint64_t z = (s.rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Draws only when a fault is armed for this file, so files outside the prefix do not
// move the generator.
bool inject(State& s, const std::string& path, double rate) {
  if (rate <= 0 || !under(path, s.error_prefix)) return false;
  const double u = static_cast<double>(next_random(s) >> 11) * 0x1.0p-53;
  return u < rate;
}

bool is_down(const State& s, const std::string& path) {
  for (const auto& [prefix, open] : s.downs) {
    if (open > 0 && under(path, prefix)) return true;
  }
  return false;
}

int real_size(sqlite3_file* real, std::uint64_t* out) {
  sqlite3_int64 size = 0;
  const int rc = real->pMethods->xFileSize(real, &size);
  *out = static_cast<std::uint64_t>(size);
  return rc;
}

// Saves the pre-images of the chunks in [from, to) below the synced size that have none
// yet. The file has not changed there since its last sync (any change would have saved
// the chunk first), so what is on disk now is the durable content.
int save_pre_images(UndoLog& log, sqlite3_file* real, std::uint64_t from, std::uint64_t to) {
  to = std::min(to, log.synced_size);
  if (from >= to) return SQLITE_OK;
  for (std::uint64_t c = from / kChunk; c * kChunk < to; ++c) {
    if (log.chunks.count(c) != 0) continue;
    const std::uint64_t start = c * kChunk;
    const std::uint64_t len = std::min(kChunk, log.synced_size - start);
    std::vector<std::uint8_t> bytes(len);
    const int rc = real->pMethods->xRead(real, bytes.data(), static_cast<int>(len),
                                         static_cast<sqlite3_int64>(start));
    if (rc != SQLITE_OK) return rc;  // nothing written yet: the caller fails the call
    log.chunks.emplace(c, std::move(bytes));
  }
  return SQLITE_OK;
}

// The undo log of a file about to change, started at its current size if it was clean.
int log_for(State& s, const std::string& path, sqlite3_file* real, UndoLog** out) {
  auto it = s.files.find(path);
  if (it == s.files.end()) {
    std::uint64_t size = 0;
    if (const int rc = real_size(real, &size); rc != SQLITE_OK) return rc;
    it = s.files.emplace(path, UndoLog{size, {}}).first;
  }
  *out = &it->second;
  return SQLITE_OK;
}

// Writes the pre-images back and cuts the file to its synced size, outside SQLite (the
// handles on it are dead or absent). Returns the bytes it restored or cut.
std::uint64_t revert(const std::string& path, const UndoLog& log) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return 0;  // deleted since: deletion is durable (fault_vfs.hpp)
  std::uint64_t bytes = 0;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > log.synced_size) {
    bytes += static_cast<std::uint64_t>(st.st_size) - log.synced_size;
  }
  for (const auto& [c, pre] : log.chunks) {
    if (::pwrite(fd, pre.data(), pre.size(), static_cast<off_t>(c * kChunk)) !=
        static_cast<ssize_t>(pre.size())) {
      std::abort();  // the harness's own disk failed: no test result means anything now
    }
    bytes += pre.size();
  }
  if (::ftruncate(fd, static_cast<off_t>(log.synced_size)) != 0) std::abort();
  ::close(fd);
  return bytes;
}

std::size_t crash_locked(State& s, const std::string& p, CrashKind kind) {
  ++s.counts.crashes;
  std::size_t killed = 0;
  for (HandleState* h : s.handles) {
    if (h->dead || !under(h->path, p)) continue;
    h->dead = true;
    h->down_key = p;
    ++killed;
  }
  if (killed > 0) s.downs[p] += killed;
  // A killed process leaves its unsynced writes with the kernel: still at risk from a
  // later power loss, so their undo logs stay.
  if (kind == CrashKind::process_kill) return killed;
  for (auto it = s.files.begin(); it != s.files.end();) {
    if (under(it->first, p)) {
      ++s.counts.reverted_files;
      s.counts.reverted_bytes += revert(it->first, it->second);
      it = s.files.erase(it);
    } else {
      ++it;
    }
  }
  return killed;
}

// True when this call is the armed crash point (arm_crash): the crash has just happened
// in its place, and the call fails as on the dead handle it now is.
bool crash_point(State& s, const std::string& path) {
  if (!s.crash_countdown || !under(path, s.crash_prefix)) return false;
  if (--*s.crash_countdown > 0) return false;
  s.crash_countdown.reset();
  crash_locked(s, s.crash_prefix, s.crash_kind);
  return true;
}

// ---- sqlite3_io_methods ----

int dead_call(State& s, int rc) {
  ++s.counts.dead_calls;
  return rc;
}

int x_close(sqlite3_file* file) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  const int rc = f->real->pMethods != nullptr ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  if (f->state->dead) {
    auto it = s.downs.find(f->state->down_key);
    if (it != s.downs.end() && --it->second == 0) s.downs.erase(it);
  }
  s.handles.erase(f->state);
  delete f->state;
  f->state = nullptr;
  return rc;
}

int x_read(sqlite3_file* file, void* buf, int amt, sqlite3_int64 off) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (f->state->dead) return dead_call(s, SQLITE_IOERR_READ);
  if (inject(s, f->state->path, s.rates.read)) {
    ++s.counts.read_errors;
    return SQLITE_IOERR_READ;
  }
  return f->real->pMethods->xRead(f->real, buf, amt, off);
}

int x_write(sqlite3_file* file, const void* buf, int amt, sqlite3_int64 off) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  const std::string& path = f->state->path;
  if (f->state->dead || crash_point(s, path)) return dead_call(s, SQLITE_IOERR_WRITE);
  if (inject(s, path, s.rates.write)) {
    ++s.counts.write_errors;
    return SQLITE_IOERR_WRITE;
  }
  if (path.empty()) return f->real->pMethods->xWrite(f->real, buf, amt, off);
  const auto start = static_cast<std::uint64_t>(off);
  const std::uint64_t end = start + static_cast<std::uint64_t>(amt);
  const bool budgeted = s.budget.has_value() && under(path, s.budget_prefix);
  std::uint64_t growth = 0;  // only a budgeted write needs the file's size (one fstat)
  if (budgeted) {
    std::uint64_t size = 0;
    if (const int rc = real_size(f->real, &size); rc != SQLITE_OK) return rc;
    growth = end > size ? end - size : 0;
  }
  if (budgeted && growth > *s.budget) {
    ++s.counts.full_errors;
    return SQLITE_FULL;
  }
  UndoLog* log = nullptr;
  if (const int rc = log_for(s, path, f->real, &log); rc != SQLITE_OK) return rc;
  if (const int rc = save_pre_images(*log, f->real, start, end); rc != SQLITE_OK) return rc;
  const int rc = f->real->pMethods->xWrite(f->real, buf, amt, off);
  if (rc == SQLITE_OK && budgeted) *s.budget -= growth;
  return rc;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  const std::string& path = f->state->path;
  if (f->state->dead || crash_point(s, path)) return dead_call(s, SQLITE_IOERR_TRUNCATE);
  if (inject(s, path, s.rates.truncate)) {
    ++s.counts.truncate_errors;
    return SQLITE_IOERR_TRUNCATE;
  }
  if (!path.empty()) {
    std::uint64_t current = 0;
    if (const int rc = real_size(f->real, &current); rc != SQLITE_OK) return rc;
    const auto target = static_cast<std::uint64_t>(size);
    if (target < current) {
      UndoLog* log = nullptr;
      if (const int rc = log_for(s, path, f->real, &log); rc != SQLITE_OK) return rc;
      if (const int rc = save_pre_images(*log, f->real, target, current); rc != SQLITE_OK)
        return rc;
    }
  }
  return f->real->pMethods->xTruncate(f->real, size);
}

int x_sync(sqlite3_file* file, int flags) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (f->state->dead || crash_point(s, f->state->path)) return dead_call(s, SQLITE_IOERR_FSYNC);
  if (inject(s, f->state->path, s.rates.sync)) {
    ++s.counts.sync_errors;
    return SQLITE_IOERR_FSYNC;
  }
  const int rc = f->real->pMethods->xSync(f->real, flags);
  if (rc == SQLITE_OK) {
    ++s.counts.syncs;
    s.files.erase(f->state->path);
  }
  return rc;
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (f->state->dead) return dead_call(s, SQLITE_IOERR_FSTAT);
  return f->real->pMethods->xFileSize(f->real, size);
}

int x_lock(sqlite3_file* file, int level) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (f->state->dead) return dead_call(s, SQLITE_IOERR_LOCK);
  return f->real->pMethods->xLock(f->real, level);
}

int x_unlock(sqlite3_file* file, int level) {  // releases: allowed on a dead handle
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  return f->real->pMethods->xUnlock(f->real, level);
}

int x_check_reserved_lock(sqlite3_file* file, int* out) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (f->state->dead) return dead_call(s, SQLITE_IOERR_CHECKRESERVEDLOCK);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  // An error here (not SQLITE_NOTFOUND) also stops a dead connection's checkpoint and
  // WAL deletion at close (SQLITE_FCNTL_HAS_MOVED).
  if (f->state->dead) return dead_call(s, SQLITE_IOERR);
  if (op == SQLITE_FCNTL_MMAP_SIZE) {
    *static_cast<sqlite3_int64*>(arg) = 0;  // every read through xRead
    return SQLITE_OK;
  }
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int x_sector_size(sqlite3_file* file) {
  sqlite3_file* r = fault(file)->real;
  return r->pMethods->xSectorSize(r);
}

int x_device_characteristics(sqlite3_file* file) {
  sqlite3_file* r = fault(file)->real;
  return r->pMethods->xDeviceCharacteristics(r);
}

int x_shm_map(sqlite3_file* file, int pg, int pgsz, int extend, void volatile** pp) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (f->state->dead) {
    *pp = nullptr;
    return dead_call(s, SQLITE_IOERR_SHMMAP);
  }
  return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, pp);
}

int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (f->state->dead && (flags & SQLITE_SHM_UNLOCK) == 0) return dead_call(s, SQLITE_IOERR_SHMLOCK);
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

void x_shm_barrier(sqlite3_file* file) {
  sqlite3_file* r = fault(file)->real;
  r->pMethods->xShmBarrier(r);
}

int x_shm_unmap(sqlite3_file* file, int del) {  // releases: allowed on a dead handle
  FaultFile* f = fault(file);
  State& s = state();
  std::lock_guard lock(s.mutex);
  return f->real->pMethods->xShmUnmap(f->real, del);
}

int x_fetch(sqlite3_file*, sqlite3_int64, int, void** pp) {
  *pp = nullptr;  // no memory-mapped pages: every read is an xRead the VFS sees
  return SQLITE_OK;
}

int x_unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

const sqlite3_io_methods kMethods = {
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

sqlite3_vfs* real_vfs() { return state().unix_vfs; }

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  FaultFile* f = fault(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->real->pMethods = nullptr;
  f->state = nullptr;
  State& s = state();
  std::lock_guard lock(s.mutex);
  const std::string path = name != nullptr ? std::string(name) : std::string();
  if (is_down(s, path)) return dead_call(s, SQLITE_CANTOPEN);
  const int rc = real_vfs()->xOpen(real_vfs(), name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->real->pMethods = nullptr;
    return rc;
  }
  f->state = new HandleState{path, false, {}};
  s.handles.insert(f->state);
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  const std::string path = name;
  if (is_down(s, path)) return dead_call(s, SQLITE_IOERR_DELETE);
  const int rc = real_vfs()->xDelete(real_vfs(), name, sync_dir);
  if (rc == SQLITE_OK || rc == SQLITE_IOERR_DELETE_NOENT) s.files.erase(path);
  return rc;
}

int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (is_down(s, name)) return dead_call(s, SQLITE_IOERR_ACCESS);
  return real_vfs()->xAccess(real_vfs(), name, flags, out);
}

int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return real_vfs()->xFullPathname(real_vfs(), name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) { return real_vfs()->xDlOpen(real_vfs(), name); }
void x_dl_error(sqlite3_vfs*, int n, char* msg) { real_vfs()->xDlError(real_vfs(), n, msg); }
void (*x_dl_sym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return real_vfs()->xDlSym(real_vfs(), h, sym);
}
void x_dl_close(sqlite3_vfs*, void* h) { real_vfs()->xDlClose(real_vfs(), h); }
int x_randomness(sqlite3_vfs*, int n, char* out) {
  return real_vfs()->xRandomness(real_vfs(), n, out);
}
int x_sleep(sqlite3_vfs*, int us) { return real_vfs()->xSleep(real_vfs(), us); }
int x_current_time(sqlite3_vfs*, double* out) { return real_vfs()->xCurrentTime(real_vfs(), out); }
int x_get_last_error(sqlite3_vfs*, int n, char* out) {
  return real_vfs()->xGetLastError(real_vfs(), n, out);
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return real_vfs()->xCurrentTimeInt64(real_vfs(), out);
}

}  // namespace

FaultVfs& FaultVfs::install(bool make_default) {
  static FaultVfs* instance = [make_default] {
    sqlite3_initialize();
    State& s = state();
    s.unix_vfs = sqlite3_vfs_find("unix");
    if (s.unix_vfs == nullptr || s.unix_vfs->iVersion < 2) std::abort();
    sqlite3_vfs& v = s.vfs;
    v.iVersion = 2;
    v.szOsFile = static_cast<int>(sizeof(FaultFile)) + s.unix_vfs->szOsFile;
    v.mxPathname = s.unix_vfs->mxPathname;
    v.zName = kName;
    v.xOpen = x_open;
    v.xDelete = x_delete;
    v.xAccess = x_access;
    v.xFullPathname = x_full_pathname;
    v.xDlOpen = x_dl_open;
    v.xDlError = x_dl_error;
    v.xDlSym = x_dl_sym;
    v.xDlClose = x_dl_close;
    v.xRandomness = x_randomness;
    v.xSleep = x_sleep;
    v.xCurrentTime = x_current_time;
    v.xGetLastError = x_get_last_error;
    v.xCurrentTimeInt64 = x_current_time_int64;
    if (sqlite3_vfs_register(&v, make_default ? 1 : 0) != SQLITE_OK) std::abort();
    s.is_default = make_default;
    return new FaultVfs();
  }();
  return *instance;
}

bool FaultVfs::routes_encrypted_stores() const {
  State& s = state();
  // The shim keeps the VFS it wraps in pAppData (crypto's encrypted_vfs_shim.cpp).
  if (sqlite3_vfs* enc = sqlite3_vfs_find("teduh-enc"); enc != nullptr)
    return enc->pAppData == &s.vfs;
  return sqlite3_vfs_find(nullptr) == &s.vfs;
}

std::string FaultVfs::normalize(const std::filesystem::path& prefix) {
  if (prefix.empty()) return {};
  std::error_code ec;
  std::filesystem::path p =
      std::filesystem::weakly_canonical(std::filesystem::absolute(prefix), ec);
  if (ec) p = std::filesystem::absolute(prefix);
  std::string out = p.string();
  if (std::filesystem::is_directory(p, ec) && (out.empty() || out.back() != '/')) out += '/';
  return out;
}

void FaultVfs::set_seed(std::uint64_t seed) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.rng = seed;
}

void FaultVfs::set_io_errors(const std::filesystem::path& prefix, IoErrorRates rates) {
  const std::string p = normalize(prefix);
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.error_prefix = p;
  s.rates = rates;
}

void FaultVfs::set_write_budget(const std::filesystem::path& prefix,
                                std::optional<std::uint64_t> bytes) {
  const std::string p = normalize(prefix);
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.budget_prefix = p;
  s.budget = bytes;
}

std::optional<std::uint64_t> FaultVfs::write_budget_left() const {
  State& s = state();
  std::lock_guard lock(s.mutex);
  return s.budget;
}

void FaultVfs::clear_faults() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.rates = {};
  s.error_prefix.clear();
  s.budget.reset();
  s.budget_prefix.clear();
  s.crash_countdown.reset();
  s.crash_prefix.clear();
}

std::size_t FaultVfs::crash(const std::filesystem::path& prefix, CrashKind kind) {
  const std::string p = normalize(prefix);
  State& s = state();
  std::lock_guard lock(s.mutex);
  return crash_locked(s, p, kind);
}

void FaultVfs::arm_crash(const std::filesystem::path& prefix, std::uint64_t calls, CrashKind kind) {
  const std::string p = normalize(prefix);
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.crash_prefix = p;
  s.crash_kind = kind;
  s.crash_countdown = calls > 0 ? std::optional<std::uint64_t>(calls) : std::nullopt;
}

bool FaultVfs::down(const std::filesystem::path& prefix) const {
  const std::string p = normalize(prefix);
  State& s = state();
  std::lock_guard lock(s.mutex);
  for (const HandleState* h : s.handles) {
    if (h->dead && under(h->path, p)) return true;
  }
  return false;
}

std::size_t FaultVfs::open_handles(const std::filesystem::path& prefix) const {
  const std::string p = normalize(prefix);
  State& s = state();
  std::lock_guard lock(s.mutex);
  return static_cast<std::size_t>(
      std::count_if(s.handles.begin(), s.handles.end(),
                    [&](const HandleState* h) { return !h->path.empty() && under(h->path, p); }));
}

std::size_t FaultVfs::unsynced_files(const std::filesystem::path& prefix) const {
  const std::string p = normalize(prefix);
  State& s = state();
  std::lock_guard lock(s.mutex);
  return static_cast<std::size_t>(std::count_if(s.files.begin(), s.files.end(),
                                                [&](const auto& e) { return under(e.first, p); }));
}

void FaultVfs::forget(const std::filesystem::path& prefix) {
  const std::string p = normalize(prefix);
  State& s = state();
  std::lock_guard lock(s.mutex);
  for (auto it = s.files.begin(); it != s.files.end();) {
    it = under(it->first, p) ? s.files.erase(it) : std::next(it);
  }
}

FaultCounts FaultVfs::counts() const {
  State& s = state();
  std::lock_guard lock(s.mutex);
  return s.counts;
}

void FaultVfs::reset() {
  clear_faults();
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.counts = {};
  s.files.clear();
  s.rng = 0;
}

}  // namespace teduh::testing
