// Indonesian code lists (SCHEMA.md "Code sets"). Codes are stored and synced, labels are
// shown. A published code is never renamed or reused: retire one by leaving it here and
// no longer offering it in the UI.
#include "teduh/schema/codes.hpp"

#include <array>

namespace teduh::schema {
namespace {

constexpr Code kSaluran[] = {
    {"datang_langsung", "Datang langsung"},
    {"telepon", "Telepon"},
    {"sms", "SMS"},
    {"whatsapp", "WhatsApp"},
    {"media_sosial", "Media sosial"},
    {"surat", "Surat"},
    {"email", "Surel (email)"},
    {"rujukan", "Rujukan dari lembaga lain"},
};

constexpr Code kBentukKekerasan[] = {
    {"fisik", "Kekerasan fisik"},
    {"psikis", "Kekerasan psikis"},
    {"seksual", "Kekerasan seksual"},
    {"eksploitasi", "Eksploitasi"},
    {"trafficking", "Perdagangan orang (TPPO)"},
    {"penelantaran", "Penelantaran"},
    {"lainnya", "Lainnya"},
};

constexpr Code kTempatKejadian[] = {
    {"rumah_tangga", "Rumah tangga"},     {"sekolah", "Sekolah"}, {"tempat_kerja", "Tempat kerja"},
    {"fasilitas_umum", "Fasilitas umum"}, {"lainnya", "Lainnya"},
};

constexpr Code kStatusKasus[] = {
    {"diterima", "Diterima"},
    {"asesmen", "Asesmen"},
    {"penanganan", "Penanganan"},
    {"pemantauan", "Pemantauan"},
    {"terminasi", "Terminasi (kasus ditutup)"},
    {"dirujuk", "Dirujuk (diserahkan ke kantor lain)"},
};

constexpr Code kJenisKelamin[] = {
    {"L", "Laki-laki"},
    {"P", "Perempuan"},
};

constexpr Code kPeran[] = {
    {"korban", "Korban"},
    {"pelapor", "Pelapor"},
    {"terlapor", "Terlapor (terduga pelaku)"},
};

// Relationship of a person to the victim, after SIMFONI PPA's list.
constexpr Code kHubungan[] = {
    {"diri_sendiri", "Diri sendiri (korban sendiri)"},
    {"orang_tua", "Orang tua"},
    {"orang_tua_tiri", "Orang tua tiri"},
    {"suami_istri", "Suami/istri"},
    {"mantan_pasangan", "Mantan suami/istri/pacar"},
    {"pacar", "Pacar/teman dekat"},
    {"keluarga", "Keluarga/saudara"},
    {"pengasuh", "Pengasuh"},
    {"teman", "Teman"},
    {"tetangga", "Tetangga"},
    {"guru", "Guru/pendidik"},
    {"majikan", "Majikan"},
    {"rekan_kerja", "Rekan kerja"},
    {"orang_lain", "Orang lain (tidak dikenal)"},
    {"tidak_diketahui", "Tidak diketahui"},
};

constexpr Code kJenisLayanan[] = {
    {"pengaduan", "Pengaduan"},
    {"penjangkauan", "Penjangkauan korban"},
    {"konseling", "Konseling/pendampingan psikologis"},
    {"pendampingan_hukum", "Pendampingan hukum"},
    {"mediasi", "Mediasi"},
    {"kesehatan_visum", "Layanan kesehatan/visum"},
    {"kunjungan_rumah", "Kunjungan rumah"},
    {"klarifikasi", "Klarifikasi"},
    {"rumah_aman", "Penempatan di rumah aman"},
    {"pemulangan", "Pemulangan"},
    {"rehabilitasi_sosial", "Rehabilitasi sosial"},
    {"reintegrasi", "Reintegrasi sosial"},
    {"pemberdayaan_ekonomi", "Pemberdayaan ekonomi"},
    {"diversi", "Diversi (anak berhadapan dengan hukum)"},
    {"asesmen_awal", "Asesmen awal"},
};

constexpr Code kJenisPemantauan[] = {
    {"berkala", "Pemantauan berkala"},
    {"evaluasi_pascaterminasi", "Evaluasi setelah terminasi"},
};

constexpr Code kHasilDiversi[] = {
    {"sepakat", "Diversi berhasil (tercapai kesepakatan)"},
    {"tidak_sepakat", "Diversi tidak berhasil (tidak ada kesepakatan)"},
};

constexpr Code kStatusRujukan[] = {
    {"dikirim", "Dikirim"},
    {"diterima", "Diterima"},
    {"ditolak", "Ditolak"},
    {"selesai", "Selesai"},
};

constexpr Code kPemberiPersetujuan[] = {
    {"korban", "Korban"},
    {"wali", "Orang tua/wali"},
    {"pengganti", "Pengganti (wali adalah terlapor)"},
};

constexpr Code kLingkupPersetujuan[] = {
    {"layanan", "Layanan"},
    {"rujukan", "Rujukan ke kantor tertentu"},
    {"pelaporan_agregat", "Pelaporan agregat (tanpa identitas)"},
};

constexpr Code kJenisKantor[] = {
    {"dinas", "Dinas PPPA (DP3A)"}, {"uptd_ppa", "UPTD PPA"},  {"kelurahan", "Pos kelurahan"},
    {"mitra", "Kantor mitra"},      {"pusat", "Kantor pusat"},
};

constexpr Code kPeranPengguna[] = {
    {"operator", "Operator pengaduan (hotline)"},
    {"pendamping", "Pendamping (pekerja kasus)"},
    {"supervisor", "Supervisor (Kasi/Kabid)"},
    {"kepala", "Kepala (Kadis/Kepala UPTD)"},
    {"petugas_rumah_aman", "Petugas rumah aman"},
    {"analis", "Analis data"},
    {"admin", "Administrator"},
};

constexpr Code kPendidikan[] = {
    {"tidak_sekolah", "Tidak/belum sekolah"},
    {"sd", "SD/sederajat"},
    {"smp", "SMP/sederajat"},
    {"sma", "SMA/SMK/sederajat"},
    {"diploma", "Diploma (D1-D4)"},
    {"sarjana", "Sarjana (S1 ke atas)"},
    {"tidak_diketahui", "Tidak diketahui"},
};

constexpr Code kTingkatRisiko[] = {
    {"rendah", "Rendah"},
    {"sedang", "Sedang"},
    {"tinggi", "Tinggi"},
};

constexpr Code kAksiAudit[] = {
    {"dibuat", "Dibuat"},
    {"diubah", "Diubah"},
    {"dilihat", "Dilihat"},
    {"diekspor", "Diekspor"},
    {"dirujuk", "Dirujuk"},
    {"diselesaikan", "Diselesaikan"},
    {"dipindahkan", "Dipindahkan (alih kelola)"},
};

constexpr Code kStatusAlihKelola[] = {
    {"diajukan", "Diajukan"},
    {"diterima", "Diterima"},
    {"ditolak", "Ditolak"},
};

// Kinds of disability after UU 8/2016 tentang Penyandang Disabilitas, pasal 4.
constexpr Code kDisabilitas[] = {
    {"tidak", "Tidak ada disabilitas"},         {"fisik", "Disabilitas fisik"},
    {"intelektual", "Disabilitas intelektual"}, {"mental", "Disabilitas mental"},
    {"sensorik", "Disabilitas sensorik"},       {"ganda", "Disabilitas ganda/multi"},
};

constexpr std::array kCodeSets = {
    CodeSet{"saluran", kSaluran},
    CodeSet{"bentuk_kekerasan", kBentukKekerasan},
    CodeSet{"tempat_kejadian", kTempatKejadian},
    CodeSet{"status_kasus", kStatusKasus},
    CodeSet{"jenis_kelamin", kJenisKelamin},
    CodeSet{"peran", kPeran},
    CodeSet{"hubungan", kHubungan},
    CodeSet{"jenis_layanan", kJenisLayanan},
    CodeSet{"status_rujukan", kStatusRujukan},
    CodeSet{"pemberi_persetujuan", kPemberiPersetujuan},
    CodeSet{"lingkup_persetujuan", kLingkupPersetujuan},
    CodeSet{"jenis_kantor", kJenisKantor},
    CodeSet{"peran_pengguna", kPeranPengguna},
    CodeSet{"pendidikan", kPendidikan},
    CodeSet{"tingkat_risiko", kTingkatRisiko},
    CodeSet{"aksi_audit", kAksiAudit},
    CodeSet{"status_alih_kelola", kStatusAlihKelola},
    CodeSet{"disabilitas", kDisabilitas},
    CodeSet{"jenis_pemantauan", kJenisPemantauan},
    CodeSet{"hasil_diversi", kHasilDiversi},
};

}  // namespace

bool CodeSet::contains(std::string_view code) const { return label(code).has_value(); }

std::optional<std::string_view> CodeSet::label(std::string_view code) const {
  for (const Code& c : codes) {
    if (c.code == code) return c.label;
  }
  return std::nullopt;
}

const CodeSet* find_code_set(std::string_view name) {
  for (const CodeSet& set : kCodeSets) {
    if (set.name == name) return &set;
  }
  return nullptr;
}

std::span<const CodeSet> all_code_sets() { return kCodeSets; }

}  // namespace teduh::schema
