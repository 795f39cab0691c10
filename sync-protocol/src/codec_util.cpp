#include "codec_util.hpp"

namespace teduh::sync::detail {

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameBytes) return false;
  if (s[0] >= '0' && s[0] <= '9') return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace teduh::sync::detail
