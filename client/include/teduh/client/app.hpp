#pragma once
// The office app (issue 16, client/APP.md): `teduh app` serves a front end in Bahasa
// Indonesia to the browser of this laptop, over the same workflow library the CLI calls.
#include <cstdint>
#include <string>

namespace teduh::client {

struct AppOptions {
  std::string store;         // the store file; unlocked in the page, never on the command line
  std::uint16_t port = 0;    // 0: any free port
  bool open_browser = true;  // xdg-open the address once listening
  double idle_minutes = 15;  // the store locks after this long without a request
  // While the store is unlocked, a sync starts this long after the last one started (from
  // the page or on its own), so the office syncs whenever the server can be reached; 0:
  // only when someone presses "Sinkronkan sekarang".
  double sync_minutes = 5;
};

// Serves until SIGINT or SIGTERM, then locks the store. Prints the address with its secret
// as the first line of stdout (tests read it). Returns the process exit code.
int run_app(const AppOptions& options);

}  // namespace teduh::client
