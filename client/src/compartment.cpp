#include "teduh/client/compartment.hpp"

#include <sodium.h>

#include "teduh/crypto/aead.hpp"
#include "teduh/sync/compartment.hpp"

namespace teduh::client {
namespace {

// "c1." + base64url(version 1 | compartment length u8 | compartment | generation u32 BE |
// nonce | ciphertext | tag). Associated data: "teduh-field-v1" | compartment | generation |
// entity type | field | entity id, so a value cannot be moved to another field or entity.
constexpr std::string_view kPrefix = "c1.";
constexpr std::uint8_t kFormatVersion = 1;

std::string key_name(std::string_view compartment, std::uint32_t generation) {
  return "compartment:" + std::string(compartment) + ":" + std::to_string(generation);
}

crypto::Bytes associated_data(std::string_view compartment, std::uint32_t generation,
                              std::string_view entity_type, std::string_view field,
                              const sync::EntityId& entity) {
  crypto::Bytes ad;
  ad.reserve(128);
  // Each part is length-prefixed (one byte: every part here is under 256 bytes).
  auto put = [&](std::string_view s) {
    ad.push_back(static_cast<std::uint8_t>(s.size()));
    for (char c : s) ad.push_back(static_cast<std::uint8_t>(c));
  };
  put("teduh-field-v1");
  put(compartment);
  for (int shift = 24; shift >= 0; shift -= 8)
    ad.push_back(static_cast<std::uint8_t>(generation >> shift));
  put(entity_type);
  put(field);
  ad.insert(ad.end(), entity.bytes.begin(), entity.bytes.end());
  return ad;
}

// A store written before keys came from the administrator may hold a key this device
// made itself for generation 1; when the administrator's key of that generation arrives,
// the old one is kept under this suffix, so values sealed with it stay readable here.
constexpr std::string_view kLocalSuffix = ":local";

[[nodiscard]] Result<std::optional<crypto::SecretBytes>> load_key(const Store& store,
                                                    std::string_view compartment,
                                                    std::uint32_t generation,
                                                    std::string_view suffix = {}) {
  auto hex = TEDUH_TRY(store.meta(key_name(compartment, generation) + std::string(suffix)));
  if (!hex) return std::optional<crypto::SecretBytes>{};
  auto raw = crypto::from_hex(*hex);
  if (!raw || raw->size() != crypto::kAeadKeySize) {
    return fail(Errc::damaged, "A compartment key in the store is unreadable.");
  }
  auto key = crypto::SecretBytes::copy_of(*raw);
  sodium_memzero(raw->data(), raw->size());
  return std::optional<crypto::SecretBytes>{std::move(key)};
}

std::string current_name(std::string_view compartment) {
  return "compartment:" + std::string(compartment) + ":current";
}

}  // namespace

[[nodiscard]] Result<std::optional<std::uint32_t>> current_generation(const Store& store,
                                                        std::string_view compartment) {
  auto current = TEDUH_TRY(store.meta(current_name(compartment)));
  if (!current) return std::optional<std::uint32_t>{};
  try {
    return std::optional<std::uint32_t>{static_cast<std::uint32_t>(std::stoul(*current))};
  } catch (const std::exception&) {
    return fail(Errc::damaged, "The store's current compartment generation is unreadable.");
  }
}

[[nodiscard]] Result<void> install_compartment_key(Store& store, std::string_view compartment,
                                     std::uint32_t generation, const crypto::SecretBytes& key) {
  if (key.size() != crypto::kAeadKeySize || generation == 0) {
    return fail(Errc::invalid, "A compartment key has the wrong size or generation.");
  }
  auto existing = TEDUH_TRY(load_key(store, compartment, generation));
  if (existing && !crypto::equal_ct(existing->view(), key.view())) {
    auto local = TEDUH_TRY(store.meta(key_name(compartment, generation) + std::string(kLocalSuffix)));
    if (local) {
      return fail(Errc::refused,
                  "The administrator sent a second, different key for one shelter key generation; "
                  "nothing was changed. Tell the administrator.");
    }
    if (auto r = store.set_meta(key_name(compartment, generation) + std::string(kLocalSuffix),
                                crypto::to_hex(existing->view()));
        !r) {
      return r;
    }
  }
  if (auto r = store.set_meta(key_name(compartment, generation), crypto::to_hex(key.view())); !r)
    return r;
  auto current = TEDUH_TRY(current_generation(store, compartment));
  if (!current || *current < generation) {
    return store.set_meta(current_name(compartment), std::to_string(generation));
  }
  return {};
}

[[nodiscard]] Result<std::uint64_t> accept_key_wraps(Store& store, std::span<const sync::wire::KeyWrap> wraps) {
  const Identity& id = store.identity();
  if (!id.grant.admin_key) {
    return fail(Errc::refused,
                "This device was enrolled with a code that names no administrator key, so it "
                "cannot check the "
                "shelter keys the server relays; enroll it again with a new code.");
  }
  return store.in_transaction([&]() -> Result<std::uint64_t> {
    const crypto::DhKeyPair own = id.signing_key.to_dh();
    std::uint64_t fresh = 0;
    for (const sync::wire::KeyWrap& w : wraps) {
      const crypto::Bytes signed_bytes =
          sync::wrap_signed_bytes(w.compartment, w.generation, id.device, w.sealed);
      if (!crypto::verify_signature(*id.grant.admin_key, signed_bytes, w.signature)) {
        return fail(
            Errc::refused,
            "The server relayed a shelter key that the administrator did not sign for this device; "
            "no shelter key of this sync was kept. Tell the administrator.");
      }
      auto key = crypto::open_sealed(own, w.sealed);
      if (!key || key->size() != sync::kCompartmentKeySize) {
        return fail(
            Errc::refused,
            "A shelter key signed by the administrator does not open with this device's key; "
            "no shelter key of this sync was kept. Tell the administrator.");
      }
      auto had = TEDUH_TRY(current_generation(store, w.compartment));
      TEDUH_TRY(install_compartment_key(store, w.compartment, w.generation, *key));
      if (!had || *had < w.generation) ++fresh;
    }
    return fresh;
  });
}

[[nodiscard]] Result<std::string> seal_secret_field(Store& store, std::string_view compartment,
                                      std::string_view entity_type, std::string_view field,
                                      const sync::EntityId& entity, std::string_view plaintext) {
  if (!store.identity().grant.shelter_clearance) {
    return fail(Errc::refused,
                "This device has no shelter clearance, so it cannot record shelter details.");
  }
  auto current = TEDUH_TRY(current_generation(store, compartment));
  if (!current) return fail(Errc::refused, std::string(kNoShelterKeyYet));
  const std::uint32_t generation = *current;
  auto key = TEDUH_TRY(load_key(store, compartment, generation));
  if (!key) return fail(Errc::damaged, "The current compartment key is missing from the store.");
  auto ad = associated_data(compartment, generation, entity_type, field, entity);
  auto sealed = crypto::aead_seal(
      *key, {reinterpret_cast<const std::uint8_t*>(plaintext.data()), plaintext.size()}, ad);
  crypto::Bytes blob;
  blob.push_back(kFormatVersion);
  blob.push_back(static_cast<std::uint8_t>(compartment.size()));
  blob.insert(blob.end(), compartment.begin(), compartment.end());
  for (int shift = 24; shift >= 0; shift -= 8)
    blob.push_back(static_cast<std::uint8_t>(generation >> shift));
  blob.insert(blob.end(), sealed.begin(), sealed.end());
  return std::string(kPrefix) + crypto::to_base64url(blob);
}

[[nodiscard]] Result<std::optional<std::string>> open_secret_field(const Store& store,
                                                     std::string_view entity_type,
                                                     std::string_view field,
                                                     const sync::EntityId& entity,
                                                     std::string_view sealed) {
  if (sealed.empty()) return std::optional<std::string>{std::string()};
  if (sealed.substr(0, kPrefix.size()) != kPrefix) {
    return fail(Errc::damaged, "A shelter field is not in the compartment format.");
  }
  auto blob = crypto::from_base64url(sealed.substr(kPrefix.size()));
  if (!blob || blob->size() < 2 || (*blob)[0] != kFormatVersion) {
    return fail(Errc::damaged, "A shelter field is not in the compartment format.");
  }
  std::size_t name_len = (*blob)[1];
  if (blob->size() < 2 + name_len + 4) return fail(Errc::damaged, "A shelter field is truncated.");
  std::string compartment(blob->begin() + 2,
                          blob->begin() + 2 + static_cast<std::ptrdiff_t>(name_len));
  std::uint32_t generation = 0;
  for (std::size_t i = 0; i < 4; ++i) generation = (generation << 8) | (*blob)[2 + name_len + i];
  auto key = TEDUH_TRY(load_key(store, compartment, generation));
  if (!key) return std::optional<std::string>{};
  auto ad = associated_data(compartment, generation, entity_type, field, entity);
  crypto::ByteView body(blob->data() + 2 + name_len + 4, blob->size() - 2 - name_len - 4);
  auto plain = crypto::aead_open(*key, body, ad);
  if (!plain) {
    auto local = TEDUH_TRY(load_key(store, compartment, generation, kLocalSuffix));
    if (local) plain = crypto::aead_open(*local, body, ad);
  }
  if (!plain) return fail(Errc::damaged, "A shelter field failed authentication.");
  return std::optional<std::string>{std::string(plain->begin(), plain->end())};
}

}  // namespace teduh::client
