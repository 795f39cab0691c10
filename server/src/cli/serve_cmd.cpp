// teduhd serve: serve sync connections (serve.hpp) on one store, one server at a time.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "context.hpp"
#include "teduh/server/serve.hpp"
#include "teduh/server/sqlite_storage.hpp"

namespace teduh::server::cli {
namespace {

std::optional<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  unsigned port = 0;
  for (char ch : port_text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    port = port * 10 + static_cast<unsigned>(ch - '0');
  }
  if (port > 65535) return std::nullopt;
  return std::make_pair(host, static_cast<std::uint16_t>(port));
}

// DIR/serve.lock, held (flock) for as long as `teduhd serve` runs: a second server on
// the same store would hand out the same server seqs twice. Admin commands do not take
// it; they share the store through SQLite's locking.
class ServeLock {
 public:
  ServeLock() = default;
  ServeLock(const ServeLock&) = delete;
  ServeLock& operator=(const ServeLock&) = delete;
  ~ServeLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays (removing it would race)
  }

  // Fails with refused when another process holds the lock.
  [[nodiscard]] Result<void> acquire(const std::string& dir) {
    std::error_code ec;
    // No store in DIR: no lock file left behind; opening the store says what is wrong.
    if (!std::filesystem::exists(std::filesystem::path(dir) / std::string(kServerDbName), ec)) return {};
    const std::string path = (std::filesystem::path(dir) / "serve.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return {};  // no such folder: opening the store says so
      return fail(Errc::refused, "cannot open the lock file " + path);
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return fail(Errc::refused, "another teduhd serve is already serving " + dir +
                                     " (it holds " + path + "); stop it before starting a second one");
    }
    return {};
  }

 private:
  int fd_ = -1;
};

// A positive number of milliseconds from the environment variable `name`, if set.
[[nodiscard]] Result<void> duration_from_env(const char* name, std::chrono::milliseconds& out) {
  const char* t = std::getenv(name);
  if (t == nullptr || *t == '\0') return {};
  char* end = nullptr;
  const long long ms = std::strtoll(t, &end, 10);
  if (end == t || *end != '\0' || ms <= 0) return fail(Errc::invalid_input, std::string(name) + " must be a positive number");
  out = std::chrono::milliseconds(ms);
  return {};
}

int cmd_serve(const CliContext& c, const std::string& listen) {
  auto endpoint = parse_listen(listen);
  if (!endpoint) return usage("--listen must be HOST:PORT, for example 0.0.0.0:7443");
  // A data folder that holds the administrator key breaks the shelter promise (whoever
  // copies it and knows this passphrase opens every shelter key): it is not served.
  if (auto legacy = refuse_legacy_admin_key(c.data); !legacy) return report(legacy.error());
  ServeOptions options;
  options.host = endpoint->first;
  options.port = endpoint->second;
  for (const auto& [name, value] : {std::pair<const char*, std::chrono::milliseconds*>{"TEDUH_IDLE_TIMEOUT_MS", &options.read_timeout},
                                    {"TEDUH_FRAME_TIMEOUT_MS", &options.frame_timeout},
                                    {"TEDUH_HANDSHAKE_TIMEOUT_MS", &options.handshake_timeout}}) {
    if (auto r = duration_from_env(name, *value); !r) return usage(r.error().message);
  }
  ServeLock lock;
  if (auto r = lock.acquire(c.data); !r) return report(r.error());
  auto store = open_store(c.data, c.key_file);
  if (!store) return report(store.error());
  // A damaged page would otherwise surface only as failed pulls while pushes are still
  // acknowledged: refuse to serve from such a store at all.
  if (auto v = store->verify_store(); !v) {
    std::cerr << "teduhd: the server store in " << c.data << " is damaged (" << v.error().message
              << "); teduhd serve does not start on a damaged store: restore the folder from a backup\n";
    return exit_code_for(Errc::damaged);
  }
  if (auto r = serve(*store, options); !r) return report(r.error());
  return kExitOk;
}

}  // namespace

void add_serve_command(CliContext& ctx, CLI::App& app) {
  auto listen = std::make_shared<std::string>();
  CLI::App* serve_cmd = app.add_subcommand("serve", "Serve sync connections until SIGINT or SIGTERM");
  ctx.add_common(serve_cmd);
  serve_cmd->add_option("--listen", *listen, "HOST:PORT to listen on (port 0: any free port)")->required();
  serve_cmd->callback([&ctx, listen] { ctx.action = [&ctx, listen] { return cmd_serve(ctx, *listen); }; });
}

}  // namespace teduh::server::cli
