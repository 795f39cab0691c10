// teduh rencana tambah | selesai, teduh pantau jadwal | catat, teduh diversi catat: the case
// plan, its monitoring and a diversion's agreement (issue 17, items 3 and 5). `teduh case show`
// prints them; `teduh due` lists what they make due.
#include <iostream>

#include "context.hpp"

namespace teduh::client::cli {
namespace {

// The id a person typed for a record (32 hex digits), or a usage error naming what it is.
Result<sync::EntityId> record_id(const std::string& text, const char* what) {
  auto id = sync::Id128::from_hex(text);
  if (!id)
    return fail(Errc::usage, "'" + text + "' bukan id " + what + " (32 digit heksadesimal).");
  return *id;
}

}  // namespace

void add_plan_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string case_ref, needs, services, responsible, due_date, notes, item_ref, date;
    std::string visit_ref, kind, officer, result;
    std::string place, parties, outcome, agreement, child;
  };
  auto s = std::make_shared<State>();

  auto* rencana = app.add_subcommand(
      "rencana", "Rencana intervensi kasus: kebutuhan, layanan, penanggung jawab, target");
  rencana->require_subcommand(1);
  auto* add =
      rencana->add_subcommand("tambah", "Tambah satu butir rencana intervensi (mencetak id-nya)");
  ctx.add_store(add);
  add->add_option("--case", s->case_ref, "Id atau nomor kasus")->required();
  add->add_option("--kebutuhan", s->needs, "Kebutuhan korban yang hendak dipenuhi")->required();
  add->add_option("--layanan", s->services,
                  "Layanan yang direncanakan (kode jenis_layanan, dipisah koma)");
  add->add_option("--oleh", s->responsible, "Penanggung jawab (petugas atau lembaga)");
  add->add_option("--target", s->due_date, "Target waktu, YYYY-MM-DD")->required();
  add->add_option("--catatan", s->notes, "Catatan");
  add->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      FieldInput fields{{"needs", s->needs}, {"due_date", s->due_date}};
      if (!s->services.empty()) fields.emplace_back("services", s->services);
      if (!s->responsible.empty()) fields.emplace_back("responsible", s->responsible);
      if (!s->notes.empty()) fields.emplace_back("notes", s->notes);
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      auto item = TEDUH_TRY(Workflow(*store).add_plan_item(*id, fields));
      std::cout << "Rencana intervensi dicatat; batasnya tampil di `teduh due`.\n"
                << item.hex() << "\n";
      return 0;
    };
  });
  auto* done = rencana->add_subcommand("selesai", "Tandai satu butir rencana sudah terlaksana");
  ctx.add_store(done);
  done->add_option("ID", s->item_ref, "Id butir rencana (lihat `teduh case show`)")->required();
  done->add_option("--tanggal", s->date, "Tanggal terlaksana (bawaan: hari ini)");
  done->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto item = TEDUH_TRY(record_id(s->item_ref, "rencana"));
      auto store = TEDUH_TRY(ctx.open_store());
      TEDUH_TRY(Workflow(store).complete_plan_item(item, s->date));
      std::cout << "Rencana ditandai terlaksana.\n";
      return 0;
    };
  });

  auto* pantau = app.add_subcommand(
      "pantau", "Pemantauan kasus: jadwal kunjungan dan hasilnya, juga setelah terminasi");
  pantau->require_subcommand(1);
  auto* schedule = pantau->add_subcommand("jadwal", "Jadwalkan pemantauan (mencetak id-nya)");
  ctx.add_store(schedule);
  schedule->add_option("--case", s->case_ref, "Id atau nomor kasus")->required();
  schedule->add_option("--tanggal", s->date, "Tanggal pemantauan, YYYY-MM-DD")->required();
  schedule->add_option("--jenis", s->kind,
                       "berkala atau evaluasi_pascaterminasi (bawaan: berkala, atau evaluasi bila "
                       "kasus sudah ditutup)");
  schedule->add_option("--petugas", s->officer, "Petugas pemantauan");
  schedule->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      auto visit = TEDUH_TRY(Workflow(*store).schedule_visit(*id, s->date, s->kind, s->officer));
      std::cout << "Pemantauan dijadwalkan; tampil di `teduh due`.\n" << visit.hex() << "\n";
      return 0;
    };
  });
  auto* record = pantau->add_subcommand(
      "catat", "Catat hasil pemantauan (jadwal yang ada, atau kunjungan tanpa jadwal)");
  ctx.add_store(record);
  record->add_option("--case", s->case_ref, "Id atau nomor kasus")->required();
  record->add_option("--jadwal", s->visit_ref, "Id jadwal pemantauan (lihat `teduh case show`)");
  record->add_option("--hasil", s->result, "Hasil pemantauan")->required();
  record->add_option("--tanggal", s->date, "Tanggal pemantauan dilakukan (bawaan: hari ini)");
  record->add_option("--petugas", s->officer, "Petugas pemantauan");
  record->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      std::optional<sync::EntityId> visit;
      if (!s->visit_ref.empty()) visit = TEDUH_TRY(record_id(s->visit_ref, "jadwal pemantauan"));
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      auto done_id =
          TEDUH_TRY(Workflow(*store).record_visit(*id, visit, s->date, s->result, s->officer));
      std::cout << "Hasil pemantauan dicatat.\n" << done_id.hex() << "\n";
      return 0;
    };
  });

  auto* diversi =
      app.add_subcommand("diversi", "Kesepakatan diversi (anak berhadapan dengan hukum)");
  diversi->require_subcommand(1);
  auto* agree =
      diversi->add_subcommand("catat", "Catat hasil musyawarah diversi (mencetak id-nya)");
  ctx.add_store(agree);
  agree->add_option("--case", s->case_ref, "Id atau nomor kasus")->required();
  agree->add_option("--tanggal", s->date, "Tanggal musyawarah diversi")->required();
  agree->add_option("--tempat", s->place, "Tempat musyawarah diversi")->required();
  agree->add_option("--pihak", s->parties, "Pihak yang hadir")->required();
  agree->add_option("--hasil", s->outcome, "sepakat atau tidak_sepakat")->required();
  agree->add_option("--kesepakatan", s->agreement, "Isi kesepakatan diversi");
  agree->add_option("--anak", s->child, "Id orang (anak terlapor) dalam kasus");
  agree->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      FieldInput fields{{"agreed_on", s->date},
                        {"place", s->place},
                        {"parties", s->parties},
                        {"outcome", s->outcome}};
      if (!s->agreement.empty()) fields.emplace_back("agreement", s->agreement);
      if (!s->child.empty()) fields.emplace_back("child", s->child);
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      auto rec = TEDUH_TRY(Workflow(*store).record_diversion(*id, fields));
      std::cout << "Kesepakatan diversi dicatat.\n" << rec.hex() << "\n";
      return 0;
    };
  });
}

}  // namespace teduh::client::cli
