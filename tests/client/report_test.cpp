// Reports, deadlines and the register import (report.hpp, import.hpp), on made-up facts
// and on a real encrypted store.
#include "teduh/client/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"
#include "teduh/client/import.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/sqlite.hpp"

namespace teduh::client {
namespace {

using json = nlohmann::json;
using testing::FakeServerKey;
using testing::TempDir;

std::uint64_t at(const std::string& utc) {
  return static_cast<std::uint64_t>(schema::dates::unix_ms(*schema::dates::parse_utc(utc)));
}
std::string utc_text(std::uint64_t ms) {
  return schema::dates::format_utc(schema::dates::from_unix_ms(static_cast<std::int64_t>(ms)));
}

// A value of a report as people read it: its suppression mark (at the same path under
// "marks") where it has one, else the value itself.
json shown(const json& r, std::initializer_list<std::string> path) {
  const json* value = &r;
  const json* mark = r.contains("marks") ? &r["marks"] : nullptr;
  for (const std::string& key : path) {
    value = &(*value)[key];
    mark = mark && mark->is_object() && mark->contains(key) ? &(*mark)[key] : nullptr;
  }
  if (mark && mark->is_string()) {
    EXPECT_TRUE(value->is_null()) << "a marked value is null: " << value->dump();
    return *mark;
  }
  return *value;
}

CaseFacts fact(std::string id, std::string office, std::string region, std::string received,
               std::vector<std::string> forms, std::string sex) {
  CaseFacts f;
  f.id = std::move(id);
  f.office = std::move(office);
  f.region = std::move(region);
  f.received_at = std::move(received);
  f.forms = std::move(forms);
  f.victim_sex = std::move(sex);
  f.status = "diterima";
  f.channel = "telepon";
  f.services.push_back({"pengaduan", f.received_at.substr(0, 10)});
  return f;
}

// ----- suppression

TEST(SuppressTable, CellsFromOneToFourAreShownAsLessThanFiveAndZerosAsZero) {
  json t = suppress_table({{"a", 0}, {"b", 1}, {"c", 4}, {"d", 5}, {"e", 12}}, false);
  EXPECT_EQ(t, json({{"a", 0}, {"b", "<5"}, {"c", "<5"}, {"d", 5}, {"e", 12}}));
}

TEST(SuppressTable, ALoneSmallCellInAPartitionIsNotLeftToSubtraction) {
  // Total 7 is shown: with P shown as 6, L would be 1 by subtraction.
  json t = suppress_table({{"L", 1}, {"P", 6}, {"tidak_diketahui", 0}}, true);
  EXPECT_EQ(t["L"], "<5");
  EXPECT_EQ(t["P"], "x");
  EXPECT_EQ(t["tidak_diketahui"], 0);
  // The smallest other cell is the one hidden; the large one stays.
  json u = suppress_table({{"a", 40}, {"b", 9}, {"c", 2}}, true);
  EXPECT_EQ(u, json({{"a", 40}, {"b", "x"}, {"c", "<5"}}));
  // Outside a partition (a case has several forms) nothing more is hidden.
  EXPECT_EQ(suppress_table({{"a", 40}, {"c", 2}}, false), json({{"a", 40}, {"c", "<5"}}));
}

// For random partitions: whoever knows the total, the shown cells and the rule can never
// narrow a "<5" cell to one value (checked by trying every value the reader could not exclude).
TEST(SuppressTable, NoSmallCellCanBeWorkedOutFromTheTotalOverManySeeds) {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::vector<std::pair<std::string, int>> cells;
    const int n = 2 + static_cast<int>(rng() % 5);
    int total = 0;
    for (int i = 0; i < n; ++i) {
      int v = static_cast<int>(rng() % 3 == 0 ? rng() % 5 : rng() % 30);
      cells.emplace_back(std::string(1, static_cast<char>('a' + i)), v);
      total += v;
    }
    if (total < 5) continue;  // the total itself is "<5" then
    json t = suppress_table(cells, true);
    int shown = 0, smallest_shown = 0;
    std::vector<int> hidden_lo, hidden_hi;
    for (const auto& [code, v] : cells) {
      if (t[code].is_number()) {
        shown += v;
        if (v > 0 && (smallest_shown == 0 || v < smallest_shown)) smallest_shown = v;
      }
    }
    const int rest = total - shown;
    for (const auto& [code, v] : cells) {
      if (t[code] != "<5") continue;
      // Values of this cell consistent with: others "<5" in 1..4, "x" in 5..smallest shown.
      int lo_others = 0, hi_others = 0;
      for (const auto& [c2, v2] : cells) {
        if (c2 == code || t[c2].is_number()) continue;
        lo_others += t[c2] == "<5" ? 1 : 5;
        hi_others += t[c2] == "<5" ? 4 : (smallest_shown ? smallest_shown : rest);
      }
      const int lo = std::max(1, rest - hi_others), hi = std::min(4, rest - lo_others);
      const bool all_hidden = shown == 0;
      if (!all_hidden) {
        EXPECT_GE(hi - lo, 1) << "cell " << code << " is " << v << ": " << t.dump();
      }
      EXPECT_TRUE(v >= lo && v <= hi) << t.dump();
    }
  }
}

// ----- deadlines

TEST(Deadlines, OneWorkingDaySkipsTheWeekendInTheOfficeZone) {
  DeadlineRules rules;
  rules.response = ResponseSla::one_working_day;
  // Friday 2026-03-06 10:00 WIB = 03:00Z: due at the end of Monday 2026-03-09 WIB.
  CaseFacts f = fact("c1", "K", "", "2026-03-06T03:00:00Z", {"fisik"}, "P");
  auto d = deadlines_of(f, rules);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].step, "respons_pengaduan");
  EXPECT_EQ(utc_text(d[0].due_ms), "2026-03-09T16:59:59Z");
  EXPECT_FALSE(d[0].met_ms);
  // Friday 23:30 WIT (UTC+9) is already Friday 14:30Z; in WIT the next working day is Monday.
  rules.zone = schema::dates::Zone::wit;
  CaseFacts g = fact("c2", "K", "", "2026-03-06T14:30:00Z", {"fisik"}, "P");
  EXPECT_EQ(utc_text(deadlines_of(g, rules)[0].due_ms), "2026-03-09T14:59:59Z");
  // In WIB the same instant is Friday 21:30: also Monday, at the end of Monday WIB.
  rules.zone = schema::dates::Zone::wib;
  EXPECT_EQ(utc_text(deadlines_of(g, rules)[0].due_ms), "2026-03-09T16:59:59Z");
  // Thursday: Friday is a working day.
  CaseFacts h = fact("c3", "K", "", "2026-03-05T03:00:00Z", {"fisik"}, "P");
  EXPECT_EQ(utc_text(deadlines_of(h, rules)[0].due_ms), "2026-03-06T16:59:59Z");
}

TEST(Deadlines, ThreeDaysPoliceReportAndShelterExit) {
  DeadlineRules rules;
  CaseFacts f = fact("c1", "K", "", "2026-03-01T02:00:00Z", {"seksual"}, "P");
  f.police_report_requested_at = "2026-03-02T05:00:00Z";
  f.services.push_back({"konseling", "2026-03-03"});
  f.services.push_back({"pendampingan_hukum", "2026-03-06"});
  f.shelter_stays.push_back({"2026-03-01T03:00:00Z", "2026-03-08", ""});
  auto d = deadlines_of(f, rules);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(utc_text(d[0].due_ms), "2026-03-04T02:00:00Z");
  ASSERT_TRUE(d[0].met_ms);
  EXPECT_LE(*d[0].met_ms, d[0].due_ms);  // a konseling on 3 March answers it
  EXPECT_EQ(d[1].step, "laporan_polisi");
  EXPECT_EQ(utc_text(d[1].due_ms), "2026-03-05T05:00:00Z");
  ASSERT_TRUE(d[1].met_ms);
  EXPECT_GT(*d[1].met_ms, d[1].due_ms);  // the legal aid came on 6 March: late
  EXPECT_EQ(d[2].step, "keluar_rumah_aman");
  EXPECT_EQ(utc_text(d[2].due_ms), "2026-03-08T16:59:59Z");
  EXPECT_FALSE(d[2].met_ms);
  // A status change answers the complaint too.
  CaseFacts g = fact("c2", "K", "", "2026-03-01T02:00:00Z", {"fisik"}, "P");
  g.status_changed_at = "2026-03-01T08:00:00Z";
  EXPECT_EQ(*deadlines_of(g, rules)[0].met_ms, at("2026-03-01T08:00:00Z"));
  // Recorded directly in a later status: done, time unknown.
  CaseFacts h = fact("c3", "K", "", "2026-03-01T02:00:00Z", {"fisik"}, "P");
  h.status = "penanganan";
  EXPECT_TRUE(deadlines_of(h, rules)[0].met_at_unknown);
}

// ----- the report

TEST(BuildReport, CountsByCategoryMergedOnceFilteredByDateAndRegion) {
  std::vector<CaseFacts> facts;
  for (int i = 0; i < 6; ++i) {
    facts.push_back(fact("a" + std::to_string(i), "BKS", "32.75",
                         "2026-02-1" + std::to_string(i) + "T03:00:00Z", {"fisik", "psikis"}, "P"));
  }
  facts.push_back(fact("b0", "MJK", "35.16", "2026-03-02T03:00:00Z", {"seksual"}, "L"));
  CaseFacts merged = fact("a9", "BKS", "32.75", "2026-02-20T03:00:00Z", {"fisik"}, "P");
  merged.merged_into = "a0";
  facts.push_back(merged);
  facts[0].victim_age_group = "13-17";
  facts[0].perpetrator_relationships = {"orang_tua"};
  ReportFilter filter;
  filter.now_ms = at("2026-06-01T00:00:00Z");
  json r = build_report(facts, filter, DeadlineRules{}, Audience::outside);
  EXPECT_EQ(shown(r, {"total_cases"}), 7);
  EXPECT_EQ(shown(r, {"by_form", "fisik"}), 6);
  EXPECT_EQ(shown(r, {"by_form", "psikis"}), 6);
  EXPECT_EQ(shown(r, {"by_form", "seksual"}), "<5");
  EXPECT_EQ(shown(r, {"by_form", "trafficking"}), 0);
  EXPECT_EQ(shown(r, {"by_victim_sex", "L"}), "<5");
  EXPECT_EQ(shown(r, {"by_victim_sex", "P"}), "x");  // 7 - 6 would give L away
  EXPECT_EQ(shown(r, {"by_victim_age_group", "13-17"}), "<5");
  EXPECT_EQ(shown(r, {"by_victim_age_group", "tidak_diketahui"}), "x");
  EXPECT_EQ(shown(r, {"by_perpetrator_relationship", "orang_tua"}), "<5");
  EXPECT_EQ(shown(r, {"by_perpetrator_relationship", "tidak_tercatat"}), 6);
  EXPECT_EQ(shown(r, {"by_region", "3275"}), "x");  // a dotted code of an older store, as digits
  EXPECT_EQ(shown(r, {"by_month_form", "2026-02", "fisik"}), 6);
  EXPECT_EQ(shown(r, {"by_month_form", "2026-03", "seksual"}), "<5");
  // No response was recorded: every response deadline has passed, none on time.
  EXPECT_EQ(shown(r, {"deadline_compliance", "BKS", "deadlines"}), 6);
  EXPECT_EQ(shown(r, {"deadline_compliance", "BKS", "on_time_percent"}), 0);
  EXPECT_EQ(shown(r, {"deadline_compliance", "MJK", "on_time_percent"}), "<5");

  filter.from = "2026-03-01";
  EXPECT_EQ(shown(build_report(facts, filter, DeadlineRules{}, Audience::outside), {"total_cases"}),
            "<5");
  filter.from.clear();
  filter.region = "32";  // a province takes its cities
  json west = build_report(facts, filter, DeadlineRules{}, Audience::outside);
  EXPECT_EQ(shown(west, {"total_cases"}), 6);
  EXPECT_EQ(shown(west, {"by_office"}), json({{"BKS", 6}}));
  filter.region = "3276";  // a sibling city takes nothing
  EXPECT_EQ(build_report(facts, filter, DeadlineRules{}, Audience::outside)["total_cases"], 0);
}

TEST(BuildReport, ComplianceCountsOnlyDeadlinesThatCameDue) {
  std::vector<CaseFacts> facts;
  for (int i = 0; i < 10; ++i) {
    CaseFacts f =
        fact("c" + std::to_string(i), "BKS", "32.75", "2026-03-02T03:00:00Z", {"fisik"}, "P");
    if (i < 8) f.services.push_back({"konseling", i < 6 ? "2026-03-03" : "2026-03-09"});
    facts.push_back(f);
  }
  facts.push_back(
      fact("late-open", "BKS", "32.75", "2026-05-31T12:00:00Z", {"fisik"}, "P"));  // not yet due
  ReportFilter filter;
  filter.now_ms = at("2026-06-01T00:00:00Z");
  json r = build_report(facts, filter, DeadlineRules{}, Audience::outside);
  EXPECT_EQ(r["deadline_compliance"]["BKS"]["deadlines"], 10);
  EXPECT_EQ(r["deadline_compliance"]["BKS"]["on_time_percent"], 60);
}

// Issue 15.2: 14 cases in November, as an office sees its own. Every count is exact; the
// same facts in a report that leaves the office are suppressed as before.
std::vector<CaseFacts> fourteen_in_november() {
  std::vector<CaseFacts> facts;
  for (int i = 0; i < 14; ++i) {
    char received[32];
    std::snprintf(received, sizeof received, "2026-11-%02dT03:00:00Z", 2 + i);
    CaseFacts f = fact("n" + std::to_string(i), "BKS", "32.75", received,
                       {i < 3 ? "seksual" : "fisik"}, i < 2 ? "L" : "P");
    f.channel = i < 4 ? "whatsapp" : "telepon";
    if (i < 1) f.services.push_back({"konseling", f.received_at.substr(0, 10)});
    facts.push_back(f);
  }
  return facts;
}

TEST(BuildReport, AnOfficesOwnReportShowsEveryCountExactly) {
  ReportFilter filter;
  filter.from = "2026-11-01";
  filter.to = "2026-11-30";
  filter.now_ms = at("2026-12-07T00:00:00Z");
  const json r =
      build_report(fourteen_in_november(), filter, DeadlineRules{}, Audience::own_office);
  EXPECT_EQ(r["total_cases"], 14);
  EXPECT_EQ(r["by_form"]["seksual"], 3);
  EXPECT_EQ(r["by_form"]["fisik"], 11);
  EXPECT_EQ(r["by_victim_sex"]["L"], 2);
  EXPECT_EQ(r["by_victim_sex"]["P"], 12);
  EXPECT_EQ(r["by_channel"]["whatsapp"], 4);
  EXPECT_EQ(r["by_service"]["konseling"], 1);
  EXPECT_EQ(r["by_month_form"]["2026-11"]["seksual"], 3);
  EXPECT_EQ(r["by_office"]["BKS"], 14);
  EXPECT_EQ(r["deadline_compliance"]["BKS"]["deadlines"], 14);
  EXPECT_EQ(r["deadline_compliance"]["BKS"]["on_time_percent"], 7);  // 1 of 14 answered
  EXPECT_EQ(r["marks"], json::object());
  EXPECT_EQ(r["suppression"]["applied"], false);
  // No cell anywhere holds a mark, and nothing is null (the rule itself aside).
  json cells = r;
  cells.erase("suppression");
  const std::string dump = cells.dump();
  for (const char* hidden : {"\"<5\"", "\"x\"", "null"})
    EXPECT_EQ(dump.find(hidden), std::string::npos) << hidden << " in " << dump;
  const std::string text = report_text(r);
  // The only "<5" is in the sentence that points to --publik.
  EXPECT_NE(text.find("--publik (sel berisi 1-4 kasus ditulis \"<5\")"), std::string::npos);
  EXPECT_EQ(text.find("<5"), text.rfind("<5")) << text;
  EXPECT_NE(text.find("Angka persis"), std::string::npos);
  const std::string csv = report_csv(r);
  EXPECT_NE(csv.find("total_cases,,Jumlah kasus,14,\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("by_victim_sex,L,Laki-laki,2,\n"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("<5"), std::string::npos) << csv;

  // The same facts leaving the office: small cells marked, their numbers gone.
  const json out = build_report(fourteen_in_november(), filter, DeadlineRules{}, Audience::outside);
  EXPECT_EQ(out["suppression"]["applied"], true);
  EXPECT_EQ(out["total_cases"], 14);
  EXPECT_EQ(shown(out, {"by_form", "seksual"}), "<5");
  EXPECT_EQ(shown(out, {"by_victim_sex", "L"}), "<5");
  EXPECT_EQ(shown(out, {"by_victim_sex", "P"}), "x");
  EXPECT_EQ(shown(out, {"by_channel", "whatsapp"}), "<5");
  EXPECT_EQ(shown(out, {"by_service", "konseling"}), "<5");
  EXPECT_EQ(shown(out, {"by_month_form", "2026-11", "seksual"}), "<5");
  EXPECT_EQ(out["by_form"]["fisik"], 11);
  const std::string out_csv = report_csv(out);
  EXPECT_EQ(out_csv.rfind("category,code,label,count,mark\n", 0), 0u);
  EXPECT_NE(out_csv.find("by_victim_sex,L,Laki-laki,,<5\n"), std::string::npos) << out_csv;
  EXPECT_NE(out_csv.find("by_victim_sex,P,Perempuan,,x\n"), std::string::npos) << out_csv;
  EXPECT_NE(out_csv.find("by_form,fisik,Kekerasan fisik,11,\n"), std::string::npos) << out_csv;
  // Every count field is a number or empty; every mark field is "<5", "x" or empty.
  std::istringstream lines(out_csv);
  std::string line;
  std::getline(lines, line);
  const std::regex row(R"(^[a-z_]+,[^,]*,("[^"]*"|[^,"]*),([0-9]*),(<5|x|)$)");
  while (std::getline(lines, line)) EXPECT_TRUE(std::regex_match(line, row)) << line;
  EXPECT_NE(report_text(out).find("Laporan untuk di luar kantor"), std::string::npos);
}

// The Excel workbook holds the CSV's rows (report_rows, one list for both) in a real xlsx:
// a zip whose first entry is libxlsxwriter's and which names the workbook and its sheet.
// (The browser test unzips one and compares its figures with the CSV's.)
TEST(BuildReport, TheExcelWorkbookHoldsTheCsvRowsInAnXlsxZip) {
  ReportFilter filter;
  filter.from = "2026-11-01";
  filter.to = "2026-11-30";
  filter.now_ms = at("2026-12-07T00:00:00Z");
  const json out = build_report(fourteen_in_november(), filter, DeadlineRules{}, Audience::outside);
  const std::vector<ReportRow> rows = report_rows(out);
  const std::string csv = report_csv(out);
  ASSERT_EQ(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')), rows.size() + 1);
  bool suppressed = false;
  for (const ReportRow& row : rows) {
    EXPECT_TRUE(row.count.is_number() || row.count.is_null()) << row.category << " " << row.code;
    EXPECT_FALSE(row.group.empty());
    if (row.mark == "<5") {
      suppressed = true;
      EXPECT_TRUE(row.count.is_null()) << "a suppressed cell keeps no number: " << row.code;
    }
  }
  EXPECT_TRUE(suppressed);
  EXPECT_EQ(rows[0].group, "Jumlah kasus");
  EXPECT_EQ(rows[0].count, 14);

  auto book = report_xlsx(out);
  ASSERT_TRUE(book) << book.error().message;
  EXPECT_EQ(book->rfind("PK\x03\x04", 0), 0u);
  EXPECT_NE(book->find("xl/workbook.xml"), std::string::npos);
  EXPECT_NE(book->find("xl/worksheets/sheet1.xml"), std::string::npos);
  EXPECT_GT(book->size(), 3000u);
}

// Issue 15.3: a service counts in the month of its own date, a case in the month it was
// received, a deadline in the month it came due; so November's report, once November is
// over, stays as it was when December's work is recorded.
TEST(BuildReport, NovembersReportDoesNotChangeWhenDecemberWorkIsRecorded) {
  std::vector<CaseFacts> facts = fourteen_in_november();
  // Received on 30 November 16:00 WIB: its 3-day response came due on 3 December.
  facts.push_back(fact("late-nov", "BKS", "32.75", "2026-11-30T09:00:00Z", {"psikis"}, "P"));
  // Received in October, counselled on 2 November: November's work.
  CaseFacts october = fact("okt", "BKS", "32.75", "2026-10-20T03:00:00Z", {"fisik"}, "P");
  october.services.push_back({"konseling", "2026-11-02"});
  facts.push_back(october);
  ReportFilter november;
  november.from = "2026-11-01";
  november.to = "2026-11-30";
  november.now_ms = at("2026-12-01T02:00:00Z");  // run on 1 December
  auto without_day = [](json r) {
    r["deadline_rules"].erase("as_of_date");
    return r;
  };
  const json before = build_report(facts, november, DeadlineRules{}, Audience::own_office);
  EXPECT_EQ(before["total_cases"], 15);
  EXPECT_EQ(before["by_service"]["konseling"], 2);  // case n0 and the October case
  EXPECT_EQ(before["by_service"]["pengaduan"], 15);
  EXPECT_EQ(before["by_service"]["pendampingan_hukum"], 0);

  // In December: legal aid and counselling for November cases, and the late response due.
  facts[0].services.push_back({"pendampingan_hukum", "2026-12-02"});
  facts[1].services.push_back({"konseling", "2026-12-03"});
  facts[14].services.push_back({"konseling", "2026-12-04"});
  november.now_ms = at("2026-12-10T02:00:00Z");
  const json after = build_report(facts, november, DeadlineRules{}, Audience::own_office);
  EXPECT_EQ(without_day(after), without_day(before)) << before.dump() << "\n" << after.dump();
  EXPECT_EQ(after["deadline_compliance"]["BKS"]["deadlines"], 14);  // due in November

  // December's report has that work, and no case: none was received in December.
  ReportFilter december;
  december.from = "2026-12-01";
  december.to = "2026-12-31";
  december.now_ms = november.now_ms;
  const json dec = build_report(facts, december, DeadlineRules{}, Audience::own_office);
  EXPECT_EQ(dec["total_cases"], 0);
  EXPECT_EQ(dec["by_service"]["pendampingan_hukum"], 1);
  EXPECT_EQ(dec["by_service"]["konseling"], 2);
  EXPECT_EQ(dec["by_service"]["pengaduan"], 0);
  EXPECT_EQ(dec["deadline_compliance"]["BKS"]["deadlines"], 1);        // the 30 November case's
  EXPECT_EQ(dec["deadline_compliance"]["BKS"]["on_time_percent"], 0);  // answered on the 4th
}

TEST(CheckFilter, ABadPeriodIsRefusedWithASentenceInIndonesian) {
  ReportFilter f;
  f.from = "2026-11-31";
  auto bad = check_filter(f);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::usage);
  EXPECT_NE(bad.error().message.find("--from perlu tanggal dengan bentuk YYYY-MM-DD"),
            std::string::npos)
      << bad.error().message;
  f.from = "2026-12-01";
  f.to = "2026-11-30";
  ASSERT_FALSE(check_filter(f));
  EXPECT_NE(check_filter(f).error().message.find("--to lebih awal dari --from"), std::string::npos);
  f.to = "2026-12-31";
  EXPECT_TRUE(check_filter(f));
}

TEST(CheckFilter, TheRegionIsPutInCanonicalFormOrRefusedInIndonesian) {
  ReportFilter f;
  f.region = "32.76";
  ASSERT_TRUE(check_filter(f));
  EXPECT_EQ(f.region, "3276");
  f.region = "327";  // between two levels of the hierarchy
  auto bad = check_filter(f);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::usage);
  EXPECT_NE(bad.error().message.find("--region: Kode wilayah '327' tidak dapat dipakai"),
            std::string::npos)
      << bad.error().message;
}

TEST(BuildReport, ProjectionsOfVersionOneWithoutTheNewerFieldsAreRead) {
  const std::string v1 =
      R"({"v":1,"case":"0a","office":"UJI","office_kind":"kelurahan","region":"32.75.01",)"
      R"("received_at":"2026-03-04T05:06:07Z","channel":"telepon","forms":["fisik","psikis"],"place":"",)"
      R"("status":"diterima","merged_into":"","police_report_requested_at":"",)"
      R"("victim":{"sex":"P","age_group":"13-17","disability":""},"match":{"nik":"","name_birth":""},)"
      R"("perpetrator_relationships":["orang_tua"],"services":[{"kind":"pengaduan","date":"2026-03-04"}],)"
      R"("shelter_stays":[]})";
  auto facts = facts_from_projections({v1});
  ASSERT_TRUE(facts) << facts.error().message;
  ASSERT_EQ(facts->size(), 1u);
  EXPECT_EQ((*facts)[0].victim_age_group, "13-17");
  EXPECT_EQ((*facts)[0].forms, (std::vector<std::string>{"fisik", "psikis"}));
  EXPECT_TRUE((*facts)[0].status_changed_at.empty());
  auto bad = facts_from_projections({"{not json"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::damaged);
}

// Balanced tags: every <x ...> has its </x>, self-closing tags aside, in order.
bool balanced_tags(const std::string& svg, std::string* why) {
  std::vector<std::string> open;
  std::regex tag(R"(<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^>]*?(/?)>)");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag); it != std::sregex_iterator();
       ++it) {
    const auto& m = *it;
    if (m[3] == "/") continue;
    if (m[1] == "/") {
      if (open.empty() || open.back() != m[2]) {
        *why = "unexpected </" + m[2].str() + ">";
        return false;
      }
      open.pop_back();
    } else {
      open.push_back(m[2]);
    }
  }
  if (!open.empty()) *why = "<" + open.back() + "> never closed";
  return open.empty();
}

TEST(ReportRenderings, TextCsvAndSvgShowTheSameSuppressedCells) {
  std::vector<CaseFacts> facts;
  for (int i = 0; i < 7; ++i) {
    facts.push_back(fact("a" + std::to_string(i), i < 5 ? "BKS" : "MJK", "32.75",
                         "2026-0" + std::to_string(1 + i % 3) + "-10T03:00:00Z", {"fisik"}, "P"));
  }
  ReportFilter filter;
  filter.now_ms = at("2026-06-01T00:00:00Z");
  json r = build_report(facts, filter, DeadlineRules{}, Audience::outside);
  const std::string text = report_text(r);
  EXPECT_NE(text.find("Kekerasan fisik"), std::string::npos) << text;
  EXPECT_NE(text.find("Perdagangan orang (TPPO)"), std::string::npos);
  EXPECT_NE(text.find("<5"), std::string::npos);
  EXPECT_NE(text.find("0-5 tahun"), std::string::npos);    // age groups read as ages
  EXPECT_EQ(text.find("32.75 tahun"), std::string::npos);  // region codes do not
  const std::string csv = report_csv(r);
  EXPECT_EQ(csv.rfind("category,code,label,count,mark\n", 0), 0u);
  EXPECT_NE(csv.find("by_form,fisik,Kekerasan fisik,7,\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("by_office,MJK,MJK,,<5\n"), std::string::npos) << csv;  // no number

  const std::string svg = report_svg(r);
  std::string why;
  EXPECT_TRUE(balanced_tags(svg, &why)) << why;
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  for (const char* month : {">2026-01<", ">2026-02<", ">2026-03<"})
    EXPECT_NE(svg.find(month), std::string::npos);
  EXPECT_NE(svg.find("class=\"seri-fisik\""), std::string::npos);
  EXPECT_NE(svg.find("Kekerasan fisik"), std::string::npos);        // legend
  EXPECT_NE(svg.find("Jumlah kasus"), std::string::npos);           // axis label
  EXPECT_NE(svg.find("class=\"tenggat\""), std::string::npos);      // BKS has 5 deadlines: a bar
  EXPECT_NE(svg.find("kurang dari 5 tenggat"), std::string::npos);  // MJK has 2: no bar
  for (const char* banned :
       {"<script", "href", "@import", "url(http", "<image", "<foreignObject"}) {
    EXPECT_EQ(svg.find(banned), std::string::npos) << banned;
  }
}

// ----- CSV

TEST(ParseCsv, QuotedCommasNewlinesQuotesBomAndCrlf) {
  auto r = parse_csv(
      "\xEF\xBB\xBFno,teks\r\n1,\"a, b\"\r\n2,\"baris\r\nkedua\"\r\n\r\n3,\"kata "
      "\"\"kutip\"\"\"\r\n");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].fields, (std::vector<std::string>{"no", "teks"}));
  EXPECT_EQ((*r)[1].fields[1], "a, b");
  EXPECT_EQ((*r)[2].fields[1], "baris\r\nkedua");
  EXPECT_EQ((*r)[2].line, 3u);
  EXPECT_EQ((*r)[3].line, 6u);  // the quoted line break counts; the blank line is skipped
  EXPECT_EQ((*r)[3].fields[1], "kata \"kutip\"");
  auto open = parse_csv("a,b\n1,\"tidak ditutup\n2,x\n");
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message.find("line 2"), std::string::npos) << open.error().message;
}

// ----- on a real store

class ReportStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::make_store(dir_ / "office.db", server_, "BKS-DP3A", false, "petugas",
                                 "pendamping");
    ASSERT_TRUE(s) << s.error().message;
    store_.emplace(std::move(*s));
  }
  std::int64_t commits() {
    auto st = schema::Statement::prepare(store_->db(), "SELECT count(*) FROM commits");
    (void)st->step();
    return st->column_int(0);
  }
  TempDir dir_;
  FakeServerKey server_;
  std::optional<Store> store_;
};

const char* kRegister =
    "no_register,tanggal_pengaduan,saluran,bentuk_kekerasan,tempat_kejadian,nama_korban,nik_korban,"
    "jenis_kelamin,tanggal_lahir,hubungan_terlapor,nama_terlapor,layanan,ringkasan\r\n"
    "1,01/02/2026,telepon,fisik;psikis,rumah_tangga,Nama Penanda "
    "Satu,3275014101120001,P,2012-01-01,orang_tua,"
    "Terlapor Penanda,konseling,\"Dipukul, lalu \"\"diancam\"\"\"\r\n"
    "2,2026-02-03 09:15,whatsapp,seksual,sekolah,Nama Penanda "
    "Dua,,L,,guru,,\"pendampingan_hukum;kesehatan_visum\","
    "\"dua\r\nbaris\"\r\n"
    "3/II/2026,2026-02-04,datang_langsung,penelantaran,,,,,,,,,\r\n";

TEST_F(ReportStoreTest, AGoodRegisterImportsEveryRowThroughTheWorkflow) {
  Workflow wf(*store_);
  auto summary = import_register(*store_, wf, std::string("\xEF\xBB\xBF") + kRegister);
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->cases, 3u);
  EXPECT_EQ(summary->persons, 4u);   // two victims, two alleged perpetrators
  EXPECT_EQ(summary->services, 3u);  // besides the complaints
  EXPECT_EQ(commits(), 3);           // one commit per row
  auto perpetrators = store_->entities("peran");
  int terlapor = 0;
  for (const auto& r : *perpetrators) terlapor += r.get("role") == "terlapor" ? 1 : 0;
  EXPECT_EQ(terlapor, 2);
  auto cases = store_->entities("kasus");
  ASSERT_EQ(cases->size(), 3u);
  std::map<std::string, const EntityView*> by_register;
  for (const auto& c : *cases) by_register[c.get("summary").substr(0, 20)] = &c;
  EXPECT_TRUE(by_register.contains("Buku Register no. 3/"));  // kept as written
  const EntityView& first = *by_register.at("Buku Register no. 1.");
  EXPECT_EQ(first.get("received_at"), "2026-01-31T17:00:00Z");  // 1 Feb 00:00 WIB
  EXPECT_EQ(first.get("forms"), "fisik,psikis");
  EXPECT_EQ(first.get("summary"), "Buku Register no. 1. Dipukul, lalu \"diancam\"");
  auto services = store_->entities("layanan", &first.id);
  ASSERT_EQ(services->size(), 2u);
  for (const auto& s : *services) EXPECT_EQ(s.get("date"), "2026-02-01");  // the complaint's day

  auto report = wf.report();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ((*report)["total_cases"], 3);  // the office's own report is exact
  EXPECT_EQ((*report)["source"], "kasus_lokal");
  auto publik = wf.report({}, Audience::outside);
  ASSERT_TRUE(publik) << publik.error().message;
  EXPECT_EQ((*publik)["marks"]["total_cases"], "<5");
  std::string all;
  for (const json* r : {&*report, &*publik})
    all += r->dump() + report_text(*r) + report_csv(*r) + report_svg(*r);
  for (const char* marker : {"Penanda", "3275014101120001", "diancam", "baris"}) {
    EXPECT_EQ(all.find(marker), std::string::npos) << marker;
  }

  // The same register again is refused: each number was imported already.
  const auto before = commits();
  auto again = import_register(*store_, wf, kRegister);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("line 2: this register number was already imported"),
            std::string::npos)
      << again.error().message;
  EXPECT_EQ(commits(), before);
}

// Issue 15.6: a closed row with services, imported on one device of one office, is one
// author's consistent record, not a case closed while another office recorded a service.
TEST_F(ReportStoreTest, AClosedRegisterRowWithServicesIsNoConflict) {
  Workflow wf(*store_);
  const std::string text =
      "no_register,tanggal_pengaduan,saluran,bentuk_kekerasan,status,nama_korban,layanan,tanggal_"
      "layanan\r\n"
      "11,2026-03-02,telepon,fisik,terminasi,Nama Penanda "
      "Tutup,konseling;pendampingan_hukum,2026-03-09\r\n"
      "12,2026-03-03,telepon,psikis,penanganan,Nama Penanda Buka,konseling,2026-03-10\r\n";
  auto summary = import_register(*store_, wf, text);
  ASSERT_TRUE(summary) << summary.error().message;
  ASSERT_EQ(summary->cases, 2u);
  auto conflicts = wf.conflicts();
  ASSERT_TRUE(conflicts) << conflicts.error().message;
  EXPECT_TRUE((*conflicts)["conflicts"].empty()) << conflicts->dump(2);

  auto cases = store_->entities("kasus");
  ASSERT_TRUE(cases);
  for (const auto& c : *cases) {
    if (c.get("status") != "terminasi") continue;
    auto services = store_->entities("layanan", &c.id);
    ASSERT_TRUE(services);
    EXPECT_EQ(services->size(), 3u);  // the complaint and the two of the row
    for (const auto& service : *services) EXPECT_EQ(service.get("case_status_seen"), "terminasi");
  }
}

TEST_F(ReportStoreTest, ARegisterWithBadRowsIsRefusedWholeNamingEachLineAndStoresNothing) {
  Workflow wf(*store_);
  ASSERT_TRUE(wf.new_case({}, {}));
  const auto before = commits();
  const std::string bad =
      "no_register,tanggal_pengaduan,bentuk_kekerasan,nik_korban,jenis_kelamin\n"
      "1,2026-02-01,fisik,,P\n"
      "2,2026-02-30,fisik,,P\n"                 // line 3: no such day
      "3,2026-02-02,pukul,,P\n"                 // line 4: unknown form
      "4,2026-02-02,fisik,327501410112000,X\n"  // line 5: NIK too short and unknown sex
      "1,2026-02-03,fisik,,L\n"                 // line 6: register number twice
      "6,2026-02-03\n"                          // line 7: too few columns
      ",2026-02-03,fisik,,L\n";                 // line 8: no register number
  auto r = import_register(*store_, wf, bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid);
  const std::string& m = r.error().message;
  for (const char* line : {"line 3: column tanggal_pengaduan", "line 4: column bentuk_kekerasan",
                           "line 5: column nik_korban", "line 5: column jenis_kelamin",
                           "line 6: register number already used on line 2",
                           "line 7: has 2 columns", "line 8: column no_register is empty"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << " in:\n" << m;
  }
  EXPECT_EQ(m.find("line 2:"), std::string::npos) << m;     // the good row is not blamed
  EXPECT_EQ(m.find("327501410112000"), std::string::npos);  // values are never repeated
  EXPECT_EQ(commits(), before);
  EXPECT_EQ(store_->entities("kasus")->size(), 1u);

  auto unknown =
      import_register(*store_, wf, "no_register,tanggal_pengaduan,nama_ibu\n1,2026-02-01,X\n");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("line 1, column 3: not a column name"), std::string::npos)
      << unknown.error().message;
  EXPECT_EQ(unknown.error().message.find("nama_ibu"), std::string::npos);  // header cells too
}

// Issue 15 point 10: a register's errors never repeat what the file holds, are bounded,
// and a malformed file is said in words.
TEST_F(ReportStoreTest, ARegisterWithoutItsHeaderLineIsRefusedWithoutRepeatingItsFirstRow) {
  Workflow wf(*store_);
  const auto before = commits();
  // The header line was left out: the first row stands in its place.
  auto r = import_register(*store_, wf,
                           "12/II/2026,2026-02-01,Sari Wulandari,3275014101900001,P\n"
                           "13/II/2026,2026-02-02,Ayu Lestari,3275014101900002,P\n");
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("the first line must be the header"), std::string::npos) << m;
  for (const char* value : {"Sari", "3275014101900001", "12/II/2026", "Ayu"}) {
    EXPECT_EQ(m.find(value), std::string::npos) << value << " in:\n" << m;
  }
  // A header cell that would clear a terminal reaches no one.
  auto escape =
      import_register(*store_, wf, "no_register,tanggal_pengaduan,\x1b[2Jx\n1,2026-02-01,a\n");
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().message.find('\x1b'), std::string::npos) << escape.error().message;
  EXPECT_NE(escape.error().message.find("line 1, column 3"), std::string::npos)
      << escape.error().message;
  EXPECT_EQ(commits(), before);
}

TEST_F(ReportStoreTest, CellErrorsNameTheLineAndColumnButNotTheValue) {
  Workflow wf(*store_);
  auto r =
      import_register(*store_, wf,
                      "no_register,tanggal_pengaduan,usia,jenis_kelamin,layanan,hubungan_terlapor\n"
                      "1,2026-02-01,sembilanbelas,P,,\n"
                      "2,2026-02-01,4321,P,,\n"
                      "3,2026-02-01,20,Perempuanku,,\n"
                      "4,2026-02-01,20,P,pijatrefleksi,\n"
                      "5,2026-02-01,20,P,,tetanggaku\n");
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  for (const char* line :
       {"line 2: column usia", "line 3: column usia", "line 4: column jenis_kelamin",
        "line 5: column layanan", "line 6: column hubungan_terlapor"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << " in:\n" << m;
  }
  for (const char* value :
       {"sembilanbelas", "4321", "Perempuanku", "pijatrefleksi", "tetanggaku"}) {
    EXPECT_EQ(m.find(value), std::string::npos) << value << " in:\n" << m;
  }
}

TEST_F(ReportStoreTest, AThousandBadRowsListThirtyProblemsAndSayHowManyMore) {
  Workflow wf(*store_);
  std::string text = "no_register,tanggal_pengaduan\n";
  for (int i = 0; i < 1000; ++i) text += std::to_string(i + 1) + ",bukan tanggal\n";
  auto r = import_register(*store_, wf, text);
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 31) << m.substr(0, 400);
  EXPECT_NE(m.find("... and 970 more problem(s)"), std::string::npos) << m.substr(m.size() - 200);
  EXPECT_NE(m.find("line 31:"), std::string::npos);
  EXPECT_EQ(m.find("line 32:"), std::string::npos);
}

// Issue 15: a register as an Indonesian spreadsheet saves it: ';' between cells, headers
// as people write them, labels for codes.
TEST_F(ReportStoreTest, ASemicolonRegisterWithPeoplesHeadersAndLabelsImports) {
  Workflow wf(*store_);
  auto r = import_register(*store_, wf,
                           "No. Register;Tgl Pengaduan;Jenis Kelamin;Bentuk Kekerasan;Nama Korban\r\n"
                           "7/III/2026;01/03/2026;Perempuan;\"Kekerasan fisik, psikis\";Warga Contoh\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->cases, 1u);
  auto victims = store_->entities("orang");
  ASSERT_TRUE(victims);
  ASSERT_EQ(victims->size(), 1u);
  EXPECT_EQ(victims->front().get("sex"), "P");  // the code, from the label
  auto cases = store_->entities("kasus");
  ASSERT_TRUE(cases);
  ASSERT_EQ(cases->size(), 1u);
  EXPECT_EQ(cases->front().get("forms"), "fisik,psikis");
  EXPECT_NE(cases->front().get("summary").find("7/III/2026"), std::string::npos);
}

TEST_F(ReportStoreTest, TheTemplateIsAnEmptyRegisterThatImportsOnceARowIsAdded) {
  Workflow wf(*store_);
  const std::string empty = register_template();
  auto header = parse_csv(empty);
  ASSERT_TRUE(header) << header.error().message;
  ASSERT_EQ(header->size(), 1u);
  EXPECT_EQ(header->front().fields.front(), "no_register");
  EXPECT_EQ(header->front().fields.size(), 26u);
  auto nothing = import_register(*store_, wf, empty);
  ASSERT_FALSE(nothing);
  EXPECT_NE(nothing.error().message.find("holds no rows"), std::string::npos) << nothing.error().message;
  auto one = import_register(*store_, wf, empty + "1,2026-03-01" + std::string(24, ',') + "\r\n");
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->cases, 1u);
}

TEST(ParseCsv, TextAfterAClosingQuoteAndTooManyColumnsAreErrors) {
  auto after = parse_csv("nama,usia\n\"Sari\"x,20\n");
  ASSERT_FALSE(after);
  EXPECT_NE(after.error().message.find("line 2: there is text after the closing"),
            std::string::npos)
      << after.error().message;
  EXPECT_EQ(after.error().message.find("Sari"), std::string::npos);
  EXPECT_TRUE(
      parse_csv("nama,usia\n\"Sari\",20\n\"Ayu\"\r\n"));  // a separator or line end may follow
  std::string wide(100000, ',');
  auto many = parse_csv(wide + "\n");
  ASSERT_FALSE(many);
  EXPECT_LT(many.error().message.size(), 200u) << many.error().message.size();
  EXPECT_NE(many.error().message.find("more than 200 columns"), std::string::npos);
}

TEST(ReadRegisterFile, BinaryDataAndOversizedFilesAreRefusedInWordsBeforeTheyAreRead) {
  auto zero = read_register_file("/dev/zero");  // endless: refused at its first chunk
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("binary data"), std::string::npos) << zero.error().message;
  auto urandom = read_register_file("/dev/urandom");
  ASSERT_FALSE(urandom);
  teduh::testing::TempDir dir;
  const auto path = dir.path() / "register.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << "no_register,tanggal_pengaduan\n";
    for (int i = 0; i < 200; ++i) out << i << ",2026-02-01\n";
  }
  auto small = read_register_file(path, 1024);
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().message.find("split the register"), std::string::npos)
      << small.error().message;
  auto whole = read_register_file(path);
  ASSERT_TRUE(whole) << whole.error().message;
  EXPECT_EQ(whole->substr(0, 12), "no_register,");
  auto missing = read_register_file(dir.path() / "tidak-ada.csv");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::usage);
}

// Issue 15 point 11: the import refuses future dates with the same rule as case new.
TEST_F(ReportStoreTest, ARegisterWithFutureDatesIsRefusedNamingTheColumn) {
  Workflow wf(*store_);
  const auto before = commits();
  auto r = import_register(*store_, wf,
                           "no_register,tanggal_pengaduan,tanggal_lahir,tanggal_kejadian,layanan,"
                           "tanggal_layanan\n"
                           "1,2026-02-01,2099-01-01,,,\n"
                           "2,2026-02-01,,01/01/2099,,\n"
                           "3,2099-01-01 08:00,,,,\n"
                           "4,2026-02-01,,,konseling,2099-01-01\n");
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  for (const char* line :
       {"line 2: column tanggal_lahir: tanggal lahir (birth_date) tidak boleh di masa depan.",
        "line 3: column tanggal_kejadian: tanggal kejadian (incident_date) tidak boleh di masa "
        "depan.",
        "line 4: column tanggal_pengaduan: waktu pengaduan diterima (received_at) tidak boleh di "
        "masa depan.",
        "line 5: column tanggal_layanan: tanggal layanan (date) tidak boleh di masa depan."}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << " in:\n" << m;
  }
  EXPECT_EQ(m.find("2099"), std::string::npos) << m;  // the file's dates are not repeated
  EXPECT_EQ(commits(), before);
}

TEST_F(ReportStoreTest, ANewCaseWithABadExtraIsRefusedWhole) {
  Workflow wf(*store_);
  CaseExtras extras;
  extras.perpetrators.emplace_back(FieldInput{{"name", "Terlapor Uji"}}, "musuh");
  auto r = wf.new_case({{"forms", "fisik"}}, {{"name", "Korban Uji"}}, extras);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid);
  EXPECT_NE(r.error().message.find("relationship"), std::string::npos) << r.error().message;
  extras.perpetrators.clear();
  extras.services.push_back({{"kind", "pijat"}});
  EXPECT_FALSE(wf.new_case({}, {}, extras));
  EXPECT_EQ(commits(), 0);
  extras.services = {{{"kind", "konseling"}, {"date", "2026-03-02"}}};
  auto ok = wf.new_case({{"status", "asesmen"}}, {}, extras);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(commits(), 1);
  auto services = store_->entities("layanan", &*ok);
  ASSERT_EQ(services->size(), 2u);
  for (const auto& s : *services)
    EXPECT_EQ(s.get("case_status_seen").empty() || s.get("case_status_seen") == "asesmen", true);
}

// Issue 15.2 and 15.3 on a real store: the office's November report over its 14 cases is
// exact, `--publik` suppresses it, and a December service leaves November's report as it was.
TEST_F(ReportStoreTest, NovembersOwnReportIsExactAndStaysAsItWasAfterADecemberService) {
  Workflow wf(*store_);
  std::vector<sync::EntityId> ids;
  for (int i = 0; i < 14; ++i) {
    char received[32];
    std::snprintf(received, sizeof received, "2026-11-%02d 10:00 WIB", 2 + i);
    auto id =
        wf.new_case({{"received_at", received}, {"forms", i < 3 ? "seksual" : "fisik"}},
                    {{"name", "Korban Penanda " + std::to_string(i)}, {"sex", i < 2 ? "L" : "P"}});
    ASSERT_TRUE(id) << id.error().message;
    ids.push_back(*id);
  }
  ReportFilter november;
  november.from = "2026-11-01";
  november.to = "2026-11-30";
  november.now_ms = at("2026-12-07T00:00:00Z");
  auto own = wf.report(november);
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ((*own)["total_cases"], 14);
  EXPECT_EQ((*own)["by_form"]["seksual"], 3);
  EXPECT_EQ((*own)["by_victim_sex"]["L"], 2);
  EXPECT_EQ((*own)["by_victim_sex"]["P"], 12);
  EXPECT_EQ((*own)["by_service"]["konseling"], 0);
  EXPECT_EQ((*own)["marks"], json::object());
  EXPECT_EQ(report_csv(*own).find("<5"), std::string::npos);

  auto publik = wf.report(november, Audience::outside);
  ASSERT_TRUE(publik);
  EXPECT_EQ((*publik)["total_cases"], 14);
  EXPECT_TRUE((*publik)["by_victim_sex"]["L"].is_null());
  EXPECT_EQ((*publik)["marks"]["by_victim_sex"]["L"], "<5");
  EXPECT_EQ((*publik)["marks"]["by_victim_sex"]["P"], "x");
  EXPECT_EQ((*publik)["marks"]["by_form"]["seksual"], "<5");

  // December: a counselling session for a November case.
  ASSERT_TRUE(wf.add_service(ids[0], {{"kind", "konseling"}, {"date", "2026-12-03"}}));
  auto again = wf.report(november);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *own) << own->dump() << "\n" << again->dump();
  ReportFilter december;
  december.from = "2026-12-01";
  december.to = "2026-12-31";
  december.now_ms = november.now_ms;
  auto dec = wf.report(december);
  ASSERT_TRUE(dec);
  EXPECT_EQ((*dec)["total_cases"], 0);
  EXPECT_EQ((*dec)["by_service"]["konseling"], 1);
  const std::string all = own->dump() + publik->dump() + dec->dump();
  EXPECT_EQ(all.find("Penanda"), std::string::npos);
}

TEST_F(ReportStoreTest, DueFollowsTheOfficeSettings) {
  Workflow wf(*store_);
  // Friday 6 March 2026, 10:00 WIB.
  auto id = wf.new_case({{"received_at", "2026-03-06 10:00 WIB"}}, {});
  ASSERT_TRUE(id) << id.error().message;
  const std::uint64_t now = at("2026-03-07T00:00:00Z");
  auto three = wf.due(now);
  ASSERT_TRUE(three);
  ASSERT_EQ((*three)["due"].size(), 1u);
  EXPECT_EQ((*three)["due"][0]["due_at"], "2026-03-09T03:00:00Z");
  EXPECT_EQ((*three)["due"][0]["due_local"], "2026-03-09 10:00 WIB");

  EXPECT_FALSE(set_config(*store_, "response_sla", "2_hari"));
  EXPECT_FALSE(set_config(*store_, "zona_waktu", "CET"));
  ASSERT_TRUE(set_config(*store_, "response_sla", "1_hari_kerja"));
  ASSERT_TRUE(set_config(*store_, "zona_waktu", "WITA"));
  auto one = wf.due(now);
  ASSERT_TRUE(one);
  EXPECT_EQ((*one)["due"][0]["due_local"], "2026-03-09 23:59 WITA");
  EXPECT_EQ((*one)["due"][0]["label"], "Respons pengaduan (1 hari kerja)");
  EXPECT_FALSE((*one)["due"][0]["late"].get<bool>());
  // A service answers the complaint: nothing is due.
  ASSERT_TRUE(wf.add_service(*id, {{"kind", "konseling"}, {"date", "2026-03-07"}}));
  EXPECT_TRUE((*wf.due(now))["due"].empty());
}

}  // namespace
}  // namespace teduh::client
