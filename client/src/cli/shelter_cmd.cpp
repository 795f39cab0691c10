// teduh shelter add | list | place: shelters (rumah aman), whose location stays secret.
#include <iostream>

#include "context.hpp"
#include "teduh/client/compartment.hpp"

namespace teduh::client::cli {

void add_shelter_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string case_ref, name, date, address, phone, contact, code_name, shelter_ref;
  };
  auto s = std::make_shared<State>();
  auto* shelter =
      app.add_subcommand("shelter", "Shelters (rumah aman): their location stays secret");
  shelter->require_subcommand(1);
  auto* shelter_add =
      shelter->add_subcommand("add", "Add a shelter (needs shelter clearance; prints its id)");
  ctx.add_store(shelter_add);
  shelter_add->add_option("--name", s->name, "Name (kept secret)")->required();
  shelter_add->add_option("--address", s->address, "Address (kept secret)")->required();
  shelter_add->add_option("--phone", s->phone, "Phone (kept secret)");
  shelter_add->add_option("--contact", s->contact, "Contact person (kept secret)");
  shelter_add->add_option("--code-name", s->code_name, "The public code name (default generated)");
  shelter_add->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      FieldInput fields{{"name", s->name}, {"address", s->address}};
      if (!s->phone.empty()) fields.emplace_back("phone", s->phone);
      if (!s->contact.empty()) fields.emplace_back("contact", s->contact);
      if (!s->code_name.empty()) fields.emplace_back("code_name", s->code_name);
      auto store = TEDUH_TRY(ctx.open_store());
      auto id = TEDUH_TRY(Workflow(store).add_shelter(fields));
      std::cout << "Shelter added; its details are encrypted for cleared devices only.\n"
                << id.hex() << "\n";
      return 0;
    };
  });
  auto* shelter_list =
      shelter->add_subcommand("list", "List shelters (details only on cleared devices)");
  ctx.add_store(shelter_list);
  ctx.add_json(shelter_list);
  shelter_list->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      auto doc = TEDUH_TRY(Workflow(store).list_shelters());
      if (ctx.json_output) {
        print_json(doc);
      } else {
        for (const auto& row : doc["shelters"]) {
          std::cout << row["code_name"].get<std::string>() << "  " << row["id"].get<std::string>()
                    << "  " << row.value("address", "rumah aman (lokasi dirahasiakan)") << "\n";
        }
        if (doc["shelters"].empty()) std::cout << "No shelters.\n";
        if (store.identity().grant.shelter_clearance) {
          auto gen = current_generation(store, kShelterCompartment);
          if (gen && !*gen) std::cout << kNoShelterKeyYet << "\n";
        }
      }
      return 0;
    };
  });
  auto* shelter_place = shelter->add_subcommand(
      "place", "Place a case's victim in a shelter (at most 7 days unless extended)");
  ctx.add_store(shelter_place);
  shelter_place->add_option("--case", s->case_ref, "Case id or number")->required();
  shelter_place->add_option("--shelter", s->shelter_ref, "Shelter id or code name")->required();
  shelter_place->add_option("--date", s->date, "Admission date, YYYY-MM-DD, or date and time in the office's zone (default now)");
  shelter_place->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto sid = TEDUH_TRY(wf.find_shelter(s->shelter_ref));
      auto stay = TEDUH_TRY(wf.place(*id, sid, s->date));
      std::cout << "Placement recorded.\n" << stay.hex() << "\n";
      return 0;
    };
  });
}

}  // namespace teduh::client::cli
