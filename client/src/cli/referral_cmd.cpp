// teduh refer, teduh referral list | accept | decline | answer | end, teduh consent withdraw,
// teduh transfer [accept | decline].
#include <iostream>

#include "context.hpp"

namespace teduh::client::cli {
namespace {

// A command that acts on one referral, transfer or consent named by its id.
void record_action(CliContext& ctx, CLI::App* cmd, const std::string& what,
                   const std::function<Result<void>(Workflow&, const sync::EntityId&)>& act,
                   const std::string& done) {
  auto record_ref = std::make_shared<std::string>();
  ctx.add_store(cmd);
  cmd->add_option("ID", *record_ref, "The " + what + "'s id (see `teduh referral list`)")->required();
  cmd->callback([&ctx, record_ref, what, act, done] {
    ctx.action = [&ctx, record_ref, what, act, done]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      auto id = sync::Id128::from_hex(*record_ref);
      if (!id) return fail(Errc::usage, "'" + *record_ref + "' is not a " + what + " id (32 hex digits).");
      Workflow wf(store);
      TEDUH_TRY(act(wf, *id));
      std::cout << done << "\n";
      return 0;
    };
  });
}

}  // namespace

void add_refer_command(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string case_ref, reason, to, consent, consent_by;
    bool external = false;
  };
  auto s = std::make_shared<State>();
  auto* refer = app.add_subcommand(
      "refer", "Refer a case to another office or an external partner, with consent");
  ctx.add_store(refer);
  refer->add_option("--case", s->case_ref, "Case id or number")->required();
  refer->add_option("--to", s->to, "Receiving office code (or partner name with --external)")
      ->required();
  refer->add_option("--reason", s->reason, "Why the case is referred")->required();
  refer
      ->add_option("--consent", s->consent,
                   "Did the victim (or guardian) consent to this referral? yes|no")
      ->required()
      ->check(CLI::IsMember({"yes", "no"}));
  refer->add_option("--consent-by", s->consent_by,
                    "Who consented: korban, wali or pengganti (default korban)");
  refer->add_flag("--external", s->external,
                  "The receiver is an external partner (police, hospital), not a Teduh office");
  refer->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> Result<int> {
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto rid = TEDUH_TRY(wf.refer(*id, s->to, s->reason, s->consent == "yes", s->consent_by, s->external));
      std::cout << "Referral recorded (dikirim); it reaches " << s->to << " when this device syncs.\n"
                << rid.hex() << "\n";
      return 0;
    };
  });
}

void add_referral_commands(CliContext& ctx, CLI::App& app) {
  auto* referral = app.add_subcommand("referral", "Referrals and transfers sent to or from this office");
  referral->require_subcommand(1);
  auto* referral_list = referral->add_subcommand("list", "Referrals and transfers of the cases on this device");
  ctx.add_store(referral_list);
  ctx.add_json(referral_list);
  referral_list->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      Workflow wf(store);
      auto doc = TEDUH_TRY(wf.referrals());
      if (ctx.json_output) {
        print_json(doc);
      } else if (doc.empty()) {
        std::cout << "No referrals or transfers.\n";
      } else {
        for (const auto& r : doc) {
          std::cout << r["id"].get<std::string>() << "  " << r["kind"].get<std::string>() << "  "
                    << r["case_number"].get<std::string>() << "  -> " << r["to_office"].get<std::string>()
                    << "  " << r["status"].get<std::string>() << "\n";
        }
      }
      return 0;
    };
  });
  record_action(ctx, referral->add_subcommand("accept", "Accept a referral sent to this office"), "referral",
                [](Workflow& wf, const sync::EntityId& id) { return wf.respond_referral(id, true); },
                "Referral accepted (diterima); the sending office sees it after both sync.");
  record_action(ctx, referral->add_subcommand("decline", "Decline a referral sent to this office"), "referral",
                [](Workflow& wf, const sync::EntityId& id) { return wf.respond_referral(id, false); },
                "Referral declined (ditolak); this office no longer receives the case after it syncs.");
  struct Answer {
    std::string referral, status, date, notes;
  };
  auto a = std::make_shared<Answer>();
  auto* answer = referral->add_subcommand(
      "answer", "Catat jawaban mitra di luar Teduh (polisi, rumah sakit) atas rujukan yang dikirim kantor ini");
  ctx.add_store(answer);
  answer->add_option("ID", a->referral, "Id rujukan (lihat `teduh referral list`)")->required();
  answer->add_option("--status", a->status, "Jawaban mitra: diterima, ditolak atau selesai")
      ->required()
      ->check(CLI::IsMember({"diterima", "ditolak", "selesai"}));
  answer->add_option("--date", a->date, "Tanggal jawaban, YYYY-MM-DD (bawaan: hari ini)");
  answer->add_option("--notes", a->notes, "Catatan jawaban (siapa menjawab, nomor surat, ...)");
  answer->callback([&ctx, a] {
    ctx.action = [&ctx, a]() -> Result<int> {
      auto id = sync::Id128::from_hex(a->referral);
      if (!id) return fail(Errc::usage, "'" + a->referral + "' bukan id rujukan (32 digit heksadesimal).");
      auto store = TEDUH_TRY(ctx.open_store());
      Workflow wf(store);
      TEDUH_TRY(wf.record_partner_answer(*id, a->status, a->date, a->notes));
      std::cout << "Jawaban mitra dicatat (" << a->status << "); kantor lain melihatnya setelah sinkronisasi.\n";
      return 0;
    };
  });
  record_action(ctx, referral->add_subcommand("end", "End a referral: the receiving office loses the case"),
                "referral", [](Workflow& wf, const sync::EntityId& id) { return wf.end_referral(id); },
                "Referral ended (selesai); the receiving office loses the case at its next sync.");
}

void add_consent_commands(CliContext& ctx, CLI::App& app) {
  auto* consent_cmd = app.add_subcommand("consent", "Consents recorded in cases");
  consent_cmd->require_subcommand(1);
  record_action(ctx, consent_cmd->add_subcommand("withdraw", "Record that the victim withdrew a consent"),
                "consent", [](Workflow& wf, const sync::EntityId& id) { return wf.withdraw_consent(id); },
                "Consent withdrawn; offices that held the case through it lose it at their next sync.");
}

void add_transfer_commands(CliContext& ctx, CLI::App& app) {
  struct State {
    std::string case_ref, transfer_to, transfer_consent, transfer_consent_by;
  };
  auto s = std::make_shared<State>();
  // transfer [--case ID --to OFFICE --consent yes|no] | accept ID | decline ID
  auto* transfer = app.add_subcommand(
      "transfer", "Move a case to another office (alih kelola): ownership moves when it accepts");
  ctx.add_store(transfer);
  transfer->require_subcommand(0, 1);
  transfer->add_option("--case", s->case_ref, "Case id or number");
  transfer->add_option("--to", s->transfer_to, "The office code that should take over the case");
  transfer->add_option("--consent", s->transfer_consent, "Did the victim (or guardian) consent? yes|no")
      ->check(CLI::IsMember({"yes", "no"}));
  transfer->add_option("--consent-by", s->transfer_consent_by, "Who consented: korban, wali or pengganti");
  auto* transfer_accept = transfer->add_subcommand("accept", "Accept a case moved to this office");
  auto* transfer_decline = transfer->add_subcommand("decline", "Decline a case moved to this office");
  record_action(ctx, transfer_accept, "transfer",
                [](Workflow& wf, const sync::EntityId& id) { return wf.respond_transfer(id, true); },
                "Transfer accepted: this office now handles the case.");
  record_action(ctx, transfer_decline, "transfer",
                [](Workflow& wf, const sync::EntityId& id) { return wf.respond_transfer(id, false); },
                "Transfer declined (ditolak).");
  transfer->callback([&ctx, s, transfer] {
    if (!transfer->get_subcommands().empty()) return;  // accept or decline set the action
    ctx.action = [&ctx, s]() -> Result<int> {
      if (s->case_ref.empty() || s->transfer_to.empty() || s->transfer_consent.empty()) {
        return fail(Errc::usage, "teduh transfer needs --case, --to and --consent (or: accept ID, decline ID).");
      }
      auto opened = TEDUH_TRY(ctx.open_case(s->case_ref));
      auto& [store, id] = opened;
      Workflow wf(*store);
      auto tid = TEDUH_TRY(wf.transfer(*id, s->transfer_to, s->transfer_consent == "yes", s->transfer_consent_by));
      std::cout << "Transfer proposed (diajukan); " << s->transfer_to
                << " can accept it after both offices sync.\n"
                << tid.hex() << "\n";
      return 0;
    };
  });
}

}  // namespace teduh::client::cli
