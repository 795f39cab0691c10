// teduh duplicates, teduh conflicts, teduh resolve: what a person settles between offices.
#include <iostream>

#include "context.hpp"
#include "teduh/client/report.hpp"

namespace teduh::client::cli {

using nlohmann::json;

void add_duplicates_command(CliContext& ctx, CLI::App& app) {
  auto* dupes = app.add_subcommand(
      "duplicates", "Probable records of the same victim across offices (strong: NIK; weak: name and birth date)");
  ctx.add_store(dupes);
  ctx.add_json(dupes);
  dupes->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      Workflow wf(store);
      auto doc = TEDUH_TRY(wf.duplicates());
      if (ctx.json_output) {
        print_json(doc);
        return 0;
      }
      const json& pairs = doc["pairs"];
      if (pairs.empty()) std::cout << "No probable duplicates.\n";
      for (const auto& p : pairs) {
        std::cout << (p["signal"] == "nik" ? "strong (same NIK)       " : "weak (name, birth date) ")
                  << p["cases"][0].get<std::string>() << " @" << p["offices"][0].get<std::string>() << "  ~  "
                  << p["cases"][1].get<std::string>() << " @" << p["offices"][1].get<std::string>() << "\n";
      }
      if (!pairs.empty()) std::cout << "An office that holds both cases can merge them: teduh case merge KEEP OTHER\n";
      return 0;
    };
  });
}

void add_conflict_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string case_ref, field, value, keep;
  };
  auto s = std::make_shared<State>();
  auto* conflicts = app.add_subcommand(
      "conflicts", "Fields that two offices changed at once, for a person to settle");
  ctx.add_store(conflicts);
  ctx.add_json(conflicts);
  conflicts->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      auto doc = TEDUH_TRY(Workflow(store).conflicts());
      auto rules = TEDUH_TRY(deadline_rules(store));
      if (ctx.json_output) {
        print_json(doc);
        return 0;
      }
      if (doc["conflicts"].empty()) std::cout << "No conflicts.\n";
      for (const auto& c : doc["conflicts"]) {
        std::string rule = c["rule"];
        std::cout << "Kasus " << c["number"].get<std::string>() << ", "
                  << c["label"].get<std::string>() << " (" << c["field"].get<std::string>() << ")"
                  << (rule == "closed_while_service_recorded"
                          ? ": closed on one office while another recorded a service"
                      : rule == "edited_while_removed"
                          ? ": edited on one office while removed on another"
                          : "")
                  << ":\n";
        for (const auto& v : c["values"]) {
          std::cout << "  " << (v["shown"].get<bool>() ? "* " : "  ")
                    << v["value"].get<std::string>() << "   ("
                    << local_time(v["at"].get<std::string>(), rules.zone) << ", "
                    << v["user"].get<std::string>() << " at " << v["office"].get<std::string>()
                    << ", version " << v["version"].get<std::string>() << ")\n";
        }
      }
      return 0;
    };
  });
  auto* resolve = app.add_subcommand(
      "resolve", "Settle a conflict: write the value that replaces all live ones");
  ctx.add_store(resolve);
  resolve->add_option("ID", s->case_ref, "Case id or number")->required();
  resolve->add_option("FIELD", s->field, "Field name (korban.FIELD for the victim)")->required();
  auto* value_opt = resolve->add_option("--value", s->value, "The value to keep");
  auto* keep_opt = resolve->add_option(
      "--keep", s->keep,
      "Keep the value of this live version (DEVICE:SEQ:INDEX, from `teduh conflicts --json`)");
  value_opt->excludes(keep_opt);
  resolve->callback([&ctx, s, value_opt] {
    ctx.action = [&ctx, s, value_opt]() -> Result<int> {
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      if (value_opt->count() == 0 && s->keep.empty())
        return fail(Errc::usage, "Give --value VALUE or --keep VERSION.");
      TEDUH_TRY(wf.resolve(*id, s->field, s->value, s->keep));
      std::cout << "Resolved; every replica shows this value after it syncs.\n";
      return 0;
    };
  });
}

}  // namespace teduh::client::cli
