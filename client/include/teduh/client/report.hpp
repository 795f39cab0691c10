#pragma once
// Reports and deadlines (DESIGN.md sections 1, 3 and 5 "Aggregates"; client/README.md
// "Report" and "Deadlines").
//
// Both run on CaseFacts: one record per case holding codes and dates only, never a name,
// NIK, address, phone, free text or anything of a shelter's location. They come from two
// sources: an office's own cases (the merged state of its store), or, on a central office
// device, the server's signed de-identified projections (PROTOCOL.md section 5C). The
// same deadline rules serve `teduh due` (what is late or due now) and the report's
// compliance figures (what share of deadlines was met on time).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/client/error.hpp"
#include "teduh/client/store.hpp"
#include "teduh/schema/dates.hpp"

namespace teduh::client {

class Store;

struct ServiceFact {
  std::string kind;  // jenis_layanan code
  std::string date;  // YYYY-MM-DD
};

struct StayFact {
  std::string admitted_at;   // UTC datetime
  std::string planned_exit;  // YYYY-MM-DD, the office's local date
  std::string exited_at;     // UTC datetime, "" while the stay goes on
};

struct CaseFacts {
  std::string id;      // 32 hex digits
  std::string number;  // the case number; "" from a projection (not needed for counts)
  std::string office, office_kind, region;
  std::string received_at;  // UTC datetime YYYY-MM-DDTHH:MM:SSZ
  std::string channel;
  std::vector<std::string> forms;
  std::string place, status, merged_into;
  std::string victim_sex;                              // "L", "P" or "" (unknown, no victim)
  std::string victim_age_group = "tidak_diketahui";    // at received_at
  std::vector<std::string> perpetrator_relationships;  // hubungan codes, unique, sorted
  std::vector<ServiceFact> services;
  // When the status first moved past "diterima" after the case was recorded (UTC
  // datetime); "" when it never did or is unknown.
  std::string status_changed_at;
  std::string police_report_requested_at;  // "" unless the victim asked (UU 12/2022)
  std::vector<StayFact> shelter_stays;
};

// How long an office has to respond to a complaint (`teduh config set response_sla`).
enum class ResponseSla { three_days, one_working_day };

// The office's deadline settings, kept in the store's meta table.
struct DeadlineRules {
  ResponseSla response = ResponseSla::three_days;
  schema::dates::Zone zone = schema::dates::Zone::wib;  // zona_waktu: WIB, WITA or WIT
};

// Reads the settings of this store (defaults when never set).
[[nodiscard]] Result<DeadlineRules> deadline_rules(const Store& store);
// Sets one setting: response_sla (3_hari | 1_hari_kerja) or zona_waktu (WIB | WITA | WIT).
// Anything else is Errc::usage with the accepted values; nothing is written.
[[nodiscard]] Result<void> set_config(Store& store, std::string_view key, std::string_view value);
// The settings as {"response_sla": ..., "zona_waktu": ...}.
[[nodiscard]] Result<nlohmann::json> config_document(const Store& store);

// One deadline of one case. met_ms is when the step was done (a service date counts
// from the start of that local day), nullopt while it is not.
struct Deadline {
  std::string step;   // respons_pengaduan, laporan_polisi, keluar_rumah_aman
  std::string label;  // Indonesian, for people
  std::uint64_t due_ms = 0;
  std::optional<std::uint64_t> met_ms;
  // Done, but when is not known (a case recorded directly in a later status, e.g. from a
  // paper register): not due, and left out of the compliance figures.
  bool met_at_unknown = false;
};
std::vector<Deadline> deadlines_of(const CaseFacts& facts, const DeadlineRules& rules);

// The facts of every case in the store that is not deleted (merged ones included, with
// merged_into set). Reads codes and dates only.
[[nodiscard]] Result<std::vector<CaseFacts>> facts_from_store(const Store& store);
// The records facts_from_store reads, for a caller that needs them as well (Workflow::due
// reads the roles and persons again for a child perpetrator): read once, used twice.
struct CaseRecords {
  std::vector<EntityView> cases, roles, persons, services, stays;
};
[[nodiscard]] Result<CaseRecords> case_records(const Store& store);
[[nodiscard]] Result<std::vector<CaseFacts>> facts_from_records(const Store& store, const CaseRecords& records);
// The facts of projection documents (any "v": 1 document; fields added later are
// optional). A document that is not JSON is Errc::damaged.
[[nodiscard]] Result<std::vector<CaseFacts>> facts_from_projections(const std::vector<std::string>& bodies);

// A case this office recorded and then transferred (issue 15.8) leaves its store at the next
// sync, and would leave its counts with it. Before the purge, keep_transferred_intake keeps
// its facts (codes and dates only, as a projection document: no name, NIK, address, free
// text or shelter; shelter stays left out) in the meta key "kasus_dialihkan.<case id>",
// with "transferred_to"; a scope this office did not record (its number does not begin
// with the office code) keeps nothing. transferred_intakes reads them back.
[[nodiscard]] Result<void> keep_transferred_intake(Store& store, const std::string& case_id);
[[nodiscard]] Result<std::vector<CaseFacts>> transferred_intakes(const Store& store);

struct ReportFilter {
  // The period, inclusive, in office-local days: a case is in it by the day it was
  // received, a service by its date, a deadline by the day it came due.
  std::string from;          // YYYY-MM-DD, first day; "" = open
  std::string to;            // YYYY-MM-DD, last day; "" = open
  std::string region;        // BPS code (schema/region.hpp): the region itself and every region
                             // under it ("32" takes "3275" and "3275010"); "" = all
  std::uint64_t now_ms = 0;  // deadlines not yet due at now_ms are not counted
};
// Checks the dates and the region of a filter and puts the region in its canonical form
// (schema::normalize_region: "32.76" becomes "3276"); Errc::usage with a sentence otherwise.
[[nodiscard]] Result<void> check_filter(ReportFilter& filter);

// Who a report is for (client/README.md "Report"). An office's report over its own cases
// stays in the office and is exact. A report that leaves the office is suppressed: a central
// office's report over the projections (always), or an office's report for publication or
// for anyone outside it (`teduh report --publik`).
enum class Audience { own_office, outside };

// The report document (keys sorted, lists in a defined order). Cases are selected by the
// office-local day they were received; a service counts in the period of its own date and a
// deadline in the period of the day it came due, so a closed month's report does not change
// when later work is recorded. Every count is a number. For Audience::outside counts are
// suppressed: cells 1..4 become null with the mark "<5" at the same path under "marks"; in
// tables where every case falls in exactly one cell, further cells become null with the mark
// "x" so that a "<5" cannot be worked out from the total. For Audience::own_office "marks"
// is empty and every count is exact.
nlohmann::json build_report(const std::vector<CaseFacts>& facts, const ReportFilter& filter,
                            const DeadlineRules& rules, Audience audience);

// The renderings of a report document: text with Indonesian labels, CSV with the header
// category,code,label,count,mark (count empty where suppressed, mark "<5", "x" or empty),
// and a standalone SVG (no scripts, no external resources).
std::string report_text(const nlohmann::json& report);
std::string report_csv(const nlohmann::json& report);
std::string report_svg(const nlohmann::json& report);

// One line of the report's table, as the CSV and the Excel workbook both write it, in the
// same order: category is the CSV's key ("by_form"), group its Indonesian title ("Bentuk
// kekerasan"); count is a number, or null where suppressed or absent; mark is "<5", "x" or
// "".
struct ReportRow {
  std::string category, group, code, label;
  nlohmann::json count;
  std::string mark;
};
std::vector<ReportRow> report_rows(const nlohmann::json& report);

// The report as an Excel workbook (.xlsx, libxlsxwriter; report_xlsx.cpp): a title, the
// period, the office and who the figures are for above one table with Indonesian headers
// (Kelompok, Kode, Uraian, Jumlah, Tanda) holding report_rows: numbers in Jumlah as numbers,
// marks in Tanda, as in the CSV. The bytes of the file; Errc::internal when libxlsxwriter
// fails (its temporary files live in a private folder and are removed either way).
[[nodiscard]] Result<std::string> report_xlsx(const nlohmann::json& report);

// Small-cell suppression of one table (exposed for tests): each cell is its count or its
// mark ("<5", "x"); build_report then moves the marks under "marks". partition: every case
// is in exactly one cell, so the cells add up to `total`, which is shown.
nlohmann::json suppress_table(const std::vector<std::pair<std::string, int>>& cells,
                              bool partition);

}  // namespace teduh::client
