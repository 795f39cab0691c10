// Issue 17, items 3 and 5, on a real encrypted store: the case plan and its monitoring (also
// after termination), the initial assessment of a woman's case, which services answer a
// complaint, a child in conflict with the law and the diversion the Bekasi SOP asks for.
#include <gtest/gtest.h>

#include <optional>

#include "support/store_fixture.hpp"
#include "teduh/client/report.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/dates.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::client {
namespace {

using json = nlohmann::json;
using testing::FakeServerKey;
using testing::TempDir;
namespace dates = schema::dates;

std::uint64_t ms_of(const char* utc) {
  return static_cast<std::uint64_t>(dates::unix_ms(*dates::parse_utc(utc)));
}

std::string today_plus(int days) {
  const auto now = dates::from_unix_ms(static_cast<std::int64_t>(sync::system_now_ms()));
  const auto day =
      std::chrono::sys_days{dates::local_date(now, dates::Zone::wib)} + std::chrono::days{days};
  return dates::format_iso(std::chrono::year_month_day{day});
}

class CasePlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::make_store(dir_ / "office.db", server_, "BKS-DP3A", /*shelter=*/false,
                                 "petugas-1", "pendamping");
    ASSERT_TRUE(s) << s.error().message;
    store_.emplace(std::move(*s));
  }
  Workflow wf() { return Workflow(*store_); }

  // The rows of `due` at now_ms for one case and one step.
  std::vector<json> due_rows(const sync::EntityId& id, std::string_view step,
                             std::uint64_t now_ms = sync::system_now_ms()) {
    auto doc = wf().due(now_ms);
    EXPECT_TRUE(doc) << doc.error().message;
    std::vector<json> out;
    if (!doc) return out;
    for (const json& d : (*doc)["due"]) {
      if (d["case"] == id.hex() && d["step"] == step) out.push_back(d);
    }
    return out;
  }

  TempDir dir_;
  FakeServerKey server_;
  std::optional<Store> store_;
};

TEST_F(CasePlanTest, APlanItemIsDueByItsTargetUntilItIsDone) {
  auto id = wf().new_case({}, {{"name", "Korban Uji Rencana"}, {"sex", "L"}, {"age", "30"}});
  ASSERT_TRUE(id) << id.error().message;
  auto item =
      wf().add_plan_item(*id, {{"needs", "Pemulihan psikis"},
                               {"services", "Konseling/pendampingan psikologis, kesehatan_visum"},
                               {"responsible", "Psikolog UPTD"},
                               {"due_date", today_plus(5)}});
  ASSERT_TRUE(item) << item.error().message;
  EXPECT_EQ((*store_->entity(*item))->get("services"), "kesehatan_visum,konseling");

  auto rows = due_rows(*id, "rencana");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0]["late"].get<bool>());
  EXPECT_EQ(rows[0]["label"],
            "Rencana intervensi: Layanan kesehatan/visum, Konseling/pendampingan psikologis");
  // The label names services only, never the victim's needs (free text about a person).
  EXPECT_EQ(rows[0]["label"].get<std::string>().find("Pemulihan"), std::string::npos);
  // Six days on, it is late.
  auto late = due_rows(*id, "rencana", sync::system_now_ms() + 7ull * 24 * 3600 * 1000);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_TRUE(late[0]["late"].get<bool>());

  ASSERT_TRUE(wf().complete_plan_item(*item, ""));
  EXPECT_EQ((*store_->entity(*item))->get("done_on"), today_plus(0));
  EXPECT_TRUE(due_rows(*id, "rencana").empty());

  auto shown = wf().show_case(*id);
  ASSERT_TRUE(shown) << shown.error().message;
  ASSERT_EQ((*shown)["plan"].size(), 1u);
  EXPECT_EQ((*shown)["plan"][0]["fields"]["responsible"], "Psikolog UPTD");
}

TEST_F(CasePlanTest, APlanItemNeedsItsNeedAndTargetAndADoneDateIsNotInTheFuture) {
  auto id = wf().new_case({}, {});
  ASSERT_TRUE(id);
  auto no_need = wf().add_plan_item(*id, {{"due_date", today_plus(3)}});
  ASSERT_FALSE(no_need);
  EXPECT_EQ(no_need.error().code, Errc::invalid);
  EXPECT_EQ(no_need.error().message.rfind("needs (Kebutuhan korban):", 0), 0u)
      << no_need.error().message;
  auto no_target = wf().add_plan_item(*id, {{"needs", "Bantuan hukum"}});
  ASSERT_FALSE(no_target);
  EXPECT_EQ(no_target.error().message.rfind("due_date (Target waktu):", 0), 0u)
      << no_target.error().message;
  auto bad_service = wf().add_plan_item(
      *id, {{"needs", "Bantuan hukum"}, {"due_date", today_plus(3)}, {"services", "sulap"}});
  ASSERT_FALSE(bad_service);
  auto item = wf().add_plan_item(*id, {{"needs", "Bantuan hukum"}, {"due_date", today_plus(3)}});
  ASSERT_TRUE(item) << item.error().message;
  auto future = wf().complete_plan_item(*item, today_plus(2));
  ASSERT_FALSE(future);
  EXPECT_NE(future.error().message.find("tidak boleh di masa depan"), std::string::npos)
      << future.error().message;
  EXPECT_TRUE((*store_->entity(*item))->get("done_on").empty());
}

TEST_F(CasePlanTest,
       AScheduledVisitIsDueUntilItsResultIsRecordedAndAClosedCaseIsEvaluatedWithinAMonth) {
  auto id = wf().new_case({}, {{"name", "Korban Uji Pantau"}, {"sex", "L"}});
  ASSERT_TRUE(id);
  auto visit = wf().schedule_visit(*id, today_plus(2), "", "Petugas Uji");
  ASSERT_TRUE(visit) << visit.error().message;
  EXPECT_EQ((*store_->entity(*visit))->get("kind"), "berkala");
  auto rows = due_rows(*id, "pemantauan");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["label"], "Pemantauan berkala");

  auto no_result = wf().record_visit(*id, *visit, "", " ", "");
  ASSERT_FALSE(no_result);
  EXPECT_EQ(no_result.error().message.rfind("result (Hasil pemantauan):", 0), 0u);
  auto done = wf().record_visit(*id, *visit, "", "Korban sudah bersekolah kembali", "");
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(*done, *visit);
  EXPECT_EQ((*store_->entity(*visit))->get("visited_on"), today_plus(0));
  EXPECT_TRUE(due_rows(*id, "pemantauan").empty());

  // Closed: no more response or plan deadlines, but the evaluation within a month (SOP
  // Bekasi), counted from the closing.
  ASSERT_TRUE(wf().close_case(*id, "Penanganan selesai"));
  auto eval = due_rows(*id, "evaluasi_pascaterminasi");
  ASSERT_EQ(eval.size(), 1u);
  EXPECT_FALSE(eval[0]["late"].get<bool>());
  EXPECT_GE(eval[0]["hours_left"].get<std::int64_t>(), 29 * 24 - 1);
  EXPECT_LE(eval[0]["hours_left"].get<std::int64_t>(), 30 * 24);
  EXPECT_TRUE(due_rows(*id, "respons_pengaduan").empty());
  // 31 days on, it is late.
  auto late =
      due_rows(*id, "evaluasi_pascaterminasi", sync::system_now_ms() + 31ull * 24 * 3600 * 1000);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_TRUE(late[0]["late"].get<bool>());
  // A visit scheduled after closing is an evaluation by default, and due itself.
  auto after = wf().schedule_visit(*id, today_plus(10), "", "");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ((*store_->entity(*after))->get("kind"), "evaluasi_pascaterminasi");
  ASSERT_EQ(due_rows(*id, "pemantauan").size(), 1u);
  // A visit made on the day of closing (without a schedule) meets the evaluation.
  auto unscheduled =
      wf().record_visit(*id, std::nullopt, "", "Korban dan keluarga dalam keadaan baik", "");
  ASSERT_TRUE(unscheduled) << unscheduled.error().message;
  EXPECT_EQ((*store_->entity(*unscheduled))->get("scheduled_on"), today_plus(0));
  EXPECT_TRUE(due_rows(*id, "evaluasi_pascaterminasi").empty());
  EXPECT_EQ(due_rows(*id, "pemantauan").size(), 1u);  // the one scheduled ahead stays

  auto shown = wf().show_case(*id);
  ASSERT_TRUE(shown);
  EXPECT_EQ((*shown)["monitoring"].size(), 3u);
}

TEST_F(CasePlanTest, AWomansCaseHasItsInitialAssessmentWithinADay) {
  auto woman =
      wf().new_case({{"received_at", "2026-12-01T01:00:00Z"}},
                    {{"name", "Korban Uji Asesmen"}, {"sex", "P"}, {"birth_date", "1990-05-05"}});
  auto girl =
      wf().new_case({{"received_at", "2026-12-01T01:00:00Z"}},
                    {{"name", "Anak Uji Asesmen"}, {"sex", "P"}, {"birth_date", "2015-05-05"}});
  auto man = wf().new_case({{"received_at", "2026-12-01T01:00:00Z"}},
                           {{"name", "Korban Uji Pria"}, {"sex", "L"}});
  ASSERT_TRUE(woman && girl && man);
  const std::uint64_t next_day = ms_of("2026-12-01T12:00:00Z");
  auto rows = due_rows(*woman, "asesmen_awal", next_day);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["due_at"], "2026-12-02T01:00:00Z");
  EXPECT_FALSE(rows[0]["late"].get<bool>());
  EXPECT_TRUE(
      due_rows(*girl, "asesmen_awal", next_day).empty());  // the child's SOP has its own steps
  EXPECT_TRUE(due_rows(*man, "asesmen_awal", next_day).empty());
  // The status moving to asesmen is the assessment begun.
  ASSERT_TRUE(wf().set_case(*woman, {{"status", "asesmen"}}));
  EXPECT_TRUE(due_rows(*woman, "asesmen_awal", next_day).empty());
}

// SCHEMA.md section 3: a service recorded with the case at intake answers the complaint only
// when its kind does.
TEST_F(CasePlanTest, OnlyAServiceOfAResponseKindAnswersTheComplaintEvenAtIntake) {
  CaseExtras economic;
  economic.services.push_back({{"kind", "pemberdayaan_ekonomi"}, {"date", "2026-12-01"}});
  CaseExtras counselling;
  counselling.services.push_back({{"kind", "konseling"}, {"date", "2026-12-01"}});
  auto a = wf().new_case({{"received_at", "2026-12-01T01:00:00Z"}}, {}, economic);
  auto b = wf().new_case({{"received_at", "2026-12-01T01:00:00Z"}}, {}, counselling);
  ASSERT_TRUE(a && b);
  const std::uint64_t later = ms_of("2026-12-06T00:00:00Z");
  auto open = due_rows(*a, "respons_pengaduan", later);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_TRUE(open[0]["late"].get<bool>());
  EXPECT_TRUE(due_rows(*b, "respons_pengaduan", later).empty());
  // A later home visit answers the first one.
  ASSERT_TRUE(wf().add_service(*a, {{"kind", "kunjungan_rumah"}}));
  EXPECT_TRUE(due_rows(*a, "respons_pengaduan", later).empty());
}

TEST_F(CasePlanTest, AChildPerpetratorIsRecordedAsAbhAndAVictimUnderTwelvePromptsDiversion) {
  auto id =
      wf().new_case({{"incident_date", "2026-11-20"}},
                    {{"name", "Anak Korban Uji"}, {"sex", "P"}, {"birth_date", "2016-03-01"}});
  ASSERT_TRUE(id) << id.error().message;
  auto child = wf().add_person(
      *id, "terlapor", {{"name", "Anak Terlapor Uji"}, {"birth_date", "2011-06-01"}}, "teman");
  ASSERT_TRUE(child) << child.error().message;
  auto adult =
      wf().add_person(*id, "terlapor", {{"name", "Orang Dewasa Uji"}, {"age", "40"}}, "tetangga");
  ASSERT_TRUE(adult) << adult.error().message;
  auto roles = store_->entities("peran", &*id);
  ASSERT_TRUE(roles);
  int abh = 0;
  for (const auto& r : *roles) {
    if (r.get("person") == child->hex()) {
      EXPECT_EQ(r.get("abh"), "1");
    }
    if (r.get("person") == adult->hex()) {
      EXPECT_EQ(r.get("abh"), "");
    }
    abh += r.get("abh") == "1" ? 1 : 0;
  }
  EXPECT_EQ(abh, 1);
  // The flag is for a perpetrator only.
  auto wrong =
      wf().add_person(*id, "pelapor", {{"name", "Pelapor Uji"}}, "orang_tua", /*abh=*/true);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::invalid);

  auto shown = wf().show_case(*id);
  ASSERT_TRUE(shown) << shown.error().message;
  int marked = 0;
  for (const auto& r : (*shown)["roles"]) marked += r.value("abh", false) ? 1 : 0;
  EXPECT_EQ(marked, 1);
  ASSERT_EQ((*shown)["notices"].size(), 2u) << (*shown)["notices"].dump();
  EXPECT_NE((*shown)["notices"][1].get<std::string>().find("diversi"), std::string::npos);
  auto rows = due_rows(*id, "diversi");
  ASSERT_EQ(rows.size(), 1u);
  auto attention = wf().attention(sync::system_now_ms(), true);
  ASSERT_TRUE(attention);
  EXPECT_TRUE(attention->diversions.contains(id->hex()));

  // The agreement: every part the SOP names is required.
  auto missing =
      wf().record_diversion(*id, {{"agreed_on", today_plus(0)}, {"place", "Kantor DPPPA"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message.rfind("parties (Pihak yang hadir):", 0), 0u)
      << missing.error().message;
  auto stranger = wf().record_diversion(*id, {{"agreed_on", today_plus(0)},
                                              {"place", "Kantor DPPPA"},
                                              {"parties", "Para pihak"},
                                              {"outcome", "sepakat"},
                                              {"child", sync::Id128::time_ordered(1).hex()}});
  ASSERT_FALSE(stranger);
  auto agreed = wf().record_diversion(
      *id, {{"agreed_on", today_plus(0)},
            {"place", "Kantor DPPPA Kota Bekasi"},
            {"parties", "Anak, orang tua kedua pihak, pekerja sosial, penyidik"},
            {"outcome", "Sepakat"},
            {"agreement", "Permintaan maaf dan pembinaan di LPKS"},
            {"child", child->hex()}});
  ASSERT_TRUE(agreed) << agreed.error().message;
  EXPECT_EQ((*store_->entity(*agreed))->get("outcome"), "sepakat");
  EXPECT_TRUE(due_rows(*id, "diversi").empty());
  shown = wf().show_case(*id);
  ASSERT_TRUE(shown);
  EXPECT_EQ((*shown)["notices"].size(), 1u);  // still a child in conflict with the law
  EXPECT_EQ((*shown)["diversions"].size(), 1u);
}

TEST_F(CasePlanTest, AnOlderVictimOrAnAdultPerpetratorNeedsNoDiversion) {
  auto teen = wf().new_case({}, {{"name", "Remaja Korban Uji"}, {"age", "14"}});
  ASSERT_TRUE(teen);
  ASSERT_TRUE(wf().add_person(*teen, "terlapor", {{"name", "Remaja Terlapor Uji"}, {"age", "16"}},
                              "teman"));
  EXPECT_TRUE(due_rows(*teen, "diversi").empty());
  auto young = wf().new_case({}, {{"name", "Anak Korban Dua"}, {"age", "8"}});
  ASSERT_TRUE(young);
  ASSERT_TRUE(wf().add_person(*young, "terlapor", {{"name", "Dewasa Terlapor Dua"}, {"age", "25"}},
                              "tetangga"));
  EXPECT_TRUE(due_rows(*young, "diversi").empty());
  // Said by the worker when the age is not recorded.
  ASSERT_TRUE(wf().add_person(*young, "terlapor", {{"name", "Terlapor Tanpa Usia"}}, "teman",
                              /*abh=*/true));
  EXPECT_EQ(due_rows(*young, "diversi").size(), 1u);
}

TEST(CasePlanPermissions, AnOperatorRecordsTheComplaintButNotThePlanOrADiversion) {
  TempDir dir;
  FakeServerKey server;
  auto op_store = testing::make_store(dir / "op.db", server, "BKS-DP3A", false, "op", "operator");
  ASSERT_TRUE(op_store);
  Workflow op(*op_store);
  auto id = op.new_case({}, {{"name", "Korban Uji Operator"}});
  ASSERT_TRUE(id) << id.error().message;
  auto plan = op.add_plan_item(*id, {{"needs", "Konseling"}, {"due_date", "2026-12-31"}});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, Errc::refused);
  EXPECT_NE(plan.error().message.find("rencana intervensi"), std::string::npos)
      << plan.error().message;
  EXPECT_FALSE(op.schedule_visit(*id, "2026-12-31", "", ""));
  EXPECT_FALSE(op.record_diversion(*id, {{"agreed_on", "2026-12-01"},
                                         {"place", "Kantor"},
                                         {"parties", "Para pihak"},
                                         {"outcome", "sepakat"}}));
  EXPECT_TRUE(op_store->entities("rencana")->empty());
}

// What an older build does with an entity type it does not know (SCHEMA.md section 5,
// "Entity types, fields and codes added"): this build's reads meet a type of a later one
// exactly as an older build's met `rencana`.
TEST_F(CasePlanTest, AnEntityTypeOfALaterBuildIsKeptAndLeftOutOfEveryView) {
  auto id = wf().new_case({}, {{"name", "Korban Uji Masa Depan"}});
  ASSERT_TRUE(id);
  sync::Commit c;
  c.device = sync::Id128::time_ordered(2);
  c.device.bytes[15] ^= 0x5a;
  c.seq = 1;
  c.scope = *id;
  c.scope_type = "kasus";
  const sync::EntityId later = sync::Id128::time_ordered(sync::system_now_ms());
  for (auto [field, value] :
       {std::pair{"case", id->hex()}, std::pair{"catatan", std::string("isi baru")}}) {
    sync::Version v;
    v.entity = later;
    v.entity_type = "jenis_masa_depan";
    v.field = field;
    v.value = value;
    v.hlc = sync::make_hlc(sync::system_now_ms(), 0);
    c.versions.push_back(v);
  }
  c.hlc = c.versions.back().hlc;
  sync::SignedCommit sc;
  sc.device = c.device;
  sc.seq = c.seq;
  sc.body = sync::encode_commit_body(c);
  auto applied = store_->in_transaction([&] { return store_->apply_remote(sc, c, 1); });
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_TRUE(*applied);
  auto kept = store_->entity(later);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->get("catatan"), "isi baru");

  auto shown = wf().show_case(*id);
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_EQ(shown->dump().find("isi baru"), std::string::npos);
  EXPECT_TRUE(wf().due(sync::system_now_ms()));
  EXPECT_TRUE(wf().report());
  EXPECT_TRUE(wf().conflicts());
  auto history = wf().history(*id);
  ASSERT_TRUE(history);
  EXPECT_NE(history->dump().find("jenis_masa_depan"), std::string::npos);
  auto removed = wf().remove_entity(*id, later);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, Errc::refused);
}

}  // namespace
}  // namespace teduh::client
