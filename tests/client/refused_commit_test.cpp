// A commit of this device that the server refused and consumed (PROTOCOL.md 5B rule 5):
// it stays in the store and is shown as refused, but it no longer counts in the merge,
// and the record it alone wrote is not written again. Both found by the deterministic
// simulation (tests/sim; seeds 7 and 244), where the writer's replica otherwise kept its
// refused value for good while every other replica showed the old one.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <span>

#include "support/store_fixture.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/version.hpp"

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

// Seed 25519: a store restored from an older copy re-issued its commits under new seqs;
// the server refused one re-issued copy (its consent had been withdrawn meanwhile), then
// sent back the original, which it holds under the old seq (fetch_own). The original is
// the record's one version, as on every other replica; the refused copy no longer counts
// (before: both did, a two-valued field on this device only).
TEST_F(RefusedCommitTest, ARefusedReissuedCopyStopsCountingWhenTheOriginalComesBack) {
  auto id = wf().new_case({{"summary", "Ringkasan"}}, {});
  ASSERT_TRUE(id) << id.error().message;
  auto referral = wf().refer(*id, "BKS-UPTD", "Lanjutan", true, "korban", false);
  ASSERT_TRUE(referral) << referral.error().message;
  const std::uint64_t original_seq = store_->last_seq();

  // The original as the server holds it.
  sync::SignedCommit original;
  {
    auto st = schema::Statement::prepare(store_->db(), "SELECT body, signature FROM commits WHERE seq = ?1");
    ASSERT_TRUE(st);
    st->bind(1, static_cast<std::int64_t>(original_seq));
    auto row = st->step();
    ASSERT_TRUE(row && *row);
    original.device = store_->identity().device;
    original.seq = original_seq;
    original.body = st->column_blob(0);
    auto sig = st->column_blob(1);
    std::copy(sig.begin(), sig.end(), original.signature.begin());
  }
  auto original_commit = sync::decode_commit_body(original.body);
  ASSERT_TRUE(original_commit);

  // The restored copy lacks what the server has from original_seq on: its commit is
  // re-issued after the server's last seq, and the server refuses it.
  auto moved = store_->reissue_own_commits(original_seq, original_seq);
  ASSERT_TRUE(moved) << moved.error().message;
  ASSERT_EQ(*moved, 1u);
  ASSERT_TRUE(store_->record_refusal(original_seq + 1, 4, "persetujuan untuk kantor itu tidak tercatat"));
  ASSERT_TRUE(store_->rebuild_merge_state());
  ASSERT_TRUE(*store_->written_only_by_refused(*referral));

  // The original comes back from the server (fetch_own), then the sync's rebuild.
  auto applied = store_->in_transaction(
      [&]() -> Result<bool> { return store_->apply_remote(original, *original_commit, 7); });
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_TRUE(*applied);
  ASSERT_TRUE(store_->rebuild_merge_state());

  auto st = schema::Statement::prepare(store_->db(), "SELECT max(live_count) FROM fields WHERE entity = ?1");
  ASSERT_TRUE(st);
  st->bind_blob(1, std::span<const std::uint8_t>(referral->bytes.data(), referral->bytes.size()));
  auto row = st->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(st->column_int(0), 1);  // one version per field, not the original and its copy
  auto conflicts = store_->conflicted_fields();
  ASSERT_TRUE(conflicts);
  EXPECT_TRUE(conflicts->empty());
  EXPECT_EQ((*store_->entity(*referral))->get("to_office"), "BKS-UPTD");
  EXPECT_FALSE(*store_->written_only_by_refused(*referral));  // the server holds it
}

// A refusal recorded under a seq that a restore renumbers names no commit any more: the
// commit moves (new work, judged again when pushed) and the old seq will hold the
// server's commit fetched back, which must not be taken for refused.
TEST_F(RefusedCommitTest, RenumberingDropsTheRefusalsOfTheCommitsItMoves) {
  ASSERT_TRUE(wf().new_case({{"summary", "Kasus lain"}}, {}));
  const std::uint64_t earlier = store_->last_seq();
  auto id = wf().new_case({{"summary", "Ringkasan pertama"}}, {});
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(wf().set_case(*id, {{"summary", "Ringkasan kedua"}}));
  const std::uint64_t refused = store_->last_seq();
  ASSERT_TRUE(store_->record_refusal(earlier, 4, "sebelum"));
  ASSERT_TRUE(store_->record_refusal(refused, 6, "tidak berwenang"));
  ASSERT_TRUE(store_->rebuild_merge_state());
  ASSERT_EQ((*store_->entity(*id))->get("summary"), "Ringkasan pertama");

  auto moved = store_->reissue_own_commits(refused, refused + 3);
  ASSERT_TRUE(moved) << moved.error().message;
  ASSERT_EQ(*moved, 1u);
  ASSERT_TRUE(store_->rebuild_merge_state());
  auto rows = schema::Statement::prepare(store_->db(), "SELECT group_concat(seq) FROM refused_commits");
  ASSERT_TRUE(rows);
  auto row = rows->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(rows->column_text(0), std::to_string(earlier));  // the unmoved one stays
  // The moved commit counts again, under its new number, until the server answers.
  EXPECT_EQ((*store_->entity(*id))->get("summary"), "Ringkasan kedua");
}

}  // namespace
}  // namespace teduh::client
