#include "teduh/client/import.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include "teduh/client/report.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/dates.hpp"
#include "teduh/schema/entities.hpp"
#include "teduh/schema/validate.hpp"

namespace teduh::client {
namespace {

using schema::EntityType;

// Where a column goes. Columns map to one field of the case, the victim, the alleged
// perpetrator or the services; a few are handled by hand (kind = special).
enum class Target { kasus, korban, terlapor, special };

// At most this many problems are listed when a register is refused (a file of 100,000
// bad cells must not print megabytes), and a record holds at most this many columns.
constexpr std::size_t kMaxProblemsShown = 30;
constexpr std::size_t kMaxCsvColumns = 200;

struct Column {
  const char* header;
  Target target;
  const char* field;  // the stored field name, or the special column's own name
};

// The layout of client/IMPORT.md. Headers are matched without regard to case or spaces
// around them.
const Column kColumns[] = {
    {"no_register", Target::special, "no_register"},
    {"tanggal_pengaduan", Target::special, "tanggal_pengaduan"},
    {"saluran", Target::kasus, "channel"},
    {"bentuk_kekerasan", Target::kasus, "forms"},
    {"tempat_kejadian", Target::kasus, "place"},
    {"tanggal_kejadian", Target::kasus, "incident_date"},
    {"kecamatan", Target::kasus, "kecamatan"},
    {"kelurahan", Target::kasus, "kelurahan"},
    {"ringkasan", Target::special, "ringkasan"},
    {"status", Target::kasus, "status"},
    {"tingkat_risiko", Target::kasus, "risk_level"},
    {"laporan_polisi", Target::special, "laporan_polisi"},
    {"nama_korban", Target::korban, "name"},
    {"nik_korban", Target::korban, "nik"},
    {"jenis_kelamin", Target::korban, "sex"},
    {"tanggal_lahir", Target::korban, "birth_date"},
    {"usia", Target::korban, "age"},
    {"pendidikan", Target::korban, "education"},
    {"disabilitas", Target::korban, "disability"},
    {"alamat_korban", Target::korban, "address"},
    {"telepon_korban", Target::korban, "phone"},
    {"nama_terlapor", Target::terlapor, "name"},
    {"jenis_kelamin_terlapor", Target::terlapor, "sex"},
    {"hubungan_terlapor", Target::special, "hubungan_terlapor"},
    {"layanan", Target::special, "layanan"},
    {"tanggal_layanan", Target::special, "tanggal_layanan"},
};

std::string trimmed(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::string trimmed_lower(std::string s) {
  s = trimmed(std::move(s));
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// One row, checked: what the Workflow actions will be given.
struct Row {
  std::size_t line = 0;
  std::string register_number;
  FieldInput case_fields, victim_fields, perpetrator_fields;
  std::string relationship;
  std::vector<FieldInput> services;
};

std::string list_text(std::string s) {
  std::replace(s.begin(), s.end(), ';', ',');
  return s;
}

// A message of the schema about one cell, without the cell's value: what a register
// holds (names, NIKs, birth dates) never reaches the terminal or a log through an error.
// Quoted occurrences go first (a short value such as "P" is only removed quoted, so the
// words around it stay whole), then the value anywhere when it is long enough to be
// told apart from the message's own words; a message that ends with ": <value>" in
// another form (check_not_future shows a date as the office's local date) is cut there.
std::string without_values(std::string message, std::initializer_list<std::string_view> values) {
  auto replace_all = [&](std::string_view what, std::string_view with) {
    if (what.empty()) return;
    for (auto at = message.find(what); at != std::string::npos;
         at = message.find(what, at + with.size()))
      message.replace(at, what.size(), with);
  };
  for (std::string_view v : values) replace_all("'" + std::string(v) + "'", "this value");
  for (std::string_view v : values) {
    if (v.size() >= 3) replace_all(v, "(this value)");
  }
  return message;
}

// A header as people write it, as the column's name: letters lowered, runs of spaces,
// dots, hyphens and slashes made one '_' ("No. Register" and "No Register" are
// no_register), and the short "tgl" of a date column written out ("Tgl Lahir").
std::string column_name(const std::string& raw) {
  std::string name;
  for (char c : trimmed_lower(raw)) {
    if (c == ' ' || c == '.' || c == '-' || c == '/' || c == '_') {
      if (!name.empty() && name.back() != '_') name += '_';
    } else {
      name += c;
    }
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  if (name.starts_with("tgl_")) name = "tanggal_" + name.substr(4);
  if (name == "no_reg" || name == "nomor_register") name = "no_register";
  return name;
}

std::string known_columns() {
  std::string known;
  for (const Column& c : kColumns) {
    if (!known.empty()) known += ", ";
    known += c.header;
  }
  return known + " (client/IMPORT.md)";
}

// The not-future rule's message names the date after its last ": "; the import says the
// rule without the date.
std::string without_shown_date(std::string message) {
  if (auto colon = message.rfind(": "); colon != std::string::npos) message.resize(colon);
  return message + ".";
}

}  // namespace

[[nodiscard]] Result<std::string> read_register_file(const std::filesystem::path& path,
                                                     std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::usage, "Cannot read " + path.string() + ".");
  std::string text;
  std::array<char, std::size_t{64} * 1024> chunk{};
  std::size_t line = 1;
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    const std::string_view part(chunk.data(), got);
    if (auto nul = part.find('\0'); nul != std::string_view::npos) {
      line += static_cast<std::size_t>(
          std::count(part.begin(), part.begin() + static_cast<std::ptrdiff_t>(nul), '\n'));
      return fail(Errc::invalid,
                  path.string() + " is not a CSV text: it holds binary data (a NUL byte on line " +
                      std::to_string(line) +
                      "). Save the register from the spreadsheet as CSV and import that file.");
    }
    line += static_cast<std::size_t>(std::count(part.begin(), part.end(), '\n'));
    if (text.size() + got > limit) {
      return fail(Errc::invalid,
                  path.string() + " is larger than " + std::to_string(limit / (std::size_t{1024} * 1024)) +
                      " MiB; split the register into several files and import each.");
    }
    text.append(part);
  }
  if (in.bad()) return fail(Errc::usage, "Cannot read " + path.string() + " to its end.");
  return text;
}

[[nodiscard]] Result<std::vector<CsvRecord>> parse_csv(std::string_view text, char separator) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<CsvRecord> out;
  CsvRecord record;
  std::string field;
  std::size_t line = 1;
  record.line = 1;
  bool quoted = false, field_started = false;
  std::size_t quote_line = 0;
  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    const bool empty = record.fields.size() == 1 && record.fields[0].empty();
    if (!empty) out.push_back(std::move(record));
    record = CsvRecord{};
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
          // Only a separator or a line end may follow a closing quote: `"Sari"x` is a
          // mistake in the file, not the text Sarix.
          const char next = i + 1 < text.size() ? text[i + 1] : '\n';
          if (next != separator && next != '\r' && next != '\n') {
            return fail(Errc::invalid,
                        "line " + std::to_string(line) +
                            ": there is text after the closing '\"' of a quoted field; "
                            "put the whole field inside the quotes.");
          }
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
      quote_line = line;
    } else if (c == separator) {
      end_field();
      if (record.fields.size() >= kMaxCsvColumns) {
        return fail(Errc::invalid,
                    "line " + std::to_string(record.line) + ": more than " +
                        std::to_string(kMaxCsvColumns) + " columns; a register has at most " +
                        std::to_string(std::size(kColumns)) + " (client/IMPORT.md).");
      }
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
      record.line = line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) {
    return fail(Errc::invalid, "line " + std::to_string(quote_line) +
                                   ": a quoted field is never closed (a '\"' is missing).");
  }
  if (field_started || !record.fields.empty()) end_record();
  return out;
}

char detect_separator(std::string_view text) {
  std::size_t commas = 0, semicolons = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n' || c == '\r') break;
    commas += c == ',';
    semicolons += c == ';';
  }
  return semicolons > commas ? ';' : ',';
}

std::string register_template() {
  std::string header = "\xEF\xBB\xBF";  // the byte order mark spreadsheet programs look for
  for (const Column& c : kColumns) {
    if (header.size() > 3) header += ',';
    header += c.header;
  }
  return header + "\r\n";
}

[[nodiscard]] Result<ImportSummary> import_register(Store& store, Workflow& workflow,
                                                    std::string_view csv_text) {
  auto records = TEDUH_TRY(parse_csv(csv_text, detect_separator(csv_text)));
  if (records.empty())
    return fail(Errc::invalid, "The file is empty: the first line must name the columns.");
  auto rules = TEDUH_TRY(deadline_rules(store));

  // The header: every column known, no column twice, the two required ones present.
  const CsvRecord& header = records.front();
  std::vector<const Column*> columns;
  std::set<std::string> seen;
  std::vector<std::string> problems;
  for (const std::string& raw : header.fields) {
    std::string name = column_name(raw);
    const Column* found = nullptr;
    for (const Column& c : kColumns) {
      if (name == c.header) found = &c;
    }
    // A header cell is not repeated either: a file without its header line has a row
    // of names and NIKs in its place. The cell is named by its position.
    const std::string cell =
        "line " + std::to_string(header.line) + ", column " + std::to_string(columns.size() + 1);
    if (!found) {
      problems.push_back(cell + ": not a column name of the register.");
    } else if (!seen.insert(name).second) {
      std::string twice = cell;
      twice.append(": column '").append(name).append("' appears twice.");
      problems.push_back(std::move(twice));
    }
    columns.push_back(found);
  }
  if (std::none_of(columns.begin(), columns.end(), [](const Column* c) { return c != nullptr; })) {
    return fail(
        Errc::invalid,
        "The register was not imported; nothing was stored. Its first line names no column: the "
        "first line must be the header naming the columns: " +
            known_columns() + ".");
  }
  if (!problems.empty()) problems.push_back("the columns are " + known_columns() + ".");
  for (const char* required : {"no_register", "tanggal_pengaduan"}) {
    if (!seen.contains(required)) {
      problems.push_back("line " + std::to_string(header.line) + ": the column '" + required +
                         "' is required.");
    }
  }
  auto refuse = [&]() {
    std::string message =
        "The register was not imported; nothing was stored. Fix these rows and import the "
        "whole file again:";
    const std::size_t shown = std::min(problems.size(), kMaxProblemsShown);
    for (std::size_t i = 0; i < shown; ++i) message += "\n  " + problems[i];
    if (problems.size() > shown) {
      message += "\n  ... and " + std::to_string(problems.size() - shown) +
                 " more problem(s); fix these first and import again to see the rest.";
    }
    return fail(Errc::invalid, message);
  };
  if (!problems.empty()) return refuse();

  const auto now = schema::dates::from_unix_ms(static_cast<std::int64_t>(sync::system_now_ms()));
  std::vector<Row> rows;
  std::map<std::string, std::size_t> register_lines;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    const std::string at = "line " + std::to_string(rec.line) + ": ";
    if (rec.fields.size() != columns.size()) {
      problems.push_back(at + "has " + std::to_string(rec.fields.size()) +
                         " columns, the header has " + std::to_string(columns.size()) + ".");
      continue;
    }
    Row row;
    row.line = rec.line;
    std::string ringkasan, relationship, services_text, services_date, police;
    bool has_perpetrator = false;
    std::vector<std::string> row_problems;
    // Checks one typed value against the schema; the message names the column and the
    // field but never repeats the value.
    auto check = [&](EntityType type, const std::string& field, const std::string& value,
                     const char* header_name) {
      auto ok = schema::validate_field(type, field, value, schema::dates::utc_offset(rules.zone));
      if (!ok) {
        row_problems.push_back(at + "column " + header_name + ": " +
                               without_values(ok.error().message, {value, trimmed(value)}));
        return false;
      }
      // One rule with case new and case set: no birth or incident date in the future.
      auto past = schema::check_not_future(type, field, *ok, now, rules.zone);
      if (!past)
        row_problems.push_back(at + "column " + header_name + ": " +
                               without_shown_date(past.error().message));
      return past.has_value();
    };
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const Column& col = *columns[i];
      std::string value = rec.fields[i];
      if (blank(value)) continue;
      const std::string name = col.header;
      switch (col.target) {
        case Target::kasus: {
          if (std::string(col.field) == "forms") value = list_text(value);
          if (check(EntityType::kasus, col.field, value, col.header))
            row.case_fields.emplace_back(col.field, value);
          break;
        }
        case Target::korban:
          if (check(EntityType::orang, col.field, value, col.header))
            row.victim_fields.emplace_back(col.field, value);
          break;
        case Target::terlapor:
          has_perpetrator = true;
          if (check(EntityType::orang, col.field, value, col.header))
            row.perpetrator_fields.emplace_back(col.field, value);
          break;
        case Target::special:
          if (name == "no_register") {
            row.register_number = trimmed(value);  // as written on paper, e.g. 12/II/2026
          } else if (name == "tanggal_pengaduan") {
            // A date alone is the start of that day; a time without a zone is the office's.
            auto received =
                schema::dates::parse_date_or_datetime(value, schema::dates::utc_offset(rules.zone));
            if (!received) {
              row_problems.push_back(
                  at +
                  "column tanggal_pengaduan: not a date (YYYY-MM-DD, DD-MM-YYYY or "
                  "DD/MM/YYYY, optionally with a time HH:MM).");
            } else if (auto past = schema::check_not_future(EntityType::kasus, "received_at",
                                                            schema::dates::format_utc(*received),
                                                            now, rules.zone);
                       !past) {
              row_problems.push_back(
                  at + "column tanggal_pengaduan: " + without_shown_date(past.error().message));
            } else {
              row.case_fields.emplace_back("received_at", schema::dates::format_utc(*received));
            }
          } else if (name == "ringkasan") {
            ringkasan = value;
          } else if (name == "laporan_polisi") {
            police = value;
          } else if (name == "hubungan_terlapor") {
            has_perpetrator = true;
            auto ok = schema::validate_field(EntityType::peran, "relationship", value);
            if (!ok) {
              row_problems.push_back(at + "column hubungan_terlapor: " +
                                     without_values(ok.error().message, {value, trimmed(value)}));
            } else {
              relationship = *ok;
            }
          } else if (name == "layanan") {
            services_text = list_text(value);
          } else if (name == "tanggal_layanan") {
            services_date = value;
          }
          break;
      }
    }
    if (row.register_number.empty()) {
      row_problems.push_back(at +
                             "column no_register is empty; every row needs its register number.");
    } else if (auto [it, fresh] = register_lines.emplace(row.register_number, rec.line); !fresh) {
      row_problems.push_back(at + "register number already used on line " +
                             std::to_string(it->second) + ".");
    } else {
      auto earlier = TEDUH_TRY(store.meta("import.register." + row.register_number));
      if (earlier)
        row_problems.push_back(at + "this register number was already imported on this device.");
    }
    const bool received = std::any_of(row.case_fields.begin(), row.case_fields.end(),
                                      [](const auto& f) { return f.first == "received_at"; });
    if (!received &&
        std::none_of(row_problems.begin(), row_problems.end(), [](const std::string& p) {
          return p.find("tanggal_pengaduan") != std::string::npos;
        })) {
      row_problems.push_back(
          at + "column tanggal_pengaduan is empty; every row needs the complaint date.");
    }
    // The register number stays with the case, so that it can be found on paper again.
    std::string summary = "Buku Register no. " + row.register_number;
    if (!blank(ringkasan)) summary += ". " + ringkasan;
    if (check(EntityType::kasus, "summary", summary, "ringkasan"))
      row.case_fields.emplace_back("summary", summary);
    if (!police.empty()) {
      auto yes = schema::validate_field(EntityType::kasus, "police_report_requested", police);
      if (!yes) {
        row_problems.push_back(at + "column laporan_polisi: write ya or tidak.");
      } else if (*yes == "1") {
        std::string asked;  // the register gives no time of the request: the complaint's
        for (const auto& [f, v] : row.case_fields) {
          if (f == "received_at") asked = v;
        }
        row.case_fields.emplace_back("police_report_requested", "1");
        if (!asked.empty()) row.case_fields.emplace_back("police_report_requested_at", asked);
      }
    }
    if (has_perpetrator) row.relationship = relationship;
    if (!has_perpetrator && !row.perpetrator_fields.empty()) has_perpetrator = true;
    if (!has_perpetrator) row.perpetrator_fields.clear();
    if (has_perpetrator && row.perpetrator_fields.empty())
      row.perpetrator_fields.emplace_back("name", "");
    if (!services_text.empty()) {
      std::string date = services_date;
      if (date.empty()) {
        for (const auto& [f, v] : row.case_fields) {
          if (f != "received_at") continue;
          if (auto at_utc = schema::dates::parse_utc(v))
            date = schema::dates::format_iso(schema::dates::local_date(*at_utc, rules.zone));
        }
      } else if (auto d = schema::validate_field(EntityType::layanan, "date", date); !d) {
        row_problems.push_back(at + "column tanggal_layanan: " +
                               without_values(d.error().message, {date, trimmed(date)}));
      } else if (auto past =
                     schema::check_not_future(EntityType::layanan, "date", *d, now, rules.zone);
                 !past) {
        row_problems.push_back(
            at + "column tanggal_layanan: " + without_shown_date(past.error().message));
      }
      std::size_t start = 0;
      while (start <= services_text.size()) {
        auto comma = services_text.find(',', start);
        if (comma == std::string::npos) comma = services_text.size();
        std::string kind = services_text.substr(start, comma - start);
        start = comma + 1;
        if (blank(kind)) continue;
        auto k = schema::validate_field(EntityType::layanan, "kind", kind);
        if (!k) {
          row_problems.push_back(
              at + "column layanan: " + without_values(k.error().message, {kind, trimmed(kind)}));
        } else if (*k != "pengaduan") {  // the complaint itself is recorded with the case
          FieldInput service{{"kind", *k}};
          if (!date.empty()) service.emplace_back("date", date);
          row.services.push_back(std::move(service));
        }
      }
    }
    if (row_problems.empty()) {
      rows.push_back(std::move(row));
    } else {
      problems.insert(problems.end(), row_problems.begin(), row_problems.end());
    }
  }
  if (!problems.empty()) return refuse();
  if (rows.empty())
    return fail(Errc::invalid, "The file names its columns but holds no rows; nothing was stored.");

  // Every row is good: record them all in one transaction, through the usual actions.
  return store.in_transaction([&]() -> Result<ImportSummary> {
    ImportSummary summary;
    for (const Row& row : rows) {
      const std::string at = "line " + std::to_string(row.line) + ": ";
      // One commit per row: the case, its victim, the alleged perpetrator and the services.
      CaseExtras extras;
      if (!row.perpetrator_fields.empty())
        extras.perpetrators.emplace_back(row.perpetrator_fields, row.relationship);
      extras.services = row.services;
      auto case_id = workflow.new_case(row.case_fields, row.victim_fields, extras);
      if (!case_id) {
        if (case_id.error().code == Errc::refused) return tl::unexpected(case_id.error());
        return fail(case_id.error().code, at + case_id.error().message);
      }
      ++summary.cases;
      if (!row.victim_fields.empty()) ++summary.persons;
      summary.persons += extras.perpetrators.size();
      summary.services += extras.services.size();
      if (auto m = store.set_meta("import.register." + row.register_number, case_id->hex()); !m) {
        return tl::unexpected(m.error());
      }
    }
    return summary;
  });
}

}  // namespace teduh::client
