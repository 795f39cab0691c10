#pragma once
// Who may do what: the permission table (PERMISSIONS.md is the same table for people).
//
// One table, read by the client (for the user of a device, before anything is written)
// and by the server (for every pushed commit and every pull). A device is enrolled for
// one user with one role (peran_pengguna) in one office of one kind (jenis_kantor);
// shelter clearance is a separate grant on the device (teduhd enroll --shelter, then
// teduhd device clear).
//
// The table says what a ROLE may do. Which CASES it may do it to is the scope rule,
// enforced by the server's AccessPolicy and written in PERMISSIONS.md: an office sees
// the cases it owns and the cases referred to it with the victim's consent; the central
// office (pusat) receives no case at all, only de-identified reports.
#include <optional>
#include <string>
#include <span>
#include <string_view>

namespace teduh::schema {

enum class Action {
  lihat_kasus,          // open a case: list, show, history, conflicts
  buat_kasus,           // record a new complaint (case, victim, first service)
  ubah_kasus,           // change fields, add persons and services, remove an entity
  tutup_kasus,          // terminate a case (status terminasi)
  rujuk,                // record consent and refer a case, or propose a transfer
  jawab_rujukan,        // accept or decline a referral or a transfer sent to the office
  tarik_persetujuan,    // record that the victim withdrew a consent, end a referral
  selesaikan_konflik,   // resolve a conflict between concurrent edits
  kelola_rumah_aman,    // record a shelter and its secret details (needs clearance)
  tempatkan,            // place a victim in a shelter (needs clearance)
  laporan,              // aggregate, de-identified reports
  lihat_audit,          // read the audit trail of access
  rencana_pemantauan,   // write the case plan, monitoring visits and a diversion's agreement
};

struct ActionSpec {
  Action action;
  std::string_view code;    // stable name, as in PERMISSIONS.md
  std::string_view label;   // Indonesian, shown in refusals
  bool needs_clearance;     // the device must hold shelter clearance as well
  bool writes_cases;        // the action writes into a case scope
};

std::span<const ActionSpec> all_actions();
const ActionSpec& action_spec(Action action);

// Does the table let this role do this action? Unknown roles may do nothing.
bool role_may(std::string_view role, Action action);

// May a device of this role, in an office of this kind, with this clearance, do the
// action? Adds the office-kind rule (an office of kind "pusat" never reads or writes
// cases) and the clearance rule to role_may(). Returns nullopt when allowed, else one
// sentence in Indonesian-English saying why not (naming no record).
std::optional<std::string> refusal(std::string_view role, std::string_view office_kind, bool cleared,
                                   Action action);

// Roles that may read case scopes at all (the server's pull filter uses it).
bool role_reads_cases(std::string_view role, std::string_view office_kind);
// Roles that may write into case scopes at all (the server's push filter uses it).
bool role_writes_cases(std::string_view role, std::string_view office_kind);

}  // namespace teduh::schema
