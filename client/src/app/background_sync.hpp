#pragma once
// The office app's "Sinkronkan sekarang" (client/APP.md, "Sinkronisasi"): one sync at a time,
// on its own thread and its own Store (Store::open_again, the same file and key), so the
// page's requests keep being answered on the server's one thread while it runs. The sync is
// sync_with_server, the entry point `teduh sync` uses; the page polls snapshot().
#include <atomic>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "teduh/client/store.hpp"

namespace teduh::client::app {

class BackgroundSync {
 public:
  struct Snapshot {
    bool running = false;
    std::uint64_t pushed = 0;  // so far, while running
    std::uint64_t pulled = 0;
    std::uint64_t started_ms = 0;
    std::uint64_t ended_ms = 0;            // 0 until a sync of this process ended
    std::optional<nlohmann::json> report;  // sync_report_json of the last one, if it ended well
    std::optional<Error> error;            // why the last one failed, if it did
  };

  BackgroundSync() = default;
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;
  // Cancels a running sync and waits for its thread (at most one read timeout).
  ~BackgroundSync();

  // Starts a sync of `store`'s file on a new thread. Returns false, and starts nothing,
  // while one still runs. A failure to open the second Store is that sync's error.
  bool start(const Store& store);
  [[nodiscard]] Snapshot snapshot() const;
  // Asks a running sync to stop (the store is being locked): its link answers
  // "unreachable" from the next frame on, so the sync ends as when the network drops,
  // keeping everything it acknowledged. The thread's Store, with its key, goes when it ends.
  void cancel();
  // Joins the thread of a sync that has ended (the server's tick calls it).
  void reap();

 private:
  void run(Store store);

  mutable std::mutex mutex_;
  std::thread thread_;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> running_{false};
  Snapshot state_;  // guarded by mutex_
};

}  // namespace teduh::client::app
