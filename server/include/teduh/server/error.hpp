#pragma once
// Errors of the server library, as values (STYLE.md). Each code maps to one exit code
// of the admin CLI (DESIGN.md section 6) and to one log reason of `teduhd serve`.
#include <string>
#include <tl/expected.hpp>

namespace teduh::server {

enum class Errc {
  invalid_input,   // a value the administrator or a peer gave is not acceptable (exit 1)
  not_found,       // no such office, device or enrollment (exit 1)
  already_exists,  // refusing to overwrite an office, a store, a device (exit 1, or 2 for stores)
  refused,         // wrong passphrase, not a store, newer version, used code, revoked device (exit 2)
  conflict,        // the same (device, seq) arrived with a different body
  damaged,         // the store failed authentication: a page was altered
  storage,         // the storage backend failed for another reason
  network,         // listening or accepting failed (exit 3)
};

struct Error {
  Errc code;
  std::string message;  // one sentence a person can read; never a field value or a secret
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// The admin CLI's exit code for an error (0 ok, 1 usage/invalid input, 2 refused, 3 network).
int exit_code_for(Errc code);

}  // namespace teduh::server
