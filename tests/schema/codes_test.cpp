#include "teduh/schema/codes.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace teduh::schema {
namespace {

TEST(Codes, EveryCodeSetHasUniqueCodesWithLabels) {
  std::set<std::string_view> names;
  for (const CodeSet& set : all_code_sets()) {
    SCOPED_TRACE(std::string(set.name));
    EXPECT_TRUE(names.insert(set.name).second) << "code set listed twice";
    EXPECT_FALSE(set.codes.empty());
    std::set<std::string_view> codes;
    for (const Code& code : set.codes) {
      EXPECT_TRUE(codes.insert(code.code).second) << "code listed twice: " << code.code;
      EXPECT_FALSE(code.label.empty()) << code.code;
    }
  }
}

TEST(Codes, CodesAreLowercaseSnakeCaseExceptSex) {
  for (const CodeSet& set : all_code_sets()) {
    if (set.name == "jenis_kelamin") continue;
    for (const Code& code : set.codes) {
      for (char c : code.code) {
        EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            << set.name << "." << code.code;
      }
    }
  }
}

TEST(Codes, DesignedCodeSetsHoldTheirCodes) {
  const std::pair<std::string_view, std::vector<std::string_view>> expected[] = {
      {"saluran",
       {"datang_langsung", "telepon", "sms", "whatsapp", "media_sosial", "surat", "email",
        "rujukan"}},
      {"bentuk_kekerasan",
       {"fisik", "psikis", "seksual", "eksploitasi", "trafficking", "penelantaran", "lainnya"}},
      {"tempat_kejadian", {"rumah_tangga", "sekolah", "tempat_kerja", "fasilitas_umum", "lainnya"}},
      {"status_kasus", {"diterima", "asesmen", "penanganan", "pemantauan", "terminasi", "dirujuk"}},
      {"jenis_kelamin", {"L", "P"}},
      {"peran", {"korban", "pelapor", "terlapor"}},
      {"hubungan",
       {"orang_tua", "suami_istri", "pacar", "keluarga", "teman", "tetangga", "guru", "majikan",
        "rekan_kerja", "orang_lain", "tidak_diketahui"}},
      {"jenis_layanan",
       {"pengaduan", "penjangkauan", "konseling", "pendampingan_hukum", "mediasi",
        "kesehatan_visum", "kunjungan_rumah", "klarifikasi", "rumah_aman", "pemulangan",
        "rehabilitasi_sosial", "reintegrasi", "pemberdayaan_ekonomi", "diversi"}},
      {"status_rujukan", {"dikirim", "diterima", "ditolak", "selesai"}},
      {"pemberi_persetujuan", {"korban", "wali", "pengganti"}},
      {"lingkup_persetujuan", {"layanan", "rujukan", "pelaporan_agregat"}},
      {"jenis_kantor", {"dinas", "uptd_ppa", "kelurahan", "mitra", "pusat"}},
      {"peran_pengguna",
       {"operator", "pendamping", "supervisor", "kepala", "petugas_rumah_aman", "analis", "admin"}},
      {"pendidikan",
       {"tidak_sekolah", "sd", "smp", "sma", "diploma", "sarjana", "tidak_diketahui"}},
      {"tingkat_risiko", {"rendah", "sedang", "tinggi"}},
      {"aksi_audit",
       {"dibuat", "diubah", "dilihat", "diekspor", "dirujuk", "diselesaikan", "dipindahkan"}},
      {"status_alih_kelola", {"diajukan", "diterima", "ditolak"}},
      {"disabilitas", {"tidak", "fisik", "intelektual", "mental", "sensorik", "ganda"}},
  };
  for (const auto& [name, codes] : expected) {
    SCOPED_TRACE(std::string(name));
    const CodeSet* set = find_code_set(name);
    ASSERT_NE(set, nullptr);
    for (std::string_view code : codes) EXPECT_TRUE(set->contains(code)) << code;
  }
}

TEST(Codes, LabelIsTheIndonesianWordsForACode) {
  const CodeSet* set = find_code_set("jenis_kelamin");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->label("P"), "Perempuan");
  EXPECT_EQ(set->label("L"), "Laki-laki");
  EXPECT_EQ(find_code_set("bentuk_kekerasan")->label("fisik"), "Kekerasan fisik");
}

TEST(Codes, UnknownCodeOrSetIsNotFound) {
  EXPECT_EQ(find_code_set("tidak_ada"), nullptr);
  const CodeSet* set = find_code_set("bentuk_kekerasan");
  ASSERT_NE(set, nullptr);
  EXPECT_FALSE(set->contains("pukul"));
  EXPECT_FALSE(set->label("pukul").has_value());
  EXPECT_FALSE(set->contains("FISIK")) << "stored codes compare exactly";
}

}  // namespace
}  // namespace teduh::schema
