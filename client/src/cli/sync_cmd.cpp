// teduh sync: exchange commits with the server (client/sync_client.hpp) and say what happened.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <set>

#include "context.hpp"
#include "teduh/client/compartment.hpp"
#include "teduh/client/sync_client.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/sync/hlc.hpp"

namespace teduh::client::cli {

using nlohmann::json;

void add_sync_command(CliContext& ctx, CLI::App& app) {
  auto* sync_cmd = app.add_subcommand(
      "sync", "Exchange commits with the server: push local work, pull the rest");
  ctx.add_store(sync_cmd);
  ctx.add_json(sync_cmd);
  sync_cmd->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<int> {
      auto store = TEDUH_TRY(ctx.open_store());
      SyncOptions options = sync_options_from_environment();
      std::uint64_t last_shown = 0;
      options.progress = [&](std::uint64_t pushed, std::uint64_t pulled) {
        // A progress line when a sync moves many commits.
        if (pushed + pulled >= last_shown + 5000) {
          last_shown = pushed + pulled;
          std::cerr << "sync: pushed " << pushed << ", pulled " << pulled << " so far...\n";
        }
      };
      // What waits for a person before and after, to say what this sync brought. A device
      // that may not read cases (a central office's) has nothing to answer. Late deadlines
      // read every case: only after a sync that brought commits.
      auto attention = [&store](bool with_deadlines) -> std::optional<Workflow::Attention> {
        auto a = Workflow(store).attention(sync::system_now_ms(), with_deadlines);
        return a ? std::optional(std::move(*a)) : std::nullopt;
      };
      const auto before = attention(false);
      auto r = TEDUH_TRY(sync_with_server(store, options));
      const auto after = attention(r.pulled > 0);
      auto added = [&](std::set<std::string> Workflow::Attention::*member) {
        std::size_t n = 0;
        for (const auto& id : (*after).*member)
          n += before && ((*before).*member).contains(id) ? 0 : 1;
        return n;
      };
      json waiting = nullptr;
      if (after) {
        waiting = json{{"referrals_to_answer", after->referrals.size()},
                       {"referrals_new", added(&Workflow::Attention::referrals)},
                       {"transfers_to_answer", after->transfers.size()},
                       {"transfers_new", added(&Workflow::Attention::transfers)},
                       {"late", after->late ? json(*after->late) : json(nullptr)},
                       {"diversions", after->late ? json(after->diversions.size()) : json(nullptr)}};
      }
      // Beranda of the office app shows when the last sync ended and what it brought.
      if (auto recorded = record_last_sync(store, r, sync::system_now_ms()); !recorded) {
        std::cerr << "teduh: catatan sinkronisasi terakhir tidak tersimpan: "
                  << recorded.error().message << "\n";
      }
      if (ctx.json_output) {
        json doc = sync_report_json(r);
        doc["attention"] = waiting;
        print_json(doc);
      } else {
        if (r.registered_now) std::cout << "This device is now registered with the server.\n";
        if (r.server_lost) {
          std::cout << "Warning: the server no longer holds " << r.server_lost
                    << " commit(s) of this device that it had confirmed (its store was rolled back or "
                       "restored); they were sent again. Tell the server's administrator.\n";
        }
        std::cout << "Pushed " << r.pushed << ", pulled " << r.pulled << ", new conflicts "
                  << r.conflicts_new << " (" << r.conflicts_total << " in all"
                  << (r.conflicts_total ? ": see `teduh conflicts`" : "") << ").\n";
        if (r.restored) {
          std::cout << "This store was restored from an older copy: the server already held changes of this "
                       "device that the copy lacked.";
          if (r.reissued)
            std::cout << " " << r.reissued << " change(s) made here since were numbered anew and sent.";
          if (r.recovered)
            std::cout << " " << r.recovered << " earlier change(s) of this device were fetched back from the server.";
          std::cout << " Nothing was lost.\n";
        }
        for (const auto& line : r.rejections)
          std::cout << "Refused by the server: " << line << "\n";
        if (r.projections)
          std::cout << "Received de-identified report data for " << r.projections
                    << " case(s) (see `teduh report` and `teduh duplicates`).\n";
        if (r.purged)
          std::cout << r.purged << " case(s) removed from this device: this office no longer holds "
                    << "them (consent withdrawn, referral ended or case moved).\n";
        if (r.shelter_keys)
          std::cout << "Received " << r.shelter_keys << " new shelter key generation(s).\n";
        if (!r.shelter_notice.empty()) std::cout << r.shelter_notice << "\n";
        if (store.identity().grant.shelter_clearance) {
          auto gen = current_generation(store, kShelterCompartment);
          if (gen && !*gen) std::cout << kNoShelterKeyYet << "\n";
        }
        if (after) {
          // What needs a person now, with what this sync brought (issue 15).
          auto say = [](std::size_t all, std::size_t count_new, const char* what, const char* where) {
            if (all == 0) return;
            std::cout << "Perlu tindakan: " << all << " " << what;
            if (count_new) std::cout << " (" << count_new << " baru)";
            std::cout << "; lihat `" << where << "`.\n";
          };
          say(after->referrals.size(), added(&Workflow::Attention::referrals),
              "rujukan menunggu jawaban kantor ini", "teduh referral list");
          say(after->transfers.size(), added(&Workflow::Attention::transfers),
              "alih kelola menunggu jawaban kantor ini", "teduh referral list");
          if (after->late) say(*after->late, 0, "tenggat sudah lewat", "teduh due");
          say(after->diversions.size(), 0, "kasus perlu diversi (korban di bawah 12 tahun, terlapor anak)",
              "teduh due");
        }
        for (const auto& line : r.skipped)
          std::cout << "Not applied (it writes into another case): " << line << "\n";
        for (const auto& d : r.clock_ahead) {
          std::cout << "Warning: device " << d.substr(0, 8)
                    << " writes with a clock far ahead of this computer's; its edits were kept, "
                       "but ask that "
                       "office to check its date and time.\n";
        }
      }
      return r.rejected ? 2 : 0;
    };
  });
}

}  // namespace teduh::client::cli
