// The classification of commits into actions of the permission table (write_rules.hpp,
// PERMISSIONS.md section 3), which client and server share.
#include "teduh/sync/write_rules.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace teduh::sync {
namespace {

using schema::Action;

Commit commit_of(std::string scope_type, std::vector<Version> versions) {
  Commit c;
  c.device = Id128::random();
  c.seq = 1;
  c.scope = Id128::random();
  c.scope_type = std::move(scope_type);
  c.versions = std::move(versions);
  return c;
}

Version v(std::string type, std::string field, std::string value, std::vector<VersionId> supersedes = {}) {
  return Version{Id128::random(), std::move(type), std::move(field), std::move(value), 1, std::move(supersedes)};
}

std::vector<Action> actions(const Commit& c, bool scope_is_new = false) {
  std::vector<Action> out;
  for (const WriteAction& a : write_actions(c, scope_is_new)) out.push_back(a.action);
  return out;
}

TEST(WriteRulesTest, EachVersionStandsForTheActionOfItsEntityFieldAndValue) {
  using V = std::vector<Action>;
  EXPECT_EQ(actions(commit_of("kasus", {v("kasus", "status", "terminasi")})), V{Action::tutup_kasus});
  EXPECT_EQ(actions(commit_of("kasus", {v("kasus", "status", "asesmen")})), V{Action::ubah_kasus});
  EXPECT_EQ(actions(commit_of("kasus", {v("audit", "action", "dilihat")})), V{Action::lihat_kasus});
  EXPECT_EQ(actions(commit_of("kasus", {v("penempatan", "case", "x")})), V{Action::tempatkan});
  EXPECT_EQ(actions(commit_of("kasus", {v("rujukan", "status", "diterima")})), V{Action::jawab_rujukan});
  EXPECT_EQ(actions(commit_of("kasus", {v("alih_kelola", "status", "ditolak")})), V{Action::jawab_rujukan});
  EXPECT_EQ(actions(commit_of("kasus", {v("alih_kelola", "status", "diajukan")})), V{Action::rujuk});
  EXPECT_EQ(actions(commit_of("kasus", {v("rujukan", "status", "selesai")})), V{Action::tarik_persetujuan});
  EXPECT_EQ(actions(commit_of("kasus", {v("rujukan", "_deleted", "1")})), V{Action::tarik_persetujuan});
  EXPECT_EQ(actions(commit_of("kasus", {v("persetujuan", "withdrawn_at", "2026-01-01T00:00:00Z")})),
            V{Action::tarik_persetujuan});
  EXPECT_EQ(actions(commit_of("kasus", {v("persetujuan", "withdrawn_at", "")})), V{Action::rujuk});
  EXPECT_EQ(actions(commit_of("rumah_aman", {v("rumah_aman", "code_name", "RA")})), V{Action::kelola_rumah_aman});
  EXPECT_TRUE(actions(commit_of("office", {v("kantor", "name", "x")})).empty());
  // The case plan, its monitoring and a diversion (issue 17), removal included; the child
  // flag of a perpetrator is part of the person's role.
  EXPECT_EQ(actions(commit_of("kasus", {v("rencana", "needs", "x")})), V{Action::rencana_pemantauan});
  EXPECT_EQ(actions(commit_of("kasus", {v("pemantauan", "result", "x")})), V{Action::rencana_pemantauan});
  EXPECT_EQ(actions(commit_of("kasus", {v("diversi", "_deleted", "1")})), V{Action::rencana_pemantauan});
  EXPECT_EQ(actions(commit_of("kasus", {v("peran", "abh", "1")})), V{Action::ubah_kasus});
}

TEST(WriteRulesTest, OnlyACaseWorkerOrSupervisorWritesThePlanMonitoringOrADiversion) {
  const Commit plan = commit_of("kasus", {v("rencana", "needs", "x"), v("audit", "action", "diubah")});
  for (const char* role : {"pendamping", "supervisor"}) EXPECT_FALSE(write_refusal(plan, false, role, "dinas", false));
  for (const char* role : {"operator", "kepala", "petugas_rumah_aman", "analis", "admin"}) {
    auto why = write_refusal(plan, false, role, "dinas", true);
    ASSERT_TRUE(why) << role;
    EXPECT_NE(why->find("rencana_pemantauan"), std::string::npos) << *why;
  }
  EXPECT_TRUE(write_refusal(plan, false, "pendamping", "pusat", false));
}

TEST(WriteRulesTest, ACommitThatCreatesACaseIsBuatKasusAndAVersionOverTwoSettlesAConflict) {
  const Id128 d = Id128::random();
  EXPECT_EQ(actions(commit_of("kasus", {v("kasus", "summary", "x"), v("orang", "name", "y")}), true),
            (std::vector<Action>{Action::buat_kasus, Action::ubah_kasus}));
  EXPECT_EQ(actions(commit_of("kasus", {v("kasus", "summary", "x", {{d, 1, 0}})})),
            (std::vector<Action>{Action::ubah_kasus}));
  EXPECT_EQ(actions(commit_of("kasus", {v("kasus", "summary", "x", {{d, 1, 0}, {d, 2, 0}})})),
            (std::vector<Action>{Action::ubah_kasus, Action::selesaikan_konflik}));
}

TEST(WriteRulesTest, TheRefusalNamesTheActionAndTheRole) {
  const Commit closing = commit_of("kasus", {v("kasus", "status", "terminasi")});
  auto why = write_refusal(closing, false, "operator", "kelurahan", false);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("tutup_kasus"), std::string::npos) << *why;
  EXPECT_NE(why->find("operator"), std::string::npos) << *why;
  EXPECT_FALSE(write_refusal(closing, false, "pendamping", "kelurahan", false));
  const Commit shelter = commit_of("rumah_aman", {v("rumah_aman", "code_name", "RA")});
  EXPECT_TRUE(write_refusal(shelter, false, "petugas_rumah_aman", "uptd_ppa", false));  // not cleared
  EXPECT_FALSE(write_refusal(shelter, false, "petugas_rumah_aman", "uptd_ppa", true));
  EXPECT_TRUE(write_refusal(commit_of("kasus", {v("kasus", "summary", "x")}), true, "kepala", "dinas", false));
}

}  // namespace
}  // namespace teduh::sync
