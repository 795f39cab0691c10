#include "background_sync.hpp"

#include <exception>
#include <memory>
#include <utility>

#include "teduh/client/sync_client.hpp"
#include "teduh/sync/hlc.hpp"

namespace teduh::client::app {
namespace {

// A link that stops at the next frame once the app asks (cancel): the sync sees the same
// Errc::unreachable as when the network drops, and ends the way it ends then.
class CancellableLink : public Link {
 public:
  CancellableLink(std::unique_ptr<Link> inner, const std::atomic<bool>& cancel)
      : inner_(std::move(inner)), cancel_(cancel) {}
  Result<void> write_all(const std::vector<std::uint8_t>& bytes) override {
    if (cancel_) return stopped();
    return inner_->write_all(bytes);
  }
  Result<std::vector<std::uint8_t>> read_frame() override {
    if (cancel_) return stopped();
    return inner_->read_frame();
  }
  [[nodiscard]] const std::string& address() const override { return inner_->address(); }

 private:
  static tl::unexpected<Error> stopped() {
    return fail(Errc::unreachable, "Sinkronisasi dihentikan karena penyimpanan dikunci.");
  }
  std::unique_ptr<Link> inner_;
  const std::atomic<bool>& cancel_;
};

}  // namespace

BackgroundSync::~BackgroundSync() {
  cancel();
  if (thread_.joinable()) thread_.join();
}

bool BackgroundSync::start(const Store& store) {
  if (running_) return false;
  reap();
  auto again = store.open_again();
  std::lock_guard lock(mutex_);
  state_.running = true;
  state_.pushed = state_.pulled = 0;
  state_.started_ms = sync::system_now_ms();
  if (!again) {
    state_.running = false;
    state_.ended_ms = state_.started_ms;
    state_.report.reset();
    state_.error = again.error();
    return true;
  }
  cancel_ = false;
  running_ = true;
  thread_ = std::thread([this, s = std::move(*again)]() mutable { run(std::move(s)); });
  return true;
}

BackgroundSync::Snapshot BackgroundSync::snapshot() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void BackgroundSync::cancel() { cancel_ = true; }

void BackgroundSync::reap() {
  if (!running_ && thread_.joinable()) thread_.join();
}

void BackgroundSync::run(Store store) {
  SyncOptions options = sync_options_from_environment();
  options.progress = [this](std::uint64_t pushed, std::uint64_t pulled) {
    std::lock_guard lock(mutex_);
    state_.pushed = pushed;
    state_.pulled = pulled;
  };
  options.connect = [this](const std::string& address,
                           int timeout_ms) -> Result<std::unique_ptr<Link>> {
    if (cancel_)
      return fail(Errc::unreachable, "Sinkronisasi dihentikan karena penyimpanan dikunci.");
    auto link = TEDUH_TRY(connect_tcp(address, timeout_ms));
    return std::unique_ptr<Link>(std::make_unique<CancellableLink>(std::move(link), cancel_));
  };
  std::optional<nlohmann::json> report;
  std::optional<Error> error;
  try {
    auto r = sync_with_server(store, options);
    if (r) {
      report = sync_report_json(*r);
      // What Beranda shows as the last sync; its failure does not undo the sync.
      (void)record_last_sync(store, *r, sync::system_now_ms());
    } else {
      error = r.error();
    }
  } catch (const std::exception& e) {
    error = Error{Errc::internal, e.what()};
  } catch (...) {
    error = Error{Errc::internal, "unknown exception"};
  }
  {
    std::lock_guard lock(mutex_);
    state_.running = false;
    state_.ended_ms = sync::system_now_ms();
    state_.report = std::move(report);
    state_.error = std::move(error);
  }
  running_ = false;
}

}  // namespace teduh::client::app
