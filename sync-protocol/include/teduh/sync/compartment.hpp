#pragma once
// The parts of the compartment mechanism (DESIGN.md section 5, PROTOCOL.md section 5D)
// that the server, the admin CLI and the client must agree on byte for byte: the clear
// header of a sealed field value (crypto/FORMATS.md section 7) and the message an
// administrator signs for each key wrap. Pure logic: no keys are opened here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "teduh/crypto/keys.hpp"
#include "teduh/sync/ids.hpp"

namespace teduh::sync {

// A compartment id: 1..32 bytes of [a-z0-9_].
inline constexpr std::size_t kMaxCompartmentBytes = 32;
bool valid_compartment(std::string_view compartment);

// The key of one (compartment, generation) is 32 bytes; a wrap is crypto_box_seal of it.
inline constexpr std::size_t kCompartmentKeySize = 32;
inline constexpr std::size_t kSealedKeySize = kCompartmentKeySize + 48;  // crypto_box_SEALBYTES

// The recipient id of the administrator's own wrap of a generation (no device has it:
// device ids are never zero).
inline constexpr Id128 kAdminRecipient{};

struct SealedHeader {
  std::string compartment;
  std::uint32_t generation = 0;
};
// The clear header of a "c1." value, or nullopt when `value` is not in that format (or
// is truncated before the end of the header). Nothing is decrypted.
std::optional<SealedHeader> parse_sealed_header(std::string_view value);

// "teduh-wrap-v1" | compartment | generation (u32 BE) | recipient (16 bytes) | sealed,
// each variable part preceded by its length as a u32 BE: the bytes the administrator's
// Ed25519 key signs for one wrap (PROTOCOL.md section 5D).
crypto::Bytes wrap_signed_bytes(std::string_view compartment, std::uint32_t generation,
                                const Id128& recipient, crypto::ByteView sealed);

}  // namespace teduh::sync
