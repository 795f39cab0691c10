#pragma once
// The office app's HTTP server, behind a plain C++ interface: a request in, a response out.
// Only http_server.cpp includes Boost.Beast, so the routes (app.cpp) build without it.
//
// One thread serves every connection, one request at a time per connection, so the
// handler never runs concurrently with itself and needs no lock. A slow handler (the
// Argon2id of POST /api/buka) delays the other requests until it returns: a decision of
// slice 1 (client/APP.md), acceptable for one worker on one laptop.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace teduh::client::app {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent, e.g. "/masuk?k=..."
  // Header names in lower case, in the order received; a name may repeat.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that (lower-case) name, or nullptr.
  [[nodiscard]] const std::string* header(std::string_view name) const;
  // target without its query.
  [[nodiscard]] std::string path() const;
  // The value of query parameter `name` (not percent-decoded: the app's parameters are
  // hex and plain codes), or "" when absent.
  [[nodiscard]] std::string query(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Length
  std::string body;
};

struct HttpServerOptions {
  std::uint16_t port = 0;                      // 0: any free port
  std::size_t max_body_bytes = std::size_t{1024} * 1024;  // larger requests are refused (413)
  std::chrono::seconds read_timeout{30};       // a connection idle this long is closed
  std::chrono::milliseconds tick_every{1000};  // how often `on_tick` runs
};

struct HttpServerCallbacks {
  std::function<HttpResponse(const HttpRequest&)> handle;
  // Once listening, with the port bound (127.0.0.1 only). Returning false stops the server.
  std::function<bool(std::uint16_t port)> on_listening;
  // Every tick_every, on the server's thread (the idle lock).
  std::function<void()> on_tick;
};

// Serves on 127.0.0.1 until SIGINT or SIGTERM. Returns 0 after a clean stop, or a non-zero
// code with a sentence on stderr when the port cannot be bound. Handlers' exceptions become
// a 500 with an Indonesian page; they never stop the server.
int run_http_server(const HttpServerOptions& options, const HttpServerCallbacks& callbacks);

}  // namespace teduh::client::app
