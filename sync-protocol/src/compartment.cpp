#include "teduh/sync/compartment.hpp"

#include <algorithm>

namespace teduh::sync {
namespace {

constexpr std::string_view kPrefix = "c1.";
constexpr std::uint8_t kFieldFormatVersion = 1;
constexpr std::string_view kWrapContext = "teduh-wrap-v1";

void put_u32(crypto::Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put_part(crypto::Bytes& out, crypto::ByteView part) {
  put_u32(out, static_cast<std::uint32_t>(part.size()));
  out.insert(out.end(), part.begin(), part.end());
}

crypto::ByteView view_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

bool valid_compartment(std::string_view compartment) {
  return !compartment.empty() && compartment.size() <= kMaxCompartmentBytes &&
         std::all_of(compartment.begin(), compartment.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::optional<SealedHeader> parse_sealed_header(std::string_view value) {
  if (!value.starts_with(kPrefix)) return std::nullopt;
  // The header is at most 1 + 1 + 255 + 4 bytes: decode only the text that covers it.
  std::string_view text = value.substr(kPrefix.size());
  auto blob = crypto::from_base64url(text.substr(0, std::min<std::size_t>(text.size(), 352)));
  if (!blob) {
    // A cut in the middle of a base64 quantum: decode the whole value instead.
    blob = crypto::from_base64url(text);
    if (!blob) return std::nullopt;
  }
  if (blob->size() < 2 || (*blob)[0] != kFieldFormatVersion) return std::nullopt;
  const std::size_t n = (*blob)[1];
  if (blob->size() < 2 + n + 4) return std::nullopt;
  SealedHeader h;
  h.compartment.assign(blob->begin() + 2, blob->begin() + 2 + static_cast<std::ptrdiff_t>(n));
  for (std::size_t i = 0; i < 4; ++i) h.generation = (h.generation << 8) | (*blob)[2 + n + i];
  return h;
}

crypto::Bytes wrap_signed_bytes(std::string_view compartment, std::uint32_t generation, const Id128& recipient,
                                crypto::ByteView sealed) {
  crypto::Bytes out;
  out.reserve(64 + compartment.size() + sealed.size());
  put_part(out, view_of(kWrapContext));
  put_part(out, view_of(compartment));
  put_u32(out, generation);
  put_part(out, recipient.bytes);
  put_part(out, sealed);
  return out;
}

}  // namespace teduh::sync
