#pragma once
// The administrator key (PROTOCOL.md section 5D, crypto/FORMATS.md section 9): an Ed25519
// signing key that signs every compartment key wrap, and an X25519 box key pair to which
// each generation is also sealed, so the admin CLI can re-wrap past generations for a
// newly cleared device.
//
// Where it lives: in a file the administrator names (`--admin-key FILE`), OUTSIDE the
// server's data folder (create and open refuse a path that resolves inside it, through
// symlinks or ".."), encrypted under a key derived with Argon2id from the administrator's
// own passphrase, which must differ from the serving passphrase. Only the admin CLI opens
// it; `teduhd serve` never does. Who can read what:
//
// | attacker | holds | can read / change | cannot |
// |---|---|---|---|
// | thief of the server machine, or its operator | the data folder, the serving passphrase, the log | offices, devices, who is cleared, commit metadata, non-secret case fields | any shelter field of any generation (every wrap is sealed to a device or to the admin box key, which is not there), or mint a generation |
// | the same, before `teduhd admin move-key` ran on a store made by Teduh before the move | an old copy of DIR/admin.key sealed under the serving passphrase | the generations made before the move | generations made after it (move-key renews the box key and rotates) |
// | holder of the admin key file without its passphrase | 242 bytes sealed by Argon2id | the two public keys | the secret keys |
// | the administrator | the file and its passphrase (and the data folder) | every generation; can clear and rotate | nothing is hidden from them by design |
#include <filesystem>
#include <string>
#include <string_view>

#include "teduh/crypto/kdf.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/server/error.hpp"

namespace teduh::server {

// The file name older Teduh versions wrote inside the data folder (DIR/admin.key). Read
// only by `teduhd admin move-key`; every other command refuses while it is there.
inline constexpr std::string_view kLegacyAdminKeyFileName = "admin.key";

struct AdminPublic {
  crypto::SignPublicKey sign_key{};
  crypto::DhPublicKey box_key{};
};

struct AdminKey {
  crypto::SigningKey sign;
  crypto::DhKeyPair box;
  [[nodiscard]] AdminPublic public_keys() const { return {sign.public_key(), box.public_key()}; }
};

// DIR/admin.key of a store made by an older Teduh.
std::filesystem::path legacy_admin_key_path(const std::filesystem::path& data_dir);

// The administrator key file's path made absolute, or invalid_input when it resolves
// (symlinks and ".." followed as far as the path exists) to the data folder or inside it.
[[nodiscard]] Result<std::filesystem::path> admin_key_path_outside(const std::filesystem::path& file,
                                                                   const std::filesystem::path& data_dir);

// Creates FILE (mode 0600, O_EXCL, never overwritten) holding `key`, sealed under
// Argon2id(passphrase). already_exists when the file is there.
[[nodiscard]] Result<void> write_admin_key(const std::filesystem::path& file, const AdminKey& key,
                                           std::string_view passphrase, const crypto::KdfParams& params);
// Fresh keys, written with write_admin_key.
[[nodiscard]] Result<AdminKey> create_admin_key(const std::filesystem::path& file, std::string_view passphrase,
                                                const crypto::KdfParams& params);
// Opens FILE: not_found when missing, refused for a wrong passphrase (or a damaged file:
// the two cannot be told apart), refused for an unknown format or a file with a second
// name (a hard link).
[[nodiscard]] Result<AdminKey> open_admin_key(const std::filesystem::path& file, std::string_view passphrase);

}  // namespace teduh::server
