#pragma once
// Test support: a TCP proxy on 127.0.0.1 (port 0) in front of a real teduhd that misbehaves
// the way bad links do, from a seeded generator: it delays and splits chunks, cuts
// connections after a random number of bytes (often mid-frame), and stalls (stops
// forwarding for a while, so the client's read timeout fires). Each connection draws its
// fate when it is accepted, so a seed replays the same schedule of faults, byte for byte,
// for the same sequence of sessions. Everything is bounded: every wait polls a stop flag,
// connections live at most kMaxConnectionMs, and the destructor stops and joins it all.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

namespace teduh::testing {

struct FaultPlan {
  double cut_probability = 0.15;    // per connection: closed after a random byte count
  double stall_probability = 0.05;  // per connection: forwarding stops for a while
  double delay_probability = 0.10;  // per forwarded piece: sleeps before it is sent
  double split_probability = 0.30;  // per connection: forwards in small pieces
  int max_cut_bytes = 6000;         // cuts land in the first this many bytes (both ways)
  int max_delay_ms = 25;
  int stall_min_ms = 300;           // stalls shorter and longer than the client timeout
  int stall_max_ms = 2600;
  bool reset_on_cut = true;         // sometimes RST instead of FIN
};

struct FaultStats {
  std::atomic<int> connections{0};
  std::atomic<int> cuts{0};
  std::atomic<int> stalls{0};
  std::atomic<int> delays{0};
};

class FaultProxy {
 public:
  static constexpr int kMaxConnectionMs = 20000;
  static constexpr int kPollMs = 20;

  // upstream: "127.0.0.1:PORT" of the real server.
  FaultProxy(const std::string& upstream, std::uint64_t seed, FaultPlan plan = {})
      : plan_(plan), rng_(seed) {
    auto colon = upstream.rfind(':');
    upstream_port_ = static_cast<std::uint16_t>(std::stoi(upstream.substr(colon + 1)));
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
      return;
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~FaultProxy() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& c : connections_) {
      if (c->thread.joinable()) c->thread.join();
    }
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  bool ok() const { return listen_fd_ >= 0; }
  const std::string& address() const { return address_; }
  const FaultStats& stats() const { return stats_; }
  // With faults off the proxy forwards faithfully (the schedule still advances).
  void set_faults(bool on) { faults_ = on; }
  // Every byte forwarded so far, both ways, in the order read (a capture of the traffic,
  // for scans: with FaultPlan all zero it is a plain recording proxy).
  std::string recorded() const {
    std::lock_guard lock(record_mutex_);
    return record_;
  }

 private:
  enum class Fate { pass, cut, stall };

  struct Plan {
    Fate fate = Fate::pass;
    std::int64_t trigger_bytes = 0;  // bytes forwarded (both ways) before the cut or stall
    int stall_ms = 0;
    bool reset = false;
    bool split = false;
    std::uint64_t piece_seed = 0;  // per-connection generator for delays and piece sizes
  };

  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  Plan draw_plan() {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Plan p;
    double roll = u(rng_);
    p.trigger_bytes = std::uniform_int_distribution<std::int64_t>(0, plan_.max_cut_bytes)(rng_);
    p.stall_ms = std::uniform_int_distribution<int>(plan_.stall_min_ms, plan_.stall_max_ms)(rng_);
    p.reset = plan_.reset_on_cut && u(rng_) < 0.3;
    p.split = u(rng_) < plan_.split_probability;
    p.piece_seed = rng_();
    if (!faults_) return p;
    if (roll < plan_.cut_probability) {
      p.fate = Fate::cut;
    } else if (roll < plan_.cut_probability + plan_.stall_probability) {
      p.fate = Fate::stall;
    }
    return p;
  }

  void accept_loop() {
    while (!stop_) {
      reap();
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, kPollMs) != 1) continue;
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      Plan plan = draw_plan();
      ++stats_.connections;
      auto conn = std::make_unique<Connection>();
      Connection* raw = conn.get();
      std::lock_guard lock(mutex_);
      conn->thread = std::thread([this, client, plan, raw] {
        serve(client, plan);
        raw->done = true;
      });
      connections_.push_back(std::move(conn));
    }
  }

  void reap() {
    std::lock_guard lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done) {
        (*it)->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }

  int connect_upstream() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(upstream_port_);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  static void hard_close(int fd, bool reset) {
    if (reset) {
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(fd);
  }

  // Sends all bytes, waiting (bounded, stop-aware) while the receiver is slow.
  bool send_all(int fd, const std::uint8_t* data, std::size_t n, std::chrono::steady_clock::time_point deadline) {
    std::size_t off = 0;
    while (off < n) {
      ssize_t w = ::send(fd, data + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        off += static_cast<std::size_t>(w);
        continue;
      }
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (stop_ || std::chrono::steady_clock::now() > deadline) return false;
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, kPollMs);
        continue;
      }
      return false;
    }
    return true;
  }

  bool sleep_ms(int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (stop_) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(ms, kPollMs)));
    }
    return true;
  }

  void serve(int client, Plan plan) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kMaxConnectionMs);
    int server = connect_upstream();
    if (server < 0) {
      ::close(client);
      return;
    }
    std::mt19937_64 pieces(plan.piece_seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::int64_t forwarded = 0;
    bool stalled_once = false;
    // fds[0] = client (its bytes go to the server), fds[1] = server.
    std::array<int, 2> fds{client, server};
    std::array<bool, 2> open{true, true};  // still reading from this side
    std::array<std::uint8_t, 16384> buf{};
    bool cut = false;
    while (!stop_ && (open[0] || open[1]) && std::chrono::steady_clock::now() < deadline) {
      if (plan.fate == Fate::stall && !stalled_once && forwarded >= plan.trigger_bytes) {
        stalled_once = true;
        ++stats_.stalls;
        if (!sleep_ms(plan.stall_ms)) break;
      }
      std::array<pollfd, 2> p{pollfd{fds[0], static_cast<short>(open[0] ? POLLIN : 0), 0},
                              pollfd{fds[1], static_cast<short>(open[1] ? POLLIN : 0), 0}};
      if (::poll(p.data(), 2, kPollMs) <= 0) continue;
      for (int side = 0; side < 2 && !cut; ++side) {
        if (!open[side] || (p[side].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        std::size_t want = buf.size();
        if (plan.fate == Fate::cut) {
          want = static_cast<std::size_t>(std::clamp<std::int64_t>(plan.trigger_bytes - forwarded, 0, static_cast<std::int64_t>(buf.size())));
          if (want == 0) {
            cut = true;
            break;
          }
        }
        if (plan.fate == Fate::stall && !stalled_once) {
          want = static_cast<std::size_t>(std::clamp<std::int64_t>(plan.trigger_bytes - forwarded, 1, static_cast<std::int64_t>(buf.size())));
        }
        ssize_t n = ::recv(fds[side], buf.data(), want, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        int other = fds[1 - side];
        if (n > 0) {
          std::lock_guard lock(record_mutex_);
          record_.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
        }
        if (n <= 0) {
          open[side] = false;
          ::shutdown(other, SHUT_WR);
          continue;
        }
        std::size_t off = 0;
        bool sent = true;
        while (off < static_cast<std::size_t>(n) && sent) {
          std::size_t piece = static_cast<std::size_t>(n) - off;
          if (plan.split) piece = std::min<std::size_t>(piece, 1 + pieces() % 700);
          if (faults_ && u(pieces) < plan_.delay_probability) {
            ++stats_.delays;
            if (!sleep_ms(1 + static_cast<int>(pieces() % static_cast<std::uint64_t>(plan_.max_delay_ms)))) sent = false;
          }
          if (sent) sent = send_all(other, buf.data() + off, piece, deadline);
          off += piece;
        }
        forwarded += n;
        if (!sent) {
          cut = true;
          break;
        }
        if (plan.fate == Fate::cut && forwarded >= plan.trigger_bytes) cut = true;
      }
      if (cut) break;
    }
    if (cut && plan.fate == Fate::cut) ++stats_.cuts;
    hard_close(client, cut && plan.reset);
    hard_close(server, cut && plan.reset);
  }

  FaultPlan plan_;
  std::mt19937_64 rng_;  // used by the accept thread only
  std::uint16_t upstream_port_ = 0;
  int listen_fd_ = -1;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> faults_{true};
  FaultStats stats_;
  std::thread acceptor_;
  std::mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
  mutable std::mutex record_mutex_;
  std::string record_;
};

}  // namespace teduh::testing
