#pragma once
// Enrolling this device (`teduh init`, DESIGN.md section 6): checking the enrollment code
// `teduhd enroll` issued against the server key `teduhd init` printed, and creating the
// device's encrypted store from it. Works offline: the device registers with the server at
// its first sync. The rules live here so that the CLI, the office app and the benches
// enroll a device the same way; reading passphrases and printing are the caller's.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/client/error.hpp"
#include "teduh/client/store.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/sync/enrollment.hpp"

namespace teduh::client {

// An enrollment code that verified, and where its server is: what a store is created from.
struct Enrollment {
  std::string server_address;  // HOST:PORT as given; not contacted here
  crypto::SignPublicKey server_key{};
  std::string code;  // kept in the store to register at the first sync
  sync::EnrollmentGrant grant;
};

// Checks `server_key_text` (the 43-character key `teduhd init` printed) and the code's
// signature and expiry at `now_ms`. usage when the text is not a server key; refused when
// the code has expired, was signed by another key, or is not an enrollment code. The
// messages are one sentence each, the ones `teduh init` prints.
[[nodiscard]] Result<Enrollment> check_enrollment(std::string server_address, std::string_view server_key_text,
                                                  std::string code, std::uint64_t now_ms);

// The strength rule for a new store passphrase (crypto/passphrase.hpp states the threshold;
// `context` holds words a guesser knows, such as the office code and the user name): usage
// with the reason in Bahasa Indonesia when it is too weak.
[[nodiscard]] Result<void> check_new_passphrase(std::string_view passphrase,
                                                const std::vector<std::string>& context);
// check_new_passphrase for the store of `enrollment`: its office code and user are context.
[[nodiscard]] Result<void> check_enrollment_passphrase(const Enrollment& enrollment, std::string_view passphrase);

// A passphrase change may go ahead: usage when the new passphrase equals the old one or is
// too weak (check_new_passphrase, no context). Store::change_passphrase does the change.
[[nodiscard]] Result<void> check_passphrase_change(std::string_view old_passphrase, std::string_view new_passphrase);

// Creates this device's store at options.path from a checked enrollment, with a new random
// device id and signing key. Fails as Store::create does (refused when a store is there:
// nothing is overwritten). The caller checks the passphrase first (check_enrollment_passphrase).
[[nodiscard]] Result<Store> enroll_device(const Enrollment& enrollment, const StoreOptions& options);

}  // namespace teduh::client
