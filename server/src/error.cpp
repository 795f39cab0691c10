#include "teduh/server/error.hpp"

namespace teduh::server {

int exit_code_for(Errc code) {
  switch (code) {
    case Errc::invalid_input:
    case Errc::not_found:
    case Errc::already_exists:
    case Errc::conflict:
      return 1;
    case Errc::refused:
    case Errc::damaged:
    case Errc::storage:
      return 2;
    case Errc::network:
      return 3;
  }
  return 1;
}

}  // namespace teduh::server
