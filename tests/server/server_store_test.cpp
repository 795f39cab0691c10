// Store-level behaviour of the server: offices, enrollment, devices, the commit log.
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "teduh/crypto/kdf.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/server/server_store.hpp"
#include "teduh/server/sqlite_storage.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::server {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPass = "kata sandi server";

class ServerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(temp_.path().empty());
    root_ = temp_.path();
    dir_ = root_ / "data";
    auto store = ServerStore::create(dir_, kPass, crypto::KdfParams::interactive());
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
    ASSERT_TRUE(store_->add_office({"BKS-DP3A", "DP3A Kota Bekasi", "dinas", "32.75", ""}));
  }
  void TearDown() override { store_.reset(); }

  // Enrolls a new device of BKS-DP3A and returns its record.
  DeviceRecord enroll_device(const crypto::SigningKey& key) {
    auto issued = store_->issue_enrollment({"BKS-DP3A", "Sari", "pendamping", false, 14});
    EXPECT_TRUE(issued);
    auto device = store_->register_device(issued->code, sync::Id128::random(), key.public_key());
    EXPECT_TRUE(device) << device.error().message;
    return *device;
  }

  static sync::SignedCommit make_commit(const DeviceRecord& device, const crypto::SigningKey& key, std::uint64_t seq,
                                        const sync::EntityId& scope, std::string summary = "Ringkasan awal") {
    sync::Commit c;
    c.device = device.device_id;
    c.seq = seq;
    c.scope = scope;
    c.scope_type = "kasus";
    c.hlc = sync::make_hlc(static_cast<std::uint64_t>(now_ms()), static_cast<std::uint16_t>(seq));
    sync::Version v;
    v.entity = scope;
    v.entity_type = "kasus";
    v.field = "summary";
    v.value = std::move(summary);
    v.hlc = c.hlc;
    c.versions.push_back(v);
    return sync::sign_commit(c, key);
  }

  teduh::testing::TempDir temp_;  // removed after the store is closed
  fs::path root_;
  fs::path dir_;
  std::optional<ServerStore> store_;
};

TEST_F(ServerStoreTest, OfficeAddValidatesKindParentAndDuplicates) {
  EXPECT_TRUE(store_->add_office({"KEL-1", "Pos Kelurahan Satu", "kelurahan", "", "BKS-DP3A"}));
  auto bad_kind = store_->add_office({"X-1", "Kantor X", "kantor", "", ""});
  ASSERT_FALSE(bad_kind);
  EXPECT_EQ(bad_kind.error().code, Errc::invalid_input);
  auto no_parent = store_->add_office({"X-2", "Kantor X", "mitra", "", "NOPE"});
  ASSERT_FALSE(no_parent);
  EXPECT_EQ(no_parent.error().code, Errc::not_found);
  auto dup = store_->add_office({"BKS-DP3A", "Lagi", "dinas", "", ""});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::already_exists);
  auto offices = store_->list_offices();
  ASSERT_TRUE(offices);
  ASSERT_EQ(offices->size(), 2u);
  EXPECT_EQ((*offices)[1].parent, "BKS-DP3A");
}

TEST_F(ServerStoreTest, OfficeRegionIsStoredAsBpsDigitsOrRefusedInIndonesian) {
  EXPECT_TRUE(store_->add_office({"DPK-DP3A", "DP3A Kota Uji", "dinas", "32.76", ""}));
  EXPECT_TRUE(store_->add_office({"DPK-KEC", "Pos Kecamatan Uji", "kelurahan", "3276010", ""}));
  for (const char* bad : {"327", "32.75.01", "3276-01", "99", "32.7.6"}) {
    auto refused = store_->add_office({"X-1", "Kantor X", "dinas", bad, ""});
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, Errc::invalid_input);
    EXPECT_NE(refused.error().message.find("Kode wilayah '" + std::string(bad) + "' tidak dapat dipakai"),
              std::string::npos)
        << refused.error().message;
  }
  auto offices = store_->list_offices();
  ASSERT_TRUE(offices);
  std::map<std::string, std::string> region;
  for (const auto& o : *offices) region[o.code] = o.region;
  EXPECT_EQ(region["DPK-DP3A"], "3276");
  EXPECT_EQ(region["DPK-KEC"], "3276010");
  EXPECT_EQ(region["BKS-DP3A"], "3275");  // added as "32.75" by the fixture
  EXPECT_FALSE(region.contains("X-1"));
}

TEST_F(ServerStoreTest, EnrollRefusesUnknownOfficeAndRole) {
  EXPECT_EQ(store_->issue_enrollment({"NOPE", "Sari", "pendamping", false, 14}).error().code, Errc::not_found);
  EXPECT_EQ(store_->issue_enrollment({"BKS-DP3A", "Sari", "raja", false, 14}).error().code, Errc::invalid_input);
  EXPECT_EQ(store_->issue_enrollment({"BKS-DP3A", "Sari", "pendamping", false, 0}).error().code,
            Errc::invalid_input);
}

TEST_F(ServerStoreTest, EnrollmentCodeIsConsumedOnce) {
  auto issued = store_->issue_enrollment({"BKS-DP3A", "Sari", "petugas_rumah_aman", true, 14});
  ASSERT_TRUE(issued);
  const auto key_a = crypto::SigningKey::generate();
  const auto key_b = crypto::SigningKey::generate();
  const auto id_a = sync::Id128::random();
  auto first = store_->register_device(issued->code, id_a, key_a.public_key());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->office, "BKS-DP3A");
  EXPECT_TRUE(first->shelter);

  auto second = store_->register_device(issued->code, sync::Id128::random(), key_b.public_key());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::refused);

  // The same device retrying after a lost reply is acknowledged again.
  auto retry = store_->register_device(issued->code, id_a, key_a.public_key());
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->device_id, id_a);
  EXPECT_EQ(store_->list_devices()->size(), 1u);
}

TEST_F(ServerStoreTest, ExpiredOrForeignEnrollmentCodeIsRefused) {
  auto issued = store_->issue_enrollment({"BKS-DP3A", "Sari", "pendamping", false, 1}, now_ms());
  ASSERT_TRUE(issued);
  const auto key = crypto::SigningKey::generate();
  auto late = store_->register_device(issued->code, sync::Id128::random(), key.public_key(),
                                      now_ms() + 2LL * 24 * 3600 * 1000);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::refused);

  auto garbage = store_->register_device("TDH1.bukan.kode", sync::Id128::random(), key.public_key());
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, Errc::invalid_input);
}

TEST_F(ServerStoreTest, RevokedDeviceIsRefused) {
  const auto key = crypto::SigningKey::generate();
  DeviceRecord device = enroll_device(key);
  auto revoked = store_->revoke_device(device.device_id);
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(*revoked);
  EXPECT_FALSE(*store_->revoke_device(device.device_id));  // idempotent
  EXPECT_EQ(store_->revoke_device(sync::Id128::random()).error().code, Errc::not_found);

  auto current = store_->find_device(device.device_id);
  ASSERT_TRUE(current && *current);
  EXPECT_TRUE((*current)->revoked());
  const auto commit = make_commit(**current, key, 1, sync::Id128::random());
  auto pushed = store_->push(**current, std::span(&commit, 1));
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code, Errc::refused);
  EXPECT_EQ(store_->pull(**current, 0).error().code, Errc::refused);
}

TEST_F(ServerStoreTest, DuplicatePushReturnsTheExistingServerSeq) {
  const auto key = crypto::SigningKey::generate();
  DeviceRecord device = enroll_device(key);
  const auto scope = sync::Id128::random();
  std::vector<sync::SignedCommit> commits = {make_commit(device, key, 1, scope), make_commit(device, key, 2, scope)};
  auto first = store_->push(device, commits);
  ASSERT_TRUE(first);
  ASSERT_TRUE((*first)[0].accepted);
  ASSERT_TRUE((*first)[1].accepted);
  auto again = store_->push(device, commits);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)[0].accepted);
  EXPECT_EQ((*again)[0].server_seq, (*first)[0].server_seq);
  EXPECT_EQ((*again)[1].server_seq, (*first)[1].server_seq);
  EXPECT_EQ(*store_->last_acked(device.device_id), 2u);

  // The same (device, seq) with another body is refused and stores nothing.
  const auto other = make_commit(device, key, 2, scope, "Ringkasan lain");
  auto conflict = store_->push(device, std::span(&other, 1));
  ASSERT_TRUE(conflict);
  EXPECT_FALSE((*conflict)[0].accepted);
  EXPECT_EQ((*conflict)[0].reason, RejectReason::seq_taken);
  const auto reader_key = crypto::SigningKey::generate();
  DeviceRecord reader = enroll_device(reader_key);
  EXPECT_EQ(store_->pull(reader, 0)->commits.size(), 2u);
}

TEST_F(ServerStoreTest, RefusedCommitsAreNeverStored) {
  const auto key = crypto::SigningKey::generate();
  const auto other_key = crypto::SigningKey::generate();
  DeviceRecord device = enroll_device(key);
  DeviceRecord other = enroll_device(other_key);
  const auto scope = sync::Id128::random();

  const auto gap = make_commit(device, key, 3, scope);
  const auto forged = make_commit(device, other_key, 1, scope);  // signed with another key
  const auto foreign = make_commit(other, other_key, 1, scope);  // names another device
  sync::SignedCommit damaged = make_commit(device, key, 1, scope);
  damaged.body.back() ^= 0x01;
  std::vector<sync::SignedCommit> batch = {gap, forged, foreign, damaged};
  auto results = store_->push(device, batch);
  ASSERT_TRUE(results);
  EXPECT_EQ((*results)[0].reason, RejectReason::out_of_order);
  EXPECT_EQ((*results)[1].reason, RejectReason::bad_signature);
  EXPECT_EQ((*results)[2].reason, RejectReason::wrong_device);
  EXPECT_FALSE((*results)[3].accepted);
  for (const PushResult& r : *results) EXPECT_FALSE(r.accepted);
  EXPECT_EQ(*store_->last_acked(device.device_id), 0u);
  EXPECT_TRUE(store_->pull(other, 0)->commits.empty());
}

// A consent for `office` and a referral to it, in one commit of the case `scope`.
sync::Commit referral_to(const DeviceRecord& device, std::uint64_t seq, const sync::EntityId& scope,
                         const std::string& office) {
  sync::Commit c;
  c.device = device.device_id;
  c.seq = seq;
  c.scope = scope;
  c.scope_type = "kasus";
  c.hlc = sync::make_hlc(static_cast<std::uint64_t>(now_ms()), static_cast<std::uint16_t>(seq));
  const sync::EntityId consent = sync::Id128::random();
  const sync::EntityId referral = sync::Id128::random();
  auto add = [&](const sync::EntityId& entity, const char* type, const char* field, std::string value) {
    sync::Version v;
    v.entity = entity;
    v.entity_type = type;
    v.field = field;
    v.value = std::move(value);
    v.hlc = c.hlc;
    c.versions.push_back(std::move(v));
  };
  add(consent, "persetujuan", "case", scope.hex());
  add(consent, "persetujuan", "given_by", "korban");
  add(consent, "persetujuan", "scope", "rujukan");
  add(consent, "persetujuan", "scope_office", office);
  add(consent, "persetujuan", "given_at", "2026-01-05T10:00:00Z");
  add(referral, "rujukan", "case", scope.hex());
  add(referral, "rujukan", "consent", consent.hex());
  add(referral, "rujukan", "status", "dikirim");
  add(referral, "rujukan", "to_office", office);
  return c;
}

// The office rows of the scope_access table, as `teduhd debug dump` prints them.
std::string access_rows(ServerStore& store) {
  auto dump = store.dump_text();
  EXPECT_TRUE(dump);
  if (!dump) return {};
  const auto begin = dump->find("== scope_access\n");
  if (begin == std::string::npos) return {};
  const auto end = dump->find("\n== ", begin + 1);
  return dump->substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

TEST_F(ServerStoreTest, AReferralToAnOfficeThatDoesNotExistIsRefusedAndGrantsNothing) {
  const auto key = crypto::SigningKey::generate();
  DeviceRecord device = enroll_device(key);
  const auto scope = sync::Id128::random();
  std::vector<sync::SignedCommit> created = {make_commit(device, key, 1, scope)};
  ASSERT_TRUE(store_->push(device, created).value()[0].accepted);
  std::vector<sync::SignedCommit> referred = {sync::sign_commit(referral_to(device, 2, scope, "NOPE"), key)};
  auto results = store_->push(device, referred);
  ASSERT_TRUE(results);
  EXPECT_FALSE((*results)[0].accepted);
  EXPECT_EQ((*results)[0].reason, RejectReason::not_authorized);
  EXPECT_NE((*results)[0].message.find("kantor tidak dikenal"), std::string::npos) << (*results)[0].message;
  EXPECT_EQ(*store_->last_acked(device.device_id), 2u);  // consumed: later commits follow
  EXPECT_EQ(access_rows(*store_).find("NOPE"), std::string::npos);

  // A referral stored by an older server, before this rule: recomputing the case's
  // sharing (at the next open) grants nothing to an office that does not exist.
  store_.reset();
  auto storage = open_sqlite_storage(dir_, kPass);
  ASSERT_TRUE(storage) << storage.error().message;
  const sync::SignedCommit legacy = sync::sign_commit(referral_to(device, 3, scope, "NOPE"), key);
  LogEntry e;
  e.device = device.device_id;
  e.seq = 3;
  e.scope = scope;
  e.scope_type = "kasus";
  e.body = legacy.body;
  e.signature = legacy.signature;
  e.received_at_ms = now_ms();
  e.touches_access = true;
  std::vector<LogEntry> entries = {e};
  ASSERT_TRUE((*storage)->append_commits(entries, device.office));
  auto reopened = ServerStore::over(std::move(*storage));
  ASSERT_TRUE(reopened) << reopened.error().message;
  store_.emplace(std::move(*reopened));
  EXPECT_EQ(access_rows(*store_).find("NOPE"), std::string::npos) << access_rows(*store_);
}

// A refused seq is taken by the refused commit alone (PROTOCOL.md section 5B). Sent again,
// that commit is refused again with its reason; another commit under the seq, as a store
// restored from an older copy writes, is told seq_taken, so the device renumbers it after
// its last seq instead of taking the refusal for its own (simulation seed 39629: a new
// case took an old referral's refusal and never reached the server).
TEST_F(ServerStoreTest, ARefusedSeqRefusesOnlyTheCommitItRefusedAndTellsAnotherCommitItIsTaken) {
  const auto key = crypto::SigningKey::generate();
  DeviceRecord device = enroll_device(key);
  const auto scope = sync::Id128::random();
  std::vector<sync::SignedCommit> created = {make_commit(device, key, 1, scope)};
  ASSERT_TRUE(store_->push(device, created).value()[0].accepted);
  std::vector<sync::SignedCommit> referred = {sync::sign_commit(referral_to(device, 2, scope, "NOPE"), key)};
  ASSERT_EQ(store_->push(device, referred).value()[0].reason, RejectReason::not_authorized);

  auto again = store_->push(device, referred);
  ASSERT_TRUE(again);
  EXPECT_FALSE((*again)[0].accepted);
  EXPECT_EQ((*again)[0].reason, RejectReason::not_authorized);

  // New work under seq 2: a new case, which the server would accept under a fresh seq.
  std::vector<sync::SignedCommit> other = {make_commit(device, key, 2, sync::Id128::random(), "Kasus baru")};
  auto taken = store_->push(device, other);
  ASSERT_TRUE(taken);
  EXPECT_FALSE((*taken)[0].accepted);
  EXPECT_EQ((*taken)[0].reason, RejectReason::seq_taken) << (*taken)[0].message;
  EXPECT_EQ(*store_->last_acked(device.device_id), 2u);
  // Renumbered after the last seq, it is stored.
  std::vector<sync::SignedCommit> renumbered = {make_commit(device, key, 3, sync::Id128::random(), "Kasus baru")};
  EXPECT_TRUE(store_->push(device, renumbered).value()[0].accepted);

  // The digest survives a restart of the server.
  store_.reset();
  auto reopened = ServerStore::open(dir_, kPass);
  ASSERT_TRUE(reopened) << reopened.error().message;
  store_.emplace(std::move(*reopened));
  EXPECT_EQ(store_->push(device, referred).value()[0].reason, RejectReason::not_authorized);
  EXPECT_EQ(store_->push(device, other).value()[0].reason, RejectReason::seq_taken);
}

// Storage::begin_read: the reads of a push's checks or of a pull see one state of the
// store; a write ends the snapshot first; outside one, every read sees the latest state
// (a cached statement never keeps an old read transaction open).
TEST_F(ServerStoreTest, AReadSnapshotSeesOneStateAndAWriteEndsIt) {
  const auto key = crypto::SigningKey::generate();
  DeviceRecord device = enroll_device(key);
  const auto first = sync::Id128::random();
  std::vector<sync::SignedCommit> created = {make_commit(device, key, 1, first)};
  ASSERT_TRUE(store_->push(device, created).value()[0].accepted);
  store_.reset();
  auto reader = open_sqlite_storage(dir_, kPass);
  ASSERT_TRUE(reader) << reader.error().message;
  auto writer = open_sqlite_storage(dir_, kPass);  // as an admin command beside teduhd
  ASSERT_TRUE(writer) << writer.error().message;
  auto append = [&](Storage& storage, std::uint64_t seq, const sync::EntityId& scope) {
    const sync::SignedCommit c = make_commit(device, key, seq, scope);
    LogEntry e;
    e.device = device.device_id;
    e.seq = seq;
    e.scope = scope;
    e.scope_type = "kasus";
    e.body = c.body;
    e.signature = c.signature;
    e.received_at_ms = now_ms();
    e.entities.push_back(EntityPlace{scope, scope, "kasus"});
    std::vector<LogEntry> entries = {e};
    auto r = storage.append_commits(entries, device.office);
    ASSERT_TRUE(r) << r.error().message;
  };

  // Outside a snapshot: a lookup that returned a row does not pin what later reads see.
  ASSERT_TRUE((*reader)->find_scope(first).value().has_value());
  const auto second = sync::Id128::random();
  append(**writer, 2, second);
  EXPECT_EQ((*reader)->head().value(), 2);
  EXPECT_TRUE((*reader)->find_entity(second).value().has_value());

  // Inside one: another connection's write is not seen until the snapshot ends.
  ASSERT_TRUE((*reader)->begin_read());
  ASSERT_TRUE((*reader)->find_scope(first).value().has_value());
  const auto third = sync::Id128::random();
  append(**writer, 3, third);
  EXPECT_FALSE((*reader)->find_scope(third).value().has_value());
  EXPECT_EQ((*reader)->head().value(), 2);
  (*reader)->end_read();
  EXPECT_TRUE((*reader)->find_scope(third).value().has_value());
  EXPECT_EQ((*reader)->head().value(), 3);

  // A write inside a snapshot ends it and is stored; end_read afterwards does nothing.
  ASSERT_TRUE((*reader)->begin_read());
  ASSERT_TRUE((*reader)->find_scope(third).value().has_value());
  const auto fourth = sync::Id128::random();
  append(**reader, 4, fourth);
  (*reader)->end_read();
  EXPECT_EQ((*writer)->head().value(), 4);
  EXPECT_TRUE((*writer)->find_entity(fourth).value().has_value());
}

TEST_F(ServerStoreTest, NonCanonicalValueIsRefusedWithoutQuotingIt) {
  const auto key = crypto::SigningKey::generate();
  DeviceRecord device = enroll_device(key);
  sync::Commit c;
  c.device = device.device_id;
  c.seq = 1;
  c.scope = sync::Id128::random();
  c.scope_type = "kasus";
  c.hlc = sync::make_hlc(static_cast<std::uint64_t>(now_ms()), 0);
  c.versions.push_back(sync::Version{c.scope, "kasus", "status", "RAHASIA-bukan-kode", c.hlc, {}});
  const auto signed_commit = sync::sign_commit(c, key);
  auto results = store_->push(device, std::span(&signed_commit, 1));
  ASSERT_TRUE(results);
  ASSERT_FALSE((*results)[0].accepted);
  EXPECT_EQ((*results)[0].reason, RejectReason::invalid_commit);
  EXPECT_EQ((*results)[0].message.find("RAHASIA"), std::string::npos);
}

TEST_F(ServerStoreTest, PullReturnsBoundedBatchesInServerOrder) {
  const auto key = crypto::SigningKey::generate();
  DeviceRecord device = enroll_device(key);
  std::vector<sync::SignedCommit> commits;
  for (std::uint64_t seq = 1; seq <= 5; ++seq) commits.push_back(make_commit(device, key, seq, sync::Id128::random()));
  ASSERT_TRUE(store_->push(device, commits));
  const auto reader_key = crypto::SigningKey::generate();
  DeviceRecord reader = enroll_device(reader_key);

  std::int64_t cursor = 0;
  std::vector<std::uint64_t> seen;
  int batches = 0;
  for (;;) {
    auto batch = store_->pull(reader, cursor, PullLimits{2, 1 << 20});
    ASSERT_TRUE(batch);
    ++batches;
    EXPECT_LE(batch->commits.size(), 2u);
    for (const LogEntry& e : batch->commits) {
      EXPECT_GT(e.server_seq, cursor);
      seen.push_back(e.seq);
    }
    cursor = batch->cursor;
    if (!batch->more) break;
  }
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(batches, 3);
  EXPECT_TRUE(store_->pull(reader, cursor)->commits.empty());
  // The writer is not sent its own commits back, but its cursor moves past them.
  auto own = store_->pull(device, 0);
  ASSERT_TRUE(own);
  EXPECT_TRUE(own->commits.empty());
  EXPECT_EQ(own->cursor, cursor);
}

TEST_F(ServerStoreTest, WrongPassphraseIsRefusedAndTheStoreReopens) {
  const auto key = crypto::SigningKey::generate();
  DeviceRecord device = enroll_device(key);
  const std::string public_key = store_->public_key_text();
  store_.reset();

  auto wrong = ServerStore::open(dir_, "bukan kata sandinya");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::refused);
  EXPECT_EQ(exit_code_for(wrong.error().code), 2);

  auto missing = ServerStore::open(root_ / "nowhere", kPass);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::refused);

  auto again = ServerStore::open(dir_, kPass);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->public_key_text(), public_key);
  EXPECT_EQ(again->list_devices()->size(), 1u);
}

TEST_F(ServerStoreTest, CreateRefusesAnExistingStore) {
  auto second = ServerStore::create(dir_, kPass, crypto::KdfParams::interactive());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::already_exists);
}

}  // namespace
}  // namespace teduh::server
