#pragma once
// Errors of the crypto library, as values (STYLE.md: errors are values where expected).
#include "teduh/error.hpp"

namespace teduh::crypto {

enum class Errc {
  wrong_passphrase,  // the key file did not open with this passphrase
  missing_key_file,  // the store's key file is absent
  not_a_store,       // the file is not a Teduh encrypted store (or not its key file)
  damaged,           // authentication failed: a page, frame or blob was altered
  already_exists,    // refusing to overwrite an existing store or key file
  io,                // the operating system refused a read or write
  busy,              // another connection held the store's lock past the busy timeout
  full,              // the disk (or the quota) is full
  bad_input,         // malformed key, hex, base64, size
  verify_failed,     // a signature or sealed box did not verify
  handshake_failed,  // Noise handshake failed (wrong key, bad message, version mismatch)
  peer_not_pinned,   // the responder's static key is not the pinned one
};

// The shape of results and errors is teduh/error.hpp's, with this layer's codes.
using Error = teduh::Error<Errc>;
template <class T>
using Result = teduh::Result<T, Errc>;
using teduh::fail;

}  // namespace teduh::crypto
