// PERMISSIONS.md prints the permission table for administrators; this keeps it identical
// to the one the client and server apply (schema/src/permissions.cpp).
#include "teduh/schema/permissions.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "teduh/schema/codes.hpp"

namespace teduh::schema {
namespace {

std::string permissions_md() {
  const auto path = std::filesystem::path(TEDUH_TEST_DATA_DIR) / ".." / ".." / "PERMISSIONS.md";
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(PermissionsDoc, EveryActionRowMatchesTheTable) {
  const std::string doc = permissions_md();
  const CodeSet* roles = find_code_set("peran_pengguna");
  ASSERT_NE(roles, nullptr);
  for (const ActionSpec& a : all_actions()) {
    const std::string start = "| `" + std::string(a.code) + "` | ";
    const auto at = doc.find(start);
    ASSERT_NE(at, std::string::npos) << a.code;
    const std::string line = doc.substr(at, doc.find('\n', at) - at);
    std::string cells;
    for (const Code& role : roles->codes) cells += role_may(role.code, a.action) ? " Y |" : " - |";
    EXPECT_TRUE(line.size() >= cells.size() && line.compare(line.size() - cells.size(), cells.size(), cells) == 0)
        << line << "\nexpected to end with:" << cells;
  }
}

TEST(PermissionsDoc, TheHeaderNamesTheRolesInTheCodeSetOrder) {
  const std::string doc = permissions_md();
  std::string header = "| action | what it covers |";
  for (const Code& role : find_code_set("peran_pengguna")->codes) header += " " + std::string(role.code) + " |";
  EXPECT_NE(doc.find(header), std::string::npos) << header;
}

TEST(Permissions, OfficeKindAndClearanceNarrowTheRoleTable) {
  EXPECT_FALSE(refusal("pendamping", "dinas", false, Action::buat_kasus));
  EXPECT_TRUE(refusal("pendamping", "pusat", false, Action::buat_kasus));  // never at pusat
  EXPECT_TRUE(refusal("pendamping", "pusat", true, Action::lihat_kasus));
  EXPECT_FALSE(refusal("analis", "pusat", false, Action::laporan));
  EXPECT_TRUE(refusal("petugas_rumah_aman", "uptd_ppa", false, Action::tempatkan));  // no clearance
  EXPECT_FALSE(refusal("petugas_rumah_aman", "uptd_ppa", true, Action::tempatkan));
  EXPECT_TRUE(refusal("bukan_peran", "dinas", true, Action::lihat_kasus));  // unknown role: nothing
  EXPECT_TRUE(role_reads_cases("operator", "kelurahan"));
  EXPECT_FALSE(role_reads_cases("analis", "dinas"));
  EXPECT_FALSE(role_writes_cases("admin", "dinas"));
  EXPECT_FALSE(role_writes_cases("kepala", "pusat"));
}

}  // namespace
}  // namespace teduh::schema
