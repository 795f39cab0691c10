#pragma once
#include "teduh/error.hpp"

namespace teduh::sync {

enum class Errc {
  malformed,        // bytes that do not decode as the expected message
  bad_signature,    // a commit or token whose signature does not verify
  invalid_commit,   // decodes, but breaks a rule (schema, scope, sizes)
  expired,          // an enrollment code past its expiry
  unsupported_version,
};

// The shape of results and errors is teduh/error.hpp's, with this layer's codes.
using Error = teduh::Error<Errc>;
template <class T>
using Result = teduh::Result<T, Errc>;
using teduh::fail;

}  // namespace teduh::sync
