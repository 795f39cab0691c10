#include "teduh/sync/projection.hpp"

#include <string_view>

namespace teduh::sync {

crypto::Bytes projection_signed_bytes(const EntityId& scope, std::uint64_t server_seq, crypto::ByteView body) {
  static constexpr std::string_view kDomain = "teduh-projection-v1";
  crypto::Bytes out(kDomain.begin(), kDomain.end());
  out.push_back(0);
  out.insert(out.end(), scope.bytes.begin(), scope.bytes.end());
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(server_seq >> shift));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace teduh::sync
