// Checkpoints on a helper thread while the store's own connection commits (a large pull).
#include <gtest/gtest.h>

#include <filesystem>

#include "support/store_fixture.hpp"
#include "teduh/client/background_checkpoint.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh::client {
namespace {

std::int64_t pragma_int(sqlite3* db, const char* sql) {
  auto st = schema::Statement::prepare(db, sql);
  EXPECT_TRUE(st);
  EXPECT_TRUE(*st->step());
  return st->column_int(0);
}

TEST(BackgroundCheckpoint, CopiesTheLogBesideTheWriterAndLosesNothing) {
  testing::TempDir dir;
  testing::FakeServerKey server;
  const auto path = dir / "a.db";
  std::vector<sync::EntityId> ids;
  {
    auto s = testing::make_store(path, server);
    ASSERT_TRUE(s);
    auto checkpoints = BackgroundCheckpoint::start(*s);
    ASSERT_TRUE(checkpoints) << checkpoints.error().message;
    // The writer's own automatic checkpoints are off while the helper runs.
    EXPECT_EQ(pragma_int(s->db(), "PRAGMA wal_autocheckpoint"), 0);
    Workflow wf(*s);
    for (int batch = 0; batch < 12; ++batch) {
      auto r = s->in_transaction([&]() -> Result<bool> {
        for (int i = 0; i < 40; ++i) {
          auto id = TEDUH_TRY(wf.new_case({{"summary", "Ringkasan uji"}}, {{"name", "Orang Uji"}}));
          ids.push_back(id);
        }
        return true;
      });
      ASSERT_TRUE(r) << r.error().message;
      (*checkpoints)->committed();
    }
    const int runs = (*checkpoints)->finish();
    EXPECT_GE(runs, 1);
    EXPECT_EQ((*checkpoints)->finish(), runs);  // idempotent
    EXPECT_EQ(pragma_int(s->db(), "PRAGMA wal_autocheckpoint"), 1000);
    // The last checkpoint ran after the last commit: the database file holds everything,
    // and a checkpoint now finds no frame left to copy.
    int log_frames = -1, copied = -1;
    ASSERT_EQ(sqlite3_wal_checkpoint_v2(s->db(), "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied), SQLITE_OK);
    EXPECT_GT(log_frames, 0);
    EXPECT_EQ(log_frames, copied);
  }
  // Everything written is there after a reopen.
  auto s = Store::open(path, testing::kTestPassphrase);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->last_seq(), ids.size());
  auto cases = s->entities("kasus");
  ASSERT_TRUE(cases);
  EXPECT_EQ(cases->size(), ids.size());
}

}  // namespace
}  // namespace teduh::client
