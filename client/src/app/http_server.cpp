// The one translation unit that includes Boost.Beast (http_server.hpp): an HTTP/1.1 server
// on 127.0.0.1 with one thread, callbacks rather than coroutines (Boost 1.74), and a limit
// on every read: header size, body size, and a timeout per request.
#include "http_server.hpp"

#include <sodium.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <csignal>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <utility>  // before Asio: g++ 12 with Boost 1.74 needs std::exchange declared first

namespace teduh::client::app {

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::string HttpRequest::path() const { return target.substr(0, target.find('?')); }

std::string HttpRequest::query(std::string_view name) const {
  const auto q = target.find('?');
  if (q == std::string::npos) return {};
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;

// What every session shares: the options and the callbacks, owned by run_http_server.
struct ServerContext {
  const HttpServerOptions& options;
  const HttpServerCallbacks& callbacks;
};

HttpResponse plain_error(int status, const char* sentence) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.body = sentence;
  return r;
}

// One connection: read a request, answer it, repeat while the client keeps it alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const ServerContext& ctx) : stream_(std::move(socket)), ctx_(ctx) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(ctx_.options.max_body_bytes);
    stream_.expires_after(ctx_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      answer(plain_error(413, "Permintaan terlalu besar."), false);
      return;
    }
    if (ec) {  // end of stream, timeout, a malformed request: close quietly
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    auto message = parser_->release();
    HttpRequest req;
    req.method = std::string(message.method_string());
    req.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      req.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    req.body = std::move(message.body());
    HttpResponse res;
    try {
      res = ctx_.callbacks.handle(req);
    } catch (const std::exception&) {
      res = plain_error(500, "Terjadi kesalahan di dalam aplikasi; coba lagi.");
    }
    // A body may hold a passphrase or a victim's details: wiped once handled (best effort:
    // the parser's buffer and the TCP stack had their copies).
    if (!req.body.empty()) sodium_memzero(req.body.data(), req.body.size());
    answer(res, message.keep_alive());
  }

  void answer(const HttpResponse& res, bool keep_alive) {
    response_ = {};
    response_.version(11);
    response_.result(static_cast<http::status>(res.status));
    for (const auto& [name, value] : res.headers) response_.insert(name, value);
    response_.body() = res.body;
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(ctx_.options.read_timeout);
    http::async_write(
        stream_, response_,
        beast::bind_front_handler(&Session::on_write, shared_from_this(), keep_alive));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return;
    if (!keep_alive) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    buffer_.consume(buffer_.size());
    read();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  const ServerContext& ctx_;
};

class Listener {
 public:
  Listener(asio::io_context& ioc, tcp::acceptor& acceptor, const ServerContext& ctx)
      : ioc_(ioc), acceptor_(acceptor), ctx_(ctx) {}

  void accept() {
    acceptor_.async_accept(ioc_, [this](beast::error_code ec, tcp::socket socket) {
      if (!ec) std::make_shared<Session>(std::move(socket), ctx_)->start();
      if (acceptor_.is_open()) accept();
    });
  }

 private:
  asio::io_context& ioc_;
  tcp::acceptor& acceptor_;
  const ServerContext& ctx_;
};

void schedule_tick(asio::steady_timer& timer, const HttpServerOptions& options,
                   const HttpServerCallbacks& callbacks) {
  timer.expires_after(options.tick_every);
  timer.async_wait([&timer, &options, &callbacks](beast::error_code ec) {
    if (ec) return;
    if (callbacks.on_tick) callbacks.on_tick();
    schedule_tick(timer, options, callbacks);
  });
}

}  // namespace

int run_http_server(const HttpServerOptions& options, const HttpServerCallbacks& callbacks) {
  asio::io_context ioc{1};
  tcp::acceptor acceptor(ioc);
  asio::steady_timer tick(ioc);
  // Installed before the address is printed: a SIGTERM right after it (a test, a script)
  // must stop the server cleanly, not kill the process with the store open.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    acceptor.close();
    tick.cancel();
    ioc.stop();
  });
  beast::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "teduh app: port " << options.port << " di 127.0.0.1 tidak dapat dipakai ("
              << ec.message() << "); pilih port lain dengan --port.\n";
    return 1;
  }
  if (callbacks.on_listening && !callbacks.on_listening(acceptor.local_endpoint().port())) return 1;

  const ServerContext ctx{options, callbacks};
  Listener listener(ioc, acceptor, ctx);
  listener.accept();
  schedule_tick(tick, options, callbacks);
  ioc.run();
  return 0;
}

}  // namespace teduh::client::app
