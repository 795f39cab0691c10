// teduh person add | remove, teduh service add.
#include <iostream>

#include "context.hpp"

namespace teduh::client::cli {

void add_person_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string case_ref, role, name, nik, sex, birth, relationship, entity_ref;
    std::vector<std::string> assignments;
    bool abh = false;
  };
  auto s = std::make_shared<State>();
  auto* person = app.add_subcommand("person", "People in a case");
  person->require_subcommand(1);
  auto* person_add = person->add_subcommand(
      "add", "Add a victim, reporter or alleged perpetrator to a case (prints its id)");
  ctx.add_store(person_add);
  person_add->add_option("--case", s->case_ref, "Case id or number")->required();
  person_add->add_option("--role", s->role, "korban, pelapor or terlapor")->required();
  person_add->add_option("--name", s->name, "Name")->required();
  person_add->add_option("--nik", s->nik, "NIK (16 digits)");
  person_add->add_option("--sex", s->sex, "L or P");
  person_add->add_option("--birth", s->birth, "Birth date, YYYY-MM-DD");
  person_add->add_option("--relationship", s->relationship, "Relationship to the victim (hubungan)");
  person_add->add_flag(
      "--abh", s->abh,
      "Terlapor masih anak (anak berhadapan dengan hukum), bila usianya tidak dicatat");
  person_add->add_option("--field", s->assignments,
                         "Any other person field, FIELD=VALUE (repeatable)");
  person_add->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      FieldInput fields{{"name", s->name}};
      if (!s->nik.empty()) fields.emplace_back("nik", s->nik);
      if (!s->sex.empty()) fields.emplace_back("sex", s->sex);
      if (!s->birth.empty()) fields.emplace_back("birth_date", s->birth);
      auto extra = TEDUH_TRY(parse_assignments(s->assignments));
      fields.insert(fields.end(), extra.begin(), extra.end());
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto pid = TEDUH_TRY(wf.add_person(*id, s->role, fields, s->relationship, s->abh));
      std::cout << "Person added as " << s->role << ".\n" << pid.hex() << "\n";
      return 0;
    };
  });

  auto* person_remove = person->add_subcommand(
      "remove", "Remove a person (or any record) wrongly added to a case; history keeps it");
  ctx.add_store(person_remove);
  person_remove->add_option("--case", s->case_ref, "Case id or number")->required();
  person_remove
      ->add_option("KODE", s->entity_ref,
                   "The person's (or record's) code as `case show` prints it, or its whole id")
      ->required();
  person_remove->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto target = TEDUH_TRY(wf.find_in_case(*id, s->entity_ref));
      TEDUH_TRY(wf.remove_entity(*id, target));
      std::cout << "Removed from the case; `teduh history` still shows it.\n";
      return 0;
    };
  });
}

void add_service_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string case_ref, kind, date, notes, provider, outcome;
  };
  auto s = std::make_shared<State>();
  auto* service = app.add_subcommand("service", "Services given in a case (append-only)");
  service->require_subcommand(1);
  auto* service_add = service->add_subcommand("add", "Record a service (prints its id)");
  ctx.add_store(service_add);
  service_add->add_option("--case", s->case_ref, "Case id or number")->required();
  service_add->add_option("--kind", s->kind, "Kind of service (jenis_layanan), e.g. konseling")
      ->required();
  service_add->add_option("--date", s->date, "Date, YYYY-MM-DD (default today)");
  service_add->add_option("--notes", s->notes, "Notes");
  service_add->add_option("--provider", s->provider, "Who gave the service");
  service_add->add_option("--outcome", s->outcome, "Outcome");
  service_add->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      FieldInput fields{{"kind", s->kind}};
      if (!s->date.empty()) fields.emplace_back("date", s->date);
      if (!s->notes.empty()) fields.emplace_back("notes", s->notes);
      if (!s->provider.empty()) fields.emplace_back("provider", s->provider);
      if (!s->outcome.empty()) fields.emplace_back("outcome", s->outcome);
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto sid = TEDUH_TRY(wf.add_service(*id, fields));
      std::cout << "Service recorded.\n" << sid.hex() << "\n";
      return 0;
    };
  });
}

}  // namespace teduh::client::cli
