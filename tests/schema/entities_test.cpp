#include "teduh/schema/entities.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/schema/codes.hpp"

namespace teduh::schema {
namespace {

TEST(Entities, EveryCodeFieldNamesAKnownCodeSet) {
  for (const EntitySpec& entity : all_entity_specs()) {
    for (const FieldSpec& field : entity.fields) {
      SCOPED_TRACE(std::string(entity.name) + "." + std::string(field.name));
      if (field.kind == FieldKind::code || field.kind == FieldKind::codes) {
        EXPECT_NE(find_code_set(field.code_set), nullptr) << field.code_set;
      } else {
        EXPECT_TRUE(field.code_set.empty());
      }
    }
  }
}

TEST(Entities, EveryTypeHasASpecFoundByItsStoredName) {
  std::set<std::string_view> names;
  for (const EntitySpec& entity : all_entity_specs()) {
    EXPECT_EQ(&entity_spec(entity.type), &entity);
    EXPECT_EQ(find_entity_spec(entity.name), &entity);
    EXPECT_TRUE(names.insert(entity.name).second);
    EXPECT_FALSE(entity.label.empty());
  }
  EXPECT_EQ(all_entity_specs().size(), 14u);
  EXPECT_EQ(find_entity_spec("case"), nullptr);
  EXPECT_EQ(entity_spec(EntityType::office).name, "kantor");
}

TEST(Entities, FieldNamesAreUniqueSnakeCaseWithLabels) {
  for (const EntitySpec& entity : all_entity_specs()) {
    std::set<std::string_view> names;
    for (const FieldSpec& field : entity.fields) {
      SCOPED_TRACE(std::string(entity.name) + "." + std::string(field.name));
      EXPECT_TRUE(names.insert(field.name).second);
      EXPECT_FALSE(field.label.empty());
      EXPECT_NE(field.name.front(), '_') << "names starting with '_' are reserved for the system";
      for (char c : field.name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_');
      EXPECT_EQ(entity.field(field.name), &field);
    }
  }
}

// The client is written against these names.
TEST(Entities, FieldsAreTheAgreedOnes) {
  const std::pair<EntityType, std::vector<std::string_view>> expected[] = {
      {EntityType::office, {"code", "name", "kind", "region", "parent"}},
      {EntityType::kasus,
       {"number", "received_at", "channel", "summary", "chronology", "forms", "place",
        "incident_date", "kecamatan", "kelurahan", "status", "owner_office", "assigned_worker",
        "risk_level", "merged_into", "closed_reason", "police_report_requested",
        "police_report_requested_at", "closed_services_seen"}},
      {EntityType::orang,
       {"name", "nik", "sex", "birth_date", "age", "education", "disability", "address", "phone"}},
      {EntityType::peran, {"case", "person", "role", "relationship", "abh"}},
      {EntityType::layanan, {"case", "kind", "date", "provider", "notes", "outcome", "case_status_seen"}},
      {EntityType::rujukan,
       {"case", "from_office", "to_office", "to_external", "reason", "consent", "status", "answered_on",
        "answer_notes"}},
      {EntityType::persetujuan,
       {"case", "given_by", "giver_name", "scope", "scope_office", "recorded_how", "given_at",
        "withdrawn_at"}},
      {EntityType::rumah_aman, {"code_name", "name", "address", "phone", "contact"}},
      {EntityType::penempatan, {"case", "shelter", "admitted_at", "planned_exit", "exited_at"}},
      {EntityType::alih_kelola, {"case", "to_office", "status"}},
      {EntityType::audit, {"action", "entity", "device", "user", "at", "office"}},
      {EntityType::rencana, {"case", "needs", "services", "responsible", "due_date", "done_on", "notes"}},
      {EntityType::pemantauan, {"case", "kind", "scheduled_on", "visited_on", "officer", "result"}},
      {EntityType::diversi, {"case", "child", "agreed_on", "place", "parties", "outcome", "agreement"}},
  };
  for (const auto& [type, fields] : expected) {
    const EntitySpec& entity = entity_spec(type);
    ASSERT_EQ(entity.fields.size(), fields.size()) << entity.name;
    for (std::size_t i = 0; i < fields.size(); ++i)
      EXPECT_EQ(entity.fields[i].name, fields[i]) << entity.name;
  }
}

TEST(Entities, NamesNikAddressAndPhoneAreIdentifying) {
  for (std::string_view name : {"name", "nik", "address", "phone"}) {
    EXPECT_TRUE(entity_spec(EntityType::orang).field(name)->identifying) << name;
  }
  EXPECT_TRUE(entity_spec(EntityType::kasus).field("chronology")->identifying);
  EXPECT_TRUE(entity_spec(EntityType::layanan).field("notes")->identifying);
  EXPECT_TRUE(entity_spec(EntityType::persetujuan).field("giver_name")->identifying);
  EXPECT_FALSE(entity_spec(EntityType::kasus).field("forms")->identifying);
  // Free text about the victim or the child in the plan, a visit's result, a diversion.
  EXPECT_TRUE(entity_spec(EntityType::rencana).field("needs")->identifying);
  EXPECT_TRUE(entity_spec(EntityType::rencana).field("notes")->identifying);
  EXPECT_TRUE(entity_spec(EntityType::pemantauan).field("result")->identifying);
  EXPECT_TRUE(entity_spec(EntityType::diversi).field("parties")->identifying);
  EXPECT_TRUE(entity_spec(EntityType::diversi).field("agreement")->identifying);
}

TEST(Entities, ShelterLocationIsSecretButItsCodeNameIsNot) {
  const EntitySpec& shelter = entity_spec(EntityType::rumah_aman);
  EXPECT_EQ(shelter.scope, ScopeKind::rumah_aman);
  for (std::string_view name : {"name", "address", "phone", "contact"}) {
    EXPECT_TRUE(shelter.field(name)->secret) << name;
    EXPECT_EQ(shelter.field(name)->kind, FieldKind::secret) << name;
  }
  EXPECT_FALSE(shelter.field("code_name")->secret);
  for (const EntitySpec& entity : all_entity_specs()) {
    if (entity.type == EntityType::rumah_aman) continue;
    for (const FieldSpec& field : entity.fields)
      EXPECT_FALSE(field.secret) << entity.name << "." << field.name;
  }
}

TEST(Entities, OnlyServicesAndAuditEventsAreAppendOnly) {
  for (const EntitySpec& entity : all_entity_specs()) {
    const bool expected = entity.type == EntityType::layanan || entity.type == EntityType::audit;
    EXPECT_EQ(entity.append_only, expected) << entity.name;
  }
}

TEST(Entities, EveryEntityLivesInTheScopeTheDesignSays) {
  EXPECT_EQ(entity_spec(EntityType::office).scope, ScopeKind::office);
  for (EntityType type : {EntityType::kasus, EntityType::orang, EntityType::peran,
                          EntityType::layanan, EntityType::rujukan, EntityType::persetujuan,
                          EntityType::penempatan, EntityType::alih_kelola, EntityType::audit}) {
    EXPECT_EQ(entity_spec(type).scope, ScopeKind::kasus) << entity_spec(type).name;
  }
}

TEST(Entities, ScopeKindsHaveStoredNames) {
  for (ScopeKind kind : {ScopeKind::office, ScopeKind::kasus, ScopeKind::rumah_aman}) {
    EXPECT_EQ(find_scope_kind(scope_kind_name(kind)), kind);
  }
  EXPECT_EQ(scope_kind_name(ScopeKind::office), "office");
  EXPECT_FALSE(find_scope_kind("kantor").has_value());
}

}  // namespace
}  // namespace teduh::schema
