#include <gtest/gtest.h>

#include <unordered_set>

#include "sync/sync_test_util.hpp"
#include "teduh/sync/ids.hpp"

namespace teduh::sync {
namespace {

TEST(Id128, HexRoundTrips) {
  const Id128 id = Id128::random();
  const std::string hex = id.hex();
  ASSERT_EQ(hex.size(), 32u);
  EXPECT_EQ(Id128::from_hex(hex), id);
}

TEST(Id128, HexIsLowercase) {
  EXPECT_EQ(test::id_of(0xab).hex(), "abababababababababababababababab");
}

TEST(Id128, FromHexRefusesAnythingButThirtyTwoLowercaseDigits) {
  EXPECT_FALSE(Id128::from_hex(""));
  EXPECT_FALSE(Id128::from_hex("abababababababababababababababa"));    // 31
  EXPECT_FALSE(Id128::from_hex("abababababababababababababababab0"));  // 33
  EXPECT_FALSE(Id128::from_hex("ABABABABABABABABABABABABABABABAB"));   // uppercase
  EXPECT_FALSE(Id128::from_hex("abababababababababababababababag"));
  EXPECT_FALSE(Id128::from_hex(" bababababababababababababababab"));
  EXPECT_FALSE(Id128::from_hex("0xababababababababababababababab"));
  EXPECT_TRUE(Id128::from_hex("00000000000000000000000000000000"));
}

TEST(Id128, RandomIdsDifferAndAreNotZero) {
  std::unordered_set<Id128, Id128Hash> seen;
  for (int i = 0; i < 1000; ++i) {
    const Id128 id = Id128::random();
    EXPECT_FALSE(id.is_zero());
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(Id128, OrdersByBytes) {
  EXPECT_LT(test::id_of(1), test::id_of(2));
  EXPECT_TRUE(Id128{}.is_zero());
}

}  // namespace
}  // namespace teduh::sync

namespace teduh::sync {
namespace {

TEST(Ids, TimeOrderedIdsStartWithTheirMillisecondsAndSortByTime) {
  const std::uint64_t t = 0x0123456789abull;
  Id128 a = Id128::time_ordered(t);
  Id128 b = Id128::time_ordered(t + 1);
  EXPECT_EQ(a.hex().substr(0, 12), "0123456789ab");
  EXPECT_LT(a, b);
  EXPECT_FALSE(a.is_zero());
  // Same millisecond: the 80 random bits still tell them apart.
  EXPECT_NE(Id128::time_ordered(t), Id128::time_ordered(t));
}

}  // namespace
}  // namespace teduh::sync
