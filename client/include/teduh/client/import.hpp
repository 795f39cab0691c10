#pragma once
// Importing an office's paper register (Buku Register) from CSV: `teduh import --csv FILE`.
// The column layout, with its Indonesian headers, is in client/IMPORT.md.
//
// All or nothing: every row is checked first; one bad row refuses the whole file, naming
// each bad row by its line number, and nothing is stored. A good file is recorded in one
// transaction, each row through Workflow::new_case, the action behind `teduh case new`,
// with the row's alleged perpetrator and services as its extras (validated as
// `teduh person add` and `teduh service add` validate them): one ordinary signed commit,
// with its audit event, per row.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/client/error.hpp"

namespace teduh::client {

class Store;
class Workflow;

struct CsvRecord {
  std::size_t line = 0;  // the line of the file where the record starts (1 = first line)
  std::vector<std::string> fields;
};

// RFC 4180 CSV: fields separated by commas (or `separator`), quoted with '"' ("" inside quotes is
// one quote), quoted fields may hold commas and line breaks; CRLF or LF line ends; a UTF-8 BOM at
// the start is skipped; blank lines are skipped. A quote left open is Errc::invalid naming the line
// where the field began; so is text after a closing quote (`"Sari"x`) and a record of more than 200
// columns.
[[nodiscard]] Result<std::vector<CsvRecord>> parse_csv(std::string_view text, char separator = ',');

// The separator of a register: ';' when its first line holds more semicolons than commas
// outside quotes (what a spreadsheet saves as CSV in an Indonesian locale), else ','.
[[nodiscard]] char detect_separator(std::string_view text);

// An empty register to start from (`teduh import --template FILE`): the header line with
// every column of client/IMPORT.md, after a UTF-8 byte order mark.
[[nodiscard]] std::string register_template();

// The largest register file read (64 MiB: a register of 100,000 rows is about 30 MiB).
inline constexpr std::size_t kMaxRegisterBytes = std::size_t{64} * 1024 * 1024;

// Reads a register file as a stream, a chunk at a time: Errc::invalid for a file larger
// than `limit` or holding a NUL byte (not text: a spreadsheet's own format, /dev/zero),
// said in words before more of it is read; Errc::usage when it cannot be opened.
[[nodiscard]] Result<std::string> read_register_file(const std::filesystem::path& path,
                                                     std::size_t limit = kMaxRegisterBytes);

struct ImportSummary {
  std::size_t cases = 0;     // one per row
  std::size_t persons = 0;   // victims and alleged perpetrators
  std::size_t services = 0;  // besides the complaint itself
};

// Imports a register into the store (see the file comment). Errc::invalid when any row is
// bad: the message lists "line N: ..." for each (at most 30, then how many more), without
// repeating any value of the file, header cells included.
// Errc::refused when this device's user may not record cases.
[[nodiscard]] Result<ImportSummary> import_register(Store& store, Workflow& workflow,
                                                    std::string_view csv_text);

}  // namespace teduh::client
