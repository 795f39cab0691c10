#pragma once
// What the server signs for a de-identified case projection (PROTOCOL.md section 5C), so
// that a central office device can check that the report data came from its server.
#include <cstdint>

#include "teduh/crypto/secure.hpp"
#include "teduh/sync/ids.hpp"

namespace teduh::sync {

// "teduh-projection-v1" 0x00 | scope (16 bytes) | server_seq (8, big endian) | body.
crypto::Bytes projection_signed_bytes(const EntityId& scope, std::uint64_t server_seq, crypto::ByteView body);

}  // namespace teduh::sync
