#pragma once
// The shelter compartment on the device (DESIGN.md section 5, crypto/FORMATS.md
// "Compartment field"). Secret fields are encrypted here, before they enter a commit, with
// the compartment's current key generation; the server and uncleared devices only ever
// hold the ciphertext. Keys live in the encrypted store's meta table and exist only on
// devices with shelter clearance.
#include <optional>
#include <string>
#include <string_view>

#include "teduh/client/store.hpp"

namespace teduh::client {

inline constexpr std::string_view kShelterCompartment = "rumah_aman";

// Encrypts `plaintext` for entity_type.field of `entity`. Refused without clearance.
// Creates generation 1 of the compartment key on the first write of a cleared device.
Result<std::string> seal_secret_field(Store& store, std::string_view compartment,
                                      std::string_view entity_type, std::string_view field,
                                      const sync::EntityId& entity, std::string_view plaintext);
// The plaintext, or nullopt when this device holds no key for the value's generation
// (uncleared device, or a generation not yet shared with it). Damage is an error.
Result<std::optional<std::string>> open_secret_field(const Store& store,
                                                     std::string_view entity_type,
                                                     std::string_view field,
                                                     const sync::EntityId& entity,
                                                     std::string_view sealed);

}  // namespace teduh::client
