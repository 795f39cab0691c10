// crypto::verify_store, the check behind `teduh check` and `teduhd check` (FORMATS.md
// section 8, "Checking a store").
#include "teduh/crypto/verify.hpp"

#include <gtest/gtest.h>

#include "store_test_support.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "wal_forge.hpp"

namespace teduh::crypto {
namespace {

using namespace teduh::crypto::testing;

constexpr std::size_t kPg = kPageSize;

std::string wal_of(const fs::path& p) { return p.string() + "-wal"; }

// A closed store (no WAL) of several pages: table t with an index.
void make_closed_store(const fs::path& p, const SecretBytes& key) {
  auto db = open_encrypted(p, key, OpenMode::create);
  ASSERT_TRUE(db) << db.error().message;
  must_run(db->get(), "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  must_run(db->get(), "CREATE INDEX t_v ON t(v)");
  must_run(db->get(), "BEGIN");
  for (int i = 0; i < 300; ++i) {
    must_run(db->get(), "INSERT INTO t(v) VALUES('baris-" + std::to_string(i) + "-' || hex(zeroblob(40)))");
  }
  must_run(db->get(), "COMMIT");
}

// A crash image: t in the main file, then `commits` one-row commits in the WAL.
void make_wal_image(const fs::path& live, const fs::path& snap, const SecretBytes& key, int commits) {
  auto db = open_encrypted(live, key, OpenMode::create);
  ASSERT_TRUE(db) << db.error().message;
  must_run(db->get(), "PRAGMA wal_autocheckpoint=0");
  must_run(db->get(), "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  must_run(db->get(), "PRAGMA wal_checkpoint(TRUNCATE)");
  for (int i = 1; i <= commits; ++i) {
    must_run(db->get(), "INSERT INTO t VALUES(" + std::to_string(i) + ", hex(randomblob(300)))");
  }
  fs::copy_file(live, snap);
  fs::copy_file(wal_of(live), wal_of(snap));
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(VerifyStore, AnIntactStoreIsReportedIntactWithEveryPageCounted) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key);
  ASSERT_FALSE(fs::exists(wal_of(dir / "s.db")));
  auto report = verify_store(dir / "s.db", key);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << joined(report->verdict());
  EXPECT_EQ(report->main_pages, fs::file_size(dir / "s.db") / kPg);
  EXPECT_GT(report->main_pages, 5u);
  EXPECT_EQ(report->wal_frames, 0u);
  EXPECT_EQ(report->integrity, std::vector<std::string>{"ok"});
  const auto verdict = report->verdict();
  ASSERT_FALSE(verdict.empty());
  EXPECT_EQ(verdict.front().rfind("Penyimpanan utuh: " + std::to_string(report->main_pages) + " halaman diperiksa", 0), 0u)
      << verdict.front();
}

TEST(VerifyStore, AStoreWithACommittedWalIsIntactAndItsFramesCounted) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_wal_image(dir / "live.db", dir / "s.db", key, 5);
  auto report = verify_store(dir / "s.db", key);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << joined(report->verdict());
  EXPECT_EQ(report->wal_frames, 5u);
  EXPECT_EQ(report->pages_checked(), report->main_pages + 5u);
}

TEST(VerifyStore, AFlippedByteInAMainFilePageNamesThatPage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key);
  flip_byte(dir / "s.db", 4 * kPg + 1234);  // page 5
  auto report = verify_store(dir / "s.db", key);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(report->intact());
  ASSERT_EQ(report->faults.size(), 1u);
  EXPECT_EQ(report->faults[0].file, PageFault::File::main);
  EXPECT_EQ(report->faults[0].page, 5u);
  const auto verdict = report->verdict();
  ASSERT_FALSE(verdict.empty());
  EXPECT_EQ(verdict.front().rfind("RUSAK: halaman 5 tidak lolos pemeriksaan", 0), 0u) << joined(verdict);
  EXPECT_NE(joined(verdict).find("Penyimpanan RUSAK"), std::string::npos);
}

TEST(VerifyStore, ADamagedCommittedWalFrameNamesItsPageAndFrame) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_wal_image(dir / "live.db", dir / "s.db", key, 5);
  flip_byte(wal_of(dir / "s.db"), 32 + 2 * (24 + kPg) + 24 + 100);  // frame 3 of 5 (page 2)
  auto report = verify_store(dir / "s.db", key);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(report->intact());
  ASSERT_EQ(report->faults.size(), 1u);
  EXPECT_EQ(report->faults[0].file, PageFault::File::wal);
  EXPECT_EQ(report->faults[0].page, 2u);
  EXPECT_EQ(report->faults[0].frame, 3u);
  EXPECT_FALSE(report->sqlite_failure.empty());  // the open itself refuses the damaged log
  EXPECT_NE(joined(report->verdict()).find("RUSAK: halaman 2 tidak lolos pemeriksaan (log WAL, bingkai 3)"),
            std::string::npos)
      << joined(report->verdict());
}

TEST(VerifyStore, AForgedCommitAtTheEndOfTheWalIsATornTailNotDamage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_wal_image(dir / "live.db", dir / "s.db", key, 5);
  forge_commit_size(wal_of(dir / "s.db"), 5, 7);
  auto report = verify_store(dir / "s.db", key);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << joined(report->verdict());
  EXPECT_EQ(report->wal_frames, 4u);
  ASSERT_EQ(report->notes.size(), 1u);
  EXPECT_NE(joined(report->verdict()).find("Catatan: bingkai 5"), std::string::npos) << joined(report->verdict());
}

TEST(VerifyStore, AWrongKeyIsAnErrorNotAReport) {
  TempDir dir;
  make_closed_store(dir / "s.db", SecretBytes::random(kStoreKeySize));
  auto report = verify_store(dir / "s.db", SecretBytes::random(kStoreKeySize));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, Errc::not_a_store);
  EXPECT_EQ(verify_store(dir / "none.db", SecretBytes::random(kStoreKeySize)).error().code, Errc::not_a_store);
}

TEST(VerifyStore, APassphraseOpensTheKeyFileFirst) {
  TempDir dir;
  const fs::path p = dir / "s.db";
  ASSERT_TRUE(create_store_key(p, "kata sandi uji", KdfParams::interactive()));
  auto key = unlock_store_key(p, "kata sandi uji");
  ASSERT_TRUE(key);
  make_closed_store(p, *key);
  auto good = verify_store(p, std::string_view("kata sandi uji"));
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_TRUE(good->intact());
  EXPECT_EQ(verify_store(p, std::string_view("salah")).error().code, Errc::wrong_passphrase);
}

TEST(VerifyStore, AMainPageWhoseNewerCopyIsInTheWalIsOnlyANote) {
  // As after a checkpoint's write torn by a power loss: the main file's copy is bad, the
  // WAL's committed copy is good, and the next checkpoint rewrites it.
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_wal_image(dir / "live.db", dir / "s.db", key, 3);  // every frame holds page 2
  flip_byte(dir / "s.db", kPg + 700);
  auto report = verify_store(dir / "s.db", key);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << joined(report->verdict());
  EXPECT_NE(joined(report->verdict()).find("Catatan: 1 halaman lama"), std::string::npos) << joined(report->verdict());
}

TEST(VerifyStore, AMainFileCutInsideAPageIsDamage) {
  TempDir dir;
  const auto key = SecretBytes::random(kStoreKeySize);
  make_closed_store(dir / "s.db", key);
  fs::resize_file(dir / "s.db", fs::file_size(dir / "s.db") - 100);
  auto report = verify_store(dir / "s.db", key);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(report->intact());
  EXPECT_EQ(report->cut_main_bytes, kPg - 100);
}

}  // namespace
}  // namespace teduh::crypto
