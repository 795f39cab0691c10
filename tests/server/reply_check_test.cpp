// The server checks its own replies against the wire's limits before it sends them
// (PROTOCOL.md section 5B rule 9, WIRE.md section 5): a reply that breaks one becomes an
// Error the device can report, never a connection dropped in silence.
#include <gtest/gtest.h>

#include <variant>

#include "teduh/server/sync_session.hpp"
#include "teduh/sync/wire.hpp"

namespace teduh::server {
namespace {

namespace wire = sync::wire;

wire::PulledCommit pulled(std::uint64_t server_seq) {
  wire::PulledCommit pc;
  pc.server_seq = server_seq;
  pc.commit.device = sync::Id128::random();
  pc.commit.seq = 1;
  pc.commit.body = {0x97, 0x01};
  pc.commit.signature.fill(0x11);
  return pc;
}

SessionStep pull_reply(std::vector<wire::PulledCommit> commits) {
  wire::PullReply reply;
  reply.next_cursor = commits.empty() ? 0 : commits.back().server_seq;
  reply.commits = std::move(commits);
  SessionStep step;
  step.replies.emplace_back(std::in_place_type<wire::PullReply>, std::move(reply));
  return step;
}

void expect_internal_error(const SessionStep& step) {
  ASSERT_EQ(step.replies.size(), 1u);
  const auto* error = std::get_if<wire::ErrorMessage>(&step.replies[0]);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code, wire::ErrorCode::internal);
  EXPECT_NE(error->message.find("limits"), std::string::npos);
  EXPECT_EQ(step.after, SessionStep::After::drop);
  EXPECT_NE(step.reason.find("breaks the wire limits"), std::string::npos);
  // The Error itself is a valid message: it reaches the device.
  EXPECT_TRUE(wire::encode(step.replies[0]));
}

TEST(ReplyCheckTest, AReplyWithinTheLimitsIsSentAsItIs) {
  SessionStep step = checked(pull_reply({pulled(3), pulled(5), pulled(9)}));
  ASSERT_EQ(step.replies.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<wire::PullReply>(step.replies[0]));
  EXPECT_EQ(step.after, SessionStep::After::keep);
}

TEST(ReplyCheckTest, ABackfillInFrontOfTheBatchBecomesAnErrorNotASilentDrop) {
  // What the old pull built: a gained case's history (low server seqs) in front of the
  // batch (higher ones), so the seqs no longer ascend.
  expect_internal_error(checked(pull_reply({pulled(40), pulled(41), pulled(7), pulled(8)})));
}

TEST(ReplyCheckTest, MoreThan4096CommitsBecomeAnError) {
  std::vector<wire::PulledCommit> commits;
  for (std::uint64_t i = 1; i <= wire::kMaxCommitsPerMessage + 1; ++i) commits.push_back(pulled(i));
  expect_internal_error(checked(pull_reply(std::move(commits))));
}

TEST(ReplyCheckTest, AReplyOverSixteenMebibytesBecomesAnError) {
  std::vector<wire::PulledCommit> commits;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    commits.push_back(pulled(i));
    commits.back().commit.body.assign(6u * 1024 * 1024, 0x01);
  }
  expect_internal_error(checked(pull_reply(std::move(commits))));
}

}  // namespace
}  // namespace teduh::server
