#include "teduh/client/enrollment.hpp"

#include <algorithm>
#include <utility>

#include "teduh/crypto/passphrase.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh::client {

[[nodiscard]] Result<Enrollment> check_enrollment(std::string server_address, std::string_view server_key_text,
                                    std::string code, std::uint64_t now_ms) {
  crypto::init();
  auto key_raw = crypto::from_base64url(server_key_text);
  if (!key_raw || key_raw->size() != crypto::kSignPublicKeySize) {
    return fail(Errc::usage,
                "--server-key is not a server key (expected the 43-character key that `teduhd "
                "init` printed).");
  }
  crypto::SignPublicKey pk{};
  std::copy(key_raw->begin(), key_raw->end(), pk.begin());
  auto grant = sync::verify_enrollment_code(code, pk, now_ms);
  if (!grant) {
    std::string why = grant.error().code == sync::Errc::expired
                          ? "has expired; ask the administrator for a new one"
                      : grant.error().code == sync::Errc::bad_signature
                          ? "was not signed by this server's key"
                          : "is not an enrollment code";
    return fail(Errc::refused, "The enrollment code " + why + ".");
  }
  return Enrollment{std::move(server_address), pk, std::move(code), std::move(*grant)};
}

[[nodiscard]] Result<void> check_new_passphrase(std::string_view passphrase, const std::vector<std::string>& context) {
  if (auto why = crypto::weak_passphrase_reason(passphrase, context)) return fail(Errc::usage, *why);
  return {};
}

[[nodiscard]] Result<void> check_enrollment_passphrase(const Enrollment& enrollment, std::string_view passphrase) {
  return check_new_passphrase(passphrase, {enrollment.grant.office_code, enrollment.grant.user});
}

[[nodiscard]] Result<void> check_passphrase_change(std::string_view old_passphrase, std::string_view new_passphrase) {
  if (new_passphrase == old_passphrase) {
    return fail(Errc::usage, "Kata sandi baru sama dengan yang lama; tidak ada yang diubah.");
  }
  return check_new_passphrase(new_passphrase, {});
}

[[nodiscard]] Result<Store> enroll_device(const Enrollment& enrollment, const StoreOptions& options) {
  crypto::init();
  Identity id;
  id.device = sync::Id128::random();
  id.signing_key = crypto::SigningKey::generate();
  id.grant = enrollment.grant;
  id.enrollment_code = enrollment.code;
  id.server_address = enrollment.server_address;
  id.server_key = enrollment.server_key;
  return Store::create(options, std::move(id));
}

}  // namespace teduh::client
