#pragma once
// The office app's front end (client/app/), embedded in the binary at build time by
// client/cmake/embed_assets.cmake.
#include <string_view>

namespace teduh::client::app {

struct Asset {
  std::string_view path;          // e.g. "/app.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view data;
};

// The asset served at `path`, or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace teduh::client::app
