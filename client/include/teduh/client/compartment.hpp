#pragma once
// The shelter compartment on the device (DESIGN.md section 5, crypto/FORMATS.md
// "Compartment field"). Secret fields are encrypted here, before they enter a commit, with
// the compartment's current key generation; the server and uncleared devices only ever
// hold the ciphertext. Keys live in the encrypted store's meta table and exist only on
// devices with shelter clearance.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "teduh/client/store.hpp"
#include "teduh/sync/wire.hpp"

namespace teduh::client {

inline constexpr std::string_view kShelterCompartment = "rumah_aman";

// What a device with shelter clearance but no key yet is told (PROTOCOL.md 5D).
inline constexpr std::string_view kNoShelterKeyYet =
    "This device has no shelter key yet: sync once after the administrator has cleared it "
    "(teduhd device clear).";

// Encrypts `plaintext` for entity_type.field of `entity` with the compartment's current
// generation. Refused without clearance, and refused (kNoShelterKeyYet) while this
// device holds no key: keys are made by the administrator only and arrive by sync.
[[nodiscard]] Result<std::string> seal_secret_field(Store& store, std::string_view compartment,
                                      std::string_view entity_type, std::string_view field,
                                      const sync::EntityId& entity, std::string_view plaintext);
// The plaintext, or nullopt when this device holds no key for the value's generation
// (uncleared device, or a generation not yet shared with it). Damage is an error.
[[nodiscard]] Result<std::optional<std::string>> open_secret_field(const Store& store,
                                                     std::string_view entity_type,
                                                     std::string_view field,
                                                     const sync::EntityId& entity,
                                                     std::string_view sealed);

// Stores one generation key received from the administrator (sync_client.cpp) and
// makes the highest generation held the current one. key must be 32 bytes.
[[nodiscard]] Result<void> install_compartment_key(Store& store, std::string_view compartment,
                                     std::uint32_t generation, const crypto::SecretBytes& key);
// Checks every wrap against the administrator key pinned at enrollment (with this
// device's id as recipient) and opens it with this device's key, then stores the keys,
// all in one transaction: one wrap that fails refuses the batch and nothing is stored.
// Returns the number of generations that are new to this device. Refused when the
// enrollment code named no administrator key.
[[nodiscard]] Result<std::uint64_t> accept_key_wraps(Store& store, std::span<const sync::wire::KeyWrap> wraps);
// The current generation this device holds, or nullopt when it holds none.
[[nodiscard]] Result<std::optional<std::uint32_t>> current_generation(const Store& store,
                                                        std::string_view compartment);

}  // namespace teduh::client
