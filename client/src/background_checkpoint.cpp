// See background_checkpoint.hpp.
#include "teduh/client/background_checkpoint.hpp"

#include <sqlite3.h>

#include "teduh/schema/sqlite.hpp"

namespace teduh::client {
namespace {

// SQLite's default (sqlite3.h, SQLITE_DEFAULT_WAL_AUTOCHECKPOINT); the store never
// changes it otherwise.
constexpr int kDefaultAutocheckpointPages = 1000;

void set_autocheckpoint(sqlite3* db, int pages) {
  (void)schema::exec(db, "PRAGMA wal_autocheckpoint=" + std::to_string(pages));
}

}  // namespace

BackgroundCheckpoint::BackgroundCheckpoint(Store& store, crypto::DbHandle companion)
    : store_(store), companion_(std::move(companion)) {}

Result<std::unique_ptr<BackgroundCheckpoint>> BackgroundCheckpoint::start(Store& store) {
  auto companion = TEDUH_TRY(store.open_companion());
  std::unique_ptr<BackgroundCheckpoint> self(new BackgroundCheckpoint(store, std::move(companion)));
  self->thread_ = std::thread([p = self.get()] { p->run(); });
  set_autocheckpoint(store.db(), 0);  // only once the helper runs (finish() turns it back on)
  return self;
}

BackgroundCheckpoint::~BackgroundCheckpoint() { finish(); }

void BackgroundCheckpoint::committed() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  wake_.notify_one();
}

int BackgroundCheckpoint::finish() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      pending_ = true;  // one last checkpoint of whatever the writer committed
    }
    wake_.notify_one();
    thread_.join();
    set_autocheckpoint(store_.db(), kDefaultAutocheckpointPages);
  }
  return runs_;
}

void BackgroundCheckpoint::run() {
  for (;;) {
    bool last = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return pending_ || stopping_; });
      pending_ = false;
      last = stopping_;
    }
    // PASSIVE: copies the frames no reader still needs, never waits for the writer and
    // never blocks it. SQLITE_BUSY (another checkpoint is running) leaves the frames for
    // the next one; any other failure leaves them in the WAL, where they stay safe and
    // the next automatic checkpoint copies them.
    int log_frames = 0, copied = 0;
    (void)sqlite3_wal_checkpoint_v2(companion_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
    ++runs_;
    if (last) return;
  }
}

}  // namespace teduh::client
