#pragma once
// The hybrid logical clock (DESIGN.md section 4, PROTOCOL.md "Clocks").
//
// An HLC timestamp packs the physical time in milliseconds since the Unix epoch in the
// upper 48 bits and a logical counter in the lower 16, so timestamps compare as plain
// integers. Versions are ordered by (hlc, device id), a total order even when office
// clocks are wrong. A clock never goes backwards; it advances past every remote
// timestamp it accepts. A remote timestamp more than kMaxDrift ahead of the local
// physical clock is not followed: observe() clamps the local clock at
// physical + kMaxDrift and reports it, so one office with a clock days ahead cannot
// drag every replica into its future.
#include <cstdint>

namespace teduh::sync {

using Hlc = std::uint64_t;

inline constexpr std::uint64_t kHlcLogicalBits = 16;
inline constexpr std::uint64_t kMaxDriftMs = 10ull * 60 * 1000;  // 10 minutes

inline constexpr Hlc make_hlc(std::uint64_t wall_ms, std::uint16_t logical) {
  return (wall_ms << kHlcLogicalBits) | logical;
}
inline constexpr std::uint64_t hlc_wall_ms(Hlc h) { return h >> kHlcLogicalBits; }
inline constexpr std::uint16_t hlc_logical(Hlc h) { return static_cast<std::uint16_t>(h & 0xffff); }

// The physical clock every part of Teduh reads (milliseconds since the Unix epoch).
// Production reads the system clock; the deterministic simulation (tests/sim) installs
// its own source so that one seed decides every timestamp. set_clock_source(nullptr)
// restores the system clock. The source must be callable from any thread.
using ClockSource = std::uint64_t (*)();
std::uint64_t system_now_ms();
void set_clock_source(ClockSource source);

class HlcClock {
 public:
  explicit HlcClock(Hlc last = 0) : last_(last) {}
  // A new timestamp strictly greater than every one issued or observed before.
  Hlc tick(std::uint64_t physical_ms);
  Hlc tick() { return tick(system_now_ms()); }
  // Moves the clock past a remote timestamp. Returns false (and advances only up to
  // physical_ms + kMaxDriftMs) when the remote is further ahead than that.
  bool observe(Hlc remote, std::uint64_t physical_ms);
  [[nodiscard]] Hlc last() const { return last_; }

 private:
  Hlc last_;
};

}  // namespace teduh::sync
