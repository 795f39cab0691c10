#include <gtest/gtest.h>

#include "teduh/sync/hlc.hpp"

namespace teduh::sync {
namespace {

constexpr std::uint64_t kNow = 1767225600000;  // 2026-01-01T00:00:00Z

TEST(Hlc, PacksWallAndLogical) {
  const Hlc h = make_hlc(kNow, 7);
  EXPECT_EQ(hlc_wall_ms(h), kNow);
  EXPECT_EQ(hlc_logical(h), 7);
  EXPECT_LT(make_hlc(kNow, 0xffff), make_hlc(kNow + 1, 0));
}

TEST(Hlc, TickFollowsThePhysicalClock) {
  HlcClock clock;
  EXPECT_EQ(clock.tick(kNow), make_hlc(kNow, 0));
  EXPECT_EQ(clock.tick(kNow + 5), make_hlc(kNow + 5, 0));
}

TEST(Hlc, TickIsStrictlyMonotonicInOneMillisecond) {
  HlcClock clock;
  Hlc prev = clock.tick(kNow);
  for (int i = 0; i < 1000; ++i) {
    const Hlc h = clock.tick(kNow);
    EXPECT_GT(h, prev);
    prev = h;
  }
}

TEST(Hlc, TickNeverGoesBackwardsWhenThePhysicalClockDoes) {
  HlcClock clock;
  const Hlc a = clock.tick(kNow);
  const Hlc b = clock.tick(kNow - 60'000);  // the office clock was set back a minute
  EXPECT_GT(b, a);
  EXPECT_EQ(hlc_wall_ms(b), kNow);
}

TEST(Hlc, LogicalOverflowBumpsTheWallByOneMillisecond) {
  HlcClock clock(make_hlc(kNow, 0xfffe));
  EXPECT_EQ(clock.tick(kNow), make_hlc(kNow, 0xffff));
  EXPECT_EQ(clock.tick(kNow), make_hlc(kNow + 1, 0));
  EXPECT_EQ(clock.tick(kNow), make_hlc(kNow + 1, 1));
}

TEST(Hlc, ObserveMovesPastARemoteTimestamp) {
  HlcClock clock;
  clock.tick(kNow);
  const Hlc remote = make_hlc(kNow + 2'000, 9);  // a peer two seconds ahead
  EXPECT_TRUE(clock.observe(remote, kNow));
  EXPECT_EQ(clock.last(), remote);
  EXPECT_GT(clock.tick(kNow), remote);
}

TEST(Hlc, ObserveOfAnOlderRemoteKeepsTheClock) {
  HlcClock clock;
  const Hlc mine = clock.tick(kNow);
  EXPECT_TRUE(clock.observe(make_hlc(kNow - 10, 0), kNow));
  EXPECT_EQ(clock.last(), mine);
}

TEST(Hlc, RemoteAtTheDriftBoundIsFollowed) {
  HlcClock clock;
  const Hlc remote = make_hlc(kNow + kMaxDriftMs, 0xffff);
  EXPECT_TRUE(clock.observe(remote, kNow));
  EXPECT_EQ(clock.last(), remote);
}

TEST(Hlc, FarFutureRemoteIsClampedAtTheDriftBound) {
  HlcClock clock;
  clock.tick(kNow);
  const Hlc remote = make_hlc(kNow + 3 * 24 * 3600 * 1000ull, 0);  // three days ahead
  EXPECT_FALSE(clock.observe(remote, kNow));
  EXPECT_EQ(clock.last(), make_hlc(kNow + kMaxDriftMs, 0));
  const Hlc next = clock.tick(kNow);
  EXPECT_LT(next, remote);
  EXPECT_GT(next, make_hlc(kNow + kMaxDriftMs, 0));
}

TEST(Hlc, ClampNeverMovesTheClockBackwards) {
  HlcClock clock(make_hlc(kNow + kMaxDriftMs + 5, 0));  // already ahead (an earlier physical clock)
  const Hlc before = clock.last();
  EXPECT_FALSE(clock.observe(make_hlc(kNow + 10 * kMaxDriftMs, 0), kNow));
  EXPECT_EQ(clock.last(), before);
}

TEST(Hlc, SystemClockIsPlausible) {
  EXPECT_GT(system_now_ms(), 1577836800000u);  // after 2020-01-01
  HlcClock clock;
  EXPECT_GT(clock.tick(), 0u);
}

}  // namespace
}  // namespace teduh::sync
