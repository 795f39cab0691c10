#pragma once
// The administrator key (PROTOCOL.md section 5D, crypto/FORMATS.md section 9): an Ed25519
// signing key that signs every compartment key wrap, and an X25519 box key pair to which
// each generation is also sealed, so the admin CLI can re-wrap past generations for a
// newly cleared device. Kept in DIR/admin.key, encrypted under a key derived with
// Argon2id from the administrator passphrase. Only the admin CLI opens it; `teduhd
// serve` never does, so a compromised serving process cannot mint or read shelter keys.
#include <filesystem>
#include <string>
#include <string_view>

#include "teduh/crypto/kdf.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/server/error.hpp"

namespace teduh::server {

inline constexpr std::string_view kAdminKeyFileName = "admin.key";

struct AdminPublic {
  crypto::SignPublicKey sign_key{};
  crypto::DhPublicKey box_key{};
};

struct AdminKey {
  crypto::SigningKey sign;
  crypto::DhKeyPair box;
  AdminPublic public_keys() const { return {sign.public_key(), box.public_key()}; }
};

// Creates DIR/admin.key (mode 0600) with fresh keys. already_exists when it is there.
[[nodiscard]] Result<AdminKey> create_admin_key(const std::filesystem::path& dir, std::string_view passphrase,
                                                const crypto::KdfParams& params);
// Opens DIR/admin.key: not_found when missing, refused for a wrong passphrase (or a
// damaged file: the two cannot be told apart), refused for an unknown format.
[[nodiscard]] Result<AdminKey> open_admin_key(const std::filesystem::path& dir, std::string_view passphrase);

// The administrator passphrase: TEDUH_ADMIN_PASSPHRASE, else the server passphrase
// given (from TEDUH_SERVER_PASSPHRASE or --key-file) so that existing scripts keep
// working with one secret.
std::string admin_passphrase(std::string_view server_passphrase);

}  // namespace teduh::server
