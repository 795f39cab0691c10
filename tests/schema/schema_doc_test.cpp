// SCHEMA.md is the specification; these tests keep its tables in step with the code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "teduh/schema/codes.hpp"
#include "teduh/schema/entities.hpp"
#include "teduh/schema/migration_steps.hpp"

namespace teduh::schema {
namespace {

std::string schema_md() {
  const auto path =
      std::filesystem::path(TEDUH_TEST_DATA_DIR) / ".." / ".." / "schema" / "SCHEMA.md";
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string_view kind_name(FieldKind kind) {
  switch (kind) {
    case FieldKind::text:
      return "text";
    case FieldKind::integer:
      return "integer";
    case FieldKind::date:
      return "date";
    case FieldKind::datetime:
      return "datetime";
    case FieldKind::code:
      return "code";
    case FieldKind::codes:
      return "codes";
    case FieldKind::ref:
      return "ref";
    case FieldKind::nik:
      return "nik";
    case FieldKind::phone:
      return "phone";
    case FieldKind::boolean:
      return "boolean";
    case FieldKind::secret:
      return "secret";
  }
  return "?";
}

TEST(SchemaDoc, EveryFieldIsDocumentedWithItsLabelAndKind) {
  const std::string doc = schema_md();
  for (const EntitySpec& entity : all_entity_specs()) {
    const std::string heading =
        "#### `" + std::string(entity.name) + "`: " + std::string(entity.label);
    const auto section = doc.find(heading);
    ASSERT_NE(section, std::string::npos) << heading;
    for (const FieldSpec& field : entity.fields) {
      const std::string row = "| `" + std::string(field.name) + "` | " + std::string(field.label) +
                              " | " + std::string(kind_name(field.kind)) + " |";
      EXPECT_NE(doc.find(row, section), std::string::npos) << row;
    }
  }
}

TEST(SchemaDoc, EveryCodeIsDocumentedWithItsLabel) {
  const std::string doc = schema_md();
  for (const CodeSet& set : all_code_sets()) {
    const auto section = doc.find("#### `" + std::string(set.name) + "`");
    ASSERT_NE(section, std::string::npos) << set.name;
    for (const Code& code : set.codes) {
      const std::string row =
          "| `" + std::string(code.code) + "` | " + std::string(code.label) + " |";
      EXPECT_NE(doc.find(row, section), std::string::npos) << set.name << ": " << row;
    }
  }
}

TEST(SchemaDoc, EveryMigrationStepIsInTheHistory) {
  const std::string doc = schema_md();
  for (StoreKind kind : {StoreKind::client, StoreKind::server}) {
    const auto steps = migration_steps(kind);
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const std::string row =
          std::string(kind == StoreKind::client ? "| client | " : "| server | ") +
          std::to_string(i + 1) + " | `" + std::string(steps[i].name) + "` | " +
          std::to_string(steps[i].min_readable) + " |";
      EXPECT_NE(doc.find(row), std::string::npos) << row;
    }
  }
}

}  // namespace
}  // namespace teduh::schema
