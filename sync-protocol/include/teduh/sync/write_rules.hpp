#pragma once
// Which actions of the permission table a commit performs (PERMISSIONS.md section 3,
// PROTOCOL.md section 5B rule 5). The ONE classification of writes: the client runs it on
// every commit it is about to sign (client/src/workflow.cpp), the server on every commit
// pushed to it (server/src/access_policy.cpp), so a rule is never written twice.
//
// The classification reads the commit alone (plus whether its scope is new): each version
// maps to the action that its entity, field and value stand for, and a version that
// supersedes two or more versions settles a conflict. Rules that depend on the case's
// state (who owns it, which office a referral or transfer names) are the server's scope
// rules (server/src/scope_access.cpp), applied after these.
//
//   version (in a case scope)                            action
//   any, when the commit creates the case                buat_kasus
//   audit                                                lihat_kasus (the record of an access)
//   kasus.status = terminasi                             tutup_kasus
//   penempatan (any field)                               tempatkan
//   rujukan.status = diterima | ditolak                  jawab_rujukan
//   alih_kelola.status = diterima | ditolak              jawab_rujukan
//   rujukan.status = selesai, rujukan._deleted = 1       tarik_persetujuan
//   persetujuan.withdrawn_at set, persetujuan._deleted=1 tarik_persetujuan
//   any other field of rujukan, persetujuan, alih_kelola rujuk
//   rencana, pemantauan, diversi (any field)             rencana_pemantauan
//   any other field of kasus, orang, peran, layanan      ubah_kasus
//   supersedes 2 or more versions (any entity)           selesaikan_konflik, as well
//   version (in a shelter scope)                         kelola_rumah_aman
// Office scopes carry no action of the table (the office rule is the scope rule).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/schema/permissions.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::sync {

// One action a commit performs, with the first version that performs it and what that
// version does, in words without values (e.g. "closing the case (kasus.status)").
struct WriteAction {
  schema::Action action;
  std::size_t version = 0;
  std::string what;
};

// The actions the commit performs, each once, in the order of their first version.
// scope_is_new: no commit has written the scope before (the commit creates it).
std::vector<WriteAction> write_actions(const Commit& commit, bool scope_is_new);

// nullopt when a device of `role`, in an office of `office_kind`, with shelter clearance
// `cleared` (enrolled with it AND holding the compartment key), may perform every action
// of the commit; else one sentence naming the action, its version and the role (no field
// values), for the refusal and the log.
std::optional<std::string> write_refusal(const Commit& commit, bool scope_is_new, std::string_view role,
                                         std::string_view office_kind, bool cleared);

}  // namespace teduh::sync
