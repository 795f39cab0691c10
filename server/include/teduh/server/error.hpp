#pragma once
// Errors of the server library, as values (STYLE.md). Each code maps to one exit code
// of the admin CLI (DESIGN.md section 6) and to one log reason of `teduhd serve`.
#include "teduh/error.hpp"

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

// The shape of results and errors is teduh/error.hpp's, with this layer's codes.
using Error = teduh::Error<Errc>;
template <class T>
using Result = teduh::Result<T, Errc>;
using teduh::fail;

// The admin CLI's exit code for an error (0 ok, 1 usage/invalid input, 2 refused, 3 network).
int exit_code_for(Errc code);

}  // namespace teduh::server
