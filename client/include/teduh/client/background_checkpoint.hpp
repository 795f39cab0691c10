#pragma once
// Checkpoints on a second connection and thread while one connection writes many
// transactions (a large pull).
//
// In WAL mode every committed page is written twice: into the WAL at COMMIT, and into
// the database file by a checkpoint. SQLite runs that checkpoint inside the COMMIT that
// crosses 1,000 WAL pages (wal_autocheckpoint), on the writing thread; on the encrypting
// VFS it decrypts each WAL frame and encrypts it again for the database file, about a
// fifth of the cost of applying a pulled batch (BENCHMARKS.md). While this object lives,
// the writer's automatic checkpoints are off and a helper thread runs PASSIVE checkpoints
// on its own connection after each commit it is told of, beside the writer: SQLite lets
// a checkpoint copy committed frames while another connection appends new ones. When it
// ends it runs a last checkpoint, waits for it, and turns the automatic ones back on.
//
// Nothing changes for durability or for a crash: the WAL holds every commit until a
// checkpoint has copied it, whichever connection runs it.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "teduh/client/error.hpp"
#include "teduh/client/store.hpp"

namespace teduh::client {

class BackgroundCheckpoint {
 public:
  // Opens the companion connection and starts the thread; turns off the automatic
  // checkpoints of `store`'s connection.
  [[nodiscard]] static Result<std::unique_ptr<BackgroundCheckpoint>> start(Store& store);
  ~BackgroundCheckpoint();  // finish()
  BackgroundCheckpoint(const BackgroundCheckpoint&) = delete;
  BackgroundCheckpoint& operator=(const BackgroundCheckpoint&) = delete;

  // The writer committed: checkpoint what is in the WAL (does not wait).
  void committed();
  // Runs a last checkpoint, stops the thread, and restores the automatic checkpoints.
  // Returns how many checkpoints ran. Idempotent.
  int finish();

 private:
  BackgroundCheckpoint(Store& store, crypto::DbHandle companion);
  void run();

  Store& store_;
  crypto::DbHandle companion_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool pending_ = false;
  bool stopping_ = false;
  int runs_ = 0;
  std::thread thread_;
};

}  // namespace teduh::client
