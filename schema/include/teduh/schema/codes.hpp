#pragma once
// Indonesian code lists with their labels (DESIGN.md section 3, SCHEMA.md).
// Codes are stored and synced; labels are shown. A code, once published, is never
// renamed or reused for another meaning.
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace teduh::schema {

struct Code {
  std::string_view code;   // e.g. "fisik"
  std::string_view label;  // e.g. "Kekerasan fisik"
};

struct CodeSet {
  std::string_view name;  // e.g. "bentuk_kekerasan"
  std::span<const Code> codes;
  [[nodiscard]] bool contains(std::string_view code) const;
  [[nodiscard]] std::optional<std::string_view> label(std::string_view code) const;
};

// Known code sets by name; nullptr when unknown. Names used by the field specs:
// saluran (channel), bentuk_kekerasan (forms), tempat_kejadian (place), status_kasus,
// jenis_kelamin (L, P), peran (korban, pelapor, terlapor), hubungan (relationship),
// jenis_layanan (service kinds), status_rujukan, pemberi_persetujuan (korban, wali,
// pengganti), lingkup_persetujuan (layanan, rujukan, pelaporan_agregat), jenis_kantor
// (dinas, uptd_ppa, kelurahan, mitra, pusat), peran_pengguna (operator, pendamping,
// supervisor, kepala, petugas_rumah_aman, analis, admin), pendidikan, tingkat_risiko
// (rendah, sedang, tinggi), aksi_audit (dibuat, diubah, dilihat, diekspor, dirujuk,
// diselesaikan, dipindahkan), status_alih_kelola (diajukan, diterima, ditolak),
// disabilitas (tidak, fisik, intelektual, mental, sensorik, ganda).
// Codes are compared exactly (case-sensitive); validate_field() accepts any case.
const CodeSet* find_code_set(std::string_view name);
std::span<const CodeSet> all_code_sets();

}  // namespace teduh::schema
