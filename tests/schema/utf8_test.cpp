#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "teduh/schema/utf8.hpp"

namespace teduh::schema {
namespace {

// An independent reading of RFC 3629 table 2 (the well-formed byte sequences), to check
// the one UTF-8 function against.
bool reference_is_utf8(const std::string& s) {
  std::size_t i = 0;
  auto in = [&](std::size_t k, int lo, int hi) {
    if (i + k >= s.size()) return false;
    const int b = static_cast<unsigned char>(s[i + k]);
    return b >= lo && b <= hi;
  };
  while (i < s.size()) {
    const int b = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (b <= 0x7f) len = 1;
    else if (b >= 0xc2 && b <= 0xdf && in(1, 0x80, 0xbf)) len = 2;
    else if (b == 0xe0 && in(1, 0xa0, 0xbf) && in(2, 0x80, 0xbf)) len = 3;
    else if (((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef) && in(1, 0x80, 0xbf) && in(2, 0x80, 0xbf)) len = 3;
    else if (b == 0xed && in(1, 0x80, 0x9f) && in(2, 0x80, 0xbf)) len = 3;
    else if (b == 0xf0 && in(1, 0x90, 0xbf) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf)) len = 4;
    else if (b >= 0xf1 && b <= 0xf3 && in(1, 0x80, 0xbf) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf)) len = 4;
    else if (b == 0xf4 && in(1, 0x80, 0x8f) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf)) len = 4;
    else return false;
    i += len;
  }
  return true;
}

TEST(Utf8, WellFormedTextIsAccepted) {
  for (const char* s : {"", "teks biasa", "\xc3\xa9", "\xe2\x82\xac", "\xef\xbf\xbf", "\xf0\x9f\x98\x80",
                        "\xf4\x8f\xbf\xbf", "Siti \xe2\x80\x9c" "Ani\xe2\x80\x9d"}) {
    EXPECT_TRUE(is_utf8(s)) << s;
  }
}

TEST(Utf8, OverlongSurrogateTooLargeAndTruncatedAreRefused) {
  for (const char* s : {"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xed\xa0\x80", "\xed\xbf\xbf",
                        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xff", "\x80", "\xe2\x82",
                        "abc\xf0\x9f\x98", "\xc3\x28"}) {
    EXPECT_FALSE(is_utf8(s)) << s;
  }
}

// Every string of one, two and three bytes, and random longer ones: the same answer as
// the reference, and utf8_sequence gives the code point it decodes.
TEST(Utf8, AgreesWithTheReferenceOnEveryShortString) {
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(is_utf8(s), reference_is_utf8(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(is_utf8(s), reference_is_utf8(s)) << a << " " << b;
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(is_utf8(s), reference_is_utf8(s)) << a << " " << b << " " << c;
      }
    }
  }
  std::mt19937 rng(5);
  for (int i = 0; i < 200000; ++i) {
    s.resize(4 + rng() % 5);
    for (auto& ch : s) ch = static_cast<char>(rng() % 2 ? 0x80 + rng() % 0x80 : 0xc0 + rng() % 0x40);
    ASSERT_EQ(is_utf8(s), reference_is_utf8(s));
  }
  std::uint32_t cp = 0;
  EXPECT_EQ(utf8_sequence("\xf0\x9f\x98\x80", 0, cp), 4u);
  EXPECT_EQ(cp, 0x1F600u);
  EXPECT_EQ(utf8_sequence("a\xe2\x82\xac", 1, cp), 3u);
  EXPECT_EQ(cp, 0x20ACu);
}

}  // namespace
}  // namespace teduh::schema
