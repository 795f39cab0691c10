#pragma once
// The administration of the server store that takes more than one step or holds a rule
// (server/README.md, "The administrator key"): creating the administrator key, taking up an
// `admin init` that stopped after writing the key file, moving an older Teduh's
// DIR/admin.key out of the data folder, the passphrase rules. `teduhd`'s commands and the
// office app call these; reading passphrases (environment, files, prompts) and printing are
// the caller's. Every failure is one sentence, the one `teduhd` prints after "teduhd: ",
// with the code that gives its exit status (error.hpp).
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "teduh/crypto/kdf.hpp"
#include "teduh/server/admin_key.hpp"
#include "teduh/server/error.hpp"
#include "teduh/server/server_store.hpp"

namespace teduh::server {

// How the caller obtains the administrator passphrase (TEDUH_ADMIN_PASSPHRASE, a prompt, a
// form), asked only when an operation needs it; `creating` when it is for a new key file
// (asked twice on a terminal). The passphrase it returns is checked here
// (check_admin_passphrase), never by the caller.
using AdminPassphraseSource = std::function<Result<std::string>(bool creating)>;
// The Argon2id cost for a new key file (crypto::KdfParams::from_environment in teduhd),
// asked only when a file is created.
using KdfSource = std::function<Result<crypto::KdfParams>()>;

// A new passphrase (a new store, a new administrator key, a passphrase change) must be
// strong: crypto/passphrase.hpp states the threshold. invalid_input "WHAT: reason" (in
// Bahasa Indonesia) otherwise.
[[nodiscard]] Result<void> check_new_passphrase(std::string_view passphrase, const std::string& what);

// The administrator passphrase must differ from the serving one (whoever runs the server
// must not open shelter keys), and be strong when it is for a new key file: invalid_input.
[[nodiscard]] Result<void> check_admin_passphrase(std::string_view admin_passphrase,
                                                  std::string_view server_passphrase, bool creating);

// refused while DIR/admin.key of an older Teduh is still in the data folder: every command
// but `admin move-key` refuses then, `serve` included.
[[nodiscard]] Result<void> refuse_legacy_admin_key(const std::string& dir);

// The administrator key file `file` (--admin-key), opened with its own passphrase:
// refused while a legacy admin.key is there, invalid_input when no file is named or it
// resolves inside the data folder, then as open_admin_key.
[[nodiscard]] Result<AdminKey> load_admin_key(const std::string& dir, const std::string& file,
                                              std::string_view server_passphrase,
                                              const AdminPassphraseSource& admin_passphrase);

// Where a new administrator key goes, checked before anything is created: outside the data
// folder, not there yet (already_exists), in a folder that exists; and its passphrase.
struct NewAdminKey {
  std::filesystem::path path;
  std::string passphrase;
};
[[nodiscard]] Result<NewAdminKey> prepare_new_admin_key(const std::string& dir, const std::string& file,
                                                        std::string_view server_passphrase,
                                                        const AdminPassphraseSource& admin_passphrase);

// Creates the administrator key file and records its public keys in the store. A crash
// between the two leaves a file whose keys the store lacks: init_admin_key takes it up.
[[nodiscard]] Result<void> make_admin_key(ServerStore& store, const NewAdminKey& target,
                                          const crypto::KdfParams& params);

// `teduhd admin init`: gives the store in `dir` an administrator key in `file`, outside the
// data folder. When the file is already there but the store has no administrator key (a
// crash between writing the file and recording its keys, in `teduhd init` or here), the
// existing file's keys are recorded if it opens: safe to run again. refused when the store
// already has an administrator key (it is never replaced) or a legacy admin.key is there;
// invalid_input when no file is named.
struct AdminInit {
  std::filesystem::path path;  // the key file, absolute
  bool recorded_existing = false;  // the file was there from a run that stopped; nothing created
};
[[nodiscard]] Result<AdminInit> init_admin_key(const std::string& dir, const std::string& file,
                                               std::string_view server_passphrase,
                                               const AdminPassphraseSource& admin_passphrase,
                                               const KdfSource& kdf);

// `teduhd admin move-key`: moves DIR/admin.key of an older Teduh out of the data folder.
// The same signing key (devices pinned it), a NEW box key (an old copy of the data folder
// opens the old one with the serving passphrase), every administrator wrap sealed again to
// it, the old file wiped, then a new generation of every compartment that has one, so that
// what is written from now on is out of that copy's reach. Safe to run again after a crash
// at any step: a new file already written with the same signing key is taken up.
//
// The old file was sealed under the serving passphrase unless an administrator passphrase
// was set when it was made: it is tried with `stated_old` (TEDUH_ADMIN_PASSPHRASE_LAMA),
// the serving passphrase, then `current_admin` (TEDUH_ADMIN_PASSPHRASE), the empty ones
// skipped. invalid_input when there is no admin.key to move or no file is named; refused
// when none of them opens it, or `file` holds another administrator key.
struct LegacyAdminPassphrases {
  std::string stated_old;
  std::string current_admin;
};
struct MoveKeyProgress {
  // After the wraps are sealed again and the old file removed.
  std::function<void(const std::filesystem::path& to, std::size_t rewrapped, const std::filesystem::path& removed)>
      moved;
  // After each compartment's new generation.
  std::function<void(const std::string& compartment, const ServerStore::Rotation& rotation)> rotated;
};
[[nodiscard]] Result<void> move_legacy_admin_key(const std::string& dir, const std::string& file,
                                                 std::string_view server_passphrase,
                                                 const LegacyAdminPassphrases& legacy,
                                                 const AdminPassphraseSource& admin_passphrase, const KdfSource& kdf,
                                                 const MoveKeyProgress& progress);

// `teduhd enroll`: a one-time enrollment code (ServerStore::issue_enrollment). A --shelter
// device enrolled before the store has an administrator key could never be cleared:
// refused then, naming `teduhd admin init --data DIR`.
[[nodiscard]] Result<IssuedEnrollment> issue_device_enrollment(ServerStore& store, const std::string& dir,
                                                               const EnrollRequest& request);

// `teduhd device revoke`: revokes the device (it is refused from then on), then, because a
// revoked cleared device keeps the keys it holds, makes a new generation of every
// compartment whose rotation is pending, with the administrator key `admin_key` returns
// (asked once per such compartment; empty: none given). When it fails or none is given, the
// compartment is reported as pending with the reason and the rest goes on.
struct RevokeProgress {
  std::function<void(bool newly_revoked)> revoked;
  std::function<void(const std::string& compartment, const std::string& why)> rotation_pending;
  std::function<void(const std::string& compartment, const ServerStore::Rotation& rotation)> rotated;
};
[[nodiscard]] Result<void> revoke_device(ServerStore& store, const sync::DeviceId& device,
                                         const std::function<Result<AdminKey>()>& admin_key,
                                         const RevokeProgress& progress);

// `teduhd init`: a new server store in `dir` under `server_passphrase` (checked strong
// first), and, when `admin_file` is named, the administrator key in it, its place and
// passphrase checked before anything is created. refused when a store is already there
// (never overwritten). When the store is made but the key is not, the error says so and
// names `teduhd admin init`, which takes up from there (init_admin_key).
struct ServerInit {
  ServerStore store;
  std::optional<std::filesystem::path> admin_key;  // the key file made, when one was named
};
[[nodiscard]] Result<ServerInit> init_server_store(const std::string& dir, std::string_view server_passphrase,
                                                   const std::string& admin_file,
                                                   const AdminPassphraseSource& admin_passphrase,
                                                   const crypto::KdfParams& params);

// `teduhd passphrase change`: rewraps the server store's key under `new_passphrase`
// (crypto/FORMATS.md section 1): only DIR/server.db.key is replaced; the store is not
// rewritten, and the administrator passphrase does not change. invalid_input when the new
// passphrase equals the old one or is weak; refused when there is no store in `dir` or the
// old passphrase does not open it.
[[nodiscard]] Result<void> change_server_passphrase(const std::string& dir, std::string_view old_passphrase,
                                                    std::string_view new_passphrase, const KdfSource& kdf);

}  // namespace teduh::server
