// Entity types and their fields (SCHEMA.md "Entities"). Field names are stored keys and
// synced: once published, a field name is never renamed or reused for another meaning.
#include "teduh/schema/entities.hpp"

#include <array>
#include <cstdlib>

namespace teduh::schema {
namespace {

using K = FieldKind;

constexpr FieldSpec text(std::string_view name, std::string_view label,
                         std::size_t max_length = 4000) {
  return FieldSpec{.name = name, .label = label, .kind = K::text, .max_length = max_length};
}
constexpr FieldSpec identifying_text(std::string_view name, std::string_view label,
                                     std::size_t max_length) {
  return FieldSpec{
      .name = name, .label = label, .kind = K::text, .identifying = true, .max_length = max_length};
}
constexpr FieldSpec of(std::string_view name, std::string_view label, FieldKind kind) {
  return FieldSpec{.name = name, .label = label, .kind = kind};
}
constexpr FieldSpec code(std::string_view name, std::string_view label, std::string_view set) {
  return FieldSpec{.name = name, .label = label, .kind = K::code, .code_set = set};
}
constexpr FieldSpec codes(std::string_view name, std::string_view label, std::string_view set) {
  return FieldSpec{.name = name, .label = label, .kind = K::codes, .code_set = set};
}
constexpr FieldSpec secret(std::string_view name, std::string_view label) {
  // Ciphertext from the shelter compartment; its size is bounded by the plaintext's.
  return FieldSpec{.name = name,
                   .label = label,
                   .kind = K::secret,
                   .identifying = true,
                   .secret = true,
                   .max_length = 16000};
}

// Short identifiers (office codes, user names) and names of places and people.
constexpr std::size_t kShort = 100;
constexpr std::size_t kName = 200;
constexpr std::size_t kLong = 20000;  // chronologies and service notes run to pages

constexpr FieldSpec kOfficeFields[] = {
    text("code", "Kode kantor", kShort),          text("name", "Nama kantor", kName),
    code("kind", "Jenis kantor", "jenis_kantor"), text("region", "Kode wilayah (BPS)", kShort),
    text("parent", "Kantor induk", kShort),
};

constexpr FieldSpec kKasusFields[] = {
    text("number", "Nomor kasus", kShort),
    of("received_at", "Waktu pengaduan diterima", K::datetime),
    code("channel", "Saluran pengaduan", "saluran"),
    text("summary", "Ringkasan kasus"),
    identifying_text("chronology", "Kronologi kejadian", kLong),
    codes("forms", "Bentuk kekerasan", "bentuk_kekerasan"),
    code("place", "Tempat kejadian", "tempat_kejadian"),
    of("incident_date", "Tanggal kejadian", K::date),
    text("kecamatan", "Kecamatan", kName),
    text("kelurahan", "Kelurahan/desa", kName),
    code("status", "Status kasus", "status_kasus"),
    text("owner_office", "Kantor penanggung jawab", kShort),
    text("assigned_worker", "Pendamping kasus", kShort),
    code("risk_level", "Tingkat risiko", "tingkat_risiko"),
    of("merged_into", "Digabung ke kasus", K::ref),
    text("closed_reason", "Alasan penutupan kasus"),
    of("police_report_requested", "Korban meminta laporan ke polisi", K::boolean),
    of("police_report_requested_at", "Waktu permintaan laporan ke polisi", K::datetime),
    of("closed_services_seen", "Jumlah layanan saat penutupan", K::integer),
};

constexpr FieldSpec kOrangFields[] = {
    identifying_text("name", "Nama", kName),
    FieldSpec{.name = "nik", .label = "NIK", .kind = K::nik, .identifying = true},
    code("sex", "Jenis kelamin", "jenis_kelamin"),
    of("birth_date", "Tanggal lahir", K::date),
    FieldSpec{.name = "age",
              .label = "Usia (tahun)",
              .kind = K::integer,
              .min_value = 0,
              .max_value = 150},
    code("education", "Pendidikan terakhir", "pendidikan"),
    code("disability", "Disabilitas", "disabilitas"),
    identifying_text("address", "Alamat", 1000),
    FieldSpec{.name = "phone", .label = "Nomor telepon", .kind = K::phone, .identifying = true},
};

constexpr FieldSpec kPeranFields[] = {
    of("case", "Kasus", K::ref),
    of("person", "Orang", K::ref),
    code("role", "Peran dalam kasus", "peran"),
    code("relationship", "Hubungan dengan korban", "hubungan"),
    // An alleged perpetrator who is a child (under 18): anak berhadapan dengan hukum (UU
    // 11/2012 SPPA). Written by the workflow from the person's age, or by hand when the age is
    // not recorded; the workflow also derives it from the age shown (SCHEMA.md notes).
    of("abh", "Anak berhadapan dengan hukum (terlapor anak)", K::boolean),
};

constexpr FieldSpec kLayananFields[] = {
    of("case", "Kasus", K::ref),
    code("kind", "Jenis layanan", "jenis_layanan"),
    of("date", "Tanggal layanan", K::date),
    text("provider", "Pemberi layanan", kName),
    identifying_text("notes", "Catatan layanan", kLong),
    text("outcome", "Hasil layanan"),
    code("case_status_seen", "Status kasus saat layanan dicatat", "status_kasus"),
};

constexpr FieldSpec kRujukanFields[] = {
    of("case", "Kasus", K::ref),
    text("from_office", "Kantor perujuk", kShort),
    text("to_office", "Kantor tujuan rujukan", kShort),
    text("to_external", "Lembaga tujuan di luar Teduh", kName),
    text("reason", "Alasan rujukan"),
    of("consent", "Persetujuan korban", K::ref),
    code("status", "Status rujukan", "status_rujukan"),
    // The answer of a partner outside Teduh, recorded by the office that sent the referral.
    of("answered_on", "Tanggal jawaban mitra", K::date),
    identifying_text("answer_notes", "Catatan jawaban mitra", kLong),
};

constexpr FieldSpec kPersetujuanFields[] = {
    of("case", "Kasus", K::ref),
    code("given_by", "Pemberi persetujuan", "pemberi_persetujuan"),
    identifying_text("giver_name", "Nama pemberi persetujuan", kName),
    code("scope", "Lingkup persetujuan", "lingkup_persetujuan"),
    text("scope_office", "Kantor yang disetujui", kShort),
    text("recorded_how", "Cara persetujuan dicatat", 1000),
    of("given_at", "Waktu persetujuan diberikan", K::datetime),
    of("withdrawn_at", "Waktu persetujuan ditarik", K::datetime),
};

constexpr FieldSpec kRumahAmanFields[] = {
    text("code_name", "Nama sandi rumah aman", kShort),
    secret("name", "Nama rumah aman"),
    secret("address", "Alamat rumah aman"),
    secret("phone", "Telepon rumah aman"),
    secret("contact", "Narahubung rumah aman"),
};

constexpr FieldSpec kPenempatanFields[] = {
    of("case", "Kasus", K::ref),
    of("shelter", "Rumah aman", K::ref),
    of("admitted_at", "Waktu masuk rumah aman", K::datetime),
    of("planned_exit", "Rencana tanggal keluar", K::date),
    of("exited_at", "Waktu keluar rumah aman", K::datetime),
};

constexpr FieldSpec kAlihKelolaFields[] = {
    of("case", "Kasus", K::ref),
    text("to_office", "Kantor penerima", kShort),
    code("status", "Status alih kelola", "status_alih_kelola"),
};

constexpr FieldSpec kAuditFields[] = {
    code("action", "Aksi", "aksi_audit"), of("entity", "Entitas", K::ref),
    text("device", "Perangkat", kShort),  text("user", "Pengguna", kShort),
    of("at", "Waktu", K::datetime),       text("office", "Kantor", kShort),
};

// One item of the case plan (rencana intervensi): a need, the services planned for it, who
// does it and by when; done_on when it was done. A case has as many items as it needs.
constexpr FieldSpec kRencanaFields[] = {
    of("case", "Kasus", K::ref),
    identifying_text("needs", "Kebutuhan korban", kLong),
    codes("services", "Layanan yang direncanakan", "jenis_layanan"),
    text("responsible", "Penanggung jawab", kName),
    of("due_date", "Target waktu", K::date),
    of("done_on", "Tanggal terlaksana", K::date),
    identifying_text("notes", "Catatan rencana", kLong),
};

// One monitoring visit: scheduled (scheduled_on), then done (visited_on) with its result.
// kind evaluasi_pascaterminasi is the evaluation after the case is closed.
constexpr FieldSpec kPemantauanFields[] = {
    of("case", "Kasus", K::ref),
    code("kind", "Jenis pemantauan", "jenis_pemantauan"),
    of("scheduled_on", "Jadwal pemantauan", K::date),
    of("visited_on", "Tanggal pemantauan dilakukan", K::date),
    text("officer", "Petugas pemantauan", kName),
    identifying_text("result", "Hasil pemantauan", kLong),
};

// The agreement of a diversion (musyawarah diversi, UU 11/2012 SPPA) for a child alleged to
// have offended: when, where, who took part, and what was agreed.
constexpr FieldSpec kDiversiFields[] = {
    of("case", "Kasus", K::ref),
    of("child", "Anak (terlapor)", K::ref),
    of("agreed_on", "Tanggal musyawarah diversi", K::date),
    text("place", "Tempat musyawarah diversi", kName),
    identifying_text("parties", "Pihak yang hadir", 4000),
    code("outcome", "Hasil diversi", "hasil_diversi"),
    identifying_text("agreement", "Isi kesepakatan diversi", kLong),
};

// Indexed by EntityType; entity_spec() checks the order once.
constexpr std::array kEntitySpecs = {
    EntitySpec{EntityType::office, "kantor", "Kantor", ScopeKind::office, false, kOfficeFields},
    EntitySpec{EntityType::kasus, "kasus", "Kasus", ScopeKind::kasus, false, kKasusFields},
    EntitySpec{EntityType::orang, "orang", "Orang", ScopeKind::kasus, false, kOrangFields},
    EntitySpec{EntityType::peran, "peran", "Peran dalam kasus", ScopeKind::kasus, false,
               kPeranFields},
    EntitySpec{EntityType::layanan, "layanan", "Layanan", ScopeKind::kasus, true, kLayananFields},
    EntitySpec{EntityType::rujukan, "rujukan", "Rujukan", ScopeKind::kasus, false, kRujukanFields},
    EntitySpec{EntityType::persetujuan, "persetujuan", "Persetujuan", ScopeKind::kasus, false,
               kPersetujuanFields},
    EntitySpec{EntityType::rumah_aman, "rumah_aman", "Rumah aman", ScopeKind::rumah_aman, false,
               kRumahAmanFields},
    EntitySpec{EntityType::penempatan, "penempatan", "Penempatan di rumah aman", ScopeKind::kasus,
               false, kPenempatanFields},
    EntitySpec{EntityType::alih_kelola, "alih_kelola", "Alih kelola kasus", ScopeKind::kasus, false,
               kAlihKelolaFields},
    EntitySpec{EntityType::audit, "audit", "Catatan audit", ScopeKind::kasus, true, kAuditFields},
    EntitySpec{EntityType::rencana, "rencana", "Rencana intervensi", ScopeKind::kasus, false,
               kRencanaFields},
    EntitySpec{EntityType::pemantauan, "pemantauan", "Pemantauan kasus", ScopeKind::kasus, false,
               kPemantauanFields},
    EntitySpec{EntityType::diversi, "diversi", "Kesepakatan diversi", ScopeKind::kasus, false,
               kDiversiFields},
};

}  // namespace

const FieldSpec* EntitySpec::field(std::string_view field_name) const {
  for (const FieldSpec& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

const EntitySpec& entity_spec(EntityType type) {
  const auto index = static_cast<std::size_t>(type);
  if (index >= kEntitySpecs.size() || kEntitySpecs[index].type != type)
    std::abort();  // a bug in the table
  return kEntitySpecs[index];
}

const EntitySpec* find_entity_spec(std::string_view name) {
  for (const EntitySpec& spec : kEntitySpecs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::span<const EntitySpec> all_entity_specs() { return kEntitySpecs; }

std::string_view scope_kind_name(ScopeKind kind) {
  switch (kind) {
    case ScopeKind::office:
      return "office";
    case ScopeKind::kasus:
      return "kasus";
    case ScopeKind::rumah_aman:
      return "rumah_aman";
  }
  std::abort();
}

std::optional<ScopeKind> find_scope_kind(std::string_view name) {
  for (ScopeKind kind : {ScopeKind::office, ScopeKind::kasus, ScopeKind::rumah_aman}) {
    if (scope_kind_name(kind) == name) return kind;
  }
  return std::nullopt;
}

}  // namespace teduh::schema
