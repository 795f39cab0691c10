#include "teduh/schema/permissions.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace teduh::schema {
namespace {

constexpr std::array kActions = {
    ActionSpec{Action::lihat_kasus, "lihat_kasus", "membuka kasus", false, false},
    ActionSpec{Action::buat_kasus, "buat_kasus", "mencatat kasus baru", false, true},
    ActionSpec{Action::ubah_kasus, "ubah_kasus", "mengubah kasus", false, true},
    ActionSpec{Action::tutup_kasus, "tutup_kasus", "menutup (terminasi) kasus", false, true},
    ActionSpec{Action::rujuk, "rujuk", "merujuk atau mengalihkelolakan kasus", false, true},
    ActionSpec{Action::jawab_rujukan, "jawab_rujukan", "menerima atau menolak rujukan", false, true},
    ActionSpec{Action::tarik_persetujuan, "tarik_persetujuan", "mencatat penarikan persetujuan", false, true},
    ActionSpec{Action::selesaikan_konflik, "selesaikan_konflik", "menyelesaikan konflik", false, true},
    ActionSpec{Action::kelola_rumah_aman, "kelola_rumah_aman", "mencatat rumah aman", true, false},
    ActionSpec{Action::tempatkan, "tempatkan", "menempatkan korban di rumah aman", true, true},
    ActionSpec{Action::laporan, "laporan", "membuat laporan agregat", false, false},
    ActionSpec{Action::lihat_audit, "lihat_audit", "membaca catatan audit", false, false},
    ActionSpec{Action::rencana_pemantauan, "rencana_pemantauan",
               "menyusun rencana intervensi, mencatat pemantauan atau kesepakatan diversi", false, true},
};

// The table. Rows: roles (peran_pengguna); columns: actions, in the order of kActions.
// PERMISSIONS.md prints the same table; a test keeps the two in step.
struct RoleRow {
  std::string_view role;
  std::array<bool, kActions.size()> may;
};
// Y and n, not kYes and kNo: one letter each keeps the table's columns under their headings.
constexpr bool Y = true;   // NOLINT(readability-identifier-naming)
constexpr bool n = false;  // NOLINT(readability-identifier-naming)
constexpr std::array kTable = {
    //                    lihat buat  ubah  tutup rujuk jawab tarik konfl kelola temp lapor audit renc
    RoleRow{"operator",           {Y, Y, Y, n, Y, n, Y, n, n, n, n, n, n}},
    RoleRow{"pendamping",         {Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, n, Y}},
    RoleRow{"supervisor",         {Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y}},
    RoleRow{"kepala",             {Y, n, Y, Y, Y, Y, Y, Y, n, n, Y, Y, n}},
    RoleRow{"petugas_rumah_aman", {Y, Y, Y, n, n, n, n, n, Y, Y, n, n, n}},
    RoleRow{"analis",             {n, n, n, n, n, n, n, n, n, n, Y, n, n}},
    RoleRow{"admin",              {n, n, n, n, n, n, n, n, n, n, n, Y, n}},
};

std::size_t index_of(Action action) { return static_cast<std::size_t>(action); }

}  // namespace

std::span<const ActionSpec> all_actions() { return kActions; }

const ActionSpec& action_spec(Action action) {
  const ActionSpec& spec = kActions.at(index_of(action));
  if (spec.action != action) std::abort();  // kActions must follow the enum's order
  return spec;
}

bool role_may(std::string_view role, Action action) {
  for (const RoleRow& row : kTable) {
    if (row.role == role) return row.may.at(index_of(action));
  }
  return false;
}

std::optional<std::string> refusal(std::string_view role, std::string_view office_kind, bool cleared,
                                   Action action) {
  const ActionSpec& spec = action_spec(action);
  if (office_kind == "pusat" && (spec.writes_cases || action == Action::lihat_kasus ||
                                 action == Action::kelola_rumah_aman)) {
    return "The central office (pusat) works only with de-identified reports; it may not " +
           std::string(spec.label) + ".";
  }
  if (!role_may(role, action)) {
    return "The role '" + std::string(role) + "' of this device may not " + std::string(spec.label) +
           " (see PERMISSIONS.md).";
  }
  if (spec.needs_clearance && !cleared) {
    return "This device has no shelter clearance, so it may not " + std::string(spec.label) + ".";
  }
  return std::nullopt;
}

bool role_reads_cases(std::string_view role, std::string_view office_kind) {
  return !refusal(role, office_kind, true, Action::lihat_kasus);
}

bool role_writes_cases(std::string_view role, std::string_view office_kind) {
  if (office_kind == "pusat") return false;
  return std::any_of(kActions.begin(), kActions.end(),
                     [&](const ActionSpec& a) { return a.writes_cases && role_may(role, a.action); });
}

}  // namespace teduh::schema
