// teduhd office add | list, teduhd enroll.
#include <iostream>
#include <memory>

#include "context.hpp"

namespace teduh::server::cli {
namespace {

int cmd_office_add(const CliContext& c, const NewOffice& office) {
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  if (auto r = store->add_office(office); !r) return report(r.error());
  std::cout << "Added office " << office.code << " (" << office.kind << ").\n" << office.code << "\n";
  return kExitOk;
}

int cmd_office_list(const CliContext& c, bool json) {
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  auto offices = store->list_offices();
  if (!offices) return report(offices.error());
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const OfficeRecord& o : *offices) {
      list.push_back({{"code", o.code}, {"name", o.name}, {"kind", o.kind}, {"region", o.region},
                      {"parent", o.parent.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.parent)},
                      {"created_at", format_time(o.created_at_ms)}});
    }
    std::cout << nlohmann::json{{"offices", list}}.dump(2) << "\n";
    return kExitOk;
  }
  if (offices->empty()) std::cout << "No offices.\n";
  for (const OfficeRecord& o : *offices) {
    std::cout << o.code << "  " << o.kind << "  " << o.name;
    if (!o.region.empty()) std::cout << "  region " << o.region;
    if (!o.parent.empty()) std::cout << "  parent " << o.parent;
    std::cout << "\n";
  }
  return kExitOk;
}

int cmd_enroll(const CliContext& c, const EnrollRequest& request) {
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  auto issued = issue_device_enrollment(*store, c.data, request);
  if (!issued) return report(issued.error());
  std::cout << "One-time enrollment code for " << request.user << " (" << request.role << ") at "
            << request.office << (request.shelter ? ", with shelter clearance" : "") << ", valid until "
            << format_time(issued->expires_at_ms) << ":\n"
            << issued->code << "\n";
  return kExitOk;
}

}  // namespace

void add_office_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    NewOffice new_office;
    bool json = false;
    EnrollRequest enroll_request;
  };
  auto s = std::make_shared<State>();
  CLI::App* office = app.add_subcommand("office", "Manage offices");
  office->require_subcommand(1);
  CLI::App* office_add = office->add_subcommand("add", "Add an office");
  ctx.add_common(office_add);
  office_add->add_option("--code", s->new_office.code, "Office code, e.g. BKS-DP3A")->required();
  office_add->add_option("--name", s->new_office.name, "Office name")->required();
  office_add->add_option("--kind", s->new_office.kind, "dinas, uptd_ppa, kelurahan, mitra or pusat")->required();
  office_add->add_option("--region", s->new_office.region, "Kode wilayah BPS: 2, 4, 7 atau 10 angka (mis. 32, 3276)");
  office_add->add_option("--parent", s->new_office.parent, "Code of the parent office");
  office_add->callback([&ctx, s] { ctx.action = [&ctx, s] { return cmd_office_add(ctx, s->new_office); }; });
  CLI::App* office_list = office->add_subcommand("list", "List offices");
  ctx.add_common(office_list);
  office_list->add_flag("--json", s->json, "Print JSON");
  office_list->callback([&ctx, s] { ctx.action = [&ctx, s] { return cmd_office_list(ctx, s->json); }; });

  CLI::App* enroll = app.add_subcommand("enroll", "Issue a one-time enrollment code; prints it on the last line");
  ctx.add_common(enroll);
  enroll->add_option("--office", s->enroll_request.office, "Office code")->required();
  enroll->add_option("--user", s->enroll_request.user, "User name")->required();
  enroll->add_option("--role", s->enroll_request.role,
                     "operator, pendamping, supervisor, kepala, petugas_rumah_aman, analis or admin")
      ->required();
  enroll->add_flag("--shelter", s->enroll_request.shelter, "Grant shelter (rumah aman) clearance");
  enroll->add_option("--days", s->enroll_request.days, "Days the code stays valid (default 14)");
  enroll->callback([&ctx, s] { ctx.action = [&ctx, s] { return cmd_enroll(ctx, s->enroll_request); }; });
}

}  // namespace teduh::server::cli
