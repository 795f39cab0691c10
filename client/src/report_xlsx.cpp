// The report as an Excel workbook (report.hpp `report_xlsx`). The only file that includes
// libxlsxwriter (Debian's libxlsxwriter-dev). The workbook holds counts only, never a name:
// the same rows as the CSV (`report_rows`), under Indonesian headers, below the opening
// lines of `report_text` (title, office, period, whom the figures are for), so the wording
// is written once.
#include <xlsxwriter.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "teduh/client/report.hpp"

namespace teduh::client {
namespace {

// A private folder for libxlsxwriter's temporary files and the workbook itself (it writes
// to a file name, never to memory, in Debian's 1.1.4), removed with everything in it when
// this goes out of scope.
class ScratchFolder {
 public:
  ScratchFolder() {
    std::error_code ec;
    std::string pattern = (std::filesystem::temp_directory_path(ec) / "teduh-xlsx-XXXXXX").string();
    if (ec) pattern = "/tmp/teduh-xlsx-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;  // mode 0700
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  ~ScratchFolder() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The lines of report_text before its first table: title, source, period, how cases are
// counted, the total and whom the figures are for.
std::vector<std::string> opening_lines(const nlohmann::json& report) {
  std::istringstream text(report_text(report));
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line) && !line.empty();) lines.push_back(line);
  return lines;
}

}  // namespace

Result<std::string> report_xlsx(const nlohmann::json& report) {
  ScratchFolder scratch;
  if (scratch.path().empty())
    return fail(Errc::internal, "no temporary folder for the Excel workbook");
  const std::string file = scratch.path() + "/laporan.xlsx";
  std::string tmpdir = scratch.path();
  lxw_workbook_options options{};
  options.constant_memory = LXW_FALSE;
  options.tmpdir = tmpdir.data();
  options.use_zip64 = LXW_FALSE;
  lxw_workbook* book = workbook_new_opt(file.c_str(), &options);
  if (book == nullptr) return fail(Errc::internal, "libxlsxwriter could not start a workbook");

  lxw_doc_properties properties{};
  std::string title = "Laporan kasus kekerasan terhadap perempuan dan anak";
  std::string app_name = "Teduh";
  properties.title = title.data();
  properties.company = app_name.data();
  workbook_set_properties(book, &properties);

  lxw_worksheet* sheet = workbook_add_worksheet(book, "Laporan");
  lxw_format* bold = workbook_add_format(book);
  format_set_bold(bold);
  lxw_format* heading = workbook_add_format(book);
  format_set_bold(heading);
  format_set_bottom(heading, LXW_BORDER_THIN);
  format_set_bg_color(heading, 0xDDEBF7);
  lxw_format* wrapped = workbook_add_format(book);
  format_set_text_wrap(wrapped);
  format_set_align(wrapped, LXW_ALIGN_VERTICAL_TOP);

  // A4, fitted to the page's width, the header row repeated on every printed page.
  worksheet_set_paper(sheet, 9);
  worksheet_fit_to_pages(sheet, 1, 0);
  worksheet_set_column(sheet, 0, 0, 34, nullptr);
  worksheet_set_column(sheet, 1, 1, 22, nullptr);
  worksheet_set_column(sheet, 2, 2, 40, nullptr);
  worksheet_set_column(sheet, 3, 3, 10, nullptr);
  worksheet_set_column(sheet, 4, 4, 8, nullptr);

  lxw_row_t row = 0;
  for (const std::string& line : opening_lines(report)) {
    worksheet_merge_range(sheet, row, 0, row, 4, line.c_str(), row == 0 ? bold : wrapped);
    if (line.size() > 110) worksheet_set_row(sheet, row, 30, nullptr);
    ++row;
  }
  ++row;  // one empty row before the table

  const lxw_row_t header = row;
  const char* const headers[] = {"Kelompok", "Kode", "Uraian", "Jumlah", "Tanda"};
  for (lxw_col_t col = 0; col < 5; ++col)
    worksheet_write_string(sheet, row, col, headers[col], heading);
  ++row;
  for (const ReportRow& r : report_rows(report)) {
    worksheet_write_string(sheet, row, 0, r.group.c_str(), nullptr);
    if (!r.code.empty()) worksheet_write_string(sheet, row, 1, r.code.c_str(), nullptr);
    worksheet_write_string(sheet, row, 2, r.label.c_str(), nullptr);
    if (r.count.is_number()) worksheet_write_number(sheet, row, 3, r.count.get<double>(), nullptr);
    if (!r.mark.empty()) worksheet_write_string(sheet, row, 4, r.mark.c_str(), nullptr);
    ++row;
  }
  worksheet_freeze_panes(sheet, header + 1, 0);
  worksheet_autofilter(sheet, header, 0, row - 1, 4);
  worksheet_repeat_rows(sheet, header, header);

  if (const lxw_error closed = workbook_close(book); closed != LXW_NO_ERROR) {
    return fail(Errc::internal,
                std::string("libxlsxwriter could not write the workbook: ") + lxw_strerror(closed));
  }
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof())
    return fail(Errc::internal, "the Excel workbook could not be read back");
  if (bytes.empty()) return fail(Errc::internal, "libxlsxwriter wrote an empty workbook");
  return bytes;
}

}  // namespace teduh::client
