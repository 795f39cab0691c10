// A commit of this device that the server refused and consumed (PROTOCOL.md 5B rule 5):
// it stays in the store and is shown as refused, but it no longer counts in the merge,
// and the record it alone wrote is not written again. Both found by the deterministic
// simulation (tests/sim; seeds 7 and 244), where the writer's replica otherwise kept its
// refused value for good while every other replica showed the old one.
#include <gtest/gtest.h>

#include <optional>

#include "support/store_fixture.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/workflow.hpp"

namespace teduh::client {
namespace {

class RefusedCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::make_store(dir_ / "office.db", server_, "BKS-DP3A", /*shelter=*/false);
    ASSERT_TRUE(s) << s.error().message;
    store_.emplace(std::move(*s));
  }
  Workflow wf() { return Workflow(*store_); }

  testing::TempDir dir_;
  testing::FakeServerKey server_;
  std::optional<Store> store_;
};

TEST_F(RefusedCommitTest, ARefusedCommitSupersedesNothingOnTheDeviceThatWroteIt) {
  auto id = wf().new_case({{"summary", "Ringkasan pertama"}}, {});
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(wf().set_case(*id, {{"summary", "Ringkasan kedua"}}));
  const std::uint64_t refused = store_->last_seq();
  ASSERT_EQ((*store_->entity(*id))->get("summary"), "Ringkasan kedua");

  ASSERT_TRUE(store_->record_refusal(refused, 6, "tidak berwenang"));
  ASSERT_TRUE(store_->rebuild_merge_state());

  // The old value is shown again, as on every replica that never received the refused
  // commit, and it is not a conflict.
  EXPECT_EQ((*store_->entity(*id))->get("summary"), "Ringkasan pertama");
  auto conflicts = store_->conflicted_fields();
  ASSERT_TRUE(conflicts);
  EXPECT_TRUE(conflicts->empty());
  // The next edit supersedes the live value and shows.
  ASSERT_TRUE(wf().set_case(*id, {{"summary", "Ringkasan ketiga"}}));
  EXPECT_EQ((*store_->entity(*id))->get("summary"), "Ringkasan ketiga");
}

TEST_F(RefusedCommitTest, ARecordOnlyARefusedCommitWroteStaysShownAndIsNotWrittenAgain) {
  auto id = wf().new_case({{"summary", "Ringkasan"}}, {});
  ASSERT_TRUE(id) << id.error().message;
  auto referral = wf().refer(*id, "BKS-UPTD", "Lanjutan", true, "korban", false);
  ASSERT_TRUE(referral) << referral.error().message;
  ASSERT_TRUE(store_->record_refusal(store_->last_seq(), 4, "kantor tidak dikenal: BKS-UPTD"));
  ASSERT_TRUE(store_->rebuild_merge_state());

  auto shown = store_->entity(*referral);
  ASSERT_TRUE(shown && *shown);
  EXPECT_EQ((*shown)->get("to_office"), "BKS-UPTD");  // kept and shown, with the refusal
  auto why = store_->refusal_for(*referral);
  ASSERT_TRUE(why && *why);
  EXPECT_NE((*why)->find("tidak dikenal"), std::string::npos);

  const std::uint64_t before = store_->last_seq();
  auto ended = wf().end_referral(*referral);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code, Errc::refused);
  EXPECT_NE(ended.error().message.find("ditolak server"), std::string::npos) << ended.error().message;
  EXPECT_EQ(store_->last_seq(), before);  // nothing was written
}

}  // namespace
}  // namespace teduh::client
