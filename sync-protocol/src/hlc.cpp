#include "teduh/sync/hlc.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>

namespace teduh::sync {
namespace {

std::atomic<ClockSource> g_clock_source{nullptr};

std::uint64_t wall_clock_ms() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
}

}  // namespace

std::uint64_t system_now_ms() {
  const ClockSource source = g_clock_source.load(std::memory_order_acquire);
  return source ? source() : wall_clock_ms();
}

void set_clock_source(ClockSource source) { g_clock_source.store(source, std::memory_order_release); }

Hlc HlcClock::tick(std::uint64_t physical_ms) {
  const std::uint64_t last_wall = hlc_wall_ms(last_);
  Hlc next;
  if (physical_ms > last_wall) {
    next = make_hlc(physical_ms, 0);
  } else if (hlc_logical(last_) < 0xffff) {
    next = last_ + 1;  // same millisecond (or our clock is behind): count up
  } else {
    next = make_hlc(last_wall + 1, 0);  // logical overflow: borrow the next millisecond
  }
  last_ = next;
  return next;
}

bool HlcClock::observe(Hlc remote, std::uint64_t physical_ms) {
  const std::uint64_t limit_wall = physical_ms + kMaxDriftMs;
  if (hlc_wall_ms(remote) > limit_wall) {
    // Follow the remote only as far as the drift bound; never go backwards.
    last_ = std::max(last_, make_hlc(limit_wall, 0));
    return false;
  }
  last_ = std::max(last_, remote);
  return true;
}

}  // namespace teduh::sync
