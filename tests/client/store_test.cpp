// The office store: opening, refusing, and replicas that exchange commits converge.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "support/store_fixture.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh::client {
namespace {

using testing::FakeServerKey;
using testing::TempDir;

// Applies every commit of `from` that `to` lacks, as a sync would (signatures verified).
void exchange(const Store& from, Store& to) {
  schema::Result<schema::Statement> st = schema::Statement::prepare(
      from.db(), "SELECT device, seq, body, signature FROM commits ORDER BY hlc, device, seq");
  ASSERT_TRUE(st);
  std::vector<sync::SignedCommit> all;
  while (*st->step()) {
    sync::SignedCommit sc;
    auto dev = st->column_blob(0);
    std::copy(dev.begin(), dev.end(), sc.device.bytes.begin());
    sc.seq = static_cast<std::uint64_t>(st->column_int(1));
    sc.body = st->column_blob(2);
    auto sig = st->column_blob(3);
    std::copy(sig.begin(), sig.end(), sc.signature.begin());
    all.push_back(std::move(sc));
  }
  auto tx = to.in_transaction([&]() -> Result<bool> {
    for (const auto& sc : all) {
      auto commit = sync::decode_commit_body(sc.body);
      if (!commit) return fail(Errc::internal, commit.error().message);
      TEDUH_TRY(to.apply_remote(sc, *commit, 0));
    }
    return true;
  });
  ASSERT_TRUE(tx) << tx.error().message;
}

TEST(Store, WrongPassphraseIsRefusedAndTheStoreIsUntouched) {
  TempDir dir;
  FakeServerKey server;
  ASSERT_TRUE(testing::make_store(dir / "a.db", server));
  std::string before = testing::read_file(dir / "a.db");
  auto s = Store::open(dir / "a.db", "salah-sandi");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::refused);
  EXPECT_EQ(exit_code(s.error().code), 2);
  EXPECT_EQ(testing::read_file(dir / "a.db"), before);
}

// The office app's background sync opens a second Store from the key the first holds: the
// two behave like two processes on one file (each write reads the counters under the lock).
TEST(Store, ASecondStoreFromTheHeldKeySharesTheFileAndItsSequence) {
  TempDir dir;
  FakeServerKey server;
  auto first = testing::make_store(dir / "a.db", server);
  ASSERT_TRUE(first) << first.error().message;
  auto second = first->open_again();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->identity().device, first->identity().device);
  const auto scope = sync::Id128::time_ordered(sync::system_now_ms());
  auto a = first->write(scope, "kasus", {{scope, "kasus", "summary", "satu"}});
  ASSERT_TRUE(a) << a.error().message;
  // No statement of the first is left on a row: that would keep an old snapshot open and
  // make its next write fail at once (SQLITE_BUSY_SNAPSHOT) after the second wrote.
  ASSERT_TRUE(first->meta("seq"));
  ASSERT_TRUE(first->find_by_field("kasus", "number", "tidak-ada"));
  for (sqlite3_stmt* st = sqlite3_next_stmt(first->db(), nullptr); st != nullptr;
       st = sqlite3_next_stmt(first->db(), st)) {
    EXPECT_FALSE(sqlite3_stmt_busy(st)) << "left on a row: " << sqlite3_sql(st);
  }
  auto b = second->write(scope, "kasus", {{scope, "kasus", "summary", "dua"}});
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->seq, a->seq + 1) << "the second Store does not take the first one's number";
  auto c = first->write(scope, "kasus", {{scope, "kasus", "kecamatan", "Bekasi Timur"}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->seq, b->seq + 1);
  auto seen = first->entity(scope);
  ASSERT_TRUE(seen && *seen);
  EXPECT_EQ((*seen)->get("summary"), "dua");
}

TEST(Store, MissingStoreAndNonStoreFilesAreRefused) {
  TempDir dir;
  auto missing = Store::open(dir / "none.db", "x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::refused);
  {
    std::ofstream out(dir / "text.db");
    out << "this is not a teduh store";
  }
  auto text = Store::open(dir / "text.db", "x");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, Errc::refused);
}

TEST(Store, CreatingOverAnExistingStoreIsRefused) {
  TempDir dir;
  FakeServerKey server;
  ASSERT_TRUE(testing::make_store(dir / "a.db", server));
  auto again = testing::make_store(dir / "a.db", server);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::refused);
}

// Issue 15: a --store in a folder that does not exist is named as such (it was "cannot
// create a temporary key file", exit 4), and nothing is created.
TEST(Store, AStoreInAFolderThatDoesNotExistIsRefusedNamingTheFolder) {
  TempDir dir;
  FakeServerKey server;
  auto missing = testing::make_store(dir / "tidak-ada" / "a.db", server);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::usage);
  EXPECT_NE(missing.error().message.find((dir / "tidak-ada").string()), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("tidak ada"), std::string::npos)
      << missing.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir / "tidak-ada"));
  std::ofstream(dir / "berkas") << "x";  // a file where the folder should be
  auto not_folder = testing::make_store(dir / "berkas" / "a.db", server);
  ASSERT_FALSE(not_folder);
  EXPECT_EQ(not_folder.error().code, Errc::usage);
  EXPECT_NE(not_folder.error().message.find("bukan folder"), std::string::npos)
      << not_folder.error().message;
}

// Issue 15, point 9: writers on one store at once, each with its own connection (as the
// office app and a `teduh` command, or two windows): each waits for the other's lock
// (crypto::kBusyTimeoutMs) instead of failing with "database is locked", and each reads
// the sequence counter again under the lock, so no seq or case number is taken twice.
TEST(Store, ManyWritersOnOneStoreAllSucceedWithExactCounts) {
  TempDir dir;
  FakeServerKey server;
  { ASSERT_TRUE(testing::make_store(dir / "a.db", server)); }
  constexpr int kWriters = 4;
  constexpr int kCasesEach = 25;
  std::vector<Store> stores;
  for (int w = 0; w < kWriters; ++w) {
    auto s = Store::open(dir / "a.db", testing::kTestPassphrase);
    ASSERT_TRUE(s) << s.error().message;
    stores.push_back(std::move(*s));
  }
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kCasesEach; ++i) {
        auto c = Workflow(stores[static_cast<std::size_t>(w)]).new_case({}, {});
        if (!c) {
          ++failures;
          errors[static_cast<std::size_t>(w)] = c.error().message;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0) << errors[0] << errors[1] << errors[2] << errors[3];
  stores.clear();
  auto s = Store::open(dir / "a.db", testing::kTestPassphrase);
  ASSERT_TRUE(s) << s.error().message;
  constexpr std::size_t kTotal = kWriters * kCasesEach;
  EXPECT_EQ(s->last_seq(), kTotal);
  auto cases = s->entities("kasus");
  ASSERT_TRUE(cases);
  EXPECT_EQ(cases->size(), kTotal);
  std::set<std::string> numbers;
  for (const auto& c : *cases) numbers.insert(c.get("number"));
  EXPECT_EQ(numbers.size(), kTotal) << "a case number was given twice";
  auto st = schema::Statement::prepare(s->db(), "SELECT count(DISTINCT seq), max(seq) FROM commits");
  ASSERT_TRUE(st);
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(st->column_int(0), static_cast<std::int64_t>(kTotal));
  EXPECT_EQ(st->column_int(1), static_cast<std::int64_t>(kTotal));
}

// A lock held past the wait: the write fails with Errc::busy (exit 5) and a sentence in
// Indonesian, changes nothing, and goes through once the lock is released.
TEST(Store, ALockHeldPastTheWaitIsSaidInWordsWithItsOwnExitCode) {
  TempDir dir;
  FakeServerKey server;
  auto holder = testing::make_store(dir / "a.db", server);
  ASSERT_TRUE(holder);
  auto waiter = Store::open(dir / "a.db", testing::kTestPassphrase);
  ASSERT_TRUE(waiter) << waiter.error().message;
  sqlite3_busy_timeout(waiter->db(), 200);  // the real wait is 10 s
  ASSERT_TRUE(schema::exec(holder->db(), "BEGIN IMMEDIATE"));
  auto refused = Workflow(*waiter).new_case({}, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::busy) << refused.error().message;
  EXPECT_EQ(exit_code(refused.error().code), 5);
  EXPECT_NE(refused.error().message.find("Penyimpanan sedang dipakai oleh proses lain"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("coba lagi"), std::string::npos);
  auto listed = Workflow(*waiter).list_cases();  // readers do not wait for a writer (WAL)
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_TRUE(schema::exec(holder->db(), "ROLLBACK"));
  auto later = Workflow(*waiter).new_case({}, {});
  ASSERT_TRUE(later) << later.error().message;
  EXPECT_EQ(waiter->last_seq(), 1u);
}

TEST(Store, ReopenedStoreKeepsIdentityAndContinuesSequences) {
  TempDir dir;
  FakeServerKey server;
  sync::EntityId id;
  {
    auto s = testing::make_store(dir / "a.db", server);
    ASSERT_TRUE(s);
    auto c = Workflow(*s).new_case({}, {});
    ASSERT_TRUE(c);
    id = *c;
  }
  auto s = Store::open(dir / "a.db", testing::kTestPassphrase);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->identity().grant.office_code, "BKS-DP3A");
  EXPECT_EQ(s->last_seq(), 1u);
  auto c2 = Workflow(*s).new_case({}, {});
  ASSERT_TRUE(c2);
  EXPECT_EQ(s->last_seq(), 2u);
  auto e = s->entity(*c2);
  EXPECT_EQ((*e)->get("number").substr((*e)->get("number").size() - 4), "0002");
}

TEST(Store, MarkersNeverAppearInTheRawFiles) {
  TempDir dir;
  FakeServerKey server;
  {
    auto s = testing::make_store(dir / "a.db", server, "BKS-DP3A", true);
    ASSERT_TRUE(s);
    Workflow wf(*s);
    auto c = wf.new_case({{"chronology", "KRONOLOGI-PENANDA-91c2"}},
                         {{"name", "NAMA-PENANDA-77ab"}, {"nik", "3275014101900001"}});
    ASSERT_TRUE(c) << c.error().message;
    auto sh = wf.add_shelter({{"name", "RUMAH-PENANDA-5d1e"}, {"address", "ALAMAT-PENANDA-0f3c"}});
    ASSERT_TRUE(sh) << sh.error().message;
  }
  std::string raw = testing::read_all_files(dir.path());
  for (const char* marker : {"KRONOLOGI-PENANDA-91c2", "NAMA-PENANDA-77ab", "3275014101900001",
                             "RUMAH-PENANDA-5d1e", "ALAMAT-PENANDA-0f3c", "SQLite format 3"}) {
    EXPECT_EQ(raw.find(marker), std::string::npos) << marker;
  }
}

TEST(Store, TwoOfficesThatEditDifferentFieldsConvergeToTheSameDocument) {
  TempDir dir;
  FakeServerKey server;
  auto a = testing::make_store(dir / "a.db", server, "BKS-DP3A");
  auto b = testing::make_store(dir / "b.db", server, "BKS-UPTD");
  ASSERT_TRUE(a && b);
  auto id = Workflow(*a).new_case({{"summary", "Awal"}}, {{"name", "Orang Uji"}});
  ASSERT_TRUE(id);
  exchange(*a, *b);
  ASSERT_TRUE(Workflow(*a).set_case(*id, {{"risk_level", "tinggi"}}));
  ASSERT_TRUE(Workflow(*b).set_case(*id, {{"summary", "Diperbarui"}}));
  exchange(*a, *b);
  exchange(*b, *a);
  auto da = Workflow(*a).show_case(*id);
  auto db = Workflow(*b).show_case(*id);
  ASSERT_TRUE(da && db);
  EXPECT_EQ(da->dump(), db->dump());
  EXPECT_EQ((*da)["case"]["risk_level"], "tinggi");
  EXPECT_EQ((*da)["case"]["summary"], "Diperbarui");
  EXPECT_TRUE((*da)["conflicts"].empty());
}

TEST(Store, ConcurrentEditsOfOneFieldAreBothKeptAndResolvedEverywhere) {
  TempDir dir;
  FakeServerKey server;
  auto a = testing::make_store(dir / "a.db", server, "BKS-DP3A");
  auto b = testing::make_store(dir / "b.db", server, "BKS-UPTD");
  ASSERT_TRUE(a && b);
  auto id = Workflow(*a).new_case({}, {});
  ASSERT_TRUE(id);
  exchange(*a, *b);
  ASSERT_TRUE(Workflow(*a).set_case(*id, {{"risk_level", "tinggi"}}));
  ASSERT_TRUE(Workflow(*b).set_case(*id, {{"risk_level", "rendah"}}));
  exchange(*a, *b);
  exchange(*b, *a);
  auto ca = Workflow(*a).conflicts();
  auto cb = Workflow(*b).conflicts();
  ASSERT_TRUE(ca && cb);
  EXPECT_EQ(ca->dump(), cb->dump());
  ASSERT_EQ((*ca)["conflicts"].size(), 1u);
  EXPECT_EQ((*ca)["conflicts"][0]["field"], "risk_level");
  EXPECT_EQ((*ca)["conflicts"][0]["values"].size(), 2u);

  ASSERT_TRUE(Workflow(*b).resolve(*id, "risk_level", "sedang"));
  exchange(*b, *a);
  auto after = Workflow(*a).conflicts();
  EXPECT_TRUE((*after)["conflicts"].empty());
  auto c = a->entity(*id);
  EXPECT_EQ((*c)->get("risk_level"), "sedang");
  auto history = Workflow(*a).history(*id);
  int risk_versions = 0;
  for (const auto& v : (*history)["versions"]) risk_versions += v["field"] == "risk_level";
  EXPECT_EQ(risk_versions, 3);
}

TEST(Store, ApplyingTheSameCommitsTwiceChangesNothing) {
  TempDir dir;
  FakeServerKey server;
  auto a = testing::make_store(dir / "a.db", server);
  auto b = testing::make_store(dir / "b.db", server);
  ASSERT_TRUE(a && b);
  auto id = Workflow(*a).new_case({{"summary", "x"}}, {});
  ASSERT_TRUE(id);
  exchange(*a, *b);
  auto once = Workflow(*b).list_cases();
  exchange(*a, *b);
  auto twice = Workflow(*b).list_cases();
  EXPECT_EQ(once->dump(), twice->dump());
}

TEST(Store, UnclearedReplicaSeesShelterAsSecret) {
  TempDir dir;
  FakeServerKey server;
  auto a = testing::make_store(dir / "a.db", server, "BKS-UPTD", /*shelter=*/true);
  auto b = testing::make_store(dir / "b.db", server, "BKS-UPTD", /*shelter=*/false);
  ASSERT_TRUE(a && b);
  auto sh = Workflow(*a).add_shelter({{"name", "Rumah Uji"}, {"address", "Alamat Uji 3"}});
  ASSERT_TRUE(sh);
  exchange(*a, *b);
  auto doc = Workflow(*b).list_shelters();
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["shelters"][0]["address"], "rumah aman (lokasi dirahasiakan)");
  auto refused = Workflow(*b).add_shelter({{"name", "Lain"}, {"address", "Lain"}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::refused);
}

}  // namespace
}  // namespace teduh::client

namespace teduh::client {
namespace {

TEST(Store, ActionsInsideOneOuterTransactionAreAllKept) {
  testing::TempDir dir;
  testing::FakeServerKey server;
  {
    auto s = testing::make_store(dir / "a.db", server);
    ASSERT_TRUE(s);
    Workflow wf(*s);
    auto r = s->in_transaction([&]() -> Result<bool> {
      for (int i = 0; i < 400; ++i) {
        TEDUH_TRY(wf.new_case({}, {}));
      }
      return true;
    });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(s->last_seq(), 400u);
  }
  auto s = Store::open(dir / "a.db", testing::kTestPassphrase);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->last_seq(), 400u);
  auto all = s->entities("kasus");
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->size(), 400u);
}

TEST(Store, AFailedActionInsideAnOuterTransactionLeavesNoGapInTheSequence) {
  testing::TempDir dir;
  testing::FakeServerKey server;
  auto s = testing::make_store(dir / "a.db", server);
  ASSERT_TRUE(s);
  Workflow wf(*s);
  auto r = s->in_transaction([&]() -> Result<bool> {
    TEDUH_TRY(wf.new_case({}, {}));
    return fail(Errc::invalid, "undo everything");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(s->last_seq(), 0u);
  ASSERT_TRUE(wf.new_case({}, {}));
  EXPECT_EQ(s->last_seq(), 1u);
}

}  // namespace
}  // namespace teduh::client

namespace teduh::client {
namespace {

// The statement of `db` whose SQL contains `needle` (the store caches its statements).
sqlite3_stmt* statement_containing(sqlite3* db, std::string_view needle) {
  for (sqlite3_stmt* st = sqlite3_next_stmt(db, nullptr); st != nullptr; st = sqlite3_next_stmt(db, st)) {
    if (std::string_view(sqlite3_sql(st)).find(needle) != std::string_view::npos) return st;
  }
  return nullptr;
}

TEST(Store, ACaseIsFoundByItsNumberThroughTheIdentifierIndex) {
  testing::TempDir dir;
  testing::FakeServerKey server;
  auto s = testing::make_store(dir / "a.db", server);
  ASSERT_TRUE(s);
  Workflow wf(*s);
  std::vector<sync::EntityId> ids;
  for (int i = 0; i < 60; ++i) {
    auto id = wf.new_case({{"summary", "Ringkasan " + std::to_string(i)}}, {{"name", "Orang Uji " + std::to_string(i)}});
    ASSERT_TRUE(id) << id.error().message;
    ids.push_back(*id);
  }
  auto view = s->entity(ids[37]);
  ASSERT_TRUE(view && *view);
  const std::string number = (*view)->get("number");
  ASSERT_FALSE(number.empty());

  auto found = s->find_by_field("kasus", "number", number);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(*found);
  EXPECT_EQ(**found, ids[37]);
  // The lookup went through fields_by_identifier: no step of a full table scan.
  sqlite3_stmt* st = statement_containing(s->db(), "f.field IN ('number', 'code_name')");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(sqlite3_stmt_status(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0), 0);
  EXPECT_GT(sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 0), 0);

  auto none = s->find_by_field("kasus", "number", "TIDAK-ADA");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  // Other fields are not identifiers; asking by them is a programming error, said so.
  auto refused = s->find_by_field("kasus", "summary", "Ringkasan 3");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("summary"), std::string::npos);
}

TEST(Store, TheClockOfPulledCommitsIsKeptAcrossReopen) {
  testing::TempDir dir;
  testing::FakeServerKey server;
  auto a = testing::make_store(dir / "a.db", server, "BKS-DP3A");
  ASSERT_TRUE(a);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Workflow(*a).new_case({}, {}));
  const sync::Hlc a_clock = a->clock().last();
  {
    auto b = testing::make_store(dir / "b.db", server, "BKS-UPTD");
    ASSERT_TRUE(b);
    ASSERT_LT(b->clock().last(), a_clock);
    exchange(*a, *b);  // one transaction of 20 remote commits: the clock is saved once, at COMMIT
    EXPECT_GE(b->clock().last(), a_clock);
  }
  auto b = Store::open(dir / "b.db", testing::kTestPassphrase);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_GE(b->clock().last(), a_clock);
  // A write after the reopen orders after everything pulled.
  auto c = Workflow(*b).new_case({}, {});
  ASSERT_TRUE(c);
  EXPECT_GT(b->clock().last(), a_clock);
}

}  // namespace
}  // namespace teduh::client

namespace teduh::client {
namespace {

// A commit that creates many entities at once: its new versions are written many rows to
// a statement (apply_commit), over several statements; replicas still agree on every field.
TEST(Store, ACommitOfManyNewEntitiesIsAppliedWholeOnBothReplicas) {
  testing::TempDir dir;
  testing::FakeServerKey server;
  auto a = testing::make_store(dir / "a.db", server, "BKS-DP3A");
  auto b = testing::make_store(dir / "b.db", server, "BKS-UPTD");
  ASSERT_TRUE(a && b);
  auto case_id = Workflow(*a).new_case({}, {});
  ASSERT_TRUE(case_id);
  // 23 persons of two fields each: 46 new versions, 16 + 16 + 14 rows.
  std::vector<FieldWrite> writes;
  std::vector<sync::EntityId> persons;
  for (int i = 0; i < 23; ++i) {
    persons.push_back(sync::Id128::time_ordered(sync::system_now_ms()));
    writes.push_back({persons.back(), "orang", "name", "Saksi Uji " + std::to_string(i)});
    writes.push_back({persons.back(), "orang", "age", std::to_string(20 + i)});
  }
  auto commit = a->write(*case_id, "kasus", writes);
  ASSERT_TRUE(commit) << commit.error().message;
  ASSERT_EQ(commit->versions.size(), 46u);
  exchange(*a, *b);
  for (Store* s : {&*a, &*b}) {
    for (int i = 0; i < 23; ++i) {
      auto view = s->entity(persons[i]);
      ASSERT_TRUE(view && *view) << i;
      EXPECT_EQ((*view)->type, "orang");
      EXPECT_EQ((*view)->scope, *case_id);
      EXPECT_EQ((*view)->get("name"), "Saksi Uji " + std::to_string(i));
      EXPECT_EQ((*view)->get("age"), std::to_string(20 + i));
      auto live = s->live_versions(persons[i], "age");
      ASSERT_TRUE(live);
      ASSERT_EQ(live->size(), 1u);
      EXPECT_EQ((*live)[0].id.seq, commit->seq);
    }
  }
}

}  // namespace
}  // namespace teduh::client
