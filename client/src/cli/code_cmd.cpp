// teduh kode: the code lists and their Indonesian labels (what a field of a code kind
// accepts: the code, or its label).
#include <iostream>

#include "context.hpp"
#include "teduh/client/workflow.hpp"

namespace teduh::client::cli {

using nlohmann::json;

void add_code_command(CliContext& ctx, CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto* kode = app.add_subcommand(
      "kode", "Daftar kode dan labelnya (setiap isian berkode menerima kode atau labelnya)");
  ctx.add_json(kode);
  kode->add_option("DAFTAR", *name, "Hanya daftar ini, mis. bentuk_kekerasan");
  kode->callback([&ctx, name] {
    ctx.action = [&ctx, name]() -> Result<int> {
      json lists = code_lists();
      if (!name->empty()) {
        if (!lists.contains(*name)) {
          std::string known;
          for (const auto& [list, codes] : lists.items())
            known += (known.empty() ? "" : ", ") + list;
          return fail(Errc::usage,
                      "Tidak ada daftar kode '" + *name + "'. Daftar yang ada: " + known + ".");
        }
        lists = json{{*name, lists[*name]}};
      }
      if (ctx.json_output) {
        print_json(lists);
        return 0;
      }
      for (const auto& [list, codes] : lists.items()) {
        std::cout << list << "\n";
        for (const auto& c : codes)
          std::cout << "  " << c["code"].get<std::string>() << "  " << c["label"].get<std::string>()
                    << "\n";
      }
      return 0;
    };
  });
}

}  // namespace teduh::client::cli
