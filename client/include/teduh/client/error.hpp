#pragma once
// Errors of the office client. Each maps to one exit code of the CLI (DESIGN.md section 6).
#include "teduh/error.hpp"

namespace teduh::client {

enum class Errc {
  usage,        // exit 1: bad command line
  invalid,      // exit 1: a field value failed validation (message names the field)
  not_found,    // exit 1: no such case, person, shelter
  refused,      // exit 2: wrong passphrase, not a store, newer schema, no clearance, no consent
  damaged,      // exit 2: the store failed authentication: damage is never returned as data
  unreachable,  // exit 3: the server cannot be reached; local work is kept
  internal,     // exit 4: a bug or an unexpected system failure
  busy,         // exit 5: another process held the store's lock longer than the wait (10 s)
  full,         // exit 6: the disk is full; nothing was written, nothing was lost
};

// The shape of results and errors is teduh/error.hpp's, with this layer's codes.
using Error = teduh::Error<Errc>;
template <class T>
using Result = teduh::Result<T, Errc>;
using teduh::fail;

[[nodiscard]] int exit_code(Errc code);

}  // namespace teduh::client
