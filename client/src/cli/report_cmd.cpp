// teduh due, teduh report, teduh config set | show, teduh import: reports, deadlines,
// settings and the register import.
#include <fstream>
#include <iostream>
#include <memory>

#include "context.hpp"
#include "teduh/client/import.hpp"
#include "teduh/client/report.hpp"
#include "teduh/client/workflow.hpp"

namespace teduh::client::cli {
namespace {

struct ReportOptions {
  ReportFilter filter;
  bool csv = false;
  bool publik = false;
  std::string chart;
  std::string xlsx;
  std::string key, value;
  std::string csv_file;
  std::string template_file;
};

// A report's file (--chart, --xlsx), readable by its owner only like every file teduh
// writes; `refusal` begins the sentence naming the file when it cannot be written.
Result<void> write_private(const std::string& path, const std::string& bytes,
                           const std::string& refusal) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) return fail(Errc::usage, refusal + path + ".");
  std::error_code mode_error;
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, mode_error);
  return {};
}

// `teduh import --template FILE`: a new file only, never one that exists.
Result<int> write_template(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return fail(Errc::usage,
                "Berkas " + path + " sudah ada; tidak ada yang ditimpa. Pilih nama lain.");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << register_template();
  out.close();
  if (!out) return fail(Errc::usage, "Templat tidak dapat ditulis ke " + path + ".");
  std::cout << "Templat register kosong ditulis ke " << path
            << ". Isi satu baris per kasus (kolom: client/IMPORT.md), simpan sebagai CSV, lalu: "
            << "teduh import --csv " << path << "\n";
  return 0;
}

}  // namespace

void add_report_commands(CliContext& ctx, CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();

  auto* due = app.add_subcommand(
      "due", "Batas waktu yang terbuka, yang terlambat lebih dulu: respons pengaduan, asesmen awal, laporan "
             "polisi, keluar rumah aman, rencana intervensi, pemantauan, evaluasi setelah terminasi, diversi");
  ctx.add_store(due);
  ctx.add_json(due);
  due->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      auto doc = TEDUH_TRY(Workflow(store).due(sync::system_now_ms()));
      if (ctx.json_output) {
        std::cout << doc.dump(2) << "\n";
        return 0;
      }
      if (doc["due"].empty()) std::cout << "Nothing is due.\n";
      for (const auto& d : doc["due"]) {
        std::cout << (d["late"].get<bool>() ? "TERLAMBAT  " : "segera     ")
                  << d["number"].get<std::string>() << "  " << d["label"].get<std::string>()
                  << "  batas " << d["due_local"].get<std::string>() << "\n";
      }
      return 0;
    };
  });

  auto* report = app.add_subcommand(
      "report",
      "Jumlah kasus tanpa nama: angka persis atas kasus kantor sendiri; dengan --publik, dan "
      "selalu di kantor pusat (atas semua kantor), sel 1-4 ditulis <5");
  ctx.add_store(report);
  ctx.add_json(report);
  report->add_option("--from", o->filter.from,
                     "Awal periode, YYYY-MM-DD (kasus menurut tanggal pengaduan; layanan dan "
                     "tenggat menurut tanggalnya sendiri)");
  report->add_option("--to", o->filter.to, "Akhir periode, YYYY-MM-DD (termasuk hari itu)");
  report->add_option("--region", o->filter.region,
                     "Hanya kode wilayah BPS ini dan wilayah di bawahnya");
  report->add_flag("--csv", o->csv, "Cetak CSV: category,code,label,count,mark");
  report->add_flag("--publik", o->publik,
                   "Laporan untuk dibagikan ke luar kantor: sel 1-4 kasus ditulis <5 (dan x "
                   "bila perlu); di kantor pusat selalu begitu");
  report->add_option("--chart", o->chart, "Tulis juga grafik ke berkas SVG ini");
  report->add_option("--xlsx", o->xlsx,
                     "Tulis juga laporan ke berkas Excel (.xlsx) ini: baris yang sama dengan "
                     "--csv, judul kolom berbahasa Indonesia");
  report->callback([&ctx, o] {
    ctx.action = [&ctx, o]() -> Result<int> {
      if (o->csv && ctx.json_output) {
        return fail(Errc::usage, "Pilih salah satu: --json atau --csv.");
      }
      auto store = TEDUH_TRY(ctx.open_store());
      const Workflow wf(store);
      auto doc = TEDUH_TRY(wf.report(o->filter, o->publik ? Audience::outside : Audience::own_office));
      if (!o->filter.region.empty()) {
        const std::string region = doc["filter"]["region"].get<std::string>();
        if (TEDUH_TRY(wf.offices_in_region(region)).empty()) {
          std::cerr << "Peringatan: tidak ada kantor yang dikenal di wilayah " << region
                    << " atau di bawahnya, jadi semua angka laporan ini 0. Periksa kode wilayahnya "
                       "(teduhd office list) atau jalankan teduh sync agar daftar kantor terbaru.\n";
        }
      }
      if (!o->chart.empty())
        TEDUH_TRY(write_private(o->chart, report_svg(doc), "Grafik tidak dapat ditulis ke "));
      if (!o->xlsx.empty()) {
        const std::string book = TEDUH_TRY(report_xlsx(doc));
        TEDUH_TRY(write_private(o->xlsx, book, "Berkas Excel tidak dapat ditulis ke "));
      }
      if (ctx.json_output) {
        std::cout << doc.dump(2) << "\n";
      } else if (o->csv) {
        std::cout << report_csv(doc);
      } else {
        std::cout << report_text(doc);
        if (!o->chart.empty()) std::cout << "\nGrafik ditulis ke " << o->chart << ".\n";
        if (!o->xlsx.empty()) std::cout << "Berkas Excel ditulis ke " << o->xlsx << ".\n";
      }
      return 0;
    };
  });

  auto* config = app.add_subcommand("config", "This office's settings for deadlines");
  config->require_subcommand(1);
  auto* config_set = config->add_subcommand(
      "set", "Set response_sla (3_hari | 1_hari_kerja) or zona_waktu (WIB | WITA | WIT)");
  ctx.add_store(config_set);
  config_set->add_option("KEY", o->key, "response_sla or zona_waktu")->required();
  config_set->add_option("VALUE", o->value, "The new value")->required();
  config_set->callback([&ctx, o] {
    ctx.action = [&ctx, o]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      TEDUH_TRY(set_config(store, o->key, o->value));
      std::cout << o->key << " = " << o->value << "\n";
      return 0;
    };
  });
  auto* config_show = config->add_subcommand("show", "Show the settings");
  ctx.add_store(config_show);
  ctx.add_json(config_show);
  config_show->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      auto doc = TEDUH_TRY(config_document(store));
      if (ctx.json_output) {
        std::cout << doc.dump(2) << "\n";
      } else {
        for (auto it = doc.begin(); it != doc.end(); ++it)
          std::cout << it.key() << " = " << it.value().get<std::string>() << "\n";
      }
      return 0;
    };
  });

  auto* import = app.add_subcommand(
      "import", "Import the office's paper register (Buku Register) from CSV: all rows or none");
  ctx.add_store(import);
  auto* csv =
      import->add_option("--csv", o->csv_file, "The register as CSV (columns in client/IMPORT.md)");
  import
      ->add_option(
          "--template", o->template_file,
          "Write an empty register (the header line) to this new file, to fill in a spreadsheet")
      ->excludes(csv);
  import->callback([&ctx, o] {
    ctx.action = [&ctx, o]() -> Result<int> {
      if (!o->template_file.empty()) return write_template(o->template_file);
  if (o->csv_file.empty()) {
    return fail(Errc::usage, "Sebutkan berkas register: --csv FILE (atau --template FILE).");
  }
  auto text = TEDUH_TRY(read_register_file(o->csv_file));
  auto store = TEDUH_TRY(ctx.open_store());
  Workflow wf(store);
  auto summary = TEDUH_TRY(import_register(store, wf, text));
  std::cout << "Imported " << summary.cases << " case(s), " << summary.persons << " person(s) and "
            << summary.services << " service(s); they reach the server at the next `teduh sync`.\n"
            << summary.cases << "\n";
  return 0;
    };
  });
}

}  // namespace teduh::client::cli
