#pragma once
// Entity types and their fields (DESIGN.md section 3). Every entity is a 128-bit id, a
// type and fields; every field value is stored and synced as canonical text (below), so
// that two replicas that merged the same versions print byte-identical values.
//
// Canonical text per kind:
//   text      UTF-8 in NFC, trimmed of leading/trailing whitespace, at most max_length
//             characters (and kMaxTextBytes bytes); one line when one_line()
//   integer   decimal, no leading zeros, optional '-'
//   date      YYYY-MM-DD, a real calendar date
//   datetime  YYYY-MM-DDTHH:MM:SSZ (UTC)
//   code      one code of the field's code set
//   codes     codes of the field's code set, sorted, unique, comma-separated
//   ref       32 lowercase hex digits (an entity id) or empty
//   nik       16 digits (Indonesian national id number), see validate.hpp
//   phone     digits with an optional leading '+', 6..16 digits
//   boolean   "1" or "0"
//   secret    opaque text written by the shelter compartment (ciphertext); never in clear
// The empty string means "no value" for every kind (a cleared field).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

namespace teduh::schema {

enum class FieldKind { text, integer, date, datetime, code, codes, ref, nik, phone, boolean, secret };

enum class EntityType {
  office,       // "kantor"
  kasus,        // case
  orang,        // person
  peran,        // role of a person in a case
  layanan,      // service (append-only)
  rujukan,      // referral
  persetujuan,  // consent
  rumah_aman,   // shelter
  penempatan,   // shelter stay
  alih_kelola,  // transfer
  audit,        // audit event (append-only)
  rencana,      // one item of a case plan (rencana intervensi)
  pemantauan,   // one monitoring visit, scheduled and then done (pemantauan)
  diversi,      // a diversion's agreement (kesepakatan diversi, a child in conflict with the law)
};

// Which scope an entity lives in (DESIGN.md section 4).
enum class ScopeKind { office, kasus, rumah_aman };
// The stored name of a scope kind ("office", "kasus", "rumah_aman"), as in the
// scope_type columns of both stores and in commits; nullopt for an unknown name.
std::string_view scope_kind_name(ScopeKind kind);
std::optional<ScopeKind> find_scope_kind(std::string_view name);

// The most bytes of canonical text in one field: what one synced version may carry
// (sync::kMaxValueBytes, checked against this where both are seen).
inline constexpr std::size_t kMaxTextBytes = std::size_t{64} * 1024;

struct FieldSpec {
  std::string_view name;    // stored key, snake_case English (e.g. "birth_date")
  std::string_view label;   // Indonesian label shown to people (e.g. "Tanggal lahir")
  FieldKind kind;
  std::string_view code_set = {};  // for code/codes kinds; empty otherwise
  bool identifying = false;   // names, NIK, address, phone: never in reports or lists
  bool secret = false;        // shelter compartment: only ciphertext leaves the device
  // text kind: most characters (code points after NFC) of canonical text; secret kind:
  // most bytes of ciphertext.
  std::size_t max_length = 4000;
  // integer kind: the accepted range, inclusive (e.g. age 0..150).
  std::int64_t min_value = std::numeric_limits<std::int64_t>::min();
  std::int64_t max_value = std::numeric_limits<std::int64_t>::max();

  // A short text (at most kOneLineLength characters: a name, a number, a code, a place) is
  // one line: a line break in it is refused, not stored.
  static constexpr std::size_t kOneLineLength = 200;
  [[nodiscard]] constexpr bool one_line() const {
    return kind == FieldKind::text && max_length <= kOneLineLength;
  }
};

struct EntitySpec {
  EntityType type;
  std::string_view name;   // stored type name, e.g. "kasus"
  std::string_view label;  // Indonesian label
  ScopeKind scope;
  bool append_only;        // services, audit events: never edited, never in conflict
  std::span<const FieldSpec> fields;
  [[nodiscard]] const FieldSpec* field(std::string_view name) const;
};

const EntitySpec& entity_spec(EntityType type);
const EntitySpec* find_entity_spec(std::string_view name);
std::span<const EntitySpec> all_entity_specs();

// Reserved field names every entity may carry, written by the system, not by users:
//   "_deleted"  boolean tombstone (DESIGN.md section 4)
inline constexpr std::string_view kDeletedField = "_deleted";

}  // namespace teduh::schema
