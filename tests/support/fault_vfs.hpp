#pragma once
// A fault-injecting SQLite VFS for tests (in the manner of leveldb's
// db/fault_injection_test.cc and SQLite's test_vfs.c and crash tests).
//
// It is a pass-through over SQLite's "unix" VFS, registered once per process under the
// name "teduh-fault", normally as the default VFS. Installed as the default BEFORE the
// first encrypted store of the process opens, it sits under the encrypting shim
// ("teduh-enc" wraps whatever the default VFS is when it first registers, crypto's
// encrypted_vfs_shim.cpp), so the client's and the server's stores both go through it and
// every fault hits the encrypted bytes: nothing in production code changes or knows.
// routes_encrypted_stores() says whether that worked (it cannot once a store has opened
// in this process before install()).
//
// What it models, per file, for the files whose full path starts with a given prefix:
//
//  - I/O errors: with a probability per kind of call (read, write, sync, truncate), drawn
//    from one generator seeded by set_seed(), the call returns SQLITE_IOERR_READ / _WRITE /
//    _FSYNC / _TRUNCATE and does nothing (no partial write, no partial truncate).
//  - A full disk: set_write_budget(prefix, n) lets writes grow files by n more bytes in
//    total; a write that would grow a file past the budget returns SQLITE_FULL and writes
//    nothing. Overwriting bytes a file already has costs nothing; deleting or truncating
//    files gives nothing back (clear the budget to "free space").
//  - A power loss (CrashKind::power_loss, the default): crash(prefix) undoes every write and
//    truncate made to those files since their last successful xSync, from an undo log of
//    pre-images kept per file path (on a sync, by any handle, the file's log is dropped:
//    fsync makes the file durable, not the handle). Every handle open on those files at
//    the crash becomes dead: each call on it fails with an SQLITE_IOERR code, except the
//    ones that release things (xClose, xUnlock, unlocking xShmLock, xShmUnmap), so the
//    crashed connection closes cleanly without writing, checkpointing or deleting. Until
//    the last dead handle under the prefix is closed, the prefix stays "down": opening,
//    deleting or probing a file there fails, so a reopen cannot share the dead
//    connection's locks or stale WAL index by accident. The harness crashes, destroys the
//    crashed stores, and reopens: the reopen sees only durable bytes. arm_crash() puts
//    the crash in place of the n-th write, truncate or sync, for crashes at any point
//    inside a transaction, a commit or a checkpoint.
//  - A killed process (CrashKind::process_kill) is the same crash without the undo: its
//    handles die and the prefix goes down, but what it wrote stays (the kernel has it),
//    still at risk from a later power loss (the undo logs are kept).
//
// What it does not model (each is a choice, said here so nobody trusts more than this):
//
//  - Namespace operations are durable at once: creating, deleting and renaming a file
//    survive a crash even without a directory sync (a file created since its last sync
//    reverts to empty, not to missing). SQLite's DELETE journal mode with synchronous=FULL
//    relies on the journal's deletion being durable; only synchronous=EXTRA syncs the
//    directory, so this is the model in which FULL is meant to be safe.
//  - Writes are not torn and not reordered: an unsynced write is either wholly kept (until
//    a crash) or wholly undone (at a crash); there is no model of a sector half written
//    or of a later write surviving an earlier unsynced one.
//  - A failed sync leaves the undo log as it was (the data is still at risk); the Linux
//    behaviour of dropping dirty pages after a failed fsync is not modelled.
//  - The WAL index (-shm) is shared memory, not modelled: SQLite rebuilds it from the WAL
//    when the first connection opens after every connection closed, which the "down"
//    rule above guarantees.
//  - Files written outside SQLite (the store's .key file, copies made by the harness) are
//    not seen. A harness that replaces a store's files while they have unsynced writes
//    calls forget(prefix) first, or a later crash would restore stale pre-images.
//  - Memory-mapped I/O is refused (xFetch returns no page), so every read is an xRead.
//  - Anonymous temp files pass through untouched.
//
// In this project: the office store runs WAL with synchronous=NORMAL (client/README.md,
// "Durability"), so a power loss may take its commits since the last WAL sync (a
// checkpoint), while a killed process loses at most the commit in flight; the server's
// store runs synchronous=FULL, so everything it acknowledged survives either. The tests
// (fault_vfs_test.cpp) check exactly those promises at every crash point.
//
// Everything is thread-safe (one mutex around the bookkeeping and each file call) and
// deterministic for a given seed and a given order of file calls.
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace teduh::testing {

// Probabilities in [0, 1] that one call of each kind fails with an I/O error.
struct IoErrorRates {
  double read = 0;
  double write = 0;
  double sync = 0;
  double truncate = 0;
};

// What the VFS has done since install() or the last reset().
struct FaultCounts {
  std::uint64_t read_errors = 0;      // injected SQLITE_IOERR_READ
  std::uint64_t write_errors = 0;     // injected SQLITE_IOERR_WRITE
  std::uint64_t sync_errors = 0;      // injected SQLITE_IOERR_FSYNC
  std::uint64_t truncate_errors = 0;  // injected SQLITE_IOERR_TRUNCATE
  std::uint64_t full_errors = 0;      // writes refused with SQLITE_FULL (write budget)
  std::uint64_t crashes = 0;          // calls of crash()
  std::uint64_t reverted_files = 0;   // files a crash found with unsynced writes and undid
  std::uint64_t reverted_bytes = 0;   // bytes written back from pre-images, plus bytes cut off
  std::uint64_t dead_calls = 0;       // calls refused on dead handles or under a down prefix
  std::uint64_t syncs = 0;            // successful xSync calls (any file)
};

// What a crash loses: power_loss, every write not yet synced; process_kill, nothing
// written (the kernel keeps it), only the process and its handles.
enum class CrashKind { power_loss, process_kill };

class FaultVfs {
 public:
  static constexpr const char* kName = "teduh-fault";

  // Registers the VFS (once per process; later calls only return it). make_default
  // makes it SQLite's default VFS, the one the encrypting shim wraps and open_plain()
  // uses; the first call decides. Never fails: a broken SQLite aborts.
  static FaultVfs& install(bool make_default = true);

  // True when encrypted stores opened from now on go through this VFS: the shim either
  // is not registered yet and this VFS is the default, or already wraps this VFS.
  bool routes_encrypted_stores() const;

  // The generator behind every injected I/O error (splitmix64). Same seed, same order
  // of file calls: same faults.
  void set_seed(std::uint64_t seed);
  // I/O errors for files whose full path starts with `prefix` (empty: every file).
  // Replaces the previous setting; all-zero rates turn injection off.
  void set_io_errors(const std::filesystem::path& prefix, IoErrorRates rates);
  // A full disk for files under `prefix`: `bytes` more bytes of file growth, then
  // SQLITE_FULL. nullopt removes the limit.
  void set_write_budget(const std::filesystem::path& prefix, std::optional<std::uint64_t> bytes);
  // The growth still allowed under the budget (nullopt: no budget).
  std::optional<std::uint64_t> write_budget_left() const;
  // Turns off I/O errors, the budget and an armed crash. Crashes in progress stay (a down prefix
  // comes back up only when its dead handles close).
  void clear_faults();

  // Simulates a crash of everything under `prefix` (a file, or a folder: a folder's
  // prefix is taken with a trailing '/' so "dev1" does not catch "dev10"). Kills the
  // handles open on those files and, for a power loss, reverts their unsynced writes.
  // Returns how many handles it killed. The prefix is made absolute and canonical, the
  // way SQLite's unix VFS names files.
  std::size_t crash(const std::filesystem::path& prefix, CrashKind kind = CrashKind::power_loss);
  // A crash at a chosen point: the `calls`-th write, truncate or sync of a file under
  // `prefix` from now on (1: the next one) does not happen; crash(prefix) runs in its
  // place and the call fails as on a dead handle. 0 disarms. One armed crash at a time;
  // counts().crashes tells the harness it happened.
  void arm_crash(const std::filesystem::path& prefix, std::uint64_t calls,
                 CrashKind kind = CrashKind::power_loss);
  // True while handles killed by a crash under `prefix` are still open.
  bool down(const std::filesystem::path& prefix) const;
  // Handles open under `prefix` (dead ones included).
  std::size_t open_handles(const std::filesystem::path& prefix) const;
  // Files under `prefix` holding writes a crash would undo now.
  std::size_t unsynced_files(const std::filesystem::path& prefix) const;
  // Treats everything under `prefix` as durable: drops the undo logs (see above).
  void forget(const std::filesystem::path& prefix);

  FaultCounts counts() const;
  // Clears the counters, the faults and the undo logs, and reseeds with 0. Does not
  // touch open handles: call it between tests, once their stores are closed.
  void reset();

  // The absolute, canonical spelling of a prefix as compared with SQLite's file names.
  static std::string normalize(const std::filesystem::path& prefix);

  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

 private:
  FaultVfs() = default;
};

}  // namespace teduh::testing
