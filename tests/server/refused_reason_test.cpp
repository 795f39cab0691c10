// The stored form of a refusal's reason (records.hpp, SCHEMA.md section 4.3): the server
// keeps the numbers of its former reason enum in refused_commits.reason, so that a database
// written before the one reason enum (sync::wire::RejectReason) means what it meant.
#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "teduh/crypto/kdf.hpp"
#include "teduh/server/records.hpp"
#include "teduh/server/sqlite_storage.hpp"

namespace teduh::server {
namespace {

// Every reason, with the number a database holds for it: fixed for ever, whatever the
// wire numbers are (bad_signature is 1 on the wire and 2 here, and so on).
constexpr std::pair<RejectReason, std::int64_t> kStored[] = {
    {RejectReason::wrong_device, 1},   {RejectReason::bad_signature, 2}, {RejectReason::invalid_commit, 4},
    {RejectReason::out_of_order, 5},   {RejectReason::not_authorized, 6}, {RejectReason::seq_taken, 7},
};

TEST(RefusedReasonTest, EveryReasonIsStoredUnderTheNumberOfBefore) {
  for (const auto& [reason, stored] : kStored) {
    SCOPED_TRACE(std::string(sync::wire::to_string(reason)));
    EXPECT_EQ(stored_reason(reason), stored);
    EXPECT_EQ(reason_from_stored(stored), reason);
  }
}

TEST(RefusedReasonTest, NumbersOfTheFormerEnumReadAsTheReasonTheDeviceWasTold) {
  // 3 was "malformed" (the body did not decode), sent on the wire as invalid_commit.
  EXPECT_EQ(reason_from_stored(3), RejectReason::invalid_commit);
  // 8 was clock_too_far, never produced; any number never written reads as invalid_commit.
  EXPECT_EQ(reason_from_stored(8), RejectReason::invalid_commit);
  EXPECT_EQ(reason_from_stored(0), RejectReason::invalid_commit);
  EXPECT_EQ(reason_from_stored(-1), RejectReason::invalid_commit);
  EXPECT_EQ(reason_from_stored(99), RejectReason::invalid_commit);
}

TEST(RefusedReasonTest, ARefusalReadsBackWithItsReason) {
  teduh::testing::TempDir temp;
  ASSERT_FALSE(temp.path().empty());
  auto storage = create_sqlite_storage(temp.path() / "data", "kata sandi server", crypto::KdfParams::interactive());
  ASSERT_TRUE(storage) << storage.error().message;
  const sync::DeviceId device = sync::Id128::random();
  std::vector<Refusal> refusals;
  std::uint64_t seq = 0;
  // Every other refusal with a digest of its commit; the rest as before step 6, without.
  for (const auto& entry : kStored) {
    ++seq;
    refusals.push_back(Refusal{device, seq, entry.first, 1000, {}});
    if (seq % 2 == 1) refusals.back().digest.assign(32, static_cast<std::uint8_t>(seq));
  }
  ASSERT_TRUE((*storage)->append_commits({}, "BKS-DP3A", refusals));
  for (const Refusal& r : refusals) {
    auto found = (*storage)->find_refusal(device, r.seq);
    ASSERT_TRUE(found) << found.error().message;
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->reason, r.reason) << sync::wire::to_string(r.reason);
    EXPECT_EQ((*found)->digest, r.digest);
  }
  EXPECT_FALSE((*storage)->find_refusal(device, seq + 1).value().has_value());
}

}  // namespace
}  // namespace teduh::server
