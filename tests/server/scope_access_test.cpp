// Who owns and who shares a case, computed from a log that holds forged commits (as a
// log written before the server refused them would): they are refused when judged, and
// they move no ownership and share nothing (PROTOCOL.md section 5B rule 3).
#include "teduh/server/scope_access.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "teduh/sync/hlc.hpp"

namespace teduh::server {
namespace {

using Field = std::pair<std::string, std::string>;

class ScopeAccessTest : public ::testing::Test {
 protected:
  // One commit of the case writing `fields` of one entity, from a fresh device.
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

  sync::Commit consent_for(const sync::EntityId& id, const std::string& office) {
    return write(id, "persetujuan", {{"case", case_.hex()}, {"scope", "rujukan"}, {"scope_office", office}});
  }
  sync::Commit transfer_to(const sync::EntityId& id, const std::string& office) {
    return write(id, "alih_kelola", {{"case", case_.hex()}, {"to_office", office}, {"status", "diajukan"}});
  }
  sync::Commit answer(const sync::EntityId& id, const std::string& status) {
    return write(id, "alih_kelola", {{"status", status}});
  }

  const Writer kel_{"UJI-KEL", "pendamping"};
  const Writer uptd_{"UJI-UPTD", "pendamping"};
  const Writer uptd_operator_{"UJI-UPTD", "operator"};
  const Writer dinas_{"UJI-DINAS", "pendamping"};
  sync::EntityId case_ = sync::Id128::random();
  std::uint64_t clock_ = 0;
};

TEST_F(ScopeAccessTest, AnAcceptanceOfTheOwnersProposalMovesTheCase) {
  CaseAccess access("UJI-KEL");
  const auto consent = sync::Id128::random(), transfer = sync::Id128::random();
  EXPECT_FALSE(access.apply(consent_for(consent, "UJI-UPTD"), kel_));
  EXPECT_FALSE(access.apply(transfer_to(transfer, "UJI-UPTD"), kel_));
  EXPECT_EQ(access.shared_with(), (std::set<std::string>{"UJI-UPTD"}));
  EXPECT_FALSE(access.apply(answer(transfer, "diterima"), uptd_));
  EXPECT_EQ(access.owner(), "UJI-UPTD");
  EXPECT_TRUE(access.shared_with().empty());
  // Later edits of the transfer record do not move the case back.
  EXPECT_TRUE(access.apply(answer(transfer, "ditolak"), kel_));
  EXPECT_EQ(access.owner(), "UJI-UPTD");
}

TEST_F(ScopeAccessTest, AForgedTransferInTheLogMovesNothing) {
  // A referred office proposes, consents and accepts a transfer to itself.
  CaseAccess access("UJI-KEL");
  const auto consent = sync::Id128::random(), transfer = sync::Id128::random();
  EXPECT_FALSE(access.apply(consent_for(consent, "UJI-UPTD"), uptd_));
  EXPECT_TRUE(access.apply(transfer_to(transfer, "UJI-UPTD"), uptd_));
  EXPECT_TRUE(access.apply(answer(transfer, "diterima"), uptd_));
  EXPECT_EQ(access.owner(), "UJI-KEL");
  EXPECT_TRUE(access.shared_with().empty());
}

TEST_F(ScopeAccessTest, TheOwnerCannotAcceptForTheReceivingOffice) {
  CaseAccess access("UJI-KEL");
  const auto consent = sync::Id128::random(), transfer = sync::Id128::random();
  EXPECT_FALSE(access.apply(consent_for(consent, "UJI-UPTD"), kel_));
  EXPECT_FALSE(access.apply(transfer_to(transfer, "UJI-UPTD"), kel_));
  EXPECT_TRUE(access.apply(answer(transfer, "diterima"), kel_));
  EXPECT_TRUE(access.apply(answer(transfer, "diterima"), uptd_operator_));  // its role may not
  EXPECT_EQ(access.owner(), "UJI-KEL");
}

TEST_F(ScopeAccessTest, TheOwnersProposalNeedsAConsentTheOwnerRecorded) {
  CaseAccess access("UJI-KEL");
  const auto consent = sync::Id128::random(), transfer = sync::Id128::random();
  EXPECT_FALSE(access.apply(consent_for(consent, "UJI-UPTD"), uptd_));  // recorded by the receiver
  EXPECT_TRUE(access.apply(transfer_to(transfer, "UJI-UPTD"), kel_));
  EXPECT_TRUE(access.apply(answer(transfer, "diterima"), uptd_));
  EXPECT_EQ(access.owner(), "UJI-KEL");
}

TEST_F(ScopeAccessTest, AProposalOfAFormerOwnerLapses) {
  CaseAccess access("UJI-KEL");
  const auto c1 = sync::Id128::random(), to_uptd = sync::Id128::random();
  const auto c2 = sync::Id128::random(), to_dinas = sync::Id128::random();
  EXPECT_FALSE(access.apply(consent_for(c1, "UJI-UPTD"), kel_));
  EXPECT_FALSE(access.apply(transfer_to(to_uptd, "UJI-UPTD"), kel_));
  EXPECT_FALSE(access.apply(consent_for(c2, "UJI-DINAS"), kel_));
  EXPECT_FALSE(access.apply(transfer_to(to_dinas, "UJI-DINAS"), kel_));
  EXPECT_FALSE(access.apply(answer(to_uptd, "diterima"), uptd_));
  EXPECT_EQ(access.owner(), "UJI-UPTD");
  EXPECT_FALSE(access.shared_with().contains("UJI-DINAS"));
  EXPECT_TRUE(access.apply(answer(to_dinas, "diterima"), dinas_));
  EXPECT_EQ(access.owner(), "UJI-UPTD");
}

}  // namespace
}  // namespace teduh::server
