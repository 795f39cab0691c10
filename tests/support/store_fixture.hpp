#pragma once
#include "support/temp_dir.hpp"
// Test support: temporary folders, a stand-in for the server's enrollment key, and office
// stores made the way `teduh init` makes them (real encrypted stores, cheap Argon2id).
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <fstream>
#include <random>
#include <string>

#include "teduh/client/compartment.hpp"
#include "teduh/client/store.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/sync/enrollment.hpp"

namespace teduh::testing {



inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every file in a folder, concatenated: for scans of raw bytes.
inline std::string read_all_files(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) all += read_file(e.path());
  }
  return all;
}

// Issues enrollment codes the way teduhd does, with a key of its own.
struct FakeServerKey {
  crypto::SigningKey key = crypto::SigningKey::generate();
  // When set, codes are version 2 and name this administrator key (PROTOCOL.md 6).
  std::optional<crypto::SignPublicKey> admin_key;

  std::string code(const std::string& office, const std::string& kind, const std::string& user,
                   const std::string& role, bool shelter) const {
    sync::EnrollmentGrant g;
    g.code_id = sync::Id128::random();
    g.office_code = office;
    g.office_name = "Kantor " + office;
    g.office_kind = kind;
    g.user = user;
    g.role = role;
    g.shelter_clearance = shelter;
    g.expires_at_ms = sync::system_now_ms() + 14ull * 24 * 3600 * 1000;
    g.admin_key = admin_key;
    return sync::issue_enrollment_code(g, key);
  }
};

inline constexpr const char* kTestPassphrase = "kata-sandi-uji-coba";

// Stands in for a sync that brought this device a key of the shelter compartment from
// the administrator (PROTOCOL.md 5D): a fresh random key for `generation`.
inline client::Result<void> provide_shelter_key(client::Store& store, std::uint32_t generation = 1) {
  return client::install_compartment_key(store, client::kShelterCompartment, generation,
                                         crypto::SecretBytes::random(32));
}

// A store exactly as `teduh init` leaves it: a device with shelter clearance holds no
// shelter key until its first sync after the administrator cleared it.
inline client::Result<client::Store> make_bare_store(const std::filesystem::path& path,
                                                const FakeServerKey& server,
                                                const std::string& office = "BKS-DP3A",
                                                bool shelter = false,
                                                const std::string& user = "petugas-1",
                                                const std::string& role = "supervisor",
                                                const std::string& office_kind = "dinas") {
  crypto::init();
  client::Identity id;
  id.device = sync::Id128::random();
  id.signing_key = crypto::SigningKey::generate();
  id.enrollment_code = server.code(office, office_kind, user, role, shelter);
  auto grant = sync::verify_enrollment_code(id.enrollment_code, server.key.public_key(), 0);
  if (!grant) return client::fail(client::Errc::internal, grant.error().message);
  id.grant = *grant;
  id.server_address = "127.0.0.1:1";
  id.server_key = server.key.public_key();
  client::StoreOptions options{path, kTestPassphrase, crypto::KdfParams::interactive()};
  return client::Store::create(options, std::move(id));
}

// A store of an office device; one with shelter clearance also holds a shelter key of its
// own (each such store a different one), as if an administrator had cleared it.
inline client::Result<client::Store> make_store(const std::filesystem::path& path,
                                                const FakeServerKey& server,
                                                const std::string& office = "BKS-DP3A",
                                                bool shelter = false,
                                                const std::string& user = "petugas-1",
                                                const std::string& role = "supervisor",
                                                const std::string& office_kind = "dinas") {
  auto store = make_bare_store(path, server, office, shelter, user, role, office_kind);
  if (store && shelter) {
    TEDUH_TRY(provide_shelter_key(*store));
  }
  return store;
}

}  // namespace teduh::testing
