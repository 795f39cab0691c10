#pragma once
#include <string>
#include <tl/expected.hpp>

namespace teduh::sync {

enum class Errc {
  malformed,        // bytes that do not decode as the expected message
  bad_signature,    // a commit or token whose signature does not verify
  invalid_commit,   // decodes, but breaks a rule (schema, scope, sizes)
  expired,          // an enrollment code past its expiry
  unsupported_version,
};

struct Error {
  Errc code;
  std::string message;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace teduh::sync
