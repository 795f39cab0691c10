// The answer of a partner outside Teduh (police, hospital) to an external referral is
// recorded by the office that sent it, and by no other office (issue 15.7): the server's
// rule in CaseAccess, judged on forged commits.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "teduh/server/scope_access.hpp"
#include "teduh/sync/hlc.hpp"

namespace teduh::server {
namespace {

using Field = std::pair<std::string, std::string>;

class ExternalReferralAnswerTest : public ::testing::Test {
 protected:
  sync::Commit write(const sync::EntityId& entity, const std::string& type, const std::vector<Field>& fields) {
    sync::Commit c;
    c.device = sync::Id128::random();
    c.seq = 1;
    c.scope = case_;
    c.scope_type = "kasus";
    c.hlc = sync::make_hlc(1'800'000'000'000ULL + 1000 * ++clock_, 0);
    for (const auto& [field, value] : fields) {
      c.versions.push_back(sync::Version{entity, type, field, value, c.hlc, {}});
    }
    return c;
  }
  sync::Commit external_referral(const sync::EntityId& id) {
    return write(id, "rujukan",
                 {{"case", case_.hex()}, {"from_office", "UJI-KEL"}, {"to_external", "Unit PPA Polres Uji"},
                  {"status", "dikirim"}});
  }
  sync::Commit internal_referral(const sync::EntityId& id, const sync::EntityId& consent) {
    return write(id, "rujukan",
                 {{"case", case_.hex()}, {"from_office", "UJI-KEL"}, {"to_office", "UJI-UPTD"},
                  {"consent", consent.hex()}, {"status", "dikirim"}});
  }
  sync::Commit answer(const sync::EntityId& id, const std::string& status) {
    return write(id, "rujukan", {{"status", status}, {"answered_on", "2026-12-03"}, {"answer_notes", "Catatan uji"}});
  }

  const Writer kel_{"UJI-KEL", "pendamping"};
  const Writer uptd_{"UJI-UPTD", "pendamping"};
  sync::EntityId case_ = sync::Id128::random();
  std::uint64_t clock_ = 0;
};

TEST_F(ExternalReferralAnswerTest, TheSendingOfficeRecordsThePartnersAnswer) {
  CaseAccess access("UJI-KEL");
  const auto referral = sync::Id128::random();
  EXPECT_FALSE(access.apply(external_referral(referral), kel_));
  EXPECT_FALSE(access.apply(answer(referral, "diterima"), kel_));
  EXPECT_FALSE(access.apply(answer(referral, "selesai"), kel_));
  EXPECT_TRUE(access.shared_with().empty());  // an external partner is no office of Teduh
}

TEST_F(ExternalReferralAnswerTest, AnotherOfficeHoldingTheCaseCannotRecordIt) {
  CaseAccess access("UJI-KEL");
  const auto consent = sync::Id128::random(), shared = sync::Id128::random(), external = sync::Id128::random();
  EXPECT_FALSE(access.apply(
      write(consent, "persetujuan", {{"case", case_.hex()}, {"scope", "rujukan"}, {"scope_office", "UJI-UPTD"}}),
      kel_));
  EXPECT_FALSE(access.apply(internal_referral(shared, consent), kel_));
  EXPECT_FALSE(access.apply(external_referral(external), kel_));
  EXPECT_EQ(access.shared_with(), (std::set<std::string>{"UJI-UPTD"}));
  // The UPTD PPA holds the case through its own referral, but the police's answer to the
  // post's referral is the post's to record: each field alone is refused.
  for (const char* status : {"diterima", "ditolak", "selesai"}) {
    auto why = access.apply(answer(external, status), uptd_);
    ASSERT_TRUE(why) << status;
    EXPECT_NE(why->find("only by the office that sent it"), std::string::npos) << *why;
  }
  EXPECT_TRUE(access.apply(write(external, "rujukan", {{"answer_notes", "Dipalsukan"}}), uptd_));
  EXPECT_TRUE(access.apply(write(external, "rujukan", {{"answered_on", "2026-12-04"}}), uptd_));
  // Its own referral it still answers as before.
  EXPECT_FALSE(access.apply(write(shared, "rujukan", {{"status", "diterima"}}), uptd_));
}

TEST_F(ExternalReferralAnswerTest, RepeatingTheShownAnswerIsNoAnswer) {
  // A removal re-asserts every field of the record: by another office, that says nothing new.
  CaseAccess access("UJI-KEL");
  const auto referral = sync::Id128::random();
  EXPECT_FALSE(access.apply(external_referral(referral), kel_));
  EXPECT_FALSE(access.apply(answer(referral, "diterima"), kel_));
  EXPECT_FALSE(access.apply(answer(referral, "diterima"), uptd_));
}

}  // namespace
}  // namespace teduh::server
