// The one normalization of names and text (issue 15.5): NFC for what is stored, a folded
// form for matching. Generated names only.
#include <gtest/gtest.h>

#include <string>

#include "teduh/schema/entities.hpp"
#include "teduh/schema/identity_match.hpp"
#include "teduh/schema/utf8.hpp"
#include "teduh/schema/validate.hpp"

namespace teduh::schema {
namespace {

// "Ayu Wéntèn" composed (U+00E9, U+00E8) and decomposed (e + U+0301, e + U+0300).
const std::string kComposed = "Ayu W\u00e9nt\u00e8n";
const std::string kDecomposed = "Ayu We\u0301nte\u0300n";

TEST(ToNfc, ADecomposedNameBecomesTheComposedBytes) {
  ASSERT_NE(kComposed, kDecomposed);
  EXPECT_EQ(to_nfc(kDecomposed), kComposed);
  EXPECT_EQ(to_nfc(kComposed), kComposed);
  EXPECT_EQ(to_nfc("Siti Aminah"), "Siti Aminah");
  EXPECT_EQ(to_nfc(""), "");
  EXPECT_EQ(to_nfc("\xC0\x80"), "\xC0\x80");  // not UTF-8: left for validation to refuse
}

TEST(FoldForMatching, AccentsCaseAndCompatibilityFormsFoldAway) {
  EXPECT_EQ(fold_for_matching(kComposed), "ayu wenten");
  EXPECT_EQ(fold_for_matching(kDecomposed), "ayu wenten");
  EXPECT_EQ(fold_for_matching("AYU WENTEN"), "ayu wenten");
  EXPECT_EQ(fold_for_matching("\ufb01tri"), "fitri");  // the ligature fi
  EXPECT_EQ(fold_for_matching("\xC0\x80"), "");
}

TEST(NormalizeName, AccentedAndDecomposedSpellingsOfOneNameMatch) {
  const std::string plain = normalize_name("Ayu Wenten");
  EXPECT_EQ(plain, "ayu wenten");
  EXPECT_EQ(normalize_name(kComposed), plain);
  EXPECT_EQ(normalize_name(kDecomposed), plain);
  EXPECT_EQ(normalize_name("WENTEN, AYU"), plain);
  // The rules that were there before still hold.
  EXPECT_EQ(normalize_name("Muhammad Ma\u2019ruf"), normalize_name("MUHAMAD  MARUF"));
  EXPECT_EQ(normalize_name("Soekarno Djojo"), normalize_name("djojo sukarno"));
  EXPECT_NE(normalize_name("Siti Aminah"), normalize_name("Siti Amina"));
  // A letter outside Latin is kept as a letter, and a doubled one is one letter.
  EXPECT_EQ(normalize_name("\u00d8ystein"), normalize_name("\u00f8\u00f8ystein"));
  EXPECT_EQ(normalize_name("123 !"), "");
}

TEST(NameBirthKey, NeedsBothTheNameAndTheBirthDate) {
  EXPECT_EQ(name_birth_key(kDecomposed, "1990-04-01"), "ayu wenten|1990-04-01");
  EXPECT_EQ(name_birth_key(kComposed, "1990-04-01"), name_birth_key("Ayu Wenten", "1990-04-01"));
  EXPECT_EQ(name_birth_key("Ayu Wenten", ""), "");
  EXPECT_EQ(name_birth_key("", "1990-04-01"), "");
}

TEST(ValidateText, TextIsStoredInNfcAndOlderDecomposedCommitsAreStillAccepted) {
  auto stored = validate_field(EntityType::orang, "name", kDecomposed);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(*stored, kComposed);
  EXPECT_TRUE(check_canonical(EntityType::orang, "name", kComposed));
  // A device of before NFC wrote the name as typed: its commits still apply.
  EXPECT_TRUE(check_canonical(EntityType::orang, "name", kDecomposed));
  EXPECT_FALSE(check_canonical(EntityType::orang, "name", kDecomposed + " "));  // still trimmed
}

}  // namespace
}  // namespace teduh::schema
